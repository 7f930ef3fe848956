//! Benchmark: the reconnect storm after a server restart (issue 14, decisions 0028 and 0029).
//!
//! `XY_BENCH_DEVICES` devices (default 2,000: several devices each for the people of the
//! sample street who see a case in grid g1: `center`, `official`, `cc1`, `gw1`) run their sync
//! engines as shipped (`EngineConfig::default()`), in the foreground, waiting on the wake-up
//! channel. The server runs in a child process (this executable again, see
//! [`xiangying_tests::child_server`]) on SQLite, with `max_connections` set explicitly
//! (`XY_BENCH_MAX_CONNECTIONS`, default 2 per device + 500) and enrolment limits raised; every
//! device reaches it through one counting proxy ([`CountingProxy`]) in this process, which
//! stays up while the server restarts on the same port and counts requests per second and
//! every refusal (503 and 429) with or without `Retry-After`.
//!
//! A device holds about a dozen file descriptors (its store's files, its HTTP client's
//! runtime, its connections and the proxy's two ends of each), and a process may hold 20,000:
//! so the devices live in fleet processes of `XY_BENCH_FLEET_SIZE` (default 500), this
//! executable again with [`FLEET_ENV`], driven over their standard streams.
//!
//! Once every device has synced and the server says they all wait, the server is stopped
//! gracefully (as an operator's restart); while it is down, the street chief `psc1` reports a
//! case in g1 on a device of its own (no engine: it syncs by hand as soon as the server is back,
//! retrying every second). The server starts again on the same port (time 0; each fleet is told
//! at once and counts from when it hears). Measured from time 0: each device's first successful
//! sync, and the moment its store holds the case (its engine's listener looks after each
//! successful sync); p50, p90 and the worst; the time until every device holds it; requests
//! per second, and at the peak; refusals and whether each carried `Retry-After`. Devices still
//! without the case after `XY_BENCH_STORM_SECS` (default 300) are reported as stuck, with
//! their engines' states.
//!
//! `cargo bench -p xiangying-tests --bench reconnect_storm --no-run`, then run the printed
//! binary.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use xiangying_core::org::sample;
use xiangying_core::{Device, EngineConfig, EngineState, NewReport, SyncEngine};
use xiangying_server::state::Limits;
use xiangying_tests::child_server::{self, ChildServer};
use xiangying_tests::counting_proxy::CountingProxy;
use xiangying_tests::{env_or, sample_org};

/// The people who see a case reported in g1, whose devices wait.
const READERS: [&str; 4] = ["center", "official", "cc1", "gw1"];

/// The environment variable that makes this executable a fleet of devices: the path of its
/// plan (the server's URL, a folder, then one `<index> <code>` line per device).
const FLEET_ENV: &str = "XY_BENCH_FLEET";

fn main() {
    child_server::run_if_child();
    if let Ok(plan) = std::env::var(FLEET_ENV) {
        fleet_main(&plan);
        return;
    }
    storm();
}

/// When each device of a fleet did what, after time 0.
struct Marks {
    zero: OnceLock<Instant>,
    case: OnceLock<String>,
    first_sync: Vec<OnceLock<Instant>>,
    holds: Vec<OnceLock<Instant>>,
    held: AtomicU64,
}

