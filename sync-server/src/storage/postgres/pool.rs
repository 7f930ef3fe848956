//! A small blocking connection pool: at most `max` open connections, each with its own cache
//! of prepared statements, handed to one transaction at a time. Callers wait (up to a timeout)
//! when every connection is busy. Broken connections are dropped on return.

use crate::error::ServerError;
use crate::storage::Result;
use ::postgres::{Client, Config, NoTls, Statement};
use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One open connection and the statements prepared on it.
pub(super) struct Conn {
    /// The connection.
    pub(super) client: Client,
    /// Prepared statements by their SQL (the SQL texts are constants).
    pub(super) stmts: HashMap<&'static str, Statement>,
}

struct State {
    idle: Vec<Conn>,
    open: usize,
}

/// The pool.
pub(super) struct Pool {
    config: Config,
    search_path: Option<String>,
    max: usize,
    wait: Duration,
    state: Mutex<State>,
    freed: Condvar,
}

/// A connection taken from the pool; goes back when dropped.
pub(super) struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
}

impl Pool {
    /// A pool of at most `max` connections made from `config`; `search_path` (already quoted)
    /// is set on every new connection.
    pub(super) fn new(
        config: Config,
        search_path: Option<String>,
        max: usize,
        wait: Duration,
    ) -> Pool {
        Pool {
            config,
            search_path,
            max: max.max(1),
            wait,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connection settings, for a connection of its own (the feed listener's).
    pub(super) fn config(&self) -> Config {
        self.config.clone()
    }

    /// Opens a connection outside the pool's accounting (schema set-up uses it too).
    pub(super) fn open(&self) -> Result<Client> {
        let mut client = self.config.connect(NoTls)?;
        if let Some(path) = &self.search_path {
            client.batch_execute(&format!("SET search_path TO {path}"))?;
        }
        Ok(client)
    }

    /// Takes an idle connection, opens a new one below the limit, or waits for one.
    pub(super) fn get(&self) -> Result<Pooled<'_>> {
        let deadline = Instant::now() + self.wait;
        let mut state = self.lock();
        loop {
            while let Some(conn) = state.idle.pop() {
                if conn.client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match self.open() {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        conn: Some(Conn {
                            client,
                            stmts: HashMap::new(),
                        }),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ServerError::storage_state(format!(
                    "no PostgreSQL connection free after {:?} (pool of {})",
                    self.wait, self.max
                )));
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Pooled<'_> {
    /// The connection.
    pub(super) fn conn(&mut self) -> Result<&mut Conn> {
        self.conn
            .as_mut()
            .ok_or_else(|| ServerError::Internal("pooled connection already returned".into()))
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let keep = !conn.client.is_closed();
        let mut state = self.pool.lock();
        let dropped = if keep {
            state.idle.push(conn);
            None
        } else {
            state.open -= 1;
            Some(conn)
        };
        drop(state);
        self.pool.freed.notify_one();
        // Closing a connection talks to the server: not under the pool's lock.
        drop(dropped);
    }
}
