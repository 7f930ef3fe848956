//! A global allocator that refuses allocations over a cap, so that unbounded allocation by
//! a parser shows as a failure.
//!
//! Install it in a fuzz test binary with `#[global_allocator]`. An allocation larger than
//! `max_one` bytes, or one that would take the bytes live in the process over `max_live`,
//! returns null; the standard library then prints `memory allocation of N bytes failed` and
//! aborts the process, so the test run fails and names the size. (libFuzzer's own
//! `-malloc_limit_mb` and `-rss_limit_mb` do the same for long campaigns.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator with a cap on one allocation and on the bytes live at once.
#[derive(Debug)]
pub struct CappedAlloc {
    max_one: usize,
    max_live: usize,
    live: AtomicUsize,
    peak: AtomicUsize,
}

impl CappedAlloc {
    /// An allocator refusing one allocation over `max_one` bytes, or `max_live` bytes live.
    pub const fn new(max_one: usize, max_live: usize) -> CappedAlloc {
        CappedAlloc {
            max_one,
            max_live,
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Bytes allocated and not yet freed.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// The most bytes that were live at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Counts `size` more bytes as live, or refuses them.
    fn take(&self, size: usize) -> bool {
        if size > self.max_one {
            return false;
        }
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
}

// SAFETY: every call is forwarded to `System` with the caller's layout; the counters only
// decide whether to forward an allocation at all, and a refusal returns null as allowed.
unsafe impl GlobalAlloc for CappedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
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
        if new_size > self.max_one || (new_size > old && !self.take(new_size - old)) {
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
    fn the_caps_refuse_and_the_counts_follow() {
        let a = CappedAlloc::new(100, 150);
        assert!(!a.take(101));
        assert!(a.take(100));
        assert!(!a.take(60));
        assert!(a.take(50));
        assert_eq!(a.live(), 150);
        a.give(150);
        assert_eq!(a.live(), 0);
        assert_eq!(a.peak(), 150);
    }
}
