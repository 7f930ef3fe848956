//! `xiangying-demo`: the Zhenxing sub-district (振兴街道) on the embedded store, and a simulated field
//! day through real HTTP.
//!
//! Every grid worker, the street chiefs of the segments through the chosen grids, the
//! community chiefs, two volunteers per community, a resident per grid, a centre staff member
//! and the sub-district official who walks along each get a real device store in a folder of
//! their own and enrol with a one-time code. Then, offline all day: street chiefs report with
//! photos and fix or forward; grid workers report and escalate, and walk a patrol of their grid
//! (every other one with the official along); residents ask for help. Sync. Grid workers take
//! on and resolve what was forwarded; community chiefs take escalations and dispatch requests;
//! the official confirms the patrols they walked along on from their own phone. Sync. Two
//! volunteers claim the same request while offline, reporters verify while community chiefs
//! send work back. In between, an hour of live work: every phone's sync engine runs in the
//! foreground, waiting on the server's wake-up channel, and each street chief reports and
//! forwards one more problem; nobody syncs by hand, and the time until the forward is in the
//! grid worker's phone is measured. Sync until quiet. Finally every device's copy of every case it holds is
//! and patrol it holds is compared with the server's, byte for byte, and each device must hold
//! exactly the cases and patrols its person may see.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xiangying_core::{Device, EngineConfig, NewReport, NewRequest, SyncEngine};
use xiangying_model::case::{Assignee, CaseKind, Outcome, PhotoStage, Status};
use xiangying_model::document::Document;
use xiangying_model::ids::{DocId, PersonId};
use xiangying_model::org::{
    Catalogue, CategoryKind, Level, Point, Role, Roster, Scope, polygon_centroid, zhenxing,
};
use xiangying_model::patrol::{PatrolPlace, TrackPoint};
use xiangying_model::sync::keys::AccessKey;
use xiangying_model::sync::scope::may_see;
use xiangying_model::sync::synced::SyncedDoc;
use xiangying_server::error::ServerError;
use xiangying_server::state::AppState;
use xiangying_server::storage::{FeedScope, with_tx};
use xiangying_server::sync::scope_of;
use xiangying_server::{Config, admin, app_state, spawn};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a field day did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Devices that took part.
    pub devices: usize,
    /// Cases on the server.
    pub cases: usize,
    /// Events in all cases.
    pub events: usize,
    /// Events that lost a conflict (kept in the history with the reason).
    pub rejected: usize,
    /// Photo files uploaded.
    pub photos: u64,
    /// Sync body bytes the devices sent.
    pub sync_bytes_up: u64,
    /// Sync body bytes the devices received.
    pub sync_bytes_down: u64,
    /// Photo bytes uploaded.
    pub photo_bytes: u64,
    /// automerge bytes carried by the sync bodies, both ways, counted for every device that
    /// sent or received them (the feed sends a change to each device that may see its case).
    pub change_bytes: u64,
    /// Sync round trips.
    pub round_trips: u64,
    /// Wall-clock seconds of the whole day, set-up included.
    pub seconds: f64,
    /// Device copies compared with the server's.
    pub compared: usize,
    /// Patrols on the server.
    pub patrols: usize,
    /// The live hour: milliseconds from each street chief's forward to the case being in the
    /// grid worker's phone, sorted.
    pub live_ms: Vec<f64>,
}

impl Summary {
    /// The `q` quantile (0 to 1) of the live forwards' latencies, if there were any.
    pub fn live_quantile(&self, q: f64) -> Option<f64> {
        let last = self.live_ms.len().checked_sub(1)?;
        let at = (last as f64 * q.clamp(0.0, 1.0)).round() as usize;
        self.live_ms.get(at).copied()
    }
}

/// Who takes part.
struct Cast {
    people: Vec<String>,
}

