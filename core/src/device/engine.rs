//! The sync engine: syncs by itself, so that the app never has to call `sync_now`.
//!
//! Started once by the app with the device; it syncs
//! - after a local write (any write that queues an outbox entry): at once when no sync started
//!   within [`EngineConfig::debounce`] (1 s by default), else when it has passed, so a single
//!   action goes out without delay and a burst of actions is one more sync;
//! - when the platform reports connectivity regained ([`SyncEngine::connectivity_regained`]),
//!   at once and with the backoff reset;
//! - when something says there is news: the server's wake-up channel, which a second thread
//!   waits on while the app is in the foreground ([`EngineConfig::wait_for_news`]), or
//!   [`SyncEngine::sync_soon`] (a push notification);
//! - periodically while the app is in the foreground ([`SyncEngine::set_foreground`]) and the
//!   wake-up channel is not answering (while it answers, it says when there is news, and a
//!   timer would only add requests to an idle device's hour).
//!
//! One sync at a time: the engine runs on one thread of its own, and [`Device::sync_now`]
//! itself never runs two syncs at once (a second caller waits for the first). A failed sync is
//! retried with exponential backoff and full jitter (a random wait between zero and the
//! backoff), so that devices that failed together do not come back together; a server's
//! `Retry-After` is honoured (never sooner, spread over once more its length). The state is
//! observable ([`EngineStatus`]); [`SyncEngine::cancel_sync`] cancels the sync in flight
//! between steps (what was done stays done), and [`SyncEngine::stop`] does too and joins the
//! sync thread; a wait on the wake-up channel in
//! flight ends by itself within the server's heartbeat, and its thread with it.

use super::{Device, SyncReport};
use crate::error::Error;
use crate::sync::refusal::Refusal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the engine paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineConfig {
    /// The shortest time between two syncs that local writes start: a write syncs at once
    /// when no sync started within it, else when it has passed.
    pub debounce: Duration,
    /// The period of syncs while the app is in the foreground and the wake-up channel is not
    /// answering; `None`: none.
    pub foreground_period: Option<Duration>,
    /// The first backoff after a failure; it doubles with every failure in a row.
    pub backoff_base: Duration,
    /// The longest backoff.
    pub backoff_max: Duration,
    /// Wait on the server's wake-up channel while in the foreground, and sync as soon as it
    /// says there is something new.
    pub wait_for_news: bool,
    /// Whether the app is in the foreground when the engine starts (later changes go through
    /// [`SyncEngine::set_foreground`]).
    pub start_in_foreground: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            debounce: Duration::from_secs(1),
            foreground_period: Some(Duration::from_secs(60)),
            backoff_base: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            wait_for_news: true,
            start_in_foreground: false,
        }
    }
}

/// What the engine is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineState {
    /// Nothing to do until the next trigger.
    Idle,
    /// A sync is running; its progress so far.
    Syncing(SyncReport),
    /// The server could not be reached; the next try is in `retry_in` (sooner when the
    /// platform reports connectivity regained).
    Offline {
        /// Until the next try.
        retry_in: Duration,
        /// What failed.
        reason: String,
    },
    /// The server refused or failed, or its certificate was refused; the next try is in
    /// `retry_in`.
    WaitingToRetry {
        /// Until the next try.
        retry_in: Duration,
        /// The refusal's stable code ([`Refusal::code`]), or the TLS failure's
        /// ([`crate::error::TlsFailure::code`], `tls_…`).
        code: &'static str,
        /// What the server said.
        reason: String,
    },
    /// The app (or the server, for [`Refusal::ServerTooOld`]) must be upgraded first; the
    /// engine tries again only when told to ([`SyncEngine::sync_soon`]).
    UpgradeRequired(Refusal),
    /// Stopped.
    Stopped,
}

