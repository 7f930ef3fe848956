//! Device status for the desk: [`crate::storage::DeviceStatusTx`] on a PostgreSQL transaction.

use super::PgTx;
use crate::storage::{DeviceStatus, DeviceStatusTx, Result, SyncReport};
use xiangying_model::ids::DeviceId;

impl DeviceStatusTx for PgTx<'_> {
    fn touch_device(&mut self, device: &DeviceId, now: i64, step: i64) -> Result<()> {
        let device = device.as_str();
        self.execute(
            "INSERT INTO device_status (device, last_seen) VALUES ($1, $2)
             ON CONFLICT (device) DO UPDATE SET last_seen = excluded.last_seen
             WHERE device_status.last_seen <= excluded.last_seen - $3",
            &[&device, &now, &step],
        )?;
        Ok(())
    }

    fn record_sync(&mut self, device: &DeviceId, now: i64, report: &SyncReport) -> Result<()> {
        let device = device.as_str();
        let count = |n: Option<u64>| n.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        let (outbox, unreadable) = (count(report.outbox), count(report.photos_unreadable));
        self.execute(
            "INSERT INTO device_status (device, last_seen, app_version, outbox, last_error,
                photos_unreadable)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (device) DO UPDATE SET last_seen = excluded.last_seen,
             app_version = excluded.app_version, outbox = excluded.outbox,
             last_error = excluded.last_error,
             photos_unreadable = excluded.photos_unreadable",
            &[
                &device,
                &now,
                &report.app_version,
                &outbox,
                &report.last_error,
                &unreadable,
            ],
        )?;
        Ok(())
    }

    fn record_refusal(&mut self, device: &DeviceId, code: &str, now: i64) -> Result<()> {
        let device = device.as_str();
        self.execute(
            "INSERT INTO device_status (device, last_seen, refusal, refused_at)
             VALUES ($1, $2, $3, $2)
             ON CONFLICT (device) DO UPDATE SET refusal = excluded.refusal,
             refused_at = excluded.refused_at",
            &[&device, &now, &code],
        )?;
        Ok(())
    }

    fn device_statuses(&mut self) -> Result<Vec<DeviceStatus>> {
        self.query(
            "SELECT device, last_seen, app_version, outbox, last_error, refusal, refused_at,
                photos_unreadable
             FROM device_status ORDER BY device",
            &[],
        )?
        .iter()
        .map(|r| {
            let refusal: Option<String> = r.try_get(5)?;
            let refused_at: Option<i64> = r.try_get(6)?;
            Ok(DeviceStatus {
                device: r.try_get::<_, String>(0)?.into(),
                last_seen: r.try_get(1)?,
                app_version: r.try_get(2)?,
                outbox: r
                    .try_get::<_, Option<i64>>(3)?
                    .map(|n| u64::try_from(n).unwrap_or(0)),
                last_error: r.try_get(4)?,
                photos_unreadable: r
                    .try_get::<_, Option<i64>>(7)?
                    .map(|n| u64::try_from(n).unwrap_or(0)),
                refusal: refusal.zip(refused_at),
            })
        })
        .collect()
    }
}
