//! Tests of the Rust side of the boundary: conversions, listeners, the async import with
//! progress and cancellation. The Kotlin suite (android/xiangying) runs the same flows through
//! the real library on the JVM.

use crate::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use xiangying_core::org::sample;

fn device(dir: &std::path::Path, person: &str) -> Arc<XiangyingDevice> {
    let d = XiangyingDevice::open(dir.display().to_string()).unwrap();
    d.install_org(
        sample::roster_json().unwrap(),
        sample::catalogue_json().unwrap(),
    )
    .unwrap();
    d.set_person(person.into()).unwrap();
    d
}

fn litter() -> NewReport {
    NewReport {
        category: sample::LITTER.into(),
        location: Some(wgs(sample::IN_G1)),
        description: "垃圾满溢".into(),
        grid: None,
        segment: None,
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Vec<String>>>);

impl CaseListener for Recorder {
    fn cases_changed(&self, ids: Vec<String>) {
        self.0.lock().unwrap().push(ids);
    }
}

struct Panicky;

impl CaseListener for Panicky {
    fn cases_changed(&self, _: Vec<String>) {
        panic!("a listener that fails");
    }
}

#[test]
fn a_report_moves_to_the_grid_worker_and_is_escalated() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let chief = device(a.path(), "psc1");
    let worker = device(b.path(), "gw1");
    let id = chief.report(litter()).unwrap();
    let state = chief.forward(id.clone(), "请处理".into()).unwrap();
    assert_eq!(state.status, CaseStatus::Forwarded);
    assert_eq!(state.assignee, Some(Assignee::Person { id: "gw1".into() }));

    worker
        .apply_remote(id.clone(), chief.export_case(id.clone()).unwrap())
        .unwrap();
    let inbox = worker.inbox(10).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].id, id);
    worker.accept(id.clone()).unwrap();
    let state = worker.escalate(id.clone(), "需要社区协调".into()).unwrap();
    assert_eq!(state.level, Level::Community);
    let detail = worker.case(id.clone()).unwrap();
    assert_eq!(detail.reporter, "psc1");
    assert!(matches!(
        detail.state.history.last().unwrap().action,
        CaseAction::Escalated {
            to_level: Level::Community,
            ..
        }
    ));
    assert_eq!(worker.me().unwrap().scope, Scope::Grid { id: "g1".into() });
}

#[test]
fn categories_and_cases_say_how_their_hours_count() {
    let dir = tempfile::tempdir().unwrap();
    let d = XiangyingDevice::open(dir.path().display().to_string()).unwrap();
    let mut catalogue = sample::catalogue();
    for c in catalogue.categories.iter_mut() {
        if c.code == sample::LITTER {
            c.clock = xiangying_core::org::LimitClock::Working;
        }
    }
    let catalogue = serde_json::to_string(&catalogue).unwrap();
    d.install_org(sample::roster_json().unwrap(), catalogue)
        .unwrap();
    d.set_person("gw1".into()).unwrap();
    let cats = d.categories().unwrap();
    let clock_of = |code: &str| cats.iter().find(|c| c.code == code).unwrap().limit_clock;
    assert_eq!(clock_of(sample::LITTER), LimitClock::Working);
    assert_eq!(clock_of(sample::MANHOLE), LimitClock::Natural);
    let id = d.report(litter()).unwrap();
    let detail = d.case(id).unwrap();
    assert_eq!(detail.limit_clock, LimitClock::Working);
    // Working hours never end before the same number of natural hours.
    let span = detail.state.deadline_ms - detail.created_at_ms;
    assert!(span >= i64::from(detail.limit_hours) * 3_600_000, "{span}");
}

#[test]
fn errors_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let d = XiangyingDevice::open(dir.path().display().to_string()).unwrap();
    assert!(matches!(d.inbox(5), Err(ApiError::NotSetUp { .. })));
    assert!(matches!(
        d.install_org("{".into(), "[]".into()),
        Err(ApiError::InvalidInput { field, .. }) if field == "org"
    ));
    let d = device(dir.path(), "gw1");
    let id = d.report(litter()).unwrap();
    assert!(matches!(
        d.escalate("nope".into(), "x".into()),
        Err(ApiError::NotFound { .. })
    ));
    assert!(matches!(
        d.close(id.clone(), "x".into()),
        Err(ApiError::NotAllowed { action, .. }) if action == "close"
    ));
    assert!(matches!(
        d.apply_remote(id, vec![1, 2, 3]),
        Err(ApiError::InvalidInput { field, .. }) if field == "bytes"
    ));
}

#[test]
fn listeners_hear_of_every_action_and_a_failing_one_breaks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = device(dir.path(), "gw1");
    let rec = Arc::new(Recorder::default());
    let h = d.add_case_listener(rec.clone());
    d.add_case_listener(Arc::new(Panicky));
    let id = d.report(litter()).unwrap();
    d.note(id.clone(), "到场".into()).unwrap();
    assert!(d.close(id.clone(), "x".into()).is_err());
    assert_eq!(
        *rec.0.lock().unwrap(),
        vec![vec![id.clone()], vec![id.clone()]]
    );
    assert!(d.remove_case_listener(h));
    assert!(!d.remove_case_listener(h));
    d.note(id, "再次".into()).unwrap();
    assert_eq!(rec.0.lock().unwrap().len(), 2);
}

struct Count(AtomicU64, Option<Arc<CancelToken>>);

impl ProgressListener for Count {
    fn progress(&self, done: u64, _total: u64) {
        self.0.store(done, Ordering::SeqCst);
        if done == 2
            && let Some(t) = &self.1
        {
            t.cancel();
        }
    }
}

/// Drives a future to completion on this thread (no runtime needed: the work wakes us).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[test]
fn import_reports_progress_failures_and_cancellation() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let src = device(a.path(), "gw1");
    let dst = device(b.path(), "cc1");
    let mut cases: Vec<RemoteCase> = (0..4)
        .map(|_| {
            let id = src.report(litter()).unwrap();
            RemoteCase {
                bytes: src.export_case(id.clone()).unwrap(),
                case_id: id,
            }
        })
        .collect();
    cases.insert(
        1,
        RemoteCase {
            case_id: "broken".into(),
            bytes: b"not automerge".to_vec(),
        },
    );
    let rec = Arc::new(Recorder::default());
    dst.add_case_listener(rec.clone());
    let progress = Arc::new(Count(AtomicU64::new(0), None));
    let report = block_on(dst.import_cases(cases.clone(), Some(progress.clone()), None)).unwrap();
    assert_eq!(report.imported.len(), 4);
    assert_eq!(report.failed.len(), 1);
    assert!(matches!(
        report.failed[0].error,
        ApiError::InvalidInput { .. }
    ));
    assert!(!report.cancelled);
    assert_eq!(progress.0.load(Ordering::SeqCst), 5);
    assert_eq!(*rec.0.lock().unwrap(), vec![report.imported.clone()]);
    assert_eq!(dst.all_cases(10).unwrap().len(), 4);

    let c = tempfile::tempdir().unwrap();
    let third = device(c.path(), "cc1");
    let token = CancelToken::new();
    let progress = Arc::new(Count(AtomicU64::new(0), Some(token.clone())));
    let report = block_on(third.import_cases(cases, Some(progress), Some(token))).unwrap();
    assert!(report.cancelled);
    assert_eq!(report.imported.len() + report.failed.len(), 2);
}

