//! Devices and actor owners: [`crate::storage::DeviceTx`] on the SQLite transaction.

use super::SqliteTx;
use crate::storage::{DeviceRow, DeviceTx, Result};
use rusqlite::{OptionalExtension, params};

/// A device from a row of [`DEVICE_COLS`].
fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.get(0)?,
        person: r.get(1)?,
        name: r.get(2)?,
        token_hash: r.get(3)?,
        created_at: r.get(4)?,
        revoked: r.get(5)?,
        quarantined: r.get(6)?,
    })
}

/// The columns of a device, in [`DeviceRow`]'s order.
const DEVICE_COLS: &str = "id, person, name, token_hash, created_at, revoked, quarantined";

impl DeviceTx for SqliteTx<'_> {
    fn insert_device(&mut self, d: &DeviceRow) -> Result<()> {
        self.tx.execute(
            &format!("INSERT INTO devices ({DEVICE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                d.id,
                d.person,
                d.name,
                d.token_hash,
                d.created_at,
                d.revoked,
                d.quarantined
            ],
        )?;
        Ok(())
    }

    fn device_by_token(&mut self, token_hash: &str) -> Result<Option<DeviceRow>> {
        Ok(self
            .tx
            .prepare_cached(&format!(
                "SELECT {DEVICE_COLS} FROM devices WHERE token_hash = ?1"
            ))?
            .query_row([token_hash], device_row)
            .optional()?)
    }

    fn devices(&mut self) -> Result<Vec<DeviceRow>> {
        let mut stmt = self.tx.prepare(&format!(
            "SELECT {DEVICE_COLS} FROM devices ORDER BY created_at"
        ))?;
        let rows = stmt.query_map([], device_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_device(&mut self, device_id: &str) -> Result<bool> {
        Ok(self
            .tx
            .execute("UPDATE devices SET revoked = 1 WHERE id = ?1", [device_id])?
            > 0)
    }

    fn quarantine_device(&mut self, device_id: &str, reason: &str) -> Result<()> {
        self.tx.execute(
            "UPDATE devices SET quarantined = ?2 WHERE id = ?1",
            params![device_id, reason],
        )?;
        Ok(())
    }

    fn actor_owner(&mut self, actor: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT device FROM actors WHERE actor = ?1")?
            .query_row([actor], |r| r.get(0))
            .optional()?)
    }

    fn set_actor_owner(&mut self, actor: &str, device: &str) -> Result<()> {
        self.tx
            .prepare_cached("INSERT OR IGNORE INTO actors (actor, device) VALUES (?1, ?2)")?
            .execute(params![actor, device])?;
        Ok(())
    }
}
