//! Splitting automerge bytes into their chunks and checking each strictly.
//!
//! automerge's incremental load skips what it cannot parse and keeps going; bytes received
//! from elsewhere are checked here first, so that damaged input is a clear error instead of
//! silently nothing. The same split lets the server look at every change a device sends.

use automerge::{AutoCommit, Change, LoadOptions, OnPartialLoad, VerificationMode};

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

/// What a chunk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkKind {
    /// A whole (compacted) document.
    Document,
    /// One change.
    Change,
    /// One deflate-compressed change.
    CompressedChange,
    /// A bundle of changes.
    Bundle,
}

/// One chunk of automerge bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// Its kind.
    pub kind: ChunkKind,
    /// Its bytes, header included.
    pub bytes: &'a [u8],
}

/// Splits bytes into chunks by their headers; fails on anything that is not whole chunks.
pub fn split(mut bytes: &[u8]) -> Result<Vec<Chunk<'_>>, String> {
    let mut out = Vec::new();
    if bytes.is_empty() {
        return Err("no bytes".into());
    }
    while !bytes.is_empty() {
        let at = out.len();
        if bytes.len() < 9 || bytes[..4] != MAGIC {
            return Err(format!("chunk {at}: not an automerge chunk"));
        }
        let kind = match bytes[8] {
            0 => ChunkKind::Document,
            1 => ChunkKind::Change,
            2 => ChunkKind::CompressedChange,
            3 => ChunkKind::Bundle,
            t => return Err(format!("chunk {at}: unknown chunk type {t}")),
        };
        let (len, used) = uleb128(&bytes[9..]).ok_or(format!("chunk {at}: bad length"))?;
        let total = 9usize
            .checked_add(used)
            .and_then(|n| n.checked_add(usize::try_from(len).ok()?))
            .filter(|&n| n <= bytes.len())
            .ok_or(format!("chunk {at}: truncated"))?;
        out.push(Chunk {
            kind,
            bytes: &bytes[..total],
        });
        bytes = &bytes[total..];
    }
    Ok(out)
}

/// Checks every chunk: changes parse with valid checksums, documents load in full.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    for (i, chunk) in split(bytes)?.into_iter().enumerate() {
        match chunk.kind {
            ChunkKind::Change | ChunkKind::CompressedChange => {
                no_panic(i, || Change::try_from(chunk.bytes).map(drop))?;
            }
            ChunkKind::Document | ChunkKind::Bundle => {
                let options = LoadOptions::new()
                    .on_partial_load(OnPartialLoad::Error)
                    .verification_mode(VerificationMode::Check);
                no_panic(i, || {
                    AutoCommit::load_with_options(chunk.bytes, options).map(drop)
                })?;
            }
        }
    }
    Ok(())
}

/// Runs automerge's parse of chunk `i`, turning its error, or a panic inside automerge on
/// damaged columns (found by fuzzing: automerge 0.12 panics on some crafted documents), into
/// a clear error.
fn no_panic<E: std::fmt::Display>(
    i: usize,
    parse: impl FnOnce() -> Result<(), E>,
) -> Result<(), String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("chunk {i}: {e}")),
        Err(_) => Err(format!("chunk {i}: automerge could not parse it")),
    }
}

fn uleb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{ROOT, transaction::Transactable};

    #[test]
    fn documents_and_changes_split_and_check() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        doc.commit();
        let heads = doc.get_heads();
        let snapshot = doc.save();
        doc.put(ROOT, "b", 2).unwrap();
        doc.commit();
        doc.put(ROOT, "c", 3).unwrap();
        doc.commit();
        let changes = doc.save_after(&heads);
        let chunks = split(&changes).unwrap();
        assert_eq!(chunks.len(), 2);
        assert!(chunks.iter().all(|c| c.kind == ChunkKind::Change));
        let mut both = snapshot.clone();
        both.extend_from_slice(&changes);
        assert_eq!(split(&both).unwrap()[0].kind, ChunkKind::Document);
        check(&both).unwrap();
    }

    #[test]
    fn damage_is_reported() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        doc.commit();
        let mut bytes = doc.save();
        assert!(
            check(b"garbage")
                .unwrap_err()
                .contains("not an automerge chunk")
        );
        assert!(check(&[]).is_err());
        let truncated = &bytes[..bytes.len() - 3];
        assert!(check(truncated).unwrap_err().contains("truncated"));
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        assert!(check(&bytes).is_err());
    }

    /// Found by the `automerge` fuzz target (`fuzz/corpus/automerge/`): one byte changed in a
    /// document's value column, checksum recomputed, made automerge panic while loading.
    #[test]
    fn a_document_automerge_panics_on_is_refused() {
        let bytes = include_bytes!("../case/testdata/panic-slab-boundary.am");
        let e = check(bytes).unwrap_err();
        assert!(e.contains("chunk 0"), "{e}");
    }
}
