//! Photo uploaders and quotas: [`crate::storage::PhotoTx`] on the SQLite transaction.

use super::{SqliteTx, pos, sql_pos};
use crate::storage::{PhotoTx, PhotoUploader, Result};
use rusqlite::params;

impl PhotoTx for SqliteTx<'_> {
    fn photo_cases(&mut self, hash: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT case_id FROM photo_refs WHERE hash = ?1")?;
        let rows = stmt.query_map([hash], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn add_photo_uploader(
        &mut self,
        hash: &str,
        device: &str,
        person: &str,
        bytes: u64,
        now: i64,
    ) -> Result<()> {
        self.tx.execute(
            "INSERT OR IGNORE INTO photo_uploaders (hash, device, person, bytes, uploaded_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![hash, device, person, sql_pos(bytes), now],
        )?;
        Ok(())
    }

    fn photo_uploaders(&mut self, hash: &str) -> Result<Vec<PhotoUploader>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT device, person FROM photo_uploaders WHERE hash = ?1 ORDER BY device",
        )?;
        let rows = stmt.query_map([hash], |r| {
            Ok(PhotoUploader {
                device: r.get(0)?,
                person: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn device_photo_bytes(&mut self, device: &str) -> Result<u64> {
        let n: i64 = self.tx.query_row(
            "SELECT COALESCE(SUM(bytes), 0) FROM photo_uploaders WHERE device = ?1",
            [device],
            |r| r.get(0),
        )?;
        Ok(pos(n))
    }
}