fn cast(roster: &Roster, grids: usize) -> Cast {
    let chosen: BTreeSet<&str> = roster
        .grids
        .iter()
        .take(grids.clamp(1, roster.grids.len()))
        .map(|g| g.id.as_str())
        .collect();
    let communities: BTreeSet<&str> = roster
        .grids
        .iter()
        .filter(|g| chosen.contains(g.id.as_str()))
        .map(|g| g.community.as_str())
        .collect();
    let mut people = Vec::new();
    let mut volunteers: BTreeMap<&str, usize> = BTreeMap::new();
    let mut residents: BTreeSet<&str> = BTreeSet::new();
    let mut centre = false;
    for p in &roster.people {
        // One row per role: who of them is in the demo's cast.
        let take = match p.role {
            Role::GridWorker => matches!(&p.scope, Scope::Grid(g) if chosen.contains(g.as_str())),
            Role::PartyStreetChief | Role::MerchantStreetChief => match &p.scope {
                Scope::Segment(s) => roster
                    .grids_along(s)
                    .iter()
                    .any(|g| chosen.contains(g.id.as_str())),
                _ => false,
            },
            Role::CommunityChief => {
                matches!(&p.scope, Scope::Community(c) if communities.contains(c.as_str()))
            }
            // Two volunteers of each community.
            Role::Volunteer => match &p.scope {
                Scope::Community(c) if communities.contains(c.as_str()) => {
                    let n = volunteers.entry(c.as_str()).or_default();
                    *n += 1;
                    *n <= 2
                }
                _ => false,
            },
            // One resident of each grid.
            Role::Resident => match &p.scope {
                Scope::Grid(g) if chosen.contains(g.as_str()) => residents.insert(g.as_str()),
                _ => false,
            },
            // The first of the centre's staff.
            Role::StreetCenter => !std::mem::replace(&mut centre, true),
            // The official who walks along, to confirm from their own phone.
            Role::StreetOfficial => p.id == zhenxing::ids::official(1),
            // No informant and no department staff.
            Role::GridInformant | Role::DepartmentStaff => false,
        };
        if take {
            people.push(p.id.clone());
        }
    }
    Cast { people }
}

/// A small synthetic photo (a gradient with a block), different for every `seed`.
pub fn synthetic_photo(seed: u32) -> Vec<u8> {
    let mut img = image::RgbImage::new(640, 480);
    let s = seed.to_le_bytes();
    for (x, y, p) in img.enumerate_pixels_mut() {
        let block = (x / 80 + y / 80 + seed).is_multiple_of(3);
        *p = image::Rgb([
            (x as u8).wrapping_add(s[0]),
            (y as u8).wrapping_add(s[1]),
            if block { 200 } else { s[2] },
        ]);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    match image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg) {
        Ok(()) => out.into_inner(),
        Err(_) => Vec::new(),
    }
}

/// Runs `f` for every device on a few threads.
fn each(
    devices: &BTreeMap<String, Arc<Device>>,
    f: &(dyn Fn(&str, &Device) -> Result<(), BoxError> + Sync),
) -> Result<(), BoxError> {
    let names: Vec<&String> = devices.keys().collect();
    let next = Mutex::new(0usize);
    let failure: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(name) = names.get(i) else { break };
                    if let Err(e) = f(name, &devices[*name]) {
                        *failure.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(format!("{name}: {e}"));
                    }
                }
            });
        }
    });
    match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// A short patrol of a grid: 120 fixes on a small loop around `at`, with the first
/// sub-district official along when `accompanied`.
fn walk_patrol(d: &Device, grid: &str, at: Point, accompanied: bool) -> Result<(), BoxError> {
    let id = d.start_patrol(PatrolPlace::Grid(grid.to_string()))?;
    if accompanied {
        d.add_companion(&id, &zhenxing::ids::official(1))?;
    }
    let start = d.patrol(&id)?.facts.started_at;
    let fixes: Vec<TrackPoint> = (0..120)
        .map(|i| {
            let a = f64::from(i) / 120.0 * std::f64::consts::TAU;
            TrackPoint {
                at: start + i64::from(i),
                lon: at.lon + 0.0008 * a.cos(),
                lat: at.lat + 0.0006 * a.sin(),
                accuracy_m: 5.0,
            }
        })
        .collect();
    d.record_track(&id, &fixes)?;
    d.end_patrol(&id)?;
    Ok(())
}

