//! Reports on the server: the rankings over every case and patrol it stores, the weekly
//! accompaniment count (三陪同) and the street chiefs' notice boards from the published roster,
//! with the same core functions a device runs ([`xiangying_model::report`],
//! [`xiangying_model::patrol::weekly`]), so the numbers agree for the same documents.

use crate::error::ServerError;
use crate::storage::{DocTx, RankingEntry, Storage, with_tx};
use automerge::ActorId;
use chrono::{FixedOffset, NaiveDate, TimeZone};
use xiangying_model::case::{CaseDoc, CaseState, Facts, fold};
use xiangying_model::document::Document;
use xiangying_model::ids::DocId;
use xiangying_model::org::Role;
use xiangying_model::org::Roster;
use xiangying_model::patrol::weekly::{
    OFFICIAL_PER_WEEK, WeeklyAccompaniment, week_start, weekly_accompaniments,
};
use xiangying_model::patrol::{PatrolDoc, PatrolFacts, PatrolState, fold_patrol_log};
use xiangying_model::report::{NoticeBoard, RankingRow, Rankings, RankingsBuilder, UnitKind};
use xiangying_model::sync::synced::SyncedDoc;
use xiangying_model::sync::wire;

/// The offset of China Standard Time, in which the admin CLI reads dates.
const CHINA_OFFSET_S: i32 = 8 * 3600;

/// Midnight at the start of `date` (`YYYY-MM-DD`) in China Standard Time (UTC+8), in ms
/// since the epoch.
pub fn day_start_ms(date: &str) -> Result<i64, ServerError> {
    let bad = || ServerError::BadRequest(format!("{date:?} is not a date like 2026-01-31"));
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| bad())?;
    let tz = FixedOffset::east_opt(CHINA_OFFSET_S).ok_or_else(bad)?;
    let midnight = day.and_hms_opt(0, 0, 0).ok_or_else(bad)?;
    tz.from_local_datetime(&midnight)
        .single()
        .map(|t| t.timestamp_millis())
        .ok_or_else(bad)
}

/// The period from the start of `from` to the end of `to` (both `YYYY-MM-DD`, China time,
/// `to` included) as `[from, to)` in ms.
pub fn period(from: &str, to: &str) -> Result<(i64, i64), ServerError> {
    let start = day_start_ms(from)?;
    let end = day_start_ms(to)? + 24 * 3_600_000;
    if end <= start {
        return Err(ServerError::BadRequest(format!(
            "the period {from} to {to} is empty"
        )));
    }
    Ok((start, end))
}

/// The rankings over `[from, to)` (ms) of every case and patrol the server stores.
pub fn rankings(storage: &dyn Storage, from: i64, to: i64) -> Result<Rankings, ServerError> {
    with_tx(storage, |tx| rankings_in(tx, from, to))
}

fn rankings_in(tx: &mut dyn DocTx, from: i64, to: i64) -> Result<Rankings, ServerError> {
    let mut b = RankingsBuilder::new(from, to);
    for RankingEntry {
        case_id: id,
        row,
        kept,
    } in tx.ranking_rows()?
    {
        match (row, kept) {
            (Some(bytes), _) => b.add_row(&decode_row(&id, &bytes)?),
            // Never counts.
            (None, true) => {}
            // Stored before rows were kept: fold the document.
            (None, false) => match load_folded(tx, &id)? {
                Some(Folded::Case(facts, state)) => b.add(&facts, &state),
                Some(Folded::Patrol(facts, state)) => b.add_patrol(&facts, &state),
                None => {}
            },
        }
    }
    Ok(b.finish())
}

/// One stored document, folded.
enum Folded {
    Case(Facts, CaseState),
    Patrol(PatrolFacts, PatrolState),
}

