//! Cases: one automerge document per case (a problem report or a resident request), its
//! append-only events, the fold that computes its state, and the rules of who may do what.
//!
//! - [`facts`](Facts): what never changes once a case is raised;
//! - [`Event`]: one action, with the author's recorded claim;
//! - [`CaseState`]: the state (`state`), computed by [`fold()`], which checks each event at
//!   its gates and then applies the action's own transition (`transitions`);
//! - [`CaseDoc`]: the automerge document and its layout;
//! - [`InboxKey`]: what a case waits on and what a person's inbox is made of.

pub use crate::document::chunks;
pub(crate) mod doc;
mod event;
mod facts;
mod fold;
mod inbox;
pub mod rules;
mod state;
pub(crate) mod tolerant;
mod transitions;

pub use crate::denied::Denied;
pub use doc::{CaseDoc, DocError, LAYOUT, RawChange};
pub use event::{ACTION_TYPES, Action, Assignee, Author, Claim, Event};
pub use facts::{CaseKind, Facts, PhotoRef, PhotoStage};
pub use fold::{check, fold};
pub use inbox::{BadInboxKey, InboxKey, inbox_keys_for};
pub use state::{CaseState, FoldedEvent, Outcome, Status};
