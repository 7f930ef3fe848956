//! The published roster and catalogue: [`crate::storage::OrgTx`] on the SQLite transaction.

use super::{Cached, SqliteTx, pos};
use crate::storage::{OrgRow, OrgTx, Result};
use rusqlite::{OptionalExtension, params};

impl OrgTx for SqliteTx<'_> {
    fn org(&mut self) -> Result<Option<OrgRow>> {
        Ok(self
            .tx
            .query_row(
                "SELECT version, roster, catalogue FROM org WHERE id = 1",
                [],
                |r| {
                    Ok(OrgRow {
                        version: pos(r.get(0)?),
                        roster: r.get(1)?,
                        catalogue: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn org_version(&mut self) -> Result<u64> {
        let v: Option<i64> = self
            .tx
            .query_row("SELECT version FROM org WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        Ok(v.map(pos).unwrap_or(0))
    }

    fn set_org(&mut self, roster: &str, catalogue: &str) -> Result<u64> {
        let v: i64 = self.tx.row(
            "INSERT INTO org (id, version, roster, catalogue) VALUES (1, 1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET version = version + 1, roster = excluded.roster,
                catalogue = excluded.catalogue
             RETURNING version",
            params![roster, catalogue],
            |r| r.get(0),
        )?;
        Ok(pos(v))
    }
}
