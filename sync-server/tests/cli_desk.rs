//! The real `xiangying-server` binary's desk commands: `admin set-password` reads the password
//! from standard input (never an argument) and refuses roles off the desk and short
//! passwords naming the rule; `admin sign-in-link` prints a path, or a whole URL with
//! `--base-url` (decision 0039).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;
use common::{failed, ok, server};
use xiangying_model::org::sample;
use xiangying_server::desk::password::verify_password;
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::with_tx;

/// A data folder with the sample street published.
fn street() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let roster = dir.path().join("roster.json");
    let catalogue = dir.path().join("catalogue.json");
    std::fs::write(&roster, sample::roster_json().unwrap()).unwrap();
    std::fs::write(&catalogue, sample::catalogue_json().unwrap()).unwrap();
    let (r, c) = (roster.to_str().unwrap(), catalogue.to_str().unwrap());
    ok(&server(
        &data,
        &["admin", "setup", "--roster", r, "--catalogue", c],
    ));
    (dir, data)
}

/// Runs the binary with `input` on standard input.
fn with_stdin(data: &Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xiangying-server"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("XIANGYING_POSTGRES")
        .env_remove("XIANGYING_CONFIG")
        .env("XIANGYING_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stored_password(data: &Path, person: &str) -> Option<String> {
    let storage = SqliteStorage::open(data).unwrap();
    with_tx(&storage, |tx| tx.desk_password(&person.into())).unwrap()
}

#[test]
fn set_password_reads_one_line_of_stdin_and_checks_the_rules() {
    let (_dir, data) = street();
    let out = ok(&with_stdin(
        &data,
        &["admin", "set-password", "center"],
        "长城-secret-1\nignored\n",
    ));
    assert!(out.contains("desk password set for center"), "{out}");
    assert!(!out.contains("secret"), "never echoed");
    let phc = stored_password(&data, "center").unwrap();
    assert!(verify_password("长城-secret-1", Some(&phc)));
    // Windows line endings are dropped too.
    ok(&with_stdin(
        &data,
        &["admin", "set-password", "cc1"],
        "another-one\r\n",
    ));
    assert!(verify_password(
        "another-one",
        stored_password(&data, "cc1").as_deref()
    ));

    let e = failed(&with_stdin(
        &data,
        &["admin", "set-password", "cc2"],
        "short\n",
    ));
    assert!(e.contains("at least 8 characters"), "{e}");
    let e = failed(&with_stdin(
        &data,
        &["admin", "set-password", "gw1"],
        "long enough\n",
    ));
    assert!(e.contains("does not work at a desk"), "{e}");
    let e = failed(&with_stdin(&data, &["admin", "set-password", "cc2"], ""));
    assert!(e.contains("no password on standard input"), "{e}");
    assert_eq!(stored_password(&data, "cc2"), None);
    assert_eq!(stored_password(&data, "gw1"), None);
    // The password is never an argument.
    failed(&server(
        &data,
        &["admin", "set-password", "cc2", "long enough"],
    ));
}

#[test]
fn sign_in_link_prints_a_path_or_a_whole_url() {
    let (_dir, data) = street();
    let path = ok(&server(&data, &["admin", "sign-in-link", "official"]));
    let path = path.trim();
    let token = path.strip_prefix("/desk/link/").unwrap();
    assert_eq!(token.len(), 64, "{path}");
    let url = ok(&server(
        &data,
        &[
            "admin",
            "sign-in-link",
            "police1",
            "--base-url",
            "https://desk.example.cn/",
        ],
    ));
    assert!(
        url.trim().starts_with("https://desk.example.cn/desk/link/"),
        "{url}"
    );
    let e = failed(&server(&data, &["admin", "sign-in-link", "vol1"]));
    assert!(e.contains("does not work at a desk"), "{e}");
}
