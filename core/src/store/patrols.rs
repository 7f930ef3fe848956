//! Patrol index rows and the buffer of fixes not yet packed into a track chunk.
//!
//! Fixes arrive every few seconds; each batch is one small insert into `patrol_points`. When
//! enough have gathered (or the patrol ends, or the device syncs) they are packed into one
//! track chunk of the patrol document and deleted from the buffer in the same transaction, so a
//! fix is always in exactly one of the two places.

use crate::error::Result;
use crate::patrol::{PatrolFacts, PatrolPlace, PatrolState, TrackPoint};
use rusqlite::{Connection, Row, params};

/// One row of a patrol list: what a list screen shows, without loading the document.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolSummary {
    /// Patrol id.
    pub id: String,
    /// Who walks it.
    pub walker: String,
    /// Where.
    pub place: PatrolPlace,
    /// The place's community.
    pub community: String,
    /// Started at (ms, device clock).
    pub started_at: i64,
    /// Ended at, once ended.
    pub ended_at: Option<i64>,
    /// Fixes in the track, packed or not.
    pub points: u32,
    /// Walked length, metres (of the packed track).
    pub distance_m: f64,
    /// How many people walked along.
    pub companions: u32,
    /// True when a server voided the whole patrol.
    pub voided: bool,
}

/// Writes (or rewrites) a patrol's index row.
pub fn upsert(conn: &Connection, facts: &PatrolFacts, state: &PatrolState) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO patrols (patrol_id, walker, place_kind, place, community, started_at,
            ended_at, points, distance_m, companions, voided)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (patrol_id) DO UPDATE SET ended_at = excluded.ended_at,
            points = excluded.points, distance_m = excluded.distance_m,
            companions = excluded.companions, voided = excluded.voided",
    )?
    .execute(params![
        facts.id,
        facts.walker.person,
        facts.place.kind_str(),
        facts.place.id(),
        facts.community,
        facts.started_at,
        state.ended_at,
        state.points,
        state.distance_m,
        state.companions.len() as i64,
        state.voided.is_some(),
    ])?;
    Ok(())
}

const COLUMNS: &str = "p.patrol_id, p.walker, p.place_kind, p.place, p.community, p.started_at,
    p.ended_at, p.points + (SELECT COUNT(*) FROM patrol_points q WHERE q.patrol_id = p.patrol_id),
    p.distance_m, p.companions, p.voided";

fn summary(r: &Row<'_>) -> rusqlite::Result<PatrolSummary> {
    let kind: String = r.get(2)?;
    let place: String = r.get(3)?;
    Ok(PatrolSummary {
        id: r.get(0)?,
        walker: r.get(1)?,
        place: if kind == "segment" {
            PatrolPlace::Segment(place)
        } else {
            PatrolPlace::Grid(place)
        },
        community: r.get(4)?,
        started_at: r.get(5)?,
        ended_at: r.get(6)?,
        points: r.get(7)?,
        distance_m: r.get(8)?,
        companions: r.get(9)?,
        voided: r.get(10)?,
    })
}

/// Whether a patrol list holds the patrols that have ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Every patrol, ended or not.
    Included,
    /// Only the patrols still under way.
    Excluded,
}

/// Patrols newest first, all or one walker's, with or without those that ended.
pub fn list(
    conn: &Connection,
    walker: Option<&str>,
    ended: Ended,
    limit: u32,
) -> Result<Vec<PatrolSummary>> {
    let only_open = ended == Ended::Excluded;
    let sql = format!(
        "SELECT {COLUMNS} FROM patrols p
         WHERE (?1 IS NULL OR p.walker = ?1) AND (?2 = 0 OR p.ended_at IS NULL)
         ORDER BY p.started_at DESC, p.patrol_id LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![walker, only_open, limit], summary)?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Adds fixes to a patrol's buffer; returns how many the buffer holds now.
pub fn buffer_points(conn: &Connection, patrol_id: &str, points: &[TrackPoint]) -> Result<u32> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO patrol_points (patrol_id, at, lon, lat, accuracy_m)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for p in points {
        stmt.execute(params![patrol_id, p.at, p.lon, p.lat, p.accuracy_m])?;
    }
    buffered_len(conn, patrol_id)
}

/// How many fixes wait in a patrol's buffer.
pub fn buffered_len(conn: &Connection, patrol_id: &str) -> Result<u32> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM patrol_points WHERE patrol_id = ?1")?
        .query_row([patrol_id], |r| r.get(0))?)
}

/// The buffered fixes of a patrol in the order recorded, with the row id of the last one.
pub fn buffered(conn: &Connection, patrol_id: &str) -> Result<(Vec<TrackPoint>, Option<i64>)> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, lon, lat, accuracy_m FROM patrol_points WHERE patrol_id = ?1 ORDER BY id",
    )?;
    let mut last = None;
    let mut out = Vec::new();
    let mut rows = stmt.query([patrol_id])?;
    while let Some(r) = rows.next()? {
        last = Some(r.get(0)?);
        out.push(TrackPoint {
            at: r.get(1)?,
            lon: r.get(2)?,
            lat: r.get(3)?,
            accuracy_m: r.get(4)?,
        });
    }
    Ok((out, last))
}

/// The time of a patrol's last buffered fix, if any.
pub fn last_buffered_at(conn: &Connection, patrol_id: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT MAX(at) FROM patrol_points WHERE patrol_id = ?1")?
        .query_row([patrol_id], |r| r.get(0))?)
}

/// Removes a patrol's buffered fixes up to and including row `upto` (now packed in a chunk).
pub fn drop_buffered(conn: &Connection, patrol_id: &str, upto: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM patrol_points WHERE patrol_id = ?1 AND id <= ?2")?
        .execute(params![patrol_id, upto])?;
    Ok(())
}

/// The patrols with buffered fixes.
pub fn with_buffered(conn: &Connection) -> Result<Vec<String>> {
    super::strings(conn, "SELECT DISTINCT patrol_id FROM patrol_points", [])
}
