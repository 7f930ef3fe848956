//! The append-only rule, checked on the ops of a push rather than on the states before and
//! after it.
//!
//! Comparing contents cannot tell an append from a rewrite: deleting an event and inserting
//! the same text elsewhere reorders the history with the same contents, and putting a new list
//! under `events` hides everything appended to the old one later. So every op a device pushes
//! to a document the server already holds must be an insert of one scalar into one of the
//! document's append-only lists (the same list objects the server holds), placed right after
//! the last element of that list that the change could see: the last element visible at the
//! change's dependencies, or the element the same change inserted just before. Nothing else
//! (no deletes, no puts on existing elements, no new objects, no root keys, no counters or
//! marks) passes. The one exception, for a device whose protocol says it writes a newer layout
//! ([`super::judge::Judging`]): puts of scalar values under root keys this build does not know.
//!
//! A change must also number its ops as automerge does, from one past the highest op of its
//! dependencies: concurrent inserts after the same element are ordered by op number, so a
//! change that skipped ahead could still jump before elements it had seen.
//!
//! An honest device that appended while others appended too passes: it inserted after the last
//! element it knew, and automerge places concurrent inserts deterministically. The check is
//! linear in the pushed ops: the last visible element is carried from a change to the next one
//! that depends on it alone, and read from the document's history (once per list) only for a
//! change whose dependencies are anything else, at most [`MAX_HISTORY_READS`] times a push.

use super::tamper::Tamper;
use automerge::legacy::{ElementId, Key, ObjectId, OpId, OpType};
use automerge::{ActorId, AutoCommit, Change, ChangeHash, ObjId, ReadDoc};
use std::collections::HashMap;

/// Most changes of one push whose last visible elements are read from the history (a change
/// that depends on several heads, or on heads the push did not bring).
pub const MAX_HISTORY_READS: usize = 64;

/// A list element, by the id of the op that inserted it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Elem {
    /// Before the first element (an empty list).
    Head,
    /// The element inserted by this op.
    Id(u64, ActorId),
}

/// Checks that `incoming` (the pushed changes, in causal order, already applied to `doc`) only
/// append to `lists` (each named for the error messages). With `unknown_root` = the root keys
/// this build knows, puts of scalars under any other root key pass too.
pub fn check_appends(
    doc: &mut AutoCommit,
    incoming: &[Change],
    lists: &[(&'static str, ObjId)],
    unknown_root: Option<&[&str]>,
) -> Result<(), Tamper> {
    let targets: Vec<(u64, ActorId)> = lists
        .iter()
        .map(|(name, obj)| match obj {
            ObjId::Id(counter, actor, _) => Ok((*counter, actor.clone())),
            ObjId::Root => Err(Tamper::Malformed(format!("`{name}` is not a list"))),
        })
        .collect::<Result<_, _>>()?;
    // The last element of each list visible after each checked change, and its highest op.
    let mut after_change: HashMap<ChangeHash, (Vec<Elem>, u64)> = HashMap::new();
    let mut history_reads = 0;
    for change in incoming {
        let (mut last, max_op): (Vec<Elem>, u64) = match change.deps() {
            [dep] if after_change.contains_key(dep) => after_change[dep].clone(),
            deps => {
                history_reads += 1;
                if history_reads > MAX_HISTORY_READS {
                    return Err(Tamper::Malformed(format!(
                        "more than {MAX_HISTORY_READS} changes of one push start from other heads"
                    )));
                }
                let mut max_op = 0;
                for dep in deps {
                    let c = doc.get_change_by_hash(dep).ok_or_else(|| {
                        Tamper::Malformed(format!(
                            "change {} depends on an unknown change",
                            change.hash()
                        ))
                    })?;
                    max_op = max_op.max(c.max_op());
                }
                let last = lists
                    .iter()
                    .map(|(_, obj)| last_visible(doc, obj, deps))
                    .collect();
                (last, max_op)
            }
        };
        if change.start_op().get() != max_op + 1 {
            return Err(Tamper::NotAnAppend(format!(
                "change {} numbers its ops from {}, not from {} past its dependencies",
                change.hash(),
                change.start_op(),
                max_op + 1
            )));
        }
        let expanded = change.decode();
        let actor = change.actor_id();
        for (i, op) in expanded.operations.iter().enumerate() {
            let at = || format!("change {} op {i}", change.hash());
            if let (Some(known), ObjectId::Root, Key::Map(key), OpType::Put(_), false) =
                (unknown_root, &op.obj, &op.key, &op.action, op.insert)
                && !known.contains(&key.as_str())
            {
                // A newer layout's scalar under a key this build does not know.
                continue;
            }
            let list = match &op.obj {
                ObjectId::Id(OpId(counter, a)) => {
                    targets.iter().position(|(c, ta)| c == counter && ta == a)
                }
                ObjectId::Root => None,
            }
            .ok_or_else(|| Tamper::NotAnAppend(format!("{}: writes outside the lists", at())))?;
            let name = lists[list].0;
            if !op.insert || !matches!(op.action, OpType::Put(_)) || !op.pred.is_empty() {
                return Err(Tamper::NotAnAppend(format!(
                    "{}: edits or deletes in `{name}` instead of appending",
                    at()
                )));
            }
            let pred = match &op.key {
                Key::Seq(ElementId::Head) => Elem::Head,
                Key::Seq(ElementId::Id(OpId(c, a))) => Elem::Id(*c, a.clone()),
                Key::Map(_) => {
                    return Err(Tamper::NotAnAppend(format!("{}: not a list insert", at())));
                }
            };
            if pred != last[list] {
                return Err(Tamper::NotAnAppend(format!(
                    "{}: inserts into `{name}` before elements it had seen",
                    at()
                )));
            }
            last[list] = Elem::Id(change.start_op().get() + i as u64, actor.clone());
        }
        after_change.insert(change.hash(), (last, change.max_op()));
    }
    Ok(())
}

/// The last element of `list` as the document stood at `heads`.
fn last_visible(doc: &AutoCommit, list: &ObjId, heads: &[ChangeHash]) -> Elem {
    let n = doc.length_at(list, heads);
    match n
        .checked_sub(1)
        .and_then(|i| doc.get_at(list, i, heads).ok().flatten())
    {
        Some((_, ObjId::Id(counter, actor, _))) => Elem::Id(counter, actor),
        _ => Elem::Head,
    }
}

// The tests of this rule go through the judgement on real documents, so they live with
// `super::judge` (which uses this module): see `append_only_tests.rs`.