/// The engine's state with the queues it works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineStatus {
    /// What the engine is doing.
    pub state: EngineState,
    /// Changes waiting for the server.
    pub outbox: u64,
    /// Photo files waiting to upload.
    pub uploads: u64,
    /// Of `uploads`, the files the last finished sync could not send because their copy on
    /// this phone is missing or damaged ([`SyncReport::photos_unreadable`]): they wait for
    /// the copy to be mended, not for the network.
    pub uploads_unreadable: u64,
    /// When the last sync succeeded (device clock, ms), if one has.
    pub last_success: Option<i64>,
}

/// Receives every status the engine goes through, in order, on the engine's thread.
pub type EngineListener = Box<dyn Fn(&EngineStatus) + Send + Sync>;

/// What wakes the engine.
#[derive(Debug, Default)]
struct Triggers {
    /// A local write asks for a sync at this time (debounced).
    write_due: Option<Instant>,
    /// Sync as soon as possible.
    now: bool,
    /// The app is in the foreground.
    foreground: bool,
    /// Stop.
    stop: bool,
}

struct Shared {
    device: Arc<Device>,
    config: EngineConfig,
    triggers: Mutex<Triggers>,
    wake: Condvar,
    status: Mutex<EngineStatus>,
    stopping: AtomicBool,
    /// Cancel the sync in flight (reset when a sync starts).
    cancel: AtomicBool,
    /// Sync attempts finished so far (the watcher waits for one after each piece of news).
    attempts: std::sync::atomic::AtomicU64,
    /// When the last sync started (for the debounce of local writes).
    last_sync: Mutex<Option<Instant>>,
    /// The wake-up channel answers: no wait has failed since the last one that came back (then
    /// periodic syncs are not needed: the channel says when there is news).
    channel_live: AtomicBool,
    listener: EngineListener,
}

/// A running sync engine; dropping it stops it.
pub struct SyncEngine {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl SyncEngine {
    /// Starts the engine for `device`; `listener` hears every status. The first sync runs at
    /// once (whatever waited in the outbox while the app was closed goes out).
    pub fn start(
        device: Arc<Device>,
        config: EngineConfig,
        listener: EngineListener,
    ) -> crate::Result<SyncEngine> {
        let status = EngineStatus {
            state: EngineState::Idle,
            outbox: device.outbox_len()?,
            uploads: device.uploads_len()?,
            uploads_unreadable: 0,
            last_success: None,
        };
        let shared = Arc::new(Shared {
            device,
            config,
            triggers: Mutex::new(Triggers {
                now: true,
                foreground: config.start_in_foreground,
                ..Triggers::default()
            }),
            wake: Condvar::new(),
            status: Mutex::new(status),
            stopping: AtomicBool::new(false),
            cancel: AtomicBool::new(false),
            attempts: std::sync::atomic::AtomicU64::new(0),
            last_sync: Mutex::new(None),
            // Taken as answering until a wait fails: a first wait takes a whole heartbeat to
            // come back, and a timer meanwhile would add a sync to every start.
            channel_live: AtomicBool::new(config.wait_for_news),
            listener,
        });
        let hook = Arc::downgrade(&shared);
        shared.device.on_local_write(Some(Arc::new(move || {
            if let Some(shared) = hook.upgrade() {
                shared.local_write();
            }
        })));
        let runner = shared.clone();
        let thread = std::thread::Builder::new()
            .name("xiangying-sync".into())
            .spawn(move || runner.run())
            .map_err(|e| Error::Network(format!("cannot start the sync engine: {e}")))?;
        if config.wait_for_news {
            let watcher = shared.clone();
            // Not joined on stop: a wait in flight ends within the server's heartbeat.
            std::thread::Builder::new()
                .name("xiangying-wait".into())
                .spawn(move || watcher.watch())
                .map_err(|e| Error::Network(format!("cannot start the sync engine: {e}")))?;
        }
        Ok(SyncEngine {
            shared,
            thread: Some(thread),
        })
    }

