//! Benchmark: the anchors' street day (`scripts/bench-anchors` runs it beside PouchDB and
//! automerge-repo on the same machine): 150 grid workers, each the only device of its grid,
//! record 30 reports offline with 2.33 edits each (`xiangying_tests::street_day`); then, over
//! loopback through a counting proxy (HTTP requests and bytes both ways, heads included) to the
//! real server on its SQLite store:
//!
//! 1. **push**: every device syncs once, 8 at a time (`c8`, as the anchors' fastest mode);
//! 2. **no-op**: every device syncs again, one after another, with nothing new;
//! 3. **pull**: a fresh second device of grid 17's worker syncs its grid (30 cases), then
//!    fetches every photo and thumbnail of them (with photos only);
//! 4. with `XY_BENCH_PHOTOS=1`, the same day again on a fresh server with two photos of about
//!    250 KiB a report (each with its thumbnail), pushed the same way, and the same files sent
//!    with curl to a sink over the same loopback and through the same kind of counting proxy
//!    (the transport's own cost), once writing each file and once also syncing each to disk,
//!    as the server does before it answers.
//!
//! `cargo bench -p xiangying-tests --bench street_day`. Knobs: `XY_BENCH_RUNS` (default 3,
//! medians printed), `XY_BENCH_DEVICES` (150), `XY_BENCH_REPORTS` (30), `XY_BENCH_PHOTOS`
//! (`1` adds the photo phase), `XY_BENCH_JSON` (a file the medians are written to, for `scripts/bench-anchors`).

use std::sync::Mutex;
use std::time::Instant;
use xiangying_core::Device;
use xiangying_core::photo::ProcessedPhoto;
use xiangying_server::admin;
use xiangying_tests::counting_proxy::{CountingProxy, Counts};
use xiangying_tests::street_day::{PhotoMaker, record_day, street, worker_id};
use xiangying_tests::{Field, env_or};

/// The device whose grid a fresh device pulls, as the anchors pull `G-17`.
const PULLED_GRID: usize = 17;

/// What one phase moved.
#[derive(Debug, Clone, Default)]
struct Phase {
    wall_s: f64,
    requests: u64,
    up: u64,
    down: u64,
}

impl Phase {
    fn of(wall_s: f64, c: &Counts) -> Phase {
        Phase {
            wall_s,
            requests: c.requests,
            up: c.bytes_up,
            down: c.bytes_down,
        }
    }
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "wall_s": self.wall_s,
            "requests": self.requests,
            "bytes_up": self.up,
            "bytes_down": self.down,
        })
    }
}

/// The CPU time this process (devices, server and proxy alike) has used so far, in seconds,
/// from `/proc/self/stat` (10 ms ticks): steadier than the wall time on a shared machine.
fn cpu_seconds() -> f64 {
    cpu_fields(false)
}

/// [`cpu_seconds`] with the CPU time of the child processes waited for (the curl baselines').
fn cpu_seconds_with_children() -> f64 {
    cpu_fields(true)
}

/// utime and stime from `/proc/self/stat`, and cutime and cstime after them when `children`.
fn cpu_fields(children: bool) -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; cutime
    // and cstime follow them.
    let take = if children { 4 } else { 2 };
    f.iter().skip(11).take(take).sum::<f64>() / 100.0
}

/// One run's figures.
#[derive(Debug, Clone, Default)]
struct Run {
    push: Phase,
    /// CPU seconds the push used, devices, server and proxy together.
    push_cpu_s: f64,
    /// Automerge change bytes the push carried.
    change_bytes: u64,
    /// The no-op sync of one device: requests, bytes, and the median time over all devices.
    noop: Phase,
    pull: Phase,
    pull_cases: usize,
}

/// Runs `f` for every device, `threads` at a time.
fn each(devices: &[(usize, Device)], threads: usize, f: &(dyn Fn(usize, &Device) + Sync)) {
    let next = Mutex::new(0usize);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let k = {
                        let mut n = next.lock().expect("lock");
                        *n += 1;
                        *n - 1
                    };
                    let Some((i, d)) = devices.get(k) else { break };
                    f(*i, d);
                }
            });
        }
    });
}

