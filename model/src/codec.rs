//! The binary encoding of the crate's own values: postcard (compact, binary, serde), refusing
//! trailing bytes on decode. The sync protocol's bodies ([`crate::sync::wire`], which
//! re-exports these) and a patrol's stored track chunks ([`crate::patrol`]) both use it; it
//! depends on nothing of the crate, so the model modules need not reach up into the sync layer.

use serde::{Deserialize, Serialize};

/// Encodes a value.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_stdvec(value)
}

/// Decodes a value, refusing trailing bytes.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, postcard::Error> {
    let (value, rest) = postcard::take_from_bytes(bytes)?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(postcard::Error::DeserializeBadEncoding)
    }
}
