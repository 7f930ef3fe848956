//! Benchmark: scale curves (issue 18). How the server's cost per sync and a device's first
//! full pull grow as the street grows. For each street of `D` grids (one grid worker each,
//! every one enrolled through the real HTTP endpoint: `xiangying_tests::street_day::street`)
//! and each size `N` of the store, the store grown in place (1,000 cases, then 10,000, then
//! 100,000), cases written straight into the server's store as a push leaves them
//! (`xiangying_tests::street_year::seed`), spread evenly over the grids, reported by each
//! grid's worker; then, over loopback through a counting proxy (HTTP requests and bytes both
//! ways, heads included) to the real server on its SQLite store:
//!
//! 1. **no-op**: the up-to-date device of grid 1's worker syncs with nothing new;
//! 2. **one change**: the same device adds a note to one of its own cases, then syncs;
//! 3. **pull**: a fresh second device of grid 1's worker syncs its grid (`N / D` cases).
//!
//! Times are medians over repetitions; the bytes are those of one repetition.
//!
//! `cargo bench -p xiangying-tests --bench scale_curve`. Knobs: `XY_SCALE_SIZES` (comma list,
//! `1000,10000,100000`), `XY_SCALE_DEVICES` (comma list, `150,2000`), `XY_SCALE_RUNS` (no-op
//! and one-change repetitions, 7), `XY_SCALE_PULLS` (pull repetitions, 3), `XY_SCALE_OUT` (a
//! folder to write `scale.json` and the plot `scale.svg` to; a relative one is taken from the
//! workspace's root).

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use xiangying_core::Device;
use xiangying_core::org::{Role, Roster, Scope};
use xiangying_model::case::{Action, Assignee, CaseKind, Claim, Event, Facts, fold};
use xiangying_server::admin;
use xiangying_tests::counting_proxy::{CountingProxy, Counts};
use xiangying_tests::street_day::{CATEGORY, grid_id, inside, street, worker_id};
use xiangying_tests::street_year::{Case, seed};
use xiangying_tests::{Field, env_or};

/// The grid whose worker's devices sync and pull.
const GRID: usize = 1;

/// What one measured sync moved.
#[derive(Debug, Clone, Default)]
struct Sync {
    /// Wall time of `sync_now`, in milliseconds (a median over repetitions).
    ms: f64,
    requests: u64,
    up: u64,
    down: u64,
}

impl Sync {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "ms": self.ms,
            "requests": self.requests,
            "bytes_up": self.up,
            "bytes_down": self.down,
        })
    }
}

/// One point of the curves: a street of `devices` grids holding `cases` cases.
#[derive(Debug, Clone)]
struct Point {
    devices: usize,
    cases: usize,
    /// Seconds spent seeding the cases added for this point.
    seed_s: f64,
    noop: Sync,
    change: Sync,
    pull: Sync,
    /// Cases the fresh device holds after its pull.
    pull_cases: usize,
}

impl Point {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "devices": self.devices,
            "cases": self.cases,
            "seed_s": self.seed_s,
            "noop": self.noop.json(),
            "change": self.change.json(),
            "pull": self.pull.json(),
            "pull_cases": self.pull_cases,
        })
    }
}

/// A comma list of numbers from the environment, or `default`.
fn list(name: &str, default: &[usize]) -> Vec<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .split(',')
            .map(|s| s.trim().parse().expect("a comma list of numbers"))
            .collect(),
        Err(_) => default.to_vec(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A new device of `person` in `folder` under the field's, enrolled through `url`.
fn enrol(f: &Field, person: &str, url: &str, folder: &str) -> Device {
    let code = admin::issue_code(f.server.state.storage.as_ref(), person).expect("code");
    let d = Device::open(&f.root.path().join("devices").join(folder)).expect("open");
    d.enrol(url, &code, &format!("{person}'s phone"))
        .expect("enrol");
    d
}

/// Enrols the grid workers of grids `2..=n` through `url`, two at a time, and throws their
/// devices away (the server keeps them enrolled; their folders would only fill the disk).
fn enrol_the_rest(f: &Field, n: usize, url: &str) {
    let next = Mutex::new(2usize);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut k = next.lock().expect("lock");
                        *k += 1;
                        *k - 1
                    };
                    if i > n {
                        break;
                    }
                    let folder = format!("d{i}");
                    drop(enrol(f, &worker_id(i), url, &folder));
                    std::fs::remove_dir_all(f.root.path().join("devices").join(folder))
                        .expect("remove a device folder");
                }
            });
        }
    });
}

