//! The PostgreSQL backend: the scale-out path, several stateless server instances over one
//! database (docs/decisions/0006-postgres-backend.md).
//!
//! - A pool of blocking connections (`r2d2`, [`pool`]); `transact` is called from tokio's
//!   `spawn_blocking` threads. TLS follows libpq's `sslmode` and `sslrootcert` ([`tls`]);
//!   every statement runs under `statement_timeout` (docs/decisions/0036-postgres-pool-and-tls.md).
//! - Every transaction runs at READ COMMITTED. Serialization failures, deadlocks and a
//!   connection lost before the commit re-run the whole closure (it is `FnMut` and has no
//!   effect outside the transaction), a few times, with a short randomised back-off; each
//!   retry counts in `xiangying_store_retries_total{reason}`.
//! - Feed positions come from a counter row updated inside the writing transaction, whose row
//!   lock is held until commit, so positions become visible in the order handed out; see
//!   [`FeedTx::max_position`](crate::storage::FeedTx::max_position) and `feed_cases` in [`tx`].
//! - The schema is created if missing under an advisory lock ([`schema`]).

mod pool;
mod schema;
#[cfg(test)]
mod tests;
pub mod tls;
mod tx;

use super::{Migrated, Result, Storage, StoreIdentity, Tx, meta, with_tx};
use crate::error::ServerError;
use ::postgres::error::SqlState;
use ::postgres::fallible_iterator::FallibleIterator;
use ::postgres::{Client, IsolationLevel};
use pool::{Connector, Pool};
use std::sync::Weak;
use std::time::Duration;
use tx::{Failure, PgTx};
use xiangying_model::sync::keys::AccessKey;

pub use schema::SCHEMA_LOCK;

/// Checks that a schema name is a plain identifier (letters, digits and `_`, at most 63, not
/// starting with a digit), as [`PgOptions::schema`] must be.
pub fn check_schema_name(name: &str) -> Result<()> {
    schema::quote_schema(name).map(|_| ())
}

/// How many times a transaction is run at most when it keeps hitting serialization failures,
/// deadlocks or lost connections.
const MAX_ATTEMPTS: u32 = 8;

/// Connection settings beyond the URL.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// A schema to hold the tables (created if missing) instead of the URL's `search_path`
    /// (normally `public`): lets tests, or several deployments, share one database.
    pub schema: Option<String>,
    /// The most connections this instance opens.
    pub pool_size: usize,
    /// How long `transact` waits for a free connection before failing.
    pub pool_wait: Duration,
    /// The longest one statement may run (PostgreSQL's `statement_timeout`, also used as
    /// `idle_in_transaction_session_timeout`); one that runs over fails.
    pub statement_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: None,
            pool_size: DEFAULT_POOL_SIZE,
            pool_wait: Duration::from_secs(DEFAULT_POOL_WAIT_SECS),
            statement_timeout: Duration::from_secs(DEFAULT_STATEMENT_TIMEOUT_SECS),
        }
    }
}

/// The default of [`PgOptions::pool_size`] (`[store] pool_size`).
pub const DEFAULT_POOL_SIZE: usize = 8;
/// The default of [`PgOptions::pool_wait`], seconds (`[store] pool_wait_secs`).
pub const DEFAULT_POOL_WAIT_SECS: u64 = 30;
/// The default of [`PgOptions::statement_timeout`], seconds (`[store] statement_timeout_secs`).
pub const DEFAULT_STATEMENT_TIMEOUT_SECS: u64 = 30;

/// A single connection to `url` with its TLS settings (`sslmode`, `sslrootcert`) applied, for
/// tools outside the pool (backup and restore).
pub fn connect_client(url: &str) -> Result<Client> {
    let (config, tls) = tls::split(url)?;
    Ok(config.connect(tls.connector()?)?)
}

