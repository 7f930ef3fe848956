//! Administration: publish a street's roster and catalogue, issue and revoke enrolment codes,
//! revoke devices, show status. Used by the `admin` subcommands and the demo.

use crate::auth;
use crate::error::ServerError;
use crate::storage::{DeviceRow, Storage, with_tx};
use std::path::Path;
use xiangying_core::org::{Catalogue, Roster};

fn org_err(e: xiangying_core::org::OrgError) -> ServerError {
    ServerError::BadRequest(e.to_string())
}

/// Checks a roster and catalogue (against each other too) and publishes them. Returns the new
/// version. On any error nothing is published.
///
/// In the same transaction, every device of a person the new roster no longer holds is
/// revoked: its token gets 401 from then on (a removed person stops syncing at once).
pub fn publish(storage: &dyn Storage, roster: &str, catalogue: &str) -> Result<u64, ServerError> {
    let r = Roster::from_json("roster", roster).map_err(org_err)?;
    let c = Catalogue::from_json("catalogue", catalogue).map_err(org_err)?;
    c.check_against(&r).map_err(org_err)?;
    with_tx(storage, |tx| {
        let version = tx.set_org(roster, catalogue)?;
        for d in tx.devices()? {
            if !d.revoked && r.person(&d.person).is_none() {
                tx.revoke_device(&d.id)?;
                tracing::warn!(device = %d.id, person = %d.person, version, "person left the roster: device revoked");
            }
        }
        Ok(version)
    })
}

/// Reads the two files and publishes them (see [`publish`]).
pub fn setup(storage: &dyn Storage, roster: &Path, catalogue: &Path) -> Result<u64, ServerError> {
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .map_err(|e| ServerError::BadRequest(format!("{}: {e}", p.display())))
    };
    publish(storage, &read(roster)?, &read(catalogue)?)
}

/// Issues a one-time enrolment code for a person in the published roster.
pub fn issue_code(storage: &dyn Storage, person: &str) -> Result<String, ServerError> {
    with_tx(storage, |tx| {
        let org = tx.org()?.ok_or(ServerError::NoOrg)?;
        let roster = Roster::from_json("roster", &org.roster).map_err(org_err)?;
        if roster.person(person).is_none() {
            return Err(ServerError::BadRequest(format!(
                "person {person:?} is not in the roster"
            )));
        }
        auth::issue_code(tx, person, chrono::Utc::now().timestamp_millis())
    })
}

/// Revokes an unused code.
pub fn revoke_code(storage: &dyn Storage, code: &str) -> Result<bool, ServerError> {
    with_tx(storage, |tx| tx.revoke_code(&auth::hash_secret(code)))
}

/// Revokes a device: its token stops working at once.
pub fn revoke_device(storage: &dyn Storage, device: &str) -> Result<bool, ServerError> {
    with_tx(storage, |tx| tx.revoke_device(device))
}

/// Every enrolled device.
pub fn devices(storage: &dyn Storage) -> Result<Vec<DeviceRow>, ServerError> {
    with_tx(storage, |tx| tx.devices())
}

/// A one-paragraph status: roster version, cases, changes, devices.
pub fn status(storage: &dyn Storage) -> Result<String, ServerError> {
    with_tx(storage, |tx| {
        let version = tx.org_version()?;
        let (cases, changes, devices) = tx.counts()?;
        Ok(format!(
            "storage {}; roster version {version}; {cases} cases, {changes} changes in the feed, {devices} devices",
            storage.kind()
        ))
    })
}