/// Cases `from..to` of a street of `grids` grids: case `k` is in grid `k % grids + 1`,
/// reported by its grid worker inside the grid, a minute after case `k - 1`.
fn cases(roster: &Roster, grids: usize, from: usize, to: usize, epoch: i64) -> Vec<Case> {
    (from..to)
        .map(|k| {
            let i = k % grids + 1;
            let gw = worker_id(i);
            let grid = roster.grid(&grid_id(i)).expect("the street has the grid");
            let at = epoch + k as i64 * 60_000;
            let facts = Facts {
                id: format!("5ca1e000-0000-4000-8000-{k:012}"),
                kind: CaseKind::Problem,
                category: CATEGORY.into(),
                category_name: "井盖破损".into(),
                limit_hours: 24,
                clock: None,
                deadline: None,
                reporter: gw.clone(),
                created_at: at,
                location: inside(i, k / grids),
                grid: grid.id.clone(),
                community: grid.community.clone(),
                segment: None,
                description: "井盖松动，车辆经过时有明显响声。".into(),
            };
            let claim = Claim {
                person: gw.clone(),
                role: Role::GridWorker,
                scope: Scope::Grid(grid.id.clone()),
            };
            let events = vec![Event::new(
                at,
                claim,
                Action::Reported {
                    assignee: Assignee::Person(gw),
                },
            )];
            let state = fold(&facts, &events);
            (facts, events, state)
        })
        .collect()
}

/// The proxy's counts once the last response's bytes are tallied (the proxy counts a chunk
/// after it forwards it, so a device can finish before its last bytes are counted).
fn settled(proxy: &CountingProxy) -> Counts {
    std::thread::sleep(std::time::Duration::from_millis(50));
    proxy.counts()
}

/// Times `d`'s sync `runs` times (`before` runs first each time, untimed); returns the median
/// time and the counts of the last.
fn measure(d: &Device, proxy: &CountingProxy, runs: usize, before: &dyn Fn()) -> Sync {
    let mut times = Vec::new();
    let mut last = Counts::default();
    for _ in 0..runs {
        before();
        let c = settled(proxy);
        let t = Instant::now();
        d.sync_now(&|_| {}).expect("sync");
        times.push(t.elapsed().as_secs_f64() * 1e3);
        last = settled(proxy).since(&c);
    }
    Sync {
        ms: median(times),
        requests: last.requests,
        up: last.bytes_up,
        down: last.bytes_down,
    }
}

/// The curves of a street of `grids` grids over the store sizes `sizes` (ascending).
fn street_curve(grids: usize, sizes: &[usize], runs: usize, pulls: usize) -> Vec<Point> {
    let org = street(grids);
    let roster = Roster::from_json("scale street", &org.0).expect("roster");
    let f = Field::new(org);
    let proxy = CountingProxy::start(f.server.addr);
    let url = proxy.url();
    let t = Instant::now();
    let own = enrol(&f, &worker_id(GRID), &url, "own");
    enrol_the_rest(&f, grids, &url);
    eprintln!(
        "{grids} devices enrolled in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    // The last of the largest store's cases is reported an hour ago.
    let epoch = now - 3_600_000 - sizes.iter().max().copied().unwrap_or(0) as i64 * 60_000;
    let storage = f.server.state.storage.clone();
    let mut seeded = 0;
    let mut points = Vec::new();
    for (step, &n) in sizes.iter().enumerate() {
        let t = Instant::now();
        for from in (seeded..n).step_by(10_000) {
            seed(
                storage.as_ref(),
                &cases(&roster, grids, from, n.min(from + 10_000), epoch),
            );
        }
        let seed_s = t.elapsed().as_secs_f64();
        eprintln!(
            "{grids} grids: {n} cases seeded (+{}) in {seed_s:.1} s",
            n - seeded
        );
        seeded = n;
        own.sync_now(&|_| {}).expect("catch up");
        let noop = measure(&own, &proxy, runs, &|| {});
        let mine = own.all_cases(1).expect("cases");
        let case = &mine.first().expect("grid 1 has cases").id;
        let change = measure(&own, &proxy, runs, &|| {
            own.note(case, "已到现场查看").expect("note");
        });
        let mut times = Vec::new();
        let mut pull = Sync::default();
        let mut pull_cases = 0;
        for p in 0..pulls {
            let folder = format!("fresh-{step}-{p}");
            let fresh = enrol(&f, &worker_id(GRID), &url, &folder);
            let c = settled(&proxy);
            let t = Instant::now();
            fresh.sync_now(&|_| {}).expect("pull");
            times.push(t.elapsed().as_secs_f64() * 1e3);
            let got = settled(&proxy).since(&c);
            pull = Sync {
                ms: 0.0,
                requests: got.requests,
                up: got.bytes_up,
                down: got.bytes_down,
            };
            pull_cases = fresh.all_cases(u32::MAX).expect("cases").len();
            drop(fresh);
            std::fs::remove_dir_all(f.root.path().join("devices").join(folder))
                .expect("remove the fresh device");
        }
        pull.ms = median(times);
        let point = Point {
            devices: grids,
            cases: n,
            seed_s,
            noop,
            change,
            pull,
            pull_cases,
        };
        println!("{}", row(&point));
        points.push(point);
    }
    points
}

/// The table's head.
const HEAD: &str = "| devices | cases | no-op ms | no-op req | no-op B up/down | one change ms | \
                    one change B up/down | pull cases | pull ms | pull req | pull B down | \
                    pull µs/case |";

/// One row of the table.
fn row(p: &Point) -> String {
    format!(
        "| {} | {} | {:.1} | {} | {}/{} | {:.1} | {}/{} | {} | {:.0} | {} | {} | {:.0} |",
        p.devices,
        p.cases,
        p.noop.ms,
        p.noop.requests,
        p.noop.up,
        p.noop.down,
        p.change.ms,
        p.change.up,
        p.change.down,
        p.pull_cases,
        p.pull.ms,
        p.pull.requests,
        p.pull.down,
        p.pull.ms * 1e3 / p.pull_cases.max(1) as f64,
    )
}

/// A plotted line: its name, colour, dash pattern and points `(cases, value)`.
struct Line {
    name: String,
    colour: &'static str,
    dash: &'static str,
    points: Vec<(f64, f64)>,
}

/// Ticks at 1, 2 and 5 times each power of ten within `lo..=hi`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi {
        for m in [1.0, 2.0, 5.0] {
            let v = decade * m;
            if v >= lo * 0.999 && v <= hi * 1.001 {
                out.push(v);
            }
        }
        decade *= 10.0;
    }
    out
}

