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
        location: sample::IN_G1.into(),
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
            block_on(d.enrol(self.running.url(), self.code(person), "test".into())).unwrap();
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

    let id = block_on(chief.report_with_photos(litter(), vec![jpeg(1)])).unwrap();
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
        block_on(d.attach_photo(id.clone(), b"not a photo".to_vec(), PhotoStage::After)),
        Err(ApiError::PhotoRejected { .. })
    ));
    assert!(matches!(
        block_on(d.report_with_photos(litter(), vec![jpeg(2)[..200].to_vec()])),
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
    let p = block_on(d.attach_photo(id, jpeg(3), PhotoStage::After)).unwrap();
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
        block_on(fresh.enrol(server.running.url(), "ABCD-EFGH".into(), "x".into())),
        Err(ApiError::Unauthorized { .. })
    ));
    assert!(matches!(
        block_on(fresh.enrol("ftp://x".into(), "ABCD-EFGH".into(), "x".into())),
        Err(ApiError::InvalidInput { field, .. }) if field == "server_url"
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
        location: GeoPoint { lon, lat },
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
    let r = d.route(sample::IN_G1.into()).unwrap();
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
        })
        .unwrap();
    assert_eq!((out.grid.as_str(), out.community.as_str()), ("g3", "c2"));
    assert_eq!(out.grid_worker.as_deref(), Some("gw3"));
    assert!(out.outside_street);
    assert!((out.distance_to_street_m - 120.0).abs() < 0.01);
    assert_eq!((out.segment, out.street_chiefs.len()), (None, 0));
    assert!(matches!(
        d.route(GeoPoint { lon: f64::NAN, lat: 0.0 }),
        Err(ApiError::InvalidInput { field, .. }) if field == "location"
    ));
    let bare = XiangyingDevice::open(dir.path().join("bare").display().to_string()).unwrap();
    assert!(matches!(
        bare.route(sample::IN_G1.into()),
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
            d.duplicate_candidates(sample::LITTER.into(), sample::IN_G1.into(), None, Some(u32::MAX), Some(bad)),
            Err(ApiError::InvalidInput { field, .. }) if field == "now_ms"
        ));
    }
    // The widest window from the earliest time is fine.
    let widest = d.duplicate_candidates(
        sample::LITTER.into(),
        sample::IN_G1.into(),
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
