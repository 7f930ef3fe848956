//! Benchmark: how fast work reaches a person (issue 14). A street chief forwards a case to the
//! grid worker of its grid; measured: the time from the forward on the chief's device to the
//! grid worker's device store holding it (status forwarded). Every person of the sample street
//! has a device with its sync engine running in the foreground, waiting on the server's
//! wake-up channel (decision 0029); nobody calls `sync_now`. Each forward follows its report by
//! a pause longer than the engine's write debounce, as a person's second action does.
//!
//! `cargo bench -p xiangying-tests --bench live_latency` (`XY_BENCH_FORWARDS`, default 200;
//! the median, p90, p99 and the worst are printed).

use std::sync::Arc;
use std::time::{Duration, Instant};
use xiangying_core::case::Status;
use xiangying_core::org::sample;
use xiangying_core::{Device, EngineConfig, NewReport, SyncEngine};
use xiangying_tests::world::PEOPLE;
use xiangying_tests::{Field, sample_org};

fn main() {
    let forwards: usize = std::env::var("XY_BENCH_FORWARDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let mut f = Field::new(sample_org());
    let config = EngineConfig {
        debounce: Duration::from_millis(200),
        ..EngineConfig::default()
    };
    let mut devices: Vec<(&str, Arc<Device>)> = Vec::new();
    let mut engines = Vec::new();
    for p in PEOPLE {
        f.enrol(p);
        let d = Arc::new(f.devices.remove(p).expect("enrolled"));
        let engine = SyncEngine::start(d.clone(), config, Box::new(|_| {})).expect("engine");
        engine.set_foreground(true);
        engines.push(engine);
        devices.push((p, d));
    }
    let dev = |p: &str| {
        devices
            .iter()
            .find(|(q, _)| *q == p)
            .map(|(_, d)| d.clone())
    };
    let (chief, worker) = (dev("psc1").expect("psc1"), dev("gw1").expect("gw1"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while f.server.state.wake.waiting() < PEOPLE.len() {
        assert!(Instant::now() < deadline, "the devices never all waited");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut ms = Vec::with_capacity(forwards);
    for i in 0..forwards {
        let id = chief
            .report(&NewReport {
                category: sample::LITTER.into(),
                location: sample::IN_G1,
                grid: None,
                segment: None,
                description: format!("report {i}"),
            })
            .expect("report");
        std::thread::sleep(Duration::from_millis(300));
        chief.forward(&id, "请处理").expect("forward");
        let t0 = Instant::now();
        loop {
            let got = worker
                .case(&id)
                .is_ok_and(|c| c.state.status == Status::Forwarded);
            if got {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "forward {i} never arrived"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    for e in engines {
        e.stop();
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "live_latency: {} forwards to the grid worker's store over {} waiting devices: \
         p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, worst {:.0} ms",
        ms.len(),
        PEOPLE.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        ms[ms.len() - 1]
    );
}
