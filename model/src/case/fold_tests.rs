//! Every role against every action, on cases in the states the flows pass through. Each table
//! row lists exactly who may act; everybody else must be refused with a reason.

use crate::case::{
    Action, Assignee, Author, CaseKind, Claim, Event, Facts, Outcome, Status, check, fold,
};
use crate::denied::Denied;
use crate::org::{Level, sample};

const T0: i64 = 1_795_939_200_000;

fn claim(person: &str) -> Claim {
    let r = sample::roster().unwrap();
    let p = r.person(person).unwrap();
    Claim {
        person: p.id.clone(),
        role: p.role,
        scope: p.scope.clone(),
    }
}

fn everyone() -> Vec<String> {
    sample::roster()
        .unwrap()
        .people
        .iter()
        .map(|p| p.id.clone())
        .collect()
}

fn facts(reporter: &str) -> Facts {
    Facts {
        id: "case-1".into(),
        kind: CaseKind::Problem,
        category: sample::MANHOLE.into(),
        category_name: "井盖破损".into(),
        limit_hours: 24,
        clock: None,
        deadline: None,
        reporter: reporter.into(),
        created_at: T0,
        location: sample::IN_G1,
        grid: "g1".into(),
        community: "c1".into(),
        segment: Some("s1".into()),
        description: "井盖缺失".into(),
    }
}

fn ev(person: &str, action: Action) -> Event {
    Event::new(T0 + 1000, claim(person), action)
}

fn all_actions() -> Vec<Action> {
    vec![
        Action::HandledOnSpot {
            note: "done".into(),
            photos: vec!["ab".into()],
        },
        Action::Forwarded {
            to: "gw2".into(),
            note: String::new(),
        },
        Action::Accepted,
        Action::Escalated {
            to_level: Level::Community,
            to: Assignee::Person("cc1".into()),
            reason: "r".into(),
        },
        Action::Escalated {
            to_level: Level::Street,
            to: Assignee::Center,
            reason: "r".into(),
        },
        Action::Dispatched {
            departments: vec!["police".into()],
            note: String::new(),
        },
        Action::DispatchedToVolunteers {
            note: String::new(),
        },
        Action::Claimed,
        Action::Note { text: "n".into() },
        Action::Resolved {
            note: "done".into(),
            photos: vec![],
        },
        Action::Verified {
            note: String::new(),
        },
        Action::Reworked { reason: "r".into() },
        Action::Extended {
            hours: 24,
            reason: "r".into(),
            until: None,
        },
        Action::Closed {
            note: String::new(),
        },
        Action::Voided { reason: "r".into() },
        Action::MarkedDuplicate {
            of: "case-2".into(),
        },
    ]
}

/// Asserts, for every action, that exactly the listed people may take it.
fn assert_table(f: &Facts, history: &[Event], table: &[(&str, &[&str])]) {
    let state = fold(f, history);
    for e in history {
        let h = state.history.iter().find(|h| h.event.id == e.id).unwrap();
        assert_eq!(h.outcome, Outcome::Applied, "setup event {:?}", e.action);
    }
    for action in all_actions() {
        let key = match &action {
            Action::Escalated { to_level, .. } => format!("escalate to {}", to_level.as_str()),
            a => a.name().to_string(),
        };
        let allowed: &[&str] = table
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .unwrap_or(&[]);
        for p in everyone() {
            let got = check(f, &state, &ev(&p, action.clone()));
            let want = allowed.contains(&p.as_str());
            assert_eq!(
                got.is_ok(),
                want,
                "{p} {key} in status {}: {got:?}",
                state.status.as_str()
            );
            if let Err(reason) = got {
                assert!(!reason.to_string().is_empty());
            }
        }
    }
}

const NOTE_G1: &[&str] = &[
    "center", "cc1", "gw1", "inf1", "psc1", "msc1", "official", "vol1", "vol2", "res1",
];

fn reported_by_street_chief() -> Vec<Event> {
    vec![ev(
        "psc1",
        Action::Reported {
            assignee: Assignee::Person("psc1".into()),
        },
    )]
}

fn accepted_by_grid_worker() -> Vec<Event> {
    let mut h = reported_by_street_chief();
    h.push(ev(
        "psc1",
        Action::Forwarded {
            to: "gw1".into(),
            note: String::new(),
        },
    ));
    h.push(ev("gw1", Action::Accepted));
    h
}

