//! A global allocator that flags large allocations and refuses unbounded ones, so that a
//! parser allocating without bound shows as a failure naming the input.
//!
//! Install it in a fuzz test binary with `#[global_allocator]`. Two caps:
//! - `max_one`: an allocation larger than this still succeeds, but is recorded for the thread
//!   that made it; [`CappedAlloc::take_oversized`] returns and clears that record, so the
//!   target's wrapper can panic after the input and the fuzzing engine reports the input.
//!   (Allocations on helper threads, such as the JPEG decoder's, are not flagged; the live
//!   cap below still holds for them.)
//! - `max_live`: an allocation that would take the bytes live in the process over this
//!   returns null; the standard library then prints `memory allocation of N bytes failed` and
//!   aborts, before the machine starts swapping. (libFuzzer's `-malloc_limit_mb` and
//!   `-rss_limit_mb` do the same for long campaigns.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

thread_local! {
    /// The largest allocation over `max_one` this thread made since it was last taken.
    static OVERSIZED: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator with a flag for allocations over one size and a cap on bytes live.
#[derive(Debug)]
pub struct CappedAlloc {
    max_one: usize,
    max_live: usize,
    live: AtomicUsize,
    peak: AtomicUsize,
}

impl CappedAlloc {
    /// An allocator flagging one allocation over `max_one` bytes and refusing more than
    /// `max_live` bytes live.
    pub const fn new(max_one: usize, max_live: usize) -> CappedAlloc {
        CappedAlloc {
            max_one,
            max_live,
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// The size over which one allocation is flagged.
    pub fn max_one(&self) -> usize {
        self.max_one
    }

    /// Bytes allocated and not yet freed.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// The most bytes that were live at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// The largest allocation over `max_one` the calling thread made since the last call, if
    /// any; clears the record.
    pub fn take_oversized(&self) -> Option<usize> {
        let size = OVERSIZED.try_with(|o| o.replace(0)).unwrap_or(0);
        (size > 0).then_some(size)
    }

    /// Counts `size` more bytes as live, or refuses them.
    fn take(&self, size: usize) -> bool {
        let before = self.live.fetch_add(size, Ordering::Relaxed);
        let now = before.saturating_add(size);
        if now > self.max_live {
            self.live.fetch_sub(size, Ordering::Relaxed);
            return false;
        }
        self.peak.fetch_max(now, Ordering::Relaxed);
        true
    }

    fn give(&self, size: usize) {
        self.live.fetch_sub(size, Ordering::Relaxed);
    }

    fn note(&self, size: usize) {
        if size > self.max_one {
            // A const-initialised `Cell` has no destructor: this never allocates.
            let _ = OVERSIZED.try_with(|o| o.set(o.get().max(size)));
        }
    }
}

// SAFETY: every call is forwarded to `System` with the caller's layout; the counters only
// decide whether to forward an allocation at all, and a refusal returns null as allowed.
unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.note(layout.size());
        if !self.take(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded with the caller's layout, which meets `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            self.give(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.note(layout.size());
        if !self.take(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as in `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            self.give(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (through this allocator).
        unsafe { System.dealloc(ptr, layout) };
        self.give(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        self.note(new_size);
        if new_size > old && !self.take(new_size - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` was allocated by `System` with `layout`; `new_size` is non-zero as
        // the caller guarantees.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            if new_size > old {
                self.give(new_size - old);
            }
        } else if new_size < old {
            self.give(old - new_size);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caps_flag_refuse_and_count() {
        let a = CappedAlloc::new(100, 150);
        assert!(a.take(100));
        a.note(100);
        assert_eq!(a.take_oversized(), None);
        assert!(!a.take(60), "over the live cap");
        a.note(120);
        a.note(101);
        assert_eq!(a.take_oversized(), Some(120));
        assert_eq!(a.take_oversized(), None);
        assert!(a.take(50));
        assert_eq!(a.live(), 150);
        a.give(150);
        assert_eq!(a.live(), 0);
        assert_eq!(a.peak(), 150);
    }
}
