//! The PostgreSQL schema: the SQLite backend's tables with PostgreSQL types, created if
//! missing under an advisory lock so that server instances starting together do not race
//! (concurrent `CREATE TABLE IF NOT EXISTS` can fail on PostgreSQL's catalogue constraints).

use crate::error::ServerError;
use crate::storage::Result;
use ::postgres::Client;

/// The advisory lock key taken while creating or migrating the schema ("xiangyin" in ASCII).
pub(super) const SCHEMA_LOCK: i64 = 0x7869_616e_6779_696e;

const SCHEMA: &str = "
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

/// Checks that a schema name is a plain identifier and returns it double-quoted.
pub(super) fn quote_schema(name: &str) -> Result<String> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        Ok(format!("\"{name}\""))
    } else {
        Err(ServerError::Storage(format!(
            "schema name {name:?}: use letters, digits and _ (at most 63, not starting with a digit)"
        )))
    }
}

/// Creates the schema (`schema`, already quoted, when given) and its tables if missing, in one
/// transaction holding [`SCHEMA_LOCK`].
pub(super) fn create(client: &mut Client, schema: Option<&str>) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
    if let Some(s) = schema {
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))?;
    }
    tx.batch_execute(SCHEMA)?;
    tx.commit()?;
    Ok(())
}
