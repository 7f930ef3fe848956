//! Benchmark: what an idle connected device costs (issue 14, decisions 0028 and 0029).
//!
//! **Part A, traffic.** A handful of people of the sample street (`XY_BENCH_IDLE_DEVICES`,
//! default 10, at most 12: one device each) have a device with its sync engine running as
//! shipped (`EngineConfig::default()`), the app in the foreground, each reaching the server
//! through a counting proxy of its own ([`CountingProxy`]). After every device's first sync
//! and first wait (and `XY_BENCH_IDLE_SETTLE_SECS` more, default 0), nothing happens for
//! `XY_BENCH_IDLE_SECS` (default 300); measured: requests, responses by status, connections and
//! HTTP bytes each way as the proxy sees them (heads and bodies; no TCP/IP headers, no TLS),
//! per device and by kind of request, extrapolated to an hour, and when the syncs happened.
//!
//! **Part B, server memory.** The server runs in a child process (this executable again, see
//! [`xiangying_tests::child_server`]) on 127.0.0.1, so its resident memory is its own. The
//! child enrols `XY_BENCH_WAITERS` devices (default 10,000) through the storage API before
//! serving; the bench opens one raw socket per device and sends `GET /v1/wait?cursor=0` with
//! its token (the feed is empty, so 0 is the current cursor), waits until the child says that
//! many requests wait on its wake-up channel (`AppState::wake.waiting()`, asked over the
//! child's standard input) and reads the child's `VmRSS` before (after enrolment and a warm-up
//! of 100 waits whose sockets are then closed) and with every wait held; then it reads every
//! answer (204 at the heartbeat, `XY_BENCH_WAIT_SECS`, default 60 for this part: time enough to
//! open 10,000 waits on a loaded machine). Kernel socket buffers are not in `VmRSS`.
//!
//! `cargo bench -p xiangying-tests --bench idle_cost --no-run`, then run the printed binary
//! (`XY_BENCH_PART=a` or `b` runs one part only).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xiangying_core::{EngineConfig, EngineState, EngineStatus, SyncEngine};
use xiangying_server::state::Limits;
use xiangying_tests::child_server::{self, ChildServer, bench_token};
use xiangying_tests::counting_proxy::{CountingProxy, Counts};
use xiangying_tests::world::PEOPLE;
use xiangying_tests::{Field, env_or, sample_org};

fn main() {
    child_server::run_if_child();
    let part = std::env::var("XY_BENCH_PART").unwrap_or_default();
    if part.is_empty() || part == "a" {
        traffic();
    }
    if part.is_empty() || part == "b" {
        memory();
    }
}