/// A fleet process: enrols its devices, starts their engines, says `ready`, then answers
/// `zero <case id>`, `count`, `report` and `stop` on its standard input.
fn fleet_main(plan: &str) {
    let text = std::fs::read_to_string(plan).expect("fleet plan");
    let mut lines = text.lines();
    let url = lines.next().expect("url").to_string();
    let dir = std::path::PathBuf::from(lines.next().expect("dir"));
    let plan: Vec<(usize, String)> = lines
        .filter_map(|l| l.split_once(' '))
        .map(|(i, c)| (i.parse().expect("index"), c.to_string()))
        .collect();
    let n = plan.len();
    let devices: Vec<Arc<Device>> = plan
        .iter()
        .map(|(i, code)| {
            let d = Device::open(&dir.join(i.to_string())).expect("open device");
            d.enrol(&url, code, &format!("phone {i}"))
                .unwrap_or_else(|e| panic!("enrol {i}: {e}"));
            Arc::new(d)
        })
        .collect();
    let marks = Arc::new(Marks {
        zero: OnceLock::new(),
        case: OnceLock::new(),
        first_sync: (0..n).map(|_| OnceLock::new()).collect(),
        holds: (0..n).map(|_| OnceLock::new()).collect(),
        held: AtomicU64::new(0),
    });
    let engines: Vec<SyncEngine> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let (m, dev) = (marks.clone(), d.clone());
            let listener = Box::new(move |s: &xiangying_core::EngineStatus| {
                // Only a successful sync publishes `Idle`.
                if s.state != EngineState::Idle || m.zero.get().is_none() {
                    return;
                }
                m.first_sync[i].get_or_init(Instant::now);
                if m.holds[i].get().is_none()
                    && let Some(id) = m.case.get()
                    && dev.case(id).is_ok()
                    && m.holds[i].set(Instant::now()).is_ok()
                {
                    m.held.fetch_add(1, Ordering::SeqCst);
                }
            });
            let engine =
                SyncEngine::start(d.clone(), EngineConfig::default(), listener).expect("engine");
            engine.set_foreground(true);
            engine
        })
        .collect();
    while engines.iter().any(|e| e.status().last_success.is_none()) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut out = std::io::stdout();
    let say = |out: &mut std::io::Stdout, line: String| {
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    say(&mut out, format!("ready {n}"));
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace();
        match words.next() {
            Some("zero") => {
                let _ = marks.case.set(words.next().unwrap_or_default().to_string());
                let _ = marks.zero.set(Instant::now());
                say(&mut out, "ok".into());
            }
            Some("count") => say(
                &mut out,
                format!(
                    "count {} {}",
                    marks
                        .first_sync
                        .iter()
                        .filter(|m| m.get().is_some())
                        .count(),
                    marks.held.load(Ordering::SeqCst)
                ),
            ),
            Some("report") => {
                let zero = marks.zero.get().copied().unwrap_or_else(Instant::now);
                let secs = |m: &OnceLock<Instant>| {
                    m.get()
                        .map(|t| format!("{:.4}", t.duration_since(zero).as_secs_f64()))
                        .unwrap_or_else(|| "-".into())
                };
                for i in 0..n {
                    let state = if marks.holds[i].get().is_none() {
                        format!("{:?}", engines[i].status().state)
                    } else {
                        String::new()
                    };
                    say(
                        &mut out,
                        format!(
                            "device {} {} {} {state}",
                            plan[i].0,
                            secs(&marks.first_sync[i]),
                            secs(&marks.holds[i])
                        ),
                    );
                }
                say(&mut out, "end".into());
            }
            Some("stop") | None => break,
            Some(_) => {}
        }
    }
    for e in engines {
        e.stop();
    }
    say(&mut out, "stopped".into());
}

/// A fleet process seen from the bench.
struct Fleet {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Fleet {
    fn start(plan: &std::path::Path) -> Fleet {
        let mut child = Command::new(std::env::current_exe().expect("exe"))
            .env(FLEET_ENV, plan)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn fleet");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Fleet {
            child,
            stdin,
            stdout,
        }
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("from fleet");
        assert!(!line.is_empty(), "a fleet ended early");
        line.trim_end().to_string()
    }

    fn send(&mut self, command: &str) {
        writeln!(self.stdin, "{command}").expect("to fleet");
        self.stdin.flush().expect("flush");
    }