    /// The platform reports the network is back: sync now, with the backoff reset.
    pub fn connectivity_regained(&self) {
        self.shared.trigger(|t| t.now = true);
    }

    /// Something says there is news for this device (a push notification, the server's
    /// wake-up answer): sync now.
    pub fn sync_soon(&self) {
        self.shared.trigger(|t| t.now = true);
    }

    /// The app came to the foreground (periodic syncs run) or left it (they stop).
    pub fn set_foreground(&self, foreground: bool) {
        self.shared.trigger(|t| {
            t.foreground = foreground;
            t.now |= foreground;
        });
    }

    /// Cancels the sync in flight, if any, between two of its steps (what was done stays
    /// done); the engine then waits for its next trigger as after a success. Returns at once.
    pub fn cancel_sync(&self) {
        self.shared.cancel.store(true, Ordering::SeqCst);
    }

    /// The engine's status now.
    pub fn status(&self) -> EngineStatus {
        self.shared.status().clone()
    }

    /// Stops the engine: a sync in flight is cancelled between steps, the thread is joined.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.trigger(|t| t.stop = true);
        if let Some(thread) = self.thread.take() {
            // A panic on the engine's thread has already been reported by the runtime.
            let _ = thread.join();
        }
        self.shared.device.on_local_write(None);
    }
}

impl Drop for SyncEngine {
    fn drop(&mut self) {
        self.halt();
    }
}