/// The Kotlin tests read the sample street from `bindings/testdata`; this keeps those files
/// equal to the core's `org::sample`. `XIANGYING_BLESS=1 cargo test -p xiangying-ffi` rewrites
/// them.
#[test]
fn sample_testdata_matches_the_core_sample() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let files = [
        ("sample-roster.json", sample::roster_json().unwrap()),
        ("sample-catalogue.json", sample::catalogue_json().unwrap()),
    ];
    for (name, want) in files {
        let path = dir.join(name);
        if std::env::var_os("XIANGYING_BLESS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is stale: run XIANGYING_BLESS=1 cargo test -p xiangying-ffi",
            path.display()
        );
    }
}

// ---- photos and sync, against a real server on loopback ----------------------------------

/// A small real JPEG.
/// Camera bytes without a capture record.
fn shot(bytes: Vec<u8>) -> CameraPhoto {
    CameraPhoto {
        bytes,
        capture: None,
    }
}

/// A WGS-84 position of the core as the API takes it.
fn wgs(p: xiangying_core::org::Point) -> GeoPoint {
    GeoPoint {
        lon: p.lon,
        lat: p.lat,
        datum: Datum::Wgs84,
    }
}

fn jpeg(seed: u8) -> Vec<u8> {
    let mut img = image::RgbImage::new(320, 240);
    for (x, y, p) in img.enumerate_pixels_mut() {
        *p = image::Rgb([(x as u8).wrapping_add(seed), y as u8, seed]);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

struct Server {
    running: xiangying_server::Running,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let cfg = xiangying_server::Config {
            data: dir.path().join("server"),
            postgres: None,
            limits: xiangying_server::state::Limits::default(),
            metrics_token: None,
            recovery_window_days: 30,
            store: Default::default(),
        };
        let state = xiangying_server::app_state(&cfg).unwrap();
        xiangying_server::admin::publish(
            state.storage.as_ref(),
            &sample::roster_json().unwrap(),
            &sample::catalogue_json().unwrap(),
        )
        .unwrap();
        let running = xiangying_server::spawn(state, "127.0.0.1:0".parse().unwrap()).unwrap();
        Server { running, _dir: dir }
    }

    fn code(&self, person: &str) -> String {
        xiangying_server::admin::issue_code(self.running.state.storage.as_ref(), person).unwrap()
    }

    fn enrol(&self, dir: &std::path::Path, person: &str) -> Arc<XiangyingDevice> {
        let d = XiangyingDevice::open(dir.display().to_string()).unwrap();
        let claim =
            block_on(d.enrol(self.running.url(), self.code(person), "test".into(), None)).unwrap();
        assert_eq!(claim.person, person);
        d
    }
}

#[derive(Default)]
struct Steps(Mutex<Vec<SyncReport>>);

impl SyncListener for Steps {
    fn progress(&self, report: SyncReport) {
        self.0.lock().unwrap().push(report);
    }
}

#[test]
fn a_report_with_a_photo_syncs_to_the_grid_worker_and_listeners_hear_of_it() {
    let server = Server::start();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let chief = server.enrol(a.path(), "psc1");
    let worker = server.enrol(b.path(), "gw1");
    assert!(chief.device_id().unwrap().is_some());
    assert!(
        chief
            .categories()
            .unwrap()
            .iter()
            .any(|c| c.code == sample::LITTER)
    );

    let id = block_on(chief.report_with_photos(litter(), vec![shot(jpeg(1))])).unwrap();
    chief.forward(id.clone(), "请处理".into()).unwrap();
    let hash = chief.case(id.clone()).unwrap().photos[0].hash.clone();
    assert_eq!(chief.pending_uploads(10).unwrap().len(), 2);
    let steps = Arc::new(Steps::default());
    let r = block_on(chief.sync_now(Some(steps.clone()), None)).unwrap();
    assert_eq!((r.pushed, r.photos_uploaded), (2, 2));
    assert_eq!(r.phase, Some(SyncPhase::Done));
    assert_eq!(steps.0.lock().unwrap().last(), Some(&r));
    assert!(chief.pending_uploads(10).unwrap().is_empty());

    let heard = Arc::new(Recorder::default());
    worker.add_case_listener(heard.clone());
    let r = block_on(worker.sync_now(None, None)).unwrap();
    assert!(r.pulled >= 1);
    let heard = heard.0.lock().unwrap().clone();
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert!(
        heard[0].is_empty() || heard[0] == vec![id.clone()],
        "{heard:?}"
    );
    let inbox = worker.inbox(10).unwrap();
    assert_eq!(inbox[0].id, id);
    assert!(inbox[0].number.is_some());
    assert!(matches!(
        worker.photo(hash.clone()),
        Err(ApiError::NotFound { .. })
    ));
    let fetched = block_on(worker.fetch_photo(hash.clone())).unwrap();
    assert_eq!(fetched, chief.photo(hash.clone()).unwrap());
    assert_eq!(worker.photo(hash).unwrap(), fetched);
    assert!(matches!(
        block_on(worker.fetch_photo("0".repeat(64))),
        Err(ApiError::ServerRejected { status: 404, .. })
    ));
}

#[test]
fn photo_and_sync_errors_are_typed() {
    let server = Server::start();
    let a = tempfile::tempdir().unwrap();
    let d = server.enrol(a.path(), "gw1");
    let id = d.report(litter()).unwrap();
    assert!(matches!(
        block_on(d.attach_photo(id.clone(), b"not a photo".to_vec(), PhotoStage::After, None)),
        Err(ApiError::PhotoRejected { .. })
    ));
    assert!(matches!(
        block_on(d.report_with_photos(litter(), vec![shot(jpeg(2)[..200].to_vec())])),
        Err(ApiError::PhotoRejected { .. })
    ));
    assert_eq!(
        d.all_cases(10).unwrap().len(),
        1,
        "a rejected photo writes nothing"
    );
    assert!(matches!(
        d.photo("xyz".into()),
        Err(ApiError::InvalidInput { field, .. }) if field == "hash"
    ));
    let p = block_on(d.attach_photo(id, jpeg(3), PhotoStage::After, None)).unwrap();
    assert_eq!(d.photo(p.hash).unwrap()[..2], [0xff, 0xd8]);

    // A token cancelled before the call: no sync at all.
    let token = CancelToken::new();
    token.cancel();
    assert!(matches!(
        block_on(d.sync_now(None, Some(token))),
        Err(ApiError::Cancelled { .. })
    ));
    assert!(d.outbox_len().unwrap() > 0);
    // Cancelled from the first progress call: silenced, stops before its first round trip,
    // returns Cancelled; the next sync does the work.
    struct CancelAtFirst(Arc<CancelToken>, Mutex<u32>);
    impl SyncListener for CancelAtFirst {
        fn progress(&self, _: SyncReport) {
            *self.1.lock().unwrap() += 1;
            self.0.cancel();
        }
    }
    let token = CancelToken::new();
    let l = Arc::new(CancelAtFirst(token.clone(), Mutex::new(0)));
    assert!(matches!(
        block_on(d.sync_now(Some(l.clone()), Some(token))),
        Err(ApiError::Cancelled { .. })
    ));
    assert_eq!(*l.1.lock().unwrap(), 1);
    let waiting = d.outbox_len().unwrap();
    assert!(waiting > 0, "the cancelled sync stopped before pushing");
    let done = block_on(d.sync_now(None, None)).unwrap();
    assert_eq!(done.pushed, waiting);
    assert_eq!(d.outbox_len().unwrap(), 0);

    let fresh = XiangyingDevice::open(a.path().join("fresh").display().to_string()).unwrap();
    assert!(matches!(
        block_on(fresh.sync_now(None, None)),
        Err(ApiError::NotSetUp { .. })
    ));
    assert!(matches!(
        block_on(fresh.enrol(server.running.url(), "ABCD-EFGH".into(), "x".into(), None)),
        Err(ApiError::Unauthorised { .. })
    ));
    assert!(matches!(
        block_on(fresh.enrol("ftp://x".into(), "ABCD-EFGH".into(), "x".into(), None)),
        Err(ApiError::InvalidInput { field, .. }) if field == "server_url"
    ));
    // TLS options are checked first, by field (decision 0030).
    let bad_pem = crate::tls_types::TlsOptions {
        private_ca_pem: Some("not a certificate".into()),
        pins: vec![],
    };
    assert!(matches!(
        block_on(fresh.enrol(server.running.url(), "ABCD-EFGH".into(), "x".into(), Some(bad_pem))),
        Err(ApiError::InvalidInput { field, .. }) if field == "private_ca_pem"
    ));
    let bad_pin = crate::tls_types::TlsOptions {
        private_ca_pem: None,
        pins: vec!["sha256/short".into()],
    };
    assert!(matches!(
        block_on(fresh.enrol(server.running.url(), "ABCD-EFGH".into(), "x".into(), Some(bad_pin))),
        Err(ApiError::InvalidInput { field, .. }) if field == "pins"
    ));
}

// ---- field operations and reports, on a store of the sample street ----------------------

/// Metres to degrees (the sample street lies at the equator, where both are the same).
fn deg(m: f64) -> f64 {
    m / xiangying_core::org::EARTH_RADIUS_M.to_radians()
}

fn report_at(category: &str, lon: f64, lat: f64) -> NewReport {
    NewReport {
        category: category.into(),
        location: Some(GeoPoint {
            lon,
            lat,
            datum: Datum::Wgs84,
        }),
        description: "井盖破损".into(),
        grid: None,
        segment: None,
    }
}

const HOUR_MS: i64 = 3_600_000;

#[test]
fn a_point_is_routed_inside_a_grid_and_outside_the_street() {
    let dir = tempfile::tempdir().unwrap();
    let d = device(dir.path(), "psc1");
    let r = d.route(wgs(sample::IN_G1)).unwrap();
    assert_eq!(
        r,
        Route {
            grid: "g1".into(),
            community: "c1".into(),
            segment: Some("s1".into()),
            segment_distance_m: Some(0.0),
            grid_worker: Some("gw1".into()),
            community_chief: Some("cc1".into()),
            street_chiefs: vec!["psc1".into(), "msc1".into()],
            outside_street: false,
            distance_to_street_m: 0.0,
        }
    );
    // 120 m east of the street's last grid: routed to g3, flagged, no segment in reach.
    let out = d
        .route(GeoPoint {
            lon: 0.3 + deg(120.0),
            lat: 0.05,
            datum: Datum::Wgs84,
        })
        .unwrap();
    assert_eq!((out.grid.as_str(), out.community.as_str()), ("g3", "c2"));
    assert_eq!(out.grid_worker.as_deref(), Some("gw3"));
    assert!(out.outside_street);
    assert!((out.distance_to_street_m - 120.0).abs() < 0.01);
    assert_eq!((out.segment, out.street_chiefs.len()), (None, 0));
    assert!(matches!(
        d.route(GeoPoint {
            lon: f64::NAN,
            lat: 0.0,
            datum: Datum::Gcj02,
        }),
        Err(ApiError::InvalidInput { field, .. }) if field == "location"
    ));
    let bare = XiangyingDevice::open(dir.path().join("bare").display().to_string()).unwrap();
    assert!(matches!(
        bare.route(wgs(sample::IN_G1)),
        Err(ApiError::NotSetUp { .. })
    ));
}

#[test]
fn a_routed_report_is_placed_and_forwarded_to_the_grid_worker_of_its_place() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let chief = device(a.path(), "psc1");
    let worker = device(b.path(), "gw2");
    let rec = Arc::new(Recorder::default());
    chief.add_case_listener(rec.clone());
    // In g2, 10 m off the segment: the street chief chooses neither grid nor segment.
    let r = chief
        .report_routed(report_at(sample::MANHOLE, 0.15, 0.05 + deg(10.0)))
        .unwrap();
    assert_eq!(
        (r.route.grid.as_str(), r.route.segment.as_deref()),
        ("g2", Some("s1"))
    );
    assert_eq!(r.route.grid_worker.as_deref(), Some("gw2"));
    assert!(!r.route.outside_street);
    let detail = chief.case(r.case_id.clone()).unwrap();
    assert_eq!(
        (detail.grid.as_str(), detail.segment.as_deref()),
        ("g2", Some("s1"))
    );

    let f = chief
        .forward_routed(r.case_id.clone(), "请处理".into())
        .unwrap();
    assert_eq!(f.state.status, CaseStatus::Forwarded);
    assert_eq!(
        f.state.assignee,
        Some(Assignee::Person { id: "gw2".into() })
    );
    assert_eq!(f.route, r.route);
    assert_eq!(
        *rec.0.lock().unwrap(),
        vec![vec![r.case_id.clone()], vec![r.case_id.clone()]]
    );
    worker
        .apply_remote(
            r.case_id.clone(),
            chief.export_case(r.case_id.clone()).unwrap(),
        )
        .unwrap();
    assert_eq!(worker.inbox(10).unwrap()[0].id, r.case_id);

    // Outside the street: the plain report refuses it, the routed one files it in g3.
    let far = report_at(sample::MANHOLE, 0.3 + deg(120.0), 0.05);
    assert!(matches!(
        chief.report(far.clone()),
        Err(ApiError::InvalidInput { field, .. }) if field == "location"
    ));
    let r = chief.report_routed(far).unwrap();
    assert!(r.route.outside_street);
    assert_eq!(chief.case(r.case_id).unwrap().grid, "g3");
    assert!(matches!(
        chief.forward_routed("nope".into(), "x".into()),
        Err(ApiError::NotFound { .. })
    ));
}

