//! The SQLite backend: one file in the server's data folder, WAL, one connection behind a
//! mutex (SQLite has one writer at a time anyway; `BEGIN IMMEDIATE` makes every transaction a
//! writer, so feed positions are handed out in commit order).

use super::migrations::{self, Dialect, Migrated, Migration, Target};
use super::{
    CaseMeta, CaseRow, CodeRow, DeviceRow, NewChange, OrgRow, PhotoUploader, RankingEntry, Result,
    Storage, StoreIdentity, StoredCase, Tx, meta,
};
use crate::error::ServerError;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use std::sync::Mutex;

/// The SQLite backend.
pub struct SqliteStorage {
    conn: Mutex<Connection>,
    /// A second connection for the health check, which in WAL mode reads while a writer holds
    /// the first.
    reader: Mutex<Connection>,
    identity: StoreIdentity,
    migrated: Migrated,
}

/// The database file's name in the data folder.
pub const DB_FILE: &str = "server.db";

/// [`migrations::Target`] over one SQLite connection; `BEGIN IMMEDIATE` is the writer lock.
struct SqliteTarget<'a>(&'a mut Connection);

/// The recorded schema version (0 without a version table).
pub(crate) fn schema_version(conn: &Connection) -> Result<u32> {
    let has: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        [],
        |r| r.get(0),
    )?;
    if has == 0 {
        return Ok(0);
    }
    let v: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    Ok(u32::try_from(v.max(0)).unwrap_or(u32::MAX))
}

impl Target for SqliteTarget<'_> {
    fn version(&mut self) -> Result<u32> {
        schema_version(self.0)
    }

    fn apply(&mut self, m: &Migration, now_ms: i64) -> Result<bool> {
        let tx = self
            .0
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if schema_version(&tx)? >= m.version {
            return Ok(false);
        }
        tx.execute_batch(migrations::VERSION_TABLE)?;
        tx.execute_batch(m.sql.text(Dialect::Sqlite))?;
        if m.seeds_identity {
            for key in [meta::STORE_ID, meta::EPOCH] {
                tx.execute(
                    "INSERT INTO server_meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO NOTHING",
                    params![key, meta::new_id()],
                )?;
            }
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, now_ms],
        )?;
        tx.commit()?;
        Ok(true)
    }
}

/// Writes a consistent copy of the store in `dir` to the new file `dst` with `VACUUM INTO`,
/// from a read-only connection, while the server may keep writing (WAL readers see one
/// snapshot).
pub fn snapshot_into(dir: &Path, dst: &Path) -> Result<()> {
    let src = dir.join(DB_FILE);
    if !src.is_file() {
        return Err(ServerError::BadRequest(format!(
            "no store at {}: nothing to back up",
            src.display()
        )));
    }
    let conn = Connection::open_with_flags(&src, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let target = dst
        .to_str()
        .ok_or_else(|| ServerError::Internal(format!("{}: not UTF-8", dst.display())))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    Ok(())
}

/// The schema version recorded in a store file, read without changing anything.
pub fn stored_version(db: &Path) -> Result<u32> {
    let conn = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    schema_version(&conn)
}

/// Reads the identity of a store file (not open elsewhere); a store before migration 2 has
/// only its schema version.
pub fn read_identity(db: &Path) -> Result<StoreIdentity> {
    let conn = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let schema_version = schema_version(&conn)?;
    if schema_version < 2 {
        return Ok(StoreIdentity {
            schema_version,
            ..StoreIdentity::default()
        });
    }
    let tx = conn.unchecked_transaction()?;
    let identity = meta::load(&mut SqliteTx { tx: &tx }, schema_version)?;
    drop(tx);
    Ok(identity)
}

/// Folds a store file's write-ahead log into it and leaves it in rollback-journal mode, so the
/// one file is the whole store (the server turns WAL back on when it opens it).
pub fn checkpoint(db: &Path) -> Result<()> {
    let conn = Connection::open(db)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    Ok(())
}

/// Brings the SQLite store in `dir` to the latest schema (refusing a newer one untouched),
/// without opening it for serving; `admin migrate` and restore use it.
pub fn migrate(dir: &Path) -> Result<Migrated> {
    Ok(SqliteStorage::open(dir)?.migrated)
}

impl SqliteStorage {
    /// Opens (creating if needed) `server.db` in `dir`.
    pub fn open(dir: &Path) -> Result<SqliteStorage> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ServerError::Internal(format!("{}: {e}", dir.display())))?;
        let mut conn = Connection::open(dir.join(DB_FILE))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // A store newer than this build is refused before anything is written to it.
        migrations::check_known(schema_version(&conn)?)?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        let migrated = migrations::run(&mut SqliteTarget(&mut conn))?;
        let reader = Connection::open_with_flags(
            dir.join(DB_FILE),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        reader.busy_timeout(std::time::Duration::from_millis(500))?;
        let mut storage = SqliteStorage {
            conn: Mutex::new(conn),
            reader: Mutex::new(reader),
            identity: StoreIdentity::default(),
            migrated,
        };
        storage.identity = super::with_tx(&storage, |tx| meta::load(tx, migrated.to))?;
        Ok(storage)
    }
}

