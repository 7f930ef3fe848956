//! Taking in a device's photo bytes: a chunk of one file (`PATCH /v1/photos/{hash}`) and a
//! batch of small whole files (`POST /v1/photos`, decision 0059) go through the same checks,
//! in the same order, and are stored the same way.
//!
//! Each file is first **admitted**: a well-formed hash, within `max_photo`, referenced by a
//! case the device may write to (else 404, so nobody learns which files exist), within the
//! device's quota; a file the server holds and the device may read is answered as stored
//! without its bytes being written again. Then it is **stored** ([`crate::blobs::BlobStore`]),
//! which checks the bytes against the hash and records the uploader before the file is put
//! in place.
//!
//! A batch reads what its files are checked against in one transaction and admits them in
//! order, each counted towards the quota of those after it (so a batch cannot pass the quota
//! where the same files sent one by one would not); then the admitted files are stored up to
//! [`BATCH_WRITERS`] at a time, so that their disk syncs overlap and their uploaders share one
//! commit (decision 0060).

use crate::blobs::BlobStatus;
use crate::error::ServerError;
use crate::photo_access;
use crate::state::AppState;
use crate::storage::{DeviceRow, Tx, with_tx};
use axum::http::StatusCode;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicUsize, Ordering};
use xiangying_model::ids::PhotoHash;
use xiangying_model::sync::photo_batch::{BatchFile, BatchOutcome};

/// How many of a batch's files are stored at once (each on a thread of its own, waiting on
/// the disk most of the time).
pub const BATCH_WRITERS: usize = 8;

/// What one file is checked against, read from the store.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// The device may read the file (so a file the server holds needs no bytes).
    may_read: bool,
    /// A case the device may write to references the file.
    referenced: bool,
}

/// Refuses a name that is not a SHA-256 hash, before anything is read for it.
fn check_hash(hash: &PhotoHash) -> Result<(), ServerError> {
    if crate::blobs::valid_hash(hash.as_str()) {
        Ok(())
    } else {
        Err(ServerError::BadRequest("not a SHA-256 hash".into()))
    }
}

/// Reads what a file with a well-formed hash is checked against.
fn seen(
    st: &AppState,
    tx: &mut dyn Tx,
    device: &DeviceRow,
    hash: &PhotoHash,
) -> Result<Seen, ServerError> {
    let (may_read, referenced) = photo_access::upload_access(st, tx, device, hash)?;
    Ok(Seen {
        may_read,
        referenced,
    })
}

/// Takes in a chunk at `offset` of a file of `total` bytes (a whole file when `offset` is 0
/// and `body` holds `total` bytes): what `PATCH /v1/photos/{hash}` does.
pub fn receive(
    st: &AppState,
    device: &DeviceRow,
    hash: &PhotoHash,
    offset: u64,
    total: u64,
    body: &[u8],
) -> Result<BlobStatus, ServerError> {
    let (seen, stored) = with_tx(st.storage.as_ref(), |tx| {
        check_hash(hash)?;
        Ok((
            seen(st, tx, device, hash)?,
            tx.device_photo_bytes(&device.id)?,
        ))
    })?;
    if let Some(answer) = admit(st, device, hash, offset, total, seen, stored)? {
        return Ok(answer);
    }
    store(st, device, hash, offset, total, body)
}

/// The checks before anything is written, in a `PATCH`'s order: `Some` when the file is
/// answered without its bytes (the server holds it and the device may read it). `stored`:
/// the bytes the device's uploads count towards its quota.
fn admit(
    st: &AppState,
    device: &DeviceRow,
    hash: &PhotoHash,
    offset: u64,
    total: u64,
    seen: Seen,
    stored: u64,
) -> Result<Option<BlobStatus>, ServerError> {
    if total > st.limits.max_photo {
        return Err(ServerError::TooLarge(format!(
            "a photo may have at most {} bytes (limit max_photo)",
            st.limits.max_photo
        )));
    }
    if seen.may_read && st.blobs.is_complete(hash.as_str())? {
        return Ok(Some(BlobStatus::Complete));
    }
    if !seen.referenced {
        return Err(ServerError::NotFound);
    }
    // A new upload sweeps the folder's expired uploads, at most once a minute; a bucket is
    // listed only by the scheduled clean-up (a listing of every partial upload per photo
    // would cost requests).
    if offset == 0 && st.blobs.folder().is_some() {
        let swept = st.blobs.sweep_often(st.limits.partial_upload_ttl())?;
        if swept > 0 {
            tracing::info!(swept, "expired partial photo uploads removed");
        }
    }
    check_quota(st, device, hash, total, stored)?;
    Ok(None)
}

/// Refuses an upload that would take the device over its photo quota (`stored`: the bytes of
/// the files it uploaded).
fn check_quota(
    state: &AppState,
    device: &DeviceRow,
    hash: &PhotoHash,
    total: u64,
    stored: u64,
) -> Result<(), ServerError> {
    let quota = state.limits.device_photo_quota_bytes;
    let ttl = state.limits.partial_upload_ttl();
    let this = state.blobs.partial_len(&device.id, hash, ttl)?;
    let partial = state.blobs.device_partial_bytes(&device.id)?;
    let used = stored.saturating_add(partial.saturating_sub(this));
    if used.saturating_add(total) > quota {
        return Err(ServerError::TooLarge(format!(
            "this device's photos would exceed its quota of {quota} bytes (limit \
             device_photo_quota_bytes; {used} bytes used)"
        )));
    }
    Ok(())
}