/// A street of `n` devices with their day recorded offline, enrolled through `proxy`.
fn street_with_day(
    n: usize,
    reports: usize,
    photos: &(dyn Fn(usize, usize) -> Vec<ProcessedPhoto> + Sync),
) -> (Field, CountingProxy, Vec<(usize, Device)>) {
    let f = Field::new(street(n));
    let proxy = CountingProxy::start(f.server.addr);
    let url = proxy.url();
    let devices: Vec<(usize, Device)> = (1..=n)
        .map(|i| (i, enrol(&f, &worker_id(i), &url, &format!("d{i}"))))
        .collect();
    each(&devices, 2, &|i, d| {
        record_day(d, i, reports, &|k| photos(i, k))
    });
    (f, proxy, devices)
}

/// A new device of `person` in its own folder under the field's, enrolled through `url`.
fn enrol(f: &Field, person: &str, url: &str, folder: &str) -> Device {
    let code = admin::issue_code(f.server.state.storage.as_ref(), person).expect("code");
    let d = Device::open(&f.root.path().join("devices").join(folder)).expect("open");
    d.enrol(url, &code, &format!("{person}'s phone"))
        .expect("enrol");
    d
}

fn run(n: usize, reports: usize) -> Run {
    let (f, proxy, devices) = street_with_day(n, reports, &|_, _| Vec::new());
    let change_bytes = Mutex::new(0u64);
    eprintln!("the day is recorded on {n} devices; pushing");
    let c0 = settled(&proxy);
    let cpu = cpu_seconds();
    let t = Instant::now();
    each(&devices, 8, &|_, d| {
        let r = d.sync_now(&|_| {}).expect("push");
        *change_bytes.lock().expect("lock") += r.change_bytes_sent;
    });
    let wall = t.elapsed().as_secs_f64();
    let push_cpu_s = cpu_seconds() - cpu;
    let push = Phase::of(wall, &settled(&proxy).since(&c0));
    // Nothing new: each device in turn; the figures are one device's, the time a median.
    let mut times = Vec::new();
    let mut quiet = Counts::default();
    for (_, d) in &devices {
        let c = settled(&proxy);
        let t = Instant::now();
        d.sync_now(&|_| {}).expect("no-op");
        times.push(t.elapsed().as_secs_f64());
        quiet = settled(&proxy).since(&c);
    }
    let noop = Phase {
        wall_s: median(times),
        ..Phase::of(0.0, &quiet)
    };
    // A fresh device of grid 17's worker pulls its grid.
    let fresh = enrol(&f, &worker_id(PULLED_GRID), &proxy.url(), "fresh");
    let c = settled(&proxy);
    let t = Instant::now();
    fresh.sync_now(&|_| {}).expect("pull");
    let pull = Phase::of(t.elapsed().as_secs_f64(), &settled(&proxy).since(&c));
    let pull_cases = fresh.all_cases(10_000).expect("cases").len();
    Run {
        push,
        push_cpu_s,
        change_bytes: change_bytes.into_inner().expect("lock"),
        noop,
        pull,
        pull_cases,
    }
}

/// The photo phase's figures.
#[derive(Debug, Clone, Default)]
struct PhotoRun {
    push: Phase,
    photo_bytes: u64,
    files: u64,
    curl_wall_s: f64,
    /// CPU seconds the push used (devices, server and proxy).
    push_cpu_s: f64,
    /// CPU seconds the plain curl baseline used (curl, the proxy and the sink).
    curl_cpu_s: f64,
    /// The same to a sink that syncs each file before answering, as the server does.
    curl_durable_wall_s: f64,
    pull: Phase,
    pull_files: usize,
    /// The push's answers by HTTP status.
    statuses: std::collections::BTreeMap<u16, u64>,
}

