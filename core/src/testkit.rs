//! Test helpers: a world of devices on the sample street, one per person, with a shared clock
//! the test moves, and a way to exchange everything between them as a sync would.

use crate::org::sample;
use crate::{Clock, Device};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// 2026-11-29 08:00 UTC in ms.
pub const T0: i64 = 1_795_939_200_000;
/// One hour in ms.
pub const HOUR: i64 = 3_600_000;

/// Devices keyed by person id, each in its own temp folder.
pub struct World {
    pub now: Arc<AtomicI64>,
    pub devices: BTreeMap<String, Device>,
    _dirs: Vec<tempfile::TempDir>,
}

impl World {
    pub fn new(people: &[&str]) -> World {
        let now = Arc::new(AtomicI64::new(T0));
        let mut devices = BTreeMap::new();
        let mut dirs = Vec::new();
        for p in people {
            let dir = tempfile::tempdir().unwrap();
            let n = now.clone();
            let clock: Clock = Arc::new(move || n.load(Ordering::SeqCst));
            let d = Device::open_with_clock(dir.path(), clock).unwrap();
            d.install_org(
                &sample::roster_json().unwrap(),
                &sample::catalogue_json().unwrap(),
            )
            .unwrap();
            d.set_person(p).unwrap();
            devices.insert(p.to_string(), d);
            dirs.push(dir);
        }
        World {
            now,
            devices,
            _dirs: dirs,
        }
    }

    pub fn dev(&self, person: &str) -> &Device {
        &self.devices[person]
    }

    pub fn advance(&self, ms: i64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    /// Every device gets every case and patrol every other device holds.
    pub fn sync_all(&self) {
        for (from, a) in &self.devices {
            let cases = a.all_cases(u32::MAX).unwrap().into_iter().map(|c| c.id);
            let patrols = a.patrols(u32::MAX).unwrap().into_iter().map(|p| p.id);
            for id in cases.chain(patrols) {
                let bytes = a.export_case(&id).unwrap();
                for (to, b) in &self.devices {
                    if to != from {
                        b.apply_remote(&id, &bytes).unwrap();
                    }
                }
            }
        }
    }
}
