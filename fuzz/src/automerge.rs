//! Target `automerge`: automerge bytes a device pushes, as the server decodes and reads them.
//!
//! The bytes go through what `sync-server/src/sync.rs` does with one pushed entry: the bounded
//! scan and the strict read ([`decode_check`], `received::read`; the server refuses there),
//! then either a new document built from them (`SyncedDoc::from_preloaded` for one whole
//! document, as the server does, else `SyncedDoc::from_checked`), or the bytes taken in by a
//! seed case or patrol preloaded as the first part of the same push (`Preloaded::take_later`),
//! or the bytes applied to a fork of a stored case and patrol (`apply_checked`), then the push judgement (facts, events,
//! photos; patrol facts, events, track chunks), the kind's acceptance as the server runs it
//! (`SyncedDoc::accept`: judgement, voids, number, index row), the fold, and the saved
//! snapshot, which must load again. Each input runs twice: as it is, and with the checksums of its chunks
//! recomputed ([`fix_checksums`]), so that mutated bytes get past the checksum into the
//! column decoders.

use automerge::ActorId;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use xiangying_core::case::{CaseDoc, DocError, chunks, fold};
use xiangying_core::document::Document;
use xiangying_core::document::received::{self, Received};
use xiangying_core::org::{Roster, sample};
use xiangying_core::patrol::{PatrolDoc, fold_patrol_doc};
use xiangying_core::sync::intake::{self, Tally};
use xiangying_core::sync::judge::{Judging, judge};
use xiangying_core::sync::patrol_judge::judge_patrol;
use xiangying_core::sync::synced::SyncedDoc;
use xiangying_model::sync::memory_host::MemoryHost;

/// The person pushing in the target (the reporter and walker of the seed documents).
pub const PUSHER: &str = "gw1";

/// The stored case the seed changes apply to (`corpus/automerge/case-doc.am`).
pub const CASE_BASE: &str = "case-doc.am";
/// The stored patrol the seed changes apply to (`corpus/automerge/patrol-doc.am`).
pub const PATROL_BASE: &str = "patrol-doc.am";

static BASES: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    [CASE_BASE, PATROL_BASE]
        .iter()
        .filter_map(|name| std::fs::read(crate::corpus::dir("automerge").join(name)).ok())
        .collect()
});

fn server_actor() -> ActorId {
    ActorId::from(&[0x5e; 16][..])
}

/// Runs the server's handling of one pushed entry on `data`, as it is and with its chunk
/// checksums recomputed.
pub fn run(data: &[u8]) {
    let data = crate::capped(data);
    push(data);
    let fixed = fix_checksums(data);
    if fixed != data {
        push(&fixed);
    }
}

/// What the server checks pushed bytes with before any lock is taken (`check_push`): the
/// bounded scan with the default limits (inflated bytes, ops, changes), then the strict
/// read, which loads a whole document and parses a change.
pub fn decode_check(bytes: &[u8]) -> Result<Received<'_>, String> {
    let limits = xiangying_server::state::Limits::default().intake();
    intake::scan(bytes, &limits, &mut Tally::default()).map_err(|e| e.to_string())?;
    received::read(bytes)
}

fn push(bytes: &[u8]) {
    let _ = chunks::split(bytes);
    let Ok(checked) = decode_check(bytes) else {
        // The server refuses the push here, before automerge builds anything.
        return;
    };
    let actor = server_actor();
    let new = match checked.preloaded {
        Some(p) => SyncedDoc::from_preloaded(*p, &actor).map(|(doc, _)| doc),
        None => SyncedDoc::from_checked(bytes, &actor),
    };
    if let Ok(mut doc) = new {
        read(None, &mut doc);
    }
    // A later part of a push that raised a case: applied to the case's preloaded document
    // before the lock (`Preloaded::take_later`), then accepted as a new case.
    if !checked.changes.is_empty() {
        for base in BASES.iter() {
            let Ok(Received {
                preloaded: Some(mut raised),
                ..
            }) = received::read(base)
            else {
                continue;
            };
            if raised.take_later(&checked.changes).is_err() {
                continue;
            }
            if let Ok((mut doc, _)) = SyncedDoc::from_preloaded(*raised, &actor)
                && doc.missing_deps().is_empty()
            {
                read(None, &mut doc);
            }
        }
    }
    for base in BASES.iter() {
        let Ok(mut before) = SyncedDoc::load(base, &actor) else {
            continue;
        };
        let heads_before = before.heads();
        let Ok(mut after) = before.fork(&actor) else {
            continue;
        };
        if after.apply_checked(bytes).is_err() || !after.missing_deps().is_empty() {
            continue;
        }
        if after.changes_since(&heads_before).is_empty() {
            continue;
        }
        read(Some(&mut before), &mut after);
    }
}

