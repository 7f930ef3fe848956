//! A fleet of mixed versions syncing the same cases through one real server on 127.0.0.1, on
//! SQLite and PostgreSQL (see `docs/decisions/0020-compatibility-rules.md`):
//! - gw1's phone runs the NEXT release: protocol 1.3, writing a test-only action type and a
//!   test-only root key that this build does not know;
//! - cc1's and the centre's phones run today's release (protocol 1.2);
//! - inf1's phone is a first-wave build: no protocol header, layout-1 documents (raw pushes
//!   and pulls of hand-made bytes).
//!
//! Every device keeps working and shows the unknown events as "unknown", nothing is lost
//! (every event id and the test key on every device and the server, byte-identical
//! documents) and nobody is quarantined. The same unknown action pushed by a device that does
//! not say it writes a newer layout is refused as tampering.

use automerge::{AutoCommit, ObjType, ROOT, ScalarValue, transaction::Transactable};
use std::collections::BTreeSet;
use xiangying_core::case::{Action, Assignee, CaseDoc, Claim, Event, Outcome};
use xiangying_core::document::Document;
use xiangying_core::org::{Role, Scope, sample};
use xiangying_core::sync::version::Protocol;
use xiangying_core::sync::wire::{self, PushedChange, SyncRequest, SyncResponse};
use xiangying_core::{Error, NewReport};
use xiangying_server::state::Limits;
use xiangying_server::storage::with_tx;
use xiangying_tests::attack::refusal;
use xiangying_tests::{Field, drop_schema, pg_url, post_sync, sample_org, token_of};

/// The next release's action, unknown to this build.
const NEXT_ACTION: &str =
    r#"{"type":"test_next_layout_check","checked":["drain","lamp"],"score":7}"#;
/// The next release's root key, unknown to this build.
const NEXT_KEY: &str = "test_next_layout_key";
/// The next release's protocol.
const NEXT: Protocol = Protocol { major: 1, minor: 3 };

fn fleet(pg_schema: Option<&str>) -> Field {
    let pg = pg_schema.map(|s| (pg_url(), s.to_string()));
    let mut f = Field::with_backend(sample_org(), pg, Limits::default());
    for p in ["gw1", "cc1", "center", "inf1"] {
        f.enrol(p);
    }
    f.dev("gw1").set_protocol_for_tests(NEXT);
    f.dev("gw1").set_app_version("9.9.0-next");
    // inf1's phone is a first-wave build: only hand-made requests from here on.
    f.devices.remove("inf1");
    f
}

/// A layout-1 case document as the first-wave build wrote it: no `layout` key.
fn layout1_case(id: &str, at: i64) -> (Vec<u8>, String) {
    let claim = Claim {
        person: "inf1".into(),
        role: Role::GridInformant,
        scope: Scope::Grid("g1".into()),
    };
    let first = Event::new(
        at,
        claim,
        Action::Reported {
            assignee: Assignee::Person("gw1".into()),
        },
    );
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "id", id).unwrap();
    doc.put(ROOT, "kind", "problem").unwrap();
    doc.put(ROOT, "category", sample::LITTER).unwrap();
    doc.put(ROOT, "category_name", "垃圾满溢").unwrap();
    doc.put(ROOT, "limit_hours", 4_u64).unwrap();
    doc.put(ROOT, "reporter", "inf1").unwrap();
    doc.put(ROOT, "created_at", at).unwrap();
    doc.put(ROOT, "lon", sample::IN_G1.lon).unwrap();
    doc.put(ROOT, "lat", sample::IN_G1.lat).unwrap();
    doc.put(ROOT, "grid", "g1").unwrap();
    doc.put(ROOT, "community", "c1").unwrap();
    doc.put(ROOT, "description", "路口垃圾堆积").unwrap();
    doc.put_object(ROOT, "photos", ObjType::List).unwrap();
    let events = doc.put_object(ROOT, "events", ObjType::List).unwrap();
    doc.insert(&events, 0, serde_json::to_string(&first).unwrap())
        .unwrap();
    doc.commit();
    (doc.save(), first.id)
}

/// A first-wave sync request: no protocol header, as the first-wave client sent it.
fn legacy_sync(f: &Field, push: Vec<PushedChange>, cursor: u64) -> (u16, Vec<u8>) {
    let body = wire::encode(&SyncRequest {
        push,
        cursor,
        max_feed_bytes: 16 << 20,
        org_version: 0,
    })
    .unwrap();
    post_sync(f, Some(&token_of(f, "inf1")), body)
}

