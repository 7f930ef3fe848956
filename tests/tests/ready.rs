//! `/ready` as a load balancer's probe sees it when the database stops answering without
//! refusing anything (a black-holed route, a frozen database host): the probe gets a prompt
//! 503 naming the store, not an answer that waits as long as the connection pool would, and
//! the instance is ready again once the database answers.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};
use xiangying_server::state::Limits;
use xiangying_tests::link::Link;
use xiangying_tests::{Field, http_builder, pg_url, sample_org};

/// The database's address in a PostgreSQL URL, and the URL with `addr` in its place.
fn through(url: &str, addr: SocketAddr) -> (SocketAddr, String) {
    let at = url.rfind('@').expect("a URL with user@host") + 1;
    let end = url[at..].find('/').map_or(url.len(), |i| at + i);
    let target = url[at..end]
        .to_socket_addrs()
        .expect("the database's address")
        .next()
        .expect("an address");
    (target, format!("{}{addr}{}", &url[..at], &url[end..]))
}

#[test]
fn ready_answers_503_promptly_when_the_database_is_black_holed() {
    let url = pg_url();
    let (target, _) = through(&url, "127.0.0.1:1".parse().unwrap());
    let link = Link::start(target);
    let (_, via_link) = through(&url, link.addr);
    let f = Field::with_backend(
        sample_org(),
        Some((via_link, "xy_ready_probe".into())),
        Limits::default(),
    );
    // A probe that gives up after 15 s, as a load balancer's would after a few.
    let probe = http_builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let ready = || {
        probe
            .get(format!("http://{}/ready", f.server.addr))
            .send()
            .map(|r| (r.status().as_u16(), r.text().unwrap_or_default()))
    };
    assert_eq!(ready().unwrap().0, 200);

    link.stall();
    let answer = ready();
    // The database answers again before anything is asserted, so that a failure here does
    // not leave the server's store calls hanging at the end of the test.
    link.up();
    let (status, body) = answer.expect("/ready did not answer while the database hung");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("store unreachable"), "{body}");

    let deadline = Instant::now() + Duration::from_secs(60);
    while ready().map(|r| r.0).ok() != Some(200) {
        assert!(Instant::now() < deadline, "never ready again");
        std::thread::sleep(Duration::from_millis(100));
    }
}