/// What the server reads of a document after a push, and the snapshot it stores.
fn read(mut before: Option<&mut SyncedDoc>, after: &mut SyncedDoc) {
    let _ = after.id();
    let _ = after.list_lengths();
    // The kind's acceptance as the server runs it (judge, voids, number, index row), on a copy
    // so that the readers below see the document as it was pushed.
    if let (Some(roster), Ok(mut copy)) = (ROSTER.as_ref(), after.fork(&server_actor())) {
        let mut host = MemoryHost::new(roster, PUSHER, 1_795_939_200_000);
        let _ = copy.accept(before.as_deref_mut(), &mut host);
    }
    match before {
        None => {
            if let Some(a) = after.downcast_mut::<CaseDoc>() {
                read_case(None, a);
            } else if let Some(a) = after.downcast_mut::<PatrolDoc>() {
                read_patrol(None, a);
            }
        }
        Some(b) => {
            if let (Some(b), Some(a)) = (b.downcast_mut::<CaseDoc>(), after.downcast_mut()) {
                read_case(Some(b), a);
            } else if let (Some(b), Some(a)) = (b.downcast_mut::<PatrolDoc>(), after.downcast_mut())
            {
                read_patrol(Some(b), a);
            }
        }
    }
    let snapshot = after.save();
    let again = SyncedDoc::load(&snapshot, &server_actor());
    assert!(
        !matches!(again, Err(DocError::Automerge(_))),
        "a document the server built does not load from its own snapshot: {again:?}"
    );
    let _ = after.canonical_save();
}

fn read_case(before: Option<&mut CaseDoc>, after: &mut CaseDoc) {
    let _ = judge(before, after, &Judging::device(PUSHER));
    let facts = after.facts();
    let events = after.events();
    let _ = after.photos();
    let _ = after.number();
    if let (Ok(facts), Ok(events)) = (facts, events) {
        let _ = fold(&facts, &events);
    }
}

fn read_patrol(before: Option<&mut PatrolDoc>, after: &mut PatrolDoc) {
    let _ = judge_patrol(before, after, &Judging::device(PUSHER));
    let _ = after.facts();
    let _ = after.events();
    let _ = after.chunks();
    let _ = after.last_fix_at();
    let _ = fold_patrol_doc(after);
}

static ROSTER: LazyLock<Option<Roster>> = LazyLock::new(|| sample::roster().ok());

/// `bytes` with the checksum of every whole, uncompressed chunk set to the one its header and
/// body hash to (the first 4 bytes of SHA-256 of type, length and body); bytes that do not
/// split into chunks are returned as they are.
pub fn fix_checksums(bytes: &[u8]) -> Vec<u8> {
    let Ok(parts) = chunks::split(bytes) else {
        return bytes.to_vec();
    };
    let mut out = Vec::with_capacity(bytes.len());
    for chunk in parts {
        let mut c = chunk.bytes.to_vec();
        if chunk.kind != chunks::ChunkKind::CompressedChange && c.len() >= 9 {
            let hash = Sha256::digest(&c[8..]);
            c[4..8].copy_from_slice(&hash[..4]);
        }
        out.extend_from_slice(&c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{AutoCommit, ROOT, transaction::Transactable};

    #[test]
    fn a_recomputed_checksum_is_the_one_automerge_writes() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        doc.commit();
        let heads = doc.get_heads();
        doc.put(ROOT, "b", 2).unwrap();
        doc.commit();
        let mut bytes = doc.save();
        bytes.extend(doc.save_after(&heads));
        assert_eq!(fix_checksums(&bytes), bytes);
        let mut damaged = bytes.clone();
        damaged[5] ^= 0xff;
        assert!(decode_check(&damaged).is_err());
        assert_eq!(fix_checksums(&damaged), bytes);
        run(&bytes);
        run(b"nonsense");
    }
}