/// Whether the database at `url` holds a Xiangying store, with its tables in `schema` (else
/// the URL's current schema, normally `public`): one where a roster was published. It only
/// reads, unlike [`PostgresStorage::connect_with`], which creates and migrates the tables, so
/// a mistyped URL or schema can be refused with nothing left behind in it.
pub fn holds_store(url: &str, schema: Option<&str>) -> Result<bool> {
    let mut client = connect_client(url)?;
    let org = match schema {
        Some(s) => format!("{}.org", schema::quote_schema(s)?),
        None => "org".to_owned(),
    };
    let has: bool = client
        .query_one("SELECT to_regclass($1::text) IS NOT NULL", &[&org])?
        .try_get(0)?;
    if !has {
        return Ok(false);
    }
    let version: Option<i64> = client
        .query_opt(&format!("SELECT version FROM {org} WHERE id = 1"), &[])?
        .map(|r| r.try_get(0))
        .transpose()?;
    Ok(version.is_some_and(|v| v > 0))
}

/// The PostgreSQL backend.
pub struct PostgresStorage {
    pool: Pool,
    schema: Option<String>,
    statement_timeout: Duration,
    identity: StoreIdentity,
    migrated: Migrated,
}

impl PostgresStorage {
    /// Connects to `url` (`postgres://user:password@host:port/db?sslmode=…&sslrootcert=…`, or
    /// key=value form; TLS as [`tls`] says), creating the tables if missing.
    pub fn connect(url: &str) -> Result<PostgresStorage> {
        Self::connect_with(url, &PgOptions::default())
    }

    /// Like [`connect`](Self::connect), with the tables in `schema` (created if missing).
    pub fn connect_with_schema(url: &str, schema: &str) -> Result<PostgresStorage> {
        Self::connect_with(
            url,
            &PgOptions {
                schema: Some(schema.to_owned()),
                ..PgOptions::default()
            },
        )
    }

    /// Connects with explicit [`PgOptions`].
    pub fn connect_with(url: &str, options: &PgOptions) -> Result<PostgresStorage> {
        let (mut config, tls) = tls::split(url)?;
        if config.get_application_name().is_none() {
            config.application_name("xiangying-server");
        }
        let quoted = options
            .schema
            .as_deref()
            .map(schema::quote_schema)
            .transpose()?;
        let connector = Connector::new(config, &tls, quoted.as_deref(), options.statement_timeout)?;
        let max = u32::try_from(options.pool_size).unwrap_or(u32::MAX);
        let pool = Pool::new(connector, max, options.pool_wait)?;
        let mut client = pool.open()?;
        let migrated = schema::create(&mut client, quoted.as_deref())?;
        let mut storage = PostgresStorage {
            pool,
            schema: options.schema.clone(),
            statement_timeout: options.statement_timeout,
            identity: StoreIdentity::default(),
            migrated,
        };
        storage.identity = with_tx(&storage, |tx| meta::load(tx, migrated.to))?;
        Ok(storage)
    }

    /// The schema the tables live in: the configured one, else the connection's current
    /// schema (the first of the URL's `search_path`, normally `public`).
    pub fn schema_name(&self) -> Result<String> {
        if let Some(s) = &self.schema {
            return Ok(s.clone());
        }
        let mut client = self.pool.open()?;
        let name: Option<String> = client
            .query_one("SELECT current_schema()", &[])?
            .try_get(0)?;
        name.ok_or_else(|| ServerError::storage_state("the connection has no current schema"))
    }

