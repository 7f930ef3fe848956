//! Fuzz targets for every parser of hostile bytes in Xiangying (issue 11).
//!
//! Each target is a plain function of `&[u8]` that feeds the bytes to the real parsing code the
//! server or a device runs on bytes from the network or from files, then to what the server or
//! device does next with the parsed value. A target never fails on bad input (refusing it is
//! the parsers' job); it panics only when the code under test panics or an invariant of the
//! parsed value does not hold (a value that decodes must encode and decode to itself).
//!
//! | target | parsing code |
//! | --- | --- |
//! | [`wire`] | `sync::wire::decode` of `SyncRequest`, `SyncResponse`, `FeedItem` and feed pages |
//! | [`automerge`] | `case::chunks::{split, check}`, `SyncedDoc::from_remote` and the push judgement |
//! | [`photo`] | `photo::process` under tight limits |
//! | [`org`] | `Roster::from_json`, `Catalogue::from_json`, `Catalogue::check_against` |
//! | [`config`] | `xiangying_server::config_file::FileConfig::parse` |
//! | [`track`] | `patrol::track::decode_chunk` |
//!
//! The targets run on stable Rust under `cargo test -p xiangying-fuzz` (bolero's test engine:
//! the committed corpus, then random and mutated inputs for a bounded time), and under
//! libFuzzer or AFL through `cargo bolero` for long campaigns; see `docs/FUZZING.md`.
//! [`CappedAlloc`] turns an allocation beyond a cap into an abort, so that input that makes
//! the code allocate without bound is a failure, not a slow test.

pub mod alloc;
pub mod automerge;
pub mod config;
pub mod corpus;
pub mod mutate;
pub mod org;
pub mod photo;
pub mod seeds;
pub mod track;
pub mod wire;

pub use alloc::CappedAlloc;

/// The largest input any target looks at; longer inputs are cut to this length (the server
/// refuses far larger bodies by its own limits, which other tests cover).
pub const MAX_INPUT: usize = 64 * 1024;

/// `data` cut to [`MAX_INPUT`] bytes.
pub fn capped(data: &[u8]) -> &[u8] {
    &data[..data.len().min(MAX_INPUT)]
}

/// The target named `name` (one of [`corpus::TARGETS`]).
pub fn target(name: &str) -> Option<fn(&[u8])> {
    Some(match name {
        "wire" => wire::run,
        "automerge" => automerge::run,
        "photo" => photo::run,
        "org" => org::run,
        "config" => config::run,
        "track" => track::run,
        _ => return None,
    })
}
