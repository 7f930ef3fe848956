//! The Rust side of the boundary benchmark: the same work the Kotlin benchmark
//! (android/xiangying/src/test/kotlin/cn/xiangying/BoundaryBench.kt) does through the
//! generated bindings, done here through `XiangyingDevice` in Rust with no FFI, so the
//! difference is the cost of crossing the boundary.
//!
//! `cargo bench -p xiangying-ffi --bench boundary`. Prints:
//! - report: 5,000 reports by a grid worker, throughput and latency p50/p99 (dominated by
//!   the fsync of each commit, which varies on a shared disk);
//! - me(): the smallest call (the per-call floor), 20,000 times;
//! - inbox(50): 50 summaries out of a 5,200-case store, 1,000 times (records crossing);
//! - bytes: a case document of about 300 KB, `export_case` (bytes out) and `apply_remote` of
//!   the same bytes on a second store (bytes in; the changes are known, so the store does
//!   not grow), each 100 times;
//! - a photo passed as bytes: `report_with_photos` with one ~3 MB, 12 MP JPEG (made here and
//!   written to `target/boundary-photo.jpg` for the Kotlin side to read), 20 times, through
//!   the async FFI method and straight through the core, to compare with Kotlin.
//!
//! `cargo bench -p xiangying-ffi --bench boundary -- photo` runs the photo part only.
//!
//! `cargo bench -p xiangying-ffi --bench boundary -- patrol` measures the patrol calls instead
//! (what decides which are blocking, decision 0005): `record_track` of batches of 12 fixes,
//! `patrol(id)` of a two-hour patrol (1,440 fixes, whole track out), `patrols(50)`, and the
//! async `weekly_accompaniments` over 30 such patrols.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use xiangying_core::org::sample;
use xiangying_ffi::{
    CameraPhoto, Datum, GeoPoint, NewReport, PatrolPlace, TrackPoint, XiangyingDevice,
};

fn device(dir: &std::path::Path, person: &str) -> Arc<XiangyingDevice> {
    let d = XiangyingDevice::open(dir.display().to_string()).expect("open");
    d.install_org(
        sample::roster_json().expect("roster"),
        sample::catalogue_json().expect("catalogue"),
    )
    .expect("install");
    d.set_person(person.into()).expect("person");
    d
}

fn report(i: usize) -> NewReport {
    NewReport {
        category: if i.is_multiple_of(2) {
            sample::LITTER.into()
        } else {
            sample::MANHOLE.into()
        },
        location: Some(GeoPoint {
            lon: sample::IN_G1.lon,
            lat: sample::IN_G1.lat,
            datum: Datum::Wgs84,
        }),
        description: format!("第{i}号问题：井盖破损，需要更换"),
        grid: None,
        segment: None,
    }
}

/// Incompressible note text (a simple LCG over letters), so the document is really ~300 KB.
pub fn noise(seed: u64, len: usize) -> String {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (b'a' + ((x >> 33) % 26) as u8) as char
        })
        .collect()
}

fn stats(name: &str, mut lat: Vec<Duration>) {
    let n = lat.len();
    let total: Duration = lat.iter().sum();
    lat.sort();
    println!(
        "{name} x{n}: {:.0}/s, mean {:?}, p50 {:?}, p99 {:?}",
        n as f64 / total.as_secs_f64(),
        total / n as u32,
        lat[n / 2],
        lat[n * 99 / 100]
    );
}