    fn ask(&mut self, command: &str) -> String {
        self.send(command);
        self.line()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "stop");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

fn quantiles(mut v: Vec<f64>) -> String {
    if v.is_empty() {
        return "none".into();
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    format!(
        "p50 {:.2} s, p90 {:.2} s, worst {:.2} s ({} devices)",
        at(0.5),
        at(0.9),
        v[v.len() - 1],
        v.len()
    )
}

fn storm() {
    let n = env_or("XY_BENCH_DEVICES", 2_000usize);
    let fleet_size = env_or("XY_BENCH_FLEET_SIZE", 500usize).max(1);
    let max_connections = env_or("XY_BENCH_MAX_CONNECTIONS", (2 * n + 500) as u64);
    let storm_limit = Duration::from_secs(env_or("XY_BENCH_STORM_SECS", 300u64));
    let shipped = Limits::default();
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("server");
    let storage = child_server::prepare_store(&data, &sample_org());
    let codes: Vec<String> = (0..n)
        .map(|i| {
            xiangying_server::admin::issue_code(storage.as_ref(), READERS[i % READERS.len()])
                .expect("code")
        })
        .collect();
    let writer_code = xiangying_server::admin::issue_code(storage.as_ref(), "psc1").expect("code");
    drop(storage);
    let addr = child_server::free_port();
    let limits = [
        ("max_connections", max_connections),
        ("enrol_client_per_minute", 1_000_000),
        ("enrol_overall_per_minute", 1_000_000),
    ];
    let server_config = child_server::write_config(root.path(), &data, addr, &limits);
    println!(
        "reconnect_storm: {n} devices in fleets of {fleet_size} (engine as shipped: {:?}, \
         foreground) of {READERS:?}; server limits {limits:?}, the rest as shipped (wait_secs {}, \
         max_inflight {}, device_concurrency {}, header_timeout_secs {})",
        EngineConfig::default(),
        shipped.wait_secs,
        shipped.max_inflight,
        shipped.device_concurrency,
        shipped.header_timeout_secs
    );
    let mut child = ChildServer::start(&server_config, &[]);
    let proxy = CountingProxy::start(addr);
    let url = proxy.url();

    let t = Instant::now();
    let mut fleets: Vec<Fleet> = (0..n)
        .step_by(fleet_size)
        .map(|start| {
            let mut plan = format!("{url}\n{}\n", root.path().join("devices").display());
            for (i, code) in codes.iter().enumerate().skip(start).take(fleet_size) {
                plan.push_str(&format!("{i} {code}\n"));
            }
            let path = root.path().join(format!("fleet-{start}.txt"));
            std::fs::write(&path, plan).expect("write plan");
            Fleet::start(&path)
        })
        .collect();
    for f in &mut fleets {
        let ready = f.line();
        assert!(ready.starts_with("ready "), "fleet: {ready:?}");
    }
    let writer = Device::open(&root.path().join("writer")).expect("open writer");
    writer
        .enrol(&url, &writer_code, "psc1's phone")
        .expect("enrol writer");
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut waiting = child.waiting();
    while waiting < n {
        assert!(
            Instant::now() < deadline,
            "the devices never all waited: {waiting} waiting"
        );
        std::thread::sleep(Duration::from_millis(200));
        waiting = child.waiting();
    }
    let c0 = proxy.counts();
    println!(
        "  enrolled, synced once and all {n} waiting {:.1} s after the fleets started ({} requests, \
         {} refusals so far, {} without Retry-After)",
        t.elapsed().as_secs_f64(),
        c0.requests,
        c0.refused,
        c0.refused_without_retry_after,
    );

    // The restart.
    let t = Instant::now();
    child.stop();
    let stopped = t.elapsed();
    let id = writer
        .report(&NewReport {
            category: sample::LITTER.into(),
            location: sample::IN_G1,
            grid: None,
            segment: None,
            description: "reported while the server was down".into(),
        })
        .expect("report");
    let child = ChildServer::start(&server_config, &[]);
    let zero = Instant::now();
    for f in &mut fleets {
        f.send(&format!("zero {id}"));
    }
    for f in &mut fleets {
        assert_eq!(f.line(), "ok");
    }
    let told = zero.elapsed();
    let c_zero = proxy.counts();
    let down = t.elapsed() - told;
    let mut tries = 0;
    loop {
        tries += 1;
        match writer.sync_now(&|_| {}) {
            Ok(_) => break,
            Err(e) if zero.elapsed() < storm_limit => {
                eprintln!("  writer's sync {tries}: {e}");
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(e) => panic!("the writer never synced: {e}"),
        }
    }
    let pushed = zero.elapsed();
    println!(
        "  server stopped in {:.1} s, down {:.1} s in all; fleets told in {:.1} ms; the case pushed \
         {:.2} s after time 0 ({tries} tries)",
        stopped.as_secs_f64(),
        down.as_secs_f64(),
        told.as_secs_f64() * 1000.0,
        pushed.as_secs_f64()
    );
    let count = |fleets: &mut Vec<Fleet>| {
        fleets.iter_mut().fold((0usize, 0usize), |(s, h), f| {
            let line = f.ask("count");
            let v: Vec<usize> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|w| w.parse().ok())
                .collect();
            (s + v[0], h + v[1])
        })
    };
    let mut last_report = Instant::now();
    let mut held = 0;
    while held < n && zero.elapsed() < storm_limit {
        std::thread::sleep(Duration::from_millis(100));
        let (synced, h) = count(&mut fleets);
        held = h;
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            println!(
                "  {:.0} s: {synced} synced, {held} hold the case",
                zero.elapsed().as_secs_f64()
            );
        }
    }
    let all_in = zero.elapsed();
    let storm = proxy.counts().since(&c_zero);
    let while_down = c_zero.since(&c0);
    let mut first = Vec::new();
    let mut holds = Vec::new();
    let mut stuck = Vec::new();
    for f in &mut fleets {
        f.send("report");
        loop {
            let line = f.line();
            if line == "end" {
                break;
            }
            let w: Vec<&str> = line.splitn(5, ' ').collect();
            if let Ok(v) = w[2].parse::<f64>() {
                first.push(v);
            }
            match w[3].parse::<f64>() {
                Ok(v) => holds.push(v),
                Err(_) => stuck.push(format!("{}: {}", w[1], w.get(4).unwrap_or(&""))),
            }
        }
    }
    let offset = zero.duration_since(proxy.started()).as_secs() as usize;
    let rps = proxy.requests_per_second();
    let after: &[u64] = rps.get(offset..).unwrap_or(&[]);
    let (peak_at, peak) = after
        .iter()
        .enumerate()
        .max_by_key(|(_, v)| **v)
        .map(|(i, v)| (i, *v))
        .unwrap_or((0, 0));
    println!("reconnect_storm: {n} devices, server restarted on the same port at time 0:");
    println!("  first successful sync after time 0: {}", quantiles(first));
    println!(
        "  store holds the case pushed at {:.2} s: {}",
        pushed.as_secs_f64(),
        quantiles(holds)
    );
    if stuck.is_empty() {
        println!(
            "  all {n} in sync {:.2} s after time 0 (seen within 0.1 s)",
            all_in.as_secs_f64()
        );
    } else {
        println!(
            "  STUCK: {} devices without the case after {:.0} s; the first: {:?}",
            stuck.len(),
            all_in.as_secs_f64(),
            &stuck[..stuck.len().min(5)]
        );
    }
    println!(
        "  requests per second from time 0: peak {peak} in second {peak_at}; first 30 s: {:?}",
        &after[..after.len().min(30)]
    );
    println!(
        "  while the server stopped and was down: {} requests ({:?}), answers {:?}, {} connections \
         closed at once (server unreachable)",
        while_down.requests, while_down.by_path, while_down.statuses, while_down.unreachable
    );
    println!(
        "  from time 0 to the end: {} requests ({:?}), answers by status {:?}; refused (503/429) \
         {}, of them without Retry-After {}; connections {} ({} closed at once: server \
         unreachable)",
        storm.requests,
        storm.by_path,
        storm.statuses,
        storm.refused,
        storm.refused_without_retry_after,
        storm.connections,
        storm.unreachable
    );
    drop(fleets);
    child.stop();
}