fn traffic() {
    let n = env_or("XY_BENCH_IDLE_DEVICES", 10usize).clamp(1, PEOPLE.len());
    let window = Duration::from_secs(env_or("XY_BENCH_IDLE_SECS", 300u64));
    let settle = Duration::from_secs(env_or("XY_BENCH_IDLE_SETTLE_SECS", 0u64));
    let config = EngineConfig::default();
    println!(
        "idle_cost A: {n} devices, engine as shipped ({config:?}), foreground; server heartbeat \
         wait_secs = {} s (Limits::default()); idle window {} s, starting {} s after every \
         device's first sync and wait",
        Limits::default().wait_secs,
        window.as_secs(),
        settle.as_secs()
    );
    // When each device's syncs succeeded (only a successful sync publishes `Idle`).
    let synced: Arc<Mutex<Vec<Vec<Instant>>>> = Arc::new(Mutex::new(vec![Vec::new(); n]));
    let mut f = Field::new(sample_org());
    let mut proxies = Vec::new();
    let mut engines = Vec::new();
    for (i, p) in PEOPLE[..n].iter().enumerate() {
        let proxy = CountingProxy::start(f.server.addr);
        f.enrol_via(p, &proxy.url());
        let d = Arc::new(f.devices.remove(*p).expect("enrolled"));
        let times = synced.clone();
        let listener = Box::new(move |s: &EngineStatus| {
            if s.state == EngineState::Idle {
                times.lock().expect("lock")[i].push(Instant::now());
            }
        });
        let engine = SyncEngine::start(d, config, listener).expect("engine");
        engine.set_foreground(true);
        engines.push(engine);
        proxies.push(proxy);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while engines.iter().any(|e| e.status().last_success.is_none())
        || f.server.state.wake.waiting() < n
    {
        assert!(
            Instant::now() < deadline,
            "the devices never all synced and waited"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(settle);
    let before: Vec<Counts> = proxies.iter().map(CountingProxy::counts).collect();
    let start = Instant::now();
    while start.elapsed() < window {
        std::thread::sleep(Duration::from_secs(1).min(window - start.elapsed()));
    }
    let took = start.elapsed();
    let after: Vec<Counts> = proxies.iter().map(CountingProxy::counts).collect();
    for e in engines {
        e.stop();
    }
    let per_hour = 3600.0 / took.as_secs_f64();
    let syncs: Vec<String> = synced
        .lock()
        .expect("lock")
        .iter()
        .map(|times| {
            let within: Vec<String> = times
                .iter()
                .filter(|t| **t >= start)
                .map(|t| format!("{:.0}", t.duration_since(start).as_secs_f64()))
                .collect();
            format!("[{}]", within.join(" "))
        })
        .collect();
    println!(
        "idle_cost A: successful syncs in the window, seconds from its start, per device: {}",
        syncs.join(" ")
    );
    let each: Vec<Counts> = after.iter().zip(&before).map(|(a, b)| a.since(b)).collect();
    let stat = |what: &str, get: &dyn Fn(&Counts) -> u64| {
        let v: Vec<f64> = each.iter().map(|c| get(c) as f64 * per_hour).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(0.0, f64::max);
        println!("  {what:<28} mean {mean:>9.1}  min {min:>9.1}  max {max:>9.1}");
    };
    println!(
        "idle_cost A: per device per hour (extrapolated from {:.0} s idle):",
        took.as_secs_f64()
    );
    stat("requests", &|c| c.requests);
    stat("bytes up (HTTP)", &|c| c.bytes_up);
    stat("bytes down (HTTP)", &|c| c.bytes_down);
    stat("bytes both ways (HTTP)", &|c| c.bytes_up + c.bytes_down);
    stat("connections opened", &|c| c.connections);
    let mut total = Counts::default();
    for c in &each {
        total.requests += c.requests;
        let add = |to: &mut std::collections::BTreeMap<String, u64>,
                   from: &std::collections::BTreeMap<String, u64>| {
            for (k, v) in from {
                *to.entry(k.clone()).or_default() += v;
            }
        };
        add(&mut total.by_path, &c.by_path);
        add(&mut total.bytes_up_by_path, &c.bytes_up_by_path);
        add(&mut total.bytes_down_by_path, &c.bytes_down_by_path);
        for (k, v) in &c.statuses {
            *total.statuses.entry(*k).or_default() += v;
        }
    }
    let hourly = |v: u64| v as f64 * per_hour / n as f64;
    for (p, v) in &total.by_path {
        let up = total.bytes_up_by_path.get(p).copied().unwrap_or(0);
        let down = total.bytes_down_by_path.get(p).copied().unwrap_or(0);
        println!(
            "  {p:<12} {:>6.1} requests/h, {:>8.0} B/h up, {:>8.0} B/h down; {:.0} B up and {:.0} B \
             down per request",
            hourly(*v),
            hourly(up),
            hourly(down),
            up as f64 / *v as f64,
            down as f64 / *v as f64
        );
    }
    let statuses: Vec<String> = total
        .statuses
        .iter()
        .map(|(s, v)| format!("{s} {:.1}/h", *v as f64 * per_hour / n as f64))
        .collect();
    println!("  by status (per device): {}", statuses.join(", "));
}

/// A wait request on a raw socket.
fn open_wait(addr: std::net::SocketAddr, token: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("connect");
    let req = format!(
        "GET /v1/wait?cursor=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).expect("send wait");
    s
}

/// Wait requests for the devices `range`, opened by four threads.
fn open_waits(addr: std::net::SocketAddr, range: std::ops::Range<usize>) -> Vec<TcpStream> {
    let ids: Vec<usize> = range.collect();
    let per = ids.len().div_ceil(4).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = ids
            .chunks(per)
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|i| open_wait(addr, &bench_token(*i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("opener"))
            .collect()
    })
}

/// The status of the answer on a socket (0 when it closed without one).
fn read_status(s: &mut TcpStream, timeout: Duration) -> u16 {
    let _ = s.set_read_timeout(Some(timeout));
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => got.extend_from_slice(&buf[..k]),
        }
    }
    String::from_utf8_lossy(&got)
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn wait_until(child: &mut ChildServer, want: usize, limit: Duration) -> (usize, Duration) {
    let t = Instant::now();
    loop {
        let w = child.waiting();
        if w == want || t.elapsed() > limit {
            return (w, t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn memory() {
    let n = env_or("XY_BENCH_WAITERS", 10_000usize);
    let heartbeat = env_or("XY_BENCH_WAIT_SECS", 60u64);
    let warm = 100usize;
    let max_connections = (n + 2_000) as u64;
    let root = tempfile::tempdir().expect("temp dir");
    let data = root.path().join("server");
    drop(child_server::prepare_store(&data, &sample_org()));
    let addr = child_server::free_port();
    let limits = [
        ("max_connections", max_connections),
        ("wait_secs", heartbeat),
        ("request_timeout_secs", heartbeat + 60),
    ];
    let config = child_server::write_config(root.path(), &data, addr, &limits);
    println!(
        "idle_cost B: {n} waiting devices on one server (child process, SQLite, 127.0.0.1); \
         limits {limits:?}"
    );
    let t = Instant::now();
    let mut child = ChildServer::start(
        &config,
        &[(
            child_server::ENROL_ENV,
            format!("{}:{}", n + warm, PEOPLE.join(",")),
        )],
    );
    println!(
        "  {} devices enrolled through the storage API and serving after {:.1} s; VmRSS {} KiB",
        n + warm,
        t.elapsed().as_secs_f64(),
        child.rss_kib()
    );
    // Warm-up: a hundred waits, then their sockets closed (the server ends a wait whose client
    // went away, or answers it at the heartbeat).
    let socks = open_waits(child.addr, n..n + warm);
    let (w, _) = wait_until(&mut child, warm, Duration::from_secs(30));
    assert_eq!(w, warm, "the warm-up waits never all waited");
    drop(socks);
    let (w, gone) = wait_until(&mut child, 0, Duration::from_secs(heartbeat + 10));
    std::thread::sleep(Duration::from_secs(1));
    let before = child.rss_kib();
    println!(
        "  warm-up: {warm} waits, then their sockets closed: {w} waiting {:.1} s later; VmRSS \
         before {before} KiB",
        gone.as_secs_f64()
    );
    let limit = Duration::from_secs(heartbeat + 30);
    let t = Instant::now();
    let mut socks = open_waits(child.addr, 0..n);
    let sent = t.elapsed();
    let (waiting, took) = wait_until(
        &mut child,
        n,
        Duration::from_secs(heartbeat.saturating_sub(10).max(5)),
    );
    // Let the runtime settle (tasks parked, buffers sized) before reading the memory.
    std::thread::sleep(Duration::from_secs(2));
    let with = child.rss_kib();
    let waiting_then = child.waiting();
    let hwm = child_server::proc_status_kib(child.pid(), "VmHWM");
    let per = (with.saturating_sub(before)) as f64 / waiting_then.max(1) as f64;
    println!(
        "  {n} waits sent in {:.1} s; {waiting} waiting {:.1} s later; {waiting_then} waiting at the \
         reading; VmRSS with them {with} KiB (peak {hwm} KiB)",
        sent.as_secs_f64(),
        took.as_secs_f64()
    );
    println!(
        "idle_cost B: server memory per waiting device: {per:.1} KiB ({} KiB more for {waiting_then} \
         waits)",
        with.saturating_sub(before)
    );
    let t = Instant::now();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for s in &mut socks {
        *statuses.entry(read_status(s, limit)).or_default() += 1;
    }
    println!(
        "  released: answers by status {statuses:?} (0: closed without an answer), all read \
         {:.1} s after the memory reading",
        t.elapsed().as_secs_f64()
    );
    drop(socks);
    let (w, _) = wait_until(&mut child, 0, Duration::from_secs(30));
    println!(
        "  after release: {w} waiting, VmRSS {} KiB",
        child.rss_kib()
    );
    child.stop();
}
