//! How many requests each device may have in flight at once.
//!
//! tower's concurrency limit is one pool for everybody; one device that opens many parallel
//! syncs would take the whole pool. This keeps a count per device id, taken when a request is
//! authenticated and given back when its guard drops (the response is sent or the request is
//! abandoned). An entry lives only while the device has a request in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Per-device request counts.
#[derive(Debug)]
pub struct DeviceSlots {
    max: usize,
    busy: Arc<Mutex<HashMap<String, usize>>>,
}

/// A device's slot, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    device: String,
    busy: Arc<Mutex<HashMap<String, usize>>>,
}

impl DeviceSlots {
    /// At most `max` requests in flight per device.
    pub fn new(max: usize) -> DeviceSlots {
        DeviceSlots {
            max,
            busy: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A slot for `device`, or `None` when it already has `max` requests in flight.
    pub fn take(&self, device: &str) -> Option<Slot> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        let n = busy.entry(device.to_string()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            device: device.to_string(),
            busy: self.busy.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = busy.get_mut(&self.device) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.remove(&self.device);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_device_and_given_back() {
        let slots = DeviceSlots::new(2);
        let a1 = slots.take("a").unwrap();
        let _a2 = slots.take("a").unwrap();
        assert!(slots.take("a").is_none());
        let _b = slots.take("b").unwrap();
        drop(a1);
        let _a3 = slots.take("a").unwrap();
        assert!(slots.take("a").is_none());
        drop(_a3);
        drop(_a2);
        assert!(slots.busy.lock().unwrap().get("a").is_none());
    }
}
