//! Target `automerge`: automerge bytes a device pushes, as the server decodes and reads them.
//!
//! The bytes go through what `sync-server/src/sync.rs` does with one pushed entry: the strict
//! chunk split and check, then either a new document built from them
//! (`SyncedDoc::from_remote`) or the bytes applied to a stored case or patrol, then the push
//! judgement (facts, events, photos; patrol facts, events, track chunks), the fold, and the
//! saved snapshot, which must load again. Each input runs twice: as it is, and with the
//! checksums of its chunks recomputed ([`fix_checksums`]), so that mutated bytes get past the
//! checksum into the column decoders.
//!
//! The decode step is [`decode_check`], the one place to switch when `case::chunks` gains a
//! bounded check (decompressed bytes, ops and changes capped).

use automerge::ActorId;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;
use xiangying_core::case::{DocError, chunks, fold};
use xiangying_core::patrol::fold_patrol_doc;
use xiangying_core::sync::judge::judge;
use xiangying_core::sync::patrol_judge::judge_patrol;
use xiangying_core::sync::synced::SyncedDoc;

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

/// The strict check the server runs on pushed bytes before automerge sees them.
pub fn decode_check(bytes: &[u8]) -> Result<(), String> {
    chunks::check(bytes)
}

fn push(bytes: &[u8]) {
    let _ = chunks::split(bytes);
    // `from_remote` and `apply` run the same check again and refuse what it refuses; they
    // run anyway, as on the server, in case they ever stop doing so.
    let _ = decode_check(bytes);
    let actor = server_actor();
    if let Ok(mut doc) = SyncedDoc::from_remote(bytes, &actor) {
        read(None, &mut doc);
    }
    for base in BASES.iter() {
        let Ok(mut before) = SyncedDoc::load(base, &actor) else {
            continue;
        };
        let heads_before = before.heads();
        let Ok(mut after) = before.fork(&actor) else {
            continue;
        };
        if after.apply(bytes).is_err() || !after.missing_deps().is_empty() {
            continue;
        }
        if after.changes_since(&heads_before).is_empty() {
            continue;
        }
        read(Some(&before), &mut after);
    }
}

/// What the server reads of a document after a push, and the snapshot it stores.
fn read(before: Option<&SyncedDoc>, after: &mut SyncedDoc) {
    let _ = after.id();
    match (before, &*after) {
        (None | Some(SyncedDoc::Case(_)), SyncedDoc::Case(a)) => {
            let b = match before {
                Some(SyncedDoc::Case(b)) => Some(b),
                _ => None,
            };
            let _ = judge(b, a, PUSHER);
            let facts = a.facts();
            let events = a.events();
            let _ = a.photos();
            let _ = a.number();
            if let (Ok(facts), Ok(events)) = (facts, events) {
                let _ = fold(&facts, &events);
            }
        }
        (None | Some(SyncedDoc::Patrol(_)), SyncedDoc::Patrol(a)) => {
            let b = match before {
                Some(SyncedDoc::Patrol(b)) => Some(b),
                _ => None,
            };
            let _ = judge_patrol(b, a, PUSHER);
            let _ = a.facts();
            let _ = a.events();
            let _ = a.chunks();
            let _ = a.last_fix_at();
            let _ = fold_patrol_doc(a);
        }
        _ => {}
    }
    let snapshot = after.save();
    let again = SyncedDoc::load(&snapshot, &server_actor());
    assert!(
        !matches!(again, Err(DocError::Automerge(_))),
        "a document the server built does not load from its own snapshot: {again:?}"
    );
    let _ = after.canonical_save();
}

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
