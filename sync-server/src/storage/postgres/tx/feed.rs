//! The change feed: [`crate::storage::FeedTx`] on a PostgreSQL transaction.

use super::{PgTx, first_i64, pos, sql_pos};
use crate::storage::{FeedScope, FeedTx, Result};
use xiangying_model::ids::{DeviceId, DocId};

/// The visible cases with a change in `($1, $2]`, each at its first such position (see
/// [`FeedTx::feed_cases`]). Read from the immutable change rows, so the answer does not depend on
/// what commits above `$2` while it runs, even at READ COMMITTED.
const FEED_ALL: &str = "
SELECT ch.case_id, MIN(ch.pos) AS p FROM changes ch
WHERE ch.pos > $1 AND ch.pos <= $2
GROUP BY ch.case_id ORDER BY p LIMIT $3";

/// [`FEED_ALL`] restricted to the cases visible through any of the keys in `$4`.
const FEED_KEYS: &str = "
SELECT ch.case_id, MIN(ch.pos) AS p FROM changes ch
WHERE ch.pos > $1 AND ch.pos <= $2
  AND EXISTS (SELECT 1 FROM case_access a WHERE a.case_id = ch.case_id AND a.key = ANY($4))
GROUP BY ch.case_id ORDER BY p LIMIT $3";

impl FeedTx for PgTx<'_> {
    fn allocate_positions(&mut self, n: u64) -> Result<u64> {
        // The counter row stays locked until this transaction ends: positions are handed out,
        // and become visible, in commit order.
        let r = self.query_one(
            "UPDATE counters SET next = next + $1 WHERE name = 'feed' RETURNING next - $1",
            &[&sql_pos(n)],
        )?;
        Ok(pos(first_i64(&r)?))
    }

    fn max_position(&mut self) -> Result<u64> {
        // A plain read: while a writer holds the counter row with an uncommitted update, this
        // returns the last committed value, so every position at or below it is committed.
        let r = self.query_one("SELECT next FROM counters WHERE name = 'feed'", &[])?;
        Ok(pos(first_i64(&r)? - 1))
    }

    fn feed_cases(
        &mut self,
        scope: FeedScope<'_>,
        after: u64,
        upto: u64,
        limit: u32,
    ) -> Result<Vec<(DocId, u64)>> {
        let (after, upto, limit) = (sql_pos(after), sql_pos(upto), i64::from(limit));
        let rows = match scope {
            FeedScope::All => self.query(FEED_ALL, &[&after, &upto, &limit])?,
            FeedScope::Keys(keys) => {
                let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
                self.query(FEED_KEYS, &[&after, &upto, &limit, &keys])?
            }
        };
        rows.iter()
            .map(|r| Ok((r.try_get::<_, String>(0)?.into(), pos(r.try_get(1)?))))
            .collect()
    }

    fn changes_between(
        &mut self,
        case_id: &DocId,
        after: u64,
        upto: u64,
        exclude_device: &DeviceId,
    ) -> Result<Vec<Vec<u8>>> {
        let (case_id, exclude_device) = (case_id.as_str(), exclude_device.as_str());
        self.query(
            "SELECT bytes FROM changes WHERE case_id = $1 AND pos > $2 AND pos <= $3
             AND (device IS NULL OR device <> $4) ORDER BY pos",
            &[&case_id, &sql_pos(after), &sql_pos(upto), &exclude_device],
        )?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }
}
