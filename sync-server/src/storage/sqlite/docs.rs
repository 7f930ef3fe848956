//! Stored documents, numbering and device holdings: [`crate::storage::DocTx`] on
//! the SQLite transaction.

use super::{Cached, SqliteTx, pos, sql_pos};
use crate::storage::{
    CaseMeta, CaseRow, DocTx, NewChange, RankingEntry, Result, StoredCase, stored_access_key,
};
use rusqlite::{OptionalExtension, params};
use xiangying_model::ids::{DeviceId, DocId, PhotoHash};
use xiangying_model::sync::keys::AccessKey;

impl DocTx for SqliteTx<'_> {
    fn lock_case(&mut self, case_id: &DocId) -> Result<Option<CaseRow>> {
        // BEGIN IMMEDIATE already holds the database's write lock.
        self.case(case_id)
    }

    fn case(&mut self, case_id: &DocId) -> Result<Option<CaseRow>> {
        Ok(self
            .tx
            .prepare_cached("SELECT snapshot, feed_pos FROM cases WHERE case_id = ?1")?
            .query_row([case_id.as_str()], |r| {
                Ok(CaseRow {
                    snapshot: r.get(0)?,
                    feed_pos: pos(r.get(1)?),
                })
            })
            .optional()?)
    }

    fn cases_after(&mut self, after: &DocId, limit: u32) -> Result<Vec<StoredCase>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT case_id, snapshot, feed_pos FROM cases WHERE case_id > ?1
             ORDER BY case_id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after.as_str(), limit], |r| {
            Ok(StoredCase {
                case_id: r.get::<_, String>(0)?.into(),
                row: CaseRow {
                    snapshot: r.get(1)?,
                    feed_pos: pos(r.get(2)?),
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        let last = first_pos + changes.len().saturating_sub(1) as u64;
        self.tx
            .prepare_cached(
                "INSERT INTO cases (case_id, snapshot, feed_pos, number, status, level, grid,
                    community, reporter, category, created_at, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT (case_id) DO UPDATE SET snapshot = excluded.snapshot,
                    feed_pos = excluded.feed_pos, number = excluded.number,
                    status = excluded.status, level = excluded.level,
                    received_at = excluded.received_at",
            )?
            .execute(params![
                m.case_id.as_str(),
                snapshot,
                sql_pos(last),
                m.number,
                m.status,
                m.level,
                m.grid,
                m.community,
                m.reporter,
                m.category,
                m.created_at,
                m.received_at
            ])?;
        let mut ins = self.tx.prepare_cached(
            "INSERT INTO changes (pos, case_id, bytes, device) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (i, c) in changes.iter().enumerate() {
            ins.execute(params![
                sql_pos(first_pos + i as u64),
                m.case_id.as_str(),
                c.bytes,
                c.device.as_ref().map(DeviceId::as_str)
            ])?;
        }
        let mut acc = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO case_access (key, case_id) VALUES (?1, ?2)")?;
        for k in access {
            acc.execute(params![k.to_string(), m.case_id.as_str()])?;
        }
        let mut ph = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO photo_refs (hash, case_id) VALUES (?1, ?2)")?;
        for h in photos {
            ph.execute(params![h.as_str(), m.case_id.as_str()])?;
        }
        self.tx
            .prepare_cached(
                "INSERT INTO case_rankings (case_id, counts, row) VALUES (?1, ?2, ?3)
                 ON CONFLICT (case_id) DO UPDATE SET counts = excluded.counts, row = excluded.row",
            )?
            .execute(params![m.case_id.as_str(), m.ranking.is_some(), m.ranking])?;
        Ok(())
    }

    fn access(&mut self, case_id: &DocId) -> Result<Vec<AccessKey>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT key FROM case_access WHERE case_id = ?1 ORDER BY key")?;
        let rows = stmt.query_map([case_id.as_str()], |r| r.get::<_, String>(0))?;
        let texts = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        texts.iter().map(|t| stored_access_key(t)).collect()
    }

    fn ranking_rows(&mut self) -> Result<Vec<RankingEntry>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT c.case_id, r.row, r.case_id IS NOT NULL FROM cases c
             LEFT JOIN case_rankings r ON r.case_id = c.case_id ORDER BY c.case_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RankingEntry {
                case_id: r.get::<_, String>(0)?.into(),
                row: r.get(1)?,
                kept: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    fn next_number(&mut self, key: &str) -> Result<u64> {
        let v: i64 = self.tx.row(
            "INSERT INTO counters (name, next) VALUES (?1, 2)
             ON CONFLICT (name) DO UPDATE SET next = next + 1
             RETURNING next - 1",
            [key],
            |r| r.get(0),
        )?;
        Ok(pos(v))
    }

    fn number_taken(&mut self, key: &str, taken: u64) -> Result<()> {
        self.tx.exec(
            "INSERT INTO counters (name, next) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET next = max(next, excluded.next)",
            params![key, sql_pos(taken.saturating_add(1))],
        )?;
        Ok(())
    }

    fn device_case(&mut self, device: &DeviceId, case_id: &DocId) -> Result<Option<u64>> {
        Ok(self
            .tx
            .prepare_cached("SELECT since FROM device_cases WHERE device = ?1 AND case_id = ?2")?
            .query_row(params![device.as_str(), case_id.as_str()], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .map(pos))
    }

    fn set_device_case(&mut self, device: &DeviceId, case_id: &DocId, since: u64) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO device_cases (device, case_id, since) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device, case_id) DO UPDATE SET since = min(since, excluded.since)",
            )?
            .execute(params![device.as_str(), case_id.as_str(), sql_pos(since)])?;
        Ok(())
    }
}
