//! Shared test documents: a grid worker's claim on g1 and a fresh case raised under it, for
//! the model's tests and (through the `test-hooks` feature) the device's.

use crate::org::sample;

/// A grid worker's claim on g1 for `person`.
pub fn g1_claim(person: &str) -> crate::case::Claim {
    crate::case::Claim {
        person: person.into(),
        role: crate::org::Role::GridWorker,
        scope: crate::org::Scope::Grid("g1".into()),
    }
}

/// The facts of gw1's litter report `id` in g1, raised at 1 ms, with no recorded `clock` or
/// `deadline`.
pub fn g1_facts(id: &str) -> crate::case::Facts {
    use crate::case::{CaseKind, Facts};
    Facts {
        id: id.into(),
        kind: CaseKind::Problem,
        category: sample::LITTER.into(),
        category_name: "垃圾满溢".into(),
        limit_hours: 4,
        clock: None,
        deadline: None,
        reporter: "gw1".into(),
        created_at: 1,
        location: sample::IN_G1,
        grid: "g1".into(),
        community: "c1".into(),
        segment: None,
        description: "d".into(),
    }
}

/// The first event of a g1 case: gw1 reports it at 1 ms, assigned to gw1.
pub fn g1_reported() -> crate::case::Event {
    use crate::case::{Action, Assignee, Event};
    Event::new(
        1,
        g1_claim("gw1"),
        Action::Reported {
            assignee: Assignee::Person("gw1".into()),
        },
    )
}

/// Case `c1`: gw1's litter report in g1 (recorded `clock` and `deadline` as given), with its
/// first event, as a fresh document.
pub fn g1_case(
    clock: Option<crate::org::LimitClock>,
    deadline: Option<i64>,
) -> crate::case::CaseDoc {
    let facts = crate::case::Facts {
        clock,
        deadline,
        ..g1_facts("c1")
    };
    crate::case::CaseDoc::create(&automerge::ActorId::random(), &facts, &g1_reported()).unwrap()
}

/// Patrol `id`: gw1 walking grid g1 of community c1, started at `started_at`.
pub fn g1_patrol_facts(id: &str, started_at: i64) -> crate::patrol::PatrolFacts {
    crate::patrol::PatrolFacts {
        id: id.into(),
        walker: g1_claim("gw1"),
        place: crate::patrol::PatrolPlace::Grid("g1".into()),
        community: "c1".into(),
        started_at,
    }
}

pub mod street_year;
