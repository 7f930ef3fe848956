//! The wake-up channel (decision 0029): `GET /v1/wait?cursor=N` is a long poll. It answers
//! `200` as soon as the feed holds a change after the device's cursor to a document its person
//! may read, and `204` (nothing new: ask again) after the heartbeat, [`Limits::wait_secs`]
//! (75 s by default: shorter than the idle timeouts of mobile carriers' NATs, long enough that
//! an idle device makes under 60 requests an hour; decision 0029). A device's sync engine
//! waits here while the app is in the foreground and syncs on a `200`.
//!
//! Every committed push rings [`Wake`] with the access keys of the documents it wrote. A
//! waiting request compares them with its person's read scope in memory and asks the store
//! ([`crate::sync::has_news`], one bounded query) only when a ring may concern it, or when it
//! cannot tell: a ring without keys (another instance's notification that carried none), or
//! rings it missed because more than [`RECENT_RINGS`] came while it slept. So a push wakes the
//! few devices it concerns, not a query from every waiting device. A waiting request holds no
//! thread and no database connection: only its task, its connection, a watch receiver and its
//! scope's keys. When the server stops, [`Wake::close`] ends every wait at once (`204`), so a
//! stop does not wait a heartbeat for them and the devices go elsewhere or come back by their
//! own jittered backoff.
//!
//! [`Limits::wait_secs`]: crate::state::Limits::wait_secs

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use xiangying_model::sync::keys::AccessKey;
use xiangying_model::sync::scope::{ReadScope, may_see};

/// How many rings are remembered for waits to compare with their scope; a wait that fell
/// further behind asks the store.
pub const RECENT_RINGS: usize = 4096;

/// What a ring says about what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Touched {
    /// Documents visible through these keys.
    Keys(Arc<[AccessKey]>),
    /// Not said: every wait checks.
    Unknown,
}

/// Rings every waiting request when the feed may have grown.
#[derive(Debug)]
pub struct Wake {
    /// The number of the latest ring.
    tx: watch::Sender<u64>,
    /// The latest rings, oldest first, with their numbers.
    recent: Mutex<VecDeque<(u64, Touched)>>,
    /// The server is stopping: waits end at once.
    closed: AtomicBool,
}

impl Default for Wake {
    fn default() -> Self {
        Wake {
            tx: watch::channel(0).0,
            recent: Mutex::new(VecDeque::with_capacity(RECENT_RINGS)),
            closed: AtomicBool::new(false),
        }
    }
}

impl Wake {
    /// Something was committed to the feed, nobody says what: every waiting request checks.
    pub fn ring(&self) {
        self.record(Touched::Unknown);
    }

    /// Documents visible through `keys` were committed to the feed: the waiting requests whose
    /// scope may read one of them check.
    pub fn ring_for(&self, keys: Vec<AccessKey>) {
        self.record(Touched::Keys(keys.into()));
    }

    fn record(&self, touched: Touched) {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let number = recent.back().map_or(1, |(n, _)| n.wrapping_add(1));
        if recent.len() == RECENT_RINGS {
            recent.pop_front();
        }
        recent.push_back((number, touched));
        // Sent under the lock, so rings are numbered in the order receivers see them.
        self.tx.send_replace(number);
    }

    /// The server is stopping: every wait ends now, and new ones at once.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.ring();
    }

    /// Whether [`Wake::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// A receiver that sees every ring from now on; its value is the latest ring's number.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }

    /// Whether any ring after `seen` up to `now` may concern a reader with `scope`: one for
    /// keys it may read, one without keys, or one no longer remembered.
    pub fn concerns(&self, seen: u64, now: u64, scope: &ReadScope) -> bool {
        if scope.all {
            return true;
        }
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let Some((oldest, _)) = recent.front() else {
            return now != seen;
        };
        if seen.wrapping_add(1) < *oldest {
            return true;
        }
        recent
            .iter()
            .filter(|(n, _)| *n > seen && *n <= now)
            .any(|(_, t)| match t {
                Touched::Keys(keys) => may_see(scope, keys),
                Touched::Unknown => true,
            })
    }

    /// How many requests are waiting now (for metrics and tests).
    pub fn waiting(&self) -> usize {
        self.tx.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(keys: &[AccessKey]) -> ReadScope {
        ReadScope {
            all: false,
            keys: keys.to_vec(),
        }
    }

    #[tokio::test]
    async fn a_ring_wakes_every_receiver_once() {
        let wake = Wake::default();
        let (mut a, mut b) = (wake.subscribe(), wake.subscribe());
        assert_eq!(wake.waiting(), 2);
        wake.ring();
        a.changed().await.unwrap();
        b.changed().await.unwrap();
        assert!(!a.has_changed().unwrap());
        drop(a);
        assert_eq!(wake.waiting(), 1);
    }

    #[test]
    fn a_ring_concerns_only_the_scopes_that_may_read_what_it_touched() {
        let wake = Wake::default();
        let g1 = AccessKey::Grid("g1".into());
        let g2 = AccessKey::Grid("g2".into());
        let mine = scope(std::slice::from_ref(&g1));
        let seen = *wake.subscribe().borrow();
        wake.ring_for(vec![g2.clone(), AccessKey::Community("c2".into())]);
        let now = *wake.subscribe().borrow();
        assert!(!wake.concerns(seen, now, &mine));
        assert!(wake.concerns(seen, now, &scope(&[g2])));
        // The street-wide roles read everything.
        let all = ReadScope {
            all: true,
            keys: vec![],
        };
        assert!(wake.concerns(seen, now, &all));
        // A ring without keys concerns everybody; so does one among several.
        wake.ring_for(vec![g1.clone()]);
        let later = *wake.subscribe().borrow();
        assert!(wake.concerns(now, later, &mine));
        assert!(!wake.concerns(later, later, &mine));
        wake.ring();
        let last = *wake.subscribe().borrow();
        assert!(wake.concerns(later, last, &scope(&[AccessKey::Dept("d9".into())])));
    }

    #[test]
    fn a_wait_that_fell_behind_what_is_remembered_is_told_to_check() {
        let wake = Wake::default();
        let mine = scope(&[AccessKey::Grid("g1".into())]);
        let seen = *wake.subscribe().borrow();
        for _ in 0..=RECENT_RINGS {
            wake.ring_for(vec![AccessKey::Grid("g2".into())]);
        }
        let now = *wake.subscribe().borrow();
        assert!(
            wake.concerns(seen, now, &mine),
            "the ring it missed may have been for it"
        );
        assert!(!wake.concerns(now - 1, now, &mine));
    }
}