impl Storage for SqliteStorage {
    fn transact(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut t = SqliteTx { tx: &tx };
        f(&mut t)?;
        tx.commit()?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn identity(&self) -> &StoreIdentity {
        &self.identity
    }

    fn migrated(&self) -> Migrated {
        self.migrated
    }

    fn ping(&self) -> Result<()> {
        let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        reader.query_row("SELECT count(*) FROM org", [], |_| Ok(()))?;
        Ok(())
    }
}

struct SqliteTx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.get(0)?,
        person: r.get(1)?,
        name: r.get(2)?,
        token_hash: r.get(3)?,
        created_at: r.get(4)?,
        revoked: r.get(5)?,
        quarantined: r.get(6)?,
    })
}

const DEVICE_COLS: &str = "id, person, name, token_hash, created_at, revoked, quarantined";

fn pos(v: i64) -> u64 {
    v.max(0).unsigned_abs()
}

fn sql_pos(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Tx for SqliteTx<'_> {
    fn org(&mut self) -> Result<Option<OrgRow>> {
        Ok(self
            .tx
            .query_row(
                "SELECT version, roster, catalogue FROM org WHERE id = 1",
                [],
                |r| {
                    Ok(OrgRow {
                        version: pos(r.get(0)?),
                        roster: r.get(1)?,
                        catalogue: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn org_version(&mut self) -> Result<u64> {
        let v: Option<i64> = self
            .tx
            .query_row("SELECT version FROM org WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        Ok(v.map(pos).unwrap_or(0))
    }

    fn set_org(&mut self, roster: &str, catalogue: &str) -> Result<u64> {
        let v: i64 = self.tx.query_row(
            "INSERT INTO org (id, version, roster, catalogue) VALUES (1, 1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET version = version + 1, roster = excluded.roster,
                catalogue = excluded.catalogue
             RETURNING version",
            params![roster, catalogue],
            |r| r.get(0),
        )?;
        Ok(pos(v))
    }

    fn insert_code(&mut self, code_hash: &str, person: &str, now: i64) -> Result<()> {
        self.tx.execute(
            "INSERT INTO codes (code_hash, person, created_at) VALUES (?1, ?2, ?3)",
            params![code_hash, person, now],
        )?;
        Ok(())
    }

    fn take_code(&mut self, code_hash: &str, now: i64) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row(
                "UPDATE codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL
                 RETURNING person",
                params![code_hash, now],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn code(&mut self, code_hash: &str) -> Result<Option<CodeRow>> {
        Ok(self
            .tx
            .query_row(
                "SELECT person, created_at, used_at FROM codes WHERE code_hash = ?1",
                [code_hash],
                |r| {
                    Ok(CodeRow {
                        person: r.get(0)?,
                        created_at: r.get(1)?,
                        used_at: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn revoke_code(&mut self, code_hash: &str) -> Result<bool> {
        Ok(self.tx.execute(
            "DELETE FROM codes WHERE code_hash = ?1 AND used_at IS NULL",
            [code_hash],
        )? > 0)
    }

    fn insert_device(&mut self, d: &DeviceRow) -> Result<()> {
        self.tx.execute(
            &format!("INSERT INTO devices ({DEVICE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                d.id,
                d.person,
                d.name,
                d.token_hash,
                d.created_at,
                d.revoked,
                d.quarantined
            ],
        )?;
        Ok(())
    }

    fn device_by_token(&mut self, token_hash: &str) -> Result<Option<DeviceRow>> {
        Ok(self
            .tx
            .prepare_cached(&format!(
                "SELECT {DEVICE_COLS} FROM devices WHERE token_hash = ?1"
            ))?
            .query_row([token_hash], device_row)
            .optional()?)
    }

    fn devices(&mut self) -> Result<Vec<DeviceRow>> {
        let mut stmt = self.tx.prepare(&format!(
            "SELECT {DEVICE_COLS} FROM devices ORDER BY created_at"
        ))?;
        let rows = stmt.query_map([], device_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_device(&mut self, device_id: &str) -> Result<bool> {
        Ok(self
            .tx
            .execute("UPDATE devices SET revoked = 1 WHERE id = ?1", [device_id])?
            > 0)
    }

    fn quarantine_device(&mut self, device_id: &str, reason: &str) -> Result<()> {
        self.tx.execute(
            "UPDATE devices SET quarantined = ?2 WHERE id = ?1",
            params![device_id, reason],
        )?;
        Ok(())
    }

    fn actor_owner(&mut self, actor: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT device FROM actors WHERE actor = ?1")?
            .query_row([actor], |r| r.get(0))
            .optional()?)
    }

    fn set_actor_owner(&mut self, actor: &str, device: &str) -> Result<()> {
        self.tx
            .prepare_cached("INSERT OR IGNORE INTO actors (actor, device) VALUES (?1, ?2)")?
            .execute(params![actor, device])?;
        Ok(())
    }

    fn lock_case(&mut self, case_id: &str) -> Result<Option<CaseRow>> {
        // BEGIN IMMEDIATE already holds the database's write lock.
        self.case(case_id)
    }

    fn case(&mut self, case_id: &str) -> Result<Option<CaseRow>> {
        Ok(self
            .tx
            .prepare_cached("SELECT snapshot, feed_pos FROM cases WHERE case_id = ?1")?
            .query_row([case_id], |r| {
                Ok(CaseRow {
                    snapshot: r.get(0)?,
                    feed_pos: pos(r.get(1)?),
                })
            })
            .optional()?)
    }

    fn cases_after(&mut self, after: &str, limit: u32) -> Result<Vec<StoredCase>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT case_id, snapshot, feed_pos FROM cases WHERE case_id > ?1
             ORDER BY case_id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit], |r| {
            Ok(StoredCase {
                case_id: r.get(0)?,
                row: CaseRow {
                    snapshot: r.get(1)?,
                    feed_pos: pos(r.get(2)?),
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn allocate_positions(&mut self, n: u64) -> Result<u64> {
        let next: i64 = self.tx.query_row(
            "UPDATE counters SET next = next + ?1 WHERE name = 'feed' RETURNING next - ?1",
            [sql_pos(n)],
            |r| r.get(0),
        )?;
        Ok(pos(next))
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
        self.tx
            .prepare_cached(
                "INSERT INTO cases (case_id, snapshot, feed_pos, number, status, level, grid,
                    community, reporter, category, created_at, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (case_id) DO UPDATE SET snapshot = excluded.snapshot,
                    feed_pos = excluded.feed_pos, number = excluded.number,
                    status = excluded.status, level = excluded.level,
                    received_at = excluded.received_at",
            )?
            .execute(params![
                m.case_id,
                snapshot,
                sql_pos(last),
                m.number,
                m.status,
                m.level,
                m.grid,
                m.community,
                m.reporter,
                m.category,
                m.created_at,
                m.received_at
            ])?;
        let mut ins = self.tx.prepare_cached(
            "INSERT INTO changes (pos, case_id, bytes, device) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (i, c) in changes.iter().enumerate() {
            ins.execute(params![
                sql_pos(first_pos + i as u64),
                m.case_id,
                c.bytes,
                c.device
            ])?;
        }
        let mut acc = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO case_access (key, case_id) VALUES (?1, ?2)")?;
        for k in access {
            acc.execute(params![k, m.case_id])?;
        }
        let mut ph = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO photo_refs (hash, case_id) VALUES (?1, ?2)")?;
        for h in photos {
            ph.execute(params![h, m.case_id])?;
        }
        self.tx
            .prepare_cached(
                "INSERT INTO case_rankings (case_id, counts, row) VALUES (?1, ?2, ?3)
                 ON CONFLICT (case_id) DO UPDATE SET counts = excluded.counts, row = excluded.row",
            )?
            .execute(params![m.case_id, m.ranking.is_some(), m.ranking])?;
        Ok(())
    }

    fn next_number(&mut self, key: &str) -> Result<u64> {
        let v: i64 = self.tx.query_row(
            "INSERT INTO counters (name, next) VALUES (?1, 2)
             ON CONFLICT (name) DO UPDATE SET next = next + 1
             RETURNING next - 1",
            [key],
            |r| r.get(0),
        )?;
        Ok(pos(v))
    }

    fn number_taken(&mut self, key: &str, taken: u64) -> Result<()> {
        self.tx.execute(
            "INSERT INTO counters (name, next) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET next = max(next, excluded.next)",
            params![key, sql_pos(taken.saturating_add(1))],
        )?;
        Ok(())
    }

    fn max_position(&mut self) -> Result<u64> {
        let next: i64 =
            self.tx
                .query_row("SELECT next FROM counters WHERE name = 'feed'", [], |r| {
                    r.get(0)
                })?;
        Ok(pos(next - 1))
    }

    fn feed_cases(
        &mut self,
        keys: &[String],
        all: bool,
        after: u64,
        upto: u64,
        limit: u32,
    ) -> Result<Vec<(String, u64)>> {
        let map = |r: &rusqlite::Row<'_>| Ok((r.get::<_, String>(0)?, pos(r.get(1)?)));
        if all {
            let mut stmt = self.tx.prepare_cached(
                "SELECT case_id, MIN(pos) AS p FROM changes WHERE pos > ?1 AND pos <= ?2
                 GROUP BY case_id ORDER BY p LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![sql_pos(after), sql_pos(upto), limit], map)?;
            return Ok(rows.collect::<rusqlite::Result<_>>()?);
        }
        let keys = serde_json::to_string(keys).map_err(|e| ServerError::Internal(e.to_string()))?;
        let mut stmt = self.tx.prepare_cached(
            "SELECT ch.case_id, MIN(ch.pos) AS p FROM changes ch
             WHERE ch.pos > ?1 AND ch.pos <= ?2 AND EXISTS (
                SELECT 1 FROM case_access a, json_each(?3) k
                WHERE a.key = k.value AND a.case_id = ch.case_id)
             GROUP BY ch.case_id ORDER BY p LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![sql_pos(after), sql_pos(upto), keys, limit], map)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn changes_between(
        &mut self,
        case_id: &str,
        after: u64,
        upto: u64,
        exclude_device: &str,
    ) -> Result<Vec<Vec<u8>>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT bytes FROM changes WHERE case_id = ?1 AND pos > ?2 AND pos <= ?3
             AND (device IS NULL OR device <> ?4) ORDER BY pos",
        )?;
        let rows = stmt.query_map(
            params![case_id, sql_pos(after), sql_pos(upto), exclude_device],
            |r| r.get(0),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn device_case(&mut self, device: &str, case_id: &str) -> Result<Option<u64>> {
        Ok(self
            .tx
            .prepare_cached("SELECT since FROM device_cases WHERE device = ?1 AND case_id = ?2")?
            .query_row(params![device, case_id], |r| r.get::<_, i64>(0))
            .optional()?
            .map(pos))
    }

    fn set_device_case(&mut self, device: &str, case_id: &str, since: u64) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO device_cases (device, case_id, since) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device, case_id) DO UPDATE SET since = min(since, excluded.since)",
            )?
            .execute(params![device, case_id, sql_pos(since)])?;
        Ok(())
    }

    fn access(&mut self, case_id: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT key FROM case_access WHERE case_id = ?1 ORDER BY key")?;
        let rows = stmt.query_map([case_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn add_photo_uploader(
        &mut self,
        hash: &str,
        device: &str,
        person: &str,
        bytes: u64,
        now: i64,
    ) -> Result<()> {
        self.tx.execute(
            "INSERT OR IGNORE INTO photo_uploaders (hash, device, person, bytes, uploaded_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![hash, device, person, sql_pos(bytes), now],
        )?;
        Ok(())
    }

    fn photo_uploaders(&mut self, hash: &str) -> Result<Vec<PhotoUploader>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT device, person FROM photo_uploaders WHERE hash = ?1 ORDER BY device",
        )?;
        let rows = stmt.query_map([hash], |r| {
            Ok(PhotoUploader {
                device: r.get(0)?,
                person: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn device_photo_bytes(&mut self, device: &str) -> Result<u64> {
        let n: i64 = self.tx.query_row(
            "SELECT COALESCE(SUM(bytes), 0) FROM photo_uploaders WHERE device = ?1",
            [device],
            |r| r.get(0),
        )?;
        Ok(pos(n))
    }

    fn photo_cases(&mut self, hash: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT case_id FROM photo_refs WHERE hash = ?1")?;
        let rows = stmt.query_map([hash], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn ranking_rows(&mut self) -> Result<Vec<RankingEntry>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT c.case_id, r.row, r.case_id IS NOT NULL FROM cases c
             LEFT JOIN case_rankings r ON r.case_id = c.case_id ORDER BY c.case_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RankingEntry {
                case_id: r.get(0)?,
                row: r.get(1)?,
                kept: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn counts(&mut self) -> Result<(u64, u64, u64)> {
        let c: i64 = self
            .tx
            .query_row("SELECT COUNT(*) FROM cases", [], |r| r.get(0))?;
        let ch: i64 = self
            .tx
            .query_row("SELECT COUNT(*) FROM changes", [], |r| r.get(0))?;
        let d: i64 = self
            .tx
            .query_row("SELECT COUNT(*) FROM devices", [], |r| r.get(0))?;
        Ok((pos(c), pos(ch), pos(d)))
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row("SELECT value FROM server_meta WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO server_meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}
