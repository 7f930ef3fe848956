//! A real server in a child process, for benchmarks that measure the server alone (its
//! memory) or restart it (a stop and a start on the same port, with devices waiting).
//!
//! The benchmark executable runs itself again ([`std::env::current_exe`]) with
//! [`CHILD_ENV`] naming a configuration file (the server's own TOML format,
//! [`xiangying_server::config_file`]); its `main` calls [`run_if_child`] first, which then
//! serves that configuration on SQLite and never returns. The child talks over its standard
//! streams: it prints `listening <addr>` once serving; on `waiting` it prints how many requests
//! wait on the wake-up channel (`AppState::wake.waiting()`); on `stop` (or the end of its input,
//! when the parent is gone) it stops gracefully, prints `stopped` and exits.
//!
//! A child asked to ([`ENROL_ENV`]) enrols devices with known tokens ([`bench_token`])
//! through the storage API before serving: one transaction issuing a code and enrolling with
//! it per device, the same functions `POST /v1/enrol` calls.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use xiangying_core::ids::PersonId;
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::{Storage, with_tx};

/// The environment variable that makes the benchmark executable a server: the configuration
/// file's path.
pub const CHILD_ENV: &str = "XY_BENCH_CHILD_SERVER";

/// Devices to enrol before serving: `<count>:<person>,<person>,…` (round robin).
pub const ENROL_ENV: &str = "XY_BENCH_CHILD_ENROL";

/// The token of the `i`-th device a child enrols.
pub fn bench_token(i: usize) -> String {
    format!("{:032x}{:032x}", 0x5eed_u64, i)
}

/// If this process was started as a child server, serves and exits; otherwise returns.
pub fn run_if_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let code = match child_main(Path::new(&path)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("child server: {e}");
            1
        }
    };
    std::process::exit(code);
}

fn child_main(path: &Path) -> Result<(), String> {
    let file = xiangying_server::config_file::FileConfig::load(path)?;
    let data = file
        .data
        .clone()
        .ok_or("the configuration names no data folder")?;
    let listen = file
        .listen
        .ok_or("the configuration names no listen address")?;
    let config = xiangying_server::Config {
        data,
        postgres: None,
        limits: file.limits(),
        metrics_token: None,
        recovery_window_days: file.recovery_window_days(),
        store: file.pg_options(),
    };
    let state = xiangying_server::app_state(&config).map_err(|e| e.to_string())?;
    if let Ok(spec) = std::env::var(ENROL_ENV) {
        enrol_many(state.storage.as_ref(), &spec)?;
    }
    let running = xiangying_server::spawn(state.clone(), listen).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout();
    let say = |out: &mut std::io::Stdout, line: String| {
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    say(&mut out, format!("listening {}", running.addr));
    for line in std::io::stdin().lock().lines() {
        match line.as_deref().map(str::trim) {
            Ok("waiting") => say(&mut out, format!("waiting {}", state.wake.waiting())),
            Ok("stop") | Err(_) => break,
            Ok(_) => {}
        }
    }
    running.stop();
    say(&mut out, "stopped".into());
    Ok(())
}

fn enrol_many(storage: &dyn Storage, spec: &str) -> Result<(), String> {
    let (count, persons) = spec.split_once(':').ok_or("enrol: <count>:<persons>")?;
    let count: usize = count.parse().map_err(|e| format!("enrol count: {e}"))?;
    let persons: Vec<PersonId> = persons.split(',').map(PersonId::from).collect();
    let now = chrono_now();
    let ttl = i64::MAX / 4;
    // Batches of a thousand devices per transaction.
    for start in (0..count).step_by(1000) {
        with_tx(storage, |tx| {
            for i in start..(start + 1000).min(count) {
                let person = &persons[i % persons.len()];
                let code = xiangying_server::auth::issue_code(tx, person, now)?;
                xiangying_server::auth::enrol(
                    tx,
                    &code,
                    &bench_token(i),
                    &format!("bench {i}"),
                    now,
                    ttl,
                )?;
            }
            Ok(())
        })
        .map_err(|e| format!("enrol: {e}"))?;
    }
    Ok(())
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Publishes the org into a new SQLite store in `data` (before a child serves it).
pub fn prepare_store(data: &Path, org: &(String, String)) -> Arc<SqliteStorage> {
    let storage = Arc::new(SqliteStorage::open(data).expect("sqlite"));
    xiangying_server::admin::publish(storage.as_ref(), &org.0, &org.1).expect("publish org");
    storage
}

/// Writes a configuration file for a child: `data`, `listen` and the `[limits]` given as
/// `key = value` pairs (the rest default).
pub fn write_config(
    dir: &Path,
    data: &Path,
    listen: SocketAddr,
    limits: &[(&str, u64)],
) -> PathBuf {
    let mut text = format!("data = {:?}\nlisten = \"{listen}\"\n[limits]\n", data);
    for (k, v) in limits {
        text.push_str(&format!("{k} = {v}\n"));
    }
    let path = dir.join("server.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// A free port on 127.0.0.1 (free when asked; the child binds it right after).
pub fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// A server running in a child process.
pub struct ChildServer {
    /// Where it listens.
    pub addr: SocketAddr,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl ChildServer {
    /// Starts the benchmark executable as a server of `config`, with `env` set too; returns
    /// once it listens.
    pub fn start(config: &Path, env: &[(&str, String)]) -> ChildServer {
        let exe = std::env::current_exe().expect("current exe");
        let mut cmd = Command::new(exe);
        cmd.env(CHILD_ENV, config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn child server");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("child's first line");
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the child server did not start: {line:?}"))
            .parse()
            .expect("address");
        ChildServer {
            addr,
            child,
            stdin,
            stdout,
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").expect("to child");
        self.stdin.flush().expect("flush");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("from child");
        line.trim().to_string()
    }

    /// How many requests wait on the child's wake-up channel.
    pub fn waiting(&mut self) -> usize {
        let line = self.ask("waiting");
        line.strip_prefix("waiting ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected answer {line:?}"))
    }

    /// The child's resident memory, KiB (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_kib(&self) -> u64 {
        proc_status_kib(self.pid(), "VmRSS")
    }

    /// Stops the child gracefully (as an operator's restart does) and waits for it.
    pub fn stop(mut self) {
        let said = self.ask("stop");
        assert_eq!(said, "stopped", "the child server's last words");
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`, …); 0 when absent.
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