#[test]
fn a_second_nearby_report_of_the_same_category_finds_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = device(dir.path(), "gw1");
    let first = d.report(report_at(sample::MANHOLE, 0.05, 0.05)).unwrap();
    d.report(report_at(sample::LITTER, 0.05, 0.05)).unwrap();
    let here = GeoPoint {
        lon: 0.05 + deg(50.0),
        lat: 0.05,
        datum: Datum::Wgs84,
    };
    let got = d
        .duplicate_candidates(sample::MANHOLE.into(), here, None, None, None)
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].summary.id, first);
    assert_eq!(got[0].summary.category, sample::MANHOLE);
    assert!((got[0].distance_m - 50.0).abs() < 0.01);
    // A smaller radius, or a window that ended before the report, finds nothing.
    let none = |radius: Option<f64>, days: Option<u32>, now: Option<i64>| {
        d.duplicate_candidates(sample::MANHOLE.into(), here, radius, days, now)
            .unwrap()
            .is_empty()
    };
    assert!(none(Some(40.0), None, None));
    let later = d.core().now() + 8 * 24 * HOUR_MS;
    assert!(none(None, None, Some(later)));
    assert!(!none(None, Some(9), Some(later)));
    assert!(matches!(
        d.duplicate_candidates(sample::MANHOLE.into(), here, Some(-1.0), None, None),
        Err(ApiError::InvalidInput { field, .. }) if field == "radius_m"
    ));
    // Marked as a duplicate, a case is no longer open: it is not suggested again.
    let second = d.report(report_at(sample::MANHOLE, 0.05, 0.05)).unwrap();
    d.mark_duplicate(second, first.clone()).unwrap();
    let ids: Vec<String> = d
        .duplicate_candidates(sample::MANHOLE.into(), here, None, None, None)
        .unwrap()
        .into_iter()
        .map(|c| c.summary.id)
        .collect();
    assert_eq!(ids, vec![first]);
    assert_eq!(block_on(d.reindex_places()).unwrap(), 0);
}

