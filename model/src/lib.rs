//! Xiangying (响应) model: what the street's work *is*, as pure functions of documents and
//! the roster. No IO, no async, no SQLite, no HTTP, no file system: the device shell
//! (`xiangying-core`) and the sync server both build on it, and it can be tested and reused
//! without either.
//!
//! - [`org`]: the roster (places, people, roles), the category catalogue, the calendar.
//! - [`ids`]: ids as types (documents, devices, people, photo files, automerge actors).
//! - [`document`]: what every synced document is, whatever its kind (the [`document::Document`]
//!   trait, errors, the automerge plumbing).
//! - [`case`]: the case document (one automerge document per case), its events, the fold
//!   that computes a case's state from them, and the rules of who may do what.
//! - [`denied`]: why the rules refuse an action ([`denied::Denied`]), with a stable code and
//!   an English and a Chinese sentence.
//! - [`patrol`]: patrols: the track, who walked along (三陪同), the weekly accompaniment count.
//! - [`report`]: rankings of grids, communities, departments and people, and the street
//!   chiefs' notice boards.
//! - [`sync`]: the protocol's versions and wire types, the scope keys, and the judgement the
//!   server applies to a device's push.

pub mod case;
mod codec;
pub mod denied;
pub mod document;
pub mod ids;
pub mod org;
pub mod patrol;
pub mod report;
pub mod sync;
#[cfg(any(test, feature = "test-hooks"))]
pub mod testkit;
