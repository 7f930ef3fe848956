//! The sync engine against the real server on loopback: devices that never call `sync_now`
//! exchange a case by themselves, by a periodic sync or woken by the server's wake-up channel
//! (a forward, a dispatch to a department, across two instances over PostgreSQL); the channel
//! answers "nothing" after its heartbeat, wakes only the waits a push may concern, and ends its
//! waits when the server stops; no timer runs while it answers; a device that cannot reach its
//! server (an address with nothing behind it, a link cut and restored) backs off and syncs by
//! itself once it can; the states come in order; a cancelled sync keeps what it did; stopping is
//! clean; and two syncs of one device never run at once. Waits are on conditions (with a
//! generous deadline for a stuck engine), never on times.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xiangying_core::org::sample;
use xiangying_core::{
    Device, EngineConfig, EngineState, EngineStatus, NewReport, SyncEngine, SyncPhase,
};
use xiangying_tests::{Field, sample_org};

/// Fast pacing for tests: short debounce and backoff, a periodic sync standing in for the
/// server's wake-up channel.
fn config() -> EngineConfig {
    EngineConfig {
        debounce: Duration::from_millis(20),
        foreground_period: Some(Duration::from_millis(100)),
        backoff_base: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        wait_for_news: false,
        start_in_foreground: false,
    }
}

/// An app in the foreground that syncs only after a local write or when the server's wake-up
/// channel says there is news: no periodic syncs.
fn woken() -> EngineConfig {
    EngineConfig {
        foreground_period: None,
        wait_for_news: true,
        start_in_foreground: true,
        ..config()
    }
}

/// Waits until `done` holds, failing after a minute (a stuck engine, not a slow one).
fn eventually(what: &str, done: impl Fn() -> bool) {
    eventually_within(what, Duration::from_secs(60), done);
}

/// [`eventually`] with another deadline. The wake-up tests use 30 s: below the server's
/// heartbeat there (240 s) and the device's timeout for a wait (150 s), after which a wait that
/// was never answered is asked again and would find the news without any ring.
fn eventually_within(what: &str, within: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The sample street on SQLite with a wake-up heartbeat of `secs` seconds.
fn field_with_heartbeat(secs: u64) -> Field {
    let limits = xiangying_server::state::Limits {
        wait_secs: secs,
        ..Default::default()
    };
    Field::with_backend(sample_org(), None, limits)
}

/// Every status an engine published, in order.
fn recorder() -> (
    Arc<Mutex<Vec<EngineStatus>>>,
    xiangying_core::EngineListener,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let listener = Box::new(move |s: &EngineStatus| sink.lock().unwrap().push(s.clone()));
    (seen, listener)
}

/// Enrols `person` and takes their device out of the field, to share with an engine.
fn take(f: &mut Field, person: &str) -> Arc<Device> {
    f.enrol(person);
    Arc::new(f.devices.remove(person).unwrap())
}

fn report(d: &Device, what: &str) -> String {
    d.report(&NewReport {
        category: sample::LITTER.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: what.into(),
    })
    .unwrap()
}

#[test]
fn devices_that_never_call_sync_now_receive_a_case_by_themselves() {
    let mut f = Field::new(sample_org());
    let gw1 = take(&mut f, "gw1");
    let cc1 = take(&mut f, "cc1");
    let (_, quiet) = recorder();
    let reporter = SyncEngine::start(gw1.clone(), config(), quiet).unwrap();
    let (seen, listener) = recorder();
    let chief = SyncEngine::start(cc1.clone(), config(), listener).unwrap();
    chief.set_foreground(true);

    let id = report(&gw1, "垃圾满溢");
    eventually("the chief's device holds the case", || {
        cc1.case(&id).is_ok()
    });
    eventually("the reporter's outbox drains", || {
        gw1.outbox_len().unwrap() == 0
    });
    eventually("the chief's engine has succeeded", || {
        chief.status().last_success.is_some()
    });
    assert_eq!(chief.status().outbox, 0);
    reporter.stop();
    chief.stop();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.last().unwrap().state, EngineState::Stopped);
    assert!(
        seen.iter().any(
            |s| matches!(&s.state, EngineState::Syncing(r) if r.phase == Some(SyncPhase::Done))
        )
    );
    assert_eq!(cc1.by_community("c1", 10).unwrap().len(), 1);
}

