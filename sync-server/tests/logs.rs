//! The real `xiangying-server` binary's logs, as an operator's log collector gets them: with
//! `serve --log-format json` at the default level every line it writes is one JSON object, and
//! none carries a person's data. A device enrols and reports through the real device store
//! (xiangying-core) with a name, a phone number, case text, an enrolment code, a device name
//! and a bearer token that each carry a marker of their own; no marker may appear in any line.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{free_port, http_get, sigterm, wait_until};

/// A person's name in the roster.
const NAME: &str = "标记姓名Marker";
/// Their phone number, as the roster writes it.
const PHONE: &str = "139-8765-4321";
/// The same digits as a device would type them.
const PHONE_DIGITS: &str = "13987654321";
/// Words in a case's description.
const CASE_TEXT: &str = "案件正文MARKER-TEXT";
/// A device's name.
const DEVICE_NAME: &str = "设备名MARKER-DEVICE";
/// An enrolment code the server never issued.
const WRONG_CODE: &str = "WRONG-MARKER-CODE";
/// A bearer token the server never saw.
const WRONG_TOKEN: &str = "bad-marker-token-0123456789abcdef0123456789abcdef";

/// The sample street with the markers as one person's name and phone number.
fn publish(data: &Path, dir: &Path) {
    use xiangying_core::org::sample;
    let mut roster: serde_json::Value =
        serde_json::from_str(&sample::roster_json().unwrap()).unwrap();
    let people = roster["people"].as_array_mut().unwrap();
    let inf1 = people.iter_mut().find(|p| p["id"] == "inf1").unwrap();
    inf1["name"] = NAME.into();
    inf1["phone"] = PHONE.into();
    let (r, c) = (dir.join("roster.json"), dir.join("catalogue.json"));
    std::fs::write(&r, roster.to_string()).unwrap();
    std::fs::write(&c, sample::catalogue_json().unwrap()).unwrap();
    common::ok(&common::setup(data, &r, &c, &[]));
}

/// The bearer token a device keeps in its store.
fn token_of(device_dir: &Path) -> String {
    let conn = rusqlite::Connection::open(device_dir.join("xiangying.db")).unwrap();
    let v: Vec<u8> = conn
        .query_row("SELECT value FROM meta WHERE key = 'token'", [], |r| {
            r.get(0)
        })
        .unwrap();
    String::from_utf8(v).unwrap()
}

#[test]
fn json_logs_at_the_default_level_carry_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    publish(&data, dir.path());
    let code = common::ok(&common::server(&data, &["admin", "issue-code", "inf1"]))
        .trim()
        .to_string();

    let addr = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_xiangying-server"))
        .arg("--data")
        .arg(&data)
        .args([
            "serve",
            "--listen",
            &addr.to_string(),
            "--log-format",
            "json",
        ])
        .env_remove("XIANGYING_POSTGRES")
        .env_remove("XIANGYING_CONFIG")
        .env_remove("XIANGYING_LOG")
        .env_remove("XIANGYING_LOG_JSON")
        .env_remove("XIANGYING_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            r.read_to_string(&mut s).unwrap();
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    wait_until("the server is ready", || {
        http_get(addr, "/ready", "") == Some(200)
    });

    // Enrolment: a wrong code first, then the right one; a report with a photo; syncs.
    let url = format!("http://{addr}");
    let device_dir = dir.path().join("device");
    let device = xiangying_core::Device::open(&device_dir).unwrap();
    assert!(device.enrol(&url, WRONG_CODE, DEVICE_NAME).is_err());
    device.enrol(&url, &code, DEVICE_NAME).unwrap();
    let case = device
        .report(&xiangying_core::NewReport {
            category: xiangying_core::org::sample::LITTER.into(),
            location: xiangying_core::org::sample::IN_G1,
            grid: None,
            segment: None,
            description: format!("{CASE_TEXT} 请打 {PHONE_DIGITS}"),
        })
        .unwrap();
    device
        .attach_photo(
            &case,
            &common::jpeg(1),
            xiangying_core::case::PhotoStage::Before,
        )
        .unwrap();
    let report = device.sync_now(&|_| {}).unwrap();
    assert!(report.photos_uploaded >= 1, "{report:?}");
    device.sync_now(&|_| {}).unwrap();
    let token = token_of(&device_dir);
    // A request with a token the server does not know.
    let auth = format!(
        "Authorization: Bearer {WRONG_TOKEN}\r\nxiangying-protocol: {}\r\n",
        xiangying_model::sync::version::CURRENT
    );
    assert_eq!(http_get(addr, "/v1/org", &auth), Some(401));

    sigterm(&child);
    assert!(child.wait().unwrap().success());
    let (out, err) = (out.join().unwrap(), err.join().unwrap());

    let lines: Vec<&str> = out
        .lines()
        .chain(err.lines())
        .filter(|l| !l.trim().is_empty())
        .collect();
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v.is_object(), "{line}");
    }
    // The request log is there (so the check below looked at something).
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/v1/sync") && l.contains("finished processing request")),
        "no request log lines:\n{}",
        lines.join("\n")
    );
    assert!(lines.iter().any(|l| l.contains("\"serving\"")));
    for (what, marker) in [
        ("a person's name", NAME),
        ("a phone number", PHONE),
        ("a phone number", PHONE_DIGITS),
        ("case text", CASE_TEXT),
        ("a device's name", DEVICE_NAME),
        ("an enrolment code", code.as_str()),
        ("an enrolment code", WRONG_CODE),
        ("a bearer token", token.as_str()),
        ("a bearer token", WRONG_TOKEN),
    ] {
        assert!(!marker.is_empty());
        if let Some(line) = lines.iter().find(|l| l.contains(marker)) {
            panic!("{what} in the logs: {line}");
        }
    }
}

#[test]
fn the_config_files_log_format_reaches_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "log_format = \"json\"\n").unwrap();
    let (roster, catalogue) = (
        dir.path().join("roster.json"),
        dir.path().join("catalogue.json"),
    );
    std::fs::write(&roster, xiangying_core::org::sample::roster_json().unwrap()).unwrap();
    std::fs::write(
        &catalogue,
        xiangying_core::org::sample::catalogue_json().unwrap(),
    )
    .unwrap();
    // Setting up a new store logs each migration at info, on standard error; the answer stays
    // alone on standard output.
    let out = Command::new(env!("CARGO_BIN_EXE_xiangying-server"))
        .arg("--data")
        .arg(dir.path().join("server"))
        .arg("--config")
        .arg(&config)
        .args(["admin", "setup", "--roster"])
        .arg(&roster)
        .arg("--catalogue")
        .arg(&catalogue)
        .env_remove("XIANGYING_POSTGRES")
        .env_remove("XIANGYING_LOG")
        .env_remove("XIANGYING_LOG_JSON")
        .env_remove("XIANGYING_LOG_FORMAT")
        .output()
        .unwrap();
    let stdout = common::ok(&out);
    assert!(
        stdout.starts_with("published roster and catalogue"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines.iter().any(|l| l.contains("store migrated")),
        "{stderr}"
    );
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert_eq!(v["level"], "INFO", "{line}");
    }
}
