//! Tests of the op-level append-only rule, through [`crate::sync::judge::judge`] on real case
//! documents: honest appends (alone and concurrent) pass; every way of rewriting the history
//! the content comparison used to miss is refused.

use crate::case::{Action, CaseDoc, Claim, Event, fold};
use crate::document::Document;
use crate::sync::judge::{Judging, Tamper, judge};
use crate::testkit::{g1_case, g1_claim};
use automerge::{ActorId, ROOT, ReadDoc, transaction::Transactable};

fn claim(p: &str) -> Claim {
    g1_claim(p)
}

fn case() -> CaseDoc {
    g1_case(None, None)
}

fn fork(doc: &mut CaseDoc) -> CaseDoc {
    doc.fork(&ActorId::random()).unwrap()
}

fn note(at: i64, who: &str) -> Event {
    Event::new(
        at,
        claim(who),
        Action::Note {
            text: format!("note {at}"),
        },
    )
}

/// The server's copy with a few events by gw1.
fn server_copy() -> CaseDoc {
    let mut doc = case();
    for at in 2..6 {
        doc.append_event(&note(at, "gw1")).unwrap();
    }
    doc
}

#[test]
fn chains_of_appends_pass() {
    let mut server = server_copy();
    let mut device = fork(&mut server);
    for at in 10..15 {
        device.append_event(&note(at, "gw1")).unwrap();
    }
    let added = judge(Some(&mut server), &mut device, &Judging::device("gw1")).unwrap();
    assert_eq!(added.events.len(), 5);
    assert_eq!(added.events[0].at, 10);
}

#[test]
fn concurrent_honest_appends_pass_whichever_sorts_first() {
    for _ in 0..20 {
        let mut server = server_copy();
        let mut a = fork(&mut server);
        let mut b = fork(&mut server);
        a.append_event(&note(10, "gw1")).unwrap();
        a.append_event(&note(11, "gw1")).unwrap();
        b.append_event(&note(20, "gw2")).unwrap();
        // a's push lands first.
        let mut after_a = fork(&mut server);
        after_a.apply(&a.save()).unwrap();
        judge(Some(&mut server), &mut after_a, &Judging::device("gw1")).unwrap();
        // b appended without seeing a's events: its event may sort before them.
        let mut after_b = fork(&mut after_a);
        after_b.apply(&b.save()).unwrap();
        let added = judge(Some(&mut after_a), &mut after_b, &Judging::device("gw2")).unwrap();
        assert_eq!(added.events.len(), 1);
        assert_eq!(after_b.events().unwrap().len(), 8);
    }
}

#[test]
fn reordering_with_the_same_contents_is_refused() {
    // Delete the first note and insert the same text at the end: contents unchanged, order not.
    let mut server = server_copy();
    let mut evil = fork(&mut server);
    let (raw, events) = evil.raw_mut();
    let events = events.clone();
    let text = raw
        .get(&events, 1)
        .unwrap()
        .unwrap()
        .0
        .as_str()
        .unwrap()
        .to_string();
    raw.delete(&events, 1).unwrap();
    let n = raw.length(&events);
    raw.insert(&events, n, text).unwrap();
    raw.commit();
    let sorted_contents = |d: &CaseDoc| {
        let mut v: Vec<String> = d.events().unwrap().iter().map(|e| e.id.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(sorted_contents(&server), sorted_contents(&evil));
    assert!(matches!(
        judge(Some(&mut server), &mut evil, &Judging::device("gw1")),
        Err(Tamper::NotAnAppend(_))
    ));
}

#[test]
fn replacing_the_list_is_refused() {
    // A new `events` list holding the same events: appends to the old one would vanish.
    let mut server = server_copy();
    let mut evil = fork(&mut server);
    let old = server.events().unwrap();
    let (raw, _) = evil.raw_mut();
    let list = raw
        .put_object(ROOT, "events", automerge::ObjType::List)
        .unwrap();
    for (i, e) in old.iter().enumerate() {
        raw.insert(&list, i, serde_json::to_string(e).unwrap())
            .unwrap();
    }
    raw.commit();
    let mut evil = CaseDoc::load(&evil.save(), &ActorId::random()).unwrap();
    assert_eq!(evil.events().unwrap(), old);
    assert!(matches!(
        judge(Some(&mut server), &mut evil, &Judging::device("gw1")),
        Err(Tamper::NotAnAppend(_))
    ));
}

#[test]
fn inserting_before_seen_events_is_refused() {
    // A new event of the pusher's own, slipped in after the first event while the device held
    // them all: the fold would read it before events it knew came first.
    let mut server = server_copy();
    let mut evil = fork(&mut server);
    let (raw, events) = evil.raw_mut();
    let events = events.clone();
    raw.insert(&events, 1, serde_json::to_string(&note(99, "gw1")).unwrap())
        .unwrap();
    raw.commit();
    assert!(matches!(
        judge(Some(&mut server), &mut evil, &Judging::device("gw1")),
        Err(Tamper::NotAnAppend(m)) if m.contains("before elements it had seen")
    ));
}

#[test]
fn edits_and_other_objects_are_refused() {
    let mut server = server_copy();
    let mut edited = fork(&mut server);
    let (raw, events) = edited.raw_mut();
    let events = events.clone();
    raw.put(&events, 2, serde_json::to_string(&note(2, "gw1")).unwrap())
        .unwrap();
    raw.commit();
    assert!(matches!(
        judge(Some(&mut server), &mut edited, &Judging::device("gw1")),
        Err(Tamper::NotAnAppend(_))
    ));

    let mut nested = fork(&mut server);
    let (raw, events) = nested.raw_mut();
    let events = events.clone();
    let n = raw.length(&events);
    raw.insert_object(&events, n, automerge::ObjType::Map)
        .unwrap();
    raw.commit();
    assert!(judge(Some(&mut server), &mut nested, &Judging::device("gw1")).is_err());
}

#[test]
fn skipping_op_numbers_to_jump_ahead_is_refused() {
    // An append whose ops are numbered far past its dependencies would sort before
    // concurrent elements it had in fact seen: rebuild an honest change with a larger start.
    let mut server = server_copy();
    let heads = server.heads();
    let mut device = fork(&mut server);
    device.append_event(&note(10, "gw1")).unwrap();
    let honest = device.automerge_mut().get_changes(&heads);
    assert_eq!(honest.len(), 1);
    let mut expanded = honest[0].decode();
    expanded.start_op = std::num::NonZeroU64::new(expanded.start_op.get() + 1_000).unwrap();
    expanded.hash = None;
    let forged = automerge::Change::from(expanded);
    let mut evil = fork(&mut server);
    evil.automerge_mut().apply_changes([forged]).unwrap();
    assert!(matches!(
        judge(Some(&mut server), &mut evil, &Judging::device("gw1")),
        Err(Tamper::NotAnAppend(m)) if m.contains("numbers its ops")
    ));
}

#[test]
fn the_fold_of_an_accepted_push_keeps_the_old_order() {
    let mut server = server_copy();
    let before: Vec<String> = server.events().unwrap().into_iter().map(|e| e.id).collect();
    let mut device = fork(&mut server);
    device.append_event(&note(30, "gw1")).unwrap();
    judge(Some(&mut server), &mut device, &Judging::device("gw1")).unwrap();
    let after: Vec<String> = device.events().unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(after[..before.len()], before[..]);
    let facts = device.facts().unwrap();
    assert_eq!(fold(&facts, &device.events().unwrap()).history.len(), 6);
}
