//! `server_meta` and the store's counts: [`crate::storage::MetaTx`] on the SQLite transaction.

use super::{Cached, SqliteTx, pos};
use crate::storage::{MetaTx, Result};
use rusqlite::{OptionalExtension, params};

impl MetaTx for SqliteTx<'_> {
    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row("SELECT value FROM server_meta WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.tx.exec(
            "INSERT INTO server_meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    fn counts(&mut self) -> Result<(u64, u64, u64)> {
        let c: i64 = self
            .tx
            .query_row("SELECT COUNT(*) FROM cases", [], |r| r.get(0))?;
        let ch: i64 = self
            .tx
            .query_row("SELECT COUNT(*) FROM changes", [], |r| r.get(0))?;
        let d: i64 = self
            .tx
            .query_row("SELECT COUNT(*) FROM devices", [], |r| r.get(0))?;
        Ok((pos(c), pos(ch), pos(d)))
    }
}
