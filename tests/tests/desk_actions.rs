//! Desk actions go through the same rules and push judgement as a phone's: a dispatch made
//! at the desk by the centre reaches the department's phone, is authored as the centre staff
//! member, and is refused for someone the rules do not allow, with nothing stored.

use xiangying_core::case::{Action, Author, Status};
use xiangying_server::desk::actions::{DeskAction, act, allowed, load_case};
use xiangying_server::desk::error::DeskError;
use xiangying_server::storage::with_tx;
use xiangying_tests::desk::{desk_user, escalated_case};
use xiangying_tests::{Field, sample_org, server_counts};

#[test]
fn a_desk_dispatch_reaches_the_departments_phone_authored_as_the_centre() {
    let mut f = Field::new(sample_org());
    let id = escalated_case(&mut f);
    let state = f.state();
    let center = desk_user(&f, "center");

    let after = act(
        &state,
        &center,
        &id,
        &DeskAction::Dispatch {
            departments: vec!["police".into()],
            note: "请派出所处理".into(),
        },
        xiangying_server::desk::now_ms(),
    )
    .unwrap();
    assert_eq!(after.status, Status::Dispatched);

    // The department's phone receives the event and holds the case.
    f.dev("police1").sync_now(&|_| {}).unwrap();
    let v = f.dev("police1").case(&id).unwrap();
    assert_eq!(v.state.status, Status::Dispatched);
    let last = v.state.history.last().unwrap();
    assert!(matches!(last.event.action, Action::Dispatched { .. }));
    match &last.event.by {
        Author::Person(c) => assert_eq!(c.person, "center"),
        other => panic!("authored by {other:?}"),
    }
    assert!(
        f.dev("police1")
            .inbox(10)
            .unwrap()
            .iter()
            .any(|c| c.id == id)
    );
    // The reporter's phone converges on the same document as the server.
    f.settle();
    assert_eq!(
        f.dev("gw1").case(&id).unwrap().state.status,
        Status::Dispatched
    );
}

#[test]
fn the_rules_refuse_a_desk_action_and_nothing_is_stored() {
    let mut f = Field::new(sample_org());
    let id = escalated_case(&mut f);
    let state = f.state();
    let before = server_counts(&f);
    // A community chief cannot dispatch, nor close an unverified case.
    let cc1 = desk_user(&f, "cc1");
    let err = act(
        &state,
        &cc1,
        &id,
        &DeskAction::Dispatch {
            departments: vec!["police".into()],
            note: String::new(),
        },
        xiangying_server::desk::now_ms(),
    )
    .unwrap_err();
    assert!(matches!(err, DeskError::Forbidden(_)), "{err:?}");
    assert!(err.to_string().contains("dispatch_only_centre"), "{err}");
    let err = act(
        &state,
        &cc1,
        &id,
        &DeskAction::Close {
            note: String::new(),
        },
        xiangying_server::desk::now_ms(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("wrong_status"), "{err}");
    // An unknown department is named.
    let center = desk_user(&f, "center");
    let err = act(
        &state,
        &center,
        &id,
        &DeskAction::Dispatch {
            departments: vec!["nowhere".into()],
            note: String::new(),
        },
        xiangying_server::desk::now_ms(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
    assert_eq!(
        server_counts(&f),
        before,
        "a refused action stored something"
    );
}

#[test]
fn a_case_outside_the_persons_scope_is_not_found_and_actions_follow_the_rules() {
    let mut f = Field::new(sample_org());
    let id = escalated_case(&mut f);
    let state = f.state();
    // Before dispatch the police department may not see the case at all.
    let police = desk_user(&f, "police1");
    let err = act(
        &state,
        &police,
        &id,
        &DeskAction::Note {
            text: "看看".into(),
        },
        xiangying_server::desk::now_ms(),
    )
    .unwrap_err();
    assert!(matches!(err, DeskError::NotFound(_)), "{err:?}");
    // The centre may dispatch, extend, void and comment on the escalated case; not close it.
    let center = desk_user(&f, "center");
    let row = with_tx(state.storage.as_ref(), |tx| tx.case(&id.as_str().into()))
        .unwrap()
        .unwrap();
    let case = load_case(&row.snapshot, &automerge::ActorId::random(), &id).unwrap();
    let keys = allowed(
        &center.roster,
        &case,
        &center.claim,
        xiangying_server::desk::now_ms(),
    );
    for k in ["dispatch", "extend", "void", "note"] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    assert!(!keys.contains(&"close"), "{keys:?}");
}
