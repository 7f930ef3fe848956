//! Index tables: one row per case in `cases` and its inbox keys in `case_inbox`, rewritten in
//! the same transaction as every document write. Every list the app shows is a query here;
//! no list ever loads a document.

use crate::case::{Action, Assignee, CaseKind, CaseState, Facts, InboxKey, Outcome, Status};
use crate::error::Result;
use crate::org::Level;
use rusqlite::{Connection, Row, ToSql, params};

/// Which cases to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Cases waiting on any of these inbox keys (see [`crate::case::inbox_keys_for`]).
    Inbox(Vec<InboxKey>),
    /// Cases raised by this person.
    ReportedBy(String),
    /// Cases in this status.
    Status(Status),
    /// Open cases past their deadline.
    Overdue,
    /// Cases in this grid.
    Grid(String),
    /// Cases in this community.
    Community(String),
    /// Every case in the store.
    All,
}

/// One row of a case list: what a list screen shows, without loading the document.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSummary {
    /// Case id.
    pub id: String,
    /// Human number, once the server assigned it.
    pub number: Option<String>,
    /// Problem or request.
    pub kind: CaseKind,
    /// Category code.
    pub category: String,
    /// Category name.
    pub category_name: String,
    /// Where it stands.
    pub status: Status,
    /// Its level.
    pub level: Level,
    /// Who it waits on, as `person-id`, `center`, `dept:a,b` or `volunteers:community`.
    pub assignee: Option<String>,
    /// Reporter's person id.
    pub reporter: String,
    /// Grid id.
    pub grid: String,
    /// Community id.
    pub community: String,
    /// Road segment id.
    pub segment: Option<String>,
    /// Reporter's words.
    pub description: String,
    /// Raised at (ms).
    pub created_at: i64,
    /// Last applied event at (ms).
    pub updated_at: i64,
    /// Deadline (ms).
    pub deadline: i64,
    /// Past its deadline with work still open, at the time of the query.
    pub overdue: bool,
}

/// The assignee as stored in the index.
pub fn assignee_text(a: &Assignee) -> String {
    match a {
        Assignee::Person(p) => p.clone(),
        Assignee::Center => "center".into(),
        Assignee::Departments(ds) => format!("dept:{}", ds.join(",")),
        Assignee::Volunteers(c) => format!("volunteers:{c}"),
    }
}

/// Writes (or rewrites) a case's index rows.
pub fn upsert(
    conn: &Connection,
    facts: &Facts,
    state: &CaseState,
    number: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO cases (case_id, number, kind, category, category_name, status, level,
            assignee, reporter, grid, community, segment, description, created_at, updated_at,
            deadline, open, lon, lat, escalated, reworks)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19, ?20, ?21)
         ON CONFLICT (case_id) DO UPDATE SET number = excluded.number,
            status = excluded.status, level = excluded.level, assignee = excluded.assignee,
            updated_at = excluded.updated_at, deadline = excluded.deadline,
            open = excluded.open, lon = excluded.lon, lat = excluded.lat,
            escalated = excluded.escalated, reworks = excluded.reworks",
    )?
    .execute(params![
        facts.id,
        number,
        facts.kind.as_str(),
        facts.category,
        facts.category_name,
        state.status.as_str(),
        state.level.as_str(),
        state.assignee.as_ref().map(assignee_text),
        facts.reporter,
        facts.grid,
        facts.community,
        facts.segment,
        facts.description,
        facts.created_at,
        state.updated_at,
        state.deadline,
        state.status.is_open(),
        place(facts).map(|p| p.lon),
        place(facts).map(|p| p.lat),
        was_escalated(state),
        state.reworks,
    ])?;
    conn.prepare_cached("DELETE FROM case_inbox WHERE case_id = ?1")?
        .execute([&facts.id])?;
    let mut ins = conn
        .prepare_cached("INSERT INTO case_inbox (key, case_id, updated_at) VALUES (?1, ?2, ?3)")?;
    for key in state.waiting_on(facts) {
        ins.execute(params![key.to_string(), facts.id, state.updated_at])?;
    }
    Ok(())
}

/// The case's location, when it is a real position (a NaN would defeat the range query).
fn place(facts: &Facts) -> Option<crate::org::Point> {
    Some(facts.location).filter(|p| p.is_valid())
}

