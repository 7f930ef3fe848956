//! The protocol version over real HTTP on 127.0.0.1: every request of the device says its
//! protocol, app and core versions; the server answers a device outside its range with 426 and
//! a stable code before it looks at the token or reads the body, a malformed header with 400
//! naming the header, and a request without the header as a first-wave device (protocol 1.1).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use xiangying_core::Error;
use xiangying_core::sync::version::{CORE_VERSION, Protocol};
use xiangying_server::state::Limits;
use xiangying_tests::attack::refusal;
use xiangying_tests::{Field, post_sync, sample_org, token_of};

/// Sends a raw request head (and no body, whatever its `Content-Length` says); returns the
/// status and the body of the answer.
fn raw(f: &Field, head: &str) -> (u16, String) {
    let mut s = TcpStream::connect(f.server.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    s.write_all(head.as_bytes()).expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read the head, then as much body as Content-Length says.
    loop {
        let n = s.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

fn field() -> Field {
    let mut f = Field::with_backend(sample_org(), None, Limits::default());
    f.enrol("gw1");
    f
}

#[test]
fn a_device_outside_the_range_gets_426_before_auth_and_before_the_body() {
    let f = field();
    // No token, and a body that never comes: the version is checked first, at once.
    for (version, code) in [("0.9", "upgrade_required"), ("2.0", "server_too_old")] {
        let (status, body) = raw(
            &f,
            &format!(
                "POST /v1/sync HTTP/1.1\r\nHost: x\r\nxiangying-protocol: {version}\r\nContent-Length: 100000\r\n\r\n"
            ),
        );
        assert_eq!(status, 426, "{version}: {body}");
        assert_eq!(refusal(&body).0, code, "{body}");
    }
    // Enrolment too.
    let (status, body) = raw(
        &f,
        "POST /v1/enrol HTTP/1.1\r\nHost: x\r\nxiangying-protocol: 7.1\r\nContent-Length: 50\r\n\r\n",
    );
    assert_eq!((status, refusal(&body).0.as_str()), (426, "server_too_old"));
    // A malformed header is 400 and names the header.
    for bad in ["1", "one.two", "1.2.3", "1.2 beta"] {
        let (status, body) = raw(
            &f,
            &format!(
                "GET /v1/org HTTP/1.1\r\nHost: x\r\nxiangying-protocol: {bad}\r\nAuthorization: Bearer {}\r\n\r\n",
                token_of(&f, "gw1")
            ),
        );
        let (code, error) = refusal(&body);
        assert_eq!((status, code.as_str()), (400, "bad_request"), "{bad}");
        assert!(error.contains("xiangying-protocol"), "{error}");
    }
    // /health stays outside the check.
    let (status, _) = raw(
        &f,
        "GET /health HTTP/1.1\r\nHost: x\r\nxiangying-protocol: 0.1\r\n\r\n",
    );
    assert_eq!(status, 200);
}

#[test]
fn no_header_is_a_first_wave_device_and_is_served() {
    let f = field();
    let body = xiangying_core::sync::wire::encode(&xiangying_core::sync::wire::SyncRequest {
        push: vec![],
        cursor: 0,
        max_feed_bytes: 1 << 20,
        org_version: 0,
    })
    .expect("encode");
    let (status, _) = post_sync(&f, Some(&token_of(&f, "gw1")), body);
    assert_eq!(status, 200);
    // Without a token the answer is still 401: the version check does not open anything.
    let (status, _) = raw(
        &f,
        "POST /v1/sync HTTP/1.1\r\nHost: x\r\nxiangying-protocol: 1.2\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(status, 401);
}

#[test]
fn the_device_surfaces_426_as_upgrade_required_or_server_too_old() {
    let f = field();
    let d = f.dev("gw1");
    d.sync_now(&|_| {}).expect("today's protocol syncs");
    d.set_protocol_for_tests(Protocol { major: 0, minor: 5 });
    assert!(
        matches!(d.sync_now(&|_| {}), Err(Error::UpgradeRequired(_))),
        "an old wire is told to upgrade"
    );
    d.set_protocol_for_tests(Protocol { major: 2, minor: 0 });
    match d.sync_now(&|_| {}) {
        Err(Error::ServerTooOld(m)) => assert!(m.contains("2.0"), "{m}"),
        other => panic!("expected ServerTooOld, got {other:?}"),
    }
    // Neither is tampering: the device is not quarantined and syncs again once in range.
    d.set_protocol_for_tests(xiangying_core::sync::version::CURRENT);
    d.sync_now(&|_| {}).expect("back in range");
    assert!(!CORE_VERSION.is_empty());
}