/// The day with two photos of about 250 KiB a report (and their thumbnails), pushed 8 at a
/// time; the same files sent with curl; a fresh device pulling grid 17 with every file.
fn photo_run(n: usize, reports: usize) -> PhotoRun {
    let maker = PhotoMaker::new(256_000);
    let (f, proxy, devices) = street_with_day(n, reports, &|i, k| {
        vec![maker.photo(i, k, 0), maker.photo(i, k, 1)]
    });
    eprintln!("the day with photos is recorded on {n} devices; pushing");
    let totals = Mutex::new((0u64, 0u64));
    let c0 = settled(&proxy);
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    each(&devices, 8, &|_, d| {
        let r = d.sync_now(&|_| {}).expect("push with photos");
        let mut t = totals.lock().expect("lock");
        t.0 += r.photo_bytes_sent;
        t.1 += r.photos_uploaded;
    });
    let pushed = settled(&proxy).since(&c0);
    let push = Phase::of(t.elapsed().as_secs_f64(), &pushed);
    let push_cpu_s = cpu_seconds() - cpu0;
    let (photo_bytes, files) = totals.into_inner().expect("lock");
    let cpu0 = cpu_seconds_with_children();
    let curl_wall_s = curl_baseline(&f, &devices, false);
    let curl_cpu_s = cpu_seconds_with_children() - cpu0;
    let curl_durable_wall_s = curl_baseline(&f, &devices, true);
    let fresh = enrol(&f, &worker_id(PULLED_GRID), &proxy.url(), "fresh");
    let c = settled(&proxy);
    let t = Instant::now();
    fresh.sync_now(&|_| {}).expect("pull");
    let mut pull_files = 0;
    for s in fresh.all_cases(10_000).expect("cases") {
        for p in fresh.case(&s.id).expect("case").photos {
            fresh.fetch_photo(&p.hash).expect("photo");
            fresh.fetch_photo(&p.thumb).expect("thumbnail");
            pull_files += 2;
        }
    }
    let pull = Phase::of(t.elapsed().as_secs_f64(), &settled(&proxy).since(&c));
    PhotoRun {
        push,
        photo_bytes,
        files,
        curl_wall_s,
        push_cpu_s,
        curl_cpu_s,
        curl_durable_wall_s,
        pull,
        pull_files,
        statuses: pushed.statuses,
    }
}

/// Sends every device's photo files with curl, one curl per device (its files over one
/// connection, as PUTs), 8 devices at a time, to a sink on loopback that writes each body to
/// a file (and syncs it, when `durable`); returns the wall time. The files go through a
/// counting proxy as the devices' do, so that both sides of the ratio pay the bench's own
/// hop (decision 0049). Each baseline writes into a folder of its own, kept until the run
/// ends: removing the first sink's files right before the second baseline would make the
/// second pay for the removal on a disk without a journal (decision 0058).
fn curl_baseline(f: &Field, devices: &[(usize, Device)], durable: bool) -> f64 {
    let out = f.root.path().join(if durable {
        "curl-sink-durable"
    } else {
        "curl-sink"
    });
    std::fs::create_dir_all(&out).expect("sink folder");
    let sink = xiangying_tests::sink::Sink::start(&out, durable);
    let sink = CountingProxy::start(sink.addr());
    let t = Instant::now();
    each(devices, 8, &|i, d| {
        let mut cmd = std::process::Command::new("curl");
        cmd.args(["-s", "-f", "-o", "/dev/null", "-H", "Expect:"]);
        for file in std::fs::read_dir(d.dir().join("photos")).expect("photos") {
            let path = file.expect("entry").path();
            for p in walk(&path) {
                cmd.arg("-T").arg(&p).arg(format!("{}/{i}/", sink.url()));
            }
        }
        let status = cmd.status().expect("curl runs");
        assert!(status.success(), "curl: {status}");
    });
    t.elapsed().as_secs_f64()
}

/// Every file under `path` (itself when it is a file).
fn walk(path: &std::path::Path) -> Vec<std::path::PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    std::fs::read_dir(path)
        .expect("dir")
        .flat_map(|e| walk(&e.expect("entry").path()))
        .collect()
}

