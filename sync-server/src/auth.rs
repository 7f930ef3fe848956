//! Enrolment codes and bearer tokens. Both are random, shown once, and stored only as SHA-256
//! hashes; a code is spent by the first device that trades it for a token.

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

/// Trades a code for a new device and its token; `None` for an unknown or spent code.
pub fn enrol(
    tx: &mut dyn Tx,
    code: &str,
    device_name: &str,
    now: i64,
) -> Result<Option<(DeviceRow, String)>, ServerError> {
    let Some(person) = tx.take_code(&hash_secret(code), now)? else {
        return Ok(None);
    };
    let token = new_token();
    let device = DeviceRow {
        id: format!("dev-{}", &new_token()[..16]),
        person,
        name: device_name.chars().take(100).collect(),
        token_hash: hash_secret(&token),
        created_at: now,
        revoked: false,
        quarantined: None,
    };
    tx.insert_device(&device)?;
    Ok(Some((device, token)))
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
