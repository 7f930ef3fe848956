//! Tools for the attack suites: watching `/health` while an attack runs, the process's peak
//! memory, hand-framed automerge chunks, and the JSON error a refusal carries.

use crate::{Field, pg_url, sample_org};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Polls `GET /health` every 100 ms until stopped; remembers the slowest answer and failures.
pub struct HealthWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<(Duration, usize, usize)>>,
}

/// What a [`HealthWatch`] saw.
#[derive(Debug)]
pub struct HealthReport {
    /// The slowest answer.
    pub slowest: Duration,
    /// Answers received.
    pub answers: usize,
    /// Polls that failed or were not 200 within the client's 5 s deadline.
    pub failures: usize,
}

impl HealthWatch {
    /// Starts polling `base/health`.
    pub fn start(base: &str) -> HealthWatch {
        let url = format!("{base}/health");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let client = crate::http_builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("client");
            let (mut slowest, mut answers, mut failures) = (Duration::ZERO, 0, 0);
            while !flag.load(Ordering::Relaxed) {
                let t = Instant::now();
                match client.get(&url).send() {
                    Ok(r) if r.status().as_u16() == 200 => {
                        answers += 1;
                        slowest = slowest.max(t.elapsed());
                    }
                    _ => failures += 1,
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            (slowest, answers, failures)
        });
        HealthWatch {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops polling and reports.
    pub fn finish(mut self) -> HealthReport {
        self.stop.store(true, Ordering::Relaxed);
        let (slowest, answers, failures) = self
            .thread
            .take()
            .expect("running")
            .join()
            .expect("health thread");
        HealthReport {
            slowest,
            answers,
            failures,
        }
    }
}

/// Asserts the server is up: `/health` answers 200 within 1 s (three tries, so that one hiccup
/// of a noisy machine does not fail a test; a server that is down or stuck fails all three).
pub fn assert_healthy(f: &Field) {
    let client = crate::http_builder()
        .timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let ok = (0..3).any(|_| {
        client
            .get(format!("{}/health", f.server.url()))
            .send()
            .is_ok_and(|r| r.status().as_u16() == 200)
    });
    assert!(ok, "/health did not answer within 1 s");
}

/// Resets this process's peak resident memory (Linux `clear_refs`), so that [`peak_rss`]
/// measures from now.
pub fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
}

/// This process's peak resident memory since start or [`reset_peak_rss`], bytes.
pub fn peak_rss() -> u64 {
    status_kib("VmHWM:") * 1024
}

/// This process's resident memory now, bytes.
pub fn rss() -> u64 {
    status_kib("VmRSS:") * 1024
}

fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a memory figure")
}

/// Frames `body` as an automerge chunk of type `kind` (1 change, 2 compressed change), with
/// a checksum automerge would accept for the uncompressed form.
pub fn frame_chunk(kind: u8, body: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let mut typed = vec![kind];
    uleb(body.len() as u64, &mut typed);
    typed.extend(body);
    let sum = sha2::Sha256::digest(&typed);
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83];
    out.extend(&sum[..4]);
    out.extend(typed);
    out
}

/// Appends `n` as unsigned LEB128.
pub fn uleb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// The `code` and `error` of a refusal's JSON body.
pub fn refusal(body: &str) -> (String, String) {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    (s("code"), s("error"))
}

/// A server (SQLite, or PostgreSQL in the named schema) with gw1 and gw2 enrolled and one litter
/// report of gw1's synced; returns the field and the case id.
pub fn one_case_street(pg_schema: Option<&str>) -> (Field, String) {
    use xiangying_core::NewReport;
    use xiangying_core::org::sample;
    let pg = pg_schema.map(|s| (pg_url(), s.to_string()));
    let mut f = Field::with_backend(sample_org(), pg, xiangying_server::state::Limits::default());
    f.enrol("gw1");
    f.enrol("gw2");
    let id = f
        .dev("gw1")
        .report(&NewReport {
            category: sample::LITTER.into(),
            location: sample::IN_G1,
            grid: None,
            segment: None,
            description: "垃圾满溢".into(),
        })
        .expect("report");
    f.dev("gw1").sync_now(&|_| {}).expect("sync");
    (f, id)
}
