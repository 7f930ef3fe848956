//! The store's identity, kept in `server_meta` (migration 2): `store_id` (set once, when the
//! store is created or first migrated), `epoch` (set then and replaced by every restore) and
//! `restored_at` (absent until a restore). Every answer carries the epoch, so a device notices
//! a restored server.

use crate::error::ServerError;
use crate::storage::{MetaTx, Result};

/// The key of the store's id.
pub const STORE_ID: &str = "store_id";
/// The key of the epoch.
pub const EPOCH: &str = "epoch";
/// The key of the time of the last restore (ms since the Unix epoch, decimal).
pub const RESTORED_AT: &str = "restored_at";

/// Who a store is and which life of it is being served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreIdentity {
    /// Set once when the store is created (UUID).
    pub store_id: String,
    /// Replaced by every restore (UUID).
    pub epoch: String,
    /// When the store was last restored (ms), if ever.
    pub restored_at: Option<i64>,
    /// The schema version the store is at.
    pub schema_version: u32,
}

/// A fresh random id for a store or an epoch (a UUIDv7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Reads the identity (the store must be migrated).
pub fn load(tx: &mut dyn MetaTx, schema_version: u32) -> Result<StoreIdentity> {
    let store_id = tx
        .meta(STORE_ID)?
        .ok_or_else(|| ServerError::storage_state("the store has no store_id"))?;
    let epoch = tx
        .meta(EPOCH)?
        .ok_or_else(|| ServerError::storage_state("the store has no epoch"))?;
    let restored_at = match tx.meta(RESTORED_AT)? {
        None => None,
        Some(v) => Some(v.parse::<i64>().map_err(|_| {
            ServerError::storage_state(format!("server_meta restored_at is not a number: {v:?}"))
        })?),
    };
    Ok(StoreIdentity {
        store_id,
        epoch,
        restored_at,
        schema_version,
    })
}

/// Marks the store as restored at `now_ms`: a new epoch; returns it.
pub fn mark_restored(tx: &mut dyn MetaTx, now_ms: i64) -> Result<String> {
    let epoch = new_id();
    tx.set_meta(EPOCH, &epoch)?;
    tx.set_meta(RESTORED_AT, &now_ms.to_string())?;
    Ok(epoch)
}