#[test]
fn a_street_chiefs_fresh_report() {
    assert_table(
        &facts("psc1"),
        &reported_by_street_chief(),
        &[
            ("handle on the spot", &["psc1"]),
            ("forward", &["psc1"]),
            ("resolve", &["psc1"]),
            ("extend", &["center", "cc1"]),
            ("void", &["center", "cc1", "psc1"]),
            ("mark duplicate", &["center", "cc1", "gw1"]),
            ("note", NOTE_G1),
        ],
    );
}

#[test]
fn a_case_the_grid_worker_accepted() {
    assert_table(
        &facts("psc1"),
        &accepted_by_grid_worker(),
        &[
            ("handle on the spot", &["gw1"]),
            ("forward", &["gw1"]),
            ("escalate to community", &["gw1"]),
            ("resolve", &["gw1"]),
            ("extend", &["center", "cc1"]),
            ("void", &["center", "cc1"]),
            ("mark duplicate", &["center", "cc1", "gw1"]),
            ("note", NOTE_G1),
        ],
    );
}

#[test]
fn a_case_escalated_to_the_centre() {
    let mut h = accepted_by_grid_worker();
    h.push(ev(
        "gw1",
        Action::Escalated {
            to_level: Level::Community,
            to: Assignee::Person("cc1".into()),
            reason: "r".into(),
        },
    ));
    h.push(ev("cc1", Action::Accepted));
    h.push(ev(
        "cc1",
        Action::Escalated {
            to_level: Level::Street,
            to: Assignee::Center,
            reason: "r".into(),
        },
    ));
    assert_table(
        &facts("psc1"),
        &h,
        &[
            ("accept", &["center"]),
            ("dispatch", &["center"]),
            ("resolve", &["center"]),
            ("extend", &["center", "cc1"]),
            ("void", &["center"]),
            ("mark duplicate", &["center", "cc1", "gw1"]),
            ("note", NOTE_G1),
        ],
    );
}

#[test]
fn a_resolved_case_waits_for_the_reporters_side() {
    let mut h = accepted_by_grid_worker();
    h.push(ev(
        "gw1",
        Action::Resolved {
            note: "done".into(),
            photos: vec![],
        },
    ));
    let verifiers: &[&str] = &["center", "cc1", "psc1"];
    assert_table(
        &facts("psc1"),
        &h,
        &[
            ("verify", verifiers),
            ("rework", verifiers),
            ("extend", &["center", "cc1"]),
            ("void", &["center", "cc1"]),
            ("mark duplicate", &["center", "cc1", "gw1"]),
            ("note", NOTE_G1),
        ],
    );
}

#[test]
fn a_closed_case_takes_only_notes() {
    let mut h = accepted_by_grid_worker();
    h.push(ev(
        "gw1",
        Action::HandledOnSpot {
            note: "done".into(),
            photos: vec!["ab".into()],
        },
    ));
    assert_table(&facts("psc1"), &h, &[("note", NOTE_G1)]);
}

#[test]
fn two_claims_first_in_document_order_wins() {
    let f = Facts {
        kind: CaseKind::Request,
        category: sample::HELP.into(),
        segment: None,
        ..facts("res1")
    };
    let h = vec![
        ev(
            "res1",
            Action::Reported {
                assignee: Assignee::Person("cc1".into()),
            },
        ),
        ev(
            "cc1",
            Action::DispatchedToVolunteers {
                note: String::new(),
            },
        ),
        ev("vol2", Action::Claimed),
        ev("vol1", Action::Claimed),
    ];
    let s = fold(&f, &h);
    assert_eq!(s.claimed_by.as_deref(), Some("vol2"));
    assert_eq!(
        s.history[3].outcome,
        Outcome::Rejected(Denied::AlreadyTaken { by: "vol2".into() })
    );
}

#[test]
fn a_server_void_removes_an_event_and_the_fold_carries_on() {
    let mut h = accepted_by_grid_worker();
    let escalate = ev(
        "gw1",
        Action::Escalated {
            to_level: Level::Community,
            to: Assignee::Person("cc1".into()),
            reason: "r".into(),
        },
    );
    let id = escalate.id.clone();
    h.push(escalate);
    h.push(Event {
        id: "void-1".into(),
        at: T0 + 5000,
        by: Author::Server {
            instance: "s1".into(),
        },
        action: Action::ServerVoid {
            event: id,
            reason: "gw1 was moved to g2 before this escalation".into(),
        },
    });
    let s = fold(&facts("psc1"), &h);
    assert_eq!((s.status, s.level), (Status::InProgress, Level::Grid));
    assert!(matches!(s.history[3].outcome, Outcome::VoidedByServer(_)));
    assert_eq!(s.history[4].outcome, Outcome::Applied);
}