impl Shared {
    fn triggers(&self) -> MutexGuard<'_, Triggers> {
        self.triggers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn status(&self) -> MutexGuard<'_, EngineStatus> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn trigger(&self, f: impl FnOnce(&mut Triggers)) {
        f(&mut self.triggers());
        self.wake.notify_all();
    }

    /// A local write: synced at once when no sync started within the debounce time (so a
    /// single action reaches the server without delay), otherwise when that time has passed
    /// (so a burst of actions is one more sync, not one each).
    fn local_write(&self) {
        let now = Instant::now();
        let last = *self.last_sync.lock().unwrap_or_else(|e| e.into_inner());
        let due = last.map_or(now, |l| (l + self.config.debounce).max(now));
        self.trigger(|t| {
            t.write_due = Some(t.write_due.map_or(due, |d| d.min(due)));
        });
    }

    /// Publishes a new state with the queues' sizes; `finished` is the report of a sync that
    /// has just succeeded.
    fn publish(&self, state: EngineState, finished: Option<&SyncReport>) {
        let outbox = self.device.outbox_len().unwrap_or(0);
        let uploads = self.device.uploads_len().unwrap_or(0);
        let status = {
            let mut s = self.status();
            log_change(&s.state, &state);
            s.state = state;
            s.outbox = outbox;
            s.uploads = uploads;
            if let Some(report) = finished {
                s.last_success = Some(self.device.now());
                s.uploads_unreadable = report.photos_unreadable.len() as u64;
            }
            s.uploads_unreadable = s.uploads_unreadable.min(uploads);
            s.clone()
        };
        (self.listener)(&status);
    }

    fn run(&self) {
        let mut failures = 0u32;
        let mut retry_at: Option<Instant> = None;
        let mut parked = false;
        let started = Instant::now();
        loop {
            if !self.wait_for_work(&mut retry_at, &mut failures, parked, started) {
                break;
            }
            parked = false;
            *self.last_sync.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            self.cancel.store(false, Ordering::SeqCst);
            let result = self.device.sync_now_until(
                &|r| self.publish(EngineState::Syncing(r.clone()), None),
                &|| self.stopping.load(Ordering::SeqCst) || self.cancel.load(Ordering::SeqCst),
            );
            self.attempts.fetch_add(1, Ordering::SeqCst);
            self.wake.notify_all();
            match result {
                Ok(report) => {
                    failures = 0;
                    retry_at = None;
                    self.publish(EngineState::Idle, Some(&report));
                }
                Err(Error::Cancelled(_)) if self.stopping.load(Ordering::SeqCst) => break,
                // Cancelled by the app: nothing failed, nothing to retry.
                Err(Error::Cancelled(_)) => self.publish(EngineState::Idle, None),
                Err(e) => {
                    let (state, wait) = self.after_failure(&e, &mut failures);
                    retry_at = wait.map(|w| Instant::now() + w);
                    // No retry time: only an explicit trigger (news, connectivity) tries again.
                    parked = wait.is_none();
                    self.publish(state, None);
                }
            }
        }
        self.publish(EngineState::Stopped, None);
    }

    /// Waits until a sync is due; false when the engine must stop. A `parked` engine (an
    /// upgrade is required) waits for an explicit trigger only. Periodic syncs count from the
    /// last sync's start, or from `started` before the first.
    fn wait_for_work(
        &self,
        retry_at: &mut Option<Instant>,
        failures: &mut u32,
        parked: bool,
        started: Instant,
    ) -> bool {
        let mut t = self.triggers();
        loop {
            if t.stop {
                return false;
            }
            let now = Instant::now();
            if t.now {
                // Connectivity back or news: go now, whatever the backoff said.
                t.now = false;
                *retry_at = None;
                *failures = 0;
                return true;
            }
            let live = self.channel_live.load(Ordering::SeqCst);
            let periodic = (t.foreground && !live)
                .then_some(self.config.foreground_period)
                .flatten()
                .map(|p| {
                    let last = *self.last_sync.lock().unwrap_or_else(|e| e.into_inner());
                    last.unwrap_or(started) + p
                });
            // The next moment anything is due: a debounced write, a retry, a periodic sync.
            // A retry after a failure waits for its time even if writes come in meanwhile.
            let due = match *retry_at {
                _ if parked => None,
                Some(r) => Some(r),
                None => [t.write_due, periodic].into_iter().flatten().min(),
            };
            match due {
                Some(at) if at <= now => {
                    t.write_due = None;
                    *retry_at = None;
                    return true;
                }
                Some(at) => {
                    t = self
                        .wake
                        .wait_timeout(t, at - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                None => t = self.wake.wait(t).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }

    /// The watcher: while the app is in the foreground, waits on the server's wake-up channel
    /// and asks for a sync when it says there is news, then waits for that sync before it
    /// waits again (its cursor moves only with a sync). Failures back off like syncs do.
    fn watch(&self) {
        let mut failures = 0u32;
        loop {
            {
                let mut t = self.triggers();
                while !t.stop && !t.foreground {
                    t = self.wake.wait(t).unwrap_or_else(|e| e.into_inner());
                }
                if t.stop {
                    return;
                }
            }
            let answer = self.device.wait_for_news();
            let was_live = self.channel_live.swap(answer.is_ok(), Ordering::SeqCst);
            if was_live && answer.is_err() {
                // Periodic syncs take over from now: the sync thread reckons again.
                self.wake.notify_all();
            }
            match answer {
                Ok(true) => {
                    failures = 0;
                    let seen = self.attempts.load(Ordering::SeqCst);
                    self.trigger(|t| t.now = true);
                    let mut t = self.triggers();
                    while !t.stop && self.attempts.load(Ordering::SeqCst) == seen {
                        t = self.wake.wait(t).unwrap_or_else(|e| e.into_inner());
                    }
                }
                Ok(false) => failures = 0,
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let pause = backoff(self.config, failures, &e);
                    let t = self.triggers();
                    if !t.stop {
                        let _ = self.wake.wait_timeout(t, pause);
                    }
                }
            }
        }
    }

    /// The state after a failed sync and how long to wait before the next try (`None`: only
    /// when told to).
    fn after_failure(&self, e: &Error, failures: &mut u32) -> (EngineState, Option<Duration>) {
        *failures = failures.saturating_add(1);
        let wait = backoff(self.config, *failures, e);
        // A refused certificate is not "offline": the server answered, and only new TLS
        // options or a new server certificate can help. Wait with its code.
        if let Error::Tls { failure, .. } = e {
            return (
                EngineState::WaitingToRetry {
                    retry_in: wait,
                    code: failure.code(),
                    reason: e.to_string(),
                },
                Some(wait),
            );
        }
        match e.refusal() {
            Some(r @ (Refusal::UpgradeRequired | Refusal::ServerTooOld)) => {
                (EngineState::UpgradeRequired(r), None)
            }
            Some(r) => (
                EngineState::WaitingToRetry {
                    retry_in: wait,
                    code: r.code(),
                    reason: e.to_string(),
                },
                Some(wait),
            ),
            None => (
                EngineState::Offline {
                    retry_in: wait,
                    reason: e.to_string(),
                },
                Some(wait),
            ),
        }
    }
}

/// Logs a change of the engine's state (not each step of a sync's progress).
fn log_change(old: &EngineState, new: &EngineState) {
    if std::mem::discriminant(old) == std::mem::discriminant(new) {
        return;
    }
    let target = crate::logs::ENGINE;
    match new {
        EngineState::Idle => log::info!(target: target, "idle"),
        EngineState::Syncing(_) => log::info!(target: target, "syncing"),
        EngineState::Offline { retry_in, reason } => log::warn!(
            target: target,
            "offline ({reason}); next try in {} ms",
            retry_in.as_millis()
        ),
        EngineState::WaitingToRetry {
            retry_in,
            code,
            reason,
        } => log::warn!(
            target: target,
            "the server refused ({code}: {reason}); next try in {} ms",
            retry_in.as_millis()
        ),
        EngineState::UpgradeRequired(r) => {
            log::error!(target: target, "stopped until upgraded: {}", r.code())
        }
        EngineState::Stopped => log::info!(target: target, "stopped"),
    }
}

/// The wait after `failures` failures in a row, the last `e`: the full-jitter backoff, and at
/// least the server's `Retry-After` when it gave one (spread over once more its length, so that
/// the devices it refused together come back apart).
fn backoff(config: EngineConfig, failures: u32, e: &Error) -> Duration {
    let jitter = full_jitter(config, failures);
    e.retry_after().map_or(jitter, |after| {
        jitter.max(crate::sync::client::spread(after))
    })
}

/// A random wait between zero and the backoff after `failures` failures in a row
/// (`base · 2^(failures-1)`, at most `max`).
fn full_jitter(config: EngineConfig, failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    let cap = config
        .backoff_base
        .saturating_mul(1u32 << exp)
        .min(config.backoff_max);
    crate::sync::client::full_jitter(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_cap_and_the_wait_is_within_it() {
        let config = EngineConfig {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(1_000),
            ..EngineConfig::default()
        };
        for (failures, cap) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1_000),
            (40, 1_000),
        ] {
            for _ in 0..50 {
                let wait = full_jitter(config, failures);
                assert!(wait <= Duration::from_millis(cap), "{failures}: {wait:?}");
            }
        }
        // A server's Retry-After is a floor, whatever the backoff says.
        let busy = Error::Rejected {
            status: 503,
            code: "overloaded".into(),
            message: String::new(),
            retry_after: Some(Duration::from_secs(3)),
        };
        for _ in 0..50 {
            let wait = backoff(config, 1, &busy);
            assert!((Duration::from_secs(3)..=Duration::from_secs(6)).contains(&wait));
        }
        assert!(backoff(config, 1, &Error::Network("x".into())) <= Duration::from_millis(100));
        // Full jitter spreads the waits over the whole range.
        let waits: Vec<Duration> = (0..200).map(|_| full_jitter(config, 5)).collect();
        assert!(waits.iter().any(|w| *w < Duration::from_millis(250)));
        assert!(waits.iter().any(|w| *w > Duration::from_millis(750)));
    }
}
