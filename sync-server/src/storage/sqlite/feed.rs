//! The change feed: [`crate::storage::FeedTx`] on the SQLite transaction.

use super::{SqliteTx, pos, sql_pos};
use crate::error::ServerError;
use crate::storage::{FeedScope, FeedTx, Result};
use rusqlite::params;
use xiangying_model::ids::{DeviceId, DocId};

impl FeedTx for SqliteTx<'_> {
    fn allocate_positions(&mut self, n: u64) -> Result<u64> {
        let next: i64 = self.tx.query_row(
            "UPDATE counters SET next = next + ?1 WHERE name = 'feed' RETURNING next - ?1",
            [sql_pos(n)],
            |r| r.get(0),
        )?;
        Ok(pos(next))
    }

    fn max_position(&mut self) -> Result<u64> {
        let next: i64 =
            self.tx
                .query_row("SELECT next FROM counters WHERE name = 'feed'", [], |r| {
                    r.get(0)
                })?;
        Ok(pos(next - 1))
    }

    fn feed_cases(
        &mut self,
        scope: FeedScope<'_>,
        after: u64,
        upto: u64,
        limit: u32,
    ) -> Result<Vec<(DocId, u64)>> {
        let map = |r: &rusqlite::Row<'_>| Ok((DocId::from(r.get::<_, String>(0)?), pos(r.get(1)?)));
        let (after, upto) = (sql_pos(after), sql_pos(upto));
        match scope {
            FeedScope::All => {
                let mut stmt = self.tx.prepare_cached(
                    "SELECT case_id, MIN(pos) AS p FROM changes WHERE pos > ?1 AND pos <= ?2
                     GROUP BY case_id ORDER BY p LIMIT ?3",
                )?;
                let rows = stmt.query_map(params![after, upto, limit], map)?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }
            FeedScope::Keys(keys) => {
                let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
                let keys = serde_json::to_string(&keys)
                    .map_err(|e| ServerError::Internal(e.to_string()))?;
                let mut stmt = self.tx.prepare_cached(
                    "SELECT ch.case_id, MIN(ch.pos) AS p FROM changes ch
                     WHERE ch.pos > ?1 AND ch.pos <= ?2 AND EXISTS (
                        SELECT 1 FROM case_access a, json_each(?3) k
                        WHERE a.key = k.value AND a.case_id = ch.case_id)
                     GROUP BY ch.case_id ORDER BY p LIMIT ?4",
                )?;
                let rows = stmt.query_map(params![after, upto, keys, limit], map)?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }
        }
    }

    fn changes_between(
        &mut self,
        case_id: &DocId,
        after: u64,
        upto: u64,
        exclude_device: &DeviceId,
    ) -> Result<Vec<Vec<u8>>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT bytes FROM changes WHERE case_id = ?1 AND pos > ?2 AND pos <= ?3
             AND (device IS NULL OR device <> ?4) ORDER BY pos",
        )?;
        let rows = stmt.query_map(
            params![
                case_id.as_str(),
                sql_pos(after),
                sql_pos(upto),
                exclude_device.as_str()
            ],
            |r| r.get(0),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