#[test]
fn the_weekly_meeting_list_holds_the_overdue_case() {
    let dir = tempfile::tempdir().unwrap();
    let d = device(dir.path(), "gw1");
    // 垃圾满溢 is due within 4 h.
    let id = d.report(litter()).unwrap();
    let deadline = d.case(id.clone()).unwrap().state.deadline_ms;
    let now = deadline + HOUR_MS;
    let m = d.meeting_list(ReviewPeriod::Week, Some(now)).unwrap();
    assert_eq!(m.period, ReviewPeriod::Week);
    assert_eq!((m.now_ms, m.since_ms), (now, now - 7 * 24 * HOUR_MS));
    assert_eq!(m.grids.len(), 1);
    let g1 = &m.grids[0];
    assert_eq!(g1.id, "g1");
    assert_eq!(g1.overdue.len(), 1);
    assert_eq!(g1.overdue[0].id, id);
    assert!(g1.overdue[0].overdue);
    assert!(g1.escalated.is_empty() && g1.reworked.is_empty() && g1.long_open.is_empty());
    assert_eq!(m.communities.len(), 1);
    assert_eq!(
        (m.communities[0].id.as_str(), m.communities[0].overdue.len()),
        ("c1", 1)
    );
    // Before its deadline nothing is to discuss; a quarter later it is long open too.
    let m = d.meeting_list(ReviewPeriod::Month, None).unwrap();
    assert!(m.grids.is_empty() && m.communities.is_empty());
    let m = d
        .meeting_list(ReviewPeriod::Quarter, Some(deadline + 92 * 24 * HOUR_MS))
        .unwrap();
    assert_eq!(m.grids[0].long_open[0].id, id);
    // A time the core cannot subtract a period from is refused, not a panic.
    for bad in [i64::MIN, -1, i64::MAX] {
        assert!(matches!(
            d.meeting_list(ReviewPeriod::Quarter, Some(bad)),
            Err(ApiError::InvalidInput { field, .. }) if field == "now_ms"
        ));
        assert!(matches!(
            d.duplicate_candidates(sample::LITTER.into(), wgs(sample::IN_G1), None, Some(u32::MAX), Some(bad)),
            Err(ApiError::InvalidInput { field, .. }) if field == "now_ms"
        ));
    }
    // The widest window from the earliest time is fine.
    let widest = d.duplicate_candidates(
        sample::LITTER.into(),
        wgs(sample::IN_G1),
        None,
        Some(u32::MAX),
        Some(0),
    );
    assert!(widest.is_ok(), "{widest:?}");
}

