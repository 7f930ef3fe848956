//! What every request shares: the storage, the blob store, this instance's actor id, the
//! parsed roster (cached by version), limits and counters.

use crate::blobs::BlobStore;
use crate::error::ServerError;
use crate::storage::{Result, Storage, Tx};
use automerge::ActorId;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sync_body: 16 << 20,
            max_photo: 16 << 20,
            max_feed_bytes: 4 << 20,
            max_feed_cases: 500,
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
            limits,
            metrics: Metrics::default(),
            roster: RwLock::new(None),
        }
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