    /// Runs `f` in a transaction, again (after a short pause) while it fails in a way a retry
    /// may mend, at most [`MAX_ATTEMPTS`] times; each retry is counted in
    /// `xiangying_store_retries_total{reason}`.
    fn transact_pg(&self, f: &mut dyn FnMut(&mut PgTx<'_>) -> Result<()>) -> Result<()> {
        let mut attempt = 1;
        loop {
            match self.attempt(f) {
                Ok(()) => return Ok(()),
                Err((e, Some(reason))) if attempt < MAX_ATTEMPTS => {
                    metrics::counter!(crate::metrics::STORE_RETRIES, "reason" => reason)
                        .increment(1);
                    tracing::debug!(attempt, reason, error = %e, "retrying a PostgreSQL transaction");
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Runs `f` once in a transaction; on failure says why a retry may succeed (the
    /// `reason` of `xiangying_store_retries_total`), or `None` when it may not.
    fn attempt(
        &self,
        f: &mut dyn FnMut(&mut PgTx<'_>) -> Result<()>,
    ) -> std::result::Result<(), (ServerError, Option<&'static str>)> {
        self.attempt_once(f).map_err(|(e, failure)| match failure {
            Some(Failure::Code(c)) if c == SqlState::QUERY_CANCELED => (
                ServerError::storage_state(format!(
                    "a PostgreSQL statement ran over the statement timeout ({} s, [store] \
                         statement_timeout_secs) and was cancelled: {e}",
                    self.statement_timeout.as_secs_f64()
                )),
                None,
            ),
            failure => (e, failure.as_ref().and_then(Failure::retry_reason)),
        })
    }

    /// [`attempt`](Self::attempt)'s work; on failure, the database's failure if there was one.
    fn attempt_once(
        &self,
        f: &mut dyn FnMut(&mut PgTx<'_>) -> Result<()>,
    ) -> std::result::Result<(), (ServerError, Option<Failure>)> {
        let mut pooled = self.pool.get().map_err(|e| (e, None))?;
        let conn = pooled.conn().map_err(|e| (e, None))?;
        let started = conn
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start();
        let tx = match started {
            Ok(tx) => tx,
            Err(e) => {
                let failure = Failure::of(&e);
                return Err((e.into(), Some(failure)));
            }
        };
        let mut t = PgTx {
            tx,
            stmts: &mut conn.stmts,
            failure: None,
        };
        let out = f(&mut t);
        let PgTx { tx, failure, .. } = t;
        // A closed connection is dropped, not returned, when `pooled` goes out of scope.
        match (out, failure) {
            (Ok(()), None) => match tx.commit() {
                Ok(()) => Ok(()),
                Err(e) => {
                    // A lost connection during COMMIT leaves the outcome unknown: no retry.
                    // A serialization failure at commit rolled everything back: retry.
                    let failure = Failure::of(&e);
                    let failure = (failure != Failure::Closed).then_some(failure);
                    Err((e.into(), failure))
                }
            },
            (Ok(()), Some(failure)) => {
                // The closure swallowed a database error; PostgreSQL would silently turn the
                // COMMIT of the failed transaction into a ROLLBACK.
                let _ = tx.rollback();
                Err((
                    ServerError::storage_state(format!(
                        "transaction failed ({failure:?}) but its error was ignored"
                    )),
                    Some(failure),
                ))
            }
            (Err(e), failure) => {
                let _ = tx.rollback();
                Err((e, failure))
            }
        }
    }
}

/// Every committed document write notifies the channel `xiangying_feed` with the document's
/// access keys ([`feed_payload`]), and every instance's feed listener listens on it: a push
/// through one instance wakes the waits that may read it on all of them.
pub(crate) const NOTIFY_FEED: &str = "SELECT pg_notify('xiangying_feed', $1)";
/// See [`NOTIFY_FEED`].
const LISTEN_FEED: &str = "LISTEN xiangying_feed";
/// PostgreSQL refuses a notification payload of 8,000 bytes or more; a longer list of keys is
/// sent as none (every wait checks).
const MAX_PAYLOAD: usize = 7_900;

/// A notification's payload: the access keys, one per line; empty (every wait checks) when
/// they would not fit.
pub(crate) fn feed_payload(keys: &[AccessKey]) -> String {
    let text = keys
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    if text.len() > MAX_PAYLOAD {
        String::new()
    } else {
        text
    }
}

/// Rings `wake` for a notification with `payload`: for its keys, or for everybody when it
/// names none or one that does not read (another version's key).
fn ring_for_payload(wake: &crate::wake::Wake, payload: &str) {
    let keys: Option<Vec<AccessKey>> = payload
        .lines()
        .map(|l| l.parse::<AccessKey>().ok())
        .collect();
    match keys {
        Some(keys) if !keys.is_empty() => wake.ring_for(keys),
        _ => wake.ring(),
    }
}

/// Listens for [`NOTIFY_FEED`]'s notifications on a connection of its own and rings `wake` as
/// each arrives, until the wake is dropped (checked every second); reconnects after a failure.
fn listen_for_feed(connector: Connector, wake: Weak<crate::wake::Wake>) {
    while wake.strong_count() > 0 {
        let listened = (|| -> std::result::Result<(), ::postgres::Error> {
            let mut client = connector.connect_plain()?;
            client.batch_execute(LISTEN_FEED)?;
            loop {
                let mut notes = client.notifications();
                let note = notes.timeout_iter(Duration::from_secs(1)).next()?;
                let Some(w) = wake.upgrade() else {
                    return Ok(());
                };
                if let Some(note) = note {
                    ring_for_payload(&w, note.payload());
                }
            }
        })();
        if let Err(e) = listened {
            tracing::warn!(error = %e, "the feed listener lost PostgreSQL; reconnecting");
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

impl Storage for PostgresStorage {
    fn transact(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        self.transact_pg(&mut |t| f(t))
    }

    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn identity(&self) -> &StoreIdentity {
        &self.identity
    }

    fn migrated(&self) -> Migrated {
        self.migrated
    }

    fn watch_feed(&self, wake: Weak<crate::wake::Wake>) -> Result<()> {
        let connector = self.pool.connector().clone();
        std::thread::Builder::new()
            .name("xiangying-feed-listener".into())
            .spawn(move || listen_for_feed(connector, wake))
            .map_err(|e| {
                ServerError::storage_state(format!("cannot start the feed listener: {e}"))
            })?;
        Ok(())
    }
}

/// A short randomised pause before retry `attempt` (1-based): up to 2 ms × 2^attempt.
fn backoff(attempt: u32) -> Duration {
    let cap_us = 2_000u64 << attempt.min(8);
    Duration::from_micros(rand::random_range(cap_us / 4..cap_us))
}

#[cfg(test)]
mod feed_tests {
    use super::*;
    use crate::wake::Wake;
    use xiangying_model::sync::scope::ReadScope;

    fn reader(key: AccessKey) -> ReadScope {
        ReadScope {
            all: false,
            keys: vec![key],
        }
    }

    #[test]
    fn a_notification_carries_the_keys_and_rings_only_their_readers() {
        let keys = vec![
            AccessKey::Grid("g1".into()),
            AccessKey::Person("p 7".into()),
        ];
        let payload = feed_payload(&keys);
        let wake = Wake::default();
        ring_for_payload(&wake, &payload);
        assert!(wake.concerns(0, 1, &reader(AccessKey::Grid("g1".into()))));
        assert!(wake.concerns(0, 1, &reader(AccessKey::Person("p 7".into()))));
        assert!(!wake.concerns(0, 1, &reader(AccessKey::Grid("g2".into()))));
        // No keys, a key this build cannot read, or too many to send: everybody checks.
        for payload in [String::new(), "grid:g1\nplanet:mars".to_string()] {
            let wake = Wake::default();
            ring_for_payload(&wake, &payload);
            assert!(wake.concerns(0, 1, &reader(AccessKey::Grid("g2".into()))));
        }
        let many: Vec<AccessKey> = (0..2_000)
            .map(|i| AccessKey::Grid(format!("g{i}")))
            .collect();
        assert_eq!(feed_payload(&many), "");
    }
}
