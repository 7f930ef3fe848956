//! Devices and actor owners: [`crate::storage::DeviceTx`] on a PostgreSQL transaction.

use super::PgTx;
use crate::storage::{DeviceRow, DeviceTx, Result};
use ::postgres::Row;
use xiangying_model::ids::{ActorHex, DeviceId};

/// The columns of a device, in [`DeviceRow`]'s order (a macro so `concat!` can use it).
macro_rules! device_cols {
    () => {
        "id, person, name, token_hash, created_at, revoked, quarantined"
    };
}

/// A device from a row of `device_cols!()`.
fn device_row(r: &Row) -> Result<DeviceRow> {
    Ok(DeviceRow {
        id: r.try_get::<_, String>(0)?.into(),
        person: r.try_get::<_, String>(1)?.into(),
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
                &d.id.as_str(),
                &d.person.as_str(),
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

    fn revoke_device(&mut self, device_id: &DeviceId) -> Result<bool> {
        let device_id = device_id.as_str();
        Ok(self.execute(
            "UPDATE devices SET revoked = TRUE WHERE id = $1",
            &[&device_id],
        )? > 0)
    }

    fn quarantine_device(&mut self, device_id: &DeviceId, reason: &str) -> Result<()> {
        let device_id = device_id.as_str();
        self.execute(
            "UPDATE devices SET quarantined = $2 WHERE id = $1",
            &[&device_id, &reason],
        )?;
        Ok(())
    }

    fn actor_owner(&mut self, actor: &ActorHex) -> Result<Option<DeviceId>> {
        let actor = actor.as_str();
        self.query_opt("SELECT device FROM actors WHERE actor = $1", &[&actor])?
            .map(|r| Ok(r.try_get::<_, String>(0)?.into()))
            .transpose()
    }

    fn set_actor_owner(&mut self, actor: &ActorHex, device: &DeviceId) -> Result<()> {
        let (actor, device) = (actor.as_str(), device.as_str());
        self.execute(
            "INSERT INTO actors (actor, device) VALUES ($1, $2) ON CONFLICT (actor) DO NOTHING",
            &[&actor, &device],
        )?;
        Ok(())
    }
}
