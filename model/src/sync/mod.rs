//! Sync, the pure part: the protocol's versions and wire types, the scope keys a document is
//! read through (typed in [`keys`]), why a server refuses a request ([`refusal`]), the intake
//! bounds on received bytes, and the judgement of a device's push that the server applies.
//! The device's HTTP client lives in `xiangying-core`.

pub mod append_only;
pub mod intake;
pub mod judge;
pub mod keys;
pub mod kind;
mod kinds;
#[cfg(any(test, feature = "test-hooks"))]
pub mod memory_host;
pub mod patrol_judge;
pub mod photo_batch;
pub mod refusal;
pub mod scope;
pub mod synced;
mod tamper;
pub mod version;
pub mod wire;

#[cfg(test)]
mod compat_tests;
