//! `server_meta` and the store's counts: [`crate::storage::MetaTx`] on a PostgreSQL transaction.

use super::{PgTx, pos};
use crate::storage::{MetaTx, Result};

impl MetaTx for PgTx<'_> {
    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        self.query_opt("SELECT value FROM server_meta WHERE key = $1", &[&key])?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT INTO server_meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn counts(&mut self) -> Result<(u64, u64, u64)> {
        let r = self.query_one(
            "SELECT (SELECT COUNT(*) FROM cases), (SELECT COUNT(*) FROM changes),
                (SELECT COUNT(*) FROM devices)",
            &[],
        )?;
        Ok((pos(r.try_get(0)?), pos(r.try_get(1)?), pos(r.try_get(2)?)))
    }
}
