//! Photo uploaders and quotas: [`crate::storage::PhotoTx`] on the SQLite transaction.

use super::{Cached, SqliteTx, pos, sql_pos};
use crate::storage::{PhotoTx, PhotoUploader, Result};
use rusqlite::{OptionalExtension, params};
use xiangying_model::ids::{DeviceId, DocId, PersonId, PhotoHash};

impl PhotoTx for SqliteTx<'_> {
    fn photo_cases(&mut self, hash: &PhotoHash) -> Result<Vec<DocId>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT case_id FROM photo_refs WHERE hash = ?1")?;
        let rows = stmt.query_map([hash.as_str()], |r| r.get::<_, String>(0).map(DocId::from))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn add_photo_uploader(
        &mut self,
        hash: &PhotoHash,
        device: &DeviceId,
        person: &PersonId,
        bytes: u64,
        now: i64,
    ) -> Result<()> {
        let added = self.tx.exec(
            "INSERT OR IGNORE INTO photo_uploaders (hash, device, person, bytes, uploaded_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                hash.as_str(),
                device.as_str(),
                person.as_str(),
                sql_pos(bytes),
                now
            ],
        )?;
        // The device's running total counts each of its photos once, as the rows do.
        if added > 0 {
            self.tx.exec(
                "INSERT INTO device_photo_bytes (device, bytes) VALUES (?1, ?2)
                 ON CONFLICT (device) DO UPDATE SET bytes = bytes + excluded.bytes",
                params![device.as_str(), sql_pos(bytes)],
            )?;
        }
        Ok(())
    }

    fn photo_uploaders(&mut self, hash: &PhotoHash) -> Result<Vec<PhotoUploader>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT device, person FROM photo_uploaders WHERE hash = ?1 ORDER BY device",
        )?;
        let rows = stmt.query_map([hash.as_str()], |r| {
            Ok(PhotoUploader {
                device: r.get::<_, String>(0)?.into(),
                person: r.get::<_, String>(1)?.into(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn device_photo_bytes(&mut self, device: &DeviceId) -> Result<u64> {
        let n: Option<i64> = self
            .tx
            .row(
                "SELECT bytes FROM device_photo_bytes WHERE device = ?1",
                [device.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        Ok(pos(n.unwrap_or(0)))
    }
}