#[test]
fn rankings_give_the_figures_of_a_small_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let d = device(dir.path(), "psc1");
    let start = d.core().now() - HOUR_MS;
    // g1: 垃圾满溢 settled on the spot by the street chief (closed, on time).
    let a = d.report(litter()).unwrap();
    d.handle_on_spot(a, "清理完毕".into(), vec!["ab".repeat(32)])
        .unwrap();
    // g2: 井盖破损 forwarded to gw2 and still open, due within 24 h.
    let b = d
        .report_routed(report_at(sample::MANHOLE, 0.15, 0.05))
        .unwrap();
    d.forward_routed(b.case_id, "请处理".into()).unwrap();

    let r = block_on(d.rankings(start, start + 2 * 24 * HOUR_MS)).unwrap();
    assert_eq!((r.from_ms, r.to_ms), (start, start + 2 * 24 * HOUR_MS));
    let brief = |u: &RankedUnit| {
        (
            u.id.clone(),
            u.name.clone(),
            u.rank,
            u.score,
            [u.raised, u.due, u.closed, u.closed_on_time],
            [u.resolved, u.reworked, u.extended, u.handled_on_spot],
            [
                u.close_rate,
                u.on_time_rate,
                u.rework_rate,
                u.extension_rate,
            ],
        )
    };
    let grids: Vec<_> = r.grids.iter().map(brief).collect();
    assert_eq!(
        grids,
        vec![
            (
                "g1".to_string(),
                "第g1网格".to_string(),
                Some(1),
                Some(100.0),
                [1, 1, 1, 1],
                [1, 0, 0, 1],
                [Some(1.0), Some(1.0), Some(0.0), Some(0.0)],
            ),
            (
                "g2".to_string(),
                "第g2网格".to_string(),
                Some(2),
                Some(30.0),
                [1, 1, 0, 0],
                [0, 0, 0, 0],
                [Some(0.0), Some(0.0), None, Some(0.0)],
            ),
        ]
    );
    assert!(
        r.grids[0]
            .avg_handling_hours
            .is_some_and(|h| (0.0..0.1).contains(&h))
    );
    assert_eq!(r.grids[1].avg_handling_hours, None);
    // c1 holds both: 结案率 ½, 按期 ½, no rework, no extension → 65.
    assert_eq!(r.communities.len(), 1);
    let c1 = &r.communities[0];
    assert_eq!((c1.id.as_str(), c1.name.as_str()), ("c1", "一社区"));
    assert_eq!(
        (c1.rank, c1.score, c1.due, c1.closed),
        (Some(1), Some(65.0), 2, 1)
    );
    assert_eq!(c1.close_rate, Some(0.5));
    // People: the street chief as handler of the first, gw2 as the one the second waits on.
    let people: Vec<_> = r
        .people
        .iter()
        .map(|u| (u.id.as_str(), u.name.as_str(), u.rank, u.score))
        .collect();
    assert_eq!(
        people,
        vec![
            ("psc1", "测试psc1", Some(1), Some(100.0)),
            ("gw2", "测试gw2", Some(2), Some(30.0)),
        ]
    );
    assert!(r.departments.is_empty());

    // A period before everything has no units; a period that ends before it starts is refused.
    let empty = block_on(d.rankings(0, 1_000)).unwrap();
    assert!(empty.grids.is_empty() && empty.people.is_empty());
    assert!(matches!(
        block_on(d.rankings(10, 5)),
        Err(ApiError::InvalidInput { field, .. }) if field == "to_ms"
    ));
}

#[test]
fn the_notice_board_names_the_street_chiefs_of_each_segment() {
    let dir = tempfile::tempdir().unwrap();
    let d = device(dir.path(), "gw1");
    let board = d.notice_board().unwrap();
    assert_eq!(board.street, "样例街道");
    assert_eq!(board.segments.len(), 1);
    let s1 = &board.segments[0];
    assert_eq!(
        (s1.segment.as_str(), s1.name.as_str()),
        ("s1", "样例大街一段")
    );
    assert_eq!(
        (s1.road.as_deref(), s1.community.as_deref()),
        (Some("样例大街"), Some("一社区"))
    );
    assert!(s1.length_m > 20_000, "{}", s1.length_m);
    let people: Vec<(&str, &str)> = s1
        .people
        .iter()
        .map(|e| (e.person.as_str(), e.role.as_str()))
        .collect();
    assert_eq!(people[0], ("psc1", "党员街长"));
    assert_eq!(people[1].0, "msc1");
    assert!(people.iter().any(|(p, _)| *p == "gw1"));
    assert!(people.iter().any(|(p, _)| *p == "gw2"));
    assert!(
        people
            .iter()
            .any(|(p, r)| *p == "enf1" && *r == "综合执法队")
    );
    assert_eq!(s1.people[0].name, "测试psc1");
    assert_eq!(s1.people[0].phone, "138-0000-0000");

    let html = d.notice_board_html().unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("样例街道街长公示栏"));
    assert!(html.contains("测试psc1"));

    let bare = XiangyingDevice::open(dir.path().join("bare").display().to_string()).unwrap();
    assert!(matches!(
        bare.notice_board(),
        Err(ApiError::NotSetUp { .. })
    ));
    assert!(matches!(
        bare.notice_board_html(),
        Err(ApiError::NotSetUp { .. })
    ));
}

// ---- patrols (巡查, 三陪同) ------------------------------------------------------------------

/// Monday 2026-11-23 09:00 China time (01:00 UTC): the clock of the clocked devices below.
const PATROL_T0: i64 = 1_795_363_200_000 + 9 * HOUR_MS;

/// A device of the sample street whose clock the test moves.
fn clocked(
    dir: &std::path::Path,
    person: &str,
) -> (Arc<XiangyingDevice>, Arc<std::sync::atomic::AtomicI64>) {
    let now = Arc::new(std::sync::atomic::AtomicI64::new(PATROL_T0));
    let clock = Arc::clone(&now);
    let core = xiangying_core::Device::open_with_clock(
        dir,
        Arc::new(move || clock.load(Ordering::SeqCst)),
    )
    .unwrap();
    let d = Arc::new(XiangyingDevice {
        device: Arc::new(core),
        listeners: Default::default(),
        map_datum: Default::default(),
    });
    d.install_org(
        sample::roster_json().unwrap(),
        sample::catalogue_json().unwrap(),
    )
    .unwrap();
    d.set_person(person.into()).unwrap();
    (d, now)
}

/// `n` fixes 5 s apart from `start`, walking north through grid g1.
fn fixes(n: usize, start: i64) -> Vec<TrackPoint> {
    (0..n)
        .map(|i| TrackPoint {
            at_ms: start + i as i64 * 5_000,
            lon: 0.05 + deg(3.0) * (i as f64 * 0.3).sin(),
            lat: 0.02 + deg(4.0) * i as f64,
            accuracy_m: 5.0,
            datum: Datum::Wgs84,
        })
        .collect()
}

fn g1() -> PatrolPlace {
    PatrolPlace::Grid { id: "g1".into() }
}

