//! Photo uploaders and quotas: [`crate::storage::PhotoTx`] on a PostgreSQL transaction.

use super::{PgTx, pos};
use crate::storage::{PhotoTx, PhotoUploader, Result};
use xiangying_model::ids::{DeviceId, DocId, PersonId, PhotoHash};

impl PhotoTx for PgTx<'_> {
    fn photo_cases(&mut self, hash: &PhotoHash) -> Result<Vec<DocId>> {
        let hash = hash.as_str();
        let ids = self.strings(
            "SELECT case_id FROM photo_refs WHERE hash = $1 ORDER BY case_id",
            &[&hash],
        )?;
        Ok(ids.into_iter().map(DocId::from).collect())
    }

    fn add_photo_uploader(
        &mut self,
        hash: &PhotoHash,
        device: &DeviceId,
        person: &PersonId,
        bytes: u64,
        now: i64,
    ) -> Result<()> {
        let (hash, device, person) = (hash.as_str(), device.as_str(), person.as_str());
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        let added = self.execute(
            "INSERT INTO photo_uploaders (hash, device, person, bytes, uploaded_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash, device) DO NOTHING",
            &[&hash, &device, &person, &bytes, &now],
        )?;
        // The device's running total counts each of its photos once, as the rows do.
        if added > 0 {
            self.execute(
                "INSERT INTO device_photo_bytes (device, bytes) VALUES ($1, $2)
                 ON CONFLICT (device) DO UPDATE SET bytes = device_photo_bytes.bytes + EXCLUDED.bytes",
                &[&device, &bytes],
            )?;
        }
        Ok(())
    }

    fn photo_uploaders(&mut self, hash: &PhotoHash) -> Result<Vec<PhotoUploader>> {
        let hash = hash.as_str();
        let rows = self.query(
            "SELECT device, person FROM photo_uploaders WHERE hash = $1 ORDER BY device",
            &[&hash],
        )?;
        rows.iter()
            .map(|r| {
                Ok(PhotoUploader {
                    device: r.try_get::<_, String>(0)?.into(),
                    person: r.try_get::<_, String>(1)?.into(),
                })
            })
            .collect()
    }

    fn device_photo_bytes(&mut self, device: &DeviceId) -> Result<u64> {
        let device = device.as_str();
        let r = self.query_opt(
            "SELECT bytes FROM device_photo_bytes WHERE device = $1",
            &[&device],
        )?;
        Ok(pos(r.map(|r| r.try_get(0)).transpose()?.unwrap_or(0)))
    }
}
