//! Benchmark: a whole street's end-of-day sync on one machine, over loopback through a
//! byte-counting proxy. 150 devices of the Zhenxing roster (64 grid workers, 76 street chiefs,
//! 10 community chiefs) each raise 30 reports with a photo offline (street chiefs forward
//! every other one to the grid worker); then every device syncs (8 at a time), then every
//! device syncs again to pull what the others pushed. Reported: wall time of the sync rounds,
//! sync body bytes against the automerge bytes they carry, TCP bytes, photo bytes, and a sync
//! with nothing new.
//!
//! `cargo bench -p xiangying-tests --bench street_sync` (set `XY_BENCH_RUNS`, default 3; the
//! medians are printed; `XY_BENCH_PHOTOS=0` leaves the photos out).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Instant;
use xiangying_core::org::{Role, Scope, polygon_centroid};
use xiangying_core::{Device, NewReport, SyncReport};
use xiangying_demo::synthetic_photo;
use xiangying_tests::proxy::Proxy;
use xiangying_tests::{Field, zhenxing_org};

const REPORTS: usize = 30;

struct Run {
    setup_s: f64,
    sync_s: f64,
    body: u64,
    changes: u64,
    tcp: u64,
    photos: u64,
    photo_bytes: u64,
    quiet_trips: u32,
    quiet_tcp: u64,
    cases: usize,
}

fn people(f: &Field) -> Vec<String> {
    let roster = f.dev_roster();
    let mut out: Vec<String> = roster
        .people
        .iter()
        .filter(|p| matches!(p.role, Role::GridWorker) || p.role.is_street_chief())
        .map(|p| p.id.clone())
        .collect();
    out.extend(
        roster
            .people
            .iter()
            .filter(|p| p.role == Role::CommunityChief)
            .take(10)
            .map(|p| p.id.clone()),
    );
    out
}

fn each(devices: &BTreeMap<String, Device>, f: &(dyn Fn(&Device) + Sync)) {
    let names: Vec<&String> = devices.keys().collect();
    let next = Mutex::new(0usize);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        *n += 1;
                        *n - 1
                    };
                    let Some(name) = names.get(i) else { break };
                    f(&devices[*name]);
                }
            });
        }
    });
}

fn run() -> Run {
    let t0 = Instant::now();
    let mut f = Field::new(zhenxing_org());
    let proxy = Proxy::start(f.server.addr, 0.0, 1, 1);
    let url = proxy.url();
    let cast = people(&f);
    assert_eq!(cast.len(), 150);
    for p in &cast {
        f.enrol_via(p, &url);
    }
    let roster = f.dev_roster();
    let category = "010101".to_string();
    // The day's work, offline.
    each(&f.devices, &|d| {
        let me = d.me().unwrap();
        let at = match &me.scope {
            Scope::Segment(s) => {
                let seg = roster.segment(s).unwrap();
                let (a, b) = (seg.polyline[0], seg.polyline[1]);
                xiangying_core::org::Point {
                    lon: (a.lon + b.lon) / 2.0,
                    lat: (a.lat + b.lat) / 2.0,
                }
            }
            Scope::Grid(g) => polygon_centroid(&roster.grid(g).unwrap().polygon).unwrap(),
            Scope::Community(c) => {
                let g = roster.grids.iter().find(|g| g.community == *c).unwrap();
                polygon_centroid(&g.polygon).unwrap()
            }
            _ => unreachable!(),
        };
        let seed = me
            .person
            .bytes()
            .fold(0u32, |a, b| a.wrapping_mul(31) + u32::from(b));
        for i in 0..REPORTS {
            let photo = synthetic_photo(seed.wrapping_add(i as u32));
            let photos: Vec<&[u8]> = if with_photos() { vec![&photo] } else { vec![] };
            let id = d
                .report_with_photos(
                    &NewReport {
                        category: category.clone(),
                        location: at,
                        grid: None,
                        segment: None,
                        description: format!("{} 第{}项", me.person, i + 1),
                    },
                    &photos,
                )
                .unwrap();
            if me.role.is_street_chief() && i % 2 == 1 {
                d.forward(&id, "请处理").unwrap();
            }
        }
    });
    let setup_s = t0.elapsed().as_secs_f64();
    let totals = Mutex::new(SyncReport::default());
    let tcp0 = proxy.stats.up.load(Ordering::Relaxed) + proxy.stats.down.load(Ordering::Relaxed);
    let t1 = Instant::now();
    for _ in 0..2 {
        each(&f.devices, &|d| {
            let r = d.sync_now(&|_| {}).unwrap();
            let mut t = totals.lock().unwrap();
            t.round_trips += r.round_trips;
            t.bytes_sent += r.bytes_sent;
            t.bytes_received += r.bytes_received;
            t.change_bytes_sent += r.change_bytes_sent;
            t.change_bytes_received += r.change_bytes_received;
            t.photos_uploaded += r.photos_uploaded;
            t.photo_bytes_sent += r.photo_bytes_sent;
        });
    }
    let sync_s = t1.elapsed().as_secs_f64();
    let tcp =
        proxy.stats.up.load(Ordering::Relaxed) + proxy.stats.down.load(Ordering::Relaxed) - tcp0;
    let t = totals.into_inner().unwrap();
    // A sync with nothing new.
    let d = f.dev(&cast[0]);
    let q0 = proxy.stats.up.load(Ordering::Relaxed) + proxy.stats.down.load(Ordering::Relaxed);
    let quiet = d.sync_now(&|_| {}).unwrap();
    let quiet_tcp =
        proxy.stats.up.load(Ordering::Relaxed) + proxy.stats.down.load(Ordering::Relaxed) - q0;
    let cases = xiangying_tests::server_counts(&f).0 as usize;
    Run {
        setup_s,
        sync_s,
        body: t.bytes_sent + t.bytes_received,
        changes: t.change_bytes_sent + t.change_bytes_received,
        tcp,
        photos: t.photos_uploaded,
        photo_bytes: t.photo_bytes_sent,
        quiet_trips: quiet.round_trips,
        quiet_tcp,
        cases,
    }
}

/// `XY_BENCH_PHOTOS=0` leaves the photos out, to see what the documents alone cost.
fn with_photos() -> bool {
    std::env::var("XY_BENCH_PHOTOS")
        .map(|v| v != "0")
        .unwrap_or(true)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::var("XY_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut all = Vec::new();
    for i in 0..runs {
        let r = run();
        println!(
            "run {i}: {} cases; set-up {:.1} s; sync rounds {:.2} s; sync bodies {} B for {} automerge B ({:.3}x); TCP {} B incl. photos; {} photos, {} B; nothing new: {} round trip(s), {} TCP B",
            r.cases,
            r.setup_s,
            r.sync_s,
            r.body,
            r.changes,
            r.body as f64 / r.changes as f64,
            r.tcp,
            r.photos,
            r.photo_bytes,
            r.quiet_trips,
            r.quiet_tcp
        );
        all.push(r);
    }
    println!(
        "median of {runs}: sync rounds {:.2} s; body/automerge {:.3}x; nothing-new sync {} TCP B",
        median(all.iter().map(|r| r.sync_s).collect()),
        median(
            all.iter()
                .map(|r| r.body as f64 / r.changes as f64)
                .collect()
        ),
        median(all.iter().map(|r| r.quiet_tcp as f64).collect())
    );
}
