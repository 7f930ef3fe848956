//! A device process killed (SIGKILL) at random moments during sync, many times, loses nothing
//! and duplicates nothing: outbox entries go only once acknowledged, the cursor only after the
//! feed is applied, photo uploads resume where the server stands.
//!
//! The syncing process is this test binary again, running the ignored `sync_worker` test with
//! `XY_SYNC_DEVICE` naming the device folder.

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use xiangying_core::org::sample;
use xiangying_core::{Device, NewReport};
use xiangying_tests::world::{Ledger, check, tiny_photo};
use xiangying_tests::{Field, sample_org};

const ENV: &str = "XY_SYNC_DEVICE";

fn report(i: usize) -> NewReport {
    NewReport {
        category: sample::LITTER.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: format!("第{i}处"),
    }
}

/// Syncs and raises reports until killed.
#[test]
#[ignore = "the sync crash test's worker process; started by that test"]
fn sync_worker() {
    let dir = std::env::var(ENV).expect("XY_SYNC_DEVICE names the device folder");
    let d = Device::open(std::path::Path::new(&dir)).unwrap();
    for i in 0.. {
        let photo = tiny_photo(10_000 + i);
        d.report_with_photos(&report(i), &[&photo]).unwrap();
        let _ = d.sync_now(&|_| {});
    }
}

#[test]
fn a_device_killed_during_sync_loses_and_duplicates_nothing() {
    let mut f = Field::new(sample_org());
    f.enrol("gw1");
    f.enrol("cc1");
    for i in 0..30 {
        let photo = tiny_photo(i);
        f.dev("gw1")
            .report_with_photos(&report(i), &[&photo])
            .unwrap();
    }
    let dir = f.dirs["gw1"].clone();
    let exe = std::env::current_exe().unwrap();
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    for _ in 0..12 {
        let mut child = Command::new(&exe)
            .args(["--exact", "sync_worker", "--ignored", "--nocapture"])
            .env(ENV, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(50 + seed % 400));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    // The device, opened again after the last kill, finishes the job.
    let d = Device::open(&dir).unwrap();
    d.sync_now(&|_| {}).unwrap();
    let mut ledger = Ledger::default();
    for c in d.all_cases(u32::MAX).unwrap() {
        let v = d.case(&c.id).unwrap();
        if v.facts.reporter == "gw1" {
            ledger.events.insert(
                c.id.clone(),
                v.state.history.iter().map(|e| e.event.id.clone()).collect(),
            );
            ledger.photos.extend(
                v.photos
                    .iter()
                    .flat_map(|p| [p.hash.clone(), p.thumb.clone()]),
            );
        }
    }
    assert!(
        ledger.events.len() > 30,
        "the workers made reports between kills"
    );
    drop(d);
    f.settle();
    check(&f, &ledger);
}
