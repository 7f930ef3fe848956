//! The computed rankings of the last few periods, kept in memory so that switching tabs and
//! downloading the tables just viewed do not scan the store again.
//!
//! An entry is keyed by the store (id and epoch), the published roster's version (the
//! accompaniment table lists its grid workers), the period and the feed position: every stored
//! case or patrol change takes a new feed position, so an entry is used only while nothing was
//! stored since it was computed, and the figures shown are never older than the store. The
//! key is read before the figures are computed, so a change committed meanwhile makes the
//! next request compute afresh. At most [`CAPACITY`] entries; the least recently used goes.

use super::{Loaded, Period, load};
use crate::error::ServerError;
use crate::storage::{Storage, with_tx};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

/// The most periods kept (a year's figures are a few hundred kilobytes).
pub const CAPACITY: usize = 16;

/// What an entry was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    store: String,
    epoch: String,
    org_version: u64,
    position: u64,
    from: i64,
    to: i64,
}

/// Recently computed rankings, most recently used last.
#[derive(Debug)]
pub struct RankingsCache {
    capacity: usize,
    entries: Mutex<VecDeque<(Key, Arc<Loaded>)>>,
}

impl RankingsCache {
    /// An empty cache of at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> RankingsCache {
        RankingsCache {
            capacity: capacity.max(1),
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// The process's cache, shared by every request (keyed by store, so several servers in
    /// one process never see each other's figures).
    pub fn global() -> &'static RankingsCache {
        static CACHE: OnceLock<RankingsCache> = OnceLock::new();
        CACHE.get_or_init(|| RankingsCache::new(CAPACITY))
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Key, Arc<Loaded>)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The figures of `period`: kept ones while nothing was stored since, else [`load`]ed and
    /// kept.
    pub fn get(&self, storage: &dyn Storage, period: &Period) -> Result<Arc<Loaded>, ServerError> {
        let (from, to) = period.ms()?;
        let (org_version, position) =
            with_tx(storage, |tx| Ok((tx.org_version()?, tx.max_position()?)))?;
        let id = storage.identity();
        let key = Key {
            store: id.store_id.clone(),
            epoch: id.epoch.clone(),
            org_version,
            position,
            from,
            to,
        };
        {
            let mut entries = self.lock();
            if let Some(i) = entries.iter().position(|(k, _)| *k == key)
                && let Some(hit) = entries.remove(i)
            {
                let data = hit.1.clone();
                entries.push_back(hit);
                return Ok(data);
            }
        }
        let data = Arc::new(load(storage, period)?);
        let mut entries = self.lock();
        entries.retain(|(k, _)| *k != key);
        entries.push_back((key, data.clone()));
        while entries.len() > self.capacity {
            entries.pop_front();
        }
        Ok(data)
    }
}
