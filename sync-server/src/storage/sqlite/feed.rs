//! The change feed: [`crate::storage::FeedTx`] on the SQLite transaction.

use super::{Cached, SqliteTx, pos, sql_pos};
use crate::storage::{FeedScope, FeedTx, Result};
use rusqlite::params;
use xiangying_model::ids::{DeviceId, DocId};

/// The cases with changes in a range of positions, for a reader who sees every case.
const FEED_CASES_ALL: &str =
    "SELECT case_id, MIN(pos) AS p FROM changes WHERE pos > ?1 AND pos <= ?2
     GROUP BY case_id ORDER BY p LIMIT ?3";

/// A case's changes in a range of positions, but those a device sent itself.
const CHANGES_BETWEEN: &str =
    "SELECT bytes FROM changes WHERE case_id = ?1 AND pos > ?2 AND pos <= ?3
     AND (device IS NULL OR device <> ?4) ORDER BY pos";

impl FeedTx for SqliteTx<'_> {
    fn allocate_positions(&mut self, n: u64) -> Result<u64> {
        let next: i64 = self.tx.row(
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
                let mut stmt = self.tx.prepare_cached(FEED_CASES_ALL)?;
                let rows = stmt.query_map(params![after, upto, limit], map)?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }
            FeedScope::Keys(keys) => {
                let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
                if keys.is_empty() {
                    return Ok(Vec::new());
                }
                // Two ways to the same answer; the cheaper one is O(min(range, scope)):
                // walking the positions in the range (a device that synced recently), or
                // walking the cases in the scope (a device's first sync, cursor 0).
                let any_key = (0..keys.len())
                    .map(|i| format!("?{}", i + 4))
                    .collect::<Vec<_>>()
                    .join(", ");
                // One set of arguments for both statements: ?1 after, ?2 upto, ?3 limit, then
                // the keys (the count leaves ?3 unused). The count stops at the range's length
                // (?2 - ?1), so choosing costs no more than the cheaper walk.
                let mut args: Vec<&dyn rusqlite::ToSql> = vec![&after, &upto, &limit];
                args.extend(keys.iter().map(|k| k as &dyn rusqlite::ToSql));
                let range = upto.saturating_sub(after);
                let in_scope: i64 = self.tx.row(
                    &format!(
                        "SELECT COUNT(*) FROM (SELECT 1 FROM case_access
                         WHERE key IN ({any_key}) LIMIT ?2 - ?1)"
                    ),
                    args.as_slice(),
                    |r| r.get(0),
                )?;
                let sql = if in_scope < range {
                    format!(
                        "SELECT case_id, p FROM (
                            SELECT DISTINCT a.case_id, (SELECT MIN(ch.pos) FROM changes ch
                                WHERE ch.case_id = a.case_id AND ch.pos > ?1 AND ch.pos <= ?2) AS p
                            FROM case_access a WHERE a.key IN ({any_key}))
                         WHERE p IS NOT NULL ORDER BY p LIMIT ?3"
                    )
                } else {
                    format!(
                        "SELECT ch.case_id, MIN(ch.pos) AS p FROM changes ch
                         WHERE ch.pos > ?1 AND ch.pos <= ?2 AND EXISTS (
                            SELECT 1 FROM case_access a
                            WHERE a.key IN ({any_key}) AND a.case_id = ch.case_id)
                         GROUP BY ch.case_id ORDER BY p LIMIT ?3"
                    )
                };
                let mut stmt = self.tx.prepare_cached(&sql)?;
                let rows = stmt.query_map(args.as_slice(), map)?;
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
        let mut stmt = self.tx.prepare_cached(CHANGES_BETWEEN)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;
    use crate::storage::with_tx;
    use rusqlite::StatementStatus;

    /// Every pull runs these with new bounds; compiling them again each time was a few per
    /// cent of a push (decision 0054).
    #[test]
    fn the_feed_queries_are_compiled_once() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        for after in 0..4u64 {
            with_tx(&storage, |tx| {
                let case = DocId::from(format!("case-{after}"));
                tx.changes_between(&case, after, after + 10, &DeviceId::from("dev-1"))?;
                tx.feed_cases(FeedScope::All, after, after + 10, 5 + after as u32)?;
                Ok(())
            })
            .unwrap();
        }
        let conn = storage.conn.lock().unwrap();
        for sql in [CHANGES_BETWEEN, FEED_CASES_ALL] {
            let stmt = conn.prepare_cached(sql).unwrap();
            assert_eq!(stmt.get_status(StatementStatus::RePrepare), 0, "{sql}");
        }
    }
}