/// The legacy device's documents after pulling its whole feed on top of what it holds
/// (`held`: its own documents' bytes, by case).
fn legacy_pull(
    f: &Field,
    held: &std::collections::BTreeMap<String, Vec<u8>>,
) -> std::collections::BTreeMap<String, CaseDoc> {
    let mut bytes = held.clone();
    let mut cursor = 0;
    loop {
        let (status, body) = legacy_sync(f, vec![], cursor);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let resp: SyncResponse = wire::decode(&body).unwrap();
        for item in resp.feed {
            bytes
                .entry(item.case_id.to_string())
                .or_default()
                .extend_from_slice(&item.bytes);
        }
        cursor = resp.cursor;
        if !resp.more {
            break;
        }
    }
    bytes
        .into_iter()
        .map(|(id, b)| {
            let doc = CaseDoc::from_remote(&b, &automerge::ActorId::random())
                .unwrap_or_else(|e| panic!("case {id} from the feed: {e}"));
            (id, doc)
        })
        .collect()
}

fn report(f: &Field, who: &str, what: &str) -> String {
    f.dev(who)
        .report(&NewReport {
            category: sample::LITTER.into(),
            location: sample::IN_G1,
            grid: None,
            segment: None,
            description: what.into(),
        })
        .unwrap_or_else(|e| panic!("{who} reports: {e}"))
}

