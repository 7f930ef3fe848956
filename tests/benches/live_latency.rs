//! Benchmark: how fast work reaches a person (issue 14). 240 devices of the Zhenxing roster
//! (every grid worker, street chief, community chief, centre staff member, official,
//! department staff member and volunteer, and a grid informant of each of the first 36 grids)
//! run their sync engine in the foreground, waiting on the server's wake-up channel (decision
//! 0029); nobody calls `sync_now`. Street chiefs take turns: one reports a case at the middle
//! of its road segment, pauses 300 ms (a person's second action; longer than the engines'
//! 200 ms write debounce) and forwards it to the grid worker of the case's grid. Measured: the
//! time from the forward on the chief's device until the grid worker's device store holds it
//! as forwarded (polled every 2 ms), and on the way the time until the chief's outbox is empty
//! (its sync answered).
//!
//! Two runs in one invocation: (a) one instance on SQLite; (b) two instances over one
//! PostgreSQL database, the street chiefs' devices on instance A and the grid workers' on
//! instance B, the other devices split so that each instance holds half; the forward then
//! reaches its recipient through the other instance's feed listener (LISTEN/NOTIFY).
//!
//! `cargo bench -p xiangying-tests --bench live_latency --no-run`, then run the printed binary
//! (or `cargo bench -p xiangying-tests --bench live_latency`). Knobs: `XY_BENCH_FORWARDS`
//! (default 500), `XY_BENCH_BACKENDS` (`sqlite,postgres` by default; PostgreSQL needs
//! `XY_PG_URL` and is skipped with a note without it), `XY_BENCH_DEVICES` (default 240, for
//! measuring how the latency grows with the number of waiting devices), `XY_BENCH_FOREGROUND_S`
//! (the engines' periodic sync in the foreground, seconds, which runs only while the wake-up
//! channel does not answer; default 60 as the engine's default, 0 for none). Printed per run: the median, p90, p99 and the worst, the median of each hundred
//! forwards, the number of distinct recipients, every engine state other than idle and
//! syncing that a device went through (offline, waiting to retry), and afterwards what one
//! wake-up check costs over feed windows of growing size.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xiangying_core::case::Status;
use xiangying_core::ids::PersonId;
use xiangying_core::org::{Point, Role, Roster, Scope};
use xiangying_core::{Device, EngineConfig, EngineState, EngineStatus, NewReport, SyncEngine};
use xiangying_server::blobs::BlobStore;
use xiangying_server::state::{AppState, Limits};
use xiangying_server::storage::postgres::PostgresStorage;
use xiangying_server::storage::with_tx;
use xiangying_server::sync::has_news;
use xiangying_server::{Running, spawn};
use xiangying_tests::{Field, drop_schema, zhenxing_org};

/// A littering report (环境卫生 › 暴露垃圾), as street_sync uses.
const CATEGORY: &str = "010101";

/// The pause between a report and its forward: longer than the engines' write debounce.
const PAUSE: Duration = Duration::from_millis(300);

