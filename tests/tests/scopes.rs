//! Who sees what and who may write what, through a real server: every role's reads on cases
//! in and out of scope, a stale claim voided rather than refused, tampering refused with the
//! device quarantined, writes to cases outside the pusher's scope refused.

use automerge::{ReadDoc, transaction::Transactable};
use std::collections::BTreeSet;
use xiangying_core::case::{Action, Claim, Event, Outcome, Status};
use xiangying_core::org::{Role, Scope, sample};
use xiangying_core::{Error, NewReport, NewRequest};
use xiangying_server::admin;
use xiangying_tests::{Field, hand_change, push_raw, sample_org};

const EVERYONE: [&str; 16] = [
    "center", "cc1", "cc2", "gw1", "gw2", "gw3", "inf1", "psc1", "msc1", "official", "police1",
    "enf1", "vol1", "vol2", "vol3", "res1",
];

fn report(at: xiangying_core::org::Point) -> NewReport {
    NewReport {
        category: sample::MANHOLE.into(),
        location: at,
        grid: None,
        segment: None,
        description: "井盖破损".into(),
    }
}

/// A: psc1's report in g1 on s1, forwarded to gw1. B: gw3's report in g3, escalated to cc2,
/// then to the centre, dispatched to the police. R: res1's request in g1, dispatched to c1's
/// volunteers.
fn street() -> (Field, String, String, String) {
    let mut f = Field::new(sample_org());
    for p in EVERYONE {
        f.enrol(p);
    }
    let a = f.dev("psc1").report(&report(sample::IN_G1)).unwrap();
    f.dev("psc1").forward(&a, "").unwrap();
    let b = f.dev("gw3").report(&report(sample::IN_G3)).unwrap();
    f.dev("gw3").escalate(&b, "需社区").unwrap();
    let r = f
        .dev("res1")
        .request(&NewRequest {
            category: sample::HELP.into(),
            location: sample::IN_G1,
            grid: None,
            description: "求助".into(),
        })
        .unwrap();
    f.settle();
    f.dev("cc2").accept(&b).unwrap();
    f.dev("cc2").escalate(&b, "需执法").unwrap();
    f.dev("cc1").dispatch_to_volunteers(&r, "").unwrap();
    f.settle();
    f.dev("center")
        .dispatch(&b, &["police".into()], "")
        .unwrap();
    f.settle();
    (f, a, b, r)
}

#[test]
fn every_role_reads_exactly_its_scope() {
    let (f, a, b, r) = street();
    let expect = |p: &str| -> BTreeSet<&str> {
        let ids: &[&str] = match p {
            "center" | "official" => &[&a, &b, &r],
            "cc1" | "gw1" => &[&a, &r],
            "cc2" | "gw3" => &[&b],
            "psc1" | "msc1" => &[&a],
            "police1" => &[&b],
            "vol1" | "vol2" | "res1" => &[&r],
            _ => &[],
        };
        ids.iter().copied().collect()
    };
    for p in EVERYONE {
        let held: BTreeSet<String> = f
            .dev(p)
            .all_cases(100)
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        let held: BTreeSet<&str> = held.iter().map(String::as_str).collect();
        assert_eq!(held, expect(p), "{p}");
    }
    assert_eq!(
        f.dev("police1").case(&b).unwrap().state.status,
        Status::Dispatched
    );
}

fn event_json(person: &str, role: Role, scope: Scope) -> String {
    serde_json::to_string(&Event::new(
        1,
        Claim {
            person: person.into(),
            role,
            scope,
        },
        Action::Note { text: "x".into() },
    ))
    .unwrap()
}

#[test]
fn tampering_is_refused_and_quarantines_the_device() {
    let (f, a, _, _) = street();
    let change = hand_change(&f, "gw1", &a, "events", |doc, events| {
        doc.put(events, 0, "{}").unwrap();
    });
    let (status, body) = push_raw(&f, "gw1", &a, change);
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("does not only append") || body.contains("not a case"),
        "{body}"
    );
    let refused = f.dev("gw1").sync_now(&|_| {});
    assert!(matches!(
        refused,
        Err(Error::Rejected { status: 403, ref code, ref message, .. }) if code == "quarantined" && message.contains("quarantined")
    ));
    // The refusal names the server's id for the request, which its request log also has.
    let Err(Error::Rejected { message, .. }) = refused else {
        unreachable!()
    };
    let id = message
        .rsplit_once("(request ")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no request id in {message:?}"));
    assert_eq!(id.len(), 36, "a UUID: {id:?}");
    // Nobody else is affected.
    f.dev("cc1").sync_now(&|_| {}).unwrap();
}

#[test]
fn a_forged_author_is_refused() {
    let (f, a, _, _) = street();
    let forged = event_json("psc1", Role::PartyStreetChief, Scope::Segment("s1".into()));
    let change = hand_change(&f, "gw1", &a, "events", |doc, events| {
        let n = doc.length(events);
        doc.insert(events, n, forged).unwrap();
    });
    let (status, body) = push_raw(&f, "gw1", &a, change);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("claims to be by psc1"), "{body}");
}

#[test]
fn a_write_outside_the_pushers_scope_is_refused_without_quarantine() {
    let (f, a, _, _) = street();
    let own = event_json("gw3", Role::GridWorker, Scope::Grid("g3".into()));
    let change = hand_change(&f, "gw1", &a, "events", |doc, events| {
        let n = doc.length(events);
        doc.insert(events, n, own).unwrap();
    });
    let (status, body) = push_raw(&f, "gw3", &a, change);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("outside the scope of gw3"), "{body}");
    f.dev("gw3").sync_now(&|_| {}).unwrap();
    assert!(
        !f.dev("gw3")
            .all_cases(10)
            .unwrap()
            .iter()
            .any(|c| c.id == a)
    );
}

#[test]
fn a_stale_claim_is_voided_not_refused_and_the_new_scope_arrives() {
    let (f, a, b, _) = street();
    // gw1 works offline on A while the administrator moves gw1 to g3 and gw3 to g1.
    f.dev("gw1").accept(&a).unwrap();
    let state = f.state();
    let mut roster = sample::roster().unwrap();
    for p in roster.people.iter_mut() {
        match p.id.as_str() {
            "gw1" => p.scope = Scope::Grid("g3".into()),
            "gw3" => p.scope = Scope::Grid("g1".into()),
            _ => {}
        }
    }
    let roster = serde_json::to_string(&roster).unwrap();
    admin::publish(state.storage.as_ref(), &roster, &sample_org().1).unwrap();
    f.dev("gw1").sync_now(&|_| {}).unwrap();
    let v = f.dev("gw1").case(&a).unwrap();
    let last = v.state.history.last().unwrap();
    assert!(
        matches!(&last.event.action, Action::ServerVoid { .. }),
        "{:?}",
        v.state.history
    );
    let accepted = v
        .state
        .history
        .iter()
        .find(|e| e.event.action == Action::Accepted)
        .unwrap();
    assert!(matches!(accepted.outcome, Outcome::VoidedByServer(_)));
    assert_eq!(v.state.status, Status::Forwarded);
    // gw1's device took the new roster and pulled its new grid's case.
    assert_eq!(f.dev("gw1").me().unwrap().scope, Scope::Grid("g3".into()));
    assert!(
        f.dev("gw1")
            .all_cases(10)
            .unwrap()
            .iter()
            .any(|c| c.id == b)
    );
}
