//! The desk's case index: [`crate::storage::DeskIndexTx`] on a PostgreSQL transaction, with
//! the filters and orders built in [`crate::storage::desk_index`]. The filtered statements
//! vary with the filter, so they are prepared per call rather than cached.

use super::{PgTx, pos};
use crate::storage::Result;
use crate::storage::desk_index::{
    Arg, COLUMNS, DAY_EXPR, DeskIndexTx, DeskRow, GroupBy, IndexFilter, IndexSort, group_column,
    join_departments, order_clause, split_departments, where_clause,
};
use crate::storage::migrations::Dialect;
use ::postgres::Row;
use ::postgres::types::ToSql;

/// Arguments as PostgreSQL parameters.
fn boxed(args: &[Arg]) -> Vec<Box<dyn ToSql + Sync>> {
    args.iter()
        .map(|a| -> Box<dyn ToSql + Sync> {
            match a {
                Arg::Int(i) => Box::new(*i),
                Arg::Text(t) => Box::new(t.clone()),
            }
        })
        .collect()
}

/// A row read with [`COLUMNS`].
fn row(r: &Row) -> Result<DeskRow> {
    let departments: String = r.try_get(10)?;
    Ok(DeskRow {
        case_id: r.try_get(0)?,
        number: r.try_get(1)?,
        status: r.try_get(2)?,
        level: r.try_get(3)?,
        category: r.try_get(4)?,
        category_name: r.try_get(5)?,
        grid: r.try_get(6)?,
        community: r.try_get(7)?,
        reporter: r.try_get(8)?,
        assignee: r.try_get(9)?,
        departments: split_departments(&departments),
        deadline: r.try_get(11)?,
        created_at: r.try_get(12)?,
        updated_at: r.try_get(13)?,
        closed_at: r.try_get(14)?,
        lat: r.try_get(15)?,
        lon: r.try_get(16)?,
        summary: r.try_get(17)?,
        search: r.try_get(18)?,
    })
}

impl PgTx<'_> {
    /// Runs a statement built at run time.
    fn query_built(&mut self, sql: &str, args: &[Arg]) -> Result<Vec<Row>> {
        let owned = boxed(args);
        let params: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
        let r = self.tx.query(sql, &params);
        self.check(r)
    }
}

impl DeskIndexTx for PgTx<'_> {
    fn put_desk_case(&mut self, d: &DeskRow) -> Result<()> {
        let departments = join_departments(&d.departments);
        self.execute(
            "INSERT INTO desk_cases (case_id, number, status, level, category, category_name,
                grid, community, reporter, assignee, departments, deadline, created_at,
                updated_at, closed_at, lat, lon, summary, search)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                $17, $18, $19)
             ON CONFLICT (case_id) DO UPDATE SET number = EXCLUDED.number,
                status = EXCLUDED.status, level = EXCLUDED.level,
                category = EXCLUDED.category, category_name = EXCLUDED.category_name,
                grid = EXCLUDED.grid, community = EXCLUDED.community,
                reporter = EXCLUDED.reporter, assignee = EXCLUDED.assignee,
                departments = EXCLUDED.departments, deadline = EXCLUDED.deadline,
                created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
                closed_at = EXCLUDED.closed_at, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
                summary = EXCLUDED.summary, search = EXCLUDED.search",
            &[
                &d.case_id,
                &d.number,
                &d.status,
                &d.level,
                &d.category,
                &d.category_name,
                &d.grid,
                &d.community,
                &d.reporter,
                &d.assignee,
                &departments,
                &d.deadline,
                &d.created_at,
                &d.updated_at,
                &d.closed_at,
                &d.lat,
                &d.lon,
                &d.summary,
                &d.search,
            ],
        )?;
        self.execute(
            "DELETE FROM desk_case_departments WHERE case_id = $1",
            &[&d.case_id],
        )?;
        if !d.departments.is_empty() {
            self.execute(
                "INSERT INTO desk_case_departments (department, case_id)
                 SELECT DISTINCT k, $2 FROM UNNEST($1::TEXT[]) k
                 ON CONFLICT (department, case_id) DO NOTHING",
                &[&d.departments, &d.case_id],
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
        let w = where_clause(filter, Dialect::Postgres, &mut args);
        let n = args.len();
        let sql = format!(
            "SELECT {COLUMNS} FROM desk_cases d{w}{} LIMIT ${} OFFSET ${}",
            order_clause(sort, desc),
            n + 1,
            n + 2
        );
        args.push(Arg::Int(i64::from(limit)));
        args.push(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
        self.query_built(&sql, &args)?.iter().map(row).collect()
    }

    fn desk_count(&mut self, filter: &IndexFilter) -> Result<u64> {
        let mut args = Vec::new();
        let w = where_clause(filter, Dialect::Postgres, &mut args);
        let sql = format!("SELECT COUNT(*) FROM desk_cases d{w}");
        let rows = self.query_built(&sql, &args)?;
        let n: i64 = match rows.first() {
            Some(r) => r.try_get(0)?,
            None => 0,
        };
        Ok(pos(n))
    }

    fn desk_daily(&mut self, filter: &IndexFilter, by: GroupBy) -> Result<Vec<(String, i64, u64)>> {
        let mut args = Vec::new();
        let w = where_clause(filter, Dialect::Postgres, &mut args);
        let col = group_column(by);
        let sql = format!(
            "SELECT {col}, {DAY_EXPR}, COUNT(*) FROM desk_cases d{w} GROUP BY {col}, {DAY_EXPR}"
        );
        self.query_built(&sql, &args)?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<_, String>(0)?,
                    r.try_get::<_, i64>(1)?,
                    pos(r.try_get(2)?),
                ))
            })
            .collect()
    }
}
