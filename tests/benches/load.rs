//! Benchmark: load on the server (issue 16). N devices sync continuously against the real
//! `xiangying-server` binary on 127.0.0.1, over a store seeded with a year of a whole street
//! (100,000 cases of the Zhenxing roster, `xiangying_model::testkit::street_year`, stored as a
//! push leaves them: [`xiangying_tests::street_year::seed`]).
//!
//! Scenarios (`XY_LOAD_SCENARIOS`, comma-separated, default `sqlite`):
//! - `sqlite`: one instance over its embedded SQLite store;
//! - `postgres`: one instance over PostgreSQL (`XY_PG_URL`; the tables in a schema of their
//!   own, `xy_load`, dropped first);
//! - `two`: two instances over one PostgreSQL schema, device `i` on instance `i % 2`.
//!
//! The server is the binary as shipped, in a child process (`serve --config`, its log at the
//! default level into a file in the temporary folder), so its memory (`VmRSS`, `VmHWM`) and CPU
//! time are its own, read from `/proc/<pid>/`. Found beside the bench's own folder
//! (`target/release/xiangying-server` for `cargo bench`), or at `XY_LOAD_SERVER_BIN`; build it
//! first: `cargo build --release -p xiangying-server`. Its limits are as shipped, except the
//! enrolment rates (raised, for the set-up).
//!
//! The devices are real device stores (`xiangying_core::Device`, each its own SQLite file and
//! HTTP client, enrolled through `POST /v1/enrol`), in this process, one thread each: grid
//! informants of the 64 grids in turn (the bulk of a street's devices; they read their own
//! reports only, so set-up pulls nothing of the year). Each device, in a closed loop for
//! `XY_LOAD_SECS` (default 30): makes one small change (every third a new report in its
//! grid, else a note on one of its own reports), runs `sync_now` (push, then pull until the
//! feed is drained: the whole sync as the app runs it, timed from the call to its return),
//! then thinks `XY_LOAD_THINK_MS` (default 1,000) before the next. Syncs started in the first
//! `XY_LOAD_WARMUP_SECS` (default 5) are not counted.
//!
//! Reported per point: sustained syncs per second, p50/p95/p99/worst of a sync, errors (any
//! failed sync; must be 0), and per server instance: `VmRSS` sampled every
//! `XY_LOAD_SAMPLE_SECS` (default 5; start, max, end, least-squares slope in KiB per minute),
//! `VmHWM`, CPU time (user + system) and its share of the wall time.
//!
//! Sweep: `XY_LOAD_DEVICES` (comma-separated, default `50`), the same server and devices for
//! each point (the first N of them). The largest N whose p99 stays under 200 ms with no error is
//! named. Soak: `XY_LOAD_SOAK_SECS` (default 0: none; 600 for the ten-minute soak) runs once
//! more after the sweep of the `sqlite` scenario, at `XY_LOAD_SOAK_DEVICES` devices (default:
//! that largest N), printing `VmRSS` at each sample and at 1 minute and the end.
//! `XY_LOAD_CASES` (default 100,000) makes the street smaller, for a smoke run only.
//!
//! `cargo build --release -p xiangying-server && cargo bench -p xiangying-tests --bench load`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xiangying_core::org::{Role, Scope, polygon_centroid, zhenxing};
use xiangying_core::{Device, NewReport};
use xiangying_server::storage::Storage;
use xiangying_server::storage::postgres::PostgresStorage;
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_tests::child_server::{free_port, proc_status_kib};
use xiangying_tests::{drop_schema, env_or, street_year, zhenxing_org};

/// The PostgreSQL schema the scenarios over PostgreSQL use.
const PG_SCHEMA: &str = "xy_load";
/// The p99 a sync must stay under, milliseconds.
const P99_BOUND_MS: f64 = 200.0;

