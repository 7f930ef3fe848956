//! The connection pool: `r2d2` with a connection manager of ours, so that each connection
//! keeps its own cache of prepared statements. At most `pool_size` connections; a caller waits
//! up to `pool_wait` for a free one; connections idle for [`IDLE_TIMEOUT`] are closed; each is
//! checked with an empty query when taken, and a closed one is dropped when returned.
//!
//! Every new connection gets the schema's `search_path`, `statement_timeout` and
//! `idle_in_transaction_session_timeout`. The pool reports `xiangying_store_pool_connections`
//! (idle, in use), `xiangying_store_pool_size_max` and `xiangying_store_pool_wait_seconds`.

use super::tls::TlsSettings;
use crate::error::ServerError;
use crate::storage::Result;
use ::postgres::{Client, Config, Statement};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Connections unused this long are closed.
pub(super) const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// How long the health check on checkout may take before the connection counts as broken.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// One open connection and the statements prepared on it.
pub(super) struct Conn {
    /// The connection.
    pub(super) client: Client,
    /// Prepared statements by their SQL (the SQL texts are constants).
    pub(super) stmts: HashMap<&'static str, Statement>,
}

/// Opens connections with the settings every connection of the server gets.
#[derive(Clone)]
pub(super) struct Connector {
    config: Config,
    tls: MakeRustlsConnect,
    /// `SET …` statements run on every new connection.
    setup: String,
}

impl Connector {
    /// A connector for `config` with `tls`; `search_path` (already quoted) and the statement
    /// timeout are set on every connection.
    pub(super) fn new(
        config: Config,
        tls: &TlsSettings,
        search_path: Option<&str>,
        statement_timeout: Duration,
    ) -> Result<Connector> {
        let ms = statement_timeout.as_millis().max(1);
        let mut setup = format!(
            "SET statement_timeout = {ms}; SET idle_in_transaction_session_timeout = {ms};"
        );
        if let Some(path) = search_path {
            setup.push_str(&format!(" SET search_path TO {path};"));
        }
        Ok(Connector {
            config,
            tls: tls.connector()?,
            setup,
        })
    }

    /// A connection with the settings but none of the session set-up (the feed listener's).
    pub(super) fn connect_plain(&self) -> std::result::Result<Client, ::postgres::Error> {
        self.config.connect(self.tls.clone())
    }

    /// A connection with the session set-up.
    pub(super) fn connect(&self) -> std::result::Result<Client, ::postgres::Error> {
        let mut client = self.connect_plain()?;
        client.batch_execute(&self.setup)?;
        Ok(client)
    }
}

impl r2d2::ManageConnection for Connector {
    type Connection = Conn;
    type Error = ::postgres::Error;

    fn connect(&self) -> std::result::Result<Conn, ::postgres::Error> {
        Ok(Conn {
            client: Connector::connect(self)?,
            stmts: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> std::result::Result<(), ::postgres::Error> {
        conn.client.is_valid(CHECK_TIMEOUT)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}

/// Logs the failures of connections the pool opens.
#[derive(Debug)]
struct LogErrors;

impl r2d2::HandleError<::postgres::Error> for LogErrors {
    fn handle_error(&self, error: ::postgres::Error) {
        tracing::warn!(error = %crate::error::StorageError::from(error), "PostgreSQL connection failed");
    }
}

/// The pool.
pub(super) struct Pool {
    pool: r2d2::Pool<Connector>,
    connector: Connector,
    wait: Duration,
    max: u32,
}

/// A connection taken from the pool; goes back when dropped.
pub(super) struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<r2d2::PooledConnection<Connector>>,
}

impl Pool {
    /// A pool of at most `max` connections made by `connector`, waiting at most `wait` for one.
    pub(super) fn new(connector: Connector, max: u32, wait: Duration) -> Result<Pool> {
        let max = max.max(1);
        let pool = r2d2::Pool::builder()
            .max_size(max)
            .min_idle(Some(0))
            .idle_timeout(Some(IDLE_TIMEOUT))
            .connection_timeout(wait.max(Duration::from_millis(1)))
            .test_on_check_out(true)
            .error_handler(Box::new(LogErrors))
            .build_unchecked(connector.clone());
        metrics::gauge!(crate::metrics::STORE_POOL_SIZE_MAX).set(f64::from(max));
        Ok(Pool {
            pool,
            connector,
            wait,
            max,
        })
    }

    /// The connector, for connections of their own (schema set-up, the feed listener).
    pub(super) fn connector(&self) -> &Connector {
        &self.connector
    }

    /// Opens a connection outside the pool's accounting (schema set-up uses it).
    pub(super) fn open(&self) -> Result<Client> {
        Ok(self.connector.connect()?)
    }

    /// Takes an idle connection, opens a new one below the limit, or waits for one.
    pub(super) fn get(&self) -> Result<Pooled<'_>> {
        let started = Instant::now();
        let got = self.pool.get();
        metrics::histogram!(crate::metrics::STORE_POOL_WAIT)
            .record(started.elapsed().as_secs_f64());
        let conn = got.map_err(|e| {
            ServerError::storage_state(format!(
                "no PostgreSQL connection within {:?} (pool of {}): {e}",
                self.wait, self.max
            ))
        })?;
        self.report();
        Ok(Pooled {
            pool: self,
            conn: Some(conn),
        })
    }

    /// Sets the connection gauges from the pool's state.
    fn report(&self) {
        let state = self.pool.state();
        let idle = state.idle_connections;
        let in_use = state.connections.saturating_sub(idle);
        metrics::gauge!(crate::metrics::STORE_POOL_CONNECTIONS, "state" => "idle")
            .set(f64::from(idle));
        metrics::gauge!(crate::metrics::STORE_POOL_CONNECTIONS, "state" => "in_use")
            .set(f64::from(in_use));
    }
}

impl Pooled<'_> {
    /// The connection.
    pub(super) fn conn(&mut self) -> Result<&mut Conn> {
        self.conn
            .as_deref_mut()
            .ok_or_else(|| ServerError::Internal("pooled connection already returned".into()))
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        // Back to the pool (or closed, if broken), then the gauges.
        drop(self.conn.take());
        self.pool.report();
    }
}
