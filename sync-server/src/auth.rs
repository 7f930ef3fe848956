//! Enrolment codes and bearer tokens. Both are random and stored only as SHA-256 hashes. A code
//! is spent by the first device that trades it for a token. The device makes its token itself
//! (256 random bits) and sends it with the code, so that a retried enrolment whose answer was
//! lost finds the device it already made instead of failing on a spent code.

use crate::error::ServerError;
use crate::storage::{DeviceRow, Tx};
use sha2::{Digest, Sha256};

/// Letters and digits that cannot be misread for one another on a phone screen.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// SHA-256 of a secret, lowercase hex.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().to_uppercase().as_bytes()))
}

/// A new enrolment code, e.g. `K7QM-4XWD` (40 bits).
pub fn new_code() -> String {
    let mut raw = [0u8; 8];
    rand::fill(&mut raw);
    let chars: String = raw
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// A new bearer token: 32 random bytes, hex.
pub fn new_token() -> String {
    let mut raw = [0u8; 32];
    rand::fill(&mut raw);
    hex::encode(raw)
}

/// Issues a code for a person and returns it (the only time it is shown).
pub fn issue_code(tx: &mut dyn Tx, person: &str, now: i64) -> Result<String, ServerError> {
    let code = new_code();
    tx.insert_code(&hash_secret(&code), person, now)?;
    Ok(code)
}

/// The shortest token a device may bring (hex digits: 128 bits).
pub const MIN_TOKEN_LEN: usize = 32;

/// Trades a code and the device's own token for a new device; `None` for an unknown or spent
/// code. A retry with the same token returns the device the first attempt made.
pub fn enrol(
    tx: &mut dyn Tx,
    code: &str,
    token: &str,
    device_name: &str,
    now: i64,
) -> Result<Option<DeviceRow>, ServerError> {
    if token.trim().len() < MIN_TOKEN_LEN {
        return Err(ServerError::BadRequest(format!(
            "the device token must have at least {MIN_TOKEN_LEN} characters"
        )));
    }
    let token_hash = hash_secret(token);
    if let Some(existing) = tx.device_by_token(&token_hash)? {
        return Ok((!existing.revoked).then_some(existing));
    }
    let Some(person) = tx.take_code(&hash_secret(code), now)? else {
        return Ok(None);
    };
    let device = DeviceRow {
        id: format!("dev-{}", &new_token()[..16]),
        person,
        name: device_name.chars().take(100).collect(),
        token_hash,
        created_at: now,
        revoked: false,
        quarantined: None,
    };
    tx.insert_device(&device)?;
    Ok(Some(device))
}

/// The device a bearer token belongs to. Unknown and revoked tokens are [`ServerError::Unauthorised`];
/// a quarantined device is [`ServerError::Quarantined`].
pub fn device_for(tx: &mut dyn Tx, token: &str) -> Result<DeviceRow, ServerError> {
    let device = tx
        .device_by_token(&hash_secret(token))?
        .filter(|d| !d.revoked)
        .ok_or(ServerError::Unauthorised)?;
    if let Some(why) = &device.quarantined {
        return Err(ServerError::Quarantined(why.clone()));
    }
    Ok(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_hash_case_insensitively() {
        let c = new_code();
        assert_eq!(c.len(), 9);
        assert!(
            c.chars()
                .all(|ch| ch == '-' || CODE_ALPHABET.contains(&(ch as u8)))
        );
        assert_eq!(hash_secret(&c), hash_secret(&c.to_lowercase()));
        assert_ne!(new_token(), new_token());
    }
}