#[test]
fn a_grid_worker_walks_a_patrol_in_batches_with_an_official_and_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let (d, clock) = clocked(dir.path(), "gw1");
    let heard = Arc::new(Recorder::default());
    d.add_case_listener(heard.clone());
    assert_eq!(d.active_patrol().unwrap(), None);

    let id = d.start_patrol(g1()).unwrap();
    let active = d.active_patrol().unwrap().unwrap();
    assert_eq!(
        (
            active.id.as_str(),
            active.walker.as_str(),
            active.walker_name.as_str()
        ),
        (id.as_str(), "gw1", "测试gw1")
    );
    assert_eq!(
        (active.place.clone(), active.community.as_str()),
        (g1(), "c1")
    );
    assert_eq!(
        (active.started_at_ms, active.ended_at_ms),
        (PATROL_T0, None)
    );

    // 300 fixes in batches of 25: buffered until 120, then packed into the document.
    let pts = fixes(300, PATROL_T0 + 1_000);
    let waiting: Vec<u32> = pts
        .chunks(25)
        .map(|b| d.record_track(id.clone(), b.to_vec()).unwrap())
        .collect();
    assert_eq!(waiting, [25, 50, 75, 100, 0, 25, 50, 75, 100, 0, 25, 50]);
    let live = d.patrol(id.clone()).unwrap();
    assert_eq!((live.points, live.track.len()), (300, 300));
    assert_eq!(d.patrols(10).unwrap()[0].points, 300);

    let v = d.add_companion(id.clone(), "official".into()).unwrap();
    assert_eq!(
        v.companions,
        vec![PatrolCompanion {
            person: "official".into(),
            name: "测试official".into(),
            role: Role::StreetOfficial,
            kind: CompanionKind::Official,
            at_ms: PATROL_T0,
            confirmed_at_ms: None,
        }]
    );
    clock.fetch_add(2 * HOUR_MS, Ordering::SeqCst);
    let v = d.end_patrol(id.clone()).unwrap();
    assert_eq!(v.id, id);
    assert_eq!(v.walker.person, "gw1");
    assert_eq!(v.walker.scope, Scope::Grid { id: "g1".into() });
    assert_eq!(v.walker_name, "测试gw1");
    assert_eq!(v.ended_at_ms, Some(PATROL_T0 + 2 * HOUR_MS));
    assert_eq!(v.duration_ms, 2 * HOUR_MS);
    assert_eq!(v.voided, None);
    assert_eq!((v.points, v.track.len()), (300, 300));
    // 299 steps of about 4 m north.
    assert!(
        (1_150.0..1_250.0).contains(&v.distance_m),
        "{}",
        v.distance_m
    );
    for (a, b) in pts.iter().zip(&v.track) {
        assert_eq!((a.at_ms, a.accuracy_m), (b.at_ms, b.accuracy_m));
        assert!((a.lon - b.lon).abs() < 1e-6 && (a.lat - b.lat).abs() < 1e-6);
    }
    assert_eq!(d.patrol(id.clone()).unwrap(), v);
    assert_eq!(d.active_patrol().unwrap(), None);
    let rows = d.patrols(10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].ended_at_ms, rows[0].companions, rows[0].voided),
        (Some(PATROL_T0 + 2 * HOUR_MS), 1, false)
    );
    assert!((rows[0].distance_m - v.distance_m).abs() < 1e-6);

    // Every step was announced with the patrol's id: start, 12 batches, companion, end.
    let heard = heard.0.lock().unwrap().clone();
    assert_eq!(heard.len(), 15, "{heard:?}");
    assert!(heard.iter().all(|ids| *ids == vec![id.clone()]));

    // A second patrol may start once the first ended.
    assert!(d.start_patrol(g1()).is_ok());
}

#[test]
fn a_bad_fix_refuses_its_batch_and_patrol_errors_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let (d, _) = clocked(dir.path(), "gw1");
    let id = d.start_patrol(g1()).unwrap();
    let pts = fixes(20, PATROL_T0 + 1_000);
    assert_eq!(d.record_track(id.clone(), pts[..10].to_vec()).unwrap(), 10);
    let heard = Arc::new(Recorder::default());
    d.add_case_listener(heard.clone());

    let mut bad = pts[10..].to_vec();
    bad[3].lat = 91.0;
    let e = d.record_track(id.clone(), bad).unwrap_err();
    assert!(
        matches!(&e, ApiError::InvalidInput { field, problem }
            if field == "track" && problem.starts_with("track point #3")),
        "{e:?}"
    );
    let mut back = pts[10..].to_vec();
    back[0].at_ms = pts[2].at_ms;
    let e = d.record_track(id.clone(), back).unwrap_err();
    assert!(
        matches!(&e, ApiError::InvalidInput { problem, .. } if problem.contains("#0")),
        "{e:?}"
    );
    let mut blurred = pts[10..].to_vec();
    blurred[7].accuracy_m = f64::NAN;
    assert!(matches!(
        d.record_track(id.clone(), blurred),
        Err(ApiError::InvalidInput { .. })
    ));
    // Nothing of the refused batches is stored, and nobody was told of them.
    assert_eq!(d.patrol(id.clone()).unwrap().track.len(), 10);
    assert!(heard.0.lock().unwrap().is_empty());

    // Where and who may patrol.
    let e = d.start_patrol(g1()).unwrap_err();
    assert!(
        matches!(&e, ApiError::NotAllowed { reason, .. } if reason.contains("still under way")),
        "{e:?}"
    );
    let (other, _) = clocked(&dir.path().join("o"), "gw2");
    assert!(matches!(
        other.start_patrol(g1()),
        Err(ApiError::NotAllowed { .. })
    ));
    assert!(matches!(
        other.start_patrol(PatrolPlace::Segment { id: "s1".into() }),
        Err(ApiError::NotAllowed { .. })
    ));
    let (official, _) = clocked(&dir.path().join("x"), "official");
    assert!(matches!(
        official.start_patrol(g1()),
        Err(ApiError::NotAllowed { .. })
    ));

    // Unknown patrols and people are NotFound, naming what.
    let e = d.patrol("nope".into()).unwrap_err();
    assert_eq!(
        e,
        ApiError::NotFound {
            what: "patrol".into(),
            id: "nope".into()
        }
    );
    assert!(matches!(
        d.record_track("nope".into(), pts[10..].to_vec()),
        Err(ApiError::NotFound { what, .. }) if what == "patrol"
    ));
    assert!(matches!(
        d.add_companion(id.clone(), "nobody".into()),
        Err(ApiError::NotFound { what, .. }) if what == "person"
    ));
    // A volunteer does not accompany patrols; nor does a grid worker on a grid patrol.
    assert!(matches!(
        d.add_companion(id.clone(), "vol1".into()),
        Err(ApiError::NotAllowed { .. })
    ));
    assert!(matches!(
        d.add_companion(id.clone(), "gw2".into()),
        Err(ApiError::NotAllowed { .. })
    ));

    // A case id asked for as a patrol, and a patrol id as a case, are not found (both kinds
    // of id reach the same change listener), not corrupt documents.
    let case_id = d.report(litter()).unwrap();
    assert!(matches!(
        d.patrol(case_id.clone()),
        Err(ApiError::NotFound { what, id }) if what == "patrol" && id == case_id
    ));
    assert!(matches!(
        d.end_patrol(case_id),
        Err(ApiError::NotFound { what, .. }) if what == "patrol"
    ));
    assert!(matches!(
        d.case(id.clone()),
        Err(ApiError::NotFound { what, .. }) if what == "case"
    ));
    assert!(matches!(
        d.note(id.clone(), "x".into()),
        Err(ApiError::NotFound { what, .. }) if what == "case"
    ));

    // Ended: no more fixes, no second end.
    d.end_patrol(id.clone()).unwrap();
    assert!(matches!(
        d.record_track(id.clone(), pts[10..].to_vec()),
        Err(ApiError::NotAllowed { .. })
    ));
    assert!(matches!(
        d.end_patrol(id.clone()),
        Err(ApiError::NotAllowed { .. })
    ));
    let bare = XiangyingDevice::open(dir.path().join("bare").display().to_string()).unwrap();
    assert!(matches!(
        bare.start_patrol(g1()),
        Err(ApiError::NotSetUp { .. })
    ));
    assert!(matches!(
        bare.active_patrol(),
        Err(ApiError::NotSetUp { .. })
    ));
}

