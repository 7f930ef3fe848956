//! What every request shares: the storage, the blob store, this instance's actor id, the
//! parsed roster (cached by version), limits and counters.

use crate::blobs::BlobStore;
use crate::device_slots::DeviceSlots;
use crate::error::ServerError;
use crate::storage::{OrgTx, Result, Storage};
use crate::throttle::EnrolThrottle;
use automerge::ActorId;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use xiangying_model::org::Roster;
use xiangying_model::sync::intake::IntakeLimits;

/// Limits that protect the server. The configuration file's `[limits]` table holds the same
/// keys (each optional; the defaults below otherwise); `docs/SECURITY.md` says what each one
/// stops.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest `POST /v1/sync` body, bytes.
    pub max_sync_body: usize,
    /// Largest photo file, bytes.
    pub max_photo: u64,
    /// Most feed bytes in one response.
    pub max_feed_bytes: usize,
    /// Most documents in one response.
    pub max_feed_cases: u32,
    /// Most bytes one pushed automerge chunk may take once inflated.
    pub max_chunk_bytes: u64,
    /// Most bytes a whole push may take once inflated.
    pub max_push_bytes: u64,
    /// Most ops (and preds) one pushed chunk may declare.
    pub max_chunk_ops: u64,
    /// Most ops a whole push may declare.
    pub max_push_ops: u64,
    /// Most automerge changes a whole push may hold.
    pub max_push_changes: u64,
    /// Most events a case (or entries a patrol log) may hold.
    pub max_doc_events: usize,
    /// Most photo references a case may hold.
    pub max_doc_photos: usize,
    /// Most track chunks a patrol may hold.
    pub max_doc_track_chunks: usize,
    /// Most open connections; more are answered 503 and closed.
    pub max_connections: usize,
    /// Most sync and photo requests served at once; more are answered 503.
    pub max_inflight: usize,
    /// Most sync and photo requests one device may have in flight; more are answered 429.
    /// Its waits on the wake-up channel are counted apart, up to as many again (decision
    /// 0061), and its uploads' answers tell it this number
    /// ([`IN_FLIGHT_HEADER`](xiangying_model::sync::version::IN_FLIGHT_HEADER)).
    pub device_concurrency: usize,
    /// Seconds a client has to send a request's headers (and an idle connection is kept).
    pub header_timeout_secs: u64,
    /// Seconds a whole request may take, body included.
    pub request_timeout_secs: u64,
    /// The heartbeat of the wake-up channel ([`crate::wake`]): a wait with nothing new
    /// answers `204` after this many seconds (at most
    /// [`MAX_WAIT_SECS`](xiangying_model::sync::version::MAX_WAIT_SECS)). A wait's deadline is
    /// this plus [`Limits::request_timeout_secs`].
    pub wait_secs: u64,
    /// How long an enrolment code stays valid after it was issued, hours (`code_ttl_hours`).
    pub code_ttl_hours: u64,
    /// Enrolment attempts one client address may make per minute (also the burst), before
    /// 429 (`enrol_client_per_minute`).
    pub enrol_client_per_minute: u32,
    /// Enrolment attempts all clients together may make per minute (also the burst), before
    /// 429 (`enrol_overall_per_minute`).
    pub enrol_overall_per_minute: u32,
    /// A partial photo upload not written to for this long is dropped, hours
    /// (`partial_upload_ttl_hours`).
    pub partial_upload_ttl_hours: u64,
    /// Most photo bytes one device may hold on the server, partial and completed uploads
    /// together (`device_photo_quota_bytes`).
    pub device_photo_quota_bytes: u64,
    /// The desk's sessions and sign-in limits: the configuration file's `[desk]` table, not
    /// `[limits]` (see [`DeskSettings`]).
    #[serde(skip)]
    pub desk: DeskSettings,
}

/// The desk's sessions and sign-in limits (the configuration file's `[desk]` table, each key
/// optional; decision 0039).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeskSettings {
    /// A desk session unused for this long ends, minutes (`session_idle_minutes`).
    pub session_idle_minutes: u64,
    /// A desk session ends this long after sign-in however much it is used, hours
    /// (`session_max_hours`).
    pub session_max_hours: u64,
    /// Sign-in attempts (right or wrong) one client address may make per minute, also the
    /// burst, before 429 (`sign_in_per_minute`).
    pub sign_in_per_minute: u32,
    /// The address phones reach this server at (`http://` or `https://`, a host, an optional
    /// port and path; no query), put in enrolment QR codes (`public_url`).
    pub public_url: Option<String>,
    /// The map's tile layer, an XYZ address with `{z}`, `{x}` and `{y}` (decision 0042); no
    /// tile is requested without it (`tile_url`).
    pub tile_url: Option<String>,
    /// The datum the tiles are drawn in, `wgs84` when left out (`tile_datum`).
    pub tile_datum: Option<TileDatum>,
}

