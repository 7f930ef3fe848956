//! A server store seeded with a year of the Zhenxing street
//! (`xiangying_model::testkit::street_year`): every case stored as a push leaves it (snapshot,
//! change at its own feed position, access keys, ranking row), in transactions of a thousand,
//! on either backend. For the load test (`benches/load.rs`) and, included as source, the
//! rankings benchmark (`sync-server/benches/rankings.rs`).

use automerge::ActorId;
use xiangying_model::case::{CaseDoc, CaseState, Event, Facts};
use xiangying_model::document::Document;
use xiangying_model::report::RankingRow;
use xiangying_model::sync::scope::access_keys;
use xiangying_model::sync::wire;
use xiangying_server::storage::{CaseMeta, NewChange, Storage, with_tx};

/// A generated case: its facts, its events (the first is the report) and its folded state.
pub type Case = (Facts, Vec<Event>, CaseState);

/// Stores `cases` (as [`street_year::cases`](xiangying_model::testkit::street_year::cases)
/// makes them) in `storage`, written by one server actor.
pub fn seed(storage: &dyn Storage, cases: &[Case]) {
    let actor = ActorId::random();
    for batch in cases.chunks(1_000) {
        with_tx(storage, |tx| {
            for (facts, events, state) in batch {
                let mut doc = CaseDoc::create(&actor, facts, &events[0]).expect("create");
                for e in &events[1..] {
                    doc.append_event(e).expect("append");
                }
                let snapshot = doc.save();
                let meta = CaseMeta {
                    case_id: facts.id.clone().into(),
                    number: None,
                    status: state.status.as_str().into(),
                    level: state.level.as_str().into(),
                    grid: facts.grid.clone(),
                    community: facts.community.clone(),
                    reporter: facts.reporter.clone(),
                    category: facts.category.clone(),
                    created_at: facts.created_at,
                    received_at: facts.created_at,
                    ranking: RankingRow::of_case(facts, state)
                        .map(|r| wire::encode(&r).expect("encode")),
                };
                let change = NewChange {
                    bytes: snapshot.clone(),
                    device: None,
                };
                let pos = tx.allocate_positions(1)?;
                tx.save_case(
                    &meta,
                    &snapshot,
                    &[change],
                    pos,
                    &access_keys(facts, state),
                    &[],
                )?;
            }
            Ok(())
        })
        .expect("seed a thousand cases");
    }
}
