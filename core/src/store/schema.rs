//! The store's schema and its numbered migrations.
//!
//! `PRAGMA user_version` holds the number of migrations applied. Migrations only ever get
//! appended; each runs in the transaction that bumps the version, so a kill during a migration
//! leaves the previous schema intact.

use crate::error::{Error, Result};
use rusqlite::Connection;

/// The migrations, in order; migration `i` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: documents, change log, index tables, outbox, device metadata.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
     CREATE TABLE docs (
        case_id TEXT PRIMARY KEY,
        snapshot BLOB NOT NULL,
        pending_changes INTEGER NOT NULL DEFAULT 0
     );
     CREATE TABLE doc_changes (
        id INTEGER PRIMARY KEY,
        case_id TEXT NOT NULL,
        bytes BLOB NOT NULL
     );
     CREATE INDEX doc_changes_by_case ON doc_changes(case_id, id);
     CREATE TABLE cases (
        case_id TEXT PRIMARY KEY,
        number TEXT,
        kind TEXT NOT NULL,
        category TEXT NOT NULL,
        category_name TEXT NOT NULL,
        status TEXT NOT NULL,
        level TEXT NOT NULL,
        assignee TEXT,
        reporter TEXT NOT NULL,
        grid TEXT NOT NULL,
        community TEXT NOT NULL,
        segment TEXT,
        description TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        deadline INTEGER NOT NULL,
        open INTEGER NOT NULL
     );
     CREATE INDEX cases_by_status ON cases(status, updated_at);
     CREATE INDEX cases_by_grid ON cases(grid, updated_at);
     CREATE INDEX cases_by_reporter ON cases(reporter, created_at);
     CREATE INDEX cases_by_deadline ON cases(open, deadline);
     CREATE TABLE case_inbox (
        key TEXT NOT NULL,
        case_id TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (key, case_id)
     ) WITHOUT ROWID;
     CREATE INDEX case_inbox_by_case ON case_inbox(case_id);
     CREATE INDEX case_inbox_by_key_time ON case_inbox(key, updated_at);
     CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id TEXT NOT NULL,
        bytes BLOB NOT NULL,
        created_at INTEGER NOT NULL
     );",
    // 2: the photo upload queue: files referenced by a case that no server has yet.
    "CREATE TABLE uploads (
        hash TEXT PRIMARY KEY,
        case_id TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        created_at INTEGER NOT NULL
     );",
    // 3: where a case is (for nearby duplicates) and how it went (for meeting lists). Rows
    // written before get these on their next write (or `Device::reindex_places`); until then
    // their place is NULL and the nearby query skips them.
    "ALTER TABLE cases ADD COLUMN lon REAL;
     ALTER TABLE cases ADD COLUMN lat REAL;
     ALTER TABLE cases ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE cases ADD COLUMN reworks INTEGER NOT NULL DEFAULT 0;
     CREATE INDEX cases_by_category ON cases(category, open, created_at);",
    // 4: patrols: one index row per patrol document (documents live in `docs` like cases), and
    // the fixes recorded but not yet packed into a track chunk.
    "CREATE TABLE patrols (
        patrol_id TEXT PRIMARY KEY,
        walker TEXT NOT NULL,
        place_kind TEXT NOT NULL,
        place TEXT NOT NULL,
        community TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        points INTEGER NOT NULL,
        distance_m REAL NOT NULL,
        companions INTEGER NOT NULL,
        voided INTEGER NOT NULL
     );
     CREATE INDEX patrols_by_start ON patrols(started_at);
     CREATE INDEX patrols_by_walker ON patrols(walker, ended_at);
     CREATE TABLE patrol_points (
        id INTEGER PRIMARY KEY,
        patrol_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        lon REAL NOT NULL,
        lat REAL NOT NULL,
        accuracy_m REAL NOT NULL
     );
     CREATE INDEX patrol_points_by_patrol ON patrol_points(patrol_id, id);",
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database up to [`latest`], one migration per transaction.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > latest() {
            return Err(Error::SchemaTooNew {
                found: version,
                supported: latest(),
            });
        }
        let Some(sql) = MIGRATIONS.get(version as usize) else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_of(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    #[test]
    fn every_older_schema_migrates_to_the_same_latest_schema() {
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh).unwrap();
        let want = schema_of(&fresh);
        for start in 0..=MIGRATIONS.len() {
            let mut conn = Connection::open_in_memory().unwrap();
            for sql in &MIGRATIONS[..start] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", start as i64)
                .unwrap();
            if start >= 1 {
                conn.execute(
                    "INSERT INTO docs (case_id, snapshot) VALUES ('kept', x'01')",
                    [],
                )
                .unwrap();
            }
            migrate(&mut conn).unwrap();
            if start >= 1 {
                let n: i64 = conn
                    .query_row(
                        "SELECT COUNT(*) FROM docs WHERE case_id = 'kept'",
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(n, 1, "data written at version {start} survives");
            }
            let v: i64 = conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, latest(), "from version {start}");
            assert_eq!(schema_of(&conn), want, "from version {start}");
        }
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", latest() + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(Error::SchemaTooNew { .. })
        ));
    }
}
