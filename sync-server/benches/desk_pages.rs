//! Desk pages benchmark: the case list and the overview on the 100,000-case street of the
//! rankings benchmark (`xiangying_model::testkit::street_year`, seeded as a push stores it
//! through the load test's `street_year` module), on the embedded SQLite store, server side:
//! the store read (`load`) and the HTML (`render`) together, as a request does after
//! sign-in. The store is seeded without the index (as a store written before it), so the
//! catch-up that indexes it when the server opens it is timed once too.
//!
//! Measured: the list with no filter; filtered by community + status group + text; sorted by
//! deadline at page 50; the overview (counts and the 30-day trends). Each page's size is
//! printed.
//!
//! `cargo bench -p xiangying-server --bench desk_pages`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;
use xiangying_model::case::Claim;
use xiangying_model::ids::PersonId;
use xiangying_model::org::{Role, Scope, zhenxing};
use xiangying_model::sync::scope::ReadScope;
use xiangying_model::testkit::street_year::{YEAR, YEAR_START, cases as generate};
use xiangying_server::desk::index::{self, CaseQuery, SortKey, StatusFilter};
use xiangying_server::desk::session::DeskUser;
use xiangying_server::desk::{cases, overview};
use xiangying_server::storage::sqlite::SqliteStorage;

/// The load test's seeding, shared as source (see the rankings benchmark).
#[path = "../../tests/src/street_year.rs"]
mod street_year;

fn bench(c: &mut Criterion) {
    let generated = generate();
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(dir.path()).unwrap();
    street_year::seed(&storage, &generated);
    drop(generated);
    let roster = zhenxing::roster();
    xiangying_server::admin::publish(
        &storage,
        &serde_json::to_string(&roster).unwrap(),
        &serde_json::to_string(&zhenxing::catalogue()).unwrap(),
    )
    .unwrap();
    let started = Instant::now();
    let indexed = index::catch_up(&storage).unwrap();
    println!(
        "catch-up indexed {indexed} cases in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let centre = zhenxing::ids::center(1);
    let user = DeskUser {
        person: PersonId::from(centre.clone()),
        name: "中心".into(),
        claim: Claim {
            person: centre,
            role: Role::StreetCenter,
            scope: Scope::Street,
        },
        csrf: "csrf".into(),
        roster: Arc::new(roster.clone()),
    };
    let scope = ReadScope {
        all: true,
        keys: vec![],
    };
    // The last day of the year: the trends cover its last 30 days.
    let now = YEAR_START + YEAR - 3_600_000;
    let community = roster.communities[0].id.clone();
    let lists = [
        ("list_no_filter", CaseQuery::default()),
        (
            "list_community_status_text",
            CaseQuery {
                community: Some(community),
                status: Some(StatusFilter::Unfinished),
                text: Some("井盖".into()),
                ..CaseQuery::default()
            },
        ),
        (
            "list_by_deadline_page_50",
            CaseQuery {
                sort: SortKey::Deadline,
                desc: false,
                page: 50,
                ..CaseQuery::default()
            },
        ),
    ];
    let mut g = c.benchmark_group("desk_pages");
    g.sample_size(20);
    for (name, q) in &lists {
        let page = || {
            let loaded = cases::load(&storage, &scope, q, now).unwrap();
            (
                loaded.list.total,
                cases::render(&user, q, &loaded, now).into_string(),
            )
        };
        let (total, html) = page();
        println!("{name}: {total} cases match, page {} bytes", html.len());
        g.bench_function(*name, |b| b.iter(|| black_box(page())));
    }
    let page = || {
        let o = overview::load(&storage, &roster, &scope, now).unwrap();
        overview::render(&user, &o, now).into_string()
    };
    println!("overview: page {} bytes", page().len());
    g.bench_function("overview", |b| b.iter(|| black_box(page())));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