/// The proxy's counts once the bytes of the last exchange are tallied (it counts a piece
/// after relaying it, so a device may be done before its last bytes are counted); the wait
/// is outside every timed span.
fn settled(proxy: &CountingProxy) -> Counts {
    std::thread::sleep(std::time::Duration::from_millis(30));
    proxy.counts()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The run whose push wall time is the median.
fn median_run(mut runs: Vec<Run>) -> Run {
    runs.sort_by(|a, b| a.push.wall_s.total_cmp(&b.push.wall_s));
    runs.swap_remove(runs.len() / 2)
}

fn main() {
    let runs: usize = env_or("XY_BENCH_RUNS", 3);
    let n: usize = env_or("XY_BENCH_DEVICES", 150);
    let reports: usize = env_or("XY_BENCH_REPORTS", 30);
    let mut all = Vec::new();
    for k in 0..runs {
        let r = run(n, reports);
        println!(
            "run {k}: push {:.3} s ({:.2} CPU s), {} requests, {} B up, {} B down ({} automerge B, {:.3}x); \
             no-op {} requests, {} B, {:.1} ms; pull {} cases {:.3} s, {} requests, {} B",
            r.push.wall_s,
            r.push_cpu_s,
            r.push.requests,
            r.push.up,
            r.push.down,
            r.change_bytes,
            (r.push.up + r.push.down) as f64 / r.change_bytes as f64,
            r.noop.requests,
            r.noop.up + r.noop.down,
            r.noop.wall_s * 1e3,
            r.pull_cases,
            r.pull.wall_s,
            r.pull.requests,
            r.pull.up + r.pull.down,
        );
        all.push(r);
    }
    let push_times: Vec<f64> = all.iter().map(|r| r.push.wall_s).collect();
    let (lo, hi) = (
        push_times.iter().copied().fold(f64::MAX, f64::min),
        push_times.iter().copied().fold(0.0, f64::max),
    );
    let pull_median = median(all.iter().map(|r| r.pull.wall_s).collect());
    let cpu_median = median(all.iter().map(|r| r.push_cpu_s).collect());
    let m = median_run(all);
    println!(
        "median of {runs}: push {:.3} s ({lo:.3}–{hi:.3}), {cpu_median:.2} CPU s; pull {pull_median:.3} s",
        m.push.wall_s
    );
    let photos = (env_or("XY_BENCH_PHOTOS", 0) == 1).then(|| {
        let p = photo_run(n, reports);
        println!(
            "photos: push {:.2} s ({:.2} CPU s), {} requests, {} B up, {} B down for {} files \
             of {} B ({:.4}x); curl {:.2} s ({:.2} CPU s, {:.2}x); pull {} files {:.3} s, {} \
             requests",
            p.push.wall_s,
            p.push_cpu_s,
            p.push.requests,
            p.push.up,
            p.push.down,
            p.files,
            p.photo_bytes,
            (p.push.up + p.push.down) as f64 / p.photo_bytes as f64,
            p.curl_wall_s,
            p.curl_cpu_s,
            p.push.wall_s / p.curl_wall_s,
            p.pull_files,
            p.pull.wall_s,
            p.pull.requests,
        );
        println!(
            "photos: curl to a sink that syncs each file {:.2} s ({:.2}x); answers by status {:?}",
            p.curl_durable_wall_s,
            p.push.wall_s / p.curl_durable_wall_s,
            p.statuses
        );
        serde_json::json!({
            "push": p.push.json(),
            "photo_bytes": p.photo_bytes,
            "files": p.files,
            "curl_wall_s": p.curl_wall_s,
            "push_cpu_s": p.push_cpu_s,
            "curl_cpu_s": p.curl_cpu_s,
            "curl_durable_wall_s": p.curl_durable_wall_s,
            "pull": p.pull.json(),
            "pull_files": p.pull_files,
        })
    });
    if let Ok(path) = std::env::var("XY_BENCH_JSON") {
        let out = serde_json::json!({
            "photos": photos,
            "devices": n,
            "reports_per_device": reports,
            "runs": runs,
            "push": m.push.json(),
            "push_cpu_s": m.push_cpu_s,
            "push_min_s": lo,
            "push_max_s": hi,
            "change_bytes": m.change_bytes,
            "noop": m.noop.json(),
            "pull": m.pull.json(),
            "pull_cases": m.pull_cases,
            "pull_median_s": pull_median,
        });
        std::fs::write(&path, serde_json::to_vec_pretty(&out).expect("json")).expect("write");
    }
}
