//! Attacks on the HTTP layer, from an unauthenticated client on the network and from an
//! enrolled device, against the real server on 127.0.0.1: bodies sent before a token, idle and
//! slow connections, one device hogging requests, a flood of requests. Each test checks the
//! attacker's clear refusal and that honest devices and `/health` carry on.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use xiangying_server::state::Limits;
use xiangying_tests::attack::refusal;
use xiangying_tests::{
    Field, closed_by_server, empty_sync_body, held_wait, post_sync, sample_org, token_of,
};

fn field(limits: Limits) -> Field {
    let mut f = Field::with_backend(sample_org(), None, limits);
    f.enrol("gw1");
    f.enrol("gw2");
    f
}

fn connect(f: &Field) -> TcpStream {
    let s = TcpStream::connect(f.server.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    s
}

/// Reads until the end of the response head (or the connection closes); returns the head.
fn read_head(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(0) | Err(_) => break,
            Ok(_) => buf.push(byte[0]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// A sync request whose body never finishes: it holds its place until dropped.
fn slow_sync(f: &Field, token: &str) -> TcpStream {
    let mut s = connect(f);
    write!(
        s,
        "POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n0123456789"
    )
    .expect("write");
    s
}

/// Retries `check` every 100 ms for up to 15 s (the server's work is not timed, only awaited).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not happen within 15 s");
}

fn health(f: &Field) -> u16 {
    xiangying_tests::http_builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
        .get(format!("{}/health", f.server.url()))
        .send()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[test]
fn the_token_is_checked_before_the_body_is_read() {
    let f = field(Limits::default());
    // Two gigabytes announced, none sent: without a token the answer is 401 at once.
    for (method, path) in [
        ("POST", "/v1/sync".to_string()),
        ("PATCH", format!("/v1/photos/{}", "a".repeat(64))),
        ("POST", "/v1/photos".to_string()),
    ] {
        for auth in ["", "Authorization: Bearer not-a-token\r\n"] {
            let mut s = connect(&f);
            write!(
                s,
                "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 2000000000\r\nUpload-Offset: 0\r\nUpload-Length: 2000000000\r\n\r\n"
            )
            .unwrap();
            let head = read_head(&mut s);
            assert!(
                head.starts_with("HTTP/1.1 401"),
                "{method} {auth:?}: {head}"
            );
        }
    }
    // With a real token, a body announced over the limit is refused before it is read.
    let token = token_of(&f, "gw1");
    let mut s = connect(&f);
    write!(
        s,
        "POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 2000000000\r\n\r\n"
    )
    .unwrap();
    assert!(read_head(&mut s).starts_with("HTTP/1.1 413"));
    // The same for a batch of photos (decision 0059), against the photo limit.
    let mut s = connect(&f);
    write!(
        s,
        "POST /v1/photos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 2000000000\r\n\r\n"
    )
    .unwrap();
    let head = read_head(&mut s);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    f.dev("gw1").sync_now(&|_| {}).unwrap();
}

#[test]
fn idle_connections_are_capped_then_closed() {
    let f = field(Limits {
        max_connections: 20,
        header_timeout_secs: 1,
        ..Limits::default()
    });
    // 20 idle sockets fill the server; the next ones are told to come back later.
    let idle: Vec<TcpStream> = (0..20).map(|_| connect(&f)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut extra = connect(&f);
    write!(extra, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let head = read_head(&mut extra);
    // The cap may have been reached by the idle sockets (503) or, if some were already timed
    // out, the request is served (200); a busy answer must say when to retry.
    if head.starts_with("HTTP/1.1 503") {
        assert!(
            head.to_ascii_lowercase().contains("retry-after: 5"),
            "{head}"
        );
    } else {
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }
    // The idle sockets are closed by the server after the header deadline...
    for mut s in idle {
        assert!(closed_by_server(&mut s), "an idle connection stayed open");
    }
    // ...and the server serves again.
    eventually("health after the idle sockets closed", || health(&f) == 200);
    f.dev("gw1").sync_now(&|_| {}).unwrap();
}

#[test]
fn slow_headers_are_cut_off() {
    let f = field(Limits {
        header_timeout_secs: 1,
        ..Limits::default()
    });
    let mut s = connect(&f);
    s.write_all(b"POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthoriz")
        .unwrap();
    assert!(
        closed_by_server(&mut s),
        "a half-sent head kept its connection"
    );
    assert_eq!(health(&f), 200);
}

#[test]
fn slow_bodies_time_out() {
    let f = field(Limits {
        request_timeout_secs: 1,
        ..Limits::default()
    });
    let token = token_of(&f, "gw1");
    let mut s = slow_sync(&f, &token);
    let head = read_head(&mut s);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    f.dev("gw1").sync_now(&|_| {}).unwrap();
}

#[test]
fn one_device_cannot_hog_requests() {
    let f = field(Limits {
        device_concurrency: 1,
        ..Limits::default()
    });
    let token = token_of(&f, "gw1");
    let slow = slow_sync(&f, &token);
    std::thread::sleep(Duration::from_millis(300));
    let body = empty_sync_body();
    let (status, answer) = post_sync(&f, Some(&token), body.clone());
    let (code, _) = refusal(&String::from_utf8_lossy(&answer));
    assert_eq!((status, code.as_str()), (429, "device_busy"));
    // Another device is not affected.
    f.dev("gw2").sync_now(&|_| {}).unwrap();
    drop(slow);
    eventually("gw1's slot given back", || {
        post_sync(&f, Some(&token), body.clone()).0 == 200
    });
}

#[test]
fn a_devices_waits_have_slots_of_their_own_and_are_bounded_too() {
    // Decision 0061: waits count apart from the device's other requests, up to as many again.
    let f = field(Limits {
        device_concurrency: 1,
        ..Limits::default()
    });
    let token = token_of(&f, "gw1");
    let body = empty_sync_body();
    let _waiting = held_wait(&f, &token);
    std::thread::sleep(Duration::from_millis(300));
    // The wait holds the device's one wait slot, not its one request slot.
    assert_eq!(post_sync(&f, Some(&token), body.clone()).0, 200);
    // A second wait at once is one too many.
    let mut second = held_wait(&f, &token);
    let head = read_head(&mut second);
    assert!(head.starts_with("HTTP/1.1 429"), "{head}");
    // And a sync that holds the request slot still shuts out another.
    let _slow = slow_sync(&f, &token);
    std::thread::sleep(Duration::from_millis(300));
    let (status, answer) = post_sync(&f, Some(&token), body);
    let (code, _) = refusal(&String::from_utf8_lossy(&answer));
    assert_eq!((status, code.as_str()), (429, "device_busy"));
}

#[test]
fn a_flood_is_shed_with_retry_after_and_health_still_answers() {
    let f = field(Limits {
        max_inflight: 1,
        ..Limits::default()
    });
    let slow = slow_sync(&f, &token_of(&f, "gw1"));
    std::thread::sleep(Duration::from_millis(300));
    let resp = xiangying_tests::http()
        .post(format!("{}/v1/sync", f.server.url()))
        .bearer_auth(token_of(&f, "gw2"))
        .body(vec![1, 2, 3])
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 503);
    assert!(resp.headers().get("retry-after").is_some());
    let (code, _) = refusal(&resp.text().unwrap());
    assert_eq!(code, "overloaded");
    // The photo routes share the same pool.
    let photo = xiangying_tests::http()
        .get(format!("{}/v1/photos/{}", f.server.url(), "a".repeat(64)))
        .bearer_auth(token_of(&f, "gw2"))
        .send()
        .unwrap();
    assert_eq!(photo.status().as_u16(), 503);
    assert_eq!(health(&f), 200);
    drop(slow);
    eventually("gw2 syncs once the flood is over", || {
        f.dev("gw2").sync_now(&|_| {}).is_ok()
    });
}

/// Every answer carries a request id of the server's own: unique per request, and one a
/// client sends (to forge or inject log lines) is replaced.
#[test]
fn every_answer_has_a_fresh_request_id_of_the_servers_own() {
    let f = Field::new(sample_org());
    let client = xiangying_tests::http();
    let id_of = |forged: Option<&str>| {
        let mut req = client.get(format!("{}/health", f.server.url()));
        if let Some(v) = forged {
            req = req.header("x-request-id", v);
        }
        let resp = req.send().unwrap();
        assert_eq!(resp.status(), 200);
        resp.headers()
            .get("x-request-id")
            .expect("an x-request-id answer header")
            .to_str()
            .unwrap()
            .to_string()
    };
    let (a, b) = (id_of(None), id_of(None));
    assert_ne!(a, b);
    assert!(uuid::Uuid::parse_str(&a).is_ok(), "{a:?}");
    let c = id_of(Some("forged id"));
    assert_ne!(c, "forged id");
    assert!(uuid::Uuid::parse_str(&c).is_ok(), "{c:?}");
}
