//! Desk map benchmark: the map page of one community on the 100,000-case street of the
//! rankings benchmark (`xiangying_model::testkit::street_year` on the Zhenxing roster).
//!
//! Two measurements:
//! - `page_one_community`: what `GET /desk/map?community=…&state=all` does on the server,
//!   end to end below HTTP: the pins loaded through the case index
//!   (`desk::index::pins`, capped at `desk::map::MAX_PINS`) from the embedded SQLite store
//!   holding the 100,000 cases as a push stores them (indexed as the server indexes a store
//!   written before the desk), and the whole page rendered.
//! - `render_one_community_capped`: the page rendered with the community's first `MAX_PINS`
//!   cases made into pins straight from the generated documents (no store), each placed in
//!   its grid (the generated cases all sit at the street's centre): the page's weight and
//!   rendering time at the cap, whatever the index does.
//!
//! Prints each page's size in bytes. `cargo bench -p xiangying-server --bench desk_map`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use xiangying_model::case::Claim;
use xiangying_model::ids::PersonId;
use xiangying_model::org::{Point, Role, Roster, Scope, polygon_centroid, zhenxing};
use xiangying_model::sync::scope::ReadScope;
use xiangying_model::testkit::street_year::{YEAR_START, cases as generate};
use xiangying_server::desk::index::DeskCase;
use xiangying_server::desk::map::{self, MAX_PINS, MapData, MapFilter, MapParams};
use xiangying_server::desk::session::DeskUser;
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::with_tx;

/// The load test's seeding (the tests crate, which this crate cannot depend on), shared as
/// source so every benchmark stores the street the same way.
#[path = "../../tests/src/street_year.rs"]
mod street_year;

/// A place spread over the case's grid (the generated cases all sit at the street's centre):
/// its centroid moved by up to about 40 m, differently for each case.
fn place(roster: &Roster, grid: &str, i: usize) -> Point {
    let c = roster
        .grid(grid)
        .and_then(|g| polygon_centroid(&g.polygon))
        .unwrap_or(zhenxing::CENTRE);
    let (a, b) = ((i % 17) as f64 - 8.0, ((i / 17) % 13) as f64 - 6.0);
    Point::new(c.lon + a * 0.00006, c.lat + b * 0.00005)
}

fn bench(c: &mut Criterion) {
    let roster = zhenxing::roster();
    let cases = generate();
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(dir.path()).unwrap();
    street_year::seed(&storage, &cases);
    let roster_json = serde_json::to_string(&roster).unwrap();
    let catalogue_json = serde_json::to_string(&zhenxing::catalogue()).unwrap();
    with_tx(&storage, |tx| {
        tx.set_org(&roster_json, &catalogue_json).map(|_| ())
    })
    .unwrap();
    // The seed writes the documents as a store written before the desk: index them, as the
    // server does when it opens such a store.
    xiangying_server::desk::index::catch_up(&storage).unwrap();

    // The generated cases all sit at the street's centre: take the community there, so that
    // the store's pins fall inside the map once the case index lands.
    let community = roster
        .grid_at(zhenxing::CENTRE)
        .map_or_else(|| roster.communities[0].id.clone(), |g| g.community.clone());
    let params = MapParams {
        community: Some(community.clone()),
        state: Some("all".into()),
        ..MapParams::default()
    };
    let filter = MapFilter::parse(&params, &roster).unwrap();
    let user = DeskUser {
        person: PersonId::from("bench"),
        name: "中心".into(),
        claim: Claim {
            person: "bench".into(),
            role: Role::StreetCenter,
            scope: Scope::Street,
        },
        csrf: "0123456789abcdef".into(),
        roster: Arc::new(roster.clone()),
    };
    let scope = ReadScope {
        all: true,
        keys: Vec::new(),
    };
    // A day in the middle of the year, so that some cases are open and some overdue.
    let now = YEAR_START + 180 * 86_400_000;

    let page = |data: &MapData| map::render(&user, &filter, data, None, now).into_string();
    let data = with_tx(&storage, |tx| map::load(tx, &scope, &filter, now)).unwrap();
    println!(
        "one community from the store: {} pins, page {} bytes",
        data.pins.len(),
        page(&data).len()
    );

    let pins: Vec<DeskCase> = cases
        .iter()
        .filter(|(f, _, _)| f.community == community)
        .take(MAX_PINS)
        .enumerate()
        .map(|(i, (f, _, s))| (place(&roster, &f.grid, i), f, s))
        .map(|(at, f, s)| DeskCase {
            case_id: f.id.clone(),
            number: Some(format!("ZX-20260101-{:04}", f.created_at % 10_000)),
            status: s.status.as_str().into(),
            status_label: s.status.label_zh(),
            level: s.level.as_str().into(),
            level_label: s.level.label_zh(),
            category: f.category.clone(),
            category_label: f.category_name.clone(),
            grid: f.grid.clone(),
            community: f.community.clone(),
            reporter: f.reporter.clone(),
            assignee_label: String::new(),
            departments: Vec::new(),
            deadline: Some(s.deadline),
            overdue: s.status.is_open() && s.deadline < now,
            created_at: f.created_at,
            updated_at: s.updated_at,
            closed_at: s.closed_at,
            lat: Some(at.lat),
            lon: Some(at.lon),
            summary: f.description.clone(),
        })
        .collect();
    let capped = MapData {
        pins,
        capped: true,
        categories: data.categories.clone(),
    };
    println!(
        "one community at the cap: {} pins, page {} bytes",
        capped.pins.len(),
        page(&capped).len()
    );

    let mut g = c.benchmark_group("desk_map");
    g.sample_size(20);
    g.bench_function("page_one_community", |b| {
        b.iter(|| {
            let data = with_tx(&storage, |tx| map::load(tx, &scope, &filter, now)).unwrap();
            black_box(page(&data))
        })
    });
    g.bench_function("render_one_community_capped", |b| {
        b.iter(|| black_box(page(&capped)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
