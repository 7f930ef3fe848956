//! The wake-up channel (decision 0029): `GET /v1/wait?cursor=N` is a long poll. It answers
//! `200` as soon as the feed holds a change after the device's cursor to a document its person
//! may read, and `204` (nothing new: ask again) after the heartbeat, [`Limits::wait_secs`]
//! (75 s by default: shorter than the idle timeouts of mobile carriers' NATs, long enough that
//! an idle device makes under 60 requests an hour; decision 0029). A
//! device's sync engine waits here while the app is in the foreground and syncs on a `200`.
//!
//! Every committed push rings [`Wake`]; each waiting request then checks its own scope with one
//! bounded query ([`crate::sync::has_news`]) and goes back to waiting when the change is not
//! for it. A waiting request holds no thread and no database connection: only its task, its
//! connection and a watch receiver.
//!
//! [`Limits::wait_secs`]: crate::state::Limits::wait_secs

use tokio::sync::watch;

/// Rings every waiting request when the feed may have grown.
#[derive(Debug)]
pub struct Wake {
    tx: watch::Sender<u64>,
}

impl Default for Wake {
    fn default() -> Self {
        Wake {
            tx: watch::channel(0).0,
        }
    }
}

impl Wake {
    /// Something was committed to the feed: every waiting request checks again.
    pub fn ring(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees every ring from now on.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }

    /// How many requests are waiting now (for metrics and tests).
    pub fn waiting(&self) -> usize {
        self.tx.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
