//! Two server instances over one PostgreSQL database, each with its own automerge actor;
//! devices sync through either at random and converge exactly as with one server.

use std::sync::Arc;
use xiangying_server::blobs::BlobStore;
use xiangying_server::spawn;
use xiangying_server::state::{AppState, Limits};
use xiangying_server::storage::postgres::PostgresStorage;
use xiangying_tests::world::{Ledger, PEOPLE, Rng, check, step};
use xiangying_tests::{Field, pg_url, sample_org};

#[test]
fn two_instances_over_one_database_converge() {
    let url = pg_url();
    let schema = format!("two_servers_{}", std::process::id());
    let f_limits = Limits::default();
    let mut f = Field::with_backend(
        sample_org(),
        Some((url.clone(), schema.clone())),
        f_limits.clone(),
    );
    // A second instance: another process's worth of state over the same schema and the
    // same photo folder (as two instances would share an object store).
    let storage = Arc::new(PostgresStorage::connect_with_schema(&url, &schema).unwrap());
    let photos = f.state().blobs.root().to_path_buf();
    let second = Arc::new(AppState::new(
        storage,
        BlobStore::new(photos, f_limits.max_photo),
        f_limits,
    ));
    assert_ne!(
        second.actor,
        f.state().actor,
        "each instance writes with its own actor"
    );
    let second = spawn(second, "127.0.0.1:0".parse().unwrap()).unwrap();
    let urls = [f.server.url(), second.url()];
    let mut rng = Rng::new(5);
    for p in PEOPLE {
        let u = urls[rng.below(2)].clone();
        f.enrol_via(p, &u);
    }
    let mut ledger = Ledger::default();
    for _ in 0..300 {
        let who = PEOPLE[rng.below(PEOPLE.len())];
        f.dev(who).set_server_url(&urls[rng.below(2)]).unwrap();
        step(f.dev(who), &mut rng, &mut ledger, false);
    }
    for _ in 0..3 {
        for p in PEOPLE {
            f.dev(p).set_server_url(&urls[rng.below(2)]).unwrap();
            f.dev(p).sync_now(&|_| {}).unwrap();
        }
    }
    check(&f, &ledger);
}
