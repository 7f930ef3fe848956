//! Attacks by an enrolled device through `POST /v1/sync`, against the real server (SQLite and
//! PostgreSQL where storage matters): decompression and run-length bombs, a million tiny
//! inserts, oversized photo lists and tracks that made the judgement quadratic, and rewriting
//! the history by reordering events or replacing the events list. Each test checks that the
//! attacker gets a clear refusal, `/health` keeps answering, honest devices still sync, and
//! nothing stored changes.

use automerge::{ReadDoc, transaction::Transactable};
use std::time::Duration;
use xiangying_core::document::Document;
use xiangying_tests::attack::{HealthWatch, frame_chunk, one_case_street, refusal, uleb};
use xiangying_tests::{Field, drop_schema, hand_change, pg_url, push_raw, server_counts};

fn street(pg_schema: Option<&str>) -> (Field, String) {
    one_case_street(pg_schema)
}

/// The ids of the server's stored events of a case, in document order.
fn stored_events(f: &Field, id: &str) -> Vec<String> {
    let state = f.state();
    let row = xiangying_server::storage::with_tx(state.storage.as_ref(), |tx| tx.case(&id.into()))
        .unwrap()
        .unwrap();
    let doc =
        xiangying_core::case::CaseDoc::load(&row.snapshot, &automerge::ActorId::random()).unwrap();
    doc.events().unwrap().into_iter().map(|e| e.id).collect()
}

/// An honest note from gw1 still syncs, and gw2's device still syncs.
fn honest_work_goes_on(f: &Field, id: &str) {
    f.dev("gw1").note(id, "honest note").unwrap();
    f.dev("gw1").sync_now(&|_| {}).unwrap();
    f.dev("gw2").sync_now(&|_| {}).unwrap();
}

fn assert_refused(status: u16, body: &str, want_status: u16, want_code: &str, want_text: &str) {
    let (code, error) = refusal(body);
    assert_eq!((status, code.as_str()), (want_status, want_code), "{body}");
    assert!(error.contains(want_text), "{error}");
}

fn bombs(pg: Option<&str>) {
    let (f, id) = street(pg);
    let before = server_counts(&f);
    let events_before = stored_events(&f, &id);
    let watch = HealthWatch::start(&f.server.url());

    // 1 MB that inflates to 1 GiB, framed as a compressed change.
    let bomb = include_bytes!("../fixtures/attacks/deflate-bomb.bin");
    let (status, body) = push_raw(&f, "gw1", &id, frame_chunk(2, bomb));
    assert_refused(status, &body, 413, "over_limit", "max_chunk_bytes");

    // One op column run that declares 2^40 ops.
    let mut change = Vec::new();
    uleb(0, &mut change); // deps
    uleb(16, &mut change);
    change.extend([9u8; 16]); // actor
    for v in [1, 1, 0, 0, 0] {
        uleb(v, &mut change); // seq, start op, time, message, other actors
    }
    // A run count is signed LEB128: 2^40 in seven-bit groups, the last with its sign bit clear.
    let mut run = Vec::new();
    let mut n: i64 = 1 << 40;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 && b & 0x40 == 0 {
            run.push(b);
            break;
        }
        run.push(b | 0x80);
    }
    uleb(1, &mut run); // the repeated action
    uleb(1, &mut change); // one column
    uleb(4 << 4 | 2, &mut change); // `action`, an integer column
    uleb(run.len() as u64, &mut change);
    change.extend(&run);
    let (status, body) = push_raw(&f, "gw1", &id, frame_chunk(1, &change));
    assert_refused(status, &body, 413, "over_limit", "max_chunk_ops");

    // Tiny inserts by the tens of thousands in one change: over the chunk's op budget (a
    // million of them once held the store lock for 1.7 s).
    let many = hand_change(&f, "gw1", &id, "events", |doc, events| {
        let values = (0..60_000).map(|i| automerge::ScalarValue::Str(format!("{i}").into()));
        doc.splice(events, doc.length(events), 0, values).unwrap();
    });
    let (status, body) = push_raw(&f, "gw1", &id, many);
    assert_refused(status, &body, 413, "over_limit", "max_chunk_ops");

    let health = watch.finish();
    assert_eq!(health.failures, 0, "{health:?}");
    assert!(health.slowest < Duration::from_secs(1), "{health:?}");
    assert_eq!(server_counts(&f), before);
    assert_eq!(stored_events(&f, &id), events_before);
    honest_work_goes_on(&f, &id);
}