/// True when an escalation of the case took effect (whatever happened after).
fn was_escalated(state: &CaseState) -> bool {
    state.history.iter().any(|e| {
        matches!(e.outcome, Outcome::Applied) && matches!(e.event.action, Action::Escalated { .. })
    })
}

pub(super) const COLUMNS: &str =
    "c.case_id, c.number, c.kind, c.category, c.category_name, c.status,
    c.level, c.assignee, c.reporter, c.grid, c.community, c.segment, c.description,
    c.created_at, c.updated_at, c.deadline, c.open";

pub(super) fn summary(row: &Row<'_>, now: i64) -> rusqlite::Result<CaseSummary> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown {what}").into(),
        )
    };
    let kind: String = row.get(2)?;
    let status: String = row.get(5)?;
    let level: String = row.get(6)?;
    let deadline: i64 = row.get(15)?;
    let open: bool = row.get(16)?;
    Ok(CaseSummary {
        id: row.get(0)?,
        number: row.get(1)?,
        kind: CaseKind::parse(&kind).ok_or_else(|| bad(2, "kind"))?,
        category: row.get(3)?,
        category_name: row.get(4)?,
        status: Status::parse(&status).ok_or_else(|| bad(5, "status"))?,
        level: Level::parse(&level).ok_or_else(|| bad(6, "level"))?,
        assignee: row.get(7)?,
        reporter: row.get(8)?,
        grid: row.get(9)?,
        community: row.get(10)?,
        segment: row.get(11)?,
        description: row.get(12)?,
        created_at: row.get(13)?,
        updated_at: row.get(14)?,
        deadline,
        overdue: open && now > deadline,
    })
}

/// Lists cases, newest activity first.
pub fn list(conn: &Connection, query: &Query, now: i64, limit: u32) -> Result<Vec<CaseSummary>> {
    let (sql, arg): (String, Box<dyn ToSql>) = match query {
        Query::Inbox(keys) => return inbox(conn, keys, now, limit),
        Query::ReportedBy(p) => (
            format!(
                "SELECT {COLUMNS} FROM cases c WHERE c.reporter = ?1
                 ORDER BY c.created_at DESC LIMIT ?2"
            ),
            Box::new(p.clone()),
        ),
        Query::Status(s) => (
            format!(
                "SELECT {COLUMNS} FROM cases c WHERE c.status = ?1
                 ORDER BY c.updated_at DESC LIMIT ?2"
            ),
            Box::new(s.as_str()),
        ),
        Query::Overdue => (
            format!(
                "SELECT {COLUMNS} FROM cases c WHERE c.open = 1 AND c.deadline < ?1
                 ORDER BY c.deadline LIMIT ?2"
            ),
            Box::new(now),
        ),
        Query::Grid(g) => (
            format!(
                "SELECT {COLUMNS} FROM cases c WHERE c.grid = ?1
                 ORDER BY c.updated_at DESC LIMIT ?2"
            ),
            Box::new(g.clone()),
        ),
        Query::Community(c) => (
            format!(
                "SELECT {COLUMNS} FROM cases c WHERE c.community = ?1
                 ORDER BY c.updated_at DESC LIMIT ?2"
            ),
            Box::new(c.clone()),
        ),
        Query::All => (
            format!(
                "SELECT {COLUMNS} FROM cases c WHERE ?1 IS NOT NULL
                 ORDER BY c.updated_at DESC LIMIT ?2"
            ),
            Box::new(1),
        ),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![arg, limit], |r| summary(r, now))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The inbox: one indexed, limited scan per key, merged newest first without duplicates.
fn inbox(conn: &Connection, keys: &[InboxKey], now: i64, limit: u32) -> Result<Vec<CaseSummary>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM case_inbox i JOIN cases c ON c.case_id = i.case_id
         WHERE i.key = ?1 ORDER BY i.updated_at DESC LIMIT ?2"
    ))?;
    let mut all = Vec::new();
    for key in keys {
        let rows = stmt.query_map(params![key.to_string(), limit], |r| summary(r, now))?;
        for row in rows {
            all.push(row?);
        }
    }
    all.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
    let mut seen = std::collections::HashSet::new();
    all.retain(|c| seen.insert(c.id.clone()));
    all.truncate(limit as usize);
    Ok(all)
}
