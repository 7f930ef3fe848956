//! Wire types of the sync protocol, shared by the device's client and the server.
//!
//! One sync is one `POST /v1/sync` round trip: the device pushes the changes the server has not
//! acknowledged and pulls the change feed after its cursor in the same request. Bodies are
//! postcard (compact, binary, serde); case ids travel as 16 raw bytes. Repeating a request is
//! harmless: known changes are ignored and the feed is re-read from the same cursor.

pub use crate::codec::{decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The body of `POST /v1/sync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// Outbox entries to push, oldest first. Applied all or nothing.
    pub push: Vec<PushedChange>,
    /// The feed position after which to pull (0 on a first sync).
    pub cursor: u64,
    /// The most feed bytes the device wants in this response (the server may send one item
    /// more than fits, so that a large document always gets through).
    pub max_feed_bytes: u32,
    /// The roster version the device holds.
    pub org_version: u64,
}

/// One outbox entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedChange {
    /// The device's outbox sequence number.
    pub seq: i64,
    /// The case.
    pub case_id: Uuid,
    /// automerge bytes: a whole document for a new case, otherwise changes.
    #[serde(with = "serde_bytes_compat")]
    pub bytes: Vec<u8>,
}

/// The body of a successful sync response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// Every outbox entry up to and including this sequence number is stored on the server.
    pub acked_through: Option<i64>,
    /// Changes for the device, in feed order.
    pub feed: Vec<FeedItem>,
    /// The cursor to send next time.
    pub cursor: u64,
    /// True when more of the feed is waiting: sync again at once.
    pub more: bool,
    /// The server's roster version; when it differs from the device's, the device fetches
    /// `GET /v1/org` (and, if its scope changed, pulls again from cursor 0).
    pub org_version: u64,
}

/// Changes to one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedItem {
    /// The case.
    pub case_id: Uuid,
    /// True when `bytes` is the whole document (the case is new to the device).
    pub whole: bool,
    /// automerge bytes.
    #[serde(with = "serde_bytes_compat")]
    pub bytes: Vec<u8>,
}

/// Byte vectors as one length-prefixed run instead of one varint per byte (also used by
/// [`crate::sync::photo_batch`]).
pub(crate) mod serde_bytes_compat {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_bytes(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_round_trips_compactly() {
        let req = SyncRequest {
            push: vec![PushedChange {
                seq: 7,
                case_id: Uuid::now_v7(),
                bytes: vec![1; 300],
            }],
            cursor: 12345,
            max_feed_bytes: 1 << 20,
            org_version: 3,
        };
        let bytes = encode(&req).unwrap();
        assert!(bytes.len() < 300 + 40, "{} bytes", bytes.len());
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), req);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode::<SyncRequest>(&longer).is_err());
        assert!(decode::<SyncRequest>(&bytes[..bytes.len() - 5]).is_err());
    }
}
