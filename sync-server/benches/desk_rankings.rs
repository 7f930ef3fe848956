//! The desk's rankings page on a year of a whole street: 100,000 cases on the Zhenxing roster
//! (`xiangying_model::testkit::street_year`, stored as a push stores them, as the rankings
//! benchmark does) with the roster published, measured as the server does the work of
//! `GET /desk/rankings` (load the rankings and the weekly accompaniments from the store, render
//! the page's content) and of its downloads, without HTTP and sign-in: computed afresh (the
//! first request after something was stored) and from the rankings cache (tab switches and
//! downloads while nothing new was stored).
//!
//! `cargo bench -p xiangying-server --bench desk_rankings`.

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use xiangying_model::org::zhenxing;
use xiangying_model::testkit::street_year::cases as generate;
use xiangying_server::desk::rankings::{self, Params};
use xiangying_server::storage::sqlite::SqliteStorage;

/// The load test's seeding, shared as source (see `benches/rankings.rs`).
#[path = "../../tests/src/street_year.rs"]
mod street_year;

fn query(from: &str, to: &str, by: &str) -> rankings::Checked {
    Params {
        from: Some(from.into()),
        to: Some(to.into()),
        by: Some(by.into()),
    }
    .check(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let cases = generate();
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(dir.path()).unwrap();
    street_year::seed(&storage, &cases);
    let roster = serde_json::to_string(&zhenxing::roster()).unwrap();
    let catalogue = serde_json::to_string(&zhenxing::catalogue()).unwrap();
    xiangying_server::admin::publish(&storage, &roster, &catalogue).unwrap();
    let roster = xiangying_server::reports::roster(&storage).unwrap();

    let month = query("2026-06-01", "2026-06-30", "grid");
    let year = query("2026-01-01", "2026-12-31", "person");
    let data = rankings::load(&storage, &year.period).unwrap();
    let page = rankings::body(&year, &data, &roster).into_string();
    println!(
        "{} cases; the year's page ranks {} people in {} KiB of HTML",
        cases.len(),
        data.rankings.people.len(),
        page.len() / 1024
    );

    let mut g = c.benchmark_group("desk_rankings");
    g.sample_size(20);
    g.bench_function("page_month_100k_cases", |b| {
        b.iter(|| {
            let data = rankings::load(&storage, &month.period).unwrap();
            black_box(rankings::body(&month, &data, &roster).into_string())
        })
    });
    g.bench_function("page_year_100k_cases", |b| {
        b.iter(|| {
            let data = rankings::load(&storage, &year.period).unwrap();
            black_box(rankings::body(&year, &data, &roster).into_string())
        })
    });
    // The scan alone, as `admin rankings` does it (one scan, no accompaniments).
    let (from, to) = year.period.ms().unwrap();
    g.bench_function("scan_rankings_year", |b| {
        b.iter(|| black_box(xiangying_server::reports::rankings(&storage, from, to).unwrap()))
    });
    let cache = rankings::cache::RankingsCache::new(4);
    g.bench_function("page_month_100k_cases_cached", |b| {
        b.iter(|| {
            let data = cache.get(&storage, &month.period).unwrap();
            black_box(rankings::body(&month, &data, &roster).into_string())
        })
    });
    g.bench_function("page_year_100k_cases_cached", |b| {
        b.iter(|| {
            let data = cache.get(&storage, &year.period).unwrap();
            black_box(rankings::body(&year, &data, &roster).into_string())
        })
    });
    g.bench_function("xlsx_year_100k_cases", |b| {
        b.iter(|| {
            let data = rankings::load(&storage, &year.period).unwrap();
            black_box(rankings::xlsx(&data, &roster).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
