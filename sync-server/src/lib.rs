//! The Xiangying sync server: enrolment, scoped case sync with a change feed, resumable photo
//! uploads and an admin CLI (the demo field day is the `xiangying-demo` crate).
//!
//! - [`storage`]: the storage trait and its SQLite and PostgreSQL backends;
//! - [`sync`]: push (judge, void, number) and pull (the feed), over any backend;
//! - [`api`]: the HTTP routes; [`protocol`]: the protocol version check; [`auth`]: codes and
//!   tokens; [`blobs`]: photo files (a folder or an S3 bucket); [`photo_sweep`]: their clean-up;
//!   [`metrics`]: the figures `GET /metrics` serves;
//! - [`admin`]: street set-up and enrolment codes;
//! - [`backup`]: backup, restore and migrate of the store (docs/OPERATIONS.md);
//! - [`export`]: the whole street as JSON Lines plus photo files;
//! - [`reports`]: rankings and notice boards; [`board`]: the notice boards as PNG and PDF;
//! - [`desk`]: the street centre's web desk, served under `/desk/`.

pub mod admin;
pub mod api;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod board;
pub mod config_file;
pub mod desk;
pub mod device_slots;
pub mod device_status;
pub mod error;
pub mod export;
pub mod group_commit;
pub mod listen;
pub mod metrics;
pub mod photo_access;
pub mod photo_intake;
pub mod photo_sweep;
pub mod printable;
pub mod protocol;
pub mod reports;
pub mod state;
pub mod storage;
pub mod sync;
pub mod tasks;
pub mod throttle;
pub mod tiles;
pub mod tls;
pub mod waiting;
pub mod wake;

use crate::blobs::{BlobStore, PhotosConfig};
use crate::error::ServerError;
use crate::state::{AppState, Limits};
use crate::storage::Storage;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a server keeps its data.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data folder: the SQLite store (unless PostgreSQL is used) and the photo files.
    pub data: PathBuf,
    /// A PostgreSQL URL, to use PostgreSQL instead of SQLite.
    pub postgres: Option<String>,
    /// Limits.
    pub limits: Limits,
    /// The bearer token `/metrics` asks for; without one only loopback clients are answered.
    pub metrics_token: Option<String>,
    /// Days after a restore during which the server counts as recovering
    /// ([`AppState::in_recovery`]).
    pub recovery_window_days: u64,
    /// The PostgreSQL pool and timeouts (`[store]`); unused with SQLite.
    pub store: storage::postgres::PgOptions,
}

/// Opens the configured storage backend.
pub fn open_storage(cfg: &Config) -> Result<Arc<dyn Storage>, ServerError> {
    Ok(match &cfg.postgres {
        Some(url) => Arc::new(storage::postgres::PostgresStorage::connect_with(
            url, &cfg.store,
        )?),
        None => Arc::new(storage::sqlite::SqliteStorage::open(&cfg.data)?),
    })
}

/// The shared state of one server process, its photos in `<data>/photos`.
pub fn app_state(cfg: &Config) -> Result<Arc<AppState>, ServerError> {
    app_state_with(cfg, &PhotosConfig::default())
}

/// The shared state of one server process, its photos where `photos` says (the `[photos]`
/// table; its `partial_ttl_hours`, when given, wins over `limits.partial_upload_ttl_hours`).
pub fn app_state_with(cfg: &Config, photos: &PhotosConfig) -> Result<Arc<AppState>, ServerError> {
    let storage = open_storage(cfg)?;
    desk::index::catch_up(&*storage)?;
    let mut limits = cfg.limits.clone();
    if let Some(hours) = photos.partial_ttl_hours {
        limits.partial_upload_ttl_hours = hours;
    }
    let blobs = BlobStore::open_configured(photos, &cfg.data, limits.max_photo)?;
    let state = AppState::new(storage, blobs, limits)
        .with_metrics_token(cfg.metrics_token.clone())
        .with_recovery_window_days(cfg.recovery_window_days);
    let adopted = photo_access::adopt_legacy_files(&state)?;
    if adopted > 0 {
        tracing::info!(
            adopted,
            "photo files stored before uploaders were recorded adopted"
        );
    }
    Ok(Arc::new(state))
}

/// A future that resolves when the process is asked to stop: SIGTERM (systemd, container
/// runtimes) or SIGINT (Ctrl-C). The handlers are installed by this call, before it returns,
/// so a signal that comes later never kills the process outright: [`serve`] given this
/// future stops accepting, lets the requests in flight finish (up to a grace period) and
/// returns. Call it inside a Tokio runtime.
pub fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM: stopping"),
                _ = int.recv() => tracing::info!("SIGINT: stopping"),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async move {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_tls(listener, state, None, shutdown).await
}

/// [`serve`], over HTTPS with `tls` (the server's own TLS, for small deployments: decision
/// 0030).
pub async fn serve_with_tls(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    tls: Option<tls::TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.limits.clone();
    let epoch = state.epoch.clone();
    // Waits on the wake-up channel end as soon as the stop begins, not a heartbeat later.
    let wake = state.wake.clone();
    let shutdown = async move {
        shutdown.await;
        wake.close();
    };
    listen::serve(listener, api::router(state), &limits, &epoch, tls, shutdown).await
}

/// A server running on its own threads (for tests, the demo and tools).
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state.
    pub state: Arc<AppState>,
    /// `http`, or `https` when it serves TLS.
    scheme: &'static str,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// The base URL, e.g. `http://127.0.0.1:40123` (`https://…` over TLS).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops the server and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts a server on `addr` (port 0 picks one) on a runtime of its own.
pub fn spawn(state: Arc<AppState>, addr: SocketAddr) -> Result<Running, ServerError> {
    spawn_with_tls(state, addr, None)
}

/// [`spawn`], over HTTPS with `tls` ([`Running::url`] then says `https`).
pub fn spawn_with_tls(
    state: Arc<AppState>,
    addr: SocketAddr,
    tls: Option<tls::TlsAcceptor>,
) -> Result<Running, ServerError> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    let std_listener = std::net::TcpListener::bind(addr)
        .map_err(|e| ServerError::Internal(format!("bind {addr}: {e}")))?;
    std_listener
        .set_nonblocking(true)
        .map_err(|e| ServerError::Internal(e.to_string()))?;
    let addr = std_listener
        .local_addr()
        .map_err(|e| ServerError::Internal(e.to_string()))?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let st = state.clone();
    let thread = std::thread::Builder::new()
        .name("xiangying-server".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the runtime");
                    return;
                }
            };
            rt.block_on(async move {
                match tokio::net::TcpListener::from_std(std_listener) {
                    Ok(listener) => {
                        let stop = async {
                            let _ = rx.await;
                        };
                        if let Err(e) = serve_with_tls(listener, st, tls, stop).await {
                            tracing::error!(error = %e, "server stopped");
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "listener"),
                }
            });
        })
        .map_err(|e| ServerError::Internal(e.to_string()))?;
    Ok(Running {
        addr,
        scheme,
        state,
        stop: Some(tx),
        thread: Some(thread),
    })
}