fn midpoint(line: &[Point]) -> Option<Point> {
    let (a, b) = (line.first()?, line.get(1)?);
    Some(Point {
        lon: (a.lon + b.lon) / 2.0,
        lat: (a.lat + b.lat) / 2.0,
    })
}

/// Runs a field day against the server at `url` with devices under `dir`. `reports` is the
/// number of reports each street chief and grid worker makes; `progress` is told each phase
/// as it starts or ends, with counts.
pub fn field_day(
    state: &AppState,
    url: &str,
    dir: &Path,
    grids: usize,
    reports: usize,
    progress: &dyn Fn(&str),
) -> Result<Summary, BoxError> {
    let started = Instant::now();
    let storage = state.storage.as_ref();
    let on_server = || -> Result<String, BoxError> {
        let (cases, changes, _) = with_tx(storage, |tx| tx.counts())?;
        Ok(format!(
            "{cases} cases and patrols, {changes} changes on the server"
        ))
    };
    let org = with_tx(storage, |tx| tx.org())?.ok_or(ServerError::NoOrg)?;
    let roster = Roster::from_json("roster", &org.roster)?;
    let catalogue = Catalogue::from_json("catalogue", &org.catalogue)?;
    let problem = catalogue
        .categories
        .iter()
        .find(|c| c.kind != CategoryKind::Duty && c.level == Level::Grid)
        .ok_or("no grid-level category")?
        .code
        .clone();
    let help = catalogue
        .categories
        .iter()
        .find(|c| c.kind == CategoryKind::Duty && c.level == Level::Community)
        .ok_or("no community-level duty")?
        .code
        .clone();

    let cast = cast(&roster, grids);
    let mut devices = BTreeMap::new();
    for p in &cast.people {
        let code = admin::issue_code(storage, p)?;
        let d = Device::open(&dir.join(p))?;
        d.enrol(url, &code, &format!("{p} 的手机"))?;
        devices.insert(p.clone(), Arc::new(d));
    }
    progress(&format!(
        "{} phones enrolled with one-time codes; morning, offline: reports, fixes on the spot, forwards, patrols",
        devices.len()
    ));
    let summary = Mutex::new(Summary {
        devices: devices.len(),
        ..Summary::default()
    });
    let sync = |_: &str, d: &Device| -> Result<(), BoxError> {
        let r = d.sync_now(&|_| {})?;
        let mut s = summary.lock().unwrap_or_else(|e| e.into_inner());
        s.change_bytes += r.change_bytes_sent + r.change_bytes_received;
        s.sync_bytes_up += r.bytes_sent;
        s.sync_bytes_down += r.bytes_received;
        s.photos += r.photos_uploaded;
        s.round_trips += u64::from(r.round_trips);
        Ok(())
    };

    // Morning, offline.
    each(&devices, &|who, d| {
        let Some(me) = d.me() else { return Ok(()) };
        let mut seed = who
            .bytes()
            .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
        let mut next_photo = || {
            seed = seed.wrapping_add(1);
            synthetic_photo(seed)
        };
        // What each role does in the morning.
        match (me.role, &me.scope) {
            (Role::PartyStreetChief | Role::MerchantStreetChief, Scope::Segment(s)) => {
                let seg = roster.segment(s).ok_or("segment")?;
                let at = midpoint(&seg.polyline).ok_or("segment geometry")?;
                for i in 0..reports {
                    let before = next_photo();
                    let id = d.report_with_photos(
                        &NewReport {
                            category: problem.clone(),
                            location: at,
                            grid: None,
                            segment: None,
                            description: format!("{} 巡查发现第{}处问题", seg.name, i + 1),
                        },
                        &[&before],
                    )?;
                    if i % 2 == 0 {
                        let after = d.attach_photo(&id, &next_photo(), PhotoStage::After)?;
                        d.handle_on_spot(&id, "现场已处置", &[after.hash])?;
                    } else {
                        d.forward(&id, "请网格员处理")?;
                    }
                }
            }
            (Role::GridWorker, Scope::Grid(g)) => {
                let grid = roster.grid(g).ok_or("grid")?;
                let at = polygon_centroid(&grid.polygon).ok_or("grid geometry")?;
                for i in 0..reports {
                    let id = d.report_with_photos(
                        &NewReport {
                            category: problem.clone(),
                            location: at,
                            grid: Some(g.clone()),
                            segment: None,
                            description: format!("{} 网格巡查第{}项", grid.name, i + 1),
                        },
                        &[&next_photo()],
                    )?;
                    if i == 0 {
                        d.escalate(&id, "需要社区协调")?;
                    }
                }
                let even = g.bytes().last().is_some_and(|b| b % 2 == 0);
                walk_patrol(d, g, at, even)?;
            }
            (Role::Resident, Scope::Grid(g)) => {
                let grid = roster.grid(g).ok_or("grid")?;
                d.request(&NewRequest {
                    category: help.clone(),
                    location: polygon_centroid(&grid.polygon).ok_or("grid geometry")?,
                    grid: Some(g.clone()),
                    description: "家中老人需要帮忙买菜".into(),
                })?;
            }
            // The roles above, held in a scope of another kind than their role's: nothing.
            (
                Role::PartyStreetChief
                | Role::MerchantStreetChief
                | Role::GridWorker
                | Role::Resident,
                _,
            ) => {}
            // The other roles make nothing in the morning.
            (
                Role::StreetCenter
                | Role::CommunityChief
                | Role::GridInformant
                | Role::StreetOfficial
                | Role::DepartmentStaff
                | Role::Volunteer,
                _,
            ) => {}
        }
        Ok(())
    })?;
    each(&devices, &sync)?;
    each(&devices, &sync)?;
    progress(&format!("morning synced: {}", on_server()?));

    // Late morning, online: the engines sync by themselves.
    progress("late morning, online: street chiefs forward cases to grid workers' phones");
    let live_ms = live_hour(&devices, &roster, &problem)?;
    progress(&format!(
        "afternoon, offline: {} forwards arrived by themselves; cases handled, escalated, dispatched",
        live_ms.len()
    ));

    // Afternoon, offline.
    each(&devices, &|_, d| {
        let Some(me) = d.me() else { return Ok(()) };
        if me.role == Role::StreetOfficial {
            // The official confirms each patrol they walked along on (三陪同).
            for p in d.accompaniments_awaiting_me()? {
                d.confirm_accompaniment(&p.id)?;
            }
            return Ok(());
        }
        for c in d.inbox(1000)? {
            // The demo's script, not a rule of who may: what it does not name waits.
            let r = if me.role == Role::GridWorker && c.status == Status::Forwarded {
                d.accept(&c.id)
                    .and_then(|_| d.resolve(&c.id, "已处理完毕", &[]))
            } else if me.role == Role::CommunityChief && c.status == Status::Escalated {
                d.accept(&c.id)
            } else if me.role == Role::CommunityChief
                && c.status == Status::Requested
                && c.kind == CaseKind::Request
            {
                d.dispatch_to_volunteers(&c.id, "请志愿者接单")
            } else {
                // Nothing else is acted on in the afternoon.
                continue;
            };
            r?;
        }
        Ok(())
    })?;
    each(&devices, &sync)?;
    each(&devices, &sync)?;
    progress(&format!(
        "afternoon synced: {}; evening, offline: conflicting claims and verifications",
        on_server()?
    ));

    // Evening, offline: conflicting actions.
    each(&devices, &|_, d| {
        let Some(me) = d.me() else { return Ok(()) };
        for c in d.inbox(1000)? {
            // Failures here are the conflicts' losers on this device's own view; they are
            // expected and leave nothing behind.
            let _ = if me.role == Role::Volunteer && c.status == Status::Dispatched {
                d.claim_request(&c.id)
            } else if c.status == Status::Resolved && me.role.is_street_chief() {
                d.verify(&c.id, "确认")
            } else if me.role == Role::CommunityChief && c.status == Status::Resolved {
                d.rework(&c.id, "请补充照片")
            } else {
                // Nothing else is acted on in the evening.
                continue;
            };
        }
        Ok(())
    })?;
    for _ in 0..3 {
        each(&devices, &sync)?;
    }
    progress(&format!(
        "evening synced: {}; checking every device against the server",
        on_server()?
    ));

    // Check every device against the server.
    let mut s = summary.into_inner().unwrap_or_else(|e| e.into_inner());
    let actor = automerge::ActorId::random();
    let mut server_cases: BTreeMap<String, (Vec<u8>, Vec<AccessKey>)> = BTreeMap::new();
    with_tx(storage, |tx| {
        let ids: Vec<DocId> = tx
            .feed_cases(FeedScope::All, 0, u64::MAX >> 1, u32::MAX)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        for id in ids {
            let row = tx.case(&id)?.ok_or(ServerError::NotFound)?;
            let mut doc = SyncedDoc::load(&row.snapshot, &actor)
                .map_err(|e| ServerError::Internal(e.to_string()))?;
            let canonical = doc
                .canonical_save()
                .map_err(|e| ServerError::Internal(e.to_string()))?;
            let access = tx.access(&id)?;
            server_cases.insert(id.into_string(), (canonical, access));
        }
        Ok(())
    })?;
    for (bytes, _) in server_cases.values() {
        let doc = SyncedDoc::load(bytes, &actor)?;
        let Some(doc) = doc.downcast_ref::<xiangying_model::case::CaseDoc>() else {
            s.patrols += 1;
            continue;
        };
        s.cases += 1;
        let facts = doc.facts()?;
        let state = xiangying_model::case::fold(&facts, &doc.events()?);
        s.events += state.history.len();
        s.rejected += state
            .history
            .iter()
            .filter(|e| !matches!(e.outcome, Outcome::Applied))
            .count();
    }
    for (who, d) in &devices {
        let scope = scope_of(&roster, &PersonId::from(who));
        let cases = d.all_cases(u32::MAX)?.into_iter().map(|c| c.id);
        let patrols = d.patrols(u32::MAX)?.into_iter().map(|p| p.id);
        let held: BTreeSet<String> = cases.chain(patrols).collect();
        let visible: BTreeSet<String> = server_cases
            .iter()
            .filter(|(_, (_, keys))| may_see(&scope, keys))
            .map(|(id, _)| id.clone())
            .collect();
        if held != visible {
            return Err(format!(
                "{who} holds {} cases and patrols but may see {}",
                held.len(),
                visible.len()
            )
            .into());
        }
        for id in &held {
            if d.canonical_case(id)? != server_cases[id].0 {
                return Err(format!("{who}'s copy of case {id} differs from the server's").into());
            }
            s.compared += 1;
        }
    }
    s.photo_bytes = state
        .metrics
        .photo_bytes_in
        .load(std::sync::atomic::Ordering::Relaxed);
    s.seconds = started.elapsed().as_secs_f64();
    s.live_ms = live_ms;
    Ok(s)
}