/// The knobs, from the environment.
struct Knobs {
    scenarios: Vec<String>,
    sweep: Vec<usize>,
    secs: u64,
    warmup: u64,
    think: Duration,
    sample: Duration,
    soak_secs: u64,
    soak_devices: Option<usize>,
    cases: usize,
    server_bin: PathBuf,
}

/// A comma-separated list from the environment, or `default`.
fn list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The knobs as the environment sets them.
fn knobs() -> Knobs {
    let server_bin = std::env::var("XY_LOAD_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            // target/<profile>/deps/load-<hash> → target/<profile>/xiangying-server
            let exe = std::env::current_exe().expect("current exe");
            exe.parent()
                .and_then(Path::parent)
                .expect("target folder")
                .join("xiangying-server")
        });
    assert!(
        server_bin.is_file(),
        "no server binary at {}: build it first (cargo build --release -p xiangying-server), or \
         name it in XY_LOAD_SERVER_BIN",
        server_bin.display()
    );
    let soak_devices = std::env::var("XY_LOAD_SOAK_DEVICES")
        .ok()
        .and_then(|v| v.parse().ok());
    Knobs {
        scenarios: list("XY_LOAD_SCENARIOS", "sqlite"),
        sweep: list("XY_LOAD_DEVICES", "50")
            .iter()
            .map(|n| n.parse().expect("XY_LOAD_DEVICES: numbers"))
            .collect(),
        secs: env_or("XY_LOAD_SECS", 30u64),
        warmup: env_or("XY_LOAD_WARMUP_SECS", 5u64),
        think: Duration::from_millis(env_or("XY_LOAD_THINK_MS", 1_000u64)),
        sample: Duration::from_secs(env_or("XY_LOAD_SAMPLE_SECS", 5u64).max(1)),
        soak_secs: env_or("XY_LOAD_SOAK_SECS", 0u64),
        soak_devices,
        cases: env_or(
            "XY_LOAD_CASES",
            xiangying_model::testkit::street_year::CASES,
        ),
        server_bin,
    }
}

fn main() {
    let k = knobs();
    println!(
        "load: scenarios {:?}, sweep {:?} devices, {} s a point ({} s warm-up), think {} ms, \
         RSS every {} s, soak {} s; server {}",
        k.scenarios,
        k.sweep,
        k.secs,
        k.warmup,
        k.think.as_millis(),
        k.sample.as_secs(),
        k.soak_secs,
        k.server_bin.display()
    );
    let t = Instant::now();
    let cases = xiangying_model::testkit::street_year::cases_upto(k.cases);
    println!(
        "load: {} cases generated in {:.1} s",
        cases.len(),
        t.elapsed().as_secs_f64()
    );
    for scenario in k.scenarios.clone() {
        run_scenario(&k, &scenario, &cases);
    }
}

/// A server instance: the shipped binary in a child process.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts `bin serve --config <config>`, its log into `log`; returns once `/ready` says so.
    fn start(bin: &Path, config: &Path, log: &Path, url: String) -> Server {
        let log = std::fs::File::create(log).expect("log file");
        let child = Command::new(bin)
            .arg("serve")
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("spawn the server");
        let mut server = Server { child, url };
        let http = xiangying_tests::http();
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server ended at start: {status}");
            }
            let ready = http
                .get(format!("{}/ready", server.url))
                .send()
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "the server never became ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops it as an operator does (SIGTERM) and waits.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU time (user + system) of a process so far, seconds.
fn cpu_secs(pid: u32) -> f64 {
    let mut text = String::new();
    let _ = std::fs::File::open(format!("/proc/{pid}/stat"))
        .and_then(|mut f| f.read_to_string(&mut text));
    // Fields after the command (in parentheses): state is field 3, utime 14, stime 15.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|w| w.parse().unwrap_or(0.0))
        .collect();
    if f.len() < 13 {
        return 0.0;
    }
    (f[11] + f[12]) / clock_ticks()
}

