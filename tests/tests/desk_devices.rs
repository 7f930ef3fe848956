//! The desk's devices page and device status reports (decision 0041) end to end: what real
//! devices report with their syncs lands in the server's device status on both backends;
//! hostile report headers are ignored without refusing the sync; a desk revoke shuts a real
//! device out; a community's printed enrolment cards each enrol a real device through the
//! core's link parser.

use xiangying_core::NewReport;
use xiangying_core::org::sample;
use xiangying_core::sync::enrol_link::parse_enrol_link;
use xiangying_core::sync::version::{CLIENT_HEADER, LAST_ERROR_HEADER, OUTBOX_HEADER};
use xiangying_core::sync::wire::{self, SyncRequest};
use xiangying_core::{Device, Error};
use xiangying_server::desk::devices::{self, Reach};
use xiangying_server::state::Limits;
use xiangying_server::storage::{DeviceStatus, with_tx};
use xiangying_tests::{Field, pg_url, sample_org, token_of};

fn statuses(f: &Field) -> Vec<DeviceStatus> {
    let state = f.state();
    with_tx(state.storage.as_ref(), |tx| tx.device_statuses()).expect("statuses")
}

fn status_of(f: &Field, person: &str) -> DeviceStatus {
    let id = f.dev(person).device_id().expect("id").expect("enrolled");
    statuses(f)
        .into_iter()
        .find(|s| s.device.as_str() == id)
        .unwrap_or_else(|| panic!("no status for {person}"))
}

fn report() -> NewReport {
    NewReport {
        category: sample::MANHOLE.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: "井盖破损".into(),
    }
}

fn real_syncs_report_version_outbox_and_last_error(mut f: Field) {
    f.enrol("gw1");
    // Enrolment fetched the roster: that request is seen, nothing reported yet.
    let s = status_of(&f, "gw1");
    assert_eq!((s.app_version.as_ref(), s.outbox), (None, None));
    assert!(s.last_seen > 0);
    f.dev("gw1").report(&report()).expect("report");
    f.dev("gw1").report(&report()).expect("report");
    f.sync_all();
    let s = status_of(&f, "gw1");
    // Two changes were waiting when the sync left.
    assert_eq!(s.outbox, Some(2));
    let version = s.app_version.expect("app version");
    assert!(
        version.starts_with("app=") && version.contains("core="),
        "{version}"
    );
    assert_eq!(s.last_error, None);
    f.sync_all();
    assert_eq!(status_of(&f, "gw1").outbox, Some(0));
    // A sync that cannot reach the server: the next one reports why.
    let good = f.server.url();
    f.dev("gw1")
        .set_server_url("http://127.0.0.1:9")
        .expect("bad url");
    f.dev("gw1").report(&report()).expect("report");
    let e = f.dev("gw1").sync_now(&|_| {}).unwrap_err();
    assert!(matches!(e, Error::Network(_)), "{e}");
    f.dev("gw1").set_server_url(&good).expect("good url");
    f.sync_all();
    let s = status_of(&f, "gw1");
    assert_eq!(s.last_error.as_deref(), Some("network"));
    assert_eq!(s.outbox, Some(1));
    // After a successful sync, the next one reports no error.
    f.sync_all();
    assert_eq!(status_of(&f, "gw1").last_error, None);
}

#[test]
fn real_syncs_report_their_status_on_sqlite() {
    real_syncs_report_version_outbox_and_last_error(Field::new(sample_org()));
}

#[test]
fn real_syncs_report_their_status_on_postgres() {
    let f = Field::with_backend(
        sample_org(),
        Some((pg_url(), "desk_devices_status".into())),
        Limits::default(),
    );
    real_syncs_report_version_outbox_and_last_error(f);
}

/// An empty sync request, as a device sends one.
fn empty_sync() -> Vec<u8> {
    wire::encode(&SyncRequest {
        push: vec![],
        cursor: 0,
        max_feed_bytes: 1 << 20,
        org_version: 0,
    })
    .expect("encode")
}

