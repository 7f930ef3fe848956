//! Long work off the caller's thread, as a runtime-free future: [`off_thread`] runs a closure
//! on its own thread and resolves when it returns. Kotlin suspends and Swift awaits on it
//! without blocking their threads, and no async runtime is linked into the library.
//!
//! Dropping the future (a Kotlin coroutine cancelled) raises the work's stop flag, which the
//! closure checks between steps.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
    gone: bool,
}

/// The future of work running on its own thread.
pub(crate) struct OffThread<T> {
    slot: Arc<Mutex<Slot<T>>>,
    stop: Arc<AtomicBool>,
}

/// Runs `work` on a new thread; `work` gets a stop flag that turns true when the future is
/// dropped before it finished. If the thread cannot be started, `on_spawn_error` makes the
/// result instead.
pub(crate) fn off_thread<T, F>(
    name: &str,
    work: F,
    on_spawn_error: impl FnOnce(std::io::Error) -> T,
) -> OffThread<T>
where
    T: Send + 'static,
    F: FnOnce(&AtomicBool) -> T + Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
        gone: false,
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let (s, f) = (Arc::clone(&slot), Arc::clone(&stop));
    let spawned = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            // A panic in `work` is caught so the waiting side always gets woken; uniffi turns
            // the missing value into an internal error on the foreign side.
            let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&f))).ok();
            let mut slot = s.lock().unwrap_or_else(|e| e.into_inner());
            slot.value = value;
            slot.gone = true;
            if let Some(w) = slot.waker.take() {
                w.wake();
            }
        });
    if let Err(e) = spawned {
        let mut s = slot.lock().unwrap_or_else(|e| e.into_inner());
        s.value = Some(on_spawn_error(e));
        s.gone = true;
    }
    OffThread { slot, stop }
}

impl<T> Future for OffThread<T> {
    type Output = Option<T>;

    /// `None` only when the work panicked.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if slot.gone {
            return Poll::Ready(slot.value.take());
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<T> Drop for OffThread<T> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
