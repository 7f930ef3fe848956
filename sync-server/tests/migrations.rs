//! The server store's migrations on both backends: an empty store and a store of the
//! first-wave build (its tables, no version table) end with the same schema and version; a
//! store with a newer version than this build knows is refused, naming both numbers, and left
//! untouched. PostgreSQL runs in a fresh schema per test in the database at `XY_PG_URL`.

use postgres::NoTls;
use std::path::Path;
use xiangying_server::storage::Storage;
use xiangying_server::storage::migrations::{LATEST, MIGRATIONS};
use xiangying_server::storage::postgres::PostgresStorage;
use xiangying_server::storage::sqlite::{self, SqliteStorage};

/// What the first-wave build created in SQLite (frozen copy of its `SCHEMA`).
const GEN1_SQLITE: &str = "
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

/// What the first-wave build created in PostgreSQL (frozen copy of its `SCHEMA`).
const GEN1_POSTGRES: &str = "
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

// ---------------------------------------------------------------- SQLite

/// The schema as SQLite records it, and the versions applied.
fn sqlite_schema(dir: &Path) -> (Vec<String>, Vec<(i64, String)>) {
    let conn = rusqlite::Connection::open(dir.join(sqlite::DB_FILE)).unwrap();
    let mut st = conn
        .prepare("SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master ORDER BY name")
        .unwrap();
    let schema = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<Vec<String>, _>>()
        .unwrap();
    let mut st = conn
        .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
        .unwrap();
    let versions = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (schema, versions)
}

fn expected_versions() -> Vec<(i64, String)> {
    MIGRATIONS
        .iter()
        .map(|m| (i64::from(m.version), m.name.to_owned()))
        .collect()
}

#[test]
fn sqlite_empty_and_first_wave_stores_migrate_to_the_same_schema() {
    let fresh = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(fresh.path()).unwrap();
    assert_eq!((s.migrated().from, s.migrated().to), (0, LATEST));
    assert_eq!(s.identity().schema_version, LATEST);
    drop(s);

    let old = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(old.path().join(sqlite::DB_FILE)).unwrap();
        conn.execute_batch(GEN1_SQLITE).unwrap();
        conn.execute(
            "INSERT INTO devices (id, person, name, token_hash, created_at) VALUES ('d1', 'gw1', 'p', 'h', 1)",
            [],
        )
        .unwrap();
    }
    let s = SqliteStorage::open(old.path()).unwrap();
    assert_eq!((s.migrated().from, s.migrated().to), (0, LATEST));
    let devices = xiangying_server::storage::with_tx(&s, |tx| tx.devices()).unwrap();
    assert_eq!(devices.len(), 1, "the first-wave rows are kept");
    let id = s.identity().clone();
    drop(s);

    assert_eq!(sqlite_schema(fresh.path()), sqlite_schema(old.path()));
    assert_eq!(sqlite_schema(old.path()).1, expected_versions());
    // Opening again migrates nothing and keeps the identity.
    assert_eq!(sqlite::migrate(old.path()).unwrap().from, LATEST);
    let again = SqliteStorage::open(old.path()).unwrap();
    assert_eq!(again.identity(), &id);
}

#[test]
fn sqlite_store_at_version_one_migrates_on() {
    // A store that adopted only the baseline (as a build knowing one migration would leave it).
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join(sqlite::DB_FILE)).unwrap();
        conn.execute_batch(GEN1_SQLITE).unwrap();
        conn.execute_batch(xiangying_server::storage::migrations::VERSION_TABLE)
            .unwrap();
        conn.execute(
            "INSERT INTO schema_migrations VALUES (1, 'baseline', 0)",
            [],
        )
        .unwrap();
    }
    let m = sqlite::migrate(dir.path()).unwrap();
    assert_eq!((m.from, m.to), (1, LATEST));
    let fresh = tempfile::tempdir().unwrap();
    drop(SqliteStorage::open(fresh.path()).unwrap());
    assert_eq!(sqlite_schema(fresh.path()).0, sqlite_schema(dir.path()).0);
}