fn mixed_fleet(pg_schema: Option<&str>) {
    let f = fleet(pg_schema);
    let mut cases: BTreeSet<String> = BTreeSet::new();
    let mut next_events: Vec<String> = Vec::new();

    // Today's release raises a case; the next release adds its action and key to it.
    let a = report(&f, "cc1", "井盖松动");
    cases.insert(a.clone());
    f.dev("cc1").sync_now(&|_| {}).expect("cc1 syncs");
    f.dev("gw1").sync_now(&|_| {}).expect("gw1 pulls");
    next_events.push(
        f.dev("gw1")
            .append_raw_action_for_tests(&a, NEXT_ACTION)
            .unwrap(),
    );
    f.dev("gw1")
        .put_root_key_for_tests(&a, NEXT_KEY, ScalarValue::Str("drone-7".into()))
        .unwrap();
    f.dev("gw1")
        .sync_now(&|_| {})
        .expect("the next release pushes");

    // The next release raises its own case (of its layout, 3), with its action; today's
    // release acts on it.
    let b = report(&f, "gw1", "垃圾满溢");
    f.dev("gw1")
        .put_root_key_for_tests(&b, "layout", ScalarValue::Uint(3))
        .unwrap();
    cases.insert(b.clone());
    next_events.push(
        f.dev("gw1")
            .append_raw_action_for_tests(&b, NEXT_ACTION)
            .unwrap(),
    );
    f.dev("gw1")
        .put_root_key_for_tests(&b, NEXT_KEY, ScalarValue::Str("drone-8".into()))
        .unwrap();
    f.settle();
    f.dev("cc1")
        .note(&b, "社区已知悉")
        .expect("today's release acts");
    f.dev("center")
        .note(&a, "中心跟进")
        .expect("today's release acts");

    // The first-wave device raises a layout-1 case without a protocol header.
    let c = uuid::Uuid::now_v7().to_string();
    let (bytes, _) = layout1_case(&c, 1_795_939_200_000);
    let held = std::collections::BTreeMap::from([(c.clone(), bytes.clone())]);
    let (status, body) = legacy_sync(
        &f,
        vec![PushedChange {
            seq: 1,
            case_id: uuid::Uuid::parse_str(&c).unwrap(),
            bytes,
        }],
        u64::MAX >> 1,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    cases.insert(c.clone());
    f.settle();
    next_events.push(
        f.dev("gw1")
            .append_raw_action_for_tests(&c, NEXT_ACTION)
            .unwrap(),
    );
    f.dev("gw1")
        .accept(&c)
        .expect("gw1 accepts the first-wave case");
    for _ in 0..3 {
        f.sync_all();
    }

    // The server holds every case whole.
    let state = f.state();
    let mut server = std::collections::BTreeMap::new();
    with_tx(state.storage.as_ref(), |tx| {
        for id in &cases {
            let row = tx.case(&id.into())?.expect("the server holds the case");
            let mut doc = CaseDoc::load(&row.snapshot, &automerge::ActorId::random()).unwrap();
            server.insert(id.clone(), (doc.canonical_save().unwrap(), doc));
        }
        for d in tx.devices()? {
            assert_eq!(d.quarantined, None, "{} is not quarantined", d.person);
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(
        server[&c].1.layout().unwrap(),
        1,
        "the first-wave case stays layout 1"
    );
    assert_eq!(server[&a].1.layout().unwrap(), 2);
    assert_eq!(
        server[&b].1.layout().unwrap(),
        3,
        "the next release's case keeps its layout"
    );

    // Every device, the first-wave one included, holds every case byte for byte.
    let mut legacy = legacy_pull(&f, &held);
    for id in &cases {
        let (canonical, doc) = &server[id];
        let ids: BTreeSet<String> = doc.events().unwrap().into_iter().map(|e| e.id).collect();
        for (who, d) in &f.devices {
            assert_eq!(
                &d.canonical_case(id).expect("held"),
                canonical,
                "{who}'s copy of {id}"
            );
            let view = d.case(id).expect("the case reads");
            let seen: BTreeSet<String> = view
                .state
                .history
                .iter()
                .map(|h| h.event.id.clone())
                .collect();
            assert_eq!(seen, ids, "{who} shows every event of {id}");
            for h in &view.state.history {
                if let Action::Unknown { type_name, .. } = &h.event.action {
                    assert_eq!(type_name, "test_next_layout_check");
                    assert_eq!(h.outcome, Outcome::NotUnderstood, "{who}");
                    assert_eq!(h.event.by.person(), Some("gw1"));
                } else {
                    assert_ne!(h.outcome, Outcome::NotUnderstood);
                }
            }
            assert_eq!(d.outbox_len().unwrap(), 0, "{who} pushed everything");
        }
        // The informant sees the cases they raised.
        let Some(old) = legacy.get_mut(id) else {
            assert_ne!(id, &c, "the first-wave device keeps its own case");
            continue;
        };
        assert_eq!(
            &old.canonical_save().unwrap(),
            canonical,
            "first-wave copy of {id}"
        );
        assert_eq!(
            old.events().unwrap().len(),
            ids.len(),
            "the first-wave device gets every event of {id}"
        );
    }
    // Every event the next release wrote is on the server; the key is on every copy.
    let all_server_events: BTreeSet<String> = server
        .values()
        .flat_map(|(_, d)| d.events().unwrap().into_iter().map(|e| e.id))
        .collect();
    for e in &next_events {
        assert!(
            all_server_events.contains(e),
            "event {e} reached the server"
        );
    }
    for id in [&a, &b] {
        assert!(server[id].1.root_keys().contains(&NEXT_KEY.to_string()));
        for d in f.devices.values() {
            let doc =
                CaseDoc::load(&d.export_case(id).unwrap(), &automerge::ActorId::random()).unwrap();
            assert!(doc.root_keys().contains(&NEXT_KEY.to_string()));
        }
    }
    // The unknown events count nowhere: the first-wave case waits on gw1, who accepted it.
    let view = f.dev("cc1").case(&c).unwrap();
    assert_eq!(view.state.status.as_str(), "in_progress");

    // Today's release pushing the unknown action is tampering, and so is the first-wave one.
    f.dev("cc1")
        .append_raw_action_for_tests(&a, NEXT_ACTION)
        .unwrap();
    match f.dev("cc1").sync_now(&|_| {}) {
        Err(Error::Rejected {
            status,
            code,
            message,
            ..
        }) => {
            assert_eq!((status, code.as_str()), (403, "tampering"), "{message}");
            assert!(message.contains("unknown action"), "{message}");
        }
        other => panic!("expected a tampering refusal, got {other:?}"),
    }
    let saved = legacy.get_mut(&c).expect("held").save();
    let mut legacy_doc = CaseDoc::load(&saved, &automerge::ActorId::random()).unwrap();
    let heads = legacy_doc.heads();
    legacy_doc
        .append_event(&Event::new(
            1_795_939_300_000,
            Claim {
                person: "inf1".into(),
                role: Role::GridInformant,
                scope: Scope::Grid("g1".into()),
            },
            serde_json::from_str(NEXT_ACTION).unwrap(),
        ))
        .unwrap();
    let (status, body) = legacy_sync(
        &f,
        vec![PushedChange {
            seq: 2,
            case_id: uuid::Uuid::parse_str(&c).unwrap(),
            bytes: legacy_doc.save_after(&heads),
        }],
        u64::MAX >> 1,
    );
    let (code, error) = refusal(&String::from_utf8_lossy(&body));
    assert_eq!((status, code.as_str()), (403, "tampering"), "{error}");
}

#[test]
fn a_mixed_fleet_keeps_everything_on_sqlite() {
    mixed_fleet(None);
}

#[test]
fn a_mixed_fleet_keeps_everything_on_postgres() {
    let schema = "mixed_versions";
    mixed_fleet(Some(schema));
    drop_schema(&pg_url(), schema);
}
