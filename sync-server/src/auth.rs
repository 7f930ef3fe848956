//! Enrolment codes and bearer tokens. Both are random and stored only as SHA-256 hashes. A code
//! is spent by the first device that trades it for a token, and expires a while after it was
//! issued ([`crate::state::Limits::code_ttl_hours`]). The device makes its token itself (256
//! random bits) and sends it with the code, so that a retried enrolment whose answer was lost
//! finds the device it already made instead of failing on a spent code.
//!
//! A code is 15 characters of a 32-letter alphabet (75 bits) in three groups of five, e.g.
//! `K7QMX-4XWDA-9PLRT`; it is accepted in any case, with or without dashes and spaces. Codes
//! of the earlier 8-character form (`K7QM-4XWD`, 40 bits) still work until they expire.

use crate::error::ServerError;
use crate::storage::{DeviceRow, DeviceTx, EnrolTx, Tx};
use sha2::{Digest, Sha256};
use xiangying_model::ids::{DeviceId, PersonId};

/// Letters and digits that cannot be misread for one another on a phone screen.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Characters in a code (without its dashes).
pub const CODE_LEN: usize = 15;

/// Characters per dash-separated group of a code.
const CODE_GROUP: usize = 5;

/// Length of the earlier codes (`XXXX-XXXX`), still honoured until they expire.
const LEGACY_CODE_LEN: usize = 8;

/// The longest device name accepted at enrolment, in characters.
pub const MAX_DEVICE_NAME: usize = 64;

/// SHA-256 of a secret (a bearer token), lowercase hex.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().to_uppercase().as_bytes()))
}

