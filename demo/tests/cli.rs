//! The real `xiangying-demo` binary as a newcomer runs it, kept small: a field day of two grids
//! through real HTTP, with a live hour of forwards reaching phones by themselves, every device
//! checked against the server, patrols included; then the
//! week's accompaniment table read from the store the demo left behind.

use std::path::Path;
use std::process::{Command, Output};
use xiangying_model::org::zhenxing;

fn demo(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xiangying-demo"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("XIANGYING_CONFIG")
        .env("XIANGYING_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn the_demo_runs_a_small_field_day_with_patrols() {
    let dir = tempfile::tempdir().unwrap();
    let run = demo(
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--grids",
            "2",
            "--reports",
            "1",
            "--no-serve",
        ],
    );
    let (out, err) = (
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
    );
    assert!(run.status.success(), "failed: {out}\n{err}");
    assert!(out.contains(" 2 patrols"), "{out}");
    assert!(out.contains("byte-identical"), "{out}");
    // The live hour: forwards reached their grid workers with nobody syncing by hand.
    let live = out
        .lines()
        .find(|l| l.starts_with("live: "))
        .unwrap_or_else(|| panic!("no live line: {out}"));
    assert!(
        live.contains("forwards reached") && live.contains("p50"),
        "{live}"
    );

    // The desk's address and a centre staff member's sign-in, then how to bring the desk up
    // again on the demo's data folder (this run does not keep serving).
    let desk = out
        .lines()
        .find(|l| l.starts_with("desk: http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no desk line: {out}"));
    assert!(
        desk.contains("/desk/ — sign in as ") && desk.contains(" with password "),
        "{desk}"
    );
    let again = out
        .lines()
        .find(|l| l.starts_with("to bring the desk up again: xiangying-server --data "))
        .unwrap_or_else(|| panic!("no serve command: {out}"));
    assert!(again.contains(" serve --listen 127.0.0.1:"), "{again}");

    // The accompaniment count of the demo's week: one of the two grid workers had the
    // official along.
    let data = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("demo-"))
        })
        .expect("the demo's data folder")
        .join("server");
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d")
        .to_string();
    let cfg = xiangying_server::Config {
        data,
        postgres: None,
        limits: Default::default(),
        metrics_token: None,
        recovery_window_days: 30,
        store: Default::default(),
    };
    let storage = xiangying_server::open_storage(&cfg).unwrap();
    let table = xiangying_server::reports::accompaniments_table(storage.as_ref(), &today).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 1 + zhenxing::GRIDS, "{table}");
    let walked: Vec<&&str> = lines[1..].iter().filter(|l| l.contains("\t1\t")).collect();
    assert_eq!(walked.len(), 2, "{table}");
}
