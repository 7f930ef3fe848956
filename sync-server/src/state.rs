//! What every request shares: the storage, the blob store, this instance's actor id, the
//! parsed roster (cached by version), limits and counters.

use crate::blobs::BlobStore;
use crate::error::ServerError;
use crate::storage::{Result, Storage, Tx};
use crate::throttle::EnrolThrottle;
use automerge::ActorId;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use xiangying_core::org::Roster;

/// Limits that protect the server.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest `POST /v1/sync` body.
    pub max_sync_body: usize,
    /// Largest photo file.
    pub max_photo: u64,
    /// Most feed bytes in one response.
    pub max_feed_bytes: usize,
    /// Most cases in one response.
    pub max_feed_cases: u32,
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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sync_body: 16 << 20,
            max_photo: 16 << 20,
            max_feed_bytes: 4 << 20,
            max_feed_cases: 500,
            code_ttl_hours: 72,
            enrol_client_per_minute: 10,
            enrol_overall_per_minute: 60,
            partial_upload_ttl_hours: 24,
            device_photo_quota_bytes: 2 << 30,
        }
    }
}

/// Counters served at `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Sync requests answered.
    pub syncs: AtomicU64,
    /// Changes pushed (outbox entries).
    pub pushed: AtomicU64,
    /// Request body bytes of sync requests.
    pub bytes_in: AtomicU64,
    /// Response body bytes of sync responses.
    pub bytes_out: AtomicU64,
    /// Photo bytes received.
    pub photo_bytes_in: AtomicU64,
    /// Requests refused as tampering.
    pub tampering: AtomicU64,
}

impl Metrics {
    /// Adds to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

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
    /// Counters.
    pub metrics: Metrics,
    /// The bearer token `/metrics` asks for; without one, only loopback clients are answered.
    pub metrics_token: Option<String>,
    /// Enrolment attempt limits.
    pub enrol_throttle: EnrolThrottle,
    roster: RwLock<Option<(u64, Arc<Roster>)>>,
}

impl AppState {
    /// Builds the state for one server process.
    pub fn new(storage: Arc<dyn Storage>, blobs: BlobStore, limits: Limits) -> AppState {
        let actor = ActorId::random();
        let instance = format!("server-{}", &actor.to_hex_string()[..8]);
        AppState {
            storage,
            blobs,
            actor,
            instance,
            metrics: Metrics::default(),
            metrics_token: None,
            enrol_throttle: EnrolThrottle::new(
                limits.enrol_client_per_minute,
                limits.enrol_overall_per_minute,
            ),
            limits,
            roster: RwLock::new(None),
        }
    }

    /// The same state with `/metrics` behind a bearer token (`None`: loopback clients only).
    pub fn with_metrics_token(mut self, token: Option<String>) -> AppState {
        self.metrics_token = token.filter(|t| !t.trim().is_empty());
        self
    }

    /// The published roster, parsed once per version.
    pub fn roster(&self, tx: &mut dyn Tx) -> Result<Arc<Roster>> {
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
