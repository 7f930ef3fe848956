//! What the desk's suites share: a report in grid g1 of the sample street, a case escalated to
//! the street centre, and the signed-in person as the desk's sign-in makes them.

use crate::Field;
use std::sync::Arc;
use xiangying_core::NewReport;
use xiangying_core::org::sample;
use xiangying_server::desk::session::DeskUser;
use xiangying_server::storage::with_tx;

/// A manhole report in grid g1 of the sample street, with `description`.
pub fn report(description: &str) -> NewReport {
    NewReport {
        category: sample::MANHOLE.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: description.into(),
    }
}

/// Enrols gw1, cc1, police1 and the centre; gw1 reports a case that gw1 and then cc1 escalate
/// to the street centre; everyone synced. Returns the case id.
pub fn escalated_case(f: &mut Field) -> String {
    for p in ["gw1", "cc1", "police1", "center"] {
        f.enrol(p);
    }
    let id = f
        .dev("gw1")
        .report(&report("井盖缺失，需要执法"))
        .expect("report");
    f.dev("gw1")
        .escalate(&id, "需要社区协调")
        .expect("escalate");
    f.settle();
    f.dev("cc1").accept(&id).expect("accept");
    f.dev("cc1").escalate(&id, "需要执法").expect("escalate");
    f.settle();
    id
}

/// `person` at the desk, as the sign-in makes them (claim and name from the roster).
pub fn desk_user(f: &Field, person: &str) -> DeskUser {
    let state = f.state();
    let roster = with_tx(state.storage.as_ref(), |tx| state.roster(tx)).expect("roster");
    let claim = xiangying_server::sync::claim_of(&roster, person).expect("claim");
    DeskUser {
        person: person.into(),
        name: roster.person(person).expect("person").name.clone(),
        claim,
        csrf: "test".into(),
        roster: Arc::clone(&roster),
    }
}