#[test]
fn hostile_report_headers_are_ignored_and_the_sync_goes_on() {
    let mut f = Field::new(sample_org());
    f.enrol("gw1");
    let token = token_of(&f, "gw1");
    let send = |headers: &[(&str, &[u8])]| {
        let mut req = xiangying_tests::http()
            .post(format!("{}/v1/sync", f.server.url()))
            .bearer_auth(&token)
            .body(empty_sync());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().expect("send").status().as_u16()
    };
    // Well-formed first, so that the hostile ones visibly clear it rather than leave it.
    assert_eq!(
        send(&[
            (CLIENT_HEADER, b"app=9.9.9; core=1.0.0"),
            (OUTBOX_HEADER, b"5"),
            (LAST_ERROR_HEADER, b"tls_expired"),
        ]),
        200
    );
    let s = status_of(&f, "gw1");
    assert_eq!(s.app_version.as_deref(), Some("app=9.9.9; core=1.0.0"));
    assert_eq!(
        (s.outbox, s.last_error.as_deref()),
        (Some(5), Some("tls_expired"))
    );
    let long = "x".repeat(4000);
    for bad in [
        vec![
            (CLIENT_HEADER, long.as_bytes()),
            (OUTBOX_HEADER, &b"99999999999"[..]),
        ],
        vec![
            (CLIENT_HEADER, &b"app=1\tevil\xff"[..]),
            (OUTBOX_HEADER, &b"-1"[..]),
        ],
        vec![
            (OUTBOX_HEADER, &b"12 monkeys"[..]),
            (LAST_ERROR_HEADER, long.as_bytes()),
        ],
        vec![
            (OUTBOX_HEADER, &b"0x10"[..]),
            (LAST_ERROR_HEADER, "张三 13800000000".as_bytes()),
        ],
        vec![(LAST_ERROR_HEADER, &b"Network\tDown"[..])],
    ] {
        assert_eq!(send(&bad), 200, "{bad:?}");
        let s = status_of(&f, "gw1");
        assert_eq!(s.outbox, None, "{bad:?}");
        assert_eq!(s.last_error, None, "{bad:?}");
        if bad.iter().any(|(k, _)| *k == CLIENT_HEADER) {
            assert_eq!(s.app_version, None, "{bad:?}");
        }
    }
    // A refused sync is recorded with its stable code.
    let resp = xiangying_tests::http()
        .post(format!("{}/v1/sync", f.server.url()))
        .bearer_auth(&token)
        .header(OUTBOX_HEADER, "3")
        .body(vec![0xff; 16])
        .send()
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    let s = status_of(&f, "gw1");
    let (code, at) = s.refusal.expect("refusal recorded");
    assert_eq!(code, "bad_request");
    assert!(at >= s.last_seen - 1 && at > 0);
    assert_eq!(s.outbox, Some(3));
}

#[test]
fn a_desk_revoke_shuts_the_device_out_and_only_within_reach() {
    let mut f = Field::new(sample_org());
    f.enrol("gw1");
    f.enrol("gw3");
    f.sync_all();
    let state = f.state();
    let roster = sample::roster().expect("roster");
    let id_of = |p: &str| f.dev(p).device_id().expect("id").expect("enrolled");
    // cc1's reach is c1: gw3 (c2) is out of it and stays enrolled.
    let c1 = Reach::Community("c1".into());
    assert!(
        !devices::revoke_in_reach(state.storage.as_ref(), &roster, &c1, &id_of("gw3"))
            .expect("revoke")
    );
    assert!(
        devices::revoke_in_reach(state.storage.as_ref(), &roster, &c1, &id_of("gw1"))
            .expect("revoke")
    );
    let e = f.dev("gw1").sync_now(&|_| {}).unwrap_err();
    assert!(matches!(e, Error::Unauthorised(_)), "{e}");
    f.dev("gw3").sync_now(&|_| {}).expect("gw3 still syncs");
}

#[test]
fn each_card_of_a_community_batch_enrols_a_real_device() {
    let mut f = Field::new(sample_org());
    f.enrol("gw1");
    let state = f.state();
    let roster = sample::roster().expect("roster");
    let live = devices::live_people(state.storage.as_ref()).expect("live");
    let people = devices::recipients(&roster, &Reach::All, None, Some("c1"), false, &live)
        .expect("recipients");
    assert!(!people.contains(&"gw1".to_string()));
    assert!(people.len() >= 5, "{people:?}");
    let cards = devices::issue_cards(
        state.storage.as_ref(),
        &roster,
        &people,
        &f.server.url(),
        Limits::default().code_ttl(),
    )
    .expect("cards");
    assert_eq!(cards.len(), people.len());
    let mut codes = std::collections::BTreeSet::new();
    for (person, card) in people.iter().zip(&cards) {
        let link = parse_enrol_link(&card.link).expect("the core reads the printed link");
        assert_eq!(link.server, f.server.url());
        assert_eq!(link.code, card.code);
        assert!(codes.insert(card.code.clone()), "one code per person");
        let dir = f.root.path().join("batch").join(person);
        let d = Device::open(&dir).expect("open");
        d.enrol(&link.server, &link.code, "扫码登记")
            .expect("enrol with the card");
        assert_eq!(d.me().map(|c| c.person), Some(person.clone()), "{person}");
    }
    // Every code is spent: a second phone cannot reuse a card.
    let d = Device::open(&f.root.path().join("batch-again")).expect("open");
    let link = parse_enrol_link(&cards[0].link).expect("link");
    assert!(d.enrol(&link.server, &link.code, "again").is_err());
}