#[test]
fn an_unreachable_server_means_offline_then_a_sync_as_soon_as_the_network_is_back() {
    let mut f = Field::new(sample_org());
    let url = f.server.url();
    let gw1 = take(&mut f, "gw1");
    // Nothing listens here: every try fails to connect.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    gw1.set_server_url(&dead).unwrap();
    report(&gw1, "夜间施工噪音");

    let (seen, listener) = recorder();
    let engine = SyncEngine::start(gw1.clone(), config(), listener).unwrap();
    let offline = |s: &[EngineStatus]| {
        s.iter()
            .filter(|s| matches!(s.state, EngineState::Offline { .. }))
            .count()
    };
    eventually("two failed tries, backing off", || {
        offline(&seen.lock().unwrap()) >= 2
    });
    assert_eq!(
        gw1.outbox_len().unwrap(),
        1,
        "nothing is lost while offline"
    );

    gw1.set_server_url(&url).unwrap();
    engine.connectivity_regained();
    eventually("the outbox drains once the network is back", || {
        gw1.outbox_len().unwrap() == 0
    });
    eventually("the engine is idle after its success", || {
        engine.status().state == EngineState::Idle
    });
    engine.stop();

    // The states in order: a try (syncing), offline, … a try, idle, stopped.
    let seen = seen.lock().unwrap();
    let first_offline = seen
        .iter()
        .position(|s| matches!(s.state, EngineState::Offline { .. }))
        .unwrap();
    assert!(
        matches!(seen[0].state, EngineState::Syncing(_)),
        "{:?}",
        seen[0]
    );
    let last_idle = seen
        .iter()
        .rposition(|s| s.state == EngineState::Idle)
        .unwrap();
    assert!(first_offline < last_idle);
    assert!(matches!(seen[last_idle - 1].state, EngineState::Syncing(_)));
    assert_eq!(seen.last().unwrap().state, EngineState::Stopped);
    assert!(seen[last_idle].last_success.is_some());
    if let EngineState::Offline { retry_in, reason } = &seen[first_offline].state {
        assert!(*retry_in <= Duration::from_millis(200), "{retry_in:?}");
        assert!(reason.contains("network"), "{reason}");
    }
}

