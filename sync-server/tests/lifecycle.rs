//! The real `xiangying-server` binary's life as an operator's supervisor sees it: `/ready`
//! answers once it serves; a SIGTERM (systemd, a container runtime) stops it gracefully: it
//! stops accepting, the request in flight still gets its answer, and the process exits with
//! success instead of dying by the signal.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A loopback port free a moment ago.
fn free_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// Starts `serve` on `addr` over a fresh data folder.
fn start(data: &std::path::Path, addr: SocketAddr) -> Child {
    Command::new(env!("CARGO_BIN_EXE_xiangying-server"))
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", &addr.to_string()])
        .env_remove("XIANGYING_POSTGRES")
        .env_remove("XIANGYING_CONFIG")
        .env_remove("XIANGYING_FONT")
        .env("XIANGYING_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// One HTTP/1.1 exchange on a new connection; the status line's code.
fn get(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    status_of(&out)
}

fn status_of(response: &str) -> Option<u16> {
    response.split_whitespace().nth(1)?.parse().ok()
}

/// Waits (bounded) until `check` holds.
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let addr = free_port();
    let mut child = start(dir.path(), addr);
    wait_until("the server is ready", || get(addr, "/ready") == Some(200));

    // A request in flight: an enrolment whose body has only half arrived.
    let body = br#"{"code":"NO-SUCH-CODE","token":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","device_name":"test"}"#;
    let (first, rest) = body.split_at(body.len() / 2);
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         xiangying-protocol: {}\r\nContent-Length: {}\r\n\r\n",
        xiangying_model::sync::version::CURRENT,
        body.len()
    )
    .unwrap();
    s.write_all(first).unwrap();
    s.flush().unwrap();
    // Let the server read the headers and start on the body.
    wait_until("the server is still ready with a request in flight", || {
        get(addr, "/ready") == Some(200)
    });

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    // It stops accepting: new connections are refused once the listener is closed.
    wait_until("new connections are refused after SIGTERM", || {
        TcpStream::connect(addr).is_err()
    });

    // The request in flight is still answered (a bad code: refused, but answered).
    s.write_all(rest).unwrap();
    s.flush().unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    let status = status_of(&answer);
    assert!(
        matches!(status, Some(400..=499)),
        "the request in flight got no answer: {answer:?}"
    );

    // And the process ends by itself, with success, not by the signal.
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        exit.success(),
        "the server ended with {exit:?}, not a clean exit"
    );
}
