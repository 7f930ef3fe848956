//! A device of this build holding documents a newer layout wrote: the store keeps and indexes
//! them, the case reads with its unknown events shown and counted nowhere, the unknown root
//! key survives every write this device makes, and the device keeps acting on the case.

use crate::NewReport;
use crate::case::{Action, Outcome};
use crate::document::Document;
use crate::org::sample;
use crate::testkit::World;
use automerge::ScalarValue;

#[test]
fn a_device_keeps_indexes_and_acts_on_a_newer_layouts_case() {
    let w = World::new(&["gw1", "cc1"]);
    let gw1 = w.dev("gw1");
    let id = gw1
        .report(&NewReport {
            category: sample::LITTER.into(),
            location: sample::IN_G1,
            grid: None,
            segment: None,
            description: "垃圾满溢".into(),
        })
        .unwrap();
    gw1.escalate(&id, "需要社区协调").unwrap();
    w.sync_all();
    let cc1 = w.dev("cc1");
    let inbox_before: Vec<String> = cc1.inbox(50).unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(inbox_before, vec![id.clone()]);
    let state_before = cc1.case(&id).unwrap().state;

    // gw1's phone runs the next release: an unknown action and an unknown root key.
    let unknown = gw1
        .append_raw_action_for_tests(&id, r#"{"type":"drone_check","ok":true}"#)
        .unwrap();
    gw1.put_root_key_for_tests(&id, "drone_route", ScalarValue::Str("r-1".into()))
        .unwrap();
    w.sync_all();

    let view = cc1.case(&id).unwrap();
    let shown = view
        .state
        .history
        .iter()
        .find(|h| h.event.id == unknown)
        .expect("the unknown event is shown");
    assert!(
        matches!(&shown.event.action, Action::Unknown { type_name, .. } if type_name == "drone_check")
    );
    assert_eq!(shown.outcome, Outcome::NotUnderstood);
    let mut counted = view.state.clone();
    counted.history.retain(|h| h.event.id != unknown);
    assert_eq!(counted, state_before, "counted nowhere");
    let inbox: Vec<String> = cc1.inbox(50).unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(inbox, inbox_before, "the index is unchanged");

    // cc1 acts on the case; the key and the unknown event stay, byte for byte.
    cc1.accept(&id).unwrap();
    w.sync_all();
    let copies = [
        gw1.canonical_case(&id).unwrap(),
        cc1.canonical_case(&id).unwrap(),
    ];
    assert_eq!(copies[0], copies[1]);
    let doc = crate::case::CaseDoc::load(
        &cc1.export_case(&id).unwrap(),
        &automerge::ActorId::random(),
    )
    .unwrap();
    assert!(doc.root_keys().contains(&"drone_route".to_string()));
    assert_eq!(
        cc1.case(&id).unwrap().state.status,
        crate::case::Status::InProgress
    );
}
