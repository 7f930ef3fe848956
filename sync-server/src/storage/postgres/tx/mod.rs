//! [`Tx`](crate::storage::Tx) on a PostgreSQL transaction: the SQLite backend's statements
//! in PostgreSQL's dialect, prepared once per connection, each storage concern's in a module
//! of its own (`org`, `codes`, `devices`, `docs`, `feed`, `photos`, `server_meta`,
//! `desk_auth`, `desk_index`). Every database error's SQLSTATE is remembered so that
//! [`super::PostgresStorage`] can tell a
//! serialization failure or deadlock (retry the whole closure) from anything else, even after
//! the sync logic has turned it into a [`ServerError`].

mod codes;
mod desk_auth;
mod desk_index;
mod device_status;
mod devices;
mod docs;
mod feed;
mod org;
mod photos;
mod server_meta;

use crate::error::ServerError;
use crate::storage::Result;
use ::postgres::error::SqlState;
use ::postgres::types::ToSql;
use ::postgres::{Row, Statement, Transaction};
use std::collections::HashMap;

/// A transaction in progress.
pub(super) struct PgTx<'a> {
    /// The transaction.
    pub(super) tx: Transaction<'a>,
    /// The connection's prepared statements.
    pub(super) stmts: &'a mut HashMap<&'static str, Statement>,
    /// The first database error seen, if any: after it the transaction can only roll back.
    pub(super) failure: Option<Failure>,
}

/// What went wrong with the database inside a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Failure {
    /// An error with this SQLSTATE.
    Code(SqlState),
    /// The connection closed.
    Closed,
    /// Anything else (no SQLSTATE).
    Other,
}

impl Failure {
    /// Whether re-running the whole transaction may succeed (a serialization failure, a
    /// deadlock, or a connection lost before the commit), and then why, as `xiangying_store_retries_total` names it
    /// (`serialization`, `deadlock`, `connection`); `None` when it may not.
    pub(super) fn retry_reason(&self) -> Option<&'static str> {
        match self {
            Failure::Code(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => Some("serialization"),
            Failure::Code(c) if *c == SqlState::T_R_DEADLOCK_DETECTED => Some("deadlock"),
            Failure::Code(_) | Failure::Other => None,
            Failure::Closed => Some("connection"),
        }
    }

    /// Classifies an error.
    pub(super) fn of(e: &::postgres::Error) -> Failure {
        if e.is_closed() {
            Failure::Closed
        } else if let Some(c) = e.code() {
            Failure::Code(c.clone())
        } else {
            Failure::Other
        }
    }
}

/// Statement parameters.
type Params<'p> = [&'p (dyn ToSql + Sync)];

/// A position or count as read from PostgreSQL (never negative).
fn pos(v: i64) -> u64 {
    v.max(0).unsigned_abs()
}

/// A position or count as PostgreSQL stores it.
fn sql_pos(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The first column of a row, a `BIGINT`.
fn first_i64(r: &Row) -> Result<i64> {
    Ok(r.try_get(0)?)
}

impl PgTx<'_> {
    /// Remembers the first failure and converts the error.
    pub(super) fn check<T>(&mut self, r: std::result::Result<T, ::postgres::Error>) -> Result<T> {
        r.map_err(|e| {
            if self.failure.is_none() {
                self.failure = Some(Failure::of(&e));
            }
            ServerError::from(e)
        })
    }

    fn stmt(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(s) = self.stmts.get(sql) {
            return Ok(s.clone());
        }
        let r = self.tx.prepare(sql);
        let s = self.check(r)?;
        self.stmts.insert(sql, s.clone());
        Ok(s)
    }

    fn query(&mut self, sql: &'static str, params: &Params<'_>) -> Result<Vec<Row>> {
        let s = self.stmt(sql)?;
        let r = self.tx.query(&s, params);
        self.check(r)
    }

    fn query_opt(&mut self, sql: &'static str, params: &Params<'_>) -> Result<Option<Row>> {
        let s = self.stmt(sql)?;
        let r = self.tx.query_opt(&s, params);
        self.check(r)
    }

    fn query_one(&mut self, sql: &'static str, params: &Params<'_>) -> Result<Row> {
        let s = self.stmt(sql)?;
        let r = self.tx.query_one(&s, params);
        self.check(r)
    }

    fn execute(&mut self, sql: &'static str, params: &Params<'_>) -> Result<u64> {
        let s = self.stmt(sql)?;
        let r = self.tx.execute(&s, params);
        self.check(r)
    }

    fn strings(&mut self, sql: &'static str, params: &Params<'_>) -> Result<Vec<String>> {
        self.query(sql, params)?
            .iter()
            .map(|r| Ok(r.try_get(0)?))
            .collect()
    }
}