/// Writes an admitted chunk; once the file is whole and matches its hash, the uploader is
/// recorded (concurrent uploads share one commit, decision 0049) and the file put in place.
fn store(
    st: &AppState,
    device: &DeviceRow,
    hash: &PhotoHash,
    offset: u64,
    total: u64,
    body: &[u8],
) -> Result<BlobStatus, ServerError> {
    let chunk = crate::blobs::Chunk {
        offset,
        total,
        bytes: body,
    };
    let ttl = st.limits.partial_upload_ttl();
    st.blobs.append(&device.id, hash, chunk, ttl, || {
        let uploader = crate::storage::NewUploader {
            hash: hash.clone(),
            device: device.id.clone(),
            person: device.person.clone(),
            bytes: total,
            at: chrono::Utc::now().timestamp_millis(),
            held_before: st.blobs.is_complete(hash.as_str())?,
        };
        st.uploaders.commit(uploader, |group| {
            with_tx(st.storage.as_ref(), |tx| {
                photo_access::record_uploaders(tx, group)
            })
        })
    })
}

/// Takes in a batch of whole files (see the module doc): one outcome a file, in order. An
/// error reading the checks refuses the whole batch, before anything is written.
pub fn receive_batch(
    st: &AppState,
    device: &DeviceRow,
    files: Vec<BatchFile>,
) -> Result<Vec<BatchOutcome>, ServerError> {
    let files: Vec<(PhotoHash, Vec<u8>)> = files
        .into_iter()
        .map(|f| (PhotoHash::from(f.hash), f.bytes))
        .collect();
    let (seen, stored) = with_tx(st.storage.as_ref(), |tx| {
        let mut all = Vec::with_capacity(files.len());
        for (hash, _) in &files {
            // A malformed name is this file's refusal; a storage error is the batch's.
            all.push(match check_hash(hash) {
                Ok(()) => Ok(seen(st, tx, device, hash)?),
                Err(e) => Err(e),
            });
        }
        Ok((all, tx.device_photo_bytes(&device.id)?))
    })?;
    let mut outcomes: Vec<Option<BatchOutcome>> = vec![None; files.len()];
    let mut admitted = Vec::new();
    // The bytes admitted before a file count towards its quota, each file once: a file sent
    // twice is written twice (the second finds the first, as one sent after it would).
    let mut reserved = 0u64;
    let mut counted: HashMap<&str, u64> = HashMap::new();
    for (i, ((hash, bytes), seen)) in files.iter().zip(seen).enumerate() {
        let total = bytes.len() as u64;
        // A copy of a file admitted before is checked as if that one were stored.
        let before = reserved.saturating_sub(counted.get(hash.as_str()).copied().unwrap_or(0));
        let admission = seen.and_then(|seen| {
            admit(
                st,
                device,
                hash,
                0,
                total,
                seen,
                stored.saturating_add(before),
            )
        });
        match admission {
            Ok(Some(answer)) => outcomes[i] = Some(outcome_of(Ok(answer))),
            Ok(None) => {
                if let Entry::Vacant(e) = counted.entry(hash.as_str()) {
                    e.insert(total);
                    reserved = reserved.saturating_add(total);
                }
                admitted.push(i);
            }
            Err(e) => outcomes[i] = Some(outcome_of(Err(e))),
        }
    }
    // Each writer takes the next admitted file until none is left; a writer that panicked
    // leaves its files unanswered, and they are answered as an internal error below.
    let next = AtomicUsize::new(0);
    let written: Vec<(usize, BatchOutcome)> = std::thread::scope(|s| {
        let writers: Vec<_> = (0..BATCH_WRITERS.min(admitted.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    while let Some(&i) = admitted.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let (hash, bytes) = &files[i];
                        let total = bytes.len() as u64;
                        done.push((i, outcome_of(store(st, device, hash, 0, total, bytes))));
                    }
                    done
                })
            })
            .collect();
        writers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    for (i, outcome) in written {
        outcomes[i] = Some(outcome);
    }
    Ok(outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| {
                outcome_of(Err(ServerError::Internal(
                    "a batch's file was not answered".into(),
                )))
            })
        })
        .collect())
}

/// One batch file's outcome: stored, or its refusal's status, code and message (a storage or
/// internal error logged with an id and answered with the id only, as a whole request's is).
fn outcome_of(result: Result<BlobStatus, ServerError>) -> BatchOutcome {
    match result {
        // A whole file is never partial; were it, the device sends it again by `PATCH`.
        Ok(BlobStatus::Complete) => BatchOutcome::stored(),
        Ok(BlobStatus::Partial(n)) => BatchOutcome {
            status: StatusCode::ACCEPTED.as_u16(),
            code: String::new(),
            message: format!("the server holds {n} bytes of it"),
        },
        Err(e) => {
            let message = if matches!(e, ServerError::Storage(_) | ServerError::Internal(_)) {
                let id = uuid::Uuid::now_v7().to_string();
                tracing::error!(error_id = %id, error = %e, "a batch's photo failed");
                format!("internal error {id}")
            } else {
                e.to_string()
            };
            BatchOutcome {
                status: e.status().as_u16(),
                code: e.code().to_string(),
                message,
            }
        }
    }
}