/// How long the live hour waits for one forward to reach its grid worker before it says the
/// demo failed.
const LIVE_DEADLINE: Duration = Duration::from_secs(60);

/// The live hour: every device's sync engine runs in the foreground (as shipped: 1 s
/// debounce, waiting on the wake-up channel); each street chief reports one more problem on
/// their segment, takes a moment to write a note (longer than the debounce, as a person
/// does), and forwards it. Measured: from the forward to the case standing forwarded in the
/// grid worker's phone, with nobody calling `sync_now`. Returns the times, sorted.
fn live_hour(
    devices: &BTreeMap<String, Arc<Device>>,
    roster: &Roster,
    problem: &str,
) -> Result<Vec<f64>, BoxError> {
    let config = EngineConfig {
        start_in_foreground: true,
        ..EngineConfig::default()
    };
    let engines = devices
        .values()
        .map(|d| SyncEngine::start(d.clone(), config, Box::new(|_| {})))
        .collect::<Result<Vec<_>, _>>()?;
    let times = Mutex::new(Vec::new());
    let chiefs: BTreeMap<String, Arc<Device>> = devices
        .iter()
        .filter(|(_, d)| d.me().is_some_and(|me| me.role.is_street_chief()))
        .map(|(k, d)| (k.clone(), d.clone()))
        .collect();
    let result = each(&chiefs, &|_, d| {
        let Some(Scope::Segment(s)) = d.me().map(|me| me.scope) else {
            return Ok(());
        };
        let seg = roster.segment(&s).ok_or("segment")?;
        let id = d.report(&NewReport {
            category: problem.to_string(),
            location: midpoint(&seg.polyline).ok_or("segment geometry")?,
            grid: None,
            segment: None,
            description: format!("{} 现场发现问题，需网格员处理", seg.name),
        })?;
        std::thread::sleep(Duration::from_millis(1_500));
        d.forward(&id, "请网格员处理")?;
        let sent = Instant::now();
        let Some(Assignee::Person(to)) = d.case(&id)?.state.assignee else {
            return Ok(());
        };
        // A grid worker outside the demo's grids has no phone here.
        let Some(recipient) = devices.get(&to) else {
            return Ok(());
        };
        loop {
            let arrived = recipient
                .case(&id)
                .is_ok_and(|c| c.state.status == Status::Forwarded);
            if arrived {
                break;
            }
            if sent.elapsed() > LIVE_DEADLINE {
                return Err(format!("a forward to {to} did not arrive within a minute").into());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let ms = sent.elapsed().as_secs_f64() * 1000.0;
        times.lock().unwrap_or_else(|e| e.into_inner()).push(ms);
        Ok(())
    });
    for e in engines {
        e.stop();
    }
    result?;
    let mut times = times.into_inner().unwrap_or_else(|e| e.into_inner());
    times.sort_by(f64::total_cmp);
    Ok(times)
}

/// A desk sign-in the demo hands out: a street centre staff member and a fresh password.
#[derive(Debug, Clone)]
pub struct DeskSignIn {
    /// Their roster id (the sign-in form also takes their phone number).
    pub person: String,
    /// Their name.
    pub name: String,
    /// The password just set, random for every run.
    pub password: String,
}

/// Gives the first street centre staff member of `roster` a fresh random desk password.
pub fn desk_sign_in(state: &AppState, roster: &Roster) -> Result<DeskSignIn, BoxError> {
    let p = roster
        .people
        .iter()
        .find(|p| p.role == Role::StreetCenter)
        .ok_or("the roster has no street centre staff member")?;
    let password = random_password();
    xiangying_server::desk::password::set_password(
        state.storage.as_ref(),
        &p.id,
        &password,
        chrono::Utc::now().timestamp_millis(),
    )?;
    Ok(DeskSignIn {
        person: p.id.clone(),
        name: p.name.clone(),
        password,
    })
}

/// Twelve letters and digits in three groups (`abcd-efgh-jkmn`), without look-alikes (0/o, 1/l/i).
fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..12)
        .map(|i| {
            let c = char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]);
            if i > 0 && i % 4 == 0 {
                format!("-{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Bytes as a person reads them: B, KB or MB (powers of 1,000).
fn kb(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} KB", bytes as f64 / 1e3),
        _ => format!("{:.2} MB", bytes as f64 / 1e6),
    }
}

/// The demo's own data folder under `root`, named by the time: `demo-<YYYYmmdd-HHMMSS>`.
pub fn demo_folder(root: &Path) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    root.join(format!("demo-{stamp}"))
}

