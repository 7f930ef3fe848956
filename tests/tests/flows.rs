//! End-to-end flows through a real server on loopback: enrolment, report with a photo,
//! forward, sync, inbox, escalation, case numbers, photo upload and download, scoping.

use xiangying_core::case::{PhotoStage, Status};
use xiangying_core::document::Document;
use xiangying_core::org::sample;
use xiangying_core::{Error, NewReport};
use xiangying_server::admin;
use xiangying_tests::{Field, jpeg, sample_org};

fn report() -> NewReport {
    NewReport {
        category: sample::MANHOLE.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: "井盖缺失".into(),
    }
}

#[test]
fn a_forwarded_report_reaches_the_grid_worker_with_its_photo_and_number() {
    let mut f = Field::new(sample_org());
    for p in ["psc1", "gw1", "cc1", "gw3", "center"] {
        f.enrol(p);
    }
    let before = jpeg(1, 400, 300);
    let id = f
        .dev("psc1")
        .report_with_photos(&report(), &[&before])
        .unwrap();
    f.dev("psc1").forward(&id, "请网格员处理").unwrap();
    let r = f.dev("psc1").sync_now(&|_| {}).unwrap();
    assert_eq!(r.pushed, 2);
    assert_eq!(r.photos_uploaded, 2);
    assert_eq!(f.dev("psc1").outbox_len().unwrap(), 0);
    assert!(f.dev("psc1").pending_uploads(10).unwrap().is_empty());
    let number = f.dev("psc1").case(&id).unwrap().number.unwrap();
    assert!(
        number.starts_with("YL-2026") && number.ends_with("-0001"),
        "{number}"
    );

    f.dev("gw1").sync_now(&|_| {}).unwrap();
    let inbox = f.dev("gw1").inbox(10).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].number.as_deref(), Some(number.as_str()));
    let v = f.dev("gw1").case(&id).unwrap();
    let hash = v.photos[0].hash.clone();
    assert_eq!(
        f.dev("gw1").fetch_photo(&hash).unwrap(),
        f.dev("psc1").photo(&hash).unwrap()
    );

    f.dev("gw1").accept(&id).unwrap();
    f.dev("gw1").escalate(&id, "需要社区协调").unwrap();
    f.settle();
    assert_eq!(f.dev("cc1").inbox(10).unwrap()[0].id, id);
    assert_eq!(
        f.dev("psc1").case(&id).unwrap().state.status,
        Status::Escalated
    );
    // Another grid's worker never sees the case or its photo.
    assert!(f.dev("gw3").all_cases(10).unwrap().is_empty());
    assert!(matches!(
        f.dev("gw3").fetch_photo(&hash),
        Err(Error::Rejected { status: 404, .. })
    ));
    // The centre sees everything.
    assert_eq!(f.dev("center").all_cases(10).unwrap().len(), 1);
    // Every device that holds the case holds the same document as the server.
    let server = server_doc(&f, &id);
    for p in ["psc1", "gw1", "cc1", "center"] {
        assert_eq!(f.dev(p).canonical_case(&id).unwrap(), server, "{p}");
    }
}

fn server_doc(f: &Field, id: &str) -> Vec<u8> {
    let state = f.state();
    let row = xiangying_server::storage::with_tx(state.storage.as_ref(), |tx| tx.case(&id.into()))
        .unwrap()
        .unwrap();
    let mut doc = xiangying_core::case::CaseDoc::load(&row.snapshot, &automerge_actor()).unwrap();
    doc.canonical_save().unwrap()
}

fn automerge_actor() -> automerge::ActorId {
    automerge::ActorId::random()
}

#[test]
fn an_after_photo_attached_offline_arrives_and_a_quiet_sync_is_one_small_round_trip() {
    let mut f = Field::new(sample_org());
    f.enrol("gw1");
    let d = f.dev("gw1");
    let id = d.report(&report()).unwrap();
    d.sync_now(&|_| {}).unwrap();
    let p = d
        .attach_photo(&id, &jpeg(9, 400, 300), PhotoStage::After)
        .unwrap();
    d.handle_on_spot(&id, "已处置", std::slice::from_ref(&p.hash))
        .unwrap();
    let r = d.sync_now(&|_| {}).unwrap();
    assert_eq!((r.pushed, r.photos_uploaded), (2, 2));
    let quiet = d.sync_now(&|_| {}).unwrap();
    assert_eq!(quiet.round_trips, 1);
    assert!(quiet.bytes_sent + quiet.bytes_received < 100, "{quiet:?}");
}

#[test]
fn codes_are_single_use_and_revoked_devices_get_401() {
    let mut f = Field::new(sample_org());
    let storage = f.state().storage.clone();
    let code = admin::issue_code(storage.as_ref(), "gw2").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = xiangying_core::Device::open(&dir.path().join("a")).unwrap();
    assert_eq!(a.enrol(&f.server.url(), &code, "a").unwrap(), "gw2");
    let b = xiangying_core::Device::open(&dir.path().join("b")).unwrap();
    assert!(matches!(
        b.enrol(&f.server.url(), &code, "b"),
        Err(Error::Unauthorised(_))
    ));
    assert!(matches!(
        b.enrol(&f.server.url(), "ABCD-EFGH", "b"),
        Err(Error::Unauthorised(_))
    ));
    assert!(admin::issue_code(storage.as_ref(), "nobody").is_err());
    f.enrol("gw1");
    let id = a.device_id().unwrap().unwrap();
    a.sync_now(&|_| {}).unwrap();
    assert!(admin::revoke_device(storage.as_ref(), &id).unwrap());
    assert!(matches!(a.sync_now(&|_| {}), Err(Error::Unauthorised(_))));
    f.dev("gw1").sync_now(&|_| {}).unwrap();
}
