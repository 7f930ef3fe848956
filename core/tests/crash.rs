//! Crash test: a real writer process raising reports and adding notes is killed with SIGKILL
//! at random moments, many times; after each kill the store is reopened. No committed report
//! or note may be missing, no half-written case may be visible, and the outbox must hold
//! exactly one entry per committed write.
//!
//! A second writer records a patrol's fixes the same way: after each kill every confirmed fix
//! is in the track exactly once, whether packed into a chunk or still buffered.
//!
//! The writers are this same test binary, started again with `XY_CRASH_WRITER` (or
//! `XY_CRASH_PATROL_WRITER`) set, running the ignored `writer` (`patrol_writer`) test below.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use xiangying_core::document::Document;
use xiangying_core::org::sample;
use xiangying_core::{Device, NewReport};

const ENV: &str = "XY_CRASH_WRITER";
const ROUNDS: usize = 30;

fn report() -> NewReport {
    NewReport {
        category: sample::LITTER.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: "垃圾满溢".into(),
    }
}

/// The writer: raises reports and notes on them as fast as it can, printing one line per
/// committed write, until it is killed. Only ever run as the crash test's child process.
#[test]
#[ignore = "the crash test's writer process; started by the crash test itself"]
fn writer() {
    let dir = std::env::var(ENV).expect("XY_CRASH_WRITER names the data folder");
    let d = Device::open(std::path::Path::new(&dir)).unwrap();
    let mut last = None;
    for i in 0u64.. {
        use std::io::Write;
        let line = if i % 3 == 2 {
            let id: &String = last.as_ref().unwrap();
            d.note(id, "巡查记录").unwrap();
            format!("note {id}")
        } else {
            let id = d.report(&report()).unwrap();
            last = Some(id.clone());
            format!("report {id}")
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").unwrap();
        out.flush().unwrap();
    }
}

/// A store for gw1 on the sample street, in a fresh folder.
fn prepared_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = Device::open(dir.path()).unwrap();
    d.install_org(
        &sample::roster_json().unwrap(),
        &sample::catalogue_json().unwrap(),
    )
    .unwrap();
    d.set_person("gw1").unwrap();
    dir
}

fn time_seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1
}

/// Starts this binary's ignored test `writer` with `env` naming `dir`, SIGKILLs it after
/// `wait_ms` and returns the lines it printed (one per committed write).
fn run_and_kill(writer: &str, env: &str, dir: &std::path::Path, wait_ms: u64) -> Vec<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", writer, "--ignored", "--nocapture"])
        .env(env, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    std::thread::sleep(Duration::from_millis(wait_ms));
    // SIGKILL: no destructor, no flush, no chance to finish the transaction.
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap()
}

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

#[test]
fn killed_writers_lose_nothing_and_leave_nothing_half_written() {
    let dir = prepared_store();
    let mut seed = time_seed();
    // Committed writes per case: 1 for the report plus one per note.
    let mut committed: BTreeMap<String, usize> = BTreeMap::new();
    let mut total_lines = 0;
    for round in 0..ROUNDS {
        let wait_ms = 30 + xorshift(&mut seed) % 300;
        let lines = run_and_kill("writer", ENV, dir.path(), wait_ms);
        for l in &lines {
            if let Some(id) = l.strip_prefix("report ") {
                committed.insert(id.to_string(), 1);
            } else if let Some(id) = l.strip_prefix("note ") {
                *committed.get_mut(id).unwrap() += 1;
            }
        }
        total_lines += lines.len();

        // Reopen and check after every kill.
        let d = Device::open(dir.path()).unwrap();
        let index: BTreeSet<String> = d
            .all_cases(u32::MAX)
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut outbox: BTreeMap<String, usize> = BTreeMap::new();
        for e in d.outbox(u32::MAX).unwrap() {
            *outbox.entry(e.case_id).or_default() += 1;
        }
        for (id, writes) in &committed {
            assert!(
                index.contains(id),
                "round {round}: committed case {id} missing"
            );
            let v = d.case(id).unwrap();
            assert!(
                v.state.history.len() >= *writes,
                "round {round}: case {id} lost events"
            );
        }
        // Every case visible in the index loads whole, and its history matches its outbox
        // entries one for one (a write is all or nothing).
        for id in &index {
            let v = d.case(id).unwrap();
            assert_eq!(
                v.state.history.len(),
                outbox[id],
                "round {round}: case {id} history vs outbox"
            );
            // At most the one write in flight at the kill is committed but unreported.
            let confirmed = committed.get(id).copied().unwrap_or(0);
            assert!(
                v.state.history.len() <= confirmed + 1,
                "round {round}: case {id}"
            );
        }
    }
    eprintln!("crash test: {ROUNDS} kills, {total_lines} committed writes confirmed");
    assert!(
        total_lines > ROUNDS,
        "the writer must get work done between kills ({total_lines} writes)"
    );
}

