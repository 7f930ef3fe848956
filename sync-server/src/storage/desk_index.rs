//! The desk's case index (tables `desk_cases`, `desk_case_departments`; decision 0040): one
//! row per case document with the columns the desk lists, filters, sorts and charts by, kept
//! by [`crate::desk::index`] from the folded case. [`DeskIndexTx`] is the storage concern; the
//! statements' filter and order are built here once ([`where_clause`], [`order_clause`]) for
//! both dialects, so SQLite and PostgreSQL answer the same question the same way.
//!
//! Text search is a substring match (`LIKE '%…%'` with `%`, `_` and `\` escaped) on a
//! lower-cased searchable text, the same on both backends; no FTS (see decision 0040).

use super::Result;
use super::migrations::Dialect;

/// One case as the desk index stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeskRow {
    /// The case id.
    pub case_id: String,
    /// Its human number, once the server gave one.
    pub number: Option<String>,
    /// Status (`Status::as_str`).
    pub status: String,
    /// Level (`Level::as_str`).
    pub level: String,
    /// Category code.
    pub category: String,
    /// The category's Chinese name as the case recorded it.
    pub category_name: String,
    /// Grid id.
    pub grid: String,
    /// Community id.
    pub community: String,
    /// Reporter's person id.
    pub reporter: String,
    /// Who the case waits on, as text for people (names from the roster at indexing time).
    pub assignee: String,
    /// The departments it was dispatched to (ids), in order of first dispatch.
    pub departments: Vec<String>,
    /// Deadline (ms).
    pub deadline: Option<i64>,
    /// Raised at (ms, device clock).
    pub created_at: i64,
    /// Latest applied event (ms, device clock).
    pub updated_at: i64,
    /// Closed at (ms), if closed.
    pub closed_at: Option<i64>,
    /// Latitude (WGS-84), when the case has a place.
    pub lat: Option<f64>,
    /// Longitude (WGS-84).
    pub lon: Option<f64>,
    /// The start of the description, for lists.
    pub summary: String,
    /// Lower-cased number, description and place names, truncated: what text search reads.
    pub search: String,
}

/// What a desk query selects. Every field narrows; the default selects nothing outside an
/// empty scope (see [`IndexFilter::scope_keys`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexFilter {
    /// The reader sees every case.
    pub scope_all: bool,
    /// Otherwise, the access keys (text) through which they see cases (`case_access`).
    pub scope_keys: Vec<String>,
    /// Any of these statuses (empty: any).
    pub statuses: Vec<String>,
    /// Overdue at this time: status among `open` and deadline before it.
    pub overdue: Option<Overdue>,
    /// Category code.
    pub category: Option<String>,
    /// Grid id.
    pub grid: Option<String>,
    /// Community id.
    pub community: Option<String>,
    /// Department id (dispatched to it).
    pub department: Option<String>,
    /// Reporter's person id.
    pub reporter: Option<String>,
    /// Raised at or after (ms).
    pub created_from: Option<i64>,
    /// Raised before (ms).
    pub created_to: Option<i64>,
    /// Closed at or after (ms).
    pub closed_from: Option<i64>,
    /// Closed before (ms).
    pub closed_to: Option<i64>,
    /// Number equal to this or starting with it.
    pub number_prefix: Option<String>,
    /// Lower-cased substring of the searchable text.
    pub text: Option<String>,
    /// Only cases with a place.
    pub with_place: bool,
}

/// The overdue filter: open statuses, deadline passed.
#[derive(Debug, Clone, PartialEq)]
pub struct Overdue {
    /// The time it is judged at (ms).
    pub now: i64,
    /// The statuses in which work is still open.
    pub open: Vec<String>,
}

/// What a list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexSort {
    /// Raised at.
    Created,
    /// Last change.
    Updated,
    /// Deadline.
    Deadline,
    /// Number (cases without one last).
    Number,
}

