//! Random offline work and random sync orders converge, on SQLite and PostgreSQL, with pages
//! small enough that every sync is cut into many round trips; nothing lost, nothing duplicated.

use xiangying_server::state::Limits;
use xiangying_tests::world::{Ledger, PEOPLE, Rng, settle_and_check, step};
use xiangying_tests::{Field, pg_url, sample_org};

fn run(seed: u64, steps: usize, postgres: Option<(String, String)>, limits: Limits) {
    let mut f = Field::with_backend(sample_org(), postgres, limits);
    for p in PEOPLE {
        f.enrol(p);
    }
    let mut rng = Rng::new(seed);
    let mut ledger = Ledger::default();
    for _ in 0..steps {
        let who = PEOPLE[rng.below(PEOPLE.len())];
        step(f.dev(who), &mut rng, &mut ledger, false);
    }
    let events: usize = ledger.events.values().map(|e| e.len()).sum();
    eprintln!(
        "seed {seed}: {} cases, {events} accepted actions, {} photos",
        ledger.events.len(),
        ledger.photos.len()
    );
    assert!(
        ledger.events.len() >= 20 && events >= ledger.events.len() + 20,
        "the run must do real work"
    );
    settle_and_check(&f, &ledger);
}

#[test]
fn random_work_converges_on_sqlite() {
    for seed in 1..=4 {
        run(seed, 300, None, Limits::default());
    }
}

#[test]
fn random_work_converges_with_tiny_pages() {
    let limits = Limits {
        max_feed_cases: 2,
        max_feed_bytes: 1500,
        ..Limits::default()
    };
    for seed in 11..=13 {
        run(seed, 300, None, limits.clone());
    }
}

#[test]
fn random_work_converges_on_postgres() {
    let url = pg_url();
    for seed in 21..=22 {
        run(
            seed,
            300,
            Some((url.clone(), format!("conv_{seed}_{}", std::process::id()))),
            Limits::default(),
        );
    }
}
