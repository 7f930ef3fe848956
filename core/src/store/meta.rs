//! Small device settings in the `meta` table.

use super::Cached;
use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, params};

/// Reads one setting.
pub fn get(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

/// Writes one setting.
pub fn set(conn: &Connection, key: &str, value: &[u8]) -> Result<()> {
    conn.exec(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
