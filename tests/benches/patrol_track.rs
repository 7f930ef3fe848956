//! Benchmark: a two-hour patrol with a fix every 5 s (1,440 fixes, delivered in batches of 12
//! as a phone's location service does every minute), recorded on a real device store, ended
//! and synced to a real server on loopback. Reported: the bytes of the patrol in the device's
//! store (document snapshot + incremental changes, and the outbox), the automerge change bytes
//! pushed and the whole sync request bodies, the server's stored snapshot, and the time to
//! record one batch (median and p99 over all batches of all runs).
//!
//! `cargo bench -p xiangying-tests --bench patrol_track` (`XY_BENCH_RUNS`, default 5; medians
//! are printed).

use std::time::Instant;
use xiangying_core::org::sample;
use xiangying_core::patrol::{PatrolPlace, TrackPoint};
use xiangying_tests::{Field, sample_org};

const FIXES: usize = 1_440;
const BATCH: usize = 12;

struct Run {
    doc_bytes: u64,
    outbox_bytes: u64,
    change_bytes: u64,
    body_bytes: u64,
    server_bytes: u64,
    batch_us: Vec<f64>,
}

fn fixes(start: i64) -> Vec<TrackPoint> {
    // A walk up and down the streets of a grid at about 1.4 m/s, with GPS jitter.
    let mut lon = sample::IN_G1.lon;
    let mut lat = sample::IN_G1.lat;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut noise = move || {
        // GPS noise of up to about ±3 m (xorshift, deterministic).
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        ((seed % 55) as f64 - 27.0) * 0.000_001
    };
    (0..FIXES)
        .map(|i| {
            let leg = (i / 60) % 4;
            let step = 0.000_063; // about 7 m in 5 s
            match leg {
                0 => lon += step,
                1 => lat += step,
                2 => lon -= step,
                _ => lat -= step,
            }
            TrackPoint {
                at: start + 1 + i as i64 * 5_000 + (i % 3) as i64 * 40,
                lon: lon + noise(),
                lat: lat + noise(),
                accuracy_m: 3.0 + (i % 9) as f64,
            }
        })
        .collect()
}

fn one_run() -> Run {
    let mut f = Field::new(sample_org());
    f.enrol("gw1");
    let d = f.dev("gw1");
    d.sync_now(&|_| {}).expect("first sync");
    let p = d
        .start_patrol(PatrolPlace::Grid("g1".into()))
        .expect("start");
    d.add_companion(&p, "official").expect("companion");
    let start = d.patrol(&p).expect("patrol").facts.started_at;
    let mut batch_us = Vec::new();
    for batch in fixes(start).chunks(BATCH) {
        let t = Instant::now();
        d.record_track(&p, batch).expect("record");
        batch_us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    d.end_patrol(&p).expect("end");
    let db = rusqlite::Connection::open(f.dirs["gw1"].join("xiangying.db")).expect("db");
    let q = |sql: &str| -> u64 {
        db.query_row(sql, [&p], |r| r.get::<_, i64>(0))
            .expect("query") as u64
    };
    let doc_bytes = q("SELECT length(snapshot) FROM docs WHERE case_id = ?1")
        + q("SELECT COALESCE(SUM(length(bytes)), 0) FROM doc_changes WHERE case_id = ?1");
    let outbox_bytes = q("SELECT COALESCE(SUM(length(bytes)), 0) FROM outbox WHERE case_id = ?1");
    let r = d.sync_now(&|_| {}).expect("sync");
    let state = f.state();
    let server_bytes = xiangying_server::storage::with_tx(state.storage.as_ref(), |tx| {
        Ok(tx
            .case(&p.as_str().into())?
            .map_or(0, |row| row.snapshot.len() as u64))
    })
    .expect("server row");
    Run {
        doc_bytes,
        outbox_bytes,
        change_bytes: r.change_bytes_sent,
        body_bytes: r.bytes_sent,
        server_bytes,
        batch_us,
    }
}

fn median<T: Copy + PartialOrd>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::var("XY_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let all: Vec<Run> = (0..runs).map(|_| one_run()).collect();
    let med = |f: &dyn Fn(&Run) -> u64| median(all.iter().map(f).collect::<Vec<_>>());
    let mut batches: Vec<f64> = all.iter().flat_map(|r| r.batch_us.clone()).collect();
    batches.sort_by(f64::total_cmp);
    let p99 = batches[(batches.len() * 99 / 100).min(batches.len() - 1)];
    println!("patrol track: {FIXES} fixes in batches of {BATCH}, {runs} runs (medians)");
    println!(
        "  device store, document     {:>7} bytes",
        med(&|r| r.doc_bytes)
    );
    println!(
        "  device store, outbox       {:>7} bytes",
        med(&|r| r.outbox_bytes)
    );
    println!(
        "  pushed automerge changes   {:>7} bytes",
        med(&|r| r.change_bytes)
    );
    println!(
        "  sync request bodies        {:>7} bytes",
        med(&|r| r.body_bytes)
    );
    println!(
        "  server snapshot            {:>7} bytes",
        med(&|r| r.server_bytes)
    );
    println!(
        "  record one batch           {:>7.0} µs median, {:.0} µs p99",
        median(batches.clone()),
        p99
    );
}
