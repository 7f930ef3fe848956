//! Devices and actor owners: [`crate::storage::DeviceTx`] on a PostgreSQL transaction.

use super::PgTx;
use crate::storage::{DeviceRow, DeviceTx, Result};
use ::postgres::Row;

/// The columns of a device, in [`DeviceRow`]'s order (a macro so `concat!` can use it).
macro_rules! device_cols {
    () => {
        "id, person, name, token_hash, created_at, revoked, quarantined"
    };
}

/// A device from a row of `device_cols!()`.
fn device_row(r: &Row) -> Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.try_get(0)?,
        person: r.try_get(1)?,
        name: r.try_get(2)?,
        token_hash: r.try_get(3)?,
        created_at: r.try_get(4)?,
        revoked: r.try_get(5)?,
        quarantined: r.try_get(6)?,
    })
}

impl DeviceTx for PgTx<'_> {
    fn insert_device(&mut self, d: &DeviceRow) -> Result<()> {
        self.execute(
            concat!(
                "INSERT INTO devices (",
                device_cols!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ),
            &[
                &d.id,
                &d.person,
                &d.name,
                &d.token_hash,
                &d.created_at,
                &d.revoked,
                &d.quarantined,
            ],
        )?;
        Ok(())
    }

    fn device_by_token(&mut self, token_hash: &str) -> Result<Option<DeviceRow>> {
        self.query_opt(
            concat!(
                "SELECT ",
                device_cols!(),
                " FROM devices WHERE token_hash = $1"
            ),
            &[&token_hash],
        )?
        .map(|r| device_row(&r))
        .transpose()
    }

    fn devices(&mut self) -> Result<Vec<DeviceRow>> {
        self.query(
            concat!(
                "SELECT ",
                device_cols!(),
                " FROM devices ORDER BY created_at, id"
            ),
            &[],
        )?
        .iter()
        .map(device_row)
        .collect()
    }

    fn revoke_device(&mut self, device_id: &str) -> Result<bool> {
        Ok(self.execute(
            "UPDATE devices SET revoked = TRUE WHERE id = $1",
            &[&device_id],
        )? > 0)
    }

    fn quarantine_device(&mut self, device_id: &str, reason: &str) -> Result<()> {
        self.execute(
            "UPDATE devices SET quarantined = $2 WHERE id = $1",
            &[&device_id, &reason],
        )?;
        Ok(())
    }

    fn actor_owner(&mut self, actor: &str) -> Result<Option<String>> {
        self.query_opt("SELECT device FROM actors WHERE actor = $1", &[&actor])?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    fn set_actor_owner(&mut self, actor: &str, device: &str) -> Result<()> {
        self.execute(
            "INSERT INTO actors (actor, device) VALUES ($1, $2) ON CONFLICT (actor) DO NOTHING",
            &[&actor, &device],
        )?;
        Ok(())
    }
}
