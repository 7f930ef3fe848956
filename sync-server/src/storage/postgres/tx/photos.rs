//! Photo uploaders and quotas: [`crate::storage::PhotoTx`] on a PostgreSQL transaction.

use super::{PgTx, pos};
use crate::storage::{PhotoTx, PhotoUploader, Result};

impl PhotoTx for PgTx<'_> {
    fn photo_cases(&mut self, hash: &str) -> Result<Vec<String>> {
        self.strings(
            "SELECT case_id FROM photo_refs WHERE hash = $1 ORDER BY case_id",
            &[&hash],
        )
    }

    fn add_photo_uploader(
        &mut self,
        hash: &str,
        device: &str,
        person: &str,
        bytes: u64,
        now: i64,
    ) -> Result<()> {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        self.execute(
            "INSERT INTO photo_uploaders (hash, device, person, bytes, uploaded_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash, device) DO NOTHING",
            &[&hash, &device, &person, &bytes, &now],
        )?;
        Ok(())
    }

    fn photo_uploaders(&mut self, hash: &str) -> Result<Vec<PhotoUploader>> {
        let rows = self.query(
            "SELECT device, person FROM photo_uploaders WHERE hash = $1 ORDER BY device",
            &[&hash],
        )?;
        rows.iter()
            .map(|r| {
                Ok(PhotoUploader {
                    device: r.try_get(0)?,
                    person: r.try_get(1)?,
                })
            })
            .collect()
    }

    fn device_photo_bytes(&mut self, device: &str) -> Result<u64> {
        let r = self.query_one(
            "SELECT COALESCE(SUM(bytes), 0)::BIGINT FROM photo_uploaders WHERE device = $1",
            &[&device],
        )?;
        Ok(pos(r.try_get(0)?))
    }
}
