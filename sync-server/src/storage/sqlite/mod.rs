//! The SQLite backend: one file in the server's data folder, WAL, one connection behind a
//! mutex (SQLite has one writer at a time anyway; `BEGIN IMMEDIATE` makes every transaction a
//! writer, so feed positions are handed out in commit order).
//!
//! The statements of each storage concern sit in a module of their own (`org`, `codes`,
//! `devices`, `docs`, `feed`, `photos`, `server_meta`, `desk_auth`,
//! `desk_index`), each implementing one
//! trait of [`crate::storage`] on `SqliteTx`.

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

use super::migrations::{self, Dialect, Migrated, Migration, Target};
use super::{Result, Storage, StoreIdentity, Tx, meta};
use crate::error::ServerError;
use rusqlite::{Connection, TransactionBehavior, params};
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

/// `execute` and `query_row` through the connection's statement cache: rusqlite's own parse
/// the statement again on every call, which was a tenth of a push's time.
pub(crate) trait Cached {
    /// [`rusqlite::Connection::execute`], with the statement cached.
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    /// [`rusqlite::Connection::query_row`], with the statement cached.
    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for rusqlite::Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Prepared statements kept per connection: more than the store has.
const STATEMENT_CACHE: usize = 256;

/// Turns on SQLite's query planner stability guarantee (decision 0054). Without it, a cached
/// statement whose plan the planner tied to a bound value (`LIMIT ?`, or `col = ?` on a column
/// no index covers) is compiled again on every use after rusqlite clears its bindings: the
/// feed's queries were, a few per cent of a push.
pub(crate) fn stable_plans(conn: &Connection) -> Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
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
        // A push runs some forty distinct statements; with rusqlite's default of 16 cached,
        // each was parsed again on every use (a tenth of a push's time).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        stable_plans(&conn)?;
        let migrated = migrations::run(&mut SqliteTarget(&mut conn))?;
        let reader = Connection::open_with_flags(
            dir.join(DB_FILE),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        reader.busy_timeout(std::time::Duration::from_millis(500))?;
        reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        stable_plans(&reader)?;
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

/// A transaction in progress; each concern's statements are in its own module.
struct SqliteTx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
}

/// A position or count as read from SQLite (never negative).
fn pos(v: i64) -> u64 {
    v.max(0).unsigned_abs()
}

/// A position or count as SQLite stores it.
fn sql_pos(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