pub use crate::tiles::TileDatum;

impl Default for DeskSettings {
    fn default() -> Self {
        DeskSettings {
            session_idle_minutes: 120,
            session_max_hours: 12,
            sign_in_per_minute: 10,
            public_url: None,
            tile_url: None,
            tile_datum: None,
        }
    }
}

impl DeskSettings {
    /// Checks the keys (a bad public address names the key and the problem).
    pub fn check(&self) -> std::result::Result<(), String> {
        if let Some(url) = &self.public_url {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .ok_or("desk.public_url must start with http:// or https://")?;
            let host = rest.split('/').next().unwrap_or("");
            if host.is_empty()
                || url.len() > 200
                || !url.bytes().all(|b| b.is_ascii_graphic())
                || url.contains(['?', '#', '@', '"', '<', '>', '\\'])
            {
                return Err(format!(
                    "desk.public_url {url:?} is not a plain address (a host, an optional port \
                     and path; no query, fragment or credentials)"
                ));
            }
        }
        if let Some(url) = &self.tile_url {
            crate::tiles::TileLayer::new(url, self.tile_datum.unwrap_or_default())
                .map_err(|e| format!("desk.tile_url: {e}"))?;
        } else if self.tile_datum.is_some() {
            return Err("desk.tile_datum is set but desk.tile_url is not".into());
        }
        Ok(())
    }

    /// [`DeskSettings::session_idle_minutes`] in milliseconds.
    pub fn idle_ms(&self) -> i64 {
        i64::try_from(self.session_idle_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX)
    }

    /// [`DeskSettings::session_max_hours`] in milliseconds.
    pub fn max_ms(&self) -> i64 {
        i64::try_from(self.session_max_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX)
    }

    /// The name of the first key that is zero (none may be), if any.
    pub fn first_zero(&self) -> Option<&'static str> {
        [
            ("session_idle_minutes", self.session_idle_minutes),
            ("session_max_hours", self.session_max_hours),
            ("sign_in_per_minute", u64::from(self.sign_in_per_minute)),
        ]
        .into_iter()
        .find(|(_, v)| *v == 0)
        .map(|(k, _)| k)
    }
}

impl Default for Limits {
    fn default() -> Self {
        let intake = IntakeLimits::default();
        Limits {
            max_sync_body: 16 << 20,
            max_photo: 16 << 20,
            max_feed_bytes: 4 << 20,
            max_feed_cases: 500,
            max_chunk_bytes: intake.max_chunk_bytes,
            max_push_bytes: intake.max_push_bytes,
            max_chunk_ops: intake.max_chunk_ops,
            max_push_ops: intake.max_push_ops,
            max_push_changes: intake.max_push_changes,
            max_doc_events: 5_000,
            max_doc_photos: 500,
            max_doc_track_chunks: 2_000,
            max_connections: 10_000,
            max_inflight: 64,
            device_concurrency: 2,
            header_timeout_secs: 10,
            request_timeout_secs: 60,
            wait_secs: 75,
            code_ttl_hours: 72,
            enrol_client_per_minute: 10,
            enrol_overall_per_minute: 60,
            partial_upload_ttl_hours: 24,
            device_photo_quota_bytes: 2 << 30,
            desk: DeskSettings::default(),
        }
    }
}

impl Limits {
    /// [`Limits::code_ttl_hours`] as a duration.
    pub fn code_ttl(&self) -> Duration {
        Duration::from_secs(self.code_ttl_hours.saturating_mul(3600))
    }

    /// [`Limits::partial_upload_ttl_hours`] as a duration.
    pub fn partial_upload_ttl(&self) -> Duration {
        Duration::from_secs(self.partial_upload_ttl_hours.saturating_mul(3600))
    }

    /// The bounds on pushed automerge bytes.
    pub fn intake(&self) -> IntakeLimits {
        IntakeLimits {
            max_chunk_bytes: self.max_chunk_bytes,
            max_push_bytes: self.max_push_bytes,
            max_chunk_ops: self.max_chunk_ops,
            max_push_ops: self.max_push_ops,
            max_push_changes: self.max_push_changes,
        }
    }