/// A 4000 × 3000 JPEG of about 3 MB: smooth gradients with fine noise, as a phone photo of a
/// street is neither flat nor pure noise.
pub fn big_jpeg() -> Vec<u8> {
    let (w, h) = (4000u32, 3000u32);
    let mut x: u64 = 42;
    let img = image::RgbImage::from_fn(w, h, |i, j| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let n = (x >> 60) as u8;
        image::Rgb([
            ((i * 255 / w) as u8).wrapping_add(n),
            ((j * 255 / h) as u8).wrapping_add(n / 2),
            (((i + j) / 30) as u8).wrapping_add(n),
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .expect("encode");
    out.into_inner()
}

/// A minimal executor for the async FFI methods (they run on their own thread and wake us).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

fn photo_bench() {
    let photo = big_jpeg();
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/boundary-photo.jpg");
    std::fs::write(&path, &photo).expect("write the photo for the Kotlin side");
    println!(
        "photo: {} bytes, 4000x3000, {}",
        photo.len(),
        path.display()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let d = device(dir.path(), "gw1");
    for i in 0..3 {
        block_on(d.report_with_photos(
            report(i),
            vec![CameraPhoto {
                bytes: photo.clone(),
                capture: None,
            }],
        ))
        .expect("warm-up");
    }
    stats(
        "rust report_with_photos 3MB (async FFI method)",
        (0..20)
            .map(|i| {
                let bytes = photo.clone();
                let t = Instant::now();
                black_box(
                    block_on(d.report_with_photos(
                        report(i),
                        vec![CameraPhoto {
                            bytes,
                            capture: None,
                        }],
                    ))
                    .expect("report"),
                );
                t.elapsed()
            })
            .collect(),
    );
    stats(
        "rust report_with_photos 3MB (core, no FFI layer)",
        (0..20)
            .map(|i| {
                let r = xiangying_core::NewReport {
                    category: sample::LITTER.into(),
                    location: sample::IN_G1,
                    grid: None,
                    segment: None,
                    description: format!("第{i}号"),
                };
                let t = Instant::now();
                black_box(d.core().report_with_photos(&r, &[&photo]).expect("report"));
                t.elapsed()
            })
            .collect(),
    );
}

/// 30 two-hour patrols of 1,440 fixes each by one grid worker, recorded in batches of 12.
fn patrol_bench() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = device(dir.path(), "gw1");
    let mut batches = Vec::new();
    let mut last = String::new();
    for _ in 0..30 {
        let id = d
            .start_patrol(PatrolPlace::Grid { id: "g1".into() })
            .expect("start");
        let start = d.core().now() + 1;
        let fixes: Vec<TrackPoint> = (0..1_440)
            .map(|i| TrackPoint {
                at_ms: start + i as i64 * 5_000,
                lon: 0.05 + 0.00003 * (i as f64 * 0.37).sin(),
                lat: 0.02 + 0.00004 * i as f64,
                accuracy_m: 5.0,
                datum: Datum::Wgs84,
            })
            .collect();
        d.add_companion(id.clone(), "official".into())
            .expect("companion");
        for b in fixes.chunks(12) {
            let t = Instant::now();
            black_box(d.record_track(id.clone(), b.to_vec()).expect("record"));
            batches.push(t.elapsed());
        }
        d.end_patrol(id.clone()).expect("end");
        last = id;
    }
    stats("rust record_track(12 fixes)", batches);
    stats(
        "rust patrol(id) of 1,440 fixes",
        (0..100)
            .map(|_| {
                let t = Instant::now();
                black_box(d.patrol(last.clone()).expect("patrol"));
                t.elapsed()
            })
            .collect(),
    );
    stats(
        "rust patrols(50) of 30",
        (0..1_000)
            .map(|_| {
                let t = Instant::now();
                black_box(d.patrols(50).expect("patrols"));
                t.elapsed()
            })
            .collect(),
    );
    stats(
        "rust weekly_accompaniments over 30 patrols (async)",
        (0..20)
            .map(|_| {
                let t = Instant::now();
                black_box(block_on(d.weekly_accompaniments(None)).expect("weekly"));
                t.elapsed()
            })
            .collect(),
    );
}

fn main() {
    if std::env::args().any(|a| a == "photo") {
        return photo_bench();
    }
    if std::env::args().any(|a| a == "patrol") {
        return patrol_bench();
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = device(dir.path(), "gw1");
    for i in 0..200 {
        d.report(report(i)).expect("warm-up");
    }
    let lat: Vec<Duration> = (0..5_000)
        .map(|i| {
            let t = Instant::now();
            black_box(d.report(report(i)).expect("report"));
            t.elapsed()
        })
        .collect();
    stats("rust report", lat);
    stats(
        "rust me() (call floor)",
        (0..20_000)
            .map(|_| {
                let t = Instant::now();
                black_box(d.me());
                t.elapsed()
            })
            .collect(),
    );
    stats(
        "rust inbox(50) of 5200",
        (0..1_000)
            .map(|_| {
                let t = Instant::now();
                black_box(d.inbox(50).expect("inbox"));
                t.elapsed()
            })
            .collect(),
    );

    let id = d.report(report(0)).expect("report");
    let mut i = 0;
    while d.export_case(id.clone()).expect("export").len() < 300_000 {
        d.note(id.clone(), noise(i, 4_000)).expect("note");
        i += 1;
    }
    let bytes = d.export_case(id.clone()).expect("export");
    println!("document: {} bytes, {i} notes", bytes.len());
    let lat: Vec<Duration> = (0..100)
        .map(|_| {
            let t = Instant::now();
            black_box(d.export_case(id.clone()).expect("export"));
            t.elapsed()
        })
        .collect();
    stats("rust export_case 300KB", lat);

    let other = tempfile::tempdir().expect("tempdir");
    let o = device(other.path(), "cc1");
    o.apply_remote(id.clone(), bytes.clone())
        .expect("first apply");
    let lat: Vec<Duration> = (0..100)
        .map(|_| {
            let t = Instant::now();
            o.apply_remote(id.clone(), bytes.clone()).expect("apply");
            t.elapsed()
        })
        .collect();
    stats("rust apply_remote 300KB (known)", lat);
}