/// A stored document, folded (patrols from their log only).
fn load_folded(tx: &mut dyn DocTx, case_id: &DocId) -> Result<Option<Folded>, ServerError> {
    // Read only: the actor id is never written with.
    let actor = ActorId::from(b"xiangying-reports".to_vec());
    let Some(row) = tx.case(case_id)? else {
        return Ok(None);
    };
    let corrupt = |e: xiangying_model::case::DocError| {
        ServerError::Internal(format!("stored case {case_id}: {e}"))
    };
    let doc = SyncedDoc::load(&row.snapshot, &actor).map_err(corrupt)?;
    if let Some(doc) = doc.downcast_ref::<CaseDoc>() {
        let facts = doc.facts().map_err(corrupt)?;
        let events = doc.events().map_err(corrupt)?;
        let state = fold(&facts, &events);
        return Ok(Some(Folded::Case(facts, state)));
    }
    if let Some(doc) = doc.downcast_ref::<PatrolDoc>() {
        let (facts, state) = fold_patrol_log(doc).map_err(corrupt)?;
        return Ok(Some(Folded::Patrol(facts, state)));
    }
    // Other kinds never count in the rankings.
    Ok(None)
}

/// Every counted patrol the server stores (found through the ranking rows, so cases are never
/// loaded), folded from its log.
fn counted_patrols(tx: &mut dyn DocTx) -> Result<Vec<(PatrolFacts, PatrolState)>, ServerError> {
    let mut out = Vec::new();
    for RankingEntry {
        case_id: id,
        row,
        kept,
    } in tx.ranking_rows()?
    {
        let patrol = match (row, kept) {
            (Some(bytes), _) => matches!(decode_row(&id, &bytes)?, RankingRow::Patrol(_)),
            (None, true) => false,
            (None, false) => true,
        };
        if patrol && let Some(Folded::Patrol(facts, state)) = load_folded(tx, &id)? {
            out.push((facts, state));
        }
    }
    Ok(out)
}

fn decode_row(id: &DocId, bytes: &[u8]) -> Result<RankingRow, ServerError> {
    wire::decode(bytes)
        .map_err(|e| ServerError::Internal(format!("stored ranking row of {id}: {e}")))
}

/// The accompaniment count (三陪同) of the week holding `at` (ms) for every grid worker of the
/// published roster, from every patrol the server stores.
pub fn accompaniments(
    storage: &dyn Storage,
    at: i64,
) -> Result<Vec<WeeklyAccompaniment>, ServerError> {
    let people: Vec<String> = roster(storage)?
        .people_with_role(Role::GridWorker)
        .map(|p| p.id.clone())
        .collect();
    let patrols = with_tx(storage, |tx| counted_patrols(tx))?;
    Ok(weekly_accompaniments(
        &people,
        patrols.iter().map(|(f, s)| (f, s)),
        week_start(at),
    ))
}

/// One week's accompaniment count: its Monday (ms, see [`week_start`]) and a line per grid
/// worker.
pub type AccompanimentWeek = (i64, Vec<WeeklyAccompaniment>);

/// The rankings over `[from, to)` (ms) and the accompaniment count (三陪同) of every week
/// overlapping it, oldest first (each week as its Monday, see [`week_start`], with one line
/// per grid worker of the published roster; at most `max_weeks` weeks, the newest dropped
/// beyond that), from one scan of the ranking rows in one transaction: the same figures as
/// [`rankings`] and [`accompaniments`], for the desk's rankings page.
pub fn rankings_with_weeks(
    storage: &dyn Storage,
    from: i64,
    to: i64,
    max_weeks: usize,
) -> Result<(Rankings, Vec<AccompanimentWeek>), ServerError> {
    const WEEK_MS: i64 = 7 * 24 * 3_600_000;
    let people: Vec<String> = roster(storage)?
        .people_with_role(Role::GridWorker)
        .map(|p| p.id.clone())
        .collect();
    let (rankings, patrols) = with_tx(storage, |tx| rankings_and_patrols_in(tx, from, to))?;
    let mut weeks = Vec::new();
    let mut week = week_start(from);
    while week < to && weeks.len() < max_weeks {
        weeks.push((
            week,
            weekly_accompaniments(&people, patrols.iter().map(|(f, s)| (f, s)), week),
        ));
        week += WEEK_MS;
    }
    Ok((rankings, weeks))
}

