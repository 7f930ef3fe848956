//! Tests of the rankings page and downloads over a real SQLite store seeded with real case
//! documents (the generated street year's first cases, stored as a push stores them) and a
//! published roster with hostile names.

use super::*;
use crate::blobs::BlobStore;
use crate::desk::download::BOM;
use crate::desk::download::tests::parse_csv;
use crate::state::{AppState, Limits};
use crate::storage::sqlite::SqliteStorage;
use crate::storage::{CaseMeta, NewChange, with_tx};
use automerge::ActorId;
use axum::body::to_bytes;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use std::io::Read;
use std::sync::Arc;
use xiangying_model::case::{CaseDoc, CaseState, Claim, Event, Facts};
use xiangying_model::document::Document;
use xiangying_model::org::zhenxing;
use xiangying_model::report::RankingRow;
use xiangying_model::sync::scope::access_keys;
use xiangying_model::sync::wire;
use xiangying_model::testkit::street_year::cases_upto;

/// A grid name a CSV must quote (a comma and a quote).
const QUOTED: &str = "一网格, \"东片\"";
/// A grid name that a spreadsheet would run as a formula.
const FORMULA: &str = "=HYPERLINK(\"http://evil\",\"点我\")";
/// A grid name that would be markup.
const MARKUP: &str = "<script>alert(1)</script>";

struct Fixture {
    _dir: tempfile::TempDir,
    state: Shared,
    roster: Arc<Roster>,
}

/// A store with the Zhenxing roster (three grids renamed with hostile names) published and
/// `n` generated cases stored as a push leaves them.
fn fixture(n: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(&dir.path().join("store")).unwrap());
    let mut roster = zhenxing::roster();
    roster.grids[0].name = QUOTED.into();
    roster.grids[1].name = FORMULA.into();
    roster.grids[2].name = MARKUP.into();
    let json = serde_json::to_string(&roster).unwrap();
    let catalogue = serde_json::to_string(&zhenxing::catalogue()).unwrap();
    crate::admin::publish(storage.as_ref(), &json, &catalogue).unwrap();
    store(storage.as_ref(), &cases_upto(n));
    let roster = Arc::new(reports::roster(storage.as_ref()).unwrap());
    let state = Arc::new(AppState::new(
        storage,
        BlobStore::new(dir.path().join("photos"), 1 << 20),
        Limits::default(),
    ));
    Fixture {
        _dir: dir,
        state,
        roster,
    }
}

