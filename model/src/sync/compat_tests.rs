//! Mixed layouts against the judges: what a device of a newer layout may add (and only it),
//! what a re-delivery may add, and that documents read and fold whatever layout wrote them.

use crate::case::{Action, CaseDoc, Event, Outcome, fold};
use crate::document::Document;
use crate::patrol::{PatrolAction, PatrolDoc, PatrolEvent, PatrolFacts, PatrolPlace};
use crate::sync::judge::{Judging, Tamper, judge};
use crate::sync::patrol_judge::judge_patrol;
use crate::sync::version::LAYOUT;
use crate::testkit::{g1_case, g1_claim};
use automerge::{ActorId, ROOT, ScalarValue, transaction::Transactable};

const NEXT_ACTION: &str = r#"{ "type":"inspected_by_drone", "drone":"d-7","path":[1,2] }"#;

fn fork(doc: &mut CaseDoc) -> CaseDoc {
    CaseDoc::load(&doc.save(), &ActorId::random()).unwrap()
}

fn unknown_event(person: &str) -> Event {
    let action: Action = serde_json::from_str(NEXT_ACTION).unwrap();
    Event::new(5, g1_claim(person), action)
}

fn newer(pusher: &str) -> Judging<'_> {
    Judging {
        newer: true,
        ..Judging::device(pusher)
    }
}

fn redelivery(pusher: &str) -> Judging<'_> {
    Judging {
        redelivery: true,
        ..Judging::device(pusher)
    }
}

#[test]
fn an_unknown_action_reads_as_unknown_and_writes_back_the_same_json() {
    let action: Action = serde_json::from_str(NEXT_ACTION).unwrap();
    assert_eq!(
        action,
        Action::Unknown {
            type_name: "inspected_by_drone".into(),
            raw: NEXT_ACTION.into()
        }
    );
    assert_eq!(action.name(), "unknown");
    assert_eq!(serde_json::to_string(&action).unwrap(), NEXT_ACTION);
    let event = unknown_event("gw1");
    let text = serde_json::to_string(&event).unwrap();
    assert!(text.contains(NEXT_ACTION), "{text}");
    assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), event);

    // A known type with a bad payload stays an error, and so does an action without a type.
    for bad in [
        r#"{"type":"forwarded","to":7}"#,
        r#"{"type":"note"}"#,
        r#"{"type":"accepted"} x"#,
        r#"{"to":"gw2"}"#,
        r#"{"type":""}"#,
        r#"["forwarded"]"#,
    ] {
        assert!(serde_json::from_str::<Action>(bad).is_err(), "{bad}");
    }
    // Known actions are unchanged by the tolerant reader.
    let known = Action::Forwarded {
        to: "gw2".into(),
        note: "n".into(),
    };
    let text = serde_json::to_string(&known).unwrap();
    assert_eq!(text, r#"{"type":"forwarded","to":"gw2","note":"n"}"#);
    assert_eq!(serde_json::from_str::<Action>(&text).unwrap(), known);
}

#[test]
fn every_known_action_type_is_listed() {
    use crate::case::{ACTION_TYPES, Assignee};
    use crate::org::Level;
    let all = [
        Action::Reported {
            assignee: Assignee::Center,
        },
        Action::HandledOnSpot {
            note: String::new(),
            photos: vec![],
        },
        Action::Forwarded {
            to: String::new(),
            note: String::new(),
        },
        Action::Accepted,
        Action::Escalated {
            to_level: Level::Community,
            to: Assignee::Center,
            reason: String::new(),
        },
        Action::Dispatched {
            departments: vec![],
            note: String::new(),
        },
        Action::DispatchedToVolunteers {
            note: String::new(),
        },
        Action::Claimed,
        Action::Note {
            text: String::new(),
        },
        Action::Resolved {
            note: String::new(),
            photos: vec![],
        },
        Action::Verified {
            note: String::new(),
        },
        Action::Reworked {
            reason: String::new(),
        },
        Action::Extended {
            hours: 1,
            reason: String::new(),
            until: None,
        },
        Action::Closed {
            note: String::new(),
        },
        Action::Voided {
            reason: String::new(),
        },
        Action::MarkedDuplicate { of: String::new() },
        Action::ServerVoid {
            event: String::new(),
            reason: String::new(),
        },
    ];
    assert_eq!(all.len(), ACTION_TYPES.len());
    for a in all {
        let v: serde_json::Value = serde_json::to_value(&a).unwrap();
        let t = v["type"].as_str().unwrap().to_string();
        assert!(ACTION_TYPES.contains(&t.as_str()), "{t}");
        let back: Action = serde_json::from_value(v)
            .unwrap_or_else(|_| serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap());
        assert_eq!(back, a);
    }
}

