//! Why the server refuses a push as tampering ([`Tamper`]): the reasons shared by the case
//! judgement ([`super::judge`], which re-exports it), the patrol judgement and the append-only
//! check ([`super::append_only`]). Plain data; it uses none of them.

/// Why a push is refused as tampering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Tamper {
    /// The document does not have the case layout.
    #[error("not a case document: {0}")]
    Malformed(String),
    /// A fact (or the case number) differs from the server's.
    #[error("changes the fact `{0}`, which never changes")]
    FactChanged(&'static str),
    /// A key outside the case layout, from a device that does not write a newer layout.
    #[error("adds the unknown key `{0}`")]
    UnknownKey(String),
    /// An object under a key outside the layout (newer layouts write scalars only).
    #[error("puts an object under the unknown key `{0}`; newer layouts write scalars there")]
    UnknownObject(String),
    /// An event of an action type this build does not know, from a device that does not
    /// write a newer layout.
    #[error("adds event {event} of the unknown action `{type_name}`")]
    UnknownAction {
        /// The event.
        event: String,
        /// Its action's `type`.
        type_name: String,
    },
    /// A new document of a layout newer than this build's, from a device whose protocol does
    /// not say it writes one.
    #[error("raises a document of layout {0}, newer than its protocol version says")]
    NewerLayout(u64),
    /// The push does something other than appending to the document's lists: deletes,
    /// edits, reorders, replaces a list, or inserts before what it had seen.
    #[error("does not only append: {0}")]
    NotAnAppend(String),
    /// Two events share an id.
    #[error("repeats event id {0}")]
    DuplicateEvent(String),
    /// A new event is signed by somebody other than the pusher.
    #[error("event {event} claims to be by {claimed}, but the device belongs to {pusher}")]
    Forged {
        /// The event.
        event: String,
        /// Who it claims to be by.
        claimed: String,
        /// Who pushed it.
        pusher: String,
    },
    /// A new track chunk does not decode.
    #[error("adds track chunk {0}, which does not decode")]
    TrackChanged(usize),
    /// A new case raised by somebody other than the pusher.
    #[error("raises a case as {reporter}, but the device belongs to {pusher}")]
    ForgedReporter {
        /// The reporter the document names.
        reporter: String,
        /// Who pushed it.
        pusher: String,
    },
}