/// Stores `cases` as a push leaves them (snapshot, change at its own feed position, access
/// keys, ranking row).
fn store(storage: &dyn crate::storage::Storage, cases: &[(Facts, Vec<Event>, CaseState)]) {
    let actor = ActorId::random();
    with_tx(storage, |tx| {
        for (facts, events, state) in cases {
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

/// The centre's first staff member, signed in.
fn user(roster: &Arc<Roster>) -> DeskUser {
    let p = roster.person(&zhenxing::ids::center(1)).unwrap();
    DeskUser {
        person: p.id.clone().into(),
        name: p.name.clone(),
        claim: Claim {
            person: p.id.clone(),
            role: p.role,
            scope: p.scope.clone(),
        },
        csrf: "csrf".into(),
        roster: roster.clone(),
    }
}

/// The generated year starts on 2026-01-01: January holds the first cases.
fn january(by: &str) -> Result<Query<Params>, QueryRejection> {
    Ok(Query(Params {
        from: Some("2026-01-01".into()),
        to: Some("2026-01-31".into()),
        by: Some(by.into()),
    }))
}

async fn body_of(r: Response) -> Vec<u8> {
    to_bytes(r.into_body(), 64 << 20).await.unwrap().to_vec()
}

fn day_period(from: &str, to: &str) -> (i64, i64) {
    reports::period(from, to).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn params(from: &str, to: &str, by: &str) -> Params {
    let opt = |s: &str| Some(s.to_string());
    Params {
        from: opt(from),
        to: opt(to),
        by: opt(by),
    }
}

#[test]
fn no_query_is_this_month_so_far_by_grid() {
    let today = day("2026-12-06");
    let q = Params::default().check(today).unwrap();
    assert_eq!(q.period.from, day("2026-12-01"));
    assert_eq!(q.period.to, today);
    assert_eq!(q.kind, UnitKind::Grid);
    // Empty fields (a cleared date input) are the same as none.
    assert_eq!(params("", "", "").check(today).unwrap(), q);
    // China time: 2026-11-30T16:30Z is already 2026-12-01 in Beijing.
    assert_eq!(today_china(1_796_056_200_000), day("2026-12-01"));
}

#[test]
fn periods_are_bounded_and_refusals_name_the_field() {
    let today = day("2026-12-06");
    let refused = |p: Params| match p.check(today) {
        Err(DeskError::BadRequest(m)) => m,
        other => panic!("{p:?} accepted: {other:?}"),
    };
    let m = refused(params("2026-02-01", "2026-01-01", "grid"));
    assert!(
        m.contains("from") && m.contains("to") && m.contains("晚于"),
        "{m}"
    );
    let m = refused(params("2025-01-01", "2026-01-02", "grid"));
    assert!(m.contains("367") && m.contains("366"), "{m}");
    for bad in [
        "2026-1-01",
        "2026-02-30",
        "26-01-01",
        "abc",
        "2026-01-01T00",
        "1900-01-01",
    ] {
        let m = refused(params(bad, "2026-03-01", "grid"));
        assert!(m.contains("开始日期（from）"), "{bad}: {m}");
        let m = refused(params("2026-01-01", bad, "grid"));
        assert!(m.contains("结束日期（to）"), "{bad}: {m}");
    }
    let m = refused(params("2026-01-01", "2026-01-31", "street"));
    assert!(m.contains("by"), "{m}");
    let m = refused(params(&"9".repeat(10_000), "2026-01-31", "grid"));
    assert!(m.contains("from") && m.contains("过长"), "{m}");
    // A leap year's whole year is 366 days: the longest allowed.
    let q = params("2028-01-01", "2028-12-31", "person")
        .check(today)
        .unwrap();
    assert_eq!(q.kind, UnitKind::Person);
}

#[tokio::test]
async fn the_page_ranks_names_and_escapes() {
    let f = fixture(128);
    let page = page(user(&f.roster), State(f.state.clone()), january("grid"))
        .await
        .unwrap()
        .into_string();
    // Tabs for the four kinds, the chosen one marked.
    for k in KINDS {
        assert!(page.contains(&format!("by={}", k.as_str())), "{page}");
    }
    assert!(page.contains("aria-current=\"page\">网格"), "{page}");
    // Names from the roster, hostile ones escaped.
    assert!(!page.contains(MARKUP));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("一网格, &quot;东片&quot;") || page.contains("一网格, \"东片\""));
    // One row and one bar per ranked grid (every grid has cases).
    let data = load(
        f.state.storage.as_ref(),
        &january("grid")
            .unwrap()
            .0
            .check(day("2026-12-06"))
            .unwrap()
            .period,
    )
    .unwrap();
    assert_eq!(data.rankings.grids.len(), zhenxing::GRIDS);
    assert_eq!(page.matches("<svg class=\"bar\"").count(), zhenxing::GRIDS);
    assert!(page.contains("aria-hidden=\"true\""));
    // The accompaniment table has a line per grid worker and a column per week.
    assert_eq!(data.weeks.len(), 5, "weeks touching January 2026");
    // One scan gives what the admin CLI's two functions give.
    let (from, to) = day_period("2026-01-01", "2026-01-31");
    let storage = f.state.storage.as_ref();
    assert_eq!(data.rankings, reports::rankings(storage, from, to).unwrap());
    for (week, lines) in &data.weeks {
        assert_eq!(*lines, reports::accompaniments(storage, *week).unwrap());
    }
    assert_eq!(
        data.weeks[0].1.len(),
        f.roster
            .people_with_role(xiangying_model::org::Role::GridWorker)
            .count()
    );
    assert!(page.contains("陪巡情况"));
    // Downloads keep the period.
    assert!(page.contains("/desk/rankings.csv?from=2026-01-01&amp;to=2026-01-31&amp;by=grid"));
}

#[tokio::test]
async fn a_refused_period_is_a_chinese_bad_request() {
    let f = fixture(0);
    let q = Ok(Query(params("2026-03-01", "2026-01-01", "grid")));
    let err = page(user(&f.roster), State(f.state.clone()), q)
        .await
        .unwrap_err();
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    let body = String::from_utf8(body_of(err.into_response()).await).unwrap();
    assert!(body.contains("开始日期（from）"), "{body}");
}

#[tokio::test]
async fn the_csv_has_a_bom_parses_back_and_cannot_run_formulas() {
    let f = fixture(128);
    let r = csv_download(user(&f.roster), State(f.state.clone()), january("grid"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cd = r.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cd.starts_with("attachment; filename=\"rankings-grid-2026-01-01-2026-01-31.csv\""),
        "{cd}"
    );
    assert!(cd.contains("filename*=UTF-8''%E8%80%83%E6%A0%B8"), "{cd}");
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = String::from_utf8(body_of(r).await).unwrap();
    assert!(text.starts_with(BOM), "no byte order mark");
    let rows = parse_csv(text.strip_prefix(BOM).unwrap());
    assert_eq!(rows[0], headings(UnitKind::Grid));
    assert_eq!(rows.len(), 1 + zhenxing::GRIDS);
    assert!(rows.iter().all(|r| r.len() == rows[0].len()));
    let names: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert!(names.contains(&QUOTED), "{names:?}");
    assert!(names.contains(&MARKUP));
    assert!(!names.contains(&FORMULA));
    assert!(names.contains(&format!("'{FORMULA}").as_str()), "{names:?}");
    // No line starts a field with a formula character.
    for r in &rows {
        for cell in r {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
    // Ranks 1.. in order, scores as numbers.
    assert_eq!(rows[1][0], "1");
    assert!(rows[1][16].parse::<f64>().is_ok(), "{:?}", rows[1]);
}

#[tokio::test]
async fn the_workbook_is_a_zip_with_a_sheet_per_kind() {
    let f = fixture(128);
    let r = xlsx_download(user(&f.roster), State(f.state.clone()), january("grid"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cd = r.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cd.contains(".xlsx"), "{cd}");
    let bytes = body_of(r).await;
    assert!(bytes.starts_with(b"PK\x03\x04"));
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut workbook = String::new();
    zip.by_name("xl/workbook.xml")
        .unwrap()
        .read_to_string(&mut workbook)
        .unwrap();
    for name in ["网格", "社区", "部门", "人员", "陪巡"] {
        assert!(workbook.contains(&format!("name=\"{name}\"")), "{workbook}");
    }
    // Names are strings (shared strings), never formulas; counts are numbers.
    let mut strings = String::new();
    zip.by_name("xl/sharedStrings.xml")
        .unwrap()
        .read_to_string(&mut strings)
        .unwrap();
    assert!(strings.contains("=HYPERLINK"), "the name is kept as text");
    let mut grid = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut grid)
        .unwrap();
    assert!(!grid.contains("<f>"), "no formulas");
    assert!(grid.contains("<c r=\"D2\""), "{grid}");
    // Headings bold (the one bold font of the styles), widths set.
    let mut styles = String::new();
    zip.by_name("xl/styles.xml")
        .unwrap()
        .read_to_string(&mut styles)
        .unwrap();
    assert!(styles.contains("<b/>"), "{styles}");
    assert!(grid.contains("<cols>"), "{grid}");
}

#[test]
fn an_empty_period_renders_an_empty_table() {
    let f = fixture(0);
    let q = params("2026-01-01", "2026-01-31", "department")
        .check(day("2026-12-06"))
        .unwrap();
    let data = load(f.state.storage.as_ref(), &q.period).unwrap();
    let html = body(&q, &data, &f.roster).into_string();
    assert!(html.contains("本时段没有计入考核的案件或巡查"));
    let csv = csv(&q, &data, &f.roster);
    assert_eq!(parse_csv(csv.strip_prefix(BOM).unwrap()).len(), 1);
    assert!(xlsx(&data, &f.roster).unwrap().starts_with(b"PK"));
}

#[test]
fn kept_figures_are_used_until_something_is_stored() {
    let f = fixture(64);
    let storage = f.state.storage.as_ref();
    let cache = cache::RankingsCache::new(2);
    let jan = params("2026-01-01", "2026-01-31", "grid")
        .check(day("2026-12-06"))
        .unwrap();
    let a = cache.get(storage, &jan.period).unwrap();
    let b = cache.get(storage, &jan.period).unwrap();
    assert!(
        Arc::ptr_eq(&a, &b),
        "the second request is served from the cache"
    );
    let raised = |d: &Loaded| {
        d.rankings
            .grids
            .iter()
            .map(|u| u.figures.raised)
            .sum::<u64>()
    };
    assert_eq!(raised(&a), 64);
    // One more case stored: the next request sees it.
    let more = cases_upto(65);
    store(storage, &more[64..]);
    let c = cache.get(storage, &jan.period).unwrap();
    assert!(!Arc::ptr_eq(&a, &c));
    assert_eq!(raised(&c), 65);
    assert_eq!(*c, load(storage, &jan.period).unwrap());
    // Bounded: a third period pushes out the least recently used.
    for (from, to) in [("2026-02-01", "2026-02-28"), ("2026-03-01", "2026-03-31")] {
        let q = params(from, to, "grid").check(day("2026-12-06")).unwrap();
        cache.get(storage, &q.period).unwrap();
    }
    assert_eq!(cache.len(), 2);
    let d = cache.get(storage, &jan.period).unwrap();
    assert!(!Arc::ptr_eq(&c, &d), "January was pushed out");
}

#[tokio::test]
async fn the_pages_and_downloads_are_behind_sign_in() {
    use tower::ServiceExt;
    let f = fixture(0);
    let app = crate::desk::routes().with_state(f.state.clone());
    for path in [
        "/desk/rankings",
        "/desk/rankings.csv?by=person",
        "/desk/rankings.xlsx",
        "/desk/boards",
        "/desk/boards.pdf",
    ] {
        let req = axum::http::Request::get(path)
            .body(axum::body::Body::empty())
            .unwrap();
        let r = app.clone().oneshot(req).await.unwrap();
        assert!(r.status().is_redirection(), "{path}: {}", r.status());
        let to = r.headers()[header::LOCATION].to_str().unwrap();
        assert!(to.starts_with("/desk/login?next="), "{path}: {to}");
        assert!(r.headers().get(header::CONTENT_DISPOSITION).is_none());
    }
}
