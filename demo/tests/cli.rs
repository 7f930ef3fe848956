//! The real `xiangying-demo` binary as a newcomer runs it, kept small: a field day of two grids
//! through real HTTP, with a live hour of forwards reaching phones by themselves, every device
//! checked against the server, patrols included; the summary's figures; then the commands it
//! names, run as printed with the real `xiangying-server` binary on the store the demo left
//! behind (rankings with a row per grid of the day, the notice boards as a PDF), and the
//! week's accompaniment table read from that store.

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
    // The logs go to a file in the demo's folder; the terminal keeps progress and summary.
    let log = out
        .lines()
        .find_map(|l| l.strip_prefix("logs: "))
        .and_then(|l| l.split(" (").next())
        .unwrap_or_else(|| panic!("no logs line: {out}"));
    assert!(Path::new(log).is_file(), "{log}");
    assert!(
        !format!("{out}{err}").contains(" WARN ") && !err.contains(" INFO "),
        "log lines on the terminal: {out}\n{err}"
    );
    // A line per phase while the day runs, with counts.
    for phase in ["phones enrolled", "morning synced: ", "evening synced: "] {
        assert!(out.contains(phase), "{phase}: {out}");
    }
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

    // The bytes on the wire mean what they say: the automerge changes counted for every
    // device that sent or received them, and the bodies close to that.
    let wire = out
        .lines()
        .find(|l| l.starts_with("on the wire: "))
        .unwrap_or_else(|| panic!("no wire line: {out}"));
    let ratio: f64 = wire
        .split("(the bodies are ")
        .nth(1)
        .and_then(|r| r.split('x').next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no ratio: {wire}"));
    assert!((1.0..1.5).contains(&ratio), "{wire}");

    // The summary names the server's store and the commands to try on it; the store is the
    // demo's, and the rankings those commands print have a row for each grid of the day.
    let store = out
        .lines()
        .find_map(|l| l.strip_prefix("the server's store: "))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| panic!("no store line: {out}"));
    let rankings = out
        .lines()
        .find(|l| l.starts_with("try: xiangying-server --data ") && l.contains(" admin rankings "))
        .unwrap_or_else(|| panic!("no rankings command: {out}"));
    assert!(
        rankings.contains(&format!("--data {} ", store.display())),
        "{rankings}"
    );
    let data = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("demo-"))
        })
        .expect("the demo's data folder")
        .join("server");
    assert_eq!(store, data);
    assert!(store.join("server.db").is_file());
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
    // The command as printed, run with the real server binary (built beside the demo's by
    // `cargo test --workspace`, which builds every package's binaries for its tests).
    let words: Vec<&str> = rankings
        .strip_prefix("try: xiangying-server ")
        .unwrap()
        .split_whitespace()
        .collect();
    let ranked = run_server(&words);
    for grid in ["g01", "g02"] {
        assert!(
            ranked.lines().any(|l| l.split('\t').nth(1) == Some(grid)),
            "{grid}: {ranked}"
        );
    }

    // And the notice boards, as printed (a PDF beside the store; `scripts/test` installs the
    // CJK font it needs).
    let board: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("try: xiangying-server "))
        .find(|l| l.contains(" admin notice-board "))
        .unwrap_or_else(|| panic!("no notice-board command: {out}"))
        .split_whitespace()
        .collect();
    run_server(&board);
    let pdf = board[board.iter().position(|w| *w == "--out").unwrap() + 1];
    assert!(std::fs::read(pdf).unwrap().starts_with(b"%PDF"), "{pdf}");

    // The accompaniment count of the demo's week: one of the two grid workers had the
    // official along.
    let table = xiangying_server::reports::accompaniments_table(storage.as_ref(), &today).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 1 + zhenxing::GRIDS, "{table}");
    let walked: Vec<&&str> = lines[1..].iter().filter(|l| l.contains("\t1\t")).collect();
    assert_eq!(walked.len(), 2, "{table}");
}

/// Runs the `xiangying-server` binary that sits beside the demo's with `args`; its standard
/// output, which must come from a success.
fn run_server(args: &[&str]) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_xiangying-demo")).with_file_name("xiangying-server");
    assert!(
        bin.is_file(),
        "no server binary at {}: build it first (cargo build -p xiangying-server)",
        bin.display()
    );
    let out = Command::new(&bin)
        .args(args)
        .env_remove("XIANGYING_CONFIG")
        .env_remove("XIANGYING_POSTGRES")
        .env("XIANGYING_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?}: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}