const PATROL_ENV: &str = "XY_CRASH_PATROL_WRITER";
const PATROL_ROUNDS: usize = 15;
const BATCH: i64 = 7;

/// The patrol writer: resumes gw1's patrol under way (or starts one) and records batches of
/// fixes one second apart, fix `k` at `started_at + 1 + k` s, printing `fix k` for the last fix
/// of each committed batch, until it is killed.
#[test]
#[ignore = "the patrol crash test's writer process; started by that test itself"]
fn patrol_writer() {
    use xiangying_core::patrol::{PatrolPlace, TrackPoint};
    let dir = std::env::var(PATROL_ENV).expect("XY_CRASH_PATROL_WRITER names the data folder");
    let d = Device::open(std::path::Path::new(&dir)).unwrap();
    let id = match d.active_patrol().unwrap() {
        Some(p) => p.id,
        None => d.start_patrol(PatrolPlace::Grid("g1".into())).unwrap(),
    };
    let v = d.patrol(&id).unwrap();
    let start = v.facts.started_at;
    let mut k = v.track.len() as i64;
    loop {
        use std::io::Write;
        let batch: Vec<TrackPoint> = (k..k + BATCH)
            .map(|i| TrackPoint {
                at: start + 1_000 * (i + 1),
                lon: sample::IN_G1.lon + 1e-5 * (i % 50) as f64,
                lat: sample::IN_G1.lat,
                accuracy_m: 4.0,
            })
            .collect();
        d.record_track(&id, &batch).unwrap();
        k += BATCH;
        let mut out = std::io::stdout().lock();
        writeln!(out, "fix {}", k - 1).unwrap();
        out.flush().unwrap();
    }
}

/// A real writer recording a patrol's fixes is killed at random moments; after each kill every
/// confirmed fix is in the track exactly once (packed in a chunk or still buffered, never
/// both, never lost), and the outbox holds one entry per document write (the start and each
/// packed chunk).
#[test]
fn killed_patrol_writers_keep_every_fix_exactly_once() {
    use xiangying_core::patrol::PatrolDoc;
    let dir = prepared_store();
    let mut seed = time_seed();
    let mut confirmed: i64 = -1;
    let mut packed_rounds = 0;
    for round in 0..PATROL_ROUNDS {
        let wait_ms = 60 + xorshift(&mut seed) % 400;
        for l in run_and_kill("patrol_writer", PATROL_ENV, dir.path(), wait_ms) {
            if let Some(k) = l.strip_prefix("fix ") {
                confirmed = confirmed.max(k.parse().unwrap());
            }
        }

        let d = Device::open(dir.path()).unwrap();
        let Some(p) = d.active_patrol().unwrap() else {
            assert_eq!(confirmed, -1, "round {round}: the patrol vanished");
            continue;
        };
        let v = d.patrol(&p.id).unwrap();
        let start = v.facts.started_at;
        for (i, fix) in v.track.iter().enumerate() {
            assert_eq!(
                fix.at,
                start + 1_000 * (i as i64 + 1),
                "round {round}: fix {i} is missing, repeated or out of order"
            );
        }
        let n = v.track.len() as i64;
        assert!(
            n > confirmed && n <= confirmed + 1 + BATCH,
            "round {round}: {n} fixes stored, {} confirmed",
            confirmed + 1
        );
        let doc = PatrolDoc::load(&d.export_case(&p.id).unwrap(), d.actor()).unwrap();
        let chunks = doc.chunks().unwrap().len();
        let outbox = d
            .outbox(u32::MAX)
            .unwrap()
            .iter()
            .filter(|e| e.case_id == p.id)
            .count();
        assert_eq!(
            outbox,
            1 + chunks,
            "round {round}: outbox vs document writes"
        );
        if chunks > 0 {
            packed_rounds += 1;
        }
        // The next writer resumes from what is stored, so a batch committed but killed before
        // its line was printed is the next round's baseline: without this, two such rounds in a
        // row (a loaded machine) would look like two unconfirmed batches at once.
        confirmed = n - 1;
    }
    eprintln!(
        "patrol crash test: {PATROL_ROUNDS} kills, {} fixes stored and checked",
        confirmed + 1
    );
    assert!(
        confirmed > BATCH,
        "the writer must get work done between kills"
    );
    assert!(packed_rounds > 0, "some fixes were packed into chunks");
}