/// A number as a tick label: 1k, 20k, 0.5, 200, 2M.
fn label(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{}k", v / 1e3)
    } else {
        format!("{v}")
    }
}

/// One log-log panel of `w` × `h` at (`x0`, `y0`), with a title, axis names and a legend.
fn panel(
    svg: &mut String,
    (x0, y0, w, h): (f64, f64, f64, f64),
    title: &str,
    y_name: &str,
    lines: &[Line],
) {
    let all: Vec<(f64, f64)> = lines.iter().flat_map(|l| l.points.clone()).collect();
    if all.is_empty() {
        return;
    }
    let pos = |v: f64| v.max(1e-9);
    let (xmin, xmax) = all
        .iter()
        .fold((f64::MAX, 0f64), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (ymin, ymax) = all
        .iter()
        .fold((f64::MAX, 0f64), |(a, b), p| (a.min(pos(p.1)), b.max(p.1)));
    // Whole decades around the data.
    let (xlo, xhi) = (
        10f64.powf(xmin.log10().floor()),
        10f64.powf(xmax.log10().ceil()),
    );
    let (ylo, yhi) = (
        10f64.powf(ymin.log10().floor()),
        10f64.powf(ymax.log10().ceil()),
    );
    let (xhi, yhi) = (xhi.max(xlo * 10.0), yhi.max(ylo * 10.0));
    let (left, right, top, bottom) = (70.0, 215.0, 34.0, 46.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let px = |v: f64| x0 + left + (v.log10() - xlo.log10()) / (xhi.log10() - xlo.log10()) * pw;
    let py =
        |v: f64| y0 + top + ph - (pos(v).log10() - ylo.log10()) / (yhi.log10() - ylo.log10()) * ph;
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" font-size="16" font-weight="bold">{title}</text>"#,
        x0 + left,
        y0 + 22.0
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{:.1}" y="{:.1}" width="{pw:.1}" height="{ph:.1}" fill="none" stroke="#444"/>"##,
        x0 + left,
        y0 + top
    );
    for v in ticks(xlo, xhi) {
        let x = px(v);
        let major = (v.log10().fract()).abs() < 1e-9;
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="{}"/>"##,
            y0 + top,
            y0 + top + ph,
            if major { "#ccc" } else { "#eee" }
        );
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" font-size="12" text-anchor="middle">{}</text>"#,
            y0 + top + ph + 16.0,
            label(v)
        );
    }
    for v in ticks(ylo, yhi) {
        let y = py(v);
        let major = (v.log10().fract()).abs() < 1e-9;
        let _ = writeln!(
            svg,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{}"/>"##,
            x0 + left,
            x0 + left + pw,
            if major { "#ccc" } else { "#eee" }
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{}</text>"#,
            x0 + left - 6.0,
            y + 4.0,
            label(v)
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle">cases in the server's store</text>"#,
        x0 + left + pw / 2.0,
        y0 + h - 8.0
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate({:.1},{:.1}) rotate(-90)" font-size="13" text-anchor="middle">{y_name}</text>"#,
        x0 + 16.0,
        y0 + top + ph / 2.0
    );
    for (k, l) in lines.iter().enumerate() {
        let pts: Vec<String> = l
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>"#,
            pts.join(" "),
            l.colour,
            l.dash
        );
        for &(x, y) in &l.points {
            let _ = writeln!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{}"/>"#,
                px(x),
                py(y),
                l.colour
            );
        }
        let (lx, ly) = (x0 + left + pw + 14.0, y0 + top + 12.0 + k as f64 * 20.0);
        let _ = writeln!(
            svg,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>"#,
            lx + 28.0,
            l.colour,
            l.dash
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            lx + 34.0,
            ly + 4.0,
            l.name
        );
    }
}

