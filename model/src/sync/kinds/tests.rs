//! The built-in kinds' acceptance as pure functions: a host with the sample roster and numbering
//! sequences in memory ([`MemoryHost`]) stands in for the server's storage.

use crate::case::{Action, Author, CaseDoc, Claim, Event};
use crate::document::Document;
use crate::org::{Roster, Scope, sample};
use crate::patrol::PatrolDoc;
use crate::sync::judge::Tamper;
use crate::sync::keys::AccessKey;
use crate::sync::kind::{ListBound, Refused};
use crate::sync::memory_host::MemoryHost;
use crate::sync::synced::SyncedDoc;
use crate::testkit::{g1_case, g1_claim, g1_patrol_facts};
use automerge::ActorId;

/// A host judging pushes by `pusher` on the sample roster.
fn host<'r>(roster: &'r Roster, pusher: &'r str) -> MemoryHost<'r> {
    MemoryHost::new(roster, pusher, 50)
}

fn synced<K: crate::sync::kind::SyncedKind>(mut doc: K) -> SyncedDoc {
    SyncedDoc::load(&doc.save(), &ActorId::random()).unwrap()
}

#[test]
fn a_new_case_is_numbered_indexed_and_opened_to_its_grid() {
    let roster = sample::roster().unwrap();
    let mut host = host(&roster, "gw1");
    let mut doc = synced(g1_case(None, None));
    assert_eq!(doc.kind(), "case");
    let accepted = doc.accept(None, &mut host).unwrap();
    assert_eq!(accepted.index.number.as_deref(), Some("YL-19700101-0001"));
    assert_eq!(accepted.index.grid, "g1");
    assert!(accepted.access.contains(&AccessKey::Grid("g1".into())));
    assert_eq!(
        doc.downcast_ref::<CaseDoc>().unwrap().number().as_deref(),
        Some("YL-19700101-0001")
    );
    assert_eq!(
        doc.list_lengths(),
        [(ListBound::Entries, 1), (ListBound::Photos, 0)]
    );
}

#[test]
fn a_stale_claim_is_voided_and_a_forged_reporter_refused() {
    let roster = sample::roster().unwrap();
    let mut before = synced(g1_case(None, None));
    let mut after = before.fork(&ActorId::random()).unwrap();
    let stale = Claim {
        scope: Scope::Grid("g2".into()),
        ..g1_claim("gw1")
    };
    let case = after.downcast_mut::<CaseDoc>().unwrap();
    case.append_event(&Event::new(2, stale, Action::Accepted))
        .unwrap();
    after
        .accept(Some(&mut before), &mut host(&roster, "gw1"))
        .unwrap();
    let events = after.downcast_ref::<CaseDoc>().unwrap().events().unwrap();
    assert!(matches!(
        (&events[2].by, &events[2].action),
        (Author::Server { .. }, Action::ServerVoid { .. })
    ));

    let mut forged = synced(g1_case(None, None));
    let refused = forged.accept(None, &mut host(&roster, "gw2")).unwrap_err();
    assert!(matches!(
        refused,
        Refused::Tamper(Tamper::ForgedReporter { .. })
    ));
}

#[test]
fn a_push_cannot_turn_a_case_into_a_patrol() {
    let roster = sample::roster().unwrap();
    let mut case = synced(g1_case(None, None));
    let facts = g1_patrol_facts("c1", 5);
    let mut patrol = synced(PatrolDoc::create(&ActorId::random(), &facts).unwrap());
    assert_eq!(patrol.kind(), "patrol");
    let refused = patrol
        .accept(Some(&mut case), &mut host(&roster, "gw1"))
        .unwrap_err();
    assert!(matches!(
        refused,
        Refused::Tamper(Tamper::FactChanged("kind"))
    ));
}
