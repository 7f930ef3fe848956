//! `xiangying-demo`: set up the Zhenxing example on the embedded store, run a simulated field
//! day through real HTTP, check every device against the server, print a line per phase and a
//! summary, and keep serving (see the crate's library for what the day does). Logs go to
//! `demo.log` in the demo's data folder, or to the terminal with `-v`.
//!
//! The demo is its own crate because it drives real device stores (`xiangying-core`, with its
//! HTTP client) against a real server: the server itself does not link the device.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use xiangying_server::Config;
use xiangying_server::config_file::FileConfig;

#[derive(Parser)]
#[command(
    name = "xiangying-demo",
    version,
    about = "The Zhenxing (振兴街道) field day on a real Xiangying server"
)]
struct Cli {
    /// A server TOML configuration file, for its [limits]; the demo always uses the embedded
    /// store in a fresh folder.
    #[arg(long, env = "XIANGYING_CONFIG")]
    config: Option<PathBuf>,
    /// The folder the demo's own data folder `demo-<time>/` is made in.
    #[arg(long, default_value = "xiangying-data")]
    data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8470")]
    listen: SocketAddr,
    /// Reports per device in the field day.
    #[arg(long, default_value_t = 5)]
    reports: usize,
    /// How many grids take part (1 to 64).
    #[arg(long, default_value_t = 64)]
    grids: usize,
    /// Exit after the summary instead of serving.
    #[arg(long)]
    no_serve: bool,
    /// Write the server's and the devices' logs to the terminal (standard error) instead of
    /// `demo.log` in the demo's data folder. `XIANGYING_LOG` sets the filter (default `info`).
    #[arg(short, long)]
    verbose: bool,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let file = match cli.config.as_deref() {
        Some(path) => FileConfig::load(path)?,
        None => FileConfig::default(),
    };
    let data = xiangying_demo::demo_folder(&cli.data);
    std::fs::create_dir_all(&data)?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("XIANGYING_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if cli.verbose {
        logs.with_writer(std::io::stderr).init();
    } else {
        // The terminal keeps the progress and the summary; the logs go to a file.
        let path = data.join("demo.log");
        let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        logs.with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .init();
        println!("logs: {} (-v shows them here)", path.display());
    }
    let cfg = Config {
        data: cli.data,
        postgres: None,
        limits: file.limits(),
        metrics_token: file.metrics_token.clone(),
        recovery_window_days: file.recovery_window_days(),
        store: file.pg_options(),
    };
    xiangying_demo::run(
        &cfg,
        &data,
        cli.listen,
        cli.reports,
        cli.grids,
        cli.no_serve,
    )
}