#[test]
fn bombs_are_refused_before_decoding_on_sqlite() {
    bombs(None);
}

#[test]
fn bombs_are_refused_before_decoding_on_postgres() {
    let schema = "attack_bombs";
    bombs(Some(schema));
    drop_schema(&pg_url(), schema);
}

#[test]
fn oversized_photo_lists_are_refused() {
    let (f, id) = street(None);
    let before = server_counts(&f);
    let watch = HealthWatch::start(&f.server.url());
    // 600 photo references (over max_doc_photos = 500), each a valid reference by the pusher.
    let photos = hand_change(&f, "gw1", &id, "photos", |doc, list| {
        let values = (0..600).map(|i| {
            let photo = serde_json::json!({
                "hash": format!("{i:064x}"), "thumb": format!("{i:064x}"), "stage": "before",
                "bytes": 1, "captured_at": null, "added_by": "gw1", "added_at": 1
            });
            automerge::ScalarValue::Str(photo.to_string().into())
        });
        doc.splice(list, doc.length(list), 0, values).unwrap();
    });
    let (status, body) = push_raw(&f, "gw1", &id, photos);
    assert_refused(status, &body, 413, "over_limit", "max_doc_photos");
    let health = watch.finish();
    assert_eq!(health.failures, 0, "{health:?}");
    assert!(health.slowest < Duration::from_secs(1), "{health:?}");
    assert_eq!(server_counts(&f), before);
    honest_work_goes_on(&f, &id);
}

#[test]
fn reordering_events_is_tampering_and_changes_nothing() {
    let (f, id) = street(None);
    for i in 0..3 {
        f.dev("gw1").note(&id, &format!("note {i}")).unwrap();
    }
    f.dev("gw1").sync_now(&|_| {}).unwrap();
    let events_before = stored_events(&f, &id);
    // Same contents, new order: the first note moves to the end.
    let reorder = hand_change(&f, "gw1", &id, "events", |doc, events| {
        let text = doc
            .get(events, 1)
            .unwrap()
            .unwrap()
            .0
            .into_string()
            .unwrap();
        doc.delete(events, 1).unwrap();
        doc.insert(events, doc.length(events), text).unwrap();
    });
    let (status, body) = push_raw(&f, "gw1", &id, reorder);
    assert_refused(status, &body, 403, "tampering", "does not only append");
    assert_eq!(stored_events(&f, &id), events_before);
    // The device is quarantined; others carry on.
    f.dev("gw2").sync_now(&|_| {}).unwrap();
}

#[test]
fn replacing_the_events_list_is_tampering() {
    let (f, id) = street(None);
    let events_before = stored_events(&f, &id);
    let bytes = f.dev("gw1").export_case(&id).unwrap();
    let mut doc = automerge::AutoCommit::load(&bytes)
        .unwrap()
        .with_actor(automerge::ActorId::random());
    let heads = doc.get_heads();
    let old: Vec<String> = {
        let (_, events) = doc.get(automerge::ROOT, "events").unwrap().unwrap();
        (0..doc.length(&events))
            .map(|i| {
                doc.get(&events, i)
                    .unwrap()
                    .unwrap()
                    .0
                    .into_string()
                    .unwrap()
            })
            .collect()
    };
    let list = doc
        .put_object(automerge::ROOT, "events", automerge::ObjType::List)
        .unwrap();
    for (i, e) in old.iter().enumerate() {
        doc.insert(&list, i, e.as_str()).unwrap();
    }
    doc.commit();
    let (status, body) = push_raw(&f, "gw1", &id, doc.save_after(&heads));
    assert_refused(status, &body, 403, "tampering", "does not only append");
    assert_eq!(stored_events(&f, &id), events_before);
}

