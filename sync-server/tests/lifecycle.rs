//! The real `xiangying-server` binary's life as an operator's supervisor sees it: `/ready`
//! answers once it serves; a SIGTERM (systemd, a container runtime) stops it gracefully: it
//! stops accepting, the request in flight still gets its answer, and the process exits with
//! success instead of dying by the signal. A SIGTERM in the middle of a phone's push loses
//! none of its reports, and the phone's retry, once the server is back, completes; `admin
//! setup` over the street's cases then takes `--replace`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use xiangying_core::org::sample;
use xiangying_core::{Device, NewReport};
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::with_tx;

mod common;
use common::{free_port, http_get, publish_sample, sigterm, status_of, wait_until};

/// Starts `serve` on `addr` over the store in `data`.
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

#[test]
fn sigterm_lets_the_request_in_flight_finish_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    publish_sample(&data);
    let addr = free_port();
    let mut child = start(&data, addr);
    wait_until("the server is ready", || {
        http_get(addr, "/ready", "") == Some(200)
    });

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
        http_get(addr, "/ready", "") == Some(200)
    });

    sigterm(&child);
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

/// A one-connection-at-a-time TCP relay on loopback that can hold a request half-forwarded:
/// once armed, it forwards client bytes until `hold_after` of them have passed, then stops
/// forwarding (the server sees a request whose body has only partly arrived) until released.
struct Gate {
    addr: SocketAddr,
    armed: Arc<AtomicU64>,
    held: Arc<AtomicBool>,
    released: Arc<AtomicBool>,
}

impl Gate {
    fn start(target: SocketAddr) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let gate = Gate {
            addr: listener.local_addr().unwrap(),
            armed: Arc::new(AtomicU64::new(u64::MAX)),
            held: Arc::new(AtomicBool::new(false)),
            released: Arc::new(AtomicBool::new(false)),
        };
        let (armed, held, released) =
            (gate.armed.clone(), gate.held.clone(), gate.released.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(target) else {
                    // The server is down: the device sees its connection closed.
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pipe(s2, c2, None));
                let hold = (armed.clone(), held.clone(), released.clone());
                std::thread::spawn(move || pipe(client, server, Some(hold)));
            }
        });
        gate
    }

    /// Holds the connection that carries the `n`-th client byte from now on.
    fn arm(&self, n: u64) {
        self.armed.store(n, Ordering::SeqCst);
    }
}

type Hold = (Arc<AtomicU64>, Arc<AtomicBool>, Arc<AtomicBool>);

/// Copies `from` to `to` until either side closes; with `hold`, stops after the armed count
/// of bytes until released.
fn pipe(mut from: TcpStream, mut to: TcpStream, hold: Option<Hold>) {
    let mut buf = [0u8; 4096];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut chunk = &buf[..n];
        if let Some((armed, held, released)) = &hold {
            let left = armed.load(Ordering::SeqCst);
            if left != u64::MAX {
                if (chunk.len() as u64) < left {
                    armed.store(left - chunk.len() as u64, Ordering::SeqCst);
                } else {
                    armed.store(u64::MAX, Ordering::SeqCst);
                    let (now, later) = chunk.split_at(left as usize);
                    if to.write_all(now).is_err() {
                        break;
                    }
                    held.store(true, Ordering::SeqCst);
                    while !released.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    chunk = later;
                }
            }
        }
        if to.write_all(chunk).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// Waits (bounded) for the child to exit; its status.
fn exited(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A one-time enrolment code for `person`, from the real binary's `admin issue-code`.
fn issue_code(data: &std::path::Path, person: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_xiangying-server"))
        .arg("--data")
        .arg(data)
        .args(["admin", "issue-code", person])
        .env_remove("XIANGYING_POSTGRES")
        .env_remove("XIANGYING_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn sigterm_during_a_push_loses_nothing_and_the_retry_completes() {
    const REPORTS: usize = 120;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    publish_sample(&data);
    let addr = free_port();
    let mut child = start(&data, addr);
    wait_until("the server is ready", || {
        http_get(addr, "/ready", "") == Some(200)
    });

    // A grid worker's phone, reaching the server through the gate, with a morning of reports.
    let gate = Gate::start(addr);
    let phone = Device::open(&dir.path().join("phone")).unwrap();
    phone
        .enrol(
            &format!("http://{}", gate.addr),
            &issue_code(&data, "gw1"),
            "gw1's phone",
        )
        .unwrap();
    for i in 0..REPORTS {
        let report = NewReport {
            category: sample::LITTER.into(),
            location: sample::IN_G1,
            grid: None,
            segment: None,
            description: format!("第{i}处垃圾"),
        };
        if i % 20 == 0 {
            phone
                .report_with_photos(&report, &[&common::jpeg(i as u8)])
                .unwrap();
        } else {
            phone.report(&report).unwrap();
        }
    }
    assert_eq!(phone.outbox_len().unwrap(), REPORTS as u64);

    // The push starts; the gate holds it with part of its body sent.
    gate.arm(6_000);
    let syncing = {
        let path = dir.path().join("phone");
        std::thread::spawn(move || Device::open(&path).unwrap().sync_now(&|_| {}))
    };
    wait_until("the push is half sent", || gate.held.load(Ordering::SeqCst));

    // The operator's SIGTERM arrives mid-push; the server stops accepting.
    sigterm(&child);
    wait_until("new connections are refused after SIGTERM", || {
        TcpStream::connect(addr).is_err()
    });
    gate.released.store(true, Ordering::SeqCst);
    // The phone's sync ends, one way or the other: the push in flight is answered, the photo
    // uploads after it find the server gone.
    let first = syncing.join().unwrap();
    let exit = exited(&mut child);
    assert!(exit.success(), "the server ended with {exit:?}");

    // Whatever the phone still holds is what the server did not acknowledge.
    let left = phone.outbox_len().unwrap();
    assert!(
        first.is_err() || left == 0,
        "a sync that succeeded left {left} entries unacknowledged"
    );

    // The server comes back (a restart by systemd); the phone's retry completes.
    let mut child = start(&data, addr);
    wait_until("the server is ready again", || {
        http_get(addr, "/ready", "") == Some(200)
    });
    let report = phone.sync_now(&|_| {}).unwrap();
    assert_eq!(phone.outbox_len().unwrap(), 0, "{report:?}");
    assert!(
        phone.pending_uploads(100).unwrap().is_empty(),
        "photos still waiting after the retry: {report:?}"
    );
    sigterm(&child);
    assert!(exited(&mut child).success());

    // Nothing lost, nothing doubled: the server holds every report exactly once.
    let storage = SqliteStorage::open(&data).unwrap();
    let (cases, _, _) = with_tx(&storage, |tx| tx.counts()).unwrap();
    assert_eq!(cases, REPORTS as u64);
    let version = || with_tx(&storage, |tx| tx.org_version()).unwrap();
    let published = version();

    // Publishing over a street that holds cases takes --replace: without it the store is
    // refused, untouched.
    let dir_of = data.parent().unwrap();
    let (roster, catalogue) = (dir_of.join("roster.json"), dir_of.join("catalogue.json"));
    let setup = |extra: &[&str]| common::setup(&data, &roster, &catalogue, extra);
    let err = common::failed(&setup(&[]));
    assert!(
        err.contains(&format!("already holds {REPORTS} cases")) && err.contains("--replace"),
        "{err}"
    );
    assert_eq!(version(), published);
    common::ok(&setup(&["--replace"]));
    assert_eq!(version(), published + 1);
}
