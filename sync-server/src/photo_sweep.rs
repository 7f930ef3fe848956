//! The photo clean-up: expired partial uploads and orphaned files, on either backend
//! (decision 0037). `admin sweep-photos [--dry-run]` runs it once; `serve` runs it every
//! `photos.sweep_every_minutes` ([`run_every`]).
//!
//! An orphan is a whole file that no case refers to (the `photo_refs` index the store keeps
//! with every case write, read by [`crate::storage::PhotoTx::photo_cases`]) and that was
//! stored longer than `photos.orphan_grace_days` ago: a device uploads a photo before the case
//! that cites it may have synced, so a young file is never an orphan. A file any case refers
//! to is never removed, however old.

use crate::blobs::{BlobStore, Removed};
use crate::error::ServerError;
use crate::state::AppState;
use crate::storage::{Storage, with_tx};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use xiangying_model::ids::PhotoHash;

/// What one clean-up removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Expired partial uploads.
    pub partial: Removed,
    /// Orphaned whole files.
    pub orphan: Removed,
}

impl std::fmt::Display for SweepReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "expired partial uploads: {} ({} bytes); orphaned photos: {} ({} bytes)",
            self.partial.count, self.partial.bytes, self.orphan.count, self.orphan.bytes
        )
    }
}

/// How the clean-up runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepPolicy {
    /// A partial upload idle this long has expired.
    pub partial_ttl: Duration,
    /// A whole file no case refers to is kept this long after it was stored.
    pub orphan_grace: Duration,
    /// Count only, remove nothing.
    pub dry_run: bool,
}

/// Removes expired partial uploads and orphaned files (see the module doc); counts them in
/// `xiangying_photo_sweep_removed_total{kind}` unless it is a dry run.
pub fn sweep(
    storage: &dyn Storage,
    blobs: &BlobStore,
    policy: SweepPolicy,
) -> Result<SweepReport, ServerError> {
    let partial = blobs.sweep_partials(policy.partial_ttl, policy.dry_run)?;
    let now = SystemTime::now();
    let mut orphan = Removed::default();
    for blob in blobs.complete_blobs()? {
        let young = now
            .duration_since(blob.stored)
            .map_or(true, |age| age <= policy.orphan_grace);
        if young {
            continue;
        }
        let hash = PhotoHash::from(blob.hash.as_str());
        if !with_tx(storage, |tx| tx.photo_cases(&hash))?.is_empty() {
            continue;
        }
        if !policy.dry_run {
            blobs.remove_complete(&blob.hash)?;
        }
        orphan.count += 1;
        orphan.bytes += blob.len;
    }
    if !policy.dry_run {
        metrics::counter!(crate::metrics::PHOTO_SWEEP_REMOVED, "kind" => "partial")
            .increment(partial.count);
        metrics::counter!(crate::metrics::PHOTO_SWEEP_REMOVED, "kind" => "orphan")
            .increment(orphan.count);
    }
    Ok(SweepReport { partial, orphan })
}

/// Runs [`sweep`] every `every` (the first one `every` after the start) until `stop`
/// resolves; a failed clean-up is logged and tried again next time.
pub async fn run_every(
    state: Arc<AppState>,
    policy: SweepPolicy,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = ticks.tick() => {}
        }
        let st = state.clone();
        let done =
            tokio::task::spawn_blocking(move || sweep(st.storage.as_ref(), &st.blobs, policy))
                .await;
        match done {
            Ok(Ok(r)) => tracing::info!(
                partial = r.partial.count,
                partial_bytes = r.partial.bytes,
                orphan = r.orphan.count,
                orphan_bytes = r.orphan.bytes,
                "photo clean-up"
            ),
            Ok(Err(e)) => tracing::warn!(error = %e, "photo clean-up failed"),
            Err(e) => tracing::warn!(error = %e, "photo clean-up stopped"),
        }
    }
}
