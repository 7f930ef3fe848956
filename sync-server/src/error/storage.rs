//! Storage errors: a failed driver call keeps the driver's error as its source, so the log of
//! an internal error can print the whole chain (SQLite's extended code, PostgreSQL's SQLSTATE
//! and message); a store in a state the server cannot serve from says which.
//!
//! The message of each error already names its cause (the admin CLI prints it alone); the
//! source chain is for logs and for code that wants the driver's own error back.

use std::error::Error as StdError;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// SQLite failed.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed; the message names its SQLSTATE and text when the server answered.
    #[error("{}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    /// A driver or I/O call failed while the server was doing `context`.
    #[error("{context}: {source}")]
    Driver {
        /// What the server was doing (`COPY`, `PostgreSQL URL`).
        context: &'static str,
        /// The failure.
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The store is in a state the server cannot serve from (no identity, a newer schema, a
    /// pool with no free connection), or was asked for something it cannot hold.
    #[error("{0}")]
    State(String),
}

impl StorageError {
    /// A driver or I/O failure while doing `context`.
    pub fn driver(context: &'static str, source: impl StdError + Send + Sync + 'static) -> Self {
        StorageError::Driver {
            context,
            source: Box::new(source),
        }
    }
}

/// The driver's own text is just "db error"; name the SQLSTATE and message instead.
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("PostgreSQL {}: {}", db.code().code(), db.message()),
        // The driver's text leaves out its cause ("error performing TLS handshake"): add it.
        None => chain(e),
    }
}

/// An error and every source under it, joined with `: `; a source whose text the chain already
/// holds (a message that quotes its cause) is not repeated.
pub fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let text = s.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_failure_keeps_the_driver_error_as_its_source() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let e = StorageError::from(conn.execute("SELECT * FROM nowhere", []).unwrap_err());
        let source = e.source().expect("the driver error is kept");
        assert!(source.downcast_ref::<rusqlite::Error>().is_some());
        assert!(e.to_string().contains("no such table: nowhere"), "{e}");
        // The chain adds the driver's code under the message, and does not repeat the message.
        let full = chain(&e);
        assert!(full.starts_with(&e.to_string()), "{full}");
        assert!(full.contains("SQL logic error"), "{full}");
        assert_eq!(full.matches("no such table").count(), 1, "{full}");
    }

    #[test]
    fn the_chain_names_every_cause_once() {
        let io = std::io::Error::other("broken pipe");
        let e = crate::error::ServerError::from(StorageError::driver("COPY", io));
        assert_eq!(e.to_string(), "storage: COPY: broken pipe");
        assert_eq!(chain(&e), "storage: COPY: broken pipe");
        let state = StorageError::State("the store has no store_id".into());
        assert!(state.source().is_none());
    }
}