#[test]
fn the_fold_shows_an_unknown_event_and_counts_it_nowhere() {
    let mut doc = g1_case(None, None);
    let facts = doc.facts().unwrap();
    let before = fold(&facts, &doc.events().unwrap());
    doc.append_event(&unknown_event("gw1")).unwrap();
    let reread = CaseDoc::load(&doc.save(), &ActorId::random()).unwrap();
    let events = reread.events().unwrap();
    let after = fold(&facts, &events);
    assert_eq!(after.history.len(), 2);
    assert_eq!(after.history[1].outcome, Outcome::NotUnderstood);
    assert_eq!(after.history[1].event.at, 5);
    assert_eq!(after.history[1].event.by.person(), Some("gw1"));
    let mut without_history = after.clone();
    without_history.history.truncate(1);
    assert_eq!(
        without_history, before,
        "status, deadline, updated_at untouched"
    );
}

#[test]
fn new_documents_record_their_layout_and_old_ones_read_as_layout_1() {
    let mut doc = g1_case(None, None);
    assert_eq!(doc.layout().unwrap(), u64::from(LAYOUT));
    assert!(doc.root_keys().contains(&"layout".to_string()));
    let (raw, _) = doc.raw_mut();
    raw.delete(ROOT, "layout").unwrap();
    raw.commit();
    assert_eq!(doc.layout().unwrap(), 1);
    let (raw, _) = doc.raw_mut();
    raw.put(ROOT, "layout", "two").unwrap();
    raw.commit();
    assert!(doc.layout().is_err());
}

#[test]
fn a_newer_device_adds_unknown_actions_and_scalar_keys_and_nobody_else_does() {
    let mut server = g1_case(None, None);
    let mut device = fork(&mut server);
    device.append_event(&unknown_event("gw1")).unwrap();
    device
        .put_root_scalar("drone_route", ScalarValue::Str("r-9".into()))
        .unwrap();
    assert!(matches!(
        judge(Some(&mut server), &mut fork(&mut device), &Judging::device("gw1")),
        Err(Tamper::UnknownKey(k)) if k == "drone_route"
    ));
    let mut only_action = fork(&mut server);
    only_action.append_event(&unknown_event("gw1")).unwrap();
    assert!(matches!(
        judge(Some(&mut server), &mut only_action, &Judging::device("gw1")),
        Err(Tamper::UnknownAction { type_name, .. }) if type_name == "inspected_by_drone"
    ));
    let added = judge(Some(&mut server), &mut device, &newer("gw1")).unwrap();
    assert_eq!(added.events.len(), 1);

    // Still signed by the pusher, still appended.
    let mut forged = fork(&mut server);
    forged.append_event(&unknown_event("gw2")).unwrap();
    assert!(matches!(
        judge(Some(&mut server), &mut forged, &newer("gw1")),
        Err(Tamper::Forged { .. })
    ));
    // Never a known key, never an object.
    let mut known = fork(&mut server);
    known
        .put_root_scalar("grid", ScalarValue::Str("g2".into()))
        .unwrap();
    assert_eq!(
        judge(Some(&mut server), &mut known, &newer("gw1")),
        Err(Tamper::FactChanged("grid"))
    );
    let mut number = fork(&mut server);
    number.set_number("ZX-1").unwrap();
    assert_eq!(
        judge(Some(&mut server), &mut number, &newer("gw1")),
        Err(Tamper::FactChanged("number"))
    );
    let mut object = fork(&mut server);
    let (raw, _) = object.raw_mut();
    raw.put_object(ROOT, "drone_map", automerge::ObjType::Map)
        .unwrap();
    raw.commit();
    assert_eq!(
        judge(Some(&mut server), &mut object, &newer("gw1")),
        Err(Tamper::UnknownObject("drone_map".into()))
    );
    let mut fresh = g1_case(None, None);
    let (raw, _) = fresh.raw_mut();
    raw.put_object(ROOT, "drone_map", automerge::ObjType::List)
        .unwrap();
    raw.commit();
    assert_eq!(
        judge(None, &mut fresh, &newer("gw1")),
        Err(Tamper::UnknownObject("drone_map".into()))
    );

    // Once the server holds the key, a device of today's layout appends as usual, and a
    // newer device may put the key again.
    let mut today = fork(&mut device);
    today
        .append_event(&Event::new(6, g1_claim("gw1"), Action::Accepted))
        .unwrap();
    judge(Some(&mut device), &mut today, &Judging::device("gw1")).unwrap();
    let mut again = fork(&mut device);
    again
        .put_root_scalar("drone_route", ScalarValue::Str("r-10".into()))
        .unwrap();
    assert!(judge(Some(&mut device), &mut again, &Judging::device("gw1")).is_err());
    judge(Some(&mut device), &mut again, &newer("gw1")).unwrap();
}