/// `xiangying-demo`: in the fresh data folder `data` (see [`demo_folder`]), the Zhenxing
/// roster, a field day, the summary, then serving until Ctrl-C (unless `no_serve`). `cfg`
/// gives the limits.
pub fn run(
    cfg: &Config,
    data: &Path,
    listen: SocketAddr,
    reports: usize,
    grids: usize,
    no_serve: bool,
) -> Result<(), BoxError> {
    let demo_cfg = Config {
        data: data.join("server"),
        postgres: None,
        limits: cfg.limits.clone(),
        metrics_token: cfg.metrics_token.clone(),
        recovery_window_days: cfg.recovery_window_days,
        store: cfg.store.clone(),
    };
    let state = app_state(&demo_cfg)?;
    let roster = serde_json::to_string(&zhenxing::roster())?;
    let catalogue = serde_json::to_string(&zhenxing::catalogue())?;
    admin::publish(state.storage.as_ref(), &roster, &catalogue)?;
    let running = spawn(state.clone(), listen)?;
    println!(
        "振兴街道 demo: serving on {} (data in {})",
        running.url(),
        data.display()
    );
    let s = field_day(
        &state,
        &running.url(),
        &data.join("devices"),
        grids,
        reports,
        &|line| println!("  {line}"),
    )?;
    println!(
        "field day done in {:.1} s: {} devices, {} cases, {} events ({} lost a conflict and stay in the history), {} photos, {} patrols",
        s.seconds, s.devices, s.cases, s.events, s.rejected, s.photos, s.patrols
    );
    let per_device = |b: u64| b / s.devices.max(1) as u64;
    println!(
        "on the wire: sync bodies {} up and {} down in {} round trips (a device: {} up, {} down on average); the automerge changes in them, counted for every device that sent or received them: {} (the bodies are {:.2}x that); photos {} up",
        kb(s.sync_bytes_up),
        kb(s.sync_bytes_down),
        s.round_trips,
        kb(per_device(s.sync_bytes_up)),
        kb(per_device(s.sync_bytes_down)),
        kb(s.change_bytes),
        (s.sync_bytes_up + s.sync_bytes_down) as f64 / s.change_bytes.max(1) as f64,
        kb(s.photo_bytes)
    );
    if let (Some(p50), Some(p90), Some(p99), Some(worst)) = (
        s.live_quantile(0.5),
        s.live_quantile(0.9),
        s.live_quantile(0.99),
        s.live_quantile(1.0),
    ) {
        println!(
            "live: {} forwards reached their grid workers' phones by themselves (sync engines, wake-up channel): p50 {p50:.0} ms, p90 {p90:.0} ms, p99 {p99:.0} ms, worst {worst:.0} ms",
            s.live_ms.len()
        );
    }
    println!(
        "checked: {} device copies of cases and patrols are byte-identical to the server's, and every device holds exactly the cases and patrols its person may see",
        s.compared
    );
    let desk = desk_sign_in(&state, &zhenxing::roster())?;
    println!(
        "desk: {}/desk/ — sign in as {} (roster id {}) with password {}",
        running.url(),
        desk.name,
        desk.person,
        desk.password
    );
    let store = data.join("server");
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).ok_or("UTC+8")?)
        .format("%Y-%m-%d");
    println!("the server's store: {}", store.display());
    println!(
        "try: xiangying-server --data {} admin rankings --from {today} --to {today}",
        store.display()
    );
    println!(
        "try: xiangying-server --data {} admin notice-board --out {}",
        store.display(),
        data.join("notice-board.pdf").display()
    );
    if no_serve {
        let url = running.url();
        running.stop();
        println!(
            "to bring the desk up again: xiangying-server --data {} serve --listen {}",
            store.display(),
            url.trim_start_matches("http://")
        );
        return Ok(());
    }
    println!("still serving on {}; Ctrl-C to stop", running.url());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    running.stop();
    Ok(())
}
