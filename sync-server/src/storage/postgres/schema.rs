//! The PostgreSQL schema: created if missing, then brought to the latest version by the shared
//! [`migrations`] list, each migration in its own transaction under an advisory lock so that
//! server instances starting together do not race (concurrent `CREATE TABLE IF NOT EXISTS`
//! can fail on PostgreSQL's catalogue constraints).

use crate::error::ServerError;
use crate::storage::Result;
use crate::storage::meta;
use crate::storage::migrations::{self, Dialect, Migrated, Migration, Target};
use ::postgres::Client;

/// The advisory lock key taken while creating or migrating the schema ("xiangyin" in ASCII).
pub const SCHEMA_LOCK: i64 = 0x7869_616e_6779_696e;

/// Checks that a schema name is a plain identifier and returns it double-quoted.
pub(super) fn quote_schema(name: &str) -> Result<String> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        Ok(format!("\"{name}\""))
    } else {
        Err(ServerError::storage_state(format!(
            "schema name {name:?}: use letters, digits and _ (at most 63, not starting with a digit)"
        )))
    }
}

/// The recorded schema version in the connection's search path (0 without a version table).
pub(super) fn schema_version(client: &mut impl ::postgres::GenericClient) -> Result<u32> {
    let has: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?
        .try_get(0)?;
    if !has {
        return Ok(0);
    }
    let v: i32 = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )?
        .try_get(0)?;
    Ok(u32::try_from(v.max(0)).unwrap_or(0))
}

/// [`migrations::Target`] over one connection; the advisory lock is the writer lock.
struct PgTarget<'a>(&'a mut Client);

impl Target for PgTarget<'_> {
    fn version(&mut self) -> Result<u32> {
        schema_version(self.0)
    }

    fn apply(&mut self, m: &Migration, now_ms: i64) -> Result<bool> {
        let mut tx = self.0.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
        // Create the version table (if another instance has not) and read it directly: after
        // an advisory lock a catalog lookup such as `to_regclass` may still answer from before
        // the other instance's commit, and two instances would both run a migration.
        tx.batch_execute(migrations::VERSION_TABLE)?;
        let done: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )?
            .try_get(0)?;
        if i64::from(done) >= i64::from(m.version) {
            return Ok(false);
        }
        tx.batch_execute(m.sql.text(Dialect::Postgres))?;
        if m.seeds_identity {
            for key in [meta::STORE_ID, meta::EPOCH] {
                tx.execute(
                    "INSERT INTO server_meta (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO NOTHING",
                    &[&key, &meta::new_id()],
                )?;
            }
        }
        let version = i32::try_from(m.version)
            .map_err(|_| ServerError::Internal(format!("migration {} too large", m.version)))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[&version, &m.name, &now_ms],
        )?;
        tx.commit()?;
        Ok(true)
    }
}

/// Creates the schema (`schema`, already quoted, when given) if missing, then migrates it:
/// a store newer than this build is refused before anything is written.
pub(super) fn create(client: &mut Client, schema: Option<&str>) -> Result<Migrated> {
    if let Some(s) = schema {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))?;
        tx.commit()?;
    }
    migrations::check_known(schema_version(client)?)?;
    migrations::run(&mut PgTarget(client))
}
