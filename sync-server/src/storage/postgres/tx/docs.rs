//! Stored documents, numbering and device holdings: [`crate::storage::DocTx`] on
//! a PostgreSQL transaction.

use super::{PgTx, first_i64, pos, sql_pos};
use crate::storage::{
    CaseMeta, CaseRow, DocTx, NewChange, RankingEntry, Result, StoredCase, stored_access_key,
};
use ::postgres::Row;
use xiangying_model::ids::{DeviceId, DocId, PhotoHash};
use xiangying_model::sync::keys::AccessKey;

impl DocTx for PgTx<'_> {
    fn lock_case(&mut self, case_id: &DocId) -> Result<Option<CaseRow>> {
        let case_id = case_id.as_str();
        // The per-document lock for writes, across server instances. A row lock alone does
        // not cover a case that does not exist yet (two pushes creating it at once would both
        // read nothing), so an advisory lock on the case id (per schema) comes first; it is
        // held until the transaction ends. Then, in a new statement and so a new snapshot
        // (READ COMMITTED), the newest committed row, locked too for writers that skip this.
        self.query_opt(
            "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/' || $1, 0))",
            &[&case_id],
        )?;
        self.query_opt(
            "SELECT snapshot, feed_pos FROM cases WHERE case_id = $1 FOR UPDATE",
            &[&case_id],
        )?
        .map(|r| case_row(&r))
        .transpose()
    }

    fn case(&mut self, case_id: &DocId) -> Result<Option<CaseRow>> {
        let case_id = case_id.as_str();
        self.query_opt(
            "SELECT snapshot, feed_pos FROM cases WHERE case_id = $1",
            &[&case_id],
        )?
        .map(|r| case_row(&r))
        .transpose()
    }

    fn cases_after(&mut self, after: &DocId, limit: u32) -> Result<Vec<StoredCase>> {
        let after = after.as_str();
        // The comparison and the order use the same (the column's) collation, so the pages
        // neither skip nor repeat an id, and the primary key's index serves both.
        self.query(
            "SELECT case_id, snapshot, feed_pos FROM cases WHERE case_id > $1
             ORDER BY case_id LIMIT $2",
            &[&after, &i64::from(limit)],
        )?
        .iter()
        .map(|r| {
            Ok(StoredCase {
                case_id: r.try_get::<_, String>(0)?.into(),
                row: CaseRow {
                    snapshot: r.try_get(1)?,
                    feed_pos: pos(r.try_get(2)?),
                },
            })
        })
        .collect()
    }

    fn save_case(
        &mut self,
        m: &CaseMeta,
        snapshot: &[u8],
        changes: &[NewChange],
        first_pos: u64,
        access: &[AccessKey],
        photos: &[PhotoHash],
    ) -> Result<()> {
        let case_id = m.case_id.as_str();
        let last = first_pos + changes.len().saturating_sub(1) as u64;
        self.execute(
            "INSERT INTO cases (case_id, snapshot, feed_pos, number, status, level, grid,
                community, reporter, category, created_at, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (case_id) DO UPDATE SET snapshot = EXCLUDED.snapshot,
                feed_pos = EXCLUDED.feed_pos, number = EXCLUDED.number,
                status = EXCLUDED.status, level = EXCLUDED.level,
                received_at = EXCLUDED.received_at",
            &[
                &case_id,
                &snapshot,
                &sql_pos(last),
                &m.number,
                &m.status,
                &m.level,
                &m.grid,
                &m.community,
                &m.reporter,
                &m.category,
                &m.created_at,
                &m.received_at,
            ],
        )?;
        // Delivered at commit, to every instance listening on this database: their waits
        // on the wake-up channel that may read the document check again.
        let payload = super::super::feed_payload(access);
        self.execute(super::super::NOTIFY_FEED, &[&payload])?;
        for (i, c) in changes.iter().enumerate() {
            self.execute(
                "INSERT INTO changes (pos, case_id, bytes, device) VALUES ($1, $2, $3, $4)",
                &[
                    &sql_pos(first_pos + i as u64),
                    &case_id,
                    &c.bytes,
                    &c.device.as_ref().map(DeviceId::as_str),
                ],
            )?;
        }
        if !access.is_empty() {
            let access: Vec<String> = access.iter().map(ToString::to_string).collect();
            self.execute(
                "INSERT INTO case_access (key, case_id) SELECT k, $2 FROM UNNEST($1::TEXT[]) k
                 ON CONFLICT (key, case_id) DO NOTHING",
                &[&access, &case_id],
            )?;
        }
        if !photos.is_empty() {
            let photos: Vec<&str> = photos.iter().map(PhotoHash::as_str).collect();
            self.execute(
                "INSERT INTO photo_refs (hash, case_id) SELECT h, $2 FROM UNNEST($1::TEXT[]) h
                 ON CONFLICT (hash, case_id) DO NOTHING",
                &[&photos, &case_id],
            )?;
        }
        self.execute(
            "INSERT INTO case_rankings (case_id, counts, row) VALUES ($1, $2, $3)
             ON CONFLICT (case_id) DO UPDATE SET counts = EXCLUDED.counts, row = EXCLUDED.row",
            &[&case_id, &m.ranking.is_some(), &m.ranking],
        )?;
        Ok(())
    }

    fn access(&mut self, case_id: &DocId) -> Result<Vec<AccessKey>> {
        let case_id = case_id.as_str();
        let texts = self.strings(
            "SELECT key FROM case_access WHERE case_id = $1 ORDER BY key",
            &[&case_id],
        )?;
        texts.iter().map(|t| stored_access_key(t)).collect()
    }

    fn ranking_rows(&mut self) -> Result<Vec<RankingEntry>> {
        let rows = self.query(
            "SELECT c.case_id, r.row, r.case_id IS NOT NULL FROM cases c
             LEFT JOIN case_rankings r ON r.case_id = c.case_id ORDER BY c.case_id",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(RankingEntry {
                    case_id: r.try_get::<_, String>(0)?.into(),
                    row: r.try_get(1)?,
                    kept: r.try_get(2)?,
                })
            })
            .collect()
    }

    fn next_number(&mut self, key: &str) -> Result<u64> {
        let r = self.query_one(
            "INSERT INTO counters (name, next) VALUES ($1, 2)
             ON CONFLICT (name) DO UPDATE SET next = counters.next + 1
             RETURNING next - 1",
            &[&key],
        )?;
        Ok(pos(first_i64(&r)?))
    }

    fn number_taken(&mut self, key: &str, taken: u64) -> Result<()> {
        let next = sql_pos(taken.saturating_add(1));
        self.execute(
            "INSERT INTO counters (name, next) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET next = GREATEST(counters.next, EXCLUDED.next)",
            &[&key, &next],
        )?;
        Ok(())
    }

    fn device_case(&mut self, device: &DeviceId, case_id: &DocId) -> Result<Option<u64>> {
        let (device, case_id) = (device.as_str(), case_id.as_str());
        self.query_opt(
            "SELECT since FROM device_cases WHERE device = $1 AND case_id = $2",
            &[&device, &case_id],
        )?
        .map(|r| Ok(pos(first_i64(&r)?)))
        .transpose()
    }

    fn set_device_case(&mut self, device: &DeviceId, case_id: &DocId, since: u64) -> Result<()> {
        let (device, case_id) = (device.as_str(), case_id.as_str());
        self.execute(
            "INSERT INTO device_cases (device, case_id, since) VALUES ($1, $2, $3)
             ON CONFLICT (device, case_id)
             DO UPDATE SET since = LEAST(device_cases.since, EXCLUDED.since)",
            &[&device, &case_id, &sql_pos(since)],
        )?;
        Ok(())
    }
}

/// A case from a row of `snapshot, feed_pos`.
fn case_row(r: &Row) -> Result<CaseRow> {
    Ok(CaseRow {
        snapshot: r.try_get(0)?,
        feed_pos: pos(r.try_get(1)?),
    })
}
