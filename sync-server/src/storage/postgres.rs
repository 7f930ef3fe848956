//! The PostgreSQL backend (being written on its own branch).

use super::{Result, Storage, Tx};
use crate::error::ServerError;

/// The PostgreSQL backend.
pub struct PostgresStorage;

impl PostgresStorage {
    /// Connects to `url`.
    pub fn connect(_url: &str) -> Result<PostgresStorage> {
        Err(ServerError::Internal("the PostgreSQL backend is not built yet".into()))
    }
}

impl Storage for PostgresStorage {
    fn transact(&self, _f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        Err(ServerError::Internal("the PostgreSQL backend is not built yet".into()))
    }

    fn kind(&self) -> &'static str {
        "postgres"
    }
}
