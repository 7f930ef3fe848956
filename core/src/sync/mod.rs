//! Sync on the device: the HTTP client, over the pure protocol, wire types, scope keys and push
//! judgement of `xiangying-model` (re-exported here under their old paths).

pub use xiangying_model::sync::{
    append_only, intake, judge, keys, kind, patrol_judge, photo_batch, refusal, scope, synced,
    version, wire,
};
pub mod client;
pub mod enrol_link;
pub mod tls;