#[test]
fn two_syncs_of_one_device_never_run_at_once() {
    let mut f = Field::new(sample_org());
    let gw1 = take(&mut f, "gw1");
    let (_, listener) = recorder();
    let engine = SyncEngine::start(gw1.clone(), config(), listener).unwrap();
    engine.set_foreground(true);
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let (d, in_flight, most) = (gw1.clone(), in_flight.clone(), most.clone());
            std::thread::spawn(move || {
                for j in 0..5 {
                    report(&d, &format!("report {i}-{j}"));
                    d.sync_now(&|r| match r.phase {
                        Some(SyncPhase::Exchanging) if r.round_trips == 0 => {
                            let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(n, Ordering::SeqCst);
                        }
                        Some(SyncPhase::Done) => {
                            in_flight.fetch_sub(1, Ordering::SeqCst);
                        }
                        _ => {}
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    engine.stop();
    assert_eq!(most.load(Ordering::SeqCst), 1);
    assert_eq!(gw1.outbox_len().unwrap(), 0);
}

#[test]
fn an_app_too_old_for_the_server_parks_the_engine_until_told() {
    let mut f = Field::new(sample_org());
    let gw1 = take(&mut f, "gw1");
    gw1.set_protocol_for_tests(xiangying_core::sync::version::Protocol { major: 0, minor: 5 });
    report(&gw1, "井盖缺失");
    let (seen, listener) = recorder();
    let engine = SyncEngine::start(gw1.clone(), config(), listener).unwrap();
    engine.set_foreground(true);
    eventually("the engine says the app must be upgraded", || {
        matches!(
            engine.status().state,
            EngineState::UpgradeRequired(xiangying_core::sync::refusal::Refusal::UpgradeRequired)
        )
    });
    assert_eq!(
        gw1.outbox_len().unwrap(),
        1,
        "the outbox waits for the upgraded app"
    );
    // Upgraded: told to try, it syncs.
    gw1.set_protocol_for_tests(xiangying_core::sync::version::CURRENT);
    engine.sync_soon();
    eventually("the outbox drains after the upgrade", || {
        gw1.outbox_len().unwrap() == 0
    });
    engine.stop();
    assert_eq!(
        seen.lock().unwrap().last().unwrap().state,
        EngineState::Stopped
    );
}

#[test]
fn the_wake_up_channel_brings_a_forwarded_case_without_any_periodic_sync() {
    // A heartbeat far beyond the test's deadline: only the server's ring can bring the case.
    let limits = xiangying_server::state::Limits {
        wait_secs: 240,
        request_timeout_secs: 300,
        ..Default::default()
    };
    let mut f = Field::with_backend(sample_org(), None, limits);
    let psc1 = take(&mut f, "psc1");
    let gw1 = take(&mut f, "gw1");
    // No periodic syncs: only a local write or the server's wake-up answer makes a sync.
    let (_, quiet) = recorder();
    let sender = SyncEngine::start(psc1.clone(), woken(), quiet).unwrap();
    let (_, listener) = recorder();
    let receiver = SyncEngine::start(gw1.clone(), woken(), listener).unwrap();
    // The engine's one start-up sync is over before anything happens: from now on only the
    // wake-up channel can bring news.
    eventually("the worker's first sync is done", || {
        receiver.status().last_success.is_some()
    });
    eventually("the worker waits on the channel", || {
        f.server.state.wake.waiting() >= 1
    });
    let id = report(&psc1, "占道经营");
    psc1.forward(&id, "请处理").unwrap();
    eventually_within(
        "the grid worker's device holds the forwarded case",
        Duration::from_secs(30),
        || gw1.inbox(10).unwrap().iter().any(|c| c.id == id),
    );
    sender.stop();
    receiver.stop();
}

#[test]
fn the_wake_up_channel_says_nothing_after_its_heartbeat() {
    // A heartbeat longer than the server's request timeout: a wait's deadline is both.
    let limits = xiangying_server::state::Limits {
        wait_secs: 2,
        request_timeout_secs: 1,
        ..Default::default()
    };
    let mut f = Field::with_backend(sample_org(), None, limits);
    let gw1 = take(&mut f, "gw1");
    gw1.sync_now(&|_| {}).unwrap();
    // Nothing new since its sync: the server answers "nothing" once its heartbeat passes
    // (not 408 at its request timeout).
    assert!(!gw1.wait_for_news().unwrap());
    // Something in its scope after its cursor: the answer is at once.
    let cc1 = take(&mut f, "cc1");
    report(&cc1, "夜间噪音");
    cc1.sync_now(&|_| {}).unwrap();
    assert!(gw1.wait_for_news().unwrap());
}

#[test]
fn a_push_through_one_instance_wakes_a_device_waiting_on_another() {
    use xiangying_server::blobs::BlobStore;
    use xiangying_server::state::AppState;
    use xiangying_server::storage::postgres::PostgresStorage;
    let url = xiangying_tests::pg_url();
    let schema = format!("wake_two_instances_{}", std::process::id());
    // A heartbeat far beyond the test's deadline: only a notification can bring the case.
    let limits = xiangying_server::state::Limits {
        wait_secs: 240,
        request_timeout_secs: 300,
        ..Default::default()
    };
    let mut f = Field::with_backend(
        sample_org(),
        Some((url.clone(), schema.clone())),
        limits.clone(),
    );
    let storage = Arc::new(PostgresStorage::connect_with_schema(&url, &schema).unwrap());
    let photos = f.state().blobs.root().to_path_buf();
    let second = Arc::new(AppState::new(
        storage,
        BlobStore::new(photos, limits.max_photo),
        limits,
    ));
    let second = xiangying_server::spawn(second, "127.0.0.1:0".parse().unwrap()).unwrap();
    let psc1 = take(&mut f, "psc1");
    let gw1 = take(&mut f, "gw1");
    gw1.set_server_url(&second.url()).unwrap();
    let (_, listener) = recorder();
    let receiver = SyncEngine::start(gw1.clone(), woken(), listener).unwrap();
    // The engine's one start-up sync is over before anything happens: from now on only the
    // wake-up channel can bring news.
    eventually("the worker's first sync is done", || {
        receiver.status().last_success.is_some()
    });
    eventually("the worker waits on the second instance", || {
        second.state.wake.waiting() >= 1
    });
    let id = report(&psc1, "违章停车");
    psc1.forward(&id, "请处理").unwrap();
    psc1.sync_now(&|_| {}).unwrap();
    eventually_within(
        "the forward reaches the worker through the other instance",
        Duration::from_secs(30),
        || gw1.inbox(10).unwrap().iter().any(|c| c.id == id),
    );
    receiver.stop();
}

#[test]
fn no_periodic_syncs_run_while_the_wake_up_channel_answers() {
    let mut f = field_with_heartbeat(1);
    let gw1 = take(&mut f, "gw1");
    let (seen, listener) = recorder();
    let config = EngineConfig {
        wait_for_news: true,
        start_in_foreground: true,
        ..config()
    };
    let engine = SyncEngine::start(gw1.clone(), config, listener).unwrap();
    let syncs = || {
        seen.lock()
            .unwrap()
            .iter()
            .filter(
                |s| matches!(&s.state, EngineState::Syncing(r) if r.phase == Some(SyncPhase::Done)),
            )
            .count()
    };
    eventually("a first sync", || engine.status().last_success.is_some());
    // Once a wait has been answered (within a heartbeat and a half), the channel says when
    // there is news: a 100 ms timer would add about 30 syncs over the next three seconds.
    std::thread::sleep(Duration::from_millis(1_500));
    let before = syncs();
    std::thread::sleep(Duration::from_secs(3));
    let during = syncs() - before;
    assert!(
        during <= 1,
        "{during} periodic syncs while the channel answered"
    );
    engine.stop();
}

#[test]
fn a_push_wakes_only_the_waits_it_may_concern() {
    let mut f = field_with_heartbeat(3);
    let gw1 = take(&mut f, "gw1");
    let gw3 = take(&mut f, "gw3");
    let inf1 = take(&mut f, "inf1");
    for d in [&gw1, &gw3, &inf1] {
        d.sync_now(&|_| {}).unwrap();
    }
    let state = f.server.state.clone();
    let checks = || {
        state
            .metrics
            .wait_checks
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    // A report in grid g3 while g1's grid worker waits: the ring is not for them, and their
    // wait does not look at the store for it; the heartbeat ends the wait with nothing.
    let waiter = {
        let gw1 = gw1.clone();
        std::thread::spawn(move || gw1.wait_for_news().unwrap())
    };
    eventually("gw1 waits", || state.wake.waiting() == 1);
    let before = checks();
    assert_eq!(before, 1, "the wait's first look");
    gw3.report(&NewReport {
        category: sample::LITTER.into(),
        location: sample::IN_G3,
        grid: None,
        segment: None,
        description: "g3 的问题".into(),
    })
    .unwrap();
    gw3.sync_now(&|_| {}).unwrap();
    assert!(!waiter.join().unwrap(), "woken by a case it may not read");
    assert_eq!(
        checks(),
        before,
        "the wait looked at the store for another grid's case"
    );
    // A report in its own grid wakes it.
    let waiter = {
        let gw1 = gw1.clone();
        std::thread::spawn(move || gw1.wait_for_news().unwrap())
    };
    eventually("gw1 waits again", || state.wake.waiting() == 1);
    report(&inf1, "g1 的问题");
    inf1.sync_now(&|_| {}).unwrap();
    assert!(waiter.join().unwrap());
}

#[test]
fn a_device_offline_for_a_while_syncs_by_itself_when_its_link_comes_back() {
    let mut f = Field::new(sample_org());
    let link = xiangying_tests::link::Link::start(f.server.addr);
    let gw1 = take(&mut f, "gw1");
    let inf1 = take(&mut f, "inf1");
    let cc1 = take(&mut f, "cc1");
    gw1.set_server_url(&link.url()).unwrap();
    let (seen, listener) = recorder();
    let config = EngineConfig {
        wait_for_news: true,
        start_in_foreground: true,
        ..config()
    };
    let engine = SyncEngine::start(gw1.clone(), config, listener).unwrap();
    eventually("a first sync through the link", || {
        engine.status().last_success.is_some()
    });

    // The basement: the link is cut; the grid worker reports, someone else reports in g1.
    link.down();
    let mine = report(&gw1, "地下室积水");
    let theirs = report(&inf1, "楼道堆物");
    inf1.sync_now(&|_| {}).unwrap();
    eventually("the engine finds itself offline", || {
        seen.lock()
            .unwrap()
            .iter()
            .filter(|s| matches!(s.state, EngineState::Offline { .. }))
            .count()
            >= 2
    });
    assert!(link.refused() > 0);
    assert_eq!(
        gw1.outbox_len().unwrap(),
        1,
        "nothing is lost while offline"
    );

    // Back upstairs. Nobody tells the engine: its own retries find the link again.
    link.up();
    eventually("the outbox drains", || gw1.outbox_len().unwrap() == 0);
    eventually("the other report arrives", || gw1.case(&theirs).is_ok());
    cc1.sync_now(&|_| {}).unwrap();
    assert!(
        cc1.case(&mine).is_ok(),
        "the community chief has the basement report"
    );
    engine.stop();
}

#[test]
fn a_sync_cancelled_in_flight_keeps_what_it_did_and_the_engine_carries_on() {
    let mut f = Field::new(sample_org());
    let gw1 = take(&mut f, "gw1");
    // The listener cancels the sync once, right after its first photo upload.
    let engine_slot: Arc<std::sync::OnceLock<std::sync::Weak<SyncEngine>>> = Default::default();
    let cancelled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (seen, record) = recorder();
    let (slot, once) = (engine_slot.clone(), cancelled.clone());
    let listener: xiangying_core::EngineListener = Box::new(move |s: &EngineStatus| {
        if let EngineState::Syncing(r) = &s.state
            && r.photos_uploaded == 1
            && !once.swap(true, Ordering::SeqCst)
            && let Some(engine) = slot.get().and_then(std::sync::Weak::upgrade)
        {
            engine.cancel_sync();
        }
        record(s);
    });
    let engine = Arc::new(SyncEngine::start(gw1.clone(), config(), listener).unwrap());
    engine_slot.set(Arc::downgrade(&engine)).unwrap();
    eventually("a first sync", || engine.status().last_success.is_some());

    // Photos of about 200 KB, each uploaded on its own (their thumbnails wait for a batch at
    // the end, decision 0059), so that the sync has work left when it is cancelled.
    let maker = xiangying_tests::street_day::PhotoMaker::new(200_000);
    let photos: Vec<_> = (0..4).map(|k| maker.photo(1, 1, k)).collect();
    gw1.report_with_processed_photos_for_tests(
        &NewReport {
            category: sample::LITTER.into(),
            location: sample::IN_G1,
            grid: None,
            segment: None,
            description: "四张照片".into(),
        },
        &photos,
    )
    .unwrap();
    let total = gw1.uploads_len().unwrap();
    assert!(total >= 4, "{total}");
    eventually("the sync was cancelled", || {
        cancelled.load(Ordering::SeqCst)
    });
    eventually("the engine is idle again", || {
        engine.status().state == EngineState::Idle
    });
    // What was done stays done: the report reached the server, one photo file went up; the
    // rest wait, and nothing failed.
    assert_eq!(gw1.outbox_len().unwrap(), 0);
    assert_eq!(gw1.uploads_len().unwrap(), total - 1);
    assert!(!seen.lock().unwrap().iter().any(|s| matches!(
        s.state,
        EngineState::Offline { .. } | EngineState::WaitingToRetry { .. }
    )));
    // The next trigger finishes the work.
    engine.sync_soon();
    eventually("every photo uploaded", || gw1.uploads_len().unwrap() == 0);
    drop(engine);
}

#[test]
fn a_server_that_stops_ends_its_waits_at_once() {
    let mut f = field_with_heartbeat(100);
    let gw1 = take(&mut f, "gw1");
    gw1.sync_now(&|_| {}).unwrap();
    let state = f.server.state.clone();
    let waiter = {
        let gw1 = gw1.clone();
        std::thread::spawn(move || gw1.wait_for_news())
    };
    eventually("gw1 waits", || state.wake.waiting() == 1);
    // The stop answers the wait ("nothing new, ask again") instead of holding the stop for its
    // grace period and then cutting the connection.
    f.restart_after(|_| {});
    assert!(!waiter.join().unwrap().unwrap());
    assert_eq!(state.wake.waiting(), 0);
}

#[test]
fn a_case_the_centre_dispatches_reaches_the_department_by_itself() {
    let mut f = Field::new(sample_org());
    let gw3 = take(&mut f, "gw3");
    let cc2 = take(&mut f, "cc2");
    let center = take(&mut f, "center");
    let police1 = take(&mut f, "police1");
    // The department's phone: an engine waiting on the wake-up channel, no timer, no sync_now.
    let (_, quiet) = recorder();
    let engine = SyncEngine::start(police1.clone(), woken(), quiet).unwrap();
    eventually("the department's phone waits", || {
        f.server.state.wake.waiting() == 1
    });

    let id = gw3
        .report(&NewReport {
            category: sample::LITTER.into(),
            location: sample::IN_G3,
            grid: None,
            segment: None,
            description: "占道经营".into(),
        })
        .unwrap();
    gw3.escalate(&id, "需社区").unwrap();
    gw3.sync_now(&|_| {}).unwrap();
    cc2.sync_now(&|_| {}).unwrap();
    cc2.accept(&id).unwrap();
    cc2.escalate(&id, "需执法").unwrap();
    cc2.sync_now(&|_| {}).unwrap();
    center.sync_now(&|_| {}).unwrap();
    center
        .dispatch(&id, &["police".into()], "请派出所处理")
        .unwrap();
    center.sync_now(&|_| {}).unwrap();
    eventually_within(
        "the dispatched case in the department's inbox",
        Duration::from_secs(30),
        || police1.inbox(10).unwrap().iter().any(|c| c.id == id),
    );
    engine.stop();
}

#[test]
fn a_photo_file_damaged_on_the_phone_is_counted_apart_and_the_engine_stays_idle() {
    // One photo's file rots on the phone before the engine's first sync: the sync succeeds,
    // the other files go, and the status says which of the waiting files no sync will send
    // as they are, instead of a retry loop or a failure.
    let mut f = Field::new(sample_org());
    let gw1 = take(&mut f, "gw1");
    let id = gw1
        .report_with_photos(
            &NewReport {
                category: sample::LITTER.into(),
                location: sample::IN_G1,
                grid: None,
                segment: None,
                description: "照片损坏".into(),
            },
            &[&xiangying_tests::world::tiny_photo(7)],
        )
        .unwrap();
    let photo = gw1.case(&id).unwrap().photos[0].clone();
    let path = gw1.photo_files().path_of(&photo.hash).unwrap();
    let good = std::fs::read(&path).unwrap();
    std::fs::write(&path, b"bit rot").unwrap();
    let (seen, listener) = recorder();
    let engine = SyncEngine::start(gw1.clone(), config(), listener).unwrap();
    eventually("a first sync", || engine.status().last_success.is_some());
    let status = engine.status();
    assert_eq!(status.state, EngineState::Idle);
    assert_eq!((status.uploads, status.uploads_unreadable), (1, 1));
    assert_eq!(gw1.outbox_len().unwrap(), 0);
    assert!(f.state().blobs.is_complete(&photo.thumb).unwrap());
    assert!(!seen.lock().unwrap().iter().any(|s| matches!(
        s.state,
        EngineState::Offline { .. } | EngineState::WaitingToRetry { .. }
    )));

    // Mended (the file put back), the next sync sends it and the count clears.
    std::fs::write(&path, good).unwrap();
    engine.sync_soon();
    eventually("the mended file is sent", || {
        let s = engine.status();
        s.state == EngineState::Idle && s.uploads == 0 && s.uploads_unreadable == 0
    });
    assert!(f.state().blobs.is_complete(&photo.hash).unwrap());
    engine.stop();
}
