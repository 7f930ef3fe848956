//! Callbacks into the app: [`CaseListener`] (which cases changed, so a screen can refresh),
//! [`ProgressListener`] and [`SyncListener`] (how far long work has got), and [`CancelToken`]
//! to stop long work from the app's side.
//!
//! A listener is called on the thread that did the work, after the work is committed. A
//! listener that fails (a Kotlin exception, a Swift crash in the closure) must not turn a
//! committed action into an error, so every call is fenced with `catch_unwind`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Told which cases and patrols changed after every action this device object performs
/// (report, forward, escalate, import, start a patrol, record fixes, end it, …) and after every
/// sync, so that a list or detail screen can refresh.
#[uniffi::export(foreign)]
pub trait CaseListener: Send + Sync {
    /// `ids` are the cases and patrols touched (both are UUIDs; a screen refreshes when an id
    /// it shows is among them). An empty list means "anything may have changed" (a new
    /// roster, a different person): reload every list.
    fn cases_changed(&self, ids: Vec<String>);
}

/// Told how far long work (a bulk import) has got.
#[uniffi::export(foreign)]
pub trait ProgressListener: Send + Sync {
    /// `done` of `total` steps are finished.
    fn progress(&self, done: u64, total: u64);
}

/// Told how far a sync has got, after every step (each round trip, each photo uploaded) and
/// once more with phase `Done`. Called on the sync's worker thread: post to your UI.
#[uniffi::export(foreign)]
pub trait SyncListener: Send + Sync {
    /// The totals so far.
    fn progress(&self, report: crate::types::SyncReport);
}

/// Stops long work early when the app asks (a Swift task cancelled, a screen closed). An
/// import stops at the next case; a sync at its next step (a round trip, a photo upload);
/// what was finished stays (see [`crate::XiangyingDevice::sync_now`]).
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelToken {
    flag: AtomicBool,
}

#[uniffi::export]
impl CancelToken {
    /// A token that is not cancelled.
    #[uniffi::constructor]
    pub fn new() -> Arc<CancelToken> {
        Arc::new(CancelToken::default())
    }

    /// Asks the work that holds this token to stop.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// True once [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

/// The registered case listeners of one device object.
#[derive(Default)]
pub(crate) struct Listeners {
    next: AtomicU64,
    list: Mutex<Vec<(u64, Arc<dyn CaseListener>)>>,
}

impl Listeners {
    pub(crate) fn add(&self, l: Arc<dyn CaseListener>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, l));
        id
    }

    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        let before = list.len();
        list.retain(|(i, _)| *i != id);
        list.len() != before
    }

    /// Calls every listener with `ids`, outside the lock (a listener may add or remove
    /// listeners, or query the device), each fenced against failure.
    pub(crate) fn notify(&self, ids: Vec<String>) {
        let snapshot: Vec<Arc<dyn CaseListener>> = self
            .list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(_, l)| Arc::clone(l))
            .collect();
        for l in snapshot {
            let ids = ids.clone();
            let _ = catch_unwind(AssertUnwindSafe(|| l.cases_changed(ids)));
        }
    }
}

/// Calls a progress listener, fenced like [`Listeners::notify`].
pub(crate) fn report_progress(l: Option<&Arc<dyn ProgressListener>>, done: u64, total: u64) {
    if let Some(l) = l {
        let _ = catch_unwind(AssertUnwindSafe(|| l.progress(done, total)));
    }
}

/// Calls a sync listener, fenced like [`Listeners::notify`].
pub(crate) fn report_sync(l: Option<&Arc<dyn SyncListener>>, report: &crate::types::SyncReport) {
    if let Some(l) = l {
        let _ = catch_unwind(AssertUnwindSafe(|| l.progress(report.clone())));
    }
}