#[test]
fn inserting_an_event_before_seen_ones_is_tampering() {
    let (f, id) = street(None);
    f.dev("gw1").note(&id, "later").unwrap();
    f.dev("gw1").sync_now(&|_| {}).unwrap();
    let events_before = stored_events(&f, &id);
    // A new note of gw1's own, slipped in right after the report.
    let early = hand_change(&f, "gw1", &id, "events", |doc, events| {
        let mut text = doc
            .get(events, 1)
            .unwrap()
            .unwrap()
            .0
            .into_string()
            .unwrap();
        let fresh = uuid::Uuid::now_v7().to_string();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let old_id = v["id"].as_str().unwrap().to_string();
        text = text.replace(&old_id, &fresh);
        doc.insert(events, 1, text).unwrap();
    });
    let (status, body) = push_raw(&f, "gw1", &id, early);
    assert_refused(
        status,
        &body,
        403,
        "tampering",
        "before elements it had seen",
    );
    assert_eq!(stored_events(&f, &id), events_before);
}

#[test]
fn a_device_refused_over_a_limit_keeps_everything_and_gets_a_stable_code() {
    let mut f = Field::with_backend(
        xiangying_tests::sample_org(),
        None,
        xiangying_server::state::Limits {
            max_doc_events: 3,
            ..xiangying_server::state::Limits::default()
        },
    );
    f.enrol("gw1");
    let id = f
        .dev("gw1")
        .report(&xiangying_core::NewReport {
            category: xiangying_core::org::sample::LITTER.into(),
            location: xiangying_core::org::sample::IN_G1,
            grid: None,
            segment: None,
            description: "垃圾满溢".into(),
        })
        .unwrap();
    f.dev("gw1").sync_now(&|_| {}).unwrap();
    for i in 0..3 {
        f.dev("gw1").note(&id, &format!("note {i}")).unwrap();
    }
    let outbox = f.dev("gw1").outbox_len().unwrap();
    let before = server_counts(&f);
    match f.dev("gw1").sync_now(&|_| {}) {
        Err(xiangying_core::Error::Rejected {
            status: 413,
            code,
            message,
            ..
        }) => {
            assert_eq!(code, "over_limit");
            assert!(message.contains("max_doc_events"), "{message}");
        }
        other => panic!("expected a 413 over_limit, got {other:?}"),
    }
    // Nothing is lost on the device, nothing changed on the server, and the device is not
    // quarantined: it can still read.
    assert_eq!(f.dev("gw1").outbox_len().unwrap(), outbox);
    assert_eq!(f.dev("gw1").case(&id).unwrap().state.history.len(), 4);
    assert_eq!(server_counts(&f), before);
    assert_eq!(stored_events(&f, &id).len(), 1);
}

#[test]
fn writing_with_the_servers_actor_is_tampering() {
    // The server numbered the case with its own actor; a device that reads that actor in the
    // document and writes with it would corrupt the server's next change to the case.
    let (f, id) = street(None);
    let events_before = stored_events(&f, &id);
    let bytes = f.dev("gw1").export_case(&id).unwrap();
    let mut doc = automerge::AutoCommit::load(&bytes).unwrap();
    let server_actor = f.state().actor.clone();
    assert!(
        doc.get_changes(&[])
            .iter()
            .any(|c| *c.actor_id() == server_actor),
        "the server wrote the case number"
    );
    let mut doc = doc.with_actor(server_actor);
    let heads = doc.get_heads();
    let change = {
        let (_, events) = doc.get(automerge::ROOT, "events").unwrap().unwrap();
        let n = doc.length(&events);
        let last = doc
            .get(&events, n - 1)
            .unwrap()
            .unwrap()
            .0
            .into_string()
            .unwrap();
        let fresh = uuid::Uuid::now_v7().to_string();
        let v: serde_json::Value = serde_json::from_str(&last).unwrap();
        let text = last.replace(v["id"].as_str().unwrap(), &fresh);
        doc.insert(&events, n, text).unwrap();
        doc.commit();
        doc.save_after(&heads)
    };
    let (status, body) = push_raw(&f, "gw1", &id, change);
    assert_refused(status, &body, 403, "tampering", "belongs to another device");
    assert_eq!(stored_events(&f, &id), events_before);
}
