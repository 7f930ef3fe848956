//! Queries by place and by period over the index tables, never loading a document:
//! open cases of a category near a location (duplicate suggestions when a report is started),
//! and the lists of the weekly, monthly and quarterly review meetings, per grid and community.
//!
//! Both read the columns migration 3 added to `cases`: `lon`, `lat` (NULL for rows written
//! before it until their next write; the nearby query skips them), `escalated` and `reworks`.

use super::index::{COLUMNS, summary};
use crate::error::Result;
use crate::org::{EARTH_RADIUS_M, Point, distance_m};
use crate::store::CaseSummary;
use rusqlite::{Connection, params};
use std::collections::BTreeMap;

/// How close an open case must be to be suggested as a duplicate, in metres.
pub const DUPLICATE_RADIUS_M: f64 = 250.0;
/// How recent an open case must be to be suggested as a duplicate, in days.
pub const DUPLICATE_WINDOW_DAYS: u32 = 7;

const DAY_MS: i64 = 86_400_000;

/// Open cases of `category` raised at or after `since` whose location lies within `radius_m`
/// metres of `at` (the radius included), nearest first (ties: newest first, then by id).
///
/// A bounding box in SQL (on the `(category, open, created_at)` index, then `lon`/`lat`)
/// picks the candidates; the exact distance is computed here.
pub fn open_near(
    conn: &Connection,
    category: &str,
    at: Point,
    radius_m: f64,
    since: i64,
    now: i64,
) -> Result<Vec<(CaseSummary, f64)>> {
    if !at.is_valid() || !radius_m.is_finite() || radius_m < 0.0 {
        return Ok(Vec::new());
    }
    let k = EARTH_RADIUS_M.to_radians();
    // A little over the exact box, so that the equirectangular distance decides at the edge.
    let dlat = radius_m / k * 1.01 + 1e-9;
    let cos = (at.lat.abs() + dlat).min(89.9).to_radians().cos().max(1e-6);
    let dlon = (radius_m / (k * cos) * 1.01 + 1e-9).min(360.0);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, c.lon, c.lat FROM cases c
         WHERE c.category = ?1 AND c.open = 1 AND c.created_at >= ?2
           AND c.lon BETWEEN ?3 AND ?4 AND c.lat BETWEEN ?5 AND ?6"
    ))?;
    let rows = stmt.query_map(
        params![
            category,
            since,
            at.lon - dlon,
            at.lon + dlon,
            at.lat - dlat,
            at.lat + dlat
        ],
        |r| {
            let s = summary(r, now)?;
            let p = Point::new(r.get(17)?, r.get(18)?);
            Ok((s, p))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (s, p) = row?;
        let d = distance_m(at, p);
        if d <= radius_m {
            out.push((s, d));
        }
    }
    out.sort_by(|a, b| {
        a.1.total_cmp(&b.1)
            .then(b.0.created_at.cmp(&a.0.created_at))
            .then(a.0.id.cmp(&b.0.id))
    });
    Ok(out)
}

/// The review a meeting list is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// The weekly review: the last 7 days.
    Week,
    /// The monthly review: the last 30 days.
    Month,
    /// The quarterly review: the last 91 days.
    Quarter,
}

impl Period {
    /// The period's length in days (fixed lengths, so a list never depends on the calendar or
    /// the device's time zone).
    pub fn days(self) -> u32 {
        match self {
            Period::Week => 7,
            Period::Month => 30,
            Period::Quarter => 91,
        }
    }

    /// The period's length in ms.
    pub fn ms(self) -> i64 {
        i64::from(self.days()) * DAY_MS
    }

    /// The stable identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
        }
    }
}

/// The cases one grid or community brings to a review meeting.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MeetingGroup {
    /// The grid's or community's id.
    pub id: String,
    /// Open and past their deadline, most overdue first.
    pub overdue: Vec<CaseSummary>,
    /// Escalated at some point, and still not finished or finished within the period; oldest
    /// first.
    pub escalated: Vec<CaseSummary>,
    /// Sent back for rework at least once, and still not finished or finished within the
    /// period; oldest first.
    pub reworked: Vec<CaseSummary>,
    /// Open and raised before the period began (open longer than the period); oldest first.
    pub long_open: Vec<CaseSummary>,
}

impl MeetingGroup {
    /// True when the group has nothing to discuss.
    pub fn is_empty(&self) -> bool {
        self.overdue.is_empty()
            && self.escalated.is_empty()
            && self.reworked.is_empty()
            && self.long_open.is_empty()
    }
}

