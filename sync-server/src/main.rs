//! `xiangying-server`: serve or administer. (The demo field day is `xiangying-demo`.)
//!
//! Configuration comes from flags, the environment or a TOML file (`--config`, see
//! [`xiangying_server::config_file`]), in that order of precedence: `XIANGYING_CONFIG` (the
//! file), `XIANGYING_DATA` (data folder), `XIANGYING_LISTEN` (address), `XIANGYING_POSTGRES`
//! (PostgreSQL URL; SQLite otherwise), `XIANGYING_TLS_CERT` and `XIANGYING_TLS_KEY` (serve
//! HTTPS itself with this PEM chain and key), `XIANGYING_LOG` (log filter, e.g. `info`),
//! `XIANGYING_LOG_FORMAT` (`plain` or `json`, as `serve --log-format`; the older
//! `XIANGYING_LOG_JSON=1` still means `json`).

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use xiangying_server::config_file::{FileConfig, LogFormat};
use xiangying_server::{Config, admin, backup};

#[derive(Parser)]
#[command(
    name = "xiangying-server",
    version,
    about = "The Xiangying (响应) sync server"
)]
struct Cli {
    /// A TOML configuration file (data, postgres, listen, [limits], [store]); flags and environment
    /// variables win over it.
    #[arg(long, env = "XIANGYING_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Data folder: the SQLite store and photo files [default: xiangying-data].
    #[arg(long, env = "XIANGYING_DATA", global = true)]
    data: Option<PathBuf>,
    /// PostgreSQL URL; without it the embedded SQLite store in the data folder is used.
    #[arg(long, env = "XIANGYING_POSTGRES", global = true)]
    postgres: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8470].
        #[arg(long, env = "XIANGYING_LISTEN")]
        listen: Option<SocketAddr>,
        /// Serve HTTPS with this PEM certificate chain (the server's certificate first); needs
        /// --tls-key. For small deployments: most terminate TLS at a reverse proxy.
        #[arg(long, env = "XIANGYING_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, env = "XIANGYING_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// How log lines are written to standard error: plain text, or one JSON object per
        /// line for a log collector [default: the config file's log_format, else plain].
        #[arg(long, value_enum, env = "XIANGYING_LOG_FORMAT")]
        log_format: Option<LogFormat>,
    },
    /// Administer the street.
    Admin {
        #[command(subcommand)]
        action: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Publish a street's roster and catalogue files (checked first).
    Setup {
        /// Roster JSON file.
        #[arg(long)]
        roster: PathBuf,
        /// Catalogue JSON file.
        #[arg(long)]
        catalogue: PathBuf,
        /// Publish over a store that already holds cases (a new version of its street's
        /// roster and catalogue); without it such a store is refused.
        #[arg(long)]
        replace: bool,
    },
    /// Issue a one-time enrolment code for a person.
    IssueCode {
        /// The person's id in the roster.
        person: String,
    },
    /// Revoke an unused enrolment code.
    RevokeCode {
        /// The code.
        code: String,
    },
    /// Revoke an enrolled device.
    RevokeDevice {
        /// The device id.
        device: String,
    },
    /// Set (or reset) a desk password for a person who works at a desk (street centre staff,
    /// street officials, department staff, community chiefs). The password is read from
    /// standard input, one line (not echoed at a terminal); at least 8 characters. Ends the
    /// person's desk sessions.
    SetPassword {
        /// The person's id in the roster.
        person: String,
    },
    /// Issue a one-time desk sign-in link for a person who works at a desk (valid 24 hours,
    /// spent by its first use); prints its path, or the whole URL with --base-url.
    SignInLink {
        /// The person's id in the roster.
        person: String,
        /// The desk's public address, e.g. https://desk.example.cn, to print a whole URL.
        #[arg(long)]
        base_url: Option<String>,
    },
    /// List enrolled devices.
    Devices,
    /// Show the server's status.
    Status,
    /// Bring the store to this build's schema version (the server also does at start);
    /// prints from → to. A store newer than this build is refused untouched.
    Migrate,
    /// Write a consistent backup (database, photo files, manifest.json) into a new folder,
    /// while the server keeps serving. PostgreSQL needs pg_dump (on PATH or under
    /// /usr/lib/postgresql/*/bin).
    Backup {
        /// The folder to write (must not exist, or be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup back, with the server stopped: verifies it, keeps the replaced store
    /// aside, migrates, and gives the store a new epoch.
    Restore {
        /// The backup folder.
        #[arg(long)]
        from: PathBuf,
    },
    /// Print the rankings (绩效排名) over a period as a tab-separated table. Dates are read in
    /// China time (UTC+8); the period runs from the start of --from to the end of --to.
    Rankings {
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day (included), YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// What to rank.
        #[arg(long, default_value = "grid", value_parser = ["grid", "community", "department", "person"])]
        by: String,
    },
    /// Print the weekly accompaniment count (三陪同) of every grid worker, against the rule of
    /// at least two official accompaniments a week, as a tab-separated table.
    Accompaniments {
        /// Any day of the week (Monday to Sunday, China time), YYYY-MM-DD.
        #[arg(long)]
        week: String,
    },
    /// Write the street chiefs' notice boards (街长公示栏): one printable HTML page, a PDF
    /// (one A4 page per segment, real text) or PNG images (one per A4 page: the named file for
    /// a single page, else name-01.png, name-02.png, … beside it). The format follows the
    /// file's extension (.html, .pdf, .png) unless --format says otherwise.
    NoticeBoard {
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        /// The format, instead of the one the extension names.
        #[arg(long, value_parser = ["html", "pdf", "png"])]
        format: Option<String>,
        /// A CJK font file (.ttf, .otf or .ttc) for PDF and PNG; by default the first of the
        /// well-known system fonts found (Noto Sans CJK, WenQuanYi Micro Hei, …).
        #[arg(long, env = "XIANGYING_FONT")]
        font: Option<PathBuf>,
        /// Only this segment's board (its id in the roster).
        #[arg(long)]
        segment: Option<String>,
        /// Resolution of PNG pages, dots per inch (72 to 600).
        #[arg(long, default_value_t = xiangying_server::board::DEFAULT_DPI)]
        dpi: u32,
    },
    /// Export the whole street (cases, patrols, photos, roster, catalogue) as JSON Lines plus
    /// photo files into a new or empty folder, while the server keeps serving (docs/EXPORT.md).
    Export {
        /// The folder to write (created if missing; refused when not empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Remove expired partial photo uploads and orphaned photo files (no case refers to them
    /// and they are older than photos.orphan_grace_days), on the configured photo backend;
    /// prints counts and bytes.
    SweepPhotos {
        /// Count only: remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// The clean-up policy the configuration file gives (`[photos]`, `[limits]`).
fn sweep_policy(file: &FileConfig, dry_run: bool) -> xiangying_server::photo_sweep::SweepPolicy {
    let hours = file
        .photos
        .partial_ttl_hours
        .unwrap_or(file.limits.partial_upload_ttl_hours);
    xiangying_server::photo_sweep::SweepPolicy {
        partial_ttl: std::time::Duration::from_secs(hours.saturating_mul(3600)),
        orphan_grace: file.photos.orphan_grace(),
        dry_run,
    }
}

/// The bucket photos live in, for backup and restore: `None` for the data folder.
fn photo_bucket(
    file: &FileConfig,
    cfg: &Config,
) -> Result<Option<xiangying_server::blobs::BlobStore>, xiangying_server::error::ServerError> {
    if file.photos.backend == xiangying_server::blobs::BackendKind::S3 {
        xiangying_server::blobs::BlobStore::open_configured(
            &file.photos,
            &cfg.data,
            cfg.limits.max_photo,
        )
        .map(Some)
    } else {
        Ok(None)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let file = match cli.config.as_deref().map(FileConfig::load).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let flag = match &cli.command {
        Command::Serve { log_format, .. } => *log_format,
        Command::Admin { .. } => None,
    };
    init_logs(log_format(flag, &file));
    let cfg = Config {
        data: cli
            .data
            .or_else(|| file.data.clone())
            .unwrap_or_else(|| PathBuf::from("xiangying-data")),
        postgres: cli.postgres.or_else(|| file.postgres.clone()),
        limits: file.limits(),
        metrics_token: file.metrics_token.clone(),
        recovery_window_days: file.recovery_window_days(),
        store: file.pg_options(),
    };
    match run(cfg, &file, cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Errors may quote stored, device-supplied text.
            eprintln!("error: {}", admin::printable(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// The log format: the flag (or `XIANGYING_LOG_FORMAT`), else `XIANGYING_LOG_JSON=1`, else
/// the config file's, else plain.
fn log_format(flag: Option<LogFormat>, file: &FileConfig) -> LogFormat {
    flag.or_else(|| {
        std::env::var("XIANGYING_LOG_JSON")
            .is_ok_and(|v| v == "1")
            .then_some(LogFormat::Json)
    })
    .or(file.log_format)
    .unwrap_or_default()
}

/// Log lines go to standard error (standard output is the admin commands' answer), filtered by
/// `XIANGYING_LOG` (default `info`), with terminal colours only when standard error is a
/// terminal (never in the journal or a container's log).
fn init_logs(format: LogFormat) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("XIANGYING_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        // The request's span (method, path, request id) on each line, once.
        LogFormat::Json => builder.json().with_span_list(false).init(),
        LogFormat::Plain => builder.init(),
    }
}

/// Whether a command works on a store that must exist already: all but `admin setup`, which
/// creates one, and `admin restore`, which puts one back.
fn needs_store(command: &Command) -> bool {
    !matches!(
        command,
        Command::Admin {
            action: AdminCommand::Setup { .. } | AdminCommand::Restore { .. }
        }
    )
}

/// The refusal of a data folder or database that holds no store (a mistyped `--data` would
/// otherwise start an empty server, whose every device looks revoked, or print empty tables).
fn no_store(cfg: &Config) -> String {
    let setup = "admin setup --roster ROSTER.json --catalogue CATALOGUE.json";
    match &cfg.postgres {
        // The URL may hold a password: it is not repeated.
        Some(_) => format!(
            "no Xiangying store in the PostgreSQL database given (no roster was ever published \
             in it); create one with `xiangying-server --postgres <the same URL> {setup}`, or \
             name the database that holds the store"
        ),
        None => format!(
            "no Xiangying store in {} (it has no {}); create one with `xiangying-server --data \
             {} {setup}`, or name the folder that holds the store",
            cfg.data.display(),
            xiangying_server::storage::sqlite::DB_FILE,
            cfg.data.display()
        ),
    }
}

/// Refuses, before anything is opened (opening creates and migrates a store), a data folder
/// without `server.db` or a PostgreSQL database where no roster was ever published, for every
/// command that needs a store ([`needs_store`]). A store of the first wave, which has no
/// migration history, has its roster and passes.
fn require_store(cfg: &Config, command: &Command) -> Result<(), Box<dyn std::error::Error>> {
    if !needs_store(command) {
        return Ok(());
    }
    let holds = match &cfg.postgres {
        Some(url) => {
            xiangying_server::storage::postgres::holds_store(url, cfg.store.schema.as_deref())?
        }
        None => cfg
            .data
            .join(xiangying_server::storage::sqlite::DB_FILE)
            .is_file(),
    };
    if holds {
        Ok(())
    } else {
        Err(no_store(cfg).into())
    }
}

fn run(cfg: Config, file: &FileConfig, command: Command) -> Result<(), Box<dyn std::error::Error>> {
    require_store(&cfg, &command)?;
    match command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            log_format: _,
        } => {
            let listen = listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8470)));
            // Flags (both, as clap checks) win over the file (both, as the file check says).
            let tls = match tls_cert
                .zip(tls_key)
                .or_else(|| file.tls_cert.clone().zip(file.tls_key.clone()))
            {
                Some((cert, key)) => Some(xiangying_server::tls::acceptor(&cert, &key)?),
                None => None,
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            let state = xiangying_server::app_state_with(&cfg, &file.photos)?;
            if let Some(url) = &file.desk.public_url {
                state.set_desk_public_url(url);
            }
            if let Some(tiles) = xiangying_server::desk::map::tile_layer(&file.desk)? {
                let _ = state.desk_tiles.set(tiles);
            }
            let m = state.storage.migrated();
            tracing::info!(
                %listen,
                scheme,
                storage = state.storage.kind(),
                instance = %state.instance,
                schema_from = m.from,
                schema = m.to,
                epoch = %state.epoch,
                "serving"
            );
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                // SIGTERM and SIGINT stop the server gracefully (before binding, so a stop
                // that comes early is never the default "terminate at once").
                let stop = xiangying_server::stop_signal()?;
                let listener = tokio::net::TcpListener::bind(listen).await?;
                // The photo clean-up runs on a schedule and stops with the server.
                let (sweep_stop, sweep_stopped) = tokio::sync::oneshot::channel::<()>();
                let sweeper = tokio::spawn(xiangying_server::photo_sweep::run_every(
                    state.clone(),
                    sweep_policy(file, false),
                    file.photos.sweep_every(),
                    async move {
                        let _ = sweep_stopped.await;
                    },
                ));
                let served = xiangying_server::serve_with_tls(listener, state, tls, stop).await;
                let _ = sweep_stop.send(());
                let _ = sweeper.await;
                served
            })?;
        }
        Command::Admin {
            action: AdminCommand::Migrate,
        } => {
            let m = backup::migrate(&backup::Location::of(&cfg))?;
            if m.from == m.to {
                println!("schema version {} (up to date)", m.to);
            } else {
                println!("schema version {} → {}", m.from, m.to);
            }
        }
        Command::Admin {
            action: AdminCommand::Backup { out },
        } => {
            let bucket = photo_bucket(file, &cfg)?;
            let m = backup::backup_with(&backup::Location::of(&cfg), bucket.as_ref(), &out)?;
            println!(
                "backed up {} store {} (schema version {}, epoch {}): {} files into {}",
                m.backend,
                m.store_id,
                m.schema_version,
                m.epoch,
                m.files.len(),
                out.display()
            );
        }
        Command::Admin {
            action: AdminCommand::Restore { from },
        } => {
            let bucket = photo_bucket(file, &cfg)?;
            let r = backup::restore_with(&backup::Location::of(&cfg), bucket.as_ref(), &from)?;
            println!(
                "restored the backup of {} ({} files, schema version {}); new epoch {}; \
                 the replaced store is kept: {}",
                r.manifest.created_utc,
                r.manifest.files.len(),
                r.identity.schema_version,
                r.identity.epoch,
                r.kept
            );
        }
        Command::Admin { action } => {
            let code_ttl = cfg.limits.code_ttl();
            let storage = xiangying_server::open_storage(&cfg)?;
            let s = storage.as_ref();
            match action {
                AdminCommand::Setup {
                    roster,
                    catalogue,
                    replace,
                } => {
                    admin::check_setup_over(s, replace)?;
                    let v = admin::setup(s, &roster, &catalogue)?;
                    println!("published roster and catalogue, version {v}");
                }
                AdminCommand::IssueCode { person } => {
                    // The code alone on stdout, so scripts can read it; the expiry beside it
                    // for the person at the terminal.
                    let issued = admin::issue_code_until(s, &person, code_ttl)?;
                    println!("{}", issued.code);
                    eprintln!("expires {}", issued.expires_utc());
                }
                AdminCommand::RevokeCode { code } => {
                    if !admin::revoke_code(s, &code)? {
                        return Err("no unused code like that".into());
                    }
                    println!("revoked");
                }
                AdminCommand::RevokeDevice { device } => {
                    if !admin::revoke_device(s, &device)? {
                        return Err(format!("no device {device}").into());
                    }
                    println!("revoked {device}");
                }
                AdminCommand::SetPassword { person } => {
                    let password = read_password(&person)?;
                    xiangying_server::desk::password::set_password(
                        s,
                        &person,
                        &password,
                        chrono::Utc::now().timestamp_millis(),
                    )?;
                    println!("desk password set for {person}; their desk sessions ended");
                }
                AdminCommand::SignInLink { person, base_url } => {
                    use xiangying_server::desk::login;
                    let token =
                        login::issue_link(s, &person, chrono::Utc::now().timestamp_millis())?;
                    let path = login::link_path(&token);
                    match base_url {
                        Some(base) => println!("{}{path}", base.trim_end_matches('/')),
                        None => println!("{path}"),
                    }
                    eprintln!("valid 24 hours, once");
                }
                AdminCommand::Devices => print!("{}", admin::devices_table(s)?),
                AdminCommand::Status => println!("{}", admin::status(s)?),
                AdminCommand::Migrate
                | AdminCommand::Backup { .. }
                | AdminCommand::Restore { .. } => {
                    return Err("handled before the store is opened".into());
                }
                AdminCommand::Rankings { from, to, by } => {
                    let kind = xiangying_model::report::UnitKind::parse(&by)
                        .ok_or_else(|| format!("cannot rank by {by}"))?;
                    let (start, end) = xiangying_server::reports::period(&from, &to)?;
                    print!(
                        "{}",
                        admin::printable_table(&xiangying_server::reports::rankings_table(
                            s, start, end, kind
                        )?)
                    );
                }
                AdminCommand::Accompaniments { week } => {
                    print!(
                        "{}",
                        admin::printable_table(&xiangying_server::reports::accompaniments_table(
                            s, &week
                        )?)
                    );
                }
                AdminCommand::NoticeBoard {
                    out,
                    format,
                    font,
                    segment,
                    dpi,
                } => {
                    use xiangying_server::board::{self, Format};
                    let format = format.as_deref().and_then(Format::parse);
                    let mut notice = xiangying_server::reports::notice_board(s)?;
                    if let Some(id) = &segment {
                        notice = board::export::only_segment(&notice, id)?;
                    }
                    for path in board::write_board(&notice, &out, format, font.as_deref(), dpi)? {
                        println!("wrote {}", path.display());
                    }
                }
                AdminCommand::Export { out } => {
                    let blobs = xiangying_server::blobs::BlobStore::open_configured(
                        &file.photos,
                        &cfg.data,
                        cfg.limits.max_photo,
                    )?;
                    let m = xiangying_server::export::export(s, &blobs, &out)?;
                    println!("{}", xiangying_server::export::summary(&m, &out));
                }
                AdminCommand::SweepPhotos { dry_run } => {
                    let blobs = xiangying_server::blobs::BlobStore::open_configured(
                        &file.photos,
                        &cfg.data,
                        cfg.limits.max_photo,
                    )?;
                    let r = xiangying_server::photo_sweep::sweep(
                        s,
                        &blobs,
                        sweep_policy(file, dry_run),
                    )?;
                    let verb = if dry_run { "would remove" } else { "removed" };
                    println!("{verb}: {r}");
                }
            }
        }
    }
    Ok(())
}

/// Reads a desk password: one line of standard input, its line ending dropped. At a terminal
/// it asks on standard error and turns echo off while reading (`stty`), so the password is
/// never shown; it is never taken from an argument (arguments are visible to other users).
fn read_password(person: &str) -> Result<String, Box<dyn std::error::Error>> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let hidden = terminal && stty("-echo");
    if terminal {
        eprint!("desk password for {person}: ");
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if hidden {
        stty("echo");
        eprintln!();
    }
    read?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err("no password on standard input (one line)".into());
    }
    Ok(password.to_string())
}