#[test]
fn a_forged_server_void_by_a_person_is_rejected() {
    let mut h = reported_by_street_chief();
    let first = h[0].id.clone();
    h.push(ev(
        "center",
        Action::ServerVoid {
            event: first,
            reason: "x".into(),
        },
    ));
    let s = fold(&facts("psc1"), &h);
    assert_eq!(s.history[0].outcome, Outcome::Applied);
    assert!(matches!(s.history[1].outcome, Outcome::Rejected(_)));
}

#[test]
fn a_report_by_someone_else_than_the_reporter_is_rejected() {
    let h = vec![ev(
        "gw1",
        Action::Reported {
            assignee: Assignee::Person("gw1".into()),
        },
    )];
    let s = fold(&facts("psc1"), &h);
    assert!(
        matches!(&s.history[0].outcome, Outcome::Rejected(r) if r.to_string().contains("reporter"))
    );
}

// ---- deadlines ----------------------------------------------------------------------------

const H: i64 = 3_600_000;

fn extended(by: &str, hours: u32, until: Option<i64>) -> Event {
    ev(
        by,
        Action::Extended {
            hours,
            reason: "等待配件".into(),
            until,
        },
    )
}

fn reported(by: &str) -> Event {
    ev(
        by,
        Action::Reported {
            assignee: Assignee::Person(by.into()),
        },
    )
}

#[test]
fn the_recorded_deadline_and_extensions_are_folded_as_recorded() {
    let f = Facts {
        clock: Some(crate::org::LimitClock::Working),
        deadline: Some(T0 + 50 * H),
        ..facts("gw1")
    };
    assert_eq!(fold(&f, &[reported("gw1")]).deadline, T0 + 50 * H);
    let s = fold(
        &f,
        &[reported("gw1"), extended("cc1", 8, Some(T0 + 80 * H))],
    );
    assert_eq!((s.deadline, s.extensions), (T0 + 80 * H, 1));
    // A second extension made offline from the same deadline gives less time: it loses.
    let s = fold(
        &f,
        &[
            reported("gw1"),
            extended("cc1", 8, Some(T0 + 80 * H)),
            extended("center", 2, Some(T0 + 60 * H)),
        ],
    );
    assert_eq!((s.deadline, s.extensions), (T0 + 80 * H, 1));
    assert_eq!(
        s.history[2].outcome,
        Outcome::Rejected(Denied::DeadlineAlreadyLater)
    );
    // The other order: both apply.
    let s = fold(
        &f,
        &[
            reported("gw1"),
            extended("center", 2, Some(T0 + 60 * H)),
            extended("cc1", 8, Some(T0 + 80 * H)),
        ],
    );
    assert_eq!((s.deadline, s.extensions), (T0 + 80 * H, 2));
    // Only supervisors extend, recorded deadline or not.
    let s = fold(
        &f,
        &[reported("gw1"), extended("gw1", 8, Some(T0 + 90 * H))],
    );
    assert_eq!(s.deadline, T0 + 50 * H);
}

#[test]
fn a_document_from_before_recorded_deadlines_folds_as_before() {
    // No recorded deadline or clock: report time + limit + extension hours, natural hours.
    let f = facts("gw1");
    assert_eq!((f.clock, f.deadline), (None, None));
    assert_eq!(fold(&f, &[reported("gw1")]).deadline, T0 + 24 * H);
    let s = fold(
        &f,
        &[
            reported("gw1"),
            extended("cc1", 24, None),
            extended("center", 2, None),
        ],
    );
    assert_eq!((s.deadline, s.extensions), (T0 + 50 * H, 2));
    // An old event parses, and is written back byte for byte.
    let old = r#"{"type":"extended","hours":24,"reason":"r"}"#;
    let a: Action = serde_json::from_str(old).unwrap();
    assert_eq!(
        a,
        Action::Extended {
            hours: 24,
            reason: "r".into(),
            until: None
        }
    );
    assert_eq!(serde_json::to_string(&a).unwrap(), old);
    // Old facts JSON parses too.
    let mut v = serde_json::to_value(&f).unwrap();
    assert!(v.get("deadline").is_none() && v.get("clock").is_none());
    v["deadline"] = serde_json::json!(T0 + H);
    let g: Facts = serde_json::from_value(v).unwrap();
    assert_eq!(g.deadline, Some(T0 + H));
}
