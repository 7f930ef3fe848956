//! The server store's numbered migrations: one list for SQLite and PostgreSQL, and the runner
//! both backends share.
//!
//! `schema_migrations(version, name, applied_at)` records every migration applied. Each
//! migration runs in its own transaction together with its row in that table (taken under the
//! backend's writer lock, re-checking the version inside), so a process killed mid-migration
//! leaves the previous schema intact and two processes starting together apply it once.
//!
//! Migrations are only ever appended. Migration 1 is the baseline: exactly the schema the
//! first-wave build created with `CREATE … IF NOT EXISTS` (no version table), so a store it
//! wrote adopts version 1 without any change. A store whose version is newer than
//! [`LATEST`] is refused before anything is written (see [`check_known`]).
//!
//! Why not a migration library: `refinery` bounds rusqlite at ≤ 0.41 (we use 0.43), and the
//! others either target one database or async drivers; the bookkeeping here is a version table
//! and a loop (docs/decisions/0019-server-migrations-and-backup.md).

use crate::error::ServerError;
use crate::storage::Result;

/// The SQL dialects the server stores in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (the embedded store).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A migration's SQL: one text where the dialects agree, one per dialect where they do not.
#[derive(Debug, Clone, Copy)]
pub enum Sql {
    /// Runs as is on both backends.
    Shared(&'static str),
    /// A text per dialect.
    PerDialect {
        /// The SQLite text.
        sqlite: &'static str,
        /// The PostgreSQL text.
        postgres: &'static str,
    },
}

impl Sql {
    /// The text for a dialect.
    pub fn text(&self, dialect: Dialect) -> &'static str {
        match (self, dialect) {
            (Sql::Shared(s), _) => s,
            (Sql::PerDialect { sqlite, .. }, Dialect::Sqlite) => sqlite,
            (Sql::PerDialect { postgres, .. }, Dialect::Postgres) => postgres,
        }
    }
}

/// One numbered migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number, from 1, consecutive.
    pub version: u32,
    /// A short name, recorded in `schema_migrations`.
    pub name: &'static str,
    /// What it runs.
    pub sql: Sql,
    /// Whether it also writes the store's identity (a new `store_id` and `epoch`, random, so
    /// not expressible in portable SQL); see [`crate::storage::meta`].
    pub seeds_identity: bool,
}

/// The version table; created by the first migration applied (shared text).
pub const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

const BASELINE_SQLITE: &str = "
CREATE TABLE IF NOT EXISTS org (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL,
    roster TEXT NOT NULL, catalogue TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS codes (code_hash TEXT PRIMARY KEY, person TEXT NOT NULL,
    created_at INTEGER NOT NULL, used_at INTEGER);
CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, person TEXT NOT NULL, name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
    quarantined TEXT);