/// [`rankings_in`] and [`counted_patrols`] from one scan of the ranking rows.
fn rankings_and_patrols_in(
    tx: &mut dyn DocTx,
    from: i64,
    to: i64,
) -> Result<(Rankings, Vec<(PatrolFacts, PatrolState)>), ServerError> {
    let mut b = RankingsBuilder::new(from, to);
    let mut patrol_ids = Vec::new();
    let mut patrols = Vec::new();
    for RankingEntry {
        case_id: id,
        row,
        kept,
    } in tx.ranking_rows()?
    {
        match (row, kept) {
            (Some(bytes), _) => {
                let row = decode_row(&id, &bytes)?;
                b.add_row(&row);
                if matches!(row, RankingRow::Patrol(_)) {
                    patrol_ids.push(id);
                }
            }
            // Never counts.
            (None, true) => {}
            // Stored before rows were kept: fold the document.
            (None, false) => match load_folded(tx, &id)? {
                Some(Folded::Case(facts, state)) => b.add(&facts, &state),
                Some(Folded::Patrol(facts, state)) => {
                    b.add_patrol(&facts, &state);
                    patrols.push((facts, state));
                }
                None => {}
            },
        }
    }
    for id in patrol_ids {
        if let Some(Folded::Patrol(facts, state)) = load_folded(tx, &id)? {
            patrols.push((facts, state));
        }
    }
    Ok((b.finish(), patrols))
}

/// The weekly accompaniment count as a tab-separated table with a Chinese header, for the week
/// holding `date` (`YYYY-MM-DD`, China time). Confirmed and unconfirmed accompaniments are
/// separate columns; the rule counts confirmed ones only.
pub fn accompaniments_table(storage: &dyn Storage, date: &str) -> Result<String, ServerError> {
    let rows = accompaniments(storage, day_start_ms(date)?)?;
    let roster = roster(storage)?;
    let mut out = format!(
        "网格员\t姓名\t巡查次数\t巡查时长(小时)\t街道干部陪同(已确认)\t街道干部陪同(未确认)\t部门陪同(已确认)\t部门陪同(未确认)\t达标(≥{OFFICIAL_PER_WEEK}次/周, 仅计已确认)\n"
    );
    for r in rows {
        let name = roster.person(&r.person).map_or("", |p| p.name.as_str());
        out.push_str(&format!(
            "{}\t{}\t{}\t{:.2}\t{}\t{}\t{}\t{}\t{}\n",
            r.person,
            name,
            r.patrols,
            r.patrol_ms as f64 / 3_600_000.0,
            r.official,
            r.official_unconfirmed,
            r.department,
            r.department_unconfirmed,
            if r.meets_rule { "是" } else { "否" }
        ));
    }
    Ok(out)
}

/// The published roster.
pub fn roster(storage: &dyn Storage) -> Result<Roster, ServerError> {
    let org = with_tx(storage, |tx| tx.org())?.ok_or(ServerError::NoOrg)?;
    Roster::from_json("roster", &org.roster).map_err(|e| ServerError::BadRequest(e.to_string()))
}

/// One kind's ranking as a tab-separated table, units named from the published roster (ids
/// only when no roster is published).
pub fn rankings_table(
    storage: &dyn Storage,
    from: i64,
    to: i64,
    kind: UnitKind,
) -> Result<String, ServerError> {
    let r = rankings(storage, from, to)?;
    let roster = match roster(storage) {
        Ok(r) => Some(r),
        Err(ServerError::NoOrg) => None,
        Err(e) => return Err(e),
    };
    let name = |id: &str| -> Option<String> { unit_name(roster.as_ref()?, kind, id) };
    Ok(r.table(kind, &name))
}

