//! Rankings benchmark: a year of a whole street. 100,000 cases on the Zhenxing roster (every
//! grid, short but varied histories: closed on time, handled on the spot, late, extended,
//! reworked, escalated and dispatched to departments, still open).
//!
//! Two measurements:
//! - `core`: `report::rankings` over the cases folded once outside the timed loop, for the
//!   year and for one month (the pure function a device and the server share);
//! - `server`: `xiangying_server::reports::rankings` end to end on the embedded SQLite store
//!   holding the 100,000 real case documents as a push stores them (snapshot, change, access
//!   keys and ranking row): what `admin rankings` does for the year.
//!
//! `cargo bench -p xiangying-server --bench rankings`.

use automerge::ActorId;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use xiangying_model::case::{
    Action, Assignee, CaseDoc, CaseKind, CaseState, Claim, Event, Facts, fold,
};
use xiangying_model::document::Document;
use xiangying_model::org::{Level, Roster, zhenxing};
use xiangying_model::report::{RankingRow, rankings};
use xiangying_model::sync::scope::access_keys;
use xiangying_model::sync::wire;
use xiangying_server::reports;
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::{CaseMeta, NewChange, with_tx};

const H: i64 = 3_600_000;
/// 2026-01-01T00:00:00+08:00.
const YEAR_START: i64 = 1_767_196_800_000;
const YEAR: i64 = 365 * 24 * H;
const CASES: usize = 100_000;

fn claim(roster: &Roster, person: &str) -> Claim {
    let p = roster.person(person).unwrap();
    Claim {
        person: p.id.clone(),
        role: p.role,
        scope: p.scope.clone(),
    }
}

fn generate() -> Vec<(Facts, Vec<Event>, CaseState)> {
    let roster = zhenxing::roster();
    let ids = zhenxing::ids::DEPARTMENTS;
    (0..CASES)
        .map(|i| {
            let g = i % zhenxing::GRIDS + 1;
            let grid = roster.grid(&zhenxing::ids::grid(g)).unwrap();
            let gw = zhenxing::ids::grid_worker(g);
            let cc = roster
                .community_chief_of(&grid.community)
                .unwrap()
                .id
                .clone();
            let centre = zhenxing::ids::center(1);
            let at = YEAR_START + (i as i64) * (YEAR / CASES as i64);
            let facts = Facts {
                id: format!("case-{i:06}"),
                kind: CaseKind::Problem,
                category: "010101".into(),
                category_name: "井盖破损".into(),
                limit_hours: 24,
                clock: None,
                deadline: None,
                reporter: gw.clone(),
                created_at: at,
                location: zhenxing::CENTRE,
                grid: grid.id.clone(),
                community: grid.community.clone(),
                segment: None,
                description: "井盖缺失".into(),
            };
            let ev = |p: &str, t: i64, a: Action| Event::new(t, claim(&roster, p), a);
            let resolved = || Action::Resolved {
                note: "修好".into(),
                photos: vec![],
            };
            let verify = || Action::Verified { note: "好".into() };
            let close = || Action::Closed { note: "结".into() };
            let mut events = vec![ev(
                &gw,
                at,
                Action::Reported {
                    assignee: Assignee::Person(gw.clone()),
                },
            )];
            match i % 10 {
                0..=2 => events.extend([
                    ev(&gw, at + 3 * H, resolved()),
                    ev(&cc, at + 4 * H, verify()),
                    ev(&cc, at + 5 * H, close()),
                ]),
                3 | 4 => events.push(ev(
                    &gw,
                    at + H,
                    Action::HandledOnSpot {
                        note: "处置".into(),
                        photos: vec!["ab".into()],
                    },
                )),
                5 => events.extend([
                    ev(&gw, at + 30 * H, resolved()),
                    ev(&cc, at + 31 * H, verify()),
                    ev(&cc, at + 32 * H, close()),
                ]),
                6 => events.extend([
                    ev(
                        &cc,
                        at + H,
                        Action::Extended {
                            hours: 24,
                            reason: "等配件".into(),
                            until: None,
                        },
                    ),
                    ev(&gw, at + 40 * H, resolved()),
                    ev(&cc, at + 41 * H, verify()),
                    ev(&cc, at + 42 * H, close()),
                ]),
                7 => events.extend([
                    ev(&gw, at + 5 * H, resolved()),
                    ev(
                        &cc,
                        at + 6 * H,
                        Action::Reworked {
                            reason: "没修好".into(),
                        },
                    ),
                    ev(&gw, at + 10 * H, resolved()),
                    ev(&cc, at + 11 * H, verify()),
                    ev(&cc, at + 12 * H, close()),
                ]),
                8 => {
                    let dept = ids[(i / 10) % ids.len()];
                    let staff = zhenxing::ids::department_staff(dept, 1);
                    events.extend([
                        ev(
                            &gw,
                            at + H,
                            Action::Escalated {
                                to_level: Level::Community,
                                to: Assignee::Person(cc.clone()),
                                reason: "需社区协调".into(),
                            },
                        ),
                        ev(
                            &cc,
                            at + 2 * H,
                            Action::Escalated {
                                to_level: Level::Street,
                                to: Assignee::Center,
                                reason: "需执法".into(),
                            },
                        ),
                        ev(
                            &centre,
                            at + 3 * H,
                            Action::Dispatched {
                                departments: vec![dept.to_string()],
                                note: "处理".into(),
                            },
                        ),
                        ev(&staff, at + 20 * H, resolved()),
                        ev(&centre, at + 21 * H, verify()),
                        ev(&centre, at + 22 * H, close()),
                    ]);
                }
                _ => {}
            }
            let state = fold(&facts, &events);
            (facts, events, state)
        })
        .collect()
}

/// A server store holding every case as a push leaves it.
fn server_store(cases: &[(Facts, Vec<Event>, CaseState)]) -> (tempfile::TempDir, SqliteStorage) {
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(dir.path()).unwrap();
    let actor = ActorId::random();
    for batch in cases.chunks(1_000) {
        with_tx(&storage, |tx| {
            for (facts, events, state) in batch {
                let mut doc = CaseDoc::create(&actor, facts, &events[0]).unwrap();
                for e in &events[1..] {
                    doc.append_event(e).unwrap();
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
                    ranking: RankingRow::of_case(facts, state).map(|r| wire::encode(&r).unwrap()),
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
        .unwrap();
    }
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