/// How often the recipient's store is looked at.
const POLL: Duration = Duration::from_millis(2);

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The first `n` people of the cast, in this order: street chiefs and grid workers (the
/// senders and recipients), the other staff and the volunteers, then grid informants, the
/// first of every grid before any grid's second; residents never. Roster order within each.
fn cast(roster: &Roster, n: usize) -> Vec<String> {
    let mut nth_in_grid: BTreeMap<String, usize> = BTreeMap::new();
    let mut ranked: Vec<(usize, String)> = roster
        .people
        .iter()
        .filter(|p| p.role != Role::Resident)
        .map(|p| {
            let rank = match p.role {
                r if r.is_street_chief() || r == Role::GridWorker => 0,
                Role::GridInformant => {
                    let nth = nth_in_grid.entry(format!("{:?}", p.scope)).or_default();
                    *nth += 1;
                    1 + *nth
                }
                _ => 1,
            };
            (rank, p.id.clone())
        })
        .collect();
    ranked.sort_by_key(|(rank, _)| *rank);
    ranked.into_iter().take(n).map(|(_, id)| id).collect()
}

/// The middle of the first stretch of a street chief's road segment.
fn spot(roster: &Roster, person: &str) -> Point {
    let me = roster
        .people
        .iter()
        .find(|p| p.id == person)
        .expect("in the roster");
    let Scope::Segment(s) = &me.scope else {
        panic!("{person} is not a street chief")
    };
    let seg = roster.segment(s).expect("segment");
    let (a, b) = (seg.polyline[0], seg.polyline[1]);
    Point {
        lon: (a.lon + b.lon) / 2.0,
        lat: (a.lat + b.lat) / 2.0,
    }
}

/// Engine states other than idle and syncing, by kind, with the first reason of each.
#[derive(Default)]
struct Troubles {
    count: AtomicUsize,
    seen: Mutex<BTreeMap<String, (usize, String)>>,
}

impl Troubles {
    fn note(&self, s: &EngineStatus) {
        let (kind, reason) = match &s.state {
            EngineState::Offline { reason, .. } => ("offline".to_string(), reason.clone()),
            EngineState::WaitingToRetry { code, reason, .. } => {
                (format!("retry:{code}"), reason.clone())
            }
            EngineState::UpgradeRequired(r) => ("upgrade".to_string(), format!("{r:?}")),
            _ => return,
        };
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut seen = self.seen.lock().unwrap();
        seen.entry(kind).or_insert((0, reason)).0 += 1;
    }

    fn summary(&self) -> String {
        let seen = self.seen.lock().unwrap();
        if seen.is_empty() {
            return "none".into();
        }
        seen.iter()
            .map(|(k, (n, r))| format!("{k} ×{n} (first: {r})"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The servers of one run: one, or two over one PostgreSQL schema.
struct Servers {
    field: Field,
    second: Option<Running>,
}

impl Servers {
    fn sqlite() -> Servers {
        Servers {
            field: Field::with_backend(zhenxing_org(), None, limits()),
            second: None,
        }
    }

    fn postgres(url: &str) -> Servers {
        let schema = format!("live_latency_{}", std::process::id());
        let field = Field::with_backend(
            zhenxing_org(),
            Some((url.to_string(), schema.clone())),
            limits(),
        );
        let storage = Arc::new(PostgresStorage::connect_with_schema(url, &schema).expect("pg"));
        let photos = field.state().blobs.root().to_path_buf();
        let state = Arc::new(AppState::new(
            storage,
            BlobStore::new(photos, field.limits.max_photo),
            field.limits.clone(),
        ));
        let second = spawn(state, "127.0.0.1:0".parse().expect("addr")).expect("second instance");
        Servers {
            field,
            second: Some(second),
        }
    }

    /// Requests waiting on the wake-up channel, over every instance.
    fn waiting(&self) -> usize {
        self.field.server.state.wake.waiting()
            + self.second.as_ref().map_or(0, |s| s.state.wake.waiting())
    }
}

/// The server's limits for the bench: the defaults.
fn limits() -> Limits {
    Limits::default()
}

/// The wake-up channel's store check (`sync::has_news`, what a wait runs when it first looks
/// and after a ring that may concern it) for a person with nothing in scope: its median time
/// over windows of the last 10, 100 and 1,000 feed positions and the whole feed (21 checks
/// each), on the first instance's store.
fn check_costs(servers: &Servers, roster: &Roster) -> String {
    let person = roster
        .people
        .iter()
        .find(|p| p.role == Role::DepartmentStaff)
        .map(|p| PersonId::from(p.id.as_str()))
        .expect("a department staff member");
    let state = servers.field.state();
    let storage = state.storage.as_ref();
    let upto = with_tx(storage, |tx| tx.max_position()).expect("max position");
    [10u64, 100, 1_000, upto]
        .iter()
        .map(|&window| {
            let cursor = upto.saturating_sub(window);
            let mut us: Vec<f64> = (0..21)
                .map(|_| {
                    let t = Instant::now();
                    let news = with_tx(storage, |tx| has_news(tx, roster, &person, cursor))
                        .expect("has_news");
                    assert!(!news, "the probe's person has nothing in scope");
                    t.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            us.sort_by(f64::total_cmp);
            format!("{} positions {:.0} µs", upto - cursor, us[10])
        })
        .collect::<Vec<_>>()
        .join(", ")
}

struct Run {
    label: &'static str,
    devices: usize,
    on_a: usize,
    ms: Vec<f64>,
    pushed_ms: Vec<f64>,
    recipients: usize,
    troubles: String,
    trouble_count: usize,
    setup_s: f64,
    checks: String,
}

fn run(label: &'static str, servers: Servers, n: usize, forwards: usize) -> Run {
    let t_setup = Instant::now();
    let mut servers = servers;
    let roster = servers.field.dev_roster();
    let people = cast(&roster, n);
    assert_eq!(people.len(), n, "the roster has {n} people for the cast");
    let role = |id: &str| {
        roster
            .people
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.role)
            .expect("in the roster")
    };
    // Two instances: street chiefs on A, grid workers on B, the others to even them up.
    let url_a = servers.field.server.url();
    let url_b = servers.second.as_ref().map(|s| s.url());
    let mut on_a = 0usize;
    let mut placement: Vec<(String, String)> = Vec::new();
    if let Some(url_b) = &url_b {
        let half = n / 2;
        let chiefs = people.iter().filter(|p| role(p).is_street_chief()).count();
        let mut a_left = half.saturating_sub(chiefs);
        for p in &people {
            let r = role(p);
            let to_a = if r.is_street_chief() {
                true
            } else if r == Role::GridWorker {
                false
            } else if a_left > 0 {
                a_left -= 1;
                true
            } else {
                false
            };
            on_a += usize::from(to_a);
            let url = if to_a { url_a.clone() } else { url_b.clone() };
            placement.push((p.clone(), url));
        }
    } else {
        on_a = n;
        placement = people.iter().map(|p| (p.clone(), url_a.clone())).collect();
    }
    let config = EngineConfig {
        debounce: Duration::from_millis(200),
        start_in_foreground: true,
        foreground_period: match knob("XY_BENCH_FOREGROUND_S", 60) {
            0 => None,
            s => Some(Duration::from_secs(s as u64)),
        },
        ..EngineConfig::default()
    };
    let troubles = Arc::new(Troubles::default());
    let mut devices: BTreeMap<String, Arc<Device>> = BTreeMap::new();
    let mut engines = Vec::new();
    for (p, url) in &placement {
        servers.field.enrol_via(p, url);
        let d = Arc::new(servers.field.devices.remove(p).expect("enrolled"));
        let t = troubles.clone();
        let listener = Box::new(move |s: &EngineStatus| t.note(s));
        let engine = SyncEngine::start(d.clone(), config, listener).expect("engine");
        engines.push(engine);
        devices.insert(p.clone(), d);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while servers.waiting() < n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} devices waited",
            servers.waiting()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let setup_s = t_setup.elapsed().as_secs_f64();
    let chiefs: Vec<&String> = people
        .iter()
        .filter(|p| role(p).is_street_chief())
        .collect();
    let mut ms = Vec::with_capacity(forwards);
    let mut pushed_ms = Vec::with_capacity(forwards);
    let mut recipients = BTreeSet::new();
    for i in 0..forwards {
        let who = chiefs[i % chiefs.len()];
        let chief = &devices[who];
        let id = chief
            .report(&NewReport {
                category: CATEGORY.into(),
                location: spot(&roster, who),
                grid: None,
                segment: None,
                description: format!("{who} 第{i}项"),
            })
            .expect("report");
        let grid = chief.case(&id).expect("case").facts.grid;
        let to = roster
            .grid_worker_of(&grid)
            .expect("a grid worker")
            .id
            .clone();
        let worker = devices.get(&to).expect("the grid worker has a device");
        recipients.insert(to.clone());
        std::thread::sleep(PAUSE);
        chief.forward(&id, "请处理").expect("forward");
        let t0 = Instant::now();
        let mut pushed = None;
        loop {
            if pushed.is_none() && chief.outbox_len().expect("outbox") == 0 {
                pushed = Some(t0.elapsed());
            }
            let got = worker
                .case(&id)
                .is_ok_and(|c| c.state.status == Status::Forwarded);
            if got {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "forward {i} ({who} → {to}) never arrived"
            );
            std::thread::sleep(POLL);
        }
        let took = t0.elapsed();
        ms.push(took.as_secs_f64() * 1000.0);
        pushed_ms.push(pushed.unwrap_or(took).as_secs_f64() * 1000.0);
    }
    for e in engines {
        e.stop();
    }
    let checks = check_costs(&servers, &roster);
    if let Some((url, schema)) = servers.field.postgres.clone() {
        drop(servers);
        drop_schema(&url, &schema);
    }
    Run {
        label,
        devices: n,
        on_a,
        ms,
        pushed_ms,
        recipients: recipients.len(),
        trouble_count: troubles.count.load(Ordering::Relaxed),
        troubles: troubles.summary(),
        setup_s,
        checks,
    }
}

fn quantiles(mut v: Vec<f64>) -> [f64; 4] {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    [at(0.5), at(0.9), at(0.99), v[v.len() - 1]]
}

/// The median of each hundred forwards, in order.
fn by_hundred(ms: &[f64]) -> String {
    ms.chunks(100)
        .map(|c| format!("{:.0}", quantiles(c.to_vec())[0]))
        .collect::<Vec<_>>()
        .join(", ")
}

fn report(r: &Run) {
    let [p50, p90, p99, worst] = quantiles(r.ms.clone());
    let [q50, q90, q99, qworst] = quantiles(r.pushed_ms.clone());
    let share = if r.on_a == r.devices {
        String::new()
    } else {
        format!(
            " ({} on instance A with the street chiefs, {} on B with the grid workers)",
            r.on_a,
            r.devices - r.on_a
        )
    };
    let hundreds = by_hundred(&r.ms);
    println!(
        "live_latency [{}]: {} forwards from street chiefs to {} grid workers' stores over {} \
         waiting devices{share}: p50 {p50:.0} ms, p90 {p90:.0} ms, p99 {p99:.0} ms, worst \
         {worst:.0} ms (p50 of each hundred: {hundreds} ms); the chief's sync answered (outbox \
         empty): p50 {q50:.0} ms, p90 {q90:.0} ms, p99 {q99:.0} ms, worst {qworst:.0} ms; \
         set-up {:.0} s; engine troubles: {} ({}); afterwards, the wake-up check with nothing \
         in scope over the last {}",
        r.label,
        r.ms.len(),
        r.recipients,
        r.devices,
        r.setup_s,
        r.trouble_count,
        r.troubles,
        r.checks
    );
}

fn main() {
    let forwards = knob("XY_BENCH_FORWARDS", 500);
    let n = knob("XY_BENCH_DEVICES", 240);
    let backends =
        std::env::var("XY_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_string());
    for backend in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let r = match backend {
            "sqlite" => run("one instance, SQLite", Servers::sqlite(), n, forwards),
            "postgres" => match std::env::var("XY_PG_URL") {
                Ok(url) => run(
                    "two instances, one PostgreSQL",
                    Servers::postgres(&url),
                    n,
                    forwards,
                ),
                Err(_) => {
                    println!(
                        "live_latency [two instances, one PostgreSQL]: skipped, XY_PG_URL is not \
                         set (export XY_PG_URL=$(bash scripts/postgres | tail -n 1))"
                    );
                    continue;
                }
            },
            other => panic!("XY_BENCH_BACKENDS: unknown backend {other:?} (sqlite, postgres)"),
        };
        report(&r);
    }
}