#[test]
fn a_street_chief_walks_with_a_grid_worker_and_the_police_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let (d, clock) = clocked(dir.path(), "psc1");
    let s1 = PatrolPlace::Segment { id: "s1".into() };
    assert!(matches!(
        d.start_patrol(PatrolPlace::Segment { id: "s9".into() }),
        Err(ApiError::NotAllowed { .. })
    ));
    let id = d.start_patrol(s1.clone()).unwrap();
    d.add_companion(id.clone(), "gw1".into()).unwrap();
    clock.fetch_add(60_000, Ordering::SeqCst);
    let v = d.add_companion(id.clone(), "police1".into()).unwrap();
    let kinds: Vec<_> = v
        .companions
        .iter()
        .map(|c| (c.person.as_str(), c.role, c.kind, c.at_ms))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                "gw1",
                Role::GridWorker,
                CompanionKind::GridWorker,
                PATROL_T0
            ),
            (
                "police1",
                Role::DepartmentStaff,
                CompanionKind::Department,
                PATROL_T0 + 60_000
            ),
        ]
    );
    let e = d.add_companion(id.clone(), "gw1".into()).unwrap_err();
    assert!(
        matches!(&e, ApiError::NotAllowed { reason, .. } if reason.contains("already")),
        "{e:?}"
    );
    assert!(matches!(
        d.add_companion(id.clone(), "psc1".into()),
        Err(ApiError::NotAllowed { .. })
    ));
    let v = d.end_patrol(id).unwrap();
    assert_eq!((v.place, v.community.as_str()), (s1, "c1"));
    assert_eq!(v.duration_ms, 60_000);
    assert_eq!((v.points, v.distance_m), (0, 0.0));
    assert!(v.track.is_empty());
}

