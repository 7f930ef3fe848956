//! Xiangying (响应) core: the device shell: everything a grid worker's or street chief's phone
//! does, in plain Rust, over the pure model of `xiangying-model` (whose modules [`org`],
//! [`case`], [`patrol`] and [`report`] are re-exported here under their old paths, with the id
//! newtypes of [`ids`]).
//!
//! - [`org`]: the roster (places, people, roles) and the category catalogue.
//! - [`case`]: the case document (one automerge document per case), its events, the fold
//!   that computes a case's state from them, and the rules of who may do what.
//! - [`store`]: the device's SQLite store: documents, index tables, the outbox.
//! - [`photo`]: photos for cases: decode, orient, strip metadata, resize, thumbnail, and a
//!   content-addressed file store.
//! - [`report`]: rankings of grids, communities, departments and people, and the street
//!   chiefs' notice boards.
//! - [`patrol`]: patrols: the track, who walked along (三陪同), the weekly accompaniment count.
//! - [`sync`]: the sync protocol's wire types and the push checks shared with the server.
//! - [`Device`]: the façade the bindings wrap.
//! - [`logs`]: the targets of the core's log lines (the `log` facade).
//! - [`Denied`]: why the rules refuse an action, with a stable code (from the model).

mod device;
mod error;
pub mod logs;
pub mod photo;
pub mod store;
pub mod sync;
pub use xiangying_model::{case, document, ids, org, patrol, report};
#[cfg(test)]
mod testkit;

pub use device::{
    CHUNK_POINTS, CaseView, Clock, Device, Directory, EngineConfig, EngineListener, EngineState,
    EngineStatus, Membership, NewReport, NewRequest, PatrolView, SyncEngine, SyncPhase, SyncReport,
    system_clock,
};
pub use error::{Error, Result};
pub use xiangying_model::denied::Denied;
