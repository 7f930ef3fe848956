//! One HTTP client for the life of a device: its enrolment, syncs and photo transfers reuse
//! kept-alive connections instead of opening one (and, over TLS, a handshake) per request.
//! Counted at a TCP proxy between the device and the real server.

use std::sync::atomic::Ordering;
use xiangying_core::NewReport;
use xiangying_core::org::sample;
use xiangying_tests::proxy::Proxy;
use xiangying_tests::{Field, sample_org};

#[test]
fn syncs_and_photo_transfers_reuse_one_connection() {
    let mut f = Field::new(sample_org());
    let proxy = Proxy::start(f.server.addr, 0.0, 1, 1);
    f.enrol_via("gw1", &proxy.url());
    let gw1 = f.dev("gw1");
    for i in 0..3 {
        let photo = xiangying_demo::synthetic_photo(i);
        gw1.report_with_photos(
            &NewReport {
                category: sample::LITTER.into(),
                location: sample::IN_G1,
                grid: None,
                segment: None,
                description: format!("report {i}"),
            },
            &[&photo],
        )
        .unwrap();
        let r = gw1.sync_now(&|_| {}).unwrap();
        assert_eq!((r.pushed, r.photos_uploaded), (1, 2));
    }
    let connections = proxy.stats.connections.load(Ordering::Relaxed);
    eprintln!(
        "keep-alive: enrolment, 3 syncs and 6 photo uploads over {connections} connection(s)"
    );
    // Enrolment, the organisation, three syncs and six uploads: eleven requests or more,
    // over one connection (two, should the server close an idle one in between).
    assert!(connections <= 2, "{connections} connections");
}
