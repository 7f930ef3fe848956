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
