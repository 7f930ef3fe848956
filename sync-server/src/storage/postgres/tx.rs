//! [`Tx`] on a PostgreSQL transaction: the SQLite backend's statements in PostgreSQL's dialect,
//! prepared once per connection. Every database error's SQLSTATE is remembered so that
//! [`super::PostgresStorage`] can tell a serialization failure or deadlock (retry the whole
//! closure) from anything else, even after the sync logic has turned it into a
//! [`ServerError`].

use crate::error::ServerError;
use crate::storage::{
    CaseMeta, CaseRow, CodeRow, DeviceRow, NewChange, OrgRow, PhotoUploader, RankingEntry, Result,
    StoredCase, Tx,
};
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
    /// Whether re-running the whole transaction may succeed: a serialization failure, a
    /// deadlock, or a connection lost before the commit.
    pub(super) fn retryable(&self) -> bool {
        match self {
            Failure::Code(c) => {
                *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
            }
            Failure::Closed => true,
            Failure::Other => false,
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

type Params<'p> = [&'p (dyn ToSql + Sync)];

fn pos(v: i64) -> u64 {
    v.max(0).unsigned_abs()
}

fn sql_pos(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

macro_rules! device_cols {
    () => {
        "id, person, name, token_hash, created_at, revoked, quarantined"
    };
}

fn device_row(r: &Row) -> Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.try_get(0)?,
        person: r.try_get(1)?,
        name: r.try_get(2)?,
        token_hash: r.try_get(3)?,
        created_at: r.try_get(4)?,
        revoked: r.try_get(5)?,
        quarantined: r.try_get(6)?,
    })
}

fn first_i64(r: &Row) -> Result<i64> {
    Ok(r.try_get(0)?)
}

/// The visible cases with a change in `($1, $2]`, each at its first such position (see
/// `Tx::feed_cases`). Read from the immutable change rows, so the answer does not depend on
/// what commits above `$2` while it runs, even at READ COMMITTED.
const FEED_ALL: &str = "
SELECT ch.case_id, MIN(ch.pos) AS p FROM changes ch
WHERE ch.pos > $1 AND ch.pos <= $2
GROUP BY ch.case_id ORDER BY p LIMIT $3";

/// [`FEED_ALL`] restricted to the cases visible through any of the keys in `$4`.
const FEED_KEYS: &str = "
SELECT ch.case_id, MIN(ch.pos) AS p FROM changes ch
WHERE ch.pos > $1 AND ch.pos <= $2
  AND EXISTS (SELECT 1 FROM case_access a WHERE a.case_id = ch.case_id AND a.key = ANY($4))
GROUP BY ch.case_id ORDER BY p LIMIT $3";