    /// The name of the first limit that is zero (none may be), if any.
    pub fn first_zero(&self) -> Option<&'static str> {
        let values: [(&'static str, u64); 23] = [
            ("max_sync_body", self.max_sync_body as u64),
            ("max_photo", self.max_photo),
            ("max_feed_bytes", self.max_feed_bytes as u64),
            ("max_feed_cases", u64::from(self.max_feed_cases)),
            ("max_chunk_bytes", self.max_chunk_bytes),
            ("max_push_bytes", self.max_push_bytes),
            ("max_chunk_ops", self.max_chunk_ops),
            ("max_push_ops", self.max_push_ops),
            ("max_push_changes", self.max_push_changes),
            ("max_doc_events", self.max_doc_events as u64),
            ("max_doc_photos", self.max_doc_photos as u64),
            ("max_doc_track_chunks", self.max_doc_track_chunks as u64),
            ("max_connections", self.max_connections as u64),
            ("max_inflight", self.max_inflight as u64),
            ("device_concurrency", self.device_concurrency as u64),
            ("header_timeout_secs", self.header_timeout_secs),
            ("request_timeout_secs", self.request_timeout_secs),
            ("wait_secs", self.wait_secs),
            ("code_ttl_hours", self.code_ttl_hours),
            (
                "enrol_client_per_minute",
                u64::from(self.enrol_client_per_minute),
            ),
            (
                "enrol_overall_per_minute",
                u64::from(self.enrol_overall_per_minute),
            ),
            ("partial_upload_ttl_hours", self.partial_upload_ttl_hours),
            ("device_photo_quota_bytes", self.device_photo_quota_bytes),
        ];
        values.iter().find(|(_, v)| *v == 0).map(|(k, _)| *k)
    }
}

/// This instance's own tallies, for the demo's summary and for tests that run several servers
/// in one process. `/metrics` serves the process-wide figures ([`crate::metrics`]), which
/// count the same things and more.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Photo bytes received.
    pub photo_bytes_in: AtomicU64,
    /// Looks at the store by waits on the wake-up channel (one when a wait starts, one per
    /// ring that may concern it).
    pub wait_checks: AtomicU64,
}

impl Metrics {
    /// Adds to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The default of the configuration file's `recovery_window_days`.
pub const DEFAULT_RECOVERY_WINDOW_DAYS: u64 = 30;

/// The shared state.
pub struct AppState {
    /// The storage backend.
    pub storage: Arc<dyn Storage>,
    /// Photo files.
    pub blobs: BlobStore,
    /// This instance's automerge actor id: random per process, never shared.
    pub actor: ActorId,
    /// This instance's name on its events.
    pub instance: String,
    /// Limits.
    pub limits: Limits,
    /// This instance's own tallies (the exporter's figures are process-wide).
    pub metrics: Metrics,
    /// Requests in flight per device, its waits on the wake-up channel apart.
    pub device_slots: DeviceSlots,
    /// Waits on the wake-up channel in flight per device: slots of their own, so that a
    /// waiting device keeps all of [`Limits::device_concurrency`] for its work (decision 0061).
    pub wait_slots: DeviceSlots,
    /// The bearer token `/metrics` asks for; without one, only loopback clients are answered.
    pub metrics_token: Option<String>,
    /// Enrolment attempt limits.
    pub enrol_throttle: EnrolThrottle,
    /// Desk sign-in attempt limits and the bound on concurrent password hashing.
    pub desk_sign_in: crate::throttle::SignInGuard,
    /// The store's id (see [`crate::storage::meta`]).
    pub store_id: String,
    /// The store's epoch, replaced by every restore; every answer carries it in the
    /// [`crate::api::EPOCH_HEADER`] header.
    pub epoch: String,
    /// When the store was last restored (ms), if ever.
    pub restored_at: Option<i64>,
    /// How many days after a restore the server counts as recovering
    /// ([`AppState::in_recovery`]); the configuration file's `recovery_window_days`.
    pub recovery_window_days: u64,
    /// Rings the requests waiting on the wake-up channel (and, over PostgreSQL, is rung by
    /// the other instances' writes too).
    pub wake: Arc<crate::wake::Wake>,
    /// Who uploaded which photo, written for concurrent uploads in one transaction
    /// ([`crate::group_commit`], decision 0049).
    pub uploaders: crate::group_commit::GroupCommit<crate::storage::NewUploader>,
    /// The desk map's tile layer (`[desk] tile_url`), set once at start; unset: no tiles.
    pub desk_tiles: std::sync::OnceLock<crate::tiles::TileLayer>,
    roster: RwLock<Option<(u64, Arc<Roster>)>>,
    /// The desk's public address for enrolment links (`[desk] public_url`), set once at start.
    desk_public_url: std::sync::OnceLock<String>,
}

impl AppState {
    /// Builds the state for one server process.
    pub fn new(storage: Arc<dyn Storage>, blobs: BlobStore, limits: Limits) -> AppState {
        let actor = ActorId::random();
        let instance = format!("server-{}", &actor.to_hex_string()[..8]);
        let device_slots = DeviceSlots::new(limits.device_concurrency);
        let identity = storage.identity().clone();
        let wake = Arc::new(crate::wake::Wake::default());
        if let Err(e) = storage.watch_feed(Arc::downgrade(&wake)) {
            tracing::warn!(error = %e, "no feed listener: other instances' writes wake waits only at their heartbeat");
        }
        AppState {
            storage,
            blobs,
            actor,
            instance,
            metrics: Metrics::default(),
            device_slots,
            wait_slots: DeviceSlots::new(limits.device_concurrency),
            metrics_token: None,
            enrol_throttle: EnrolThrottle::new(
                limits.enrol_client_per_minute,
                limits.enrol_overall_per_minute,
            ),
            desk_sign_in: crate::throttle::SignInGuard::new(limits.desk.sign_in_per_minute),
            limits,
            store_id: identity.store_id,
            epoch: identity.epoch,
            restored_at: identity.restored_at,
            recovery_window_days: DEFAULT_RECOVERY_WINDOW_DAYS,
            wake,
            uploaders: Default::default(),
            desk_tiles: std::sync::OnceLock::new(),
            roster: RwLock::new(None),
            desk_public_url: std::sync::OnceLock::new(),
        }
    }

