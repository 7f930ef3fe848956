//! The published roster and catalogue: [`crate::storage::OrgTx`] on a PostgreSQL transaction.

use super::{PgTx, first_i64, pos};
use crate::storage::{OrgRow, OrgTx, Result};

impl OrgTx for PgTx<'_> {
    fn org(&mut self) -> Result<Option<OrgRow>> {
        self.query_opt(
            "SELECT version, roster, catalogue FROM org WHERE id = 1",
            &[],
        )?
        .map(|r| {
            Ok(OrgRow {
                version: pos(r.try_get(0)?),
                roster: r.try_get(1)?,
                catalogue: r.try_get(2)?,
            })
        })
        .transpose()
    }

    fn org_version(&mut self) -> Result<u64> {
        let v = self.query_opt("SELECT version FROM org WHERE id = 1", &[])?;
        Ok(v.map(|r| first_i64(&r)).transpose()?.map(pos).unwrap_or(0))
    }

    fn set_org(&mut self, roster: &str, catalogue: &str) -> Result<u64> {
        let r = self.query_one(
            "INSERT INTO org (id, version, roster, catalogue) VALUES (1, 1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET version = org.version + 1,
                roster = EXCLUDED.roster, catalogue = EXCLUDED.catalogue
             RETURNING version",
            &[&roster, &catalogue],
        )?;
        Ok(pos(first_i64(&r)?))
    }
}