#[test]
fn sqlite_newer_store_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStorage::open(dir.path()).unwrap());
    let newer = LATEST + 7;
    {
        let conn = rusqlite::Connection::open(dir.path().join(sqlite::DB_FILE)).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?1, 'from the future', 0)",
            [newer],
        )
        .unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }
    let before = std::fs::read(dir.path().join(sqlite::DB_FILE)).unwrap();
    let schema_before = sqlite_schema(dir.path());
    let e = SqliteStorage::open(dir.path())
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains(&newer.to_string()), "{e}");
    assert!(e.contains(&format!("({LATEST})")), "{e}");
    let e = sqlite::migrate(dir.path()).unwrap_err().to_string();
    assert!(e.contains(&newer.to_string()), "{e}");
    assert_eq!(
        std::fs::read(dir.path().join(sqlite::DB_FILE)).unwrap(),
        before
    );
    assert_eq!(sqlite_schema(dir.path()), schema_before);
}

// ---------------------------------------------------------------- PostgreSQL

fn pg_url() -> String {
    std::env::var("XY_PG_URL")
        .expect("XY_PG_URL is not set: export XY_PG_URL=\"$(bash scripts/postgres | tail -n 1)\"")
}

/// A schema name of its own, dropped when dropped.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(test: &str) -> Schema {
        let url = pg_url();
        let name = format!("xyt_mig_{test}_{}", std::process::id());
        let s = Schema { url, name };
        s.client()
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", s.name))
            .unwrap();
        s
    }

    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, NoTls).unwrap()
    }

    /// Runs SQL with the schema (created if missing) as the search path.
    fn run(&self, sql: &str) {
        let mut c = self.client();
        c.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {0}; SET search_path TO {0}; {sql}",
            self.name
        ))
        .unwrap();
    }

    fn open(&self) -> Result<PostgresStorage, xiangying_server::error::ServerError> {
        PostgresStorage::connect_with_schema(&self.url, &self.name)
    }

    /// Columns, constraints and indexes (with the schema's name taken out), and versions.
    fn describe(&self) -> (Vec<String>, Vec<(i32, String)>) {
        let mut c = self.client();
        let mut out = Vec::new();
        for sql in [
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
                || ' ' || COALESCE(column_default, '')
             FROM information_schema.columns WHERE table_schema = $1",
            "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
             FROM pg_constraint WHERE connamespace = $1::text::regnamespace",
            "SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = $1",
        ] {
            for r in c.query(sql, &[&self.name]).unwrap() {
                let line: String = r.get(0);
                out.push(line.replace(&self.name, "S"));
            }
        }
        out.sort();
        let versions = c
            .query(
                &format!(
                    "SELECT version, name FROM {}.schema_migrations ORDER BY version",
                    self.name
                ),
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        (out, versions)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

#[test]
fn postgres_empty_and_first_wave_stores_migrate_to_the_same_schema() {
    let fresh = Schema::new("fresh");
    let s = fresh.open().unwrap();
    assert_eq!((s.migrated().from, s.migrated().to), (0, LATEST));
    drop(s);

    let old = Schema::new("gen1");
    old.run(GEN1_POSTGRES);
    old.run("INSERT INTO devices (id, person, name, token_hash, created_at) VALUES ('d1', 'gw1', 'p', 'h', 1)");
    let s = old.open().unwrap();
    assert_eq!((s.migrated().from, s.migrated().to), (0, LATEST));
    let devices = xiangying_server::storage::with_tx(&s, |tx| tx.devices()).unwrap();
    assert_eq!(devices.len(), 1, "the first-wave rows are kept");
    let id = s.identity().clone();
    drop(s);

    let (f, o) = (fresh.describe(), old.describe());
    assert!(f.0.len() > 40, "{f:?}");
    assert_eq!(f, o);
    let want: Vec<(i32, String)> = MIGRATIONS
        .iter()
        .map(|m| (m.version as i32, m.name.to_owned()))
        .collect();
    assert_eq!(o.1, want);
    let again = old.open().unwrap();
    assert_eq!(again.migrated().from, LATEST);
    assert_eq!(again.identity(), &id);
}

#[test]
fn postgres_newer_store_is_refused_untouched() {
    let s = Schema::new("newer");
    drop(s.open().unwrap());
    let newer = LATEST + 7;
    s.run(&format!(
        "INSERT INTO schema_migrations VALUES ({newer}, 'from the future', 0)"
    ));
    let before = s.describe();
    let e = s.open().err().expect("refused").to_string();
    assert!(e.contains(&newer.to_string()), "{e}");
    assert!(e.contains(&format!("({LATEST})")), "{e}");
    assert_eq!(s.describe(), before);
}

// ---------------------------------------------------------------- both backends

/// A column as both backends are compared: its type reduced to what the server relies on
/// (`int`, `float`, `text`, `bytes`), and whether it may be NULL (primary-key columns never).
type Column = (String, String, bool);

/// What a table looks like on either backend: its columns in order and its primary key.
#[derive(Debug, PartialEq, Eq)]
struct Table {
    columns: Vec<Column>,
    key: Vec<String>,
}

fn reduced_type(declared: &str) -> String {
    let t = declared.to_ascii_lowercase();
    // SQLite has no boolean type: it keeps PostgreSQL's booleans as integers.
    let kind = if t.contains("int") || t == "boolean" {
        "int"
    } else if t.contains("char") || t.contains("text") {
        "text"
    } else if t.contains("blob") || t.contains("bytea") {
        "bytes"
    } else if t.contains("real") || t.contains("double") || t.contains("float") {
        "float"
    } else {
        return format!("other:{t}");
    };
    kind.to_string()
}

/// Tables (and their indexes' columns) of a migrated SQLite store.
fn sqlite_tables(dir: &Path) -> (std::collections::BTreeMap<String, Table>, Vec<String>) {
    let conn = rusqlite::Connection::open(dir.join(sqlite::DB_FILE)).unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut tables = std::collections::BTreeMap::new();
    let mut indexes = Vec::new();
    for name in names {
        let mut cols: Vec<(i64, Column)> = conn
            .prepare(&format!("PRAGMA table_info({name})"))
            .unwrap()
            .query_map([], |r| {
                let col: String = r.get(1)?;
                let ty: String = r.get(2)?;
                let notnull: bool = r.get(3)?;
                let pk: i64 = r.get(5)?;
                Ok((pk, (col, reduced_type(&ty), !notnull && pk == 0)))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut key: Vec<(i64, String)> = cols
            .iter()
            .filter(|(pk, _)| *pk > 0)
            .map(|(pk, c)| (*pk, c.0.clone()))
            .collect();
        key.sort();
        let index_names: Vec<(String, bool, String)> = conn
            .prepare(&format!("PRAGMA index_list({name})"))
            .unwrap()
            .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (index, unique, origin) in index_names {
            if origin == "pk" {
                continue;
            }
            let cols: Vec<String> = conn
                .prepare(&format!("PRAGMA index_info({index})"))
                .unwrap()
                .query_map([], |r| r.get(2))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            indexes.push(format!(
                "{name}({}){}",
                cols.join(","),
                if unique { " unique" } else { "" }
            ));
        }
        tables.insert(
            name,
            Table {
                columns: cols.drain(..).map(|(_, c)| c).collect(),
                key: key.into_iter().map(|(_, c)| c).collect(),
            },
        );
    }
    indexes.sort();
    (tables, indexes)
}

/// Tables (and their indexes' columns) of a migrated PostgreSQL schema.
fn postgres_tables(s: &Schema) -> (std::collections::BTreeMap<String, Table>, Vec<String>) {
    let mut c = s.client();
    let mut tables: std::collections::BTreeMap<String, Table> = Default::default();
    for r in c
        .query(
            "SELECT table_name::text, column_name::text, data_type::text, is_nullable = 'YES'
             FROM information_schema.columns WHERE table_schema = $1
             ORDER BY table_name, ordinal_position",
            &[&s.name],
        )
        .unwrap()
    {
        let table: String = r.get(0);
        let t = tables.entry(table).or_insert(Table {
            columns: Vec::new(),
            key: Vec::new(),
        });
        t.columns
            .push((r.get(1), reduced_type(&r.get::<_, String>(2)), r.get(3)));
    }
    // Primary keys and unique constraints, with their columns in order.
    let mut indexes = Vec::new();
    for r in c
        .query(
            "SELECT t.relname::text, i.indisprimary, i.indisunique,
                    array_agg(a.attname::text ORDER BY k.ord)
             FROM pg_index i
             JOIN pg_class t ON t.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
             WHERE n.nspname = $1
             GROUP BY t.relname, i.indexrelid, i.indisprimary, i.indisunique",
            &[&s.name],
        )
        .unwrap()
    {
        let table: String = r.get(0);
        let primary: bool = r.get(1);
        let unique: bool = r.get(2);
        let cols: Vec<String> = r.get(3);
        if primary {
            if let Some(t) = tables.get_mut(&table) {
                t.key = cols;
            }
        } else {
            indexes.push(format!(
                "{table}({}){}",
                cols.join(","),
                if unique { " unique" } else { "" }
            ));
        }
    }
    // Primary-key columns are never NULL on either side.
    for t in tables.values_mut() {
        for col in t.columns.iter_mut() {
            if t.key.contains(&col.0) {
                col.2 = false;
            }
        }
    }
    indexes.sort();
    (tables, indexes)
}

/// The two backends' schemas are kept by two texts in migration 1 (their dialects differ);
/// this proves them the same where the server relies on it: the same tables, the same columns
/// in the same order with the same kind of type and nullability, the same primary keys, and the
/// same indexes on the same columns.
#[test]
fn sqlite_and_postgres_migrate_to_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStorage::open(dir.path()).unwrap());
    let (lite, lite_indexes) = sqlite_tables(dir.path());
    let pg = Schema::new("same");
    drop(pg.open().unwrap());
    let (post, post_indexes) = postgres_tables(&pg);
    assert_eq!(
        lite.keys().collect::<Vec<_>>(),
        post.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (name, t) in &lite {
        assert_eq!(t, &post[name], "table {name}");
    }
    assert_eq!(lite_indexes, post_indexes, "the same indexes");
}

/// The uploads a first-wave store recorded: dev-a sent two photos (300 and 1,000 bytes),
/// dev-b one of them too (300).
const GEN1_UPLOADS: &str = "
INSERT INTO photo_uploaders (hash, device, person, bytes, uploaded_at) VALUES
    ('h1', 'dev-a', 'alice', 300, 1), ('h2', 'dev-a', 'alice', 1000, 2),
    ('h1', 'dev-b', 'bob', 300, 3);
";

/// Migration 7 fills each device's running total from the uploads recorded before it, and
/// later uploads add to it.
fn running_totals_follow_the_recorded_uploads(s: &dyn Storage) {
    use xiangying_server::storage::with_tx;
    let bytes = |d: &str| with_tx(s, |t| t.device_photo_bytes(&d.into())).unwrap();
    assert_eq!(
        (bytes("dev-a"), bytes("dev-b"), bytes("dev-c")),
        (1300, 300, 0)
    );
    with_tx(s, |t| {
        t.add_photo_uploader(&"h3".into(), &"dev-b".into(), &"bob".into(), 50, 4)?;
        // Already recorded: not counted again.
        t.add_photo_uploader(&"h1".into(), &"dev-b".into(), &"bob".into(), 300, 5)
    })
    .unwrap();
    assert_eq!((bytes("dev-a"), bytes("dev-b")), (1300, 350));
}

#[test]
fn sqlite_first_wave_uploads_fill_the_running_totals() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join(sqlite::DB_FILE)).unwrap();
        conn.execute_batch(GEN1_SQLITE).unwrap();
        conn.execute_batch(GEN1_UPLOADS).unwrap();
    }
    running_totals_follow_the_recorded_uploads(&SqliteStorage::open(dir.path()).unwrap());
}

#[test]
fn postgres_first_wave_uploads_fill_the_running_totals() {
    let old = Schema::new("uploads");
    old.run(GEN1_POSTGRES);
    old.run(GEN1_UPLOADS);
    running_totals_follow_the_recorded_uploads(&old.open().unwrap());
}
