//! `GET /metrics` over real HTTP on 127.0.0.1: what the exporter serves parses strictly as
//! Prometheus text ([`xiangying_tests::prom_text`]: HELP and TYPE for every family, histograms
//! whole), and real traffic (enrolment, syncs, a photo upload and download, a wait on the
//! wake-up channel, a refused push, a route that does not exist) shows in the figures the
//! operations guide promises. The recorder is process-wide, so every figure is read as a
//! difference between two scrapes.

use std::sync::Arc;
use std::time::{Duration, Instant};
use xiangying_core::NewReport;
use xiangying_core::case::PhotoStage;
use xiangying_core::org::sample;
use xiangying_server::state::Limits;
use xiangying_tests::prom_text::{self, Scrape};
use xiangying_tests::world::tiny_photo;
use xiangying_tests::{Field, push_raw, sample_org};

/// Scrapes the server from loopback (no token configured) and reads the answer strictly.
fn scrape(f: &Field) -> Scrape {
    let resp = xiangying_tests::http()
        .get(format!("{}/metrics", f.server.url()))
        .send()
        .expect("scrape");
    assert_eq!(resp.status().as_u16(), 200);
    let kind = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = resp.text().expect("body");
    prom_text::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Waits (bounded) until `check` holds.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_exporter_serves_prometheus_text_that_counts_real_traffic() {
    let limits = Limits {
        wait_secs: 2,
        ..Limits::default()
    };
    let mut f = Field::with_backend(sample_org(), None, limits);
    let before = scrape(&f);
    let delta = |after: &Scrape, name: &str, labels: &[(&str, &str)]| {
        after.sum(name, labels) - before.sum(name, labels)
    };

    f.enrol("gw1");
    f.enrol("inf1");
    let inf1 = f.dev("inf1");
    let case = inf1
        .report(&NewReport {
            category: sample::LITTER.into(),
            location: sample::IN_G1,
            grid: None,
            segment: None,
            description: "metrics".into(),
        })
        .unwrap();
    let photo = inf1
        .attach_photo(&case, &tiny_photo(3), PhotoStage::Before)
        .unwrap();
    let pushed = inf1.sync_now(&|_| {}).unwrap();
    assert!(pushed.photos_uploaded >= 1);
    f.dev("gw1").sync_now(&|_| {}).unwrap();
    let downloaded = f.dev("gw1").fetch_photo(&photo.hash).unwrap();

    // A device waiting on the wake-up channel is one waiting device while it waits.
    let gw1 = Arc::new(f.devices.remove("gw1").unwrap());
    let waiter = {
        let gw1 = gw1.clone();
        std::thread::spawn(move || gw1.wait_for_news().unwrap())
    };
    eventually("the wait shows", || {
        scrape(&f).sum("xiangying_waiting_devices", &[]) >= 1.0
    });
    waiter.join().unwrap();
    eventually("the wait is over", || {
        scrape(&f).sum("xiangying_waiting_devices", &[]) == 0.0
    });

    // A push of bytes that are no automerge document: refused as a bad request.
    let (status, _) = push_raw(
        &f,
        "inf1",
        "0190a000-0000-7000-8000-000000000001",
        vec![1, 2, 3],
    );
    assert_eq!(status, 400);
    // A route that does not exist.
    let r = xiangying_tests::http()
        .get(format!("{}/no/such/route", f.server.url()))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    let after = scrape(&f);
    let sync_ok = [("route", "/v1/sync"), ("method", "POST"), ("status", "200")];
    assert!(delta(&after, "xiangying_http_requests_total", &sync_ok) >= 2.0);
    assert_eq!(
        delta(
            &after,
            "xiangying_http_request_duration_seconds_count",
            &sync_ok
        ),
        delta(&after, "xiangying_http_requests_total", &sync_ok),
        "every counted request is timed"
    );
    let photos = [("route", "/v1/photos/{hash}")];
    // A small photo and its thumbnail go up in one batch (decision 0059).
    let upload = [
        ("route", "/v1/photos"),
        ("method", "POST"),
        ("status", "200"),
    ];
    assert!(delta(&after, "xiangying_http_requests_total", &upload) >= 1.0);
    let download = [photos[0], ("method", "GET"), ("status", "200")];
    assert!(delta(&after, "xiangying_http_requests_total", &download) >= 1.0);
    let enrolled = [("route", "/v1/enrol"), ("status", "200")];
    assert_eq!(
        delta(&after, "xiangying_http_requests_total", &enrolled),
        2.0
    );
    let unmatched = [("route", "unmatched"), ("method", "GET"), ("status", "404")];
    assert!(delta(&after, "xiangying_http_requests_total", &unmatched) >= 1.0);
    // The raw path never becomes a label.
    assert!(!after.has(
        "xiangying_http_requests_total",
        &[("route", "/no/such/route")]
    ));
    assert!(
        !after.families["xiangying_http_requests_total"]
            .samples
            .iter()
            .any(|s| s.labels["route"].contains(&photo.hash))
    );

    // Latency buckets from 1 ms to 10 s.
    let buckets: Vec<&str> = after.families["xiangying_http_request_duration_seconds"]
        .samples
        .iter()
        .filter(|s| s.name.ends_with("_bucket") && s.labels["route"] == "/v1/sync")
        .map(|s| s.labels["le"].as_str())
        .collect();
    assert!(
        buckets.contains(&"0.001") && buckets.contains(&"10"),
        "{buckets:?}"
    );

    for phase in ["decode", "check", "push", "pull", "encode"] {
        assert!(
            delta(
                &after,
                "xiangying_sync_phase_duration_seconds_count",
                &[("phase", phase)]
            ) >= 2.0,
            "phase {phase}"
        );
    }
    assert!(
        delta(
            &after,
            "xiangying_changes_total",
            &[("outcome", "accepted")]
        ) >= 1.0
    );
    assert_eq!(
        delta(
            &after,
            "xiangying_changes_total",
            &[("outcome", "refused"), ("reason", "bad_request")]
        ),
        1.0
    );
    assert!(
        delta(
            &after,
            "xiangying_store_transaction_duration_seconds_count",
            &[("backend", "sqlite")]
        ) >= 5.0
    );
    // Photo bytes: at least the photo went in; exactly the download went out.
    assert!(
        delta(
            &after,
            "xiangying_photo_bytes_total",
            &[("direction", "in")]
        ) >= downloaded.len() as f64
    );
    assert_eq!(
        delta(
            &after,
            "xiangying_photo_bytes_total",
            &[("direction", "out")]
        ),
        downloaded.len() as f64
    );
    assert!(delta(&after, "xiangying_sync_bytes_total", &[("direction", "in")]) > 0.0);
    assert!(
        delta(
            &after,
            "xiangying_sync_bytes_total",
            &[("direction", "out")]
        ) > 0.0
    );
    assert!(delta(&after, "xiangying_wait_checks_total", &[]) >= 1.0);
    // The queues: nothing in flight once the traffic is over; the limit as configured.
    assert_eq!(after.sum("xiangying_heavy_requests_in_flight", &[]), 0.0);
    assert_eq!(
        after.sum("xiangying_heavy_requests_limit", &[]),
        Limits::default().max_inflight as f64
    );
    assert!(after.has("xiangying_blocking_tasks_in_flight", &[]));
    assert!(after.has(
        "xiangying_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))]
    ));
    // Every HELP says what the figure is in.
    for fam in after.families.values() {
        assert!(!fam.help.is_empty(), "{} has no help", fam.name);
    }
}
