//! Who may read a photo file, and who may upload one.
//!
//! Naming a hash in a case proves nothing: anyone who learnt a hash could list it in a case of
//! their own. What the server trusts is who uploaded the bytes (recorded per device and
//! person in `photo_uploaders`) and the photo reference's `added_by`, which the judge checks
//! is the pushing person. So a device may read a file when
//! - it uploaded the file itself (or proved it holds it by uploading it whole), or
//! - it may see a case in which a reference to the file was added by a person who uploaded it.
//!
//! Files stored before uploaders were recorded have none. When the server starts, every such
//! file gets as uploaders the people who had added a reference to it by then
//! ([`adopt_legacy_files`]; a file nobody referenced gets a placeholder that matches no one), so
//! its readers keep it and a reference added later by someone else opens nothing. Should a
//! file still have no uploaders (a state built without [`crate::app_state`]), the earlier rule
//! (any case the device may see references it) applies to it, and the first device that proves
//! it holds the file adopts it the same way first.

use crate::error::ServerError;
use crate::state::AppState;
use crate::storage::{DeviceRow, NewUploader, Tx, with_tx};
use crate::sync;
use automerge::ActorId;
use std::collections::BTreeSet;
use xiangying_model::case::CaseDoc;
use xiangying_model::document::Document;
use xiangying_model::ids::{DeviceId, DocId, PersonId, PhotoHash};
use xiangying_model::sync::scope::may_see;

/// The device id recorded for the people who referenced a file stored before uploaders were
/// recorded.
const LEGACY_DEVICE: &str = "legacy";

/// The cases referencing `hash` that the device may see.
fn visible_cases(
    state: &AppState,
    tx: &mut dyn Tx,
    device: &DeviceRow,
    hash: &PhotoHash,
) -> Result<Vec<DocId>, ServerError> {
    let roster = state.roster(tx)?;
    let scope = sync::scope_of(&roster, &device.person);
    let mut out = Vec::new();
    for case in tx.photo_cases(hash)? {
        if may_see(&scope, &tx.access(&case)?) {
            out.push(case);
        }
    }
    Ok(out)
}

/// The people who added a reference to `hash` (as photo or thumbnail) in a case.
fn adders(
    tx: &mut dyn Tx,
    case_id: &DocId,
    hash: &PhotoHash,
) -> Result<BTreeSet<PersonId>, ServerError> {
    let Some(row) = tx.case(case_id)? else {
        return Ok(BTreeSet::new());
    };
    let doc = CaseDoc::load(&row.snapshot, &ActorId::random())
        .map_err(|e| ServerError::Internal(format!("case {case_id}: {e}")))?;
    let photos = doc
        .photos()
        .map_err(|e| ServerError::Internal(format!("case {case_id}: {e}")))?;
    Ok(photos
        .into_iter()
        .filter(|p| p.hash == hash.as_str() || p.thumb == hash.as_str())
        .map(|p| PersonId::from(p.added_by))
        .collect())
}

/// Records a group of uploaders in one transaction.
pub fn record_uploaders(tx: &mut dyn Tx, group: &[NewUploader]) -> Result<(), ServerError> {
    for u in group {
        if u.held_before {
            adopt_legacy(tx, &u.hash, u.at)?;
        }
        tx.add_photo_uploader(&u.hash, &u.device, &u.person, u.bytes, u.at)?;
    }
    Ok(())
}

/// Whether some case the device may see references the file (the upload precondition, and
/// the read rule for files stored before uploaders were recorded).
pub fn referenced_for(
    state: &AppState,
    tx: &mut dyn Tx,
    device: &DeviceRow,
    hash: &PhotoHash,
) -> Result<bool, ServerError> {
    Ok(!visible_cases(state, tx, device, hash)?.is_empty())
}

/// Whether the device may read the file (see the module doc).
pub fn may_read(
    state: &AppState,
    tx: &mut dyn Tx,
    device: &DeviceRow,
    hash: &PhotoHash,
) -> Result<bool, ServerError> {
    may_read_seeing(state, tx, device, hash, &mut None)
}

/// [`may_read`], keeping in `visible` the cases it looked up (when it did).
fn may_read_seeing(
    state: &AppState,
    tx: &mut dyn Tx,
    device: &DeviceRow,
    hash: &PhotoHash,
    visible: &mut Option<Vec<DocId>>,
) -> Result<bool, ServerError> {
    let uploaders = tx.photo_uploaders(hash)?;
    if uploaders.iter().any(|u| u.device == device.id) {
        return Ok(true);
    }
    let cases = visible.insert(visible_cases(state, tx, device, hash)?);
    if uploaders.is_empty() {
        return Ok(!cases.is_empty());
    }
    let persons: BTreeSet<&PersonId> = uploaders.iter().map(|u| &u.person).collect();
    for case in cases.iter() {
        if adders(tx, case, hash)?.iter().any(|p| persons.contains(p)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What an upload is checked against, with the cases looked up once: whether the device may
/// read the file ([`may_read`]), and whether a case it may see references it
/// ([`referenced_for`]).
pub fn upload_access(
    state: &AppState,
    tx: &mut dyn Tx,
    device: &DeviceRow,
    hash: &PhotoHash,
) -> Result<(bool, bool), ServerError> {
    let mut visible = None;
    let may_read = may_read_seeing(state, tx, device, hash, &mut visible)?;
    let referenced = match visible {
        Some(cases) => !cases.is_empty(),
        None => referenced_for(state, tx, device, hash)?,
    };
    Ok((may_read, referenced))
}

/// Before the first uploader of a file stored without any is recorded: records every person
/// who added a reference to it, so that its earlier readers keep it.
pub fn adopt_legacy(tx: &mut dyn Tx, hash: &PhotoHash, now: i64) -> Result<(), ServerError> {
    if !tx.photo_uploaders(hash)?.is_empty() {
        return Ok(());
    }
    let mut people = BTreeSet::new();
    for case in tx.photo_cases(hash)? {
        people.extend(adders(tx, &case, hash)?);
    }
    if people.is_empty() {
        // Nobody referenced it: a placeholder no reference's `added_by` can match.
        tx.add_photo_uploader(
            hash,
            &DeviceId::from(LEGACY_DEVICE),
            &PersonId::default(),
            0,
            now,
        )?;
    }
    for person in people {
        let device = DeviceId::from(format!("{LEGACY_DEVICE}-{person}"));
        tx.add_photo_uploader(hash, &device, &person, 0, now)?;
    }
    Ok(())
}

/// Gives every stored file without uploaders its legacy ones (see the module doc); returns how
/// many files were adopted. Idempotent: run at every start.
pub fn adopt_legacy_files(state: &AppState) -> Result<usize, ServerError> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut adopted = 0;
    for hash in state.blobs.complete_hashes()? {
        let hash = PhotoHash::from(hash);
        let done = with_tx(state.storage.as_ref(), |tx| {
            if !tx.photo_uploaders(&hash)?.is_empty() {
                return Ok(false);
            }
            adopt_legacy(tx, &hash, now)?;
            Ok(true)
        })?;
        adopted += usize::from(done);
    }
    Ok(adopted)
}