    /// Sets the desk's public address for enrolment links (`[desk] public_url`); false when
    /// it was set already (the first stays).
    pub fn set_desk_public_url(&self, url: &str) -> bool {
        self.desk_public_url
            .set(url.trim_end_matches('/').to_string())
            .is_ok()
    }

    /// The desk's configured public address, if any (the desk falls back to the request's
    /// `Host` header).
    pub fn desk_public_url(&self) -> Option<&str> {
        self.desk_public_url.get().map(String::as_str)
    }

    /// The same state with another recovery window, days.
    pub fn with_recovery_window_days(mut self, days: u64) -> AppState {
        self.recovery_window_days = days;
        self
    }

    /// Whether `now_ms` falls within the recovery window after the last restore (never when
    /// the store was never restored, nor with a window of 0 days). A restore time ahead of
    /// `now_ms` (a clock step) counts as within.
    pub fn in_recovery(&self, now_ms: i64) -> bool {
        if self.recovery_window_days == 0 {
            return false;
        }
        let window =
            i64::try_from(self.recovery_window_days.saturating_mul(86_400_000)).unwrap_or(i64::MAX);
        self.restored_at
            .is_some_and(|at| now_ms.saturating_sub(at) < window)
    }

    /// The same state with `/metrics` behind a bearer token (`None`: loopback clients only).
    pub fn with_metrics_token(mut self, token: Option<String>) -> AppState {
        self.metrics_token = token.filter(|t| !t.trim().is_empty());
        self
    }

    /// The published roster, parsed once per version.
    pub fn roster(&self, tx: &mut dyn OrgTx) -> Result<Arc<Roster>> {
        let version = tx.org_version()?;
        if let Some((v, r)) = &*self.roster.read().unwrap_or_else(|e| e.into_inner())
            && *v == version
        {
            return Ok(r.clone());
        }
        let org = tx.org()?.ok_or(ServerError::NoOrg)?;
        let roster = Arc::new(
            Roster::from_json("roster", &org.roster)
                .map_err(|e| ServerError::Internal(e.to_string()))?,
        );
        *self.roster.write().unwrap_or_else(|e| e.into_inner()) =
            Some((org.version, roster.clone()));
        Ok(roster)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;

    #[test]
    fn recovery_lasts_the_window_after_a_restore() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(SqliteStorage::open(dir.path()).unwrap());
        let mut state = AppState::new(
            storage,
            BlobStore::new(dir.path().join("photos"), 1 << 20),
            Limits::default(),
        )
        .with_recovery_window_days(2);
        assert!(!state.in_recovery(1_000));
        let day = 86_400_000;
        state.restored_at = Some(10 * day);
        assert!(state.in_recovery(10 * day));
        assert!(state.in_recovery(12 * day - 1));
        assert!(!state.in_recovery(12 * day));
        // A restore time ahead of the clock (a clock step) counts as within.
        assert!(state.in_recovery(9 * day));
        // A window of 0 days closes it at once.
        let state = state.with_recovery_window_days(0);
        assert!(!state.in_recovery(10 * day));
        assert!(!state.in_recovery(9 * day));
    }
}
