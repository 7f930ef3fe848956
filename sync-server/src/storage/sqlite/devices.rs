//! Devices and actor owners: [`crate::storage::DeviceTx`] on the SQLite transaction.

use super::{Cached, SqliteTx};
use crate::storage::{DeviceRow, DeviceTx, Result};
use rusqlite::{OptionalExtension, params};
use xiangying_model::ids::{ActorHex, DeviceId};

/// A device from a row of [`DEVICE_COLS`].
fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.get::<_, String>(0)?.into(),
        person: r.get::<_, String>(1)?.into(),
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
        self.tx.exec(
            &format!("INSERT INTO devices ({DEVICE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                d.id.as_str(),
                d.person.as_str(),
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

    fn revoke_device(&mut self, device_id: &DeviceId) -> Result<bool> {
        Ok(self.tx.exec(
            "UPDATE devices SET revoked = 1 WHERE id = ?1",
            [device_id.as_str()],
        )? > 0)
    }

    fn quarantine_device(&mut self, device_id: &DeviceId, reason: &str) -> Result<()> {
        self.tx.exec(
            "UPDATE devices SET quarantined = ?2 WHERE id = ?1",
            params![device_id.as_str(), reason],
        )?;
        Ok(())
    }

    fn actor_owner(&mut self, actor: &ActorHex) -> Result<Option<DeviceId>> {
        Ok(self
            .tx
            .prepare_cached("SELECT device FROM actors WHERE actor = ?1")?
            .query_row([actor.as_str()], |r| r.get::<_, String>(0))
            .optional()?
            .map(DeviceId::from))
    }

    fn set_actor_owner(&mut self, actor: &ActorHex, device: &DeviceId) -> Result<()> {
        self.tx
            .prepare_cached("INSERT OR IGNORE INTO actors (actor, device) VALUES (?1, ?2)")?
            .execute(params![actor.as_str(), device.as_str()])?;
        Ok(())
    }
}