CREATE TABLE IF NOT EXISTS actors (actor TEXT PRIMARY KEY, device TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (case_id TEXT PRIMARY KEY, snapshot BLOB NOT NULL,
    feed_pos INTEGER NOT NULL, number TEXT, status TEXT NOT NULL, level TEXT NOT NULL,
    grid TEXT NOT NULL, community TEXT NOT NULL, reporter TEXT NOT NULL, category TEXT NOT NULL,
    created_at INTEGER NOT NULL, received_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS cases_by_pos ON cases(feed_pos);
CREATE TABLE IF NOT EXISTS case_access (key TEXT NOT NULL, case_id TEXT NOT NULL,
    PRIMARY KEY (key, case_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (pos INTEGER PRIMARY KEY, case_id TEXT NOT NULL,
    bytes BLOB NOT NULL, device TEXT);
CREATE INDEX IF NOT EXISTS changes_by_case ON changes(case_id, pos);
CREATE TABLE IF NOT EXISTS device_cases (device TEXT NOT NULL, case_id TEXT NOT NULL,
    since INTEGER NOT NULL, PRIMARY KEY (device, case_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS photo_refs (hash TEXT NOT NULL, case_id TEXT NOT NULL,
    PRIMARY KEY (hash, case_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS case_rankings (case_id TEXT PRIMARY KEY, counts INTEGER NOT NULL,
    row BLOB);
CREATE TABLE IF NOT EXISTS photo_uploaders (hash TEXT NOT NULL, device TEXT NOT NULL,
    person TEXT NOT NULL, bytes INTEGER NOT NULL, uploaded_at INTEGER NOT NULL,
    PRIMARY KEY (hash, device)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS photo_uploaders_by_device ON photo_uploaders(device);
INSERT OR IGNORE INTO counters (name, next) VALUES ('feed', 1);
";

const BASELINE_POSTGRES: &str = "
CREATE TABLE IF NOT EXISTS org (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL,
    roster TEXT NOT NULL, catalogue TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS codes (code_hash TEXT PRIMARY KEY, person TEXT NOT NULL,
    created_at BIGINT NOT NULL, used_at BIGINT);
CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, person TEXT NOT NULL, name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE, quarantined TEXT);
CREATE TABLE IF NOT EXISTS actors (actor TEXT PRIMARY KEY, device TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (case_id TEXT PRIMARY KEY, snapshot BYTEA NOT NULL,
    feed_pos BIGINT NOT NULL, number TEXT, status TEXT NOT NULL, level TEXT NOT NULL,
    grid TEXT NOT NULL, community TEXT NOT NULL, reporter TEXT NOT NULL, category TEXT NOT NULL,
    created_at BIGINT NOT NULL, received_at BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS cases_by_pos ON cases (feed_pos);
CREATE TABLE IF NOT EXISTS case_access (key TEXT NOT NULL, case_id TEXT NOT NULL,
    PRIMARY KEY (key, case_id));
CREATE INDEX IF NOT EXISTS case_access_by_case ON case_access (case_id);
CREATE TABLE IF NOT EXISTS changes (pos BIGINT PRIMARY KEY, case_id TEXT NOT NULL,
    bytes BYTEA NOT NULL, device TEXT);
CREATE INDEX IF NOT EXISTS changes_by_case ON changes (case_id, pos);
CREATE TABLE IF NOT EXISTS device_cases (device TEXT NOT NULL, case_id TEXT NOT NULL,
    since BIGINT NOT NULL, PRIMARY KEY (device, case_id));
CREATE TABLE IF NOT EXISTS photo_refs (hash TEXT NOT NULL, case_id TEXT NOT NULL,
    PRIMARY KEY (hash, case_id));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, next BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS case_rankings (case_id TEXT PRIMARY KEY, counts BOOLEAN NOT NULL,
    row BYTEA);
CREATE TABLE IF NOT EXISTS photo_uploaders (hash TEXT NOT NULL, device TEXT NOT NULL,
    person TEXT NOT NULL, bytes BIGINT NOT NULL, uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (hash, device));
CREATE INDEX IF NOT EXISTS photo_uploaders_by_device ON photo_uploaders (device);
INSERT INTO counters (name, next) VALUES ('feed', 1) ON CONFLICT (name) DO NOTHING;
";

/// Every migration, in order. Append only; never edit one that has shipped.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "baseline",
        sql: Sql::PerDialect {
            sqlite: BASELINE_SQLITE,
            postgres: BASELINE_POSTGRES,
        },
        seeds_identity: false,
    },
    Migration {
        version: 2,
        name: "server_meta",
        sql: Sql::Shared(
            "CREATE TABLE IF NOT EXISTS server_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        ),
        seeds_identity: true,
    },
    Migration {
        version: 3,
        name: "case_access_by_case",
        // The baseline gave PostgreSQL this index and SQLite not: there, finding a case's
        // access keys scanned the whole table. (PostgreSQL has it already: a no-op there.)
        sql: Sql::Shared(
            "CREATE INDEX IF NOT EXISTS case_access_by_case ON case_access (case_id);",
        ),
        seeds_identity: false,
    },
    Migration {
        version: 4,
        name: "desk_sign_in",
        // Desk passwords, sessions, failure counts and one-time sign-in links (decision 0039).
        // Tokens are kept only as SHA-256 hashes; BIGINT is an integer in SQLite too.
        sql: Sql::Shared(
            "CREATE TABLE IF NOT EXISTS desk_passwords (person TEXT PRIMARY KEY,
                phc TEXT NOT NULL, updated_at BIGINT NOT NULL);
             CREATE TABLE IF NOT EXISTS desk_sessions (token_hash TEXT PRIMARY KEY,
                person TEXT NOT NULL, created_at BIGINT NOT NULL, last_seen BIGINT NOT NULL,
                user_agent TEXT);
             CREATE INDEX IF NOT EXISTS desk_sessions_by_person ON desk_sessions (person);
             CREATE TABLE IF NOT EXISTS desk_lockouts (subject TEXT PRIMARY KEY,
                failures BIGINT NOT NULL, locked_until BIGINT NOT NULL);
             CREATE TABLE IF NOT EXISTS desk_links (token_hash TEXT PRIMARY KEY,
                person TEXT NOT NULL, created_at BIGINT NOT NULL, used_at BIGINT);",
        ),
        seeds_identity: false,
    },
    Migration {
        version: 5,
        name: "device_status",
        // What the desk's devices page shows (decision 0041): one row per device that has
        // made an authenticated request, written at most once per sync request.
        sql: Sql::Shared(
            "CREATE TABLE IF NOT EXISTS device_status (device TEXT PRIMARY KEY,
                last_seen BIGINT NOT NULL, app_version TEXT, outbox BIGINT, last_error TEXT,
                refusal TEXT, refused_at BIGINT);",
        ),
        seeds_identity: false,
    },
    Migration {
        version: 6,
        name: "desk_index",
        // Filled from the folded cases by `desk::index` (and, for a store written before,
        // by its catch-up when the server opens the store).
        sql: Sql::Shared(DESK_INDEX),
        seeds_identity: false,
    },
    Migration {
        version: 7,
        name: "device_photo_bytes",
        // Each device's uploaded photo bytes as a running total, kept by the upload's own
        // write (photo uploaders are never removed), so an upload's quota check reads one
        // row instead of summing every photo the device ever sent (decision 0053). Filled
        // here from the uploads recorded before.
        sql: Sql::Shared(
            "CREATE TABLE IF NOT EXISTS device_photo_bytes (device TEXT PRIMARY KEY,
                bytes BIGINT NOT NULL);
             INSERT INTO device_photo_bytes (device, bytes)
                SELECT device, SUM(bytes) FROM photo_uploaders GROUP BY device;",
        ),
        seeds_identity: false,
    },
    Migration {
        version: 8,
        name: "device_photos_unreadable",
        // How many photo files a device's last sync could not send, its own copy being
        // missing or damaged (decision 0062); NULL until a device reports some.
        sql: Sql::Shared("ALTER TABLE device_status ADD COLUMN photos_unreadable BIGINT;"),
        seeds_identity: false,
    },
];

/// The desk's case index (decision 0040); the same text on both backends.
const DESK_INDEX: &str = "
CREATE TABLE IF NOT EXISTS desk_cases (case_id TEXT PRIMARY KEY, number TEXT,
    status TEXT NOT NULL, level TEXT NOT NULL, category TEXT NOT NULL,
    category_name TEXT NOT NULL, grid TEXT NOT NULL, community TEXT NOT NULL,
    reporter TEXT NOT NULL, assignee TEXT NOT NULL, departments TEXT NOT NULL,
    deadline BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, closed_at BIGINT,
    lat DOUBLE PRECISION, lon DOUBLE PRECISION, summary TEXT NOT NULL, search TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS desk_cases_by_created ON desk_cases (created_at);
CREATE INDEX IF NOT EXISTS desk_cases_by_updated ON desk_cases (updated_at);
CREATE INDEX IF NOT EXISTS desk_cases_by_deadline ON desk_cases (deadline);
CREATE INDEX IF NOT EXISTS desk_cases_by_number ON desk_cases (number);
CREATE INDEX IF NOT EXISTS desk_cases_by_closed ON desk_cases (closed_at);
CREATE INDEX IF NOT EXISTS desk_cases_by_status ON desk_cases (status, deadline);
CREATE INDEX IF NOT EXISTS desk_cases_by_community ON desk_cases (community, created_at);
CREATE INDEX IF NOT EXISTS desk_cases_by_grid ON desk_cases (grid, created_at);
CREATE INDEX IF NOT EXISTS desk_cases_by_category ON desk_cases (category, created_at);
CREATE INDEX IF NOT EXISTS desk_cases_by_reporter ON desk_cases (reporter);
CREATE TABLE IF NOT EXISTS desk_case_departments (department TEXT NOT NULL,
    case_id TEXT NOT NULL, PRIMARY KEY (department, case_id));
CREATE INDEX IF NOT EXISTS desk_case_departments_by_case ON desk_case_departments (case_id);
";

/// The newest schema version this build knows.
pub const LATEST: u32 = MIGRATIONS.len() as u32;

/// What a migration run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    /// The version found (0: an empty store).
    pub from: u32,
    /// The version left.
    pub to: u32,
}

/// A store the runner migrates; each backend implements it over one connection.
pub(crate) trait Target {
    /// The version recorded (0 when there is no version table).
    fn version(&mut self) -> Result<u32>;
    /// Applies `m` in one transaction under the backend's writer lock: re-reads the version
    /// inside it and does nothing (returns false) when `m` is already applied; otherwise runs
    /// [`VERSION_TABLE`], the SQL, the identity seed when asked, and records `m`.
    fn apply(&mut self, m: &Migration, now_ms: i64) -> Result<bool>;
}

/// Refuses a version newer than this build knows, naming both numbers.
pub fn check_known(version: u32) -> Result<()> {
    if version > LATEST {
        return Err(ServerError::storage_state(format!(
            "the store has schema version {version}, newer than this build knows ({LATEST}); \
             run a server build that knows version {version} (nothing was changed)"
        )));
    }
    Ok(())
}

/// Brings a store to [`LATEST`], refusing a newer one before writing anything.
pub(crate) fn run(target: &mut dyn Target) -> Result<Migrated> {
    let from = target.version()?;
    check_known(from)?;
    for m in MIGRATIONS.iter().filter(|m| m.version > from) {
        if target.apply(m, now_ms())? {
            tracing::info!(version = m.version, name = m.name, "store migrated");
        }
    }
    let to = target.version()?;
    check_known(to)?;
    Ok(Migrated { from, to })
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{}", m.name);
        }
        assert_eq!(LATEST, 8);
    }

    #[test]
    fn a_newer_version_is_refused_naming_both_numbers() {
        assert!(check_known(LATEST).is_ok());
        let e = check_known(LATEST + 5).unwrap_err().to_string();
        assert!(e.contains(&(LATEST + 5).to_string()), "{e}");
        assert!(e.contains(&format!("({LATEST})")), "{e}");
    }
}
