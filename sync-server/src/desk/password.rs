//! TEMPORARY STUB (browser part, issue 17): desk passwords are the sign-in part's
//! (`desk/password.rs` there). Only the contract's signature is here, so the demo can call it
//! before the sign-in part is merged; the integrator keeps the sign-in part's file instead.

use crate::error::ServerError;
use crate::storage::Storage;

/// CONTRACT: sets `person`'s desk password (refusing a person whose role does not work at a
/// desk). STUB: does nothing.
pub fn set_password(
    storage: &dyn Storage,
    person: &str,
    password: &str,
    now_ms: i64,
) -> Result<(), ServerError> {
    let _ = (storage, person, password, now_ms);
    Ok(())
}
