//! Device status for the desk: [`crate::storage::DeviceStatusTx`] on the SQLite transaction.

use super::SqliteTx;
use crate::storage::{DeviceStatus, DeviceStatusTx, Result, SyncReport};
use rusqlite::params;
use xiangying_model::ids::DeviceId;

impl DeviceStatusTx for SqliteTx<'_> {
    fn touch_device(&mut self, device: &DeviceId, now: i64, step: i64) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO device_status (device, last_seen) VALUES (?1, ?2)
                 ON CONFLICT (device) DO UPDATE SET last_seen = excluded.last_seen
                 WHERE device_status.last_seen <= excluded.last_seen - ?3",
            )?
            .execute(params![device.as_str(), now, step])?;
        Ok(())
    }

    fn record_sync(&mut self, device: &DeviceId, now: i64, report: &SyncReport) -> Result<()> {
        let count = |n: Option<u64>| n.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
        self.tx
            .prepare_cached(
                "INSERT INTO device_status (device, last_seen, app_version, outbox, last_error,
                    photos_unreadable)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (device) DO UPDATE SET last_seen = excluded.last_seen,
                 app_version = excluded.app_version, outbox = excluded.outbox,
                 last_error = excluded.last_error,
                 photos_unreadable = excluded.photos_unreadable",
            )?
            .execute(params![
                device.as_str(),
                now,
                report.app_version,
                count(report.outbox),
                report.last_error,
                count(report.photos_unreadable)
            ])?;
        Ok(())
    }

    fn record_refusal(&mut self, device: &DeviceId, code: &str, now: i64) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO device_status (device, last_seen, refusal, refused_at)
                 VALUES (?1, ?2, ?3, ?2)
                 ON CONFLICT (device) DO UPDATE SET refusal = excluded.refusal,
                 refused_at = excluded.refused_at",
            )?
            .execute(params![device.as_str(), now, code])?;
        Ok(())
    }

    fn device_statuses(&mut self) -> Result<Vec<DeviceStatus>> {
        let mut stmt = self.tx.prepare(
            "SELECT device, last_seen, app_version, outbox, last_error, refusal, refused_at,
                photos_unreadable
             FROM device_status ORDER BY device",
        )?;
        let rows = stmt.query_map([], |r| {
            let refusal: Option<String> = r.get(5)?;
            let refused_at: Option<i64> = r.get(6)?;
            Ok(DeviceStatus {
                device: r.get::<_, String>(0)?.into(),
                last_seen: r.get(1)?,
                app_version: r.get(2)?,
                outbox: r
                    .get::<_, Option<i64>>(3)?
                    .map(|n| u64::try_from(n).unwrap_or(0)),
                last_error: r.get(4)?,
                photos_unreadable: r
                    .get::<_, Option<i64>>(7)?
                    .map(|n| u64::try_from(n).unwrap_or(0)),
                refusal: refusal.zip(refused_at),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