/// The name of a ranked unit (grid, community, department or person) in `roster`.
pub fn unit_name(roster: &Roster, kind: UnitKind, id: &str) -> Option<String> {
    match kind {
        UnitKind::Grid => roster.grid(id).map(|g| g.name.clone()),
        UnitKind::Community => roster.community(id).map(|c| c.name.clone()),
        UnitKind::Department => roster.department(id).map(|d| d.name.clone()),
        UnitKind::Person => roster.person(id).map(|p| p.name.clone()),
    }
}

/// The notice boards (街长公示栏) of the published roster.
pub fn notice_board(storage: &dyn Storage) -> Result<NoticeBoard, ServerError> {
    Ok(NoticeBoard::of(&roster(storage)?))
}

/// The notice boards as one printable, self-contained HTML page.
pub fn notice_board_html(storage: &dyn Storage) -> Result<String, ServerError> {
    Ok(notice_board(storage)?.html())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;
    use crate::storage::{CaseMeta, NewChange};
    use std::sync::Arc;
    use xiangying_core::Device;
    use xiangying_model::case::{Action, Assignee, CaseDoc, CaseKind, Claim, Event};
    use xiangying_model::org::zhenxing::{self, ids};

    const H: i64 = 3_600_000;
    const T0: i64 = 1_795_939_200_000;

    fn claim(roster: &Roster, person: &str) -> Claim {
        let p = roster.person(person).unwrap();
        Claim {
            person: p.id.clone(),
            role: p.role,
            scope: p.scope.clone(),
        }
    }

    /// Forty cases over four grids with varied flows, as whole saved documents.
    fn documents() -> Vec<(Facts, Vec<u8>)> {
        let roster = zhenxing::roster();
        let actor = ActorId::from(b"test-device".to_vec());
        (0..40)
            .map(|i| {
                let g = i % 4 + 1;
                let grid = roster.grid(&ids::grid(g)).unwrap().clone();
                let gw = ids::grid_worker(g);
                let cc = roster
                    .community_chief_of(&grid.community)
                    .unwrap()
                    .id
                    .clone();
                let at = T0 + i64::try_from(i).unwrap() * 5 * H;
                let facts = Facts {
                    id: format!("case-{i:03}"),
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
                let first = ev(
                    &gw,
                    at,
                    Action::Reported {
                        assignee: Assignee::Person(gw.clone()),
                    },
                );
                let mut doc = CaseDoc::create(&actor, &facts, &first).unwrap();
                let done = || Action::Resolved {
                    note: "修好".into(),
                    photos: vec![],
                };
                let rest: Vec<Event> = match i % 5 {
                    0 => vec![
                        ev(&gw, at + 3 * H, done()),
                        ev(&cc, at + 4 * H, Action::Verified { note: "好".into() }),
                        ev(&cc, at + 5 * H, Action::Closed { note: "结".into() }),
                    ],
                    1 => vec![ev(
                        &gw,
                        at + H,
                        Action::HandledOnSpot {
                            note: "处置".into(),
                            photos: vec!["ab".into()],
                        },
                    )],
                    2 => vec![
                        ev(
                            &cc,
                            at + H,
                            Action::Extended {
                                hours: 24,
                                reason: "等".into(),
                                until: None,
                            },
                        ),
                        ev(&gw, at + 30 * H, done()),
                    ],
                    3 => vec![
                        ev(&gw, at + 30 * H, done()),
                        ev(
                            &cc,
                            at + 31 * H,
                            Action::Reworked {
                                reason: "再修".into(),
                            },
                        ),
                    ],
                    _ => vec![],
                };
                for e in &rest {
                    doc.append_event(e).unwrap();
                }
                (facts, doc.save())
            })
            .collect()
    }

    #[test]
    fn device_and_server_rank_the_same_cases_alike() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(&dir.path().join("server")).unwrap();
        let device =
            Device::open_with_clock(&dir.path().join("device"), Arc::new(|| T0 + 400 * H)).unwrap();
        let docs = documents();
        with_tx(&storage, |tx| {
            for (facts, snapshot) in &docs {
                let pos = tx.allocate_positions(1)?;
                let meta = CaseMeta {
                    case_id: facts.id.clone().into(),
                    number: None,
                    status: "in_progress".into(),
                    level: "grid".into(),
                    grid: facts.grid.clone(),
                    community: facts.community.clone(),
                    reporter: facts.reporter.clone(),
                    category: facts.category.clone(),
                    created_at: facts.created_at,
                    received_at: facts.created_at,
                    ranking: {
                        let doc = CaseDoc::load(snapshot, &ActorId::random()).unwrap();
                        let state = fold(facts, &doc.events().unwrap());
                        RankingRow::of_case(facts, &state).map(|r| wire::encode(&r).unwrap())
                    },
                };
                let change = NewChange {
                    bytes: snapshot.clone(),
                    device: None,
                };
                tx.save_case(&meta, snapshot, &[change], pos, &[], &[])?;
            }
            Ok(())
        })
        .unwrap();
        for (facts, snapshot) in &docs {
            device.apply_remote(&facts.id, snapshot).unwrap();
        }
        for (from, to) in [
            (T0, T0 + 100 * H),
            (T0 + 50 * H, T0 + 250 * H),
            (0, i64::MAX),
        ] {
            let on_server = rankings(&storage, from, to).unwrap();
            let on_device = device.rankings(from, to).unwrap();
            assert_eq!(on_server, on_device);
            assert_eq!(on_server.grids.len(), 4);
            assert!(on_server.grids.iter().all(|u| u.rank.is_some()));
        }
        // Documents stored before ranking rows were kept are folded from their snapshots.
        let before = rankings(&storage, 0, i64::MAX).unwrap();
        let db = rusqlite::Connection::open(dir.path().join("server").join("server.db")).unwrap();
        let dropped = db
            .execute(
                "DELETE FROM case_rankings WHERE rowid % 2 = 0 OR row IS NULL",
                [],
            )
            .unwrap();
        assert!(dropped >= 20, "{dropped}");
        assert_eq!(rankings(&storage, 0, i64::MAX).unwrap(), before);

        let all = rankings(&storage, 0, i64::MAX).unwrap();
        let total: u64 = all.grids.iter().map(|u| u.figures.raised).sum();
        assert_eq!(total, 40);
        let spot: u64 = all.grids.iter().map(|u| u.figures.handled_on_spot).sum();
        assert_eq!(spot, 8);
        let reworked: u64 = all.grids.iter().map(|u| u.figures.reworked).sum();
        assert_eq!(reworked, 8);

        // The table names units from the published roster once there is one.
        let no_names = rankings_table(&storage, 0, i64::MAX, UnitKind::Grid).unwrap();
        assert!(no_names.contains("\tg01\tg01\t"));
        let roster = serde_json::to_string(&zhenxing::roster()).unwrap();
        let catalogue = serde_json::to_string(&zhenxing::catalogue()).unwrap();
        crate::admin::publish(&storage, &roster, &catalogue).unwrap();
        let named = rankings_table(&storage, 0, i64::MAX, UnitKind::Community).unwrap();
        assert!(named.contains("兴隆社区"), "{named}");
        let html = notice_board_html(&storage).unwrap();
        assert_eq!(
            html.matches("<section class=\"board\"").count(),
            zhenxing::SEGMENTS
        );
    }

    #[test]
    fn dates_are_read_in_china_time() {
        // 2026-01-01T00:00:00+08:00 = 2025-12-31T16:00:00Z.
        assert_eq!(day_start_ms("2026-01-01").unwrap(), 1_767_196_800_000);
        let (a, b) = period("2026-01-01", "2026-01-31").unwrap();
        assert_eq!(b - a, 31 * 24 * H);
        assert!(period("2026-02-01", "2026-01-01").is_err());
        assert!(day_start_ms("2026-13-01").is_err());
        assert!(matches!(
            notice_board(&SqliteStorage::open(tempfile::tempdir().unwrap().path()).unwrap()),
            Err(ServerError::NoOrg)
        ));
    }
}
