//! A proxy cuts connections at random points of requests and responses, many times, and drops
//! idle kept-alive connections, while the devices work and sync (enrolment and photo uploads
//! included); everything ends up on the server and on every device exactly once.

use std::sync::atomic::Ordering;
use xiangying_tests::proxy::Proxy;
use xiangying_tests::world::{Ledger, PEOPLE, Rng, check, step};
use xiangying_tests::{Field, sample_org};

#[test]
fn cut_connections_lose_nothing_and_duplicate_nothing() {
    let mut f = Field::new(sample_org());
    // Devices keep their connections alive: the proxy closes a connection idle for 20 ms (as a
    // carrier's NAT does), so that connections are opened, and cut, again and again.
    let idle = Some(std::time::Duration::from_millis(20));
    let proxy = Proxy::start_with_idle(f.server.addr, 0.3, 3000, 7, idle);
    let url = proxy.url();
    for p in PEOPLE {
        f.enrol_via(p, &url);
    }
    let mut rng = Rng::new(99);
    let mut ledger = Ledger::default();
    for _ in 0..300 {
        let who = PEOPLE[rng.below(PEOPLE.len())];
        step(f.dev(who), &mut rng, &mut ledger, true);
    }
    // Keep syncing through the faulty proxy until every device got through three times.
    for _ in 0..3 {
        for p in PEOPLE {
            let mut tries = 0;
            while let Err(e) = f.dev(p).sync_now(&|_| {}) {
                tries += 1;
                assert!(tries < 30, "{p} never got through: {e}");
            }
        }
    }
    let cuts = proxy.stats.cuts.load(Ordering::Relaxed);
    let conns = proxy.stats.connections.load(Ordering::Relaxed);
    eprintln!("{cuts} of {conns} connections cut");
    assert!(cuts >= 20, "the proxy must actually cut ({cuts} cuts)");
    check(&f, &ledger);
}
