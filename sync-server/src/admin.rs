//! Administration: publish a street's roster and catalogue, issue and revoke enrolment codes,
//! revoke devices, show status. Used by the `admin` subcommands and the demo.
//!
//! Text that devices supplied (device names, refusal reasons naming pushed ids) is printed
//! through [`printable`], so a hostile device cannot send escape sequences to the operator's
//! terminal.

use crate::auth;
use crate::error::ServerError;
pub use crate::printable::{printable, printable_char, printable_table};
use crate::storage::{DeviceRow, Storage, with_tx};
use std::path::Path;
use xiangying_model::ids::{DeviceId, PersonId};
use xiangying_model::org::{Catalogue, Roster};

fn org_err(e: xiangying_model::org::OrgError) -> ServerError {
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
            if !d.revoked && r.person(d.person.as_str()).is_none() {
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

/// Refuses to publish over a store that already holds cases unless `replace` is given: a
/// roster and catalogue published there by mistake (another street's, the demo's) would
/// change who may see and act on its cases.
pub fn check_setup_over(storage: &dyn Storage, replace: bool) -> Result<(), ServerError> {
    let cases = with_tx(storage, |tx| Ok(tx.counts()?.0))?;
    if cases > 0 && !replace {
        return Err(ServerError::BadRequest(format!(
            "this store already holds {cases} cases: `admin setup` would publish a new roster \
             and catalogue over its street; add --replace if that is what you mean"
        )));
    }
    Ok(())
}

/// The `admin devices` listing: one tab-separated line per device (id, person, name, state),
/// every field through [`printable`].
pub fn devices_table(storage: &dyn Storage) -> Result<String, ServerError> {
    let mut out = String::new();
    for d in devices(storage)? {
        let state = match (&d.quarantined, d.revoked) {
            (_, true) => "revoked".to_string(),
            (Some(why), _) => format!("quarantined: {why}"),
            _ => "active".to_string(),
        };
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            printable(d.id.as_str()),
            printable(d.person.as_str()),
            printable(&d.name),
            printable(&state)
        ));
    }
    Ok(out)
}

/// A code just issued and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    /// The code, e.g. `K7QMX-4XWDA-9PLRT` (shown only now).
    pub code: String,
    /// When it expires (ms since the epoch).
    pub expires_at: i64,
}

impl IssuedCode {
    /// When the code expires, as `2026-12-08 09:30 UTC`.
    pub fn expires_utc(&self) -> String {
        chrono::DateTime::from_timestamp_millis(self.expires_at)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| self.expires_at.to_string())
    }
}

/// Issues a code valid for `ttl` (see [`crate::state::Limits::code_ttl`]) and says when it
/// expires.
pub fn issue_code_until(
    storage: &dyn Storage,
    person: &str,
    ttl: std::time::Duration,
) -> Result<IssuedCode, ServerError> {
    let now = chrono::Utc::now().timestamp_millis();
    let code = issue_code(storage, person)?;
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    Ok(IssuedCode {
        code,
        expires_at: now.saturating_add(ttl_ms),
    })
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
        auth::issue_code(
            tx,
            &PersonId::from(person),
            chrono::Utc::now().timestamp_millis(),
        )
    })
}

/// Revokes an unused code.
pub fn revoke_code(storage: &dyn Storage, code: &str) -> Result<bool, ServerError> {
    with_tx(storage, |tx| tx.revoke_code(&auth::hash_code(code)))
}

/// Revokes a device: its token stops working at once.
pub fn revoke_device(storage: &dyn Storage, device: &str) -> Result<bool, ServerError> {
    let device = DeviceId::from(device);
    with_tx(storage, |tx| tx.revoke_device(&device))
}

/// Every enrolled device.
pub fn devices(storage: &dyn Storage) -> Result<Vec<DeviceRow>, ServerError> {
    with_tx(storage, |tx| tx.devices())
}

/// A one-paragraph status: roster version, cases, changes, devices.
pub fn status(storage: &dyn Storage) -> Result<String, ServerError> {
    let id = storage.identity();
    let restored = match id.restored_at {
        Some(at) => format!(
            "restored {}",
            chrono::DateTime::from_timestamp_millis(at)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| at.to_string())
        ),
        None => "never restored".to_string(),
    };
    with_tx(storage, |tx| {
        let version = tx.org_version()?;
        let (cases, changes, devices) = tx.counts()?;
        Ok(format!(
            "storage {}, schema version {}; store {}, epoch {}, {restored}; roster version {version}; {cases} cases, {changes} changes in the feed, {devices} devices",
            storage.kind(),
            id.schema_version,
            id.store_id,
            id.epoch,
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_what_a_terminal_would_obey() {
        assert_eq!(printable("\u{1b}[2J\rwiped"), "\\u{1b}[2J\\rwiped");
        assert_eq!(printable("a\nb\tc"), "a\\nb\\tc");
        // A right-to-left override and a zero-width space are not printable either.
        assert_eq!(printable("x\u{202e}y\u{200b}"), "x\\u{202e}y\\u{200b}");
        assert_eq!(printable("C1\u{9b}2J"), "C1\\u{9b}2J");
        assert_eq!(
            printable("王芳的手机 \"Mate\" it's"),
            "王芳的手机 \"Mate\" it's"
        );
        assert_eq!(printable("back\\slash"), "back\\\\slash");
        assert_eq!(
            printable_table("a\tb\u{1b}]0;x\u{7}\nc\td\n"),
            "a\tb\\u{1b}]0;x\\u{7}\nc\td\n"
        );
    }
}
