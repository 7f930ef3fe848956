//! One grid worker's phone uploading a patrol's photos over a weak link (decision 0061): the
//! real server (SQLite) behind a [`SlowLink`] with a phone network's latency and rate, the
//! phone's real store and sync. Each run times the sync's photo phase (from the moment it
//! reports `UploadingPhotos` to its end) with the server allowing one request a device at a
//! time (`device_concurrency` 1: the phone sends one upload at a time, as before decision
//! 0061) and with the shipped 2 (two at once), run in turn on a fresh server and phone each.
//!
//! ```sh
//! cargo bench -p xiangying-tests --bench weak_link_upload
//! # knobs: XY_WEAK_RUNS (3 a variant and link), XY_WEAK_PHOTOS (10 reports of one photo each)
//! ```

use std::time::{Duration, Instant};
use xiangying_core::{NewReport, SyncPhase};
use xiangying_server::state::Limits;
use xiangying_tests::slow_link::{Shape, SlowLink};
use xiangying_tests::street_day::PhotoMaker;
use xiangying_tests::{Field, sample_org};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn report() -> NewReport {
    NewReport {
        category: xiangying_core::org::sample::LITTER.into(),
        location: xiangying_core::org::sample::IN_G1,
        grid: None,
        segment: None,
        description: "路边堆放垃圾".into(),
    }
}

/// One run: the seconds of the photo phase, and the files and bytes it uploaded.
fn run(at_once: usize, photos: usize, shape: Shape) -> (f64, u64, u64) {
    let mut f = Field::with_backend(
        sample_org(),
        None,
        Limits {
            device_concurrency: at_once,
            ..Limits::default()
        },
    );
    let link = SlowLink::start(f.server.addr, shape);
    f.enrol_via("gw1", &link.url());
    let d = f.dev("gw1");
    let maker = PhotoMaker::new(250_000);
    for k in 0..photos {
        d.report_with_processed_photos_for_tests(&report(), &[maker.photo(1, k, 0)])
            .expect("report");
    }
    let started = std::cell::Cell::new(None::<Instant>);
    let done = d
        .sync_now(&|r| {
            if r.phase == Some(SyncPhase::UploadingPhotos) && started.get().is_none() {
                started.set(Some(Instant::now()));
            }
        })
        .expect("sync");
    let wall = started.get().map_or(0.0, |t| t.elapsed().as_secs_f64());
    assert_eq!(d.uploads_len().expect("queue"), 0, "every file uploaded");
    (wall, done.photos_uploaded, done.photo_bytes_sent)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let runs = env_or("XY_WEAK_RUNS", 3);
    let photos = env_or("XY_WEAK_PHOTOS", 10);
    let links = [
        (
            "4G, weak (100 ms each way, 8 Mbit/s)",
            Shape {
                latency: Duration::from_millis(100),
                bytes_per_second: 1_000_000,
            },
        ),
        (
            "3G (150 ms each way, 2 Mbit/s)",
            Shape {
                latency: Duration::from_millis(150),
                bytes_per_second: 250_000,
            },
        ),
    ];
    for (name, shape) in links {
        let (mut one, mut two) = (Vec::new(), Vec::new());
        let mut files = (0, 0);
        for _ in 0..runs {
            let (w, n, b) = run(1, photos, shape);
            one.push(w);
            files = (n, b);
            let (w, n, _) = run(2, photos, shape);
            assert_eq!(n, files.0);
            two.push(w);
        }
        let (m1, m2) = (median(one.clone()), median(two.clone()));
        println!(
            "{name}: {} files, {} B; one at a time {:.2} s (runs {:?}); two at once {:.2} s \
             (runs {:?}); {:.2}x",
            files.0,
            files.1,
            m1,
            one.iter()
                .map(|v| (v * 100.0).round() / 100.0)
                .collect::<Vec<_>>(),
            m2,
            two.iter()
                .map(|v| (v * 100.0).round() / 100.0)
                .collect::<Vec<_>>(),
            m1 / m2
        );
    }
}
