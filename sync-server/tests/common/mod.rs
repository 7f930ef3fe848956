//! What the command-line suites share: running the real `xiangying-server` binary on a data
//! folder, as an operator would, with no PostgreSQL, configuration file or font from the
//! environment, and reading its answer.

#![allow(dead_code)] // each suite uses its own share of these

use std::path::Path;
use std::process::{Command, Output};

/// Runs the binary with `--data data` and `args`.
pub fn server(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xiangying-server"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("XIANGYING_POSTGRES")
        .env_remove("XIANGYING_CONFIG")
        .env_remove("XIANGYING_FONT")
        .env("XIANGYING_LOG", "warn")
        .output()
        .unwrap()
}

/// Publishes the sample street into `data` with the real binary's `admin setup` (its roster
/// and catalogue written beside `data`): the store that every command but `setup` and
/// `restore` needs.
pub fn publish_sample(data: &Path) {
    use xiangying_core::org::sample;
    let dir = data.parent().expect("a data folder inside a test folder");
    let (roster, catalogue) = (dir.join("roster.json"), dir.join("catalogue.json"));
    std::fs::write(&roster, sample::roster_json().unwrap()).unwrap();
    std::fs::write(&catalogue, sample::catalogue_json().unwrap()).unwrap();
    ok(&setup(data, &roster, &catalogue, &[]));
}

/// Runs the real binary's `admin setup` of `roster` and `catalogue` into `data`, with `extra`
/// arguments (e.g. `--replace`).
pub fn setup(data: &Path, roster: &Path, catalogue: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "admin",
        "setup",
        "--roster",
        roster.to_str().unwrap(),
        "--catalogue",
        catalogue.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    server(data, &args)
}

/// The standard output of a run that must succeed.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The standard error of a run that must fail.
pub fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A loopback port free a moment ago.
pub fn free_port() -> std::net::SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// One HTTP/1.1 GET on a new connection, with `extra` header lines (each ending in `\r\n`);
/// the status code, or `None` when nothing answered.
pub fn http_get(addr: std::net::SocketAddr, path: &str, extra: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    status_of(&out)
}

/// The status code of an HTTP/1.1 answer's status line.
pub fn status_of(response: &str) -> Option<u16> {
    response.split_whitespace().nth(1)?.parse().ok()
}

/// Waits (bounded: 30 s) until `check` holds.
pub fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Sends SIGTERM to a child server, as systemd or a container runtime stops it.
pub fn sigterm(child: &std::process::Child) {
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
}

/// A small real JPEG of its own per seed, as a phone's camera would hand one over.
pub fn jpeg(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(48, 32, |x, y| {
        image::Rgb([(x * 5) as u8, (y * 7) as u8, seed])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}
