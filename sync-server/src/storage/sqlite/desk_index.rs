//! The desk's case index: [`crate::storage::DeskIndexTx`] on the SQLite transaction, with the
//! filters and orders built in [`crate::storage::desk_index`].

use super::{Cached, SqliteTx, pos};
use crate::storage::Result;
use crate::storage::desk_index::{
    Arg, COLUMNS, DAY_EXPR, DeskIndexTx, DeskRow, GroupBy, IndexFilter, IndexSort, group_column,
    join_departments, order_clause, split_departments, where_clause,
};
use crate::storage::migrations::Dialect;
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter};

/// Arguments as SQLite values.
fn values(args: Vec<Arg>) -> Vec<Value> {
    args.into_iter()
        .map(|a| match a {
            Arg::Int(i) => Value::Integer(i),
            Arg::Text(t) => Value::Text(t),
        })
        .collect()
}

/// A row read with [`COLUMNS`].
fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeskRow> {
    let departments: String = r.get(10)?;
    Ok(DeskRow {
        case_id: r.get(0)?,
        number: r.get(1)?,
        status: r.get(2)?,
        level: r.get(3)?,
        category: r.get(4)?,
        category_name: r.get(5)?,
        grid: r.get(6)?,
        community: r.get(7)?,
        reporter: r.get(8)?,
        assignee: r.get(9)?,
        departments: split_departments(&departments),
        deadline: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
        closed_at: r.get(14)?,
        lat: r.get(15)?,
        lon: r.get(16)?,
        summary: r.get(17)?,
        search: r.get(18)?,
    })
}

impl DeskIndexTx for SqliteTx<'_> {
    fn put_desk_case(&mut self, d: &DeskRow) -> Result<()> {
        self.tx.exec(
            "INSERT INTO desk_cases (case_id, number, status, level, category, category_name,
                grid, community, reporter, assignee, departments, deadline, created_at,
                updated_at, closed_at, lat, lon, summary, search)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                ?17, ?18, ?19)
             ON CONFLICT (case_id) DO UPDATE SET number = excluded.number,
                status = excluded.status, level = excluded.level,
                category = excluded.category, category_name = excluded.category_name,
                grid = excluded.grid, community = excluded.community,
                reporter = excluded.reporter, assignee = excluded.assignee,
                departments = excluded.departments, deadline = excluded.deadline,
                created_at = excluded.created_at, updated_at = excluded.updated_at,
                closed_at = excluded.closed_at, lat = excluded.lat, lon = excluded.lon,
                summary = excluded.summary, search = excluded.search",
            params![
                d.case_id,
                d.number,
                d.status,
                d.level,
                d.category,
                d.category_name,
                d.grid,
                d.community,
                d.reporter,
                d.assignee,
                join_departments(&d.departments),
                d.deadline,
                d.created_at,
                d.updated_at,
                d.closed_at,
                d.lat,
                d.lon,
                d.summary,
                d.search,
            ],
        )?;
        self.tx.exec(
            "DELETE FROM desk_case_departments WHERE case_id = ?1",
            [&d.case_id],
        )?;
        for dep in &d.departments {
            self.tx.exec(
                "INSERT INTO desk_case_departments (department, case_id) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
                params![dep, d.case_id],
            )?;
        }
        Ok(())
    }

    fn desk_cases(
        &mut self,
        filter: &IndexFilter,
        sort: IndexSort,
        desc: bool,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<DeskRow>> {
        let mut args = Vec::new();
        let w = where_clause(filter, Dialect::Sqlite, &mut args);
        let n = args.len();
        let sql = format!(
            "SELECT {COLUMNS} FROM desk_cases d{w}{} LIMIT ?{} OFFSET ?{}",
            order_clause(sort, desc),
            n + 1,
            n + 2
        );
        args.push(Arg::Int(i64::from(limit)));
        args.push(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(values(args)), row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn desk_count(&mut self, filter: &IndexFilter) -> Result<u64> {
        let mut args = Vec::new();
        let w = where_clause(filter, Dialect::Sqlite, &mut args);
        let sql = format!("SELECT COUNT(*) FROM desk_cases d{w}");
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let n: i64 = stmt.query_row(params_from_iter(values(args)), |r| r.get(0))?;
        Ok(pos(n))
    }

    fn desk_daily(&mut self, filter: &IndexFilter, by: GroupBy) -> Result<Vec<(String, i64, u64)>> {
        let mut args = Vec::new();
        let w = where_clause(filter, Dialect::Sqlite, &mut args);
        let col = group_column(by);
        let sql = format!(
            "SELECT {col}, {DAY_EXPR}, COUNT(*) FROM desk_cases d{w} GROUP BY {col}, {DAY_EXPR}"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(values(args)), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, pos(r.get(2)?)))
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}
