//! Sync: the wire types shared with the server, the push judgement the server applies, and
//! (with the client) the device side of a sync.

pub mod append_only;
pub mod client;
pub mod intake;
pub mod judge;
pub mod patrol_judge;
pub mod scope;
pub mod synced;
mod tamper;
pub mod version;
pub mod wire;

#[cfg(test)]
mod compat_tests;