impl PgTx<'_> {
    /// Remembers the first failure and converts the error.
    fn check<T>(&mut self, r: std::result::Result<T, ::postgres::Error>) -> Result<T> {
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

impl Tx for PgTx<'_> {
    fn org(&mut self) -> Result<Option<OrgRow>> {
        self.query_opt(
            "SELECT version, roster, catalogue FROM org WHERE id = 1",
            &[],
        )?
        .map(|r| {
            Ok(OrgRow {
                version: pos(r.try_get(0)?),
                roster: r.try_get(1)?,
                catalogue: r.try_get(2)?,
            })
        })
        .transpose()
    }

    fn org_version(&mut self) -> Result<u64> {
        let v = self.query_opt("SELECT version FROM org WHERE id = 1", &[])?;
        Ok(v.map(|r| first_i64(&r)).transpose()?.map(pos).unwrap_or(0))
    }

    fn set_org(&mut self, roster: &str, catalogue: &str) -> Result<u64> {
        let r = self.query_one(
            "INSERT INTO org (id, version, roster, catalogue) VALUES (1, 1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET version = org.version + 1,
                roster = EXCLUDED.roster, catalogue = EXCLUDED.catalogue
             RETURNING version",
            &[&roster, &catalogue],
        )?;
        Ok(pos(first_i64(&r)?))
    }

    fn insert_code(&mut self, code_hash: &str, person: &str, now: i64) -> Result<()> {
        self.execute(
            "INSERT INTO codes (code_hash, person, created_at) VALUES ($1, $2, $3)",
            &[&code_hash, &person, &now],
        )?;
        Ok(())
    }

    fn take_code(&mut self, code_hash: &str, now: i64) -> Result<Option<String>> {
        self.query_opt(
            "UPDATE codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL
             RETURNING person",
            &[&code_hash, &now],
        )?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    fn code(&mut self, code_hash: &str) -> Result<Option<CodeRow>> {
        self.query_opt(
            "SELECT person, created_at, used_at FROM codes WHERE code_hash = $1",
            &[&code_hash],
        )?
        .map(|r| {
            Ok(CodeRow {
                person: r.try_get(0)?,
                created_at: r.try_get(1)?,
                used_at: r.try_get(2)?,
            })
        })
        .transpose()
    }

    fn revoke_code(&mut self, code_hash: &str) -> Result<bool> {
        Ok(self.execute(
            "DELETE FROM codes WHERE code_hash = $1 AND used_at IS NULL",
            &[&code_hash],
        )? > 0)
    }

    fn insert_device(&mut self, d: &DeviceRow) -> Result<()> {
        self.execute(
            concat!(
                "INSERT INTO devices (",
                device_cols!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ),
            &[
                &d.id,
                &d.person,
                &d.name,
                &d.token_hash,
                &d.created_at,
                &d.revoked,
                &d.quarantined,
            ],
        )?;
        Ok(())
    }

    fn device_by_token(&mut self, token_hash: &str) -> Result<Option<DeviceRow>> {
        self.query_opt(
            concat!(
                "SELECT ",
                device_cols!(),
                " FROM devices WHERE token_hash = $1"
            ),
            &[&token_hash],
        )?
        .map(|r| device_row(&r))
        .transpose()
    }

    fn devices(&mut self) -> Result<Vec<DeviceRow>> {
        self.query(
            concat!(
                "SELECT ",
                device_cols!(),
                " FROM devices ORDER BY created_at, id"
            ),
            &[],
        )?
        .iter()
        .map(device_row)
        .collect()
    }

    fn revoke_device(&mut self, device_id: &str) -> Result<bool> {
        Ok(self.execute(
            "UPDATE devices SET revoked = TRUE WHERE id = $1",
            &[&device_id],
        )? > 0)
    }

    fn quarantine_device(&mut self, device_id: &str, reason: &str) -> Result<()> {
        self.execute(
            "UPDATE devices SET quarantined = $2 WHERE id = $1",
            &[&device_id, &reason],
        )?;
        Ok(())
    }

    fn actor_owner(&mut self, actor: &str) -> Result<Option<String>> {
        self.query_opt("SELECT device FROM actors WHERE actor = $1", &[&actor])?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    fn set_actor_owner(&mut self, actor: &str, device: &str) -> Result<()> {
        self.execute(
            "INSERT INTO actors (actor, device) VALUES ($1, $2) ON CONFLICT (actor) DO NOTHING",
            &[&actor, &device],
        )?;
        Ok(())
    }

    fn lock_case(&mut self, case_id: &str) -> Result<Option<CaseRow>> {
        // The per-document lock for writes, across server instances. A row lock alone does
        // not cover a case that does not exist yet (two pushes creating it at once would both
        // read nothing), so an advisory lock on the case id (per schema) comes first; it is
        // held until the transaction ends. Then, in a new statement and so a new snapshot
        // (READ COMMITTED), the newest committed row, locked too for writers that skip this.
        self.query_opt(
            "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/' || $1, 0))",
            &[&case_id],
        )?;
        self.query_opt(
            "SELECT snapshot, feed_pos FROM cases WHERE case_id = $1 FOR UPDATE",
            &[&case_id],
        )?
        .map(|r| case_row(&r))
        .transpose()
    }

    fn case(&mut self, case_id: &str) -> Result<Option<CaseRow>> {
        self.query_opt(
            "SELECT snapshot, feed_pos FROM cases WHERE case_id = $1",
            &[&case_id],
        )?
        .map(|r| case_row(&r))
        .transpose()
    }

    fn cases_after(&mut self, after: &str, limit: u32) -> Result<Vec<StoredCase>> {
        // The comparison and the order use the same (the column's) collation, so the pages
        // neither skip nor repeat an id, and the primary key's index serves both.
        self.query(
            "SELECT case_id, snapshot, feed_pos FROM cases WHERE case_id > $1
             ORDER BY case_id LIMIT $2",
            &[&after, &i64::from(limit)],
        )?
        .iter()
        .map(|r| {
            Ok(StoredCase {
                case_id: r.try_get(0)?,
                row: CaseRow {
                    snapshot: r.try_get(1)?,
                    feed_pos: pos(r.try_get(2)?),
                },
            })
        })
        .collect()
    }

    fn allocate_positions(&mut self, n: u64) -> Result<u64> {
        // The counter row stays locked until this transaction ends: positions are handed out,
        // and become visible, in commit order.
        let r = self.query_one(
            "UPDATE counters SET next = next + $1 WHERE name = 'feed' RETURNING next - $1",
            &[&sql_pos(n)],
        )?;
        Ok(pos(first_i64(&r)?))
    }

    fn save_case(
        &mut self,
        m: &CaseMeta,
        snapshot: &[u8],
        changes: &[NewChange],
        first_pos: u64,
        access: &[String],
        photos: &[String],
    ) -> Result<()> {
        let last = first_pos + changes.len().saturating_sub(1) as u64;
        self.execute(
            "INSERT INTO cases (case_id, snapshot, feed_pos, number, status, level, grid,
                community, reporter, category, created_at, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (case_id) DO UPDATE SET snapshot = EXCLUDED.snapshot,
                feed_pos = EXCLUDED.feed_pos, number = EXCLUDED.number,
                status = EXCLUDED.status, level = EXCLUDED.level,
                received_at = EXCLUDED.received_at",
            &[
                &m.case_id,
                &snapshot,
                &sql_pos(last),
                &m.number,
                &m.status,
                &m.level,
                &m.grid,
                &m.community,
                &m.reporter,
                &m.category,
                &m.created_at,
                &m.received_at,
            ],
        )?;
        for (i, c) in changes.iter().enumerate() {
            self.execute(
                "INSERT INTO changes (pos, case_id, bytes, device) VALUES ($1, $2, $3, $4)",
                &[
                    &sql_pos(first_pos + i as u64),
                    &m.case_id,
                    &c.bytes,
                    &c.device,
                ],
            )?;
        }
        if !access.is_empty() {
            self.execute(
                "INSERT INTO case_access (key, case_id) SELECT k, $2 FROM UNNEST($1::TEXT[]) k
                 ON CONFLICT (key, case_id) DO NOTHING",
                &[&access, &m.case_id],
            )?;
        }
        if !photos.is_empty() {
            self.execute(
                "INSERT INTO photo_refs (hash, case_id) SELECT h, $2 FROM UNNEST($1::TEXT[]) h
                 ON CONFLICT (hash, case_id) DO NOTHING",
                &[&photos, &m.case_id],
            )?;
        }
        self.execute(
            "INSERT INTO case_rankings (case_id, counts, row) VALUES ($1, $2, $3)
             ON CONFLICT (case_id) DO UPDATE SET counts = EXCLUDED.counts, row = EXCLUDED.row",
            &[&m.case_id, &m.ranking.is_some(), &m.ranking],
        )?;
        Ok(())
    }

    fn next_number(&mut self, key: &str) -> Result<u64> {
        let r = self.query_one(
            "INSERT INTO counters (name, next) VALUES ($1, 2)
             ON CONFLICT (name) DO UPDATE SET next = counters.next + 1
             RETURNING next - 1",
            &[&key],
        )?;
        Ok(pos(first_i64(&r)?))
    }

    fn number_taken(&mut self, key: &str, taken: u64) -> Result<()> {
        let next = sql_pos(taken.saturating_add(1));
        self.execute(
            "INSERT INTO counters (name, next) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET next = GREATEST(counters.next, EXCLUDED.next)",
            &[&key, &next],
        )?;
        Ok(())
    }

    fn max_position(&mut self) -> Result<u64> {
        // A plain read: while a writer holds the counter row with an uncommitted update, this
        // returns the last committed value, so every position at or below it is committed.
        let r = self.query_one("SELECT next FROM counters WHERE name = 'feed'", &[])?;
        Ok(pos(first_i64(&r)? - 1))
    }

    fn feed_cases(
        &mut self,
        keys: &[String],
        all: bool,
        after: u64,
        upto: u64,
        limit: u32,
    ) -> Result<Vec<(String, u64)>> {
        let (after, upto, limit) = (sql_pos(after), sql_pos(upto), i64::from(limit));
        let rows = if all {
            self.query(FEED_ALL, &[&after, &upto, &limit])?
        } else {
            self.query(FEED_KEYS, &[&after, &upto, &limit, &keys])?
        };
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, pos(r.try_get(1)?))))
            .collect()
    }

    fn changes_between(
        &mut self,
        case_id: &str,
        after: u64,
        upto: u64,
        exclude_device: &str,
    ) -> Result<Vec<Vec<u8>>> {
        self.query(
            "SELECT bytes FROM changes WHERE case_id = $1 AND pos > $2 AND pos <= $3
             AND (device IS NULL OR device <> $4) ORDER BY pos",
            &[&case_id, &sql_pos(after), &sql_pos(upto), &exclude_device],
        )?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    fn device_case(&mut self, device: &str, case_id: &str) -> Result<Option<u64>> {
        self.query_opt(
            "SELECT since FROM device_cases WHERE device = $1 AND case_id = $2",
            &[&device, &case_id],
        )?
        .map(|r| Ok(pos(first_i64(&r)?)))
        .transpose()
    }

    fn set_device_case(&mut self, device: &str, case_id: &str, since: u64) -> Result<()> {
        self.execute(
            "INSERT INTO device_cases (device, case_id, since) VALUES ($1, $2, $3)
             ON CONFLICT (device, case_id)
             DO UPDATE SET since = LEAST(device_cases.since, EXCLUDED.since)",
            &[&device, &case_id, &sql_pos(since)],
        )?;
        Ok(())
    }

    fn access(&mut self, case_id: &str) -> Result<Vec<String>> {
        self.strings(
            "SELECT key FROM case_access WHERE case_id = $1 ORDER BY key",
            &[&case_id],
        )
    }

    fn add_photo_uploader(
        &mut self,
        hash: &str,
        device: &str,
        person: &str,
        bytes: u64,
        now: i64,
    ) -> Result<()> {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        self.execute(
            "INSERT INTO photo_uploaders (hash, device, person, bytes, uploaded_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash, device) DO NOTHING",
            &[&hash, &device, &person, &bytes, &now],
        )?;
        Ok(())
    }

    fn photo_uploaders(&mut self, hash: &str) -> Result<Vec<PhotoUploader>> {
        let rows = self.query(
            "SELECT device, person FROM photo_uploaders WHERE hash = $1 ORDER BY device",
            &[&hash],
        )?;
        rows.iter()
            .map(|r| {
                Ok(PhotoUploader {
                    device: r.try_get(0)?,
                    person: r.try_get(1)?,
                })
            })
            .collect()
    }

    fn device_photo_bytes(&mut self, device: &str) -> Result<u64> {
        let r = self.query_one(
            "SELECT COALESCE(SUM(bytes), 0)::BIGINT FROM photo_uploaders WHERE device = $1",
            &[&device],
        )?;
        Ok(pos(r.try_get(0)?))
    }

    fn photo_cases(&mut self, hash: &str) -> Result<Vec<String>> {
        self.strings(
            "SELECT case_id FROM photo_refs WHERE hash = $1 ORDER BY case_id",
            &[&hash],
        )
    }

    fn ranking_rows(&mut self) -> Result<Vec<RankingEntry>> {
        let rows = self.query(
            "SELECT c.case_id, r.row, r.case_id IS NOT NULL FROM cases c
             LEFT JOIN case_rankings r ON r.case_id = c.case_id ORDER BY c.case_id",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(RankingEntry {
                    case_id: r.try_get(0)?,
                    row: r.try_get(1)?,
                    kept: r.try_get(2)?,
                })
            })
            .collect()
    }

    fn counts(&mut self) -> Result<(u64, u64, u64)> {
        let r = self.query_one(
            "SELECT (SELECT COUNT(*) FROM cases), (SELECT COUNT(*) FROM changes),
                (SELECT COUNT(*) FROM devices)",
            &[],
        )?;
        Ok((pos(r.try_get(0)?), pos(r.try_get(1)?), pos(r.try_get(2)?)))
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        self.query_opt("SELECT value FROM server_meta WHERE key = $1", &[&key])?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT INTO server_meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }
}

fn case_row(r: &Row) -> Result<CaseRow> {
    Ok(CaseRow {
        snapshot: r.try_get(0)?,
        feed_pos: pos(r.try_get(1)?),
    })
}