/// The plot: time against cases above, the pull's bytes received against cases below.
fn plot(points: &[Point]) -> String {
    let mut streets: Vec<usize> = points.iter().map(|p| p.devices).collect();
    streets.dedup();
    let dash = |k: usize| ["", "7,4", "2,3", "10,3,2,3"][k % 4];
    let mut time = Vec::new();
    let mut bytes = Vec::new();
    for (k, &d) in streets.iter().enumerate() {
        let of = |f: &dyn Fn(&Point) -> f64| -> Vec<(f64, f64)> {
            points
                .iter()
                .filter(|p| p.devices == d)
                .map(|p| (p.cases as f64, f(p)))
                .collect()
        };
        for (name, colour, f) in [
            (
                "pull",
                "#d62728",
                &(|p: &Point| p.pull.ms) as &dyn Fn(&Point) -> f64,
            ),
            ("one change", "#1f77b4", &|p: &Point| p.change.ms),
            ("no-op", "#2ca02c", &|p: &Point| p.noop.ms),
        ] {
            time.push(Line {
                name: format!("{name}, {d} devices"),
                colour,
                dash: dash(k),
                points: of(f),
            });
        }
        bytes.push(Line {
            name: format!("pull, {d} devices"),
            colour: "#d62728",
            dash: dash(k),
            points: of(&|p: &Point| p.pull.down as f64),
        });
        bytes.push(Line {
            name: format!("no-op, {d} devices"),
            colour: "#2ca02c",
            dash: dash(k),
            points: of(&|p: &Point| p.noop.down as f64),
        });
    }
    let (w, h) = (800.0, 420.0);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{}" viewBox="0 0 {w} {}" font-family="sans-serif">"#,
        2.0 * h,
        2.0 * h
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    panel(
        &mut svg,
        (0.0, 0.0, w, h),
        "Time of one sync (median)",
        "time (ms)",
        &time,
    );
    panel(
        &mut svg,
        (0.0, h, w, h),
        "Bytes received (HTTP, heads included)",
        "bytes received",
        &bytes,
    );
    svg.push_str("</svg>\n");
    svg
}

fn main() {
    let sizes = {
        let mut s = list("XY_SCALE_SIZES", &[1_000, 10_000, 100_000]);
        s.sort_unstable();
        s
    };
    let streets = list("XY_SCALE_DEVICES", &[150, 2_000]);
    let runs: usize = env_or("XY_SCALE_RUNS", 7);
    let pulls: usize = env_or("XY_SCALE_PULLS", 3);
    let mut points = Vec::new();
    println!("{HEAD}");
    for &d in &streets {
        points.extend(street_curve(d, &sizes, runs, pulls));
    }
    println!("\n{HEAD}\n|{}", "---|".repeat(HEAD.matches(" |").count()));
    for p in &points {
        println!("{}", row(p));
    }
    if let Ok(dir) = std::env::var("XY_SCALE_OUT") {
        // `cargo bench` runs in the package's folder: a relative folder is the workspace's.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(dir);
        let dir = dir.as_path();
        std::fs::create_dir_all(dir).expect("out folder");
        let json = serde_json::json!({
            "runs": runs,
            "pulls": pulls,
            "points": points.iter().map(Point::json).collect::<Vec<_>>(),
        });
        std::fs::write(
            dir.join("scale.json"),
            serde_json::to_vec_pretty(&json).expect("json"),
        )
        .expect("write scale.json");
        std::fs::write(dir.join("scale.svg"), plot(&points)).expect("write scale.svg");
        eprintln!("wrote {}", dir.join("scale.svg").display());
    }
}