/// SHA-256 of an enrolment code in its canonical form: upper case, spaces and dashes
/// dropped, then grouped as issued (`XXXXX-XXXXX-XXXXX`, or `XXXX-XXXX` for the earlier
/// 8-character codes, whose stored hashes were made from that form).
pub fn hash_code(code: &str) -> String {
    let compact: Vec<char> = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect();
    let group = if compact.len() == LEGACY_CODE_LEN {
        LEGACY_CODE_LEN / 2
    } else {
        CODE_GROUP
    };
    let canonical = compact
        .chunks(group)
        .map(|g| g.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-");
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// A new enrolment code, e.g. `K7QMX-4XWDA-9PLRT` (75 bits: the alphabet has 32 letters, so
/// each random byte maps to one uniformly).
pub fn new_code() -> String {
    let mut raw = [0u8; CODE_LEN];
    rand::fill(&mut raw);
    let chars: Vec<char> = raw
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect();
    chars
        .chunks(CODE_GROUP)
        .map(|g| g.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A new bearer token: 32 random bytes, hex.
pub fn new_token() -> String {
    let mut raw = [0u8; 32];
    rand::fill(&mut raw);
    hex::encode(raw)
}

/// Issues a code for a person and returns it (the only time it is shown).
pub fn issue_code(
    tx: &mut dyn EnrolTx,
    person: &PersonId,
    now: i64,
) -> Result<String, ServerError> {
    let code = new_code();
    tx.insert_code(&hash_code(&code), person, now)?;
    Ok(code)
}

/// The shortest token a device may bring (hex digits: 128 bits).
pub const MIN_TOKEN_LEN: usize = 32;

/// What an enrolment attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enrolment {
    /// A new device.
    Enrolled(DeviceRow),
    /// A retry with a token already enrolled: the device the first attempt made.
    Again(DeviceRow),
    /// The code is unknown, spent or revoked (or the retried token's device was revoked).
    Unknown,
    /// The code was issued for `person` but expired at `expired_at` (ms); it stays unspent.
    Expired {
        /// Whom the code was for.
        person: PersonId,
        /// When it expired (ms since the epoch).
        expired_at: i64,
    },
}

/// Checks a device name: at most [`MAX_DEVICE_NAME`] characters, nothing a terminal would
/// obey or hide (control and other non-printing characters).
pub fn check_device_name(name: &str) -> Result<(), ServerError> {
    if name.chars().count() > MAX_DEVICE_NAME {
        return Err(ServerError::BadRequest(format!(
            "the device name may have at most {MAX_DEVICE_NAME} characters"
        )));
    }
    if let Some(c) = name.chars().find(|c| !crate::printable::printable_char(*c)) {
        return Err(ServerError::BadRequest(format!(
            "the device name may not contain control or other non-printing characters \
             (found {})",
            c.escape_unicode()
        )));
    }
    Ok(())
}

/// Trades a code and the device's own token for a new device. A retry with the same token
/// returns the device the first attempt made; a code older than `ttl_ms` is
/// [`Enrolment::Expired`] (codes stored before expiry existed count from when they were
/// issued, too).
pub fn enrol(
    tx: &mut dyn Tx,
    code: &str,
    token: &str,
    device_name: &str,
    now: i64,
    ttl_ms: i64,
) -> Result<Enrolment, ServerError> {
    if token.trim().len() < MIN_TOKEN_LEN {
        return Err(ServerError::BadRequest(format!(
            "the device token must have at least {MIN_TOKEN_LEN} characters"
        )));
    }
    check_device_name(device_name)?;
    let token_hash = hash_secret(token);
    if let Some(existing) = tx.device_by_token(&token_hash)? {
        return Ok(if existing.revoked {
            Enrolment::Unknown
        } else {
            Enrolment::Again(existing)
        });
    }
    let code_hash = hash_code(code);
    let Some(row) = tx.code(&code_hash)? else {
        return Ok(Enrolment::Unknown);
    };
    if row.used_at.is_some() {
        return Ok(Enrolment::Unknown);
    }
    let expired_at = row.created_at.saturating_add(ttl_ms);
    if now >= expired_at {
        return Ok(Enrolment::Expired {
            person: row.person,
            expired_at,
        });
    }
    let Some(person) = tx.take_code(&code_hash, now)? else {
        return Ok(Enrolment::Unknown);
    };
    let device = DeviceRow {
        id: DeviceId::from(format!("dev-{}", &new_token()[..16])),
        person,
        name: device_name.to_string(),
        token_hash,
        created_at: now,
        revoked: false,
        quarantined: None,
    };
    tx.insert_device(&device)?;
    Ok(Enrolment::Enrolled(device))
}

/// The device a bearer token belongs to. Unknown and revoked tokens are [`ServerError::Unauthorised`];
/// a quarantined device is [`ServerError::Quarantined`].
pub fn device_for(tx: &mut dyn DeviceTx, token: &str) -> Result<DeviceRow, ServerError> {
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
    fn codes_have_75_bits_and_are_read_in_any_form() {
        let c = new_code();
        assert_eq!(c.len(), CODE_LEN + 2);
        let letters: Vec<char> = c.chars().filter(|ch| *ch != '-').collect();
        assert_eq!(letters.len(), CODE_LEN);
        assert!(
            letters
                .iter()
                .all(|ch| CODE_ALPHABET.contains(&(*ch as u8)))
        );
        let bits = (CODE_ALPHABET.len() as f64).log2() * CODE_LEN as f64;
        assert!(bits >= 60.0, "{bits}");
        let h = hash_code(&c);
        assert_eq!(h, hash_code(&c.to_lowercase()));
        assert_eq!(h, hash_code(&c.replace('-', "")));
        assert_eq!(h, hash_code(&c.replace('-', " ")));
        assert_eq!(
            h,
            hash_code(&format!(" {} ", c.to_lowercase().replace('-', "")))
        );
        assert_ne!(h, hash_code(&new_code()));
        assert_ne!(new_token(), new_token());
    }

    #[test]
    fn legacy_codes_keep_their_stored_hash() {
        // Codes issued before were hashed as `hash_secret("K7QM-4XWD")`.
        let stored = hash_secret("K7QM-4XWD");
        assert_eq!(hash_code("K7QM-4XWD"), stored);
        assert_eq!(hash_code("k7qm4xwd"), stored);
        assert_eq!(hash_code("k7qm 4xwd"), stored);
    }

    #[test]
    fn device_names_with_control_characters_or_too_long_are_refused() {
        assert!(check_device_name("王芳的手机 (Mate 60)").is_ok());
        assert!(check_device_name("").is_ok());
        for bad in ["\u{1b}[2J", "a\rb", "x\u{202e}y", "tab\there"] {
            let e = check_device_name(bad).unwrap_err().to_string();
            assert!(e.contains("non-printing"), "{e}");
        }
        let e = check_device_name(&"手".repeat(65)).unwrap_err().to_string();
        assert!(e.contains("64"), "{e}");
        assert!(check_device_name(&"手".repeat(64)).is_ok());
    }
}
