//! Received bytes read once, before any lock is taken: what the server's check of a push
//! learns about each pushed part and keeps for the write that follows (decision 0048).
//!
//! Every change chunk is parsed here and keeps its hash, so the writer stores it as it came
//! without parsing or encoding it again. A part that can start a document (one whole
//! document, as phones push a new case, or changes the first of which depends on nothing, a
//! new case pushed as its changes) is also built into a document here and its changes read
//! back, so the writer only wraps it when the case turns out to be new. Anything else
//! (a bundle, a document among changes) is checked chunk by chunk
//! ([`super::chunks::check`]) and applied by the writer as before.

use super::RawChange;
use super::chunks::{self, ChunkKind};
use automerge::{AutoCommit, Change, ChangeHash, LoadOptions, OnPartialLoad, VerificationMode};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A document built from received bytes, with its changes read back.
pub struct Preloaded {
    /// The document, loaded strictly.
    pub(crate) doc: AutoCommit,
    /// Its changes in causal order, each with its actor and its encoded bytes.
    pub(crate) changes: Vec<RawChange>,
}

impl std::fmt::Debug for Preloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preloaded")
            .field("changes", &self.changes.len())
            .finish()
    }
}

impl Preloaded {
    /// Applies the change chunks that later parts of the same push bring (a phone's changes
    /// to a case it raised, pushed with it), so that the writer does not apply them under its
    /// lock; the new changes are read back with their bytes as they came. Chunks whose
    /// dependencies are missing are held back as automerge holds them, for the writer to find.
    pub fn take_later(&mut self, chunks: &[(ChangeHash, &[u8])]) -> Result<(), String> {
        let heads = self.doc.get_heads();
        let bytes: Vec<u8> = chunks.iter().flat_map(|(_, b)| b.iter().copied()).collect();
        let known: HashMap<ChangeHash, &[u8]> = chunks.iter().copied().collect();
        let doc = &mut self.doc;
        let later = guarded(0, || {
            super::ops::load_received(doc, &bytes).map_err(|e| e.to_string())?;
            Ok(doc
                .get_changes(&heads)
                .into_iter()
                .map(|c| RawChange {
                    actor: c.actor_id().clone(),
                    bytes: match known.get(&c.hash()) {
                        Some(b) => b.to_vec(),
                        None => c.raw_bytes().to_vec(),
                    },
                })
                .collect::<Vec<_>>())
        })?;
        self.changes.extend(later);
        Ok(())
    }
}

/// What reading one received part found.
#[derive(Debug, Default)]
pub struct Received<'a> {
    /// Each change chunk of the part, with its change's hash (none when the part holds a
    /// whole document).
    pub changes: Vec<(ChangeHash, &'a [u8])>,
    /// The part built into a document, when it can start one: a whole document, or changes
    /// the first of which depends on nothing (a new case as its phone made it).
    pub preloaded: Option<Box<Preloaded>>,
}

/// Reads received bytes: checks them as [`chunks::check`] does (a clear error naming the
/// chunk, never a panic) and keeps what the writer would otherwise compute again.
pub fn read(bytes: &[u8]) -> Result<Received<'_>, String> {
    let parts = chunks::split(bytes)?;
    if let [one] = parts.as_slice()
        && one.kind == ChunkKind::Document
    {
        let options = LoadOptions::new()
            .on_partial_load(OnPartialLoad::Error)
            .verification_mode(VerificationMode::Check);
        let loaded = guarded(0, || {
            let doc =
                AutoCommit::load_with_options(one.bytes, options).map_err(|e| e.to_string())?;
            read_back(doc, &[])
        })?;
        return Ok(Received {
            changes: Vec::new(),
            preloaded: Some(Box::new(loaded)),
        });
    }
    if parts
        .iter()
        .any(|c| c.kind == ChunkKind::Document || c.kind == ChunkKind::Bundle)
    {
        chunks::check(bytes)?;
        return Ok(Received::default());
    }
    let mut changes = Vec::with_capacity(parts.len());
    let mut parsed = Vec::with_capacity(parts.len());
    for (i, chunk) in parts.iter().enumerate() {
        let change = guarded(i, || {
            Change::try_from(chunk.bytes).map_err(|e| e.to_string())
        })?;
        changes.push((change.hash(), chunk.bytes));
        parsed.push(change);
    }
    let starts = parsed.first().is_some_and(|c| c.deps().is_empty());
    let preloaded = if starts {
        let loaded = guarded(0, || {
            let mut doc = AutoCommit::new();
            doc.apply_changes(parsed).map_err(|e| e.to_string())?;
            if !doc.get_missing_deps(&[]).is_empty() {
                return Ok(None);
            }
            read_back(doc, &changes).map(Some)
        })?;
        loaded.map(Box::new)
    } else {
        None
    };
    Ok(Received { changes, preloaded })
}

