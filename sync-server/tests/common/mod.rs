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