/// What daily counts are grouped by besides the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// Category code.
    Category,
    /// Grid id.
    Grid,
}

/// One statement argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A `BIGINT`.
    Int(i64),
    /// A `TEXT`.
    Text(String),
}

/// The desk index (tables `desk_cases`, `desk_case_departments`).
///
/// Invariant: a case has at most one row, replaced whole by [`DeskIndexTx::put_desk_case`]
/// together with its departments; every query is limited by the filter's scope.
pub trait DeskIndexTx {
    /// Writes a case's row (and its departments), replacing the previous one.
    fn put_desk_case(&mut self, row: &DeskRow) -> Result<()>;
    /// The rows `filter` selects, sorted, `limit` from `offset`.
    fn desk_cases(
        &mut self,
        filter: &IndexFilter,
        sort: IndexSort,
        desc: bool,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<DeskRow>>;
    /// How many rows `filter` selects.
    fn desk_count(&mut self, filter: &IndexFilter) -> Result<u64>;
    /// How many rows `filter` selects per (category or grid, China day number), where a
    /// day number is `(created_at + 8 h) / 24 h`.
    fn desk_daily(&mut self, filter: &IndexFilter, by: GroupBy) -> Result<Vec<(String, i64, u64)>>;
}

/// The columns every row query reads, in [`DeskRow`]'s order (`departments` as text).
pub const COLUMNS: &str = "d.case_id, d.number, d.status, d.level, d.category, d.category_name, \
     d.grid, d.community, d.reporter, d.assignee, d.departments, d.deadline, d.created_at, \
     d.updated_at, d.closed_at, d.lat, d.lon, d.summary, d.search";

/// The separator of the `departments` column (ids never contain it).
pub const DEPT_SEP: char = '\u{1f}';

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Builds the `WHERE` clause (starting with ` WHERE `) of `f` over `desk_cases d`, with its
/// arguments, numbering placeholders from `args.len() + 1`.
pub fn where_clause(f: &IndexFilter, dialect: Dialect, args: &mut Vec<Arg>) -> String {
    let mut conds: Vec<String> = Vec::new();
    let ph = |args: &mut Vec<Arg>, a: Arg| -> String {
        args.push(a);
        match dialect {
            Dialect::Sqlite => format!("?{}", args.len()),
            Dialect::Postgres => format!("${}", args.len()),
        }
    };
    if !f.scope_all {
        if f.scope_keys.is_empty() {
            conds.push("1 = 0".into());
        } else {
            let keys: Vec<String> = f
                .scope_keys
                .iter()
                .map(|k| ph(args, Arg::Text(k.clone())))
                .collect();
            conds.push(format!(
                "d.case_id IN (SELECT a.case_id FROM case_access a WHERE a.key IN ({}))",
                keys.join(", ")
            ));
        }
    }
    if !f.statuses.is_empty() {
        let s: Vec<String> = f
            .statuses
            .iter()
            .map(|s| ph(args, Arg::Text(s.clone())))
            .collect();
        conds.push(format!("d.status IN ({})", s.join(", ")));
    }
    if let Some(o) = &f.overdue {
        let s: Vec<String> = o
            .open
            .iter()
            .map(|s| ph(args, Arg::Text(s.clone())))
            .collect();
        if s.is_empty() {
            conds.push("1 = 0".into());
        } else {
            conds.push(format!("d.status IN ({})", s.join(", ")));
        }
        conds.push(format!("d.deadline < {}", ph(args, Arg::Int(o.now))));
    }
    for (col, v) in [
        ("d.category", &f.category),
        ("d.grid", &f.grid),
        ("d.community", &f.community),
        ("d.reporter", &f.reporter),
    ] {
        if let Some(v) = v {
            conds.push(format!("{col} = {}", ph(args, Arg::Text(v.clone()))));
        }
    }
    if let Some(dep) = &f.department {
        conds.push(format!(
            "d.case_id IN (SELECT x.case_id FROM desk_case_departments x WHERE x.department = {})",
            ph(args, Arg::Text(dep.clone()))
        ));
    }
    for (cond, v) in [
        ("d.created_at >=", f.created_from),
        ("d.created_at <", f.created_to),
        ("d.closed_at >=", f.closed_from),
        ("d.closed_at <", f.closed_to),
    ] {
        if let Some(v) = v {
            conds.push(format!("{cond} {}", ph(args, Arg::Int(v))));
        }
    }
    if let Some(n) = &f.number_prefix {
        conds.push(format!(
            "d.number LIKE {} ESCAPE '\\'",
            ph(args, Arg::Text(format!("{}%", like_escape(n))))
        ));
    }
    if let Some(t) = &f.text {
        conds.push(format!(
            "d.search LIKE {} ESCAPE '\\'",
            ph(args, Arg::Text(format!("%{}%", like_escape(t))))
        ));
    }
    if f.with_place {
        conds.push("d.lat IS NOT NULL AND d.lon IS NOT NULL".into());
    }
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

/// The `ORDER BY` clause of a sort (rows without a number last either way; the case id breaks
/// ties so pages never overlap).
pub fn order_clause(sort: IndexSort, desc: bool) -> String {
    let dir = if desc { "DESC" } else { "ASC" };
    match sort {
        IndexSort::Created => format!(" ORDER BY d.created_at {dir}, d.case_id {dir}"),
        IndexSort::Updated => format!(" ORDER BY d.updated_at {dir}, d.case_id {dir}"),
        // The index always writes a deadline (the fold computes one for every case), so the
        // plain column sorts, and its index serves the order.
        IndexSort::Deadline => format!(" ORDER BY d.deadline {dir}, d.case_id {dir}"),
        IndexSort::Number => format!(
            " ORDER BY (CASE WHEN d.number IS NULL THEN 1 ELSE 0 END), d.number {dir}, d.case_id {dir}"
        ),
    }
}

/// The group column of a [`GroupBy`].
pub fn group_column(by: GroupBy) -> &'static str {
    match by {
        GroupBy::Category => "d.category",
        GroupBy::Grid => "d.grid",
    }
}

/// The day-number expression (China time) over `d.created_at`, the same on both dialects
/// (integer division of `BIGINT`s).
pub const DAY_EXPR: &str = "((d.created_at + 28800000) / 86400000)";

/// The departments as stored in the `departments` column.
pub fn join_departments(deps: &[String]) -> String {
    deps.join(&DEPT_SEP.to_string())
}

/// The `departments` column read back.
pub fn split_departments(text: &str) -> Vec<String> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split(DEPT_SEP).map(str::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_escape("100%_a\\b"), "100\\%\\_a\\\\b");
    }

    #[test]
    fn placeholders_follow_the_dialect_and_number_on() {
        let f = IndexFilter {
            scope_keys: vec!["grid:g1".into()],
            grid: Some("g1".into()),
            ..IndexFilter::default()
        };
        let mut args = vec![Arg::Int(1)];
        let pg = where_clause(&f, Dialect::Postgres, &mut args);
        assert!(pg.contains("$2") && pg.contains("$3"), "{pg}");
        let mut args = Vec::new();
        let lite = where_clause(&f, Dialect::Sqlite, &mut args);
        assert!(lite.contains("?1") && lite.contains("?2"), "{lite}");
        assert_eq!(args.len(), 2);
    }

    #[test]
    fn an_empty_scope_selects_nothing() {
        let mut args = Vec::new();
        let w = where_clause(&IndexFilter::default(), Dialect::Sqlite, &mut args);
        assert!(w.contains("1 = 0"), "{w}");
    }

    #[test]
    fn departments_round_trip() {
        let d = vec!["a".to_string(), "b".to_string()];
        assert_eq!(split_departments(&join_departments(&d)), d);
        assert!(split_departments("").is_empty());
    }
}