#[test]
fn the_layout_is_a_fact_and_a_newer_one_needs_a_newer_protocol() {
    let mut server = g1_case(None, None);
    let mut changed = fork(&mut server);
    changed
        .put_root_scalar("layout", ScalarValue::Uint(3))
        .unwrap();
    assert_eq!(
        judge(Some(&mut server), &mut changed, &newer("gw1")),
        Err(Tamper::FactChanged("layout"))
    );
    let mut next = g1_case(None, None);
    next.put_root_scalar("layout", ScalarValue::Uint(3))
        .unwrap();
    assert_eq!(
        judge(None, &mut fork(&mut next), &Judging::device("gw1")),
        Err(Tamper::NewerLayout(3))
    );
    judge(None, &mut next, &newer("gw1")).unwrap();
    let mut odd = g1_case(None, None);
    odd.put_root_scalar("layout", ScalarValue::Str("x".into()))
        .unwrap();
    assert!(matches!(
        judge(None, &mut odd, &newer("gw1")),
        Err(Tamper::Malformed(_))
    ));
}

#[test]
fn a_redelivery_brings_other_persons_events_but_still_only_appends() {
    let mut server = g1_case(None, None);
    let mut device = fork(&mut server);
    device
        .append_event(&Event::new(3, g1_claim("gw2"), Action::Accepted))
        .unwrap();
    device.append_event(&unknown_event("gw3")).unwrap();
    assert!(
        judge(
            Some(&mut server),
            &mut fork(&mut device),
            &Judging::device("gw9")
        )
        .is_err()
    );
    let added = judge(
        Some(&mut server),
        &mut fork(&mut device),
        &redelivery("gw9"),
    )
    .unwrap();
    assert_eq!(added.events.len(), 2);
    // A whole case the server lost, numbered by it and raised by somebody else.
    let mut lost = fork(&mut device);
    lost.set_number("ZX-1").unwrap();
    judge(None, &mut fork(&mut lost), &redelivery("gw9")).unwrap();
    assert!(judge(None, &mut lost, &Judging::device("gw9")).is_err());
    // Ids stay unique and edits stay refused.
    let mut repeated = fork(&mut server);
    let first = server.events().unwrap()[0].clone();
    repeated.append_event(&first).unwrap();
    assert!(matches!(
        judge(Some(&mut server), &mut repeated, &redelivery("gw9")),
        Err(Tamper::DuplicateEvent(_))
    ));
    let mut edited = fork(&mut server);
    let (raw, events) = edited.raw_mut();
    let events = events.clone();
    raw.delete(&events, 0).unwrap();
    raw.commit();
    assert!(matches!(
        judge(Some(&mut server), &mut edited, &redelivery("gw9")),
        Err(Tamper::NotAnAppend(_))
    ));
}

fn patrol() -> PatrolDoc {
    let facts = PatrolFacts {
        id: "p1".into(),
        walker: g1_claim("gw1"),
        place: PatrolPlace::Grid("g1".into()),
        community: "c1".into(),
        started_at: 1,
    };
    PatrolDoc::create(&ActorId::random(), &facts).unwrap()
}

#[test]
fn patrols_keep_unknown_entries_and_judge_them_like_cases() {
    let raw_entry = r#"{"type":"weather","sky":"rain"}"#;
    let action: PatrolAction = serde_json::from_str(raw_entry).unwrap();
    assert!(matches!(&action, PatrolAction::Unknown { type_name, .. } if type_name == "weather"));
    assert_eq!(serde_json::to_string(&action).unwrap(), raw_entry);
    assert!(serde_json::from_str::<PatrolAction>(r#"{"type":"confirmed"}"#).is_err());

    let mut server = patrol();
    assert_eq!(server.layout().unwrap(), u64::from(LAYOUT));
    let mut device = PatrolDoc::load(&server.save(), &ActorId::random()).unwrap();
    device
        .append_event(&PatrolEvent::new(2, g1_claim("gw1"), action))
        .unwrap();
    device
        .put_root_scalar("weather_station", ScalarValue::Int(7))
        .unwrap();
    let mut copy = PatrolDoc::load(&device.save(), &ActorId::random()).unwrap();
    assert!(judge_patrol(Some(&mut server), &mut copy, &Judging::device("gw1")).is_err());
    let added = judge_patrol(Some(&mut server), &mut device, &newer("gw1")).unwrap();
    assert_eq!(added.events.len(), 1);
    let (_, state) = crate::patrol::fold_patrol_doc(&device).unwrap();
    assert_eq!(state.history[0].1, Outcome::NotUnderstood);
    assert_eq!(state.ended_at, None);
}