/// The document with its changes read back (automerge 0.12 can load crafted changes that it
/// panics on when reading them back, found by fuzzing), each change's bytes taken from
/// `known` when it arrived as a chunk of its own, else encoded (not deflated: decision 0056).
fn read_back(mut doc: AutoCommit, known: &[(ChangeHash, &[u8])]) -> Result<Preloaded, String> {
    let known: HashMap<ChangeHash, &[u8]> = known.iter().copied().collect();
    let changes = doc
        .get_changes(&[])
        .into_iter()
        .map(|c| {
            let bytes = match known.get(&c.hash()) {
                Some(b) => b.to_vec(),
                None => c.raw_bytes().to_vec(),
            };
            RawChange {
                actor: c.actor_id().clone(),
                bytes,
            }
        })
        .collect();
    Ok(Preloaded { doc, changes })
}

/// Runs automerge on received bytes, turning its error, or a panic inside it, into a clear
/// error naming chunk `i`.
fn guarded<T>(i: usize, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("chunk {i}: {e}")),
        Err(_) => Err(format!("chunk {i}: automerge could not parse it")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{ROOT, transaction::Transactable};

    /// A document of two changes: its snapshot, its first change and its second.
    fn doc_with_two_changes() -> (AutoCommit, Vec<u8>, Vec<u8>, Vec<u8>) {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        doc.commit();
        let first = doc.save_after(&[]);
        let heads = doc.get_heads();
        doc.put(ROOT, "b", 2).unwrap();
        doc.commit();
        let second = doc.save_after(&heads);
        let snapshot = doc.save();
        (doc, snapshot, first, second)
    }

    #[test]
    fn a_whole_document_is_loaded_with_its_changes() {
        let (mut doc, snapshot, first, second) = doc_with_two_changes();
        let r = read(&snapshot).unwrap();
        assert!(r.changes.is_empty());
        let p = r.preloaded.expect("preloaded");
        assert_eq!(p.changes.len(), 2);
        assert!(p.changes.iter().all(|c| c.actor == *doc.get_actor()));
        assert_eq!(p.changes[0].bytes, first);
        assert_eq!(p.changes[1].bytes, second);
        let mut loaded = p.doc;
        assert_eq!(loaded.get_heads(), doc.get_heads());
    }

    #[test]
    fn changes_keep_their_hashes_and_bytes() {
        let (mut doc, _, first, second) = doc_with_two_changes();
        let mut both = first.clone();
        both.extend_from_slice(&second);
        let r = read(&both).unwrap();
        let hashes: Vec<_> = r.changes.iter().map(|(h, _)| *h).collect();
        assert_eq!(hashes.last(), doc.get_heads().first());
        assert_eq!(r.changes[0].1, first.as_slice());
        // The first change depends on nothing: the part starts a document.
        let p = r.preloaded.expect("preloaded");
        assert_eq!(p.changes[0].bytes, first);
        assert_eq!(p.changes[1].bytes, second);
        // A change that depends on others only keeps its hash.
        let r = read(&second).unwrap();
        assert_eq!(r.changes.len(), 1);
        assert!(r.preloaded.is_none());
    }

    #[test]
    fn a_document_among_changes_is_checked_only() {
        let (_, snapshot, _, second) = doc_with_two_changes();
        let mut both = snapshot.clone();
        both.extend_from_slice(&second);
        let r = read(&both).unwrap();
        assert!(r.changes.is_empty() && r.preloaded.is_none());
    }

    #[test]
    fn damage_is_a_clear_error() {
        let (_, mut snapshot, mut first, second) = doc_with_two_changes();
        let last = snapshot.len() - 1;
        snapshot[last] ^= 0xff;
        assert!(read(&snapshot).unwrap_err().starts_with("chunk 0:"));
        let mut both = first.clone();
        let mut damaged = second.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 0xff;
        both.extend_from_slice(&damaged);
        assert!(read(&both).unwrap_err().starts_with("chunk 1:"));
        let last = first.len() - 1;
        first[last] ^= 0xff;
        assert!(read(&first).unwrap_err().starts_with("chunk 0:"));
        assert_eq!(
            read(&[1, 2, 3]).unwrap_err(),
            "chunk 0: not an automerge chunk"
        );
    }
}