/// A device of the bench and the place it reports in.
struct Member {
    device: Device,
    at: xiangying_core::org::Point,
}

/// The `i`-th device's person: an informant of grid `i % 64 + 1`.
fn person(i: usize) -> String {
    zhenxing::ids::informant(
        i % zhenxing::GRIDS + 1,
        (i / zhenxing::GRIDS) % zhenxing::INFORMANTS_PER_GRID + 1,
    )
}

/// Seeds a store, starts the scenario's server instances and devices, runs the sweep (and the
/// soak, on SQLite, when asked), and prints each point.
fn run_scenario(k: &Knobs, scenario: &str, cases: &[street_year::Case]) {
    let instances = match scenario {
        "sqlite" | "postgres" => 1,
        "two" => 2,
        other => panic!("XY_LOAD_SCENARIOS: unknown scenario {other:?} (sqlite, postgres, two)"),
    };
    let on_pg = scenario != "sqlite";
    let most = k
        .sweep
        .iter()
        .copied()
        .chain(k.soak_devices)
        .max()
        .unwrap_or(0);
    let root = tempfile::tempdir().expect("temp dir");
    let pg_url = on_pg.then(xiangying_tests::pg_url);

    // The store: the org, the year of cases, one enrolment code per device.
    let t = Instant::now();
    let storage: Arc<dyn Storage> = match &pg_url {
        Some(url) => {
            drop_schema(url, PG_SCHEMA);
            Arc::new(PostgresStorage::connect_with_schema(url, PG_SCHEMA).expect("postgres"))
        }
        None => Arc::new(SqliteStorage::open(&root.path().join("server-1")).expect("sqlite")),
    };
    let org = zhenxing_org();
    xiangying_server::admin::publish(storage.as_ref(), &org.0, &org.1).expect("publish org");
    street_year::seed(storage.as_ref(), cases);
    let codes: Vec<String> = (0..most)
        .map(|i| xiangying_server::admin::issue_code(storage.as_ref(), &person(i)).expect("code"))
        .collect();
    drop(storage);
    println!(
        "load [{scenario}]: store seeded with {} cases in {:.1} s",
        cases.len(),
        t.elapsed().as_secs_f64()
    );

    // The servers.
    let servers: Vec<Server> = (1..=instances)
        .map(|n| {
            let data = root.path().join(format!("server-{n}"));
            std::fs::create_dir_all(&data).expect("data folder");
            let listen = free_port();
            let mut text = format!("data = {data:?}\nlisten = \"{listen}\"\n");
            if let Some(url) = &pg_url {
                let sep = if url.contains('?') { '&' } else { '?' };
                let url = format!("{url}{sep}options=-csearch_path%3D{PG_SCHEMA}");
                text.push_str(&format!("postgres = {url:?}\n"));
            }
            text.push_str(
                "[limits]\nenrol_client_per_minute = 1000000\nenrol_overall_per_minute = 1000000\n",
            );
            let config = root.path().join(format!("server-{n}.toml"));
            std::fs::write(&config, text).expect("config");
            let log = root.path().join(format!("server-{n}.log"));
            Server::start(&k.server_bin, &config, &log, format!("http://{listen}"))
        })
        .collect();
    let pids: Vec<u32> = servers.iter().map(Server::pid).collect();
    println!(
        "load [{scenario}]: {instances} instance(s) ready, pids {pids:?}; RSS {:?} KiB",
        pids.iter()
            .map(|p| proc_status_kib(*p, "VmRSS"))
            .collect::<Vec<_>>()
    );

    // The devices: enrolled and synced once, eight at a time.
    let t = Instant::now();
    let roster = zhenxing::roster();
    let members: Vec<Mutex<Option<Member>>> = (0..most).map(|_| Mutex::new(None)).collect();
    let next = Mutex::new(0usize);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().expect("lock");
                        *n += 1;
                        *n - 1
                    };
                    if i >= most {
                        break;
                    }
                    let d = Device::open(&root.path().join("devices").join(i.to_string()))
                        .expect("open device");
                    let url = &servers[i % instances].url;
                    d.enrol(url, &codes[i], &format!("phone {i}"))
                        .unwrap_or_else(|e| panic!("enrol {i}: {e}"));
                    d.sync_now(&|_| {})
                        .unwrap_or_else(|e| panic!("first sync {i}: {e}"));
                    let me = d.me().expect("enrolled");
                    assert_eq!(me.role, Role::GridInformant);
                    let Scope::Grid(g) = &me.scope else {
                        panic!("an informant has a grid")
                    };
                    let grid = roster.grid(g).expect("grid");
                    let at = polygon_centroid(&grid.polygon).expect("centroid");
                    *members[i].lock().expect("lock") = Some(Member { device: d, at });
                }
            });
        }
    });
    let members: Vec<Member> = members
        .into_iter()
        .map(|m| m.into_inner().expect("lock").expect("enrolled"))
        .collect();
    println!(
        "load [{scenario}]: {most} devices enrolled and synced once in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut passed = None;
    for &n in &k.sweep {
        let p = run_point(k, &servers, &members[..n], k.secs, false);
        p.print(scenario, n);
        if p.errors == 0 && p.p99_ms < P99_BOUND_MS {
            passed = Some(passed.map_or(n, |m: usize| m.max(n)));
        }
    }
    match passed {
        Some(n) => println!(
            "load [{scenario}]: largest N of the sweep with p99 < {P99_BOUND_MS} ms and no error: {n}"
        ),
        None => println!(
            "load [{scenario}]: no N of the sweep kept p99 < {P99_BOUND_MS} ms with no error"
        ),
    }
    if scenario == "sqlite" && k.soak_secs > 0 {
        let n = k.soak_devices.or(passed).unwrap_or(k.sweep[0]);
        println!("load [{scenario}]: soak, {n} devices for {} s", k.soak_secs);
        let p = run_point(k, &servers, &members[..n], k.soak_secs, true);
        p.print(&format!("{scenario} soak"), n);
        for (i, rss) in p.rss.iter().enumerate() {
            let at = |secs: f64| {
                let j = rss
                    .iter()
                    .position(|(t, _)| *t >= secs)
                    .unwrap_or(rss.len().saturating_sub(1));
                match (rss.get(j), p.parts[i].get(j)) {
                    (Some((t, v)), Some((a, f, m))) => {
                        format!("{v} KiB at {t:.0} s (anon {a}, file {f}, shmem {m})")
                    }
                    _ => String::new(),
                }
            };
            println!(
                "  instance {}: RSS {}; {}; max {} KiB; samples (s, KiB): {:?}",
                i + 1,
                at(60.0),
                at(f64::MAX),
                rss.iter().map(|(_, v)| *v).max().unwrap_or(0),
                rss.iter()
                    .map(|(t, v)| (t.round() as u64, *v))
                    .collect::<Vec<_>>()
            );
        }
    }
    if scenario == "sqlite" {
        let data = root.path().join("server-1");
        let sizes: Vec<String> = std::fs::read_dir(&data)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let len = e.metadata().ok()?.len();
                        Some(format!(
                            "{} {} KiB",
                            e.file_name().to_string_lossy(),
                            len / 1024
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        println!(
            "load [{scenario}]: data folder at the end: {}",
            sizes.join(", ")
        );
    }
    drop(members);
    for s in servers {
        s.stop();
    }
}

/// What one point of the sweep measured.
struct Point {
    /// The measured window (after the warm-up), seconds.
    secs: f64,
    /// The whole point, warm-up included (what CPU shares are of), seconds.
    wall: f64,
    syncs: usize,
    errors: usize,
    first_errors: Vec<String>,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    worst_ms: f64,
    /// Per instance: (seconds from the start, VmRSS KiB) samples.
    rss: Vec<Vec<(f64, u64)>>,
    /// Per instance, beside each `rss` sample: `RssAnon`, `RssFile`, `RssShmem` (KiB): the heap
    /// apart from mapped files (SQLite's WAL index is shared memory).
    parts: Vec<Vec<(u64, u64, u64)>>,
    hwm: Vec<u64>,
    cpu: Vec<f64>,
    /// CPU time of this process (the devices), seconds.
    devices_cpu: f64,
    /// `/proc/loadavg` at the end.
    load: String,
}

impl Point {
    fn print(&self, label: &str, n: usize) {
        println!(
            "load [{label}] N={n}: {:.1} syncs/s ({} syncs in {:.0} s), sync p50 {:.1} ms, p95 \
             {:.1} ms, p99 {:.1} ms, worst {:.1} ms; errors {}{}",
            self.syncs as f64 / self.secs,
            self.syncs,
            self.secs,
            self.p50_ms,
            self.p95_ms,
            self.p99_ms,
            self.worst_ms,
            self.errors,
            if self.first_errors.is_empty() {
                String::new()
            } else {
                format!(" (first: {:?})", self.first_errors)
            }
        );
        println!(
            "  devices (this process): CPU {:.1} s ({:.0}% of one core); load average {}",
            self.devices_cpu,
            100.0 * self.devices_cpu / self.wall,
            self.load
        );
        for (i, rss) in self.rss.iter().enumerate() {
            let values: Vec<u64> = rss.iter().map(|(_, v)| *v).collect();
            let end = self.parts[i].last().copied().unwrap_or_default();
            println!(
                "  instance {}: RSS start {} KiB, max {} KiB, end {} KiB (anon {}, file {}, shmem \
                 {}), slope {:+.0} KiB/min ({} samples); VmHWM {} KiB; CPU {:.1} s ({:.0}% of \
                 one core)",
                i + 1,
                values.first().copied().unwrap_or(0),
                values.iter().max().copied().unwrap_or(0),
                values.last().copied().unwrap_or(0),
                end.0,
                end.1,
                end.2,
                slope_per_minute(rss),
                rss.len(),
                self.hwm[i],
                self.cpu[i],
                100.0 * self.cpu[i] / self.wall
            );
        }
    }
}

/// The least-squares slope of `(seconds, KiB)` samples, KiB per minute.
fn slope_per_minute(samples: &[(f64, u64)]) -> f64 {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return 0.0;
    }
    let mx = samples.iter().map(|(t, _)| t).sum::<f64>() / n;
    let my = samples.iter().map(|(_, v)| *v as f64).sum::<f64>() / n;
    let sxy: f64 = samples
        .iter()
        .map(|(t, v)| (t - mx) * (*v as f64 - my))
        .sum();
    let sxx: f64 = samples.iter().map(|(t, _)| (t - mx) * (t - mx)).sum();
    if sxx == 0.0 { 0.0 } else { 60.0 * sxy / sxx }
}

/// Runs `members` in their closed loops for `secs` against `servers`, sampling the servers'
/// memory.
fn run_point(k: &Knobs, servers: &[Server], members: &[Member], secs: u64, soak: bool) -> Point {
    let pids: Vec<u32> = servers.iter().map(Server::pid).collect();
    let cpu0: Vec<f64> = pids.iter().map(|p| cpu_secs(*p)).collect();
    let devices_cpu0 = cpu_secs(std::process::id());
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let warmup = Duration::from_secs(k.warmup.min(secs / 2));
    let done = AtomicBool::new(false);
    let rss: Mutex<Vec<Vec<(f64, u64)>>> = Mutex::new(vec![Vec::new(); pids.len()]);
    let parts: Mutex<Vec<Vec<(u64, u64, u64)>>> = Mutex::new(vec![Vec::new(); pids.len()]);
    // (latency ms) of syncs started after the warm-up; errors.
    let timings: Mutex<Vec<f64>> = Mutex::new(Vec::new());
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut next = start;
            while !done.load(Ordering::SeqCst) {
                if Instant::now() >= next {
                    let t = start.elapsed().as_secs_f64();
                    let mut rss = rss.lock().expect("lock");
                    let mut parts = parts.lock().expect("lock");
                    for (i, p) in pids.iter().enumerate() {
                        let v = proc_status_kib(*p, "VmRSS");
                        let part = (
                            proc_status_kib(*p, "RssAnon"),
                            proc_status_kib(*p, "RssFile"),
                            proc_status_kib(*p, "RssShmem"),
                        );
                        rss[i].push((t, v));
                        parts[i].push(part);
                        if soak {
                            println!(
                                "  {t:.0} s: instance {} RSS {v} KiB (anon {}, file {}, shmem {})",
                                i + 1,
                                part.0,
                                part.1,
                                part.2
                            );
                        }
                    }
                    next += k.sample;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let handles: Vec<_> = members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let (timings, errors) = (&timings, &errors);
                s.spawn(move || {
                    // Start spread over the think time, not all at once.
                    let spread =
                        k.think.as_millis() as u64 * i as u64 / members.len().max(1) as u64;
                    std::thread::sleep(Duration::from_millis(spread));
                    let mut mine: Vec<String> = Vec::new();
                    let mut local = Vec::new();
                    let mut round = 0usize;
                    while Instant::now() < end {
                        let changed = if mine.is_empty() || round.is_multiple_of(3) {
                            m.device
                                .report(&NewReport {
                                    category: "010101".into(),
                                    location: m.at,
                                    grid: None,
                                    segment: None,
                                    description: format!("井盖破损 {i}-{round}"),
                                })
                                .map(|id| mine.push(id))
                        } else {
                            m.device
                                .note(&mine[round % mine.len()], &format!("补充 {round}"))
                                .map(|_| ())
                        };
                        if let Err(e) = changed {
                            errors
                                .lock()
                                .expect("lock")
                                .push(format!("change {i}: {e}"));
                        }
                        let t = Instant::now();
                        let synced = m.device.sync_now(&|_| {});
                        let ms = t.elapsed().as_secs_f64() * 1000.0;
                        match synced {
                            Ok(_) if t >= start + warmup => local.push(ms),
                            Ok(_) => {}
                            Err(e) => errors.lock().expect("lock").push(format!("sync {i}: {e}")),
                        }
                        round += 1;
                        std::thread::sleep(k.think);
                    }
                    timings.lock().expect("lock").extend(local);
                })
            })
            .collect();
        for h in handles {
            h.join().expect("device thread");
        }
        done.store(true, Ordering::SeqCst);
    });
    let wall = start.elapsed().as_secs_f64();
    let took = wall - warmup.as_secs_f64();
    let cpu: Vec<f64> = pids
        .iter()
        .zip(&cpu0)
        .map(|(p, c)| cpu_secs(*p) - c)
        .collect();
    let mut v = timings.into_inner().expect("lock");
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        if v.is_empty() {
            0.0
        } else {
            v[((v.len() as f64 - 1.0) * q).round() as usize]
        }
    };
    let errors = errors.into_inner().expect("lock");
    Point {
        secs: took,
        wall,
        syncs: v.len(),
        errors: errors.len(),
        first_errors: errors.iter().take(3).cloned().collect(),
        p50_ms: at(0.5),
        p95_ms: at(0.95),
        p99_ms: at(0.99),
        worst_ms: v.last().copied().unwrap_or(0.0),
        rss: rss.into_inner().expect("lock"),
        parts: parts.into_inner().expect("lock"),
        hwm: pids.iter().map(|p| proc_status_kib(*p, "VmHWM")).collect(),
        cpu,
        devices_cpu: cpu_secs(std::process::id()) - devices_cpu0,
        load: std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default(),
    }
}
