//! Rankings benchmark: a year of a whole street. 100,000 cases on the Zhenxing roster (every
//! grid, short but varied histories: closed on time, handled on the spot, late, extended,
//! reworked, escalated and dispatched to departments, still open), as
//! `xiangying_model::testkit::street_year` generates them.
//!
//! Two measurements:
//! - `core`: `report::rankings` over the cases folded once outside the timed loop, for the
//!   year and for one month (the pure function a device and the server share);
//! - `server`: `xiangying_server::reports::rankings` end to end on the embedded SQLite store
//!   holding the 100,000 real case documents as a push stores them (snapshot, change, access
//!   keys and ranking row): what `admin rankings` does for the year.
//!
//! `cargo bench -p xiangying-server --bench rankings`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use xiangying_model::report::rankings;
use xiangying_model::testkit::street_year::{H, YEAR, YEAR_START, cases as generate};
use xiangying_server::reports;
use xiangying_server::storage::sqlite::SqliteStorage;

/// The load test's seeding (the tests crate, which this crate cannot depend on), shared as
/// source so both benchmarks store the street the same way.
#[path = "../../tests/src/street_year.rs"]
mod street_year;

/// A server store holding every case as a push leaves it.
fn server_store(cases: &[street_year::Case]) -> (tempfile::TempDir, SqliteStorage) {
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(dir.path()).unwrap();
    street_year::seed(&storage, cases);
    (dir, storage)
}

fn bench(c: &mut Criterion) {
    let cases = generate();
    let year = rankings(
        cases.iter().map(|(f, _, s)| (f, s)),
        YEAR_START,
        YEAR_START + YEAR,
    );
    let closed: u64 = year.grids.iter().map(|u| u.figures.closed).sum();
    println!(
        "{} cases: {} grids, {} communities, {} departments, {} people ranked; {closed} closed",
        cases.len(),
        year.grids.len(),
        year.communities.len(),
        year.departments.len(),
        year.people.len()
    );
    let mut g = c.benchmark_group("rankings");
    g.sample_size(20);
    g.bench_function("year_100k_cases", |b| {
        b.iter(|| {
            black_box(rankings(
                cases.iter().map(|(f, _, s)| (f, s)),
                YEAR_START,
                YEAR_START + YEAR,
            ))
        })
    });
    g.bench_function("month_100k_cases", |b| {
        b.iter(|| {
            black_box(rankings(
                cases.iter().map(|(f, _, s)| (f, s)),
                YEAR_START,
                YEAR_START + 31 * 24 * H,
            ))
        })
    });
    let (_dir, storage) = server_store(&cases);
    let on_server = reports::rankings(&storage, YEAR_START, YEAR_START + YEAR).unwrap();
    assert_eq!(
        on_server, year,
        "the server ranks as the pure function does"
    );
    g.bench_function("server_year_100k_cases", |b| {
        b.iter(|| black_box(reports::rankings(&storage, YEAR_START, YEAR_START + YEAR).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