/// The lists of a review meeting, per grid and per community, from the cases the device holds.
///
/// "Open" is the index's `open` flag: not resolved, verified or finished. "Finished" is closed,
/// voided or marked duplicate. A case may stand in several lists.
#[derive(Debug, Clone, PartialEq)]
pub struct MeetingList {
    /// The review.
    pub period: Period,
    /// When the list was made (ms).
    pub now: i64,
    /// When the period began: `now` minus its length (ms).
    pub since: i64,
    /// Grids with anything to discuss, by id.
    pub grids: Vec<MeetingGroup>,
    /// Communities with anything to discuss, by id (their grids' cases together).
    pub communities: Vec<MeetingGroup>,
}

/// Builds the meeting list for `period` ending at `now`, in one indexed scan.
pub fn meeting_list(conn: &Connection, period: Period, now: i64) -> Result<MeetingList> {
    let since = now - period.ms();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, c.escalated, c.reworks FROM cases c
         WHERE (c.open = 1 AND (c.deadline < ?1 OR c.created_at < ?2))
            OR ((c.escalated = 1 OR c.reworks > 0)
                AND (c.status NOT IN ('closed', 'voided', 'duplicate') OR c.updated_at >= ?2))"
    ))?;
    let rows = stmt.query_map(params![now, since], |r| {
        let s = summary(r, now)?;
        let escalated: bool = r.get(17)?;
        let reworks: i64 = r.get(18)?;
        Ok((s, escalated, reworks))
    })?;
    let mut grids: BTreeMap<String, MeetingGroup> = BTreeMap::new();
    let mut communities: BTreeMap<String, MeetingGroup> = BTreeMap::new();
    for row in rows {
        let (s, escalated, reworks) = row?;
        let open = s.status.is_open();
        let recent = !s.status.is_terminal() || s.updated_at >= since;
        let lists = [
            s.overdue,
            escalated && recent,
            reworks > 0 && recent,
            open && s.created_at < since,
        ];
        for (map, key) in [(&mut grids, &s.grid), (&mut communities, &s.community)] {
            let g = map.entry(key.clone()).or_insert_with(|| MeetingGroup {
                id: key.clone(),
                ..MeetingGroup::default()
            });
            for (i, list) in [
                &mut g.overdue,
                &mut g.escalated,
                &mut g.reworked,
                &mut g.long_open,
            ]
            .into_iter()
            .enumerate()
            {
                if lists[i] {
                    list.push(s.clone());
                }
            }
        }
    }
    let finish = |map: BTreeMap<String, MeetingGroup>| -> Vec<MeetingGroup> {
        map.into_values()
            .filter(|g| !g.is_empty())
            .map(|mut g| {
                g.overdue
                    .sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.id.cmp(&b.id)));
                for list in [&mut g.escalated, &mut g.reworked, &mut g.long_open] {
                    list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
                }
                g
            })
            .collect()
    };
    Ok(MeetingList {
        period,
        now,
        since,
        grids: finish(grids),
        communities: finish(communities),
    })
}

/// Cases whose index row has no place yet (written before migration 3), up to `limit`.
pub fn missing_place(conn: &Connection, limit: u32) -> Result<Vec<String>> {
    let sql = "SELECT case_id FROM cases WHERE lon IS NULL ORDER BY case_id LIMIT ?1";
    super::strings(conn, sql, [limit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema;

    fn plan(conn: &Connection, sql: &str) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("; ")
    }

    #[test]
    fn the_nearby_query_uses_the_category_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        schema::migrate(&mut conn).unwrap();
        let p = plan(
            &conn,
            "SELECT c.case_id FROM cases c WHERE c.category = 'x' AND c.open = 1
               AND c.created_at >= 0 AND c.lon BETWEEN 0 AND 1 AND c.lat BETWEEN 0 AND 1",
        );
        assert!(p.contains("cases_by_category"), "{p}");
    }

    #[test]
    fn a_position_that_is_not_one_finds_nothing() {
        let mut conn = Connection::open_in_memory().unwrap();
        schema::migrate(&mut conn).unwrap();
        let bad = Point::new(f64::NAN, 0.0);
        assert!(open_near(&conn, "x", bad, 250.0, 0, 0).unwrap().is_empty());
        let ok = Point::new(0.0, 0.0);
        assert!(open_near(&conn, "x", ok, -1.0, 0, 0).unwrap().is_empty());
        assert_eq!(Period::Quarter.ms(), 91 * DAY_MS);
        assert_eq!(Period::Month.as_str(), "month");
    }
}
