//! Target `wire`: sync bodies as the server (`SyncRequest`) and the device (`SyncResponse`,
//! its feed items) decode them.

use xiangying_core::sync::wire::{self, FeedItem, PushedChange, SyncRequest, SyncResponse};

/// Decodes `data` as every wire body; a value that decodes must encode and decode to itself.
pub fn run(data: &[u8]) {
    let data = crate::capped(data);
    round_trip::<SyncRequest>(data);
    round_trip::<SyncResponse>(data);
    round_trip::<FeedItem>(data);
    round_trip::<Vec<FeedItem>>(data);
    round_trip::<PushedChange>(data);
    // Every pushed change and feed item carries automerge bytes the receiver goes on to read.
    if let Ok(req) = wire::decode::<SyncRequest>(data) {
        for c in &req.push {
            let _ = xiangying_core::case::chunks::split(&c.bytes);
        }
    }
    if let Ok(resp) = wire::decode::<SyncResponse>(data) {
        for item in &resp.feed {
            let _ = xiangying_core::case::chunks::split(&item.bytes);
        }
    }
}

fn round_trip<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = wire::decode::<T>(data) {
        let again = wire::encode(&value).map(|bytes| wire::decode::<T>(&bytes));
        assert!(
            matches!(&again, Ok(Ok(v)) if *v == value),
            "{value:?} does not survive encoding: {again:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad_bodies_pass_through() {
        let req = SyncRequest {
            push: vec![],
            cursor: 1,
            max_feed_bytes: 10,
            org_version: 2,
        };
        run(&wire::encode(&req).unwrap());
        run(&[]);
        run(&[0xff; 40]);
    }
}