#[test]
fn the_weekly_count_follows_the_two_officials_rule_across_devices() {
    let dir = tempfile::tempdir().unwrap();
    let (gw1, c1) = clocked(&dir.path().join("gw1"), "gw1");
    let (gw2, c2) = clocked(&dir.path().join("gw2"), "gw2");
    let (chief, _) = clocked(&dir.path().join("cc1"), "cc1");
    let heard = Arc::new(Recorder::default());
    chief.add_case_listener(heard.clone());
    let (official, _) = clocked(&dir.path().join("official"), "official");
    // gw1: two patrols with the official on Monday and Tuesday, which the official confirms;
    // gw2: one with the police, who does not confirm.
    let walk =
        |d: &XiangyingDevice, clock: &std::sync::atomic::AtomicI64, grid: &str, with: &str| {
            let id = d
                .start_patrol(PatrolPlace::Grid { id: grid.into() })
                .unwrap();
            d.add_companion(id.clone(), with.into()).unwrap();
            clock.fetch_add(HOUR_MS, Ordering::SeqCst);
            d.end_patrol(id.clone()).unwrap();
            clock.fetch_add(23 * HOUR_MS, Ordering::SeqCst);
            let mut bytes = d.export_case(id.clone()).unwrap();
            if with == "official" {
                official.apply_remote(id.clone(), bytes).unwrap();
                let awaiting = official.accompaniments_awaiting_me().unwrap();
                assert_eq!(awaiting[0].id, id);
                let v = official.confirm_accompaniment(id.clone()).unwrap();
                assert!(v.companions[0].confirmed_at_ms.is_some());
                bytes = official.export_case(id.clone()).unwrap();
            }
            chief.apply_remote(id.clone(), bytes).unwrap();
            id
        };
    let a = walk(&gw1, &c1, "g1", "official");
    let b = walk(&gw1, &c1, "g1", "official");
    let c = walk(&gw2, &c2, "g2", "police1");
    assert_eq!(
        *heard.0.lock().unwrap(),
        vec![vec![a.clone()], vec![b.clone()], vec![c]]
    );
    // Newest first: gw1's Tuesday patrol, then the two of Monday 09:00.
    let held = chief.patrols(10).unwrap();
    assert_eq!(held.len(), 3);
    assert_eq!(
        (held[0].id.as_str(), held[0].walker_name.as_str()),
        (b.as_str(), "测试gw1")
    );
    assert_eq!(chief.patrol(a).unwrap().duration_ms, HOUR_MS);

    let week = block_on(chief.weekly_accompaniments(Some(PATROL_T0 + 3 * 24 * HOUR_MS))).unwrap();
    assert_eq!(week.week_start_ms, PATROL_T0 - 9 * HOUR_MS);
    let rows: Vec<_> = week
        .people
        .iter()
        .map(|w| {
            (
                w.person.as_str(),
                w.name.as_str(),
                w.patrols,
                w.patrol_ms,
                w.official,
                w.department,
                w.department_unconfirmed,
                w.meets_rule,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("gw1", "测试gw1", 2, 2 * HOUR_MS, 2, 0, 0, true),
            ("gw2", "测试gw2", 1, HOUR_MS, 0, 0, 1, false),
        ],
        "the community chief sees the grid workers of c1"
    );
    assert!(week.people.iter().all(|w| w.official_needed == 2));
    // A grid worker sees their own row; the week before is empty.
    let mine = block_on(gw2.weekly_accompaniments(Some(PATROL_T0))).unwrap();
    assert_eq!(mine.people.len(), 1);
    assert_eq!(
        (mine.people[0].person.as_str(), mine.people[0].patrols),
        ("gw2", 1)
    );
    let before = block_on(chief.weekly_accompaniments(Some(PATROL_T0 - 24 * HOUR_MS))).unwrap();
    assert!(
        before
            .people
            .iter()
            .all(|w| w.patrols == 0 && !w.meets_rule)
    );
    // The default is the device clock (Monday 09:00, the same week).
    let now = block_on(chief.weekly_accompaniments(None)).unwrap();
    assert_eq!(now, week);
    assert!(matches!(
        block_on(chief.weekly_accompaniments(Some(-1))),
        Err(ApiError::InvalidInput { field, .. }) if field == "at_ms"
    ));
}

#[test]
fn rankings_show_patrol_time_and_accompaniments() {
    let dir = tempfile::tempdir().unwrap();
    let (d, clock) = clocked(dir.path(), "psc1");
    // The street chief walks s1 for 90 minutes with the police and gw1.
    let id = d
        .start_patrol(PatrolPlace::Segment { id: "s1".into() })
        .unwrap();
    d.add_companion(id.clone(), "police1".into()).unwrap();
    d.add_companion(id.clone(), "gw1".into()).unwrap();
    clock.fetch_add(90 * 60_000, Ordering::SeqCst);
    d.end_patrol(id.clone()).unwrap();
    // Both confirm from their own devices (an unconfirmed companion is not counted).
    for who in ["police1", "gw1"] {
        let their_dir = tempfile::tempdir().unwrap();
        let theirs = device(their_dir.path(), who);
        theirs
            .apply_remote(id.clone(), d.export_case(id.clone()).unwrap())
            .unwrap();
        theirs.confirm_accompaniment(id.clone()).unwrap();
        d.apply_remote(id.clone(), theirs.export_case(id.clone()).unwrap())
            .unwrap();
    }
    // And a second one, still under way: it counts, without time.
    d.start_patrol(PatrolPlace::Segment { id: "s1".into() })
        .unwrap();

    let r = block_on(d.rankings(PATROL_T0 - HOUR_MS, PATROL_T0 + 24 * HOUR_MS)).unwrap();
    let fig = |u: &RankedUnit| {
        (
            u.id.clone(),
            u.name.clone(),
            u.patrols,
            u.patrol_ms,
            u.accompanied,
            u.accompaniments,
            u.rank,
        )
    };
    assert!(r.grids.is_empty(), "a segment patrol counts for no grid");
    assert_eq!(
        r.communities.iter().map(fig).collect::<Vec<_>>(),
        [("c1".into(), "一社区".into(), 2, 90 * 60_000, 1, 0, None)]
    );
    assert!((r.communities[0].patrol_hours - 1.5).abs() < 1e-9);
    assert_eq!(
        r.departments.iter().map(fig).collect::<Vec<_>>(),
        [("police".into(), "派出所".into(), 0, 0, 0, 1, None)]
    );
    assert_eq!(
        r.people.iter().map(fig).collect::<Vec<_>>(),
        [
            ("gw1".into(), "测试gw1".into(), 0, 0, 0, 1, None),
            ("police1".into(), "测试police1".into(), 0, 0, 0, 1, None),
            ("psc1".into(), "测试psc1".into(), 2, 90 * 60_000, 1, 0, None),
        ]
    );
    assert!(r.people.iter().all(|u| u.score.is_none() && u.raised == 0));
}

#[test]
fn a_patrol_reaches_the_community_chief_through_the_server() {
    let server = Server::start();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let worker = server.enrol(a.path(), "gw1");
    let chief = server.enrol(b.path(), "cc1");
    let id = worker.start_patrol(g1()).unwrap();
    let start = worker.patrol(id.clone()).unwrap().started_at_ms;
    // 50 fixes stay buffered; the sync packs them and pushes them with the patrol.
    assert_eq!(
        worker
            .record_track(id.clone(), fixes(50, start + 1_000))
            .unwrap(),
        50
    );
    worker.add_companion(id.clone(), "official".into()).unwrap();
    let pushed = block_on(worker.sync_now(None, None)).unwrap();
    assert!(pushed.pushed >= 3, "{pushed:?}");

    let heard = Arc::new(Recorder::default());
    chief.add_case_listener(heard.clone());
    block_on(chief.sync_now(None, None)).unwrap();
    let heard = heard.0.lock().unwrap().clone();
    assert!(
        heard == vec![vec![id.clone()]] || heard == vec![Vec::<String>::new()],
        "{heard:?}"
    );
    let rows = chief.patrols(10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].id.as_str(), rows[0].walker.as_str()),
        (id.as_str(), "gw1")
    );
    assert_eq!(rows[0].ended_at_ms, None);
    let theirs = chief.patrol(id.clone()).unwrap();
    assert_eq!(theirs.track.len(), 50);
    assert_eq!(theirs.companions[0].person, "official");
    // Only the walker writes it.
    assert!(matches!(
        chief.end_patrol(id.clone()),
        Err(ApiError::NotAllowed { .. })
    ));

    // The end reaches the chief with the next two syncs.
    worker.end_patrol(id.clone()).unwrap();
    block_on(worker.sync_now(None, None)).unwrap();
    block_on(chief.sync_now(None, None)).unwrap();
    let theirs = chief.patrol(id.clone()).unwrap();
    assert!(theirs.ended_at_ms.is_some());
    assert_eq!(theirs, worker.patrol(id).unwrap());
}

#[derive(Default)]
struct States(Mutex<Vec<EngineStatus>>);

impl EngineListener for States {
    fn status_changed(&self, status: EngineStatus) {
        self.0.lock().unwrap().push(status);
    }
}

/// Waits until `done` holds, failing after a minute (a stuck engine, not a slow one).
fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "never happened: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn the_sync_engine_carries_a_report_to_the_grid_worker_without_sync_now() {
    let server = Server::start();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let chief = server.enrol(a.path(), "psc1");
    let worker = server.enrol(b.path(), "gw1");
    let fast = EngineConfig {
        debounce_ms: 20,
        foreground_period_ms: Some(100),
        backoff_base_ms: 50,
        backoff_max_ms: 200,
        wait_for_news: false,
        start_in_foreground: false,
    };
    assert_eq!(default_engine_config().debounce_ms, 1_000);
    let (sent, heard) = (Arc::new(States::default()), Arc::new(Recorder::default()));
    let sender = chief.start_sync_engine(fast, sent.clone()).unwrap();
    let receiver = worker
        .start_sync_engine(fast, Arc::new(States::default()))
        .unwrap();
    receiver.set_foreground(true);
    worker.add_case_listener(heard.clone());

    let id = chief.report(litter()).unwrap();
    chief.forward(id.clone(), "请处理".into()).unwrap();
    eventually("the grid worker's inbox holds the case", || {
        worker.inbox(10).unwrap().iter().any(|c| c.id == id)
    });
    eventually("the chief's outbox drains", || sender.status().outbox == 0);
    // The listeners hear of it once the sync that brought it has finished.
    eventually("the worker's case listeners hear of the case", || {
        heard
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|ids| ids.is_empty() || ids.contains(&id))
    });
    sender.stop();
    receiver.stop();
    assert_eq!(sender.status().state, EngineState::Stopped);
    let states = sent.0.lock().unwrap();
    assert!(
        states
            .iter()
            .any(|s| matches!(s.state, EngineState::Syncing { .. }))
    );
    assert!(states.iter().any(|s| s.last_success_ms.is_some()));
    assert_eq!(states.last().unwrap().state, EngineState::Stopped);
}
