//! What every synced document is, whatever its kind: an automerge document with an `id`, a
//! `layout`, facts written once and lists only ever appended to.
//!
//! [`Document`] is the part of a document kind that needs nothing but the document: wrapping
//! an automerge document of the kind, and (provided for every kind alike) loading, applying
//! received bytes, saving, forking and reading the changes since some heads. A kind says what
//! the server does with a push to it through [`crate::sync::kind::SyncedKind`].
//! [`ops`] holds the automerge plumbing the kinds share; [`chunks`] checks received bytes and
//! [`received`] reads a pushed part once, before the server takes its lock.

pub mod chunks;
pub mod ops;
pub mod received;

use automerge::{ActorId, AutoCommit, AutomergeError, ChangeHash, ROOT, ReadDoc};
use ops::{
    canonical_save, changes_since, check_bytes, layout_at, load_incremental, load_received, str_at,
};

/// The document layout this build writes and fully understands: the MINOR of the protocol
/// version ([`crate::sync::version`] re-exports it), recorded under `layout` in every case and
/// patrol document this build makes.
pub const LAYOUT: u32 = 2;

/// What is wrong with a synced document (of any kind).
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// automerge refused the bytes or the operation.
    #[error("automerge: {0}")]
    Automerge(#[from] AutomergeError),
    /// A field the layout requires is missing or has the wrong type.
    #[error("field `{0}` is missing or has the wrong type")]
    Field(&'static str),
    /// Received bytes are not whole, valid automerge chunks.
    #[error("damaged bytes: {0}")]
    Bytes(String),
    /// A value could not be encoded.
    #[error("cannot encode: {0}")]
    Encode(String),
    /// An event or photo entry is not valid JSON of its shape.
    #[error("{what} #{index} is invalid: {message}")]
    Entry {
        /// `event` or `photo`.
        what: &'static str,
        /// Its position in its list.
        index: usize,
        /// serde's description.
        message: String,
    },
}

/// One automerge change: its author actor and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChange {
    /// The actor that made it.
    pub actor: ActorId,
    /// The change chunk: as it arrived when it came as a chunk of its own, else encoded
    /// without deflating its columns (decision 0056).
    pub bytes: Vec<u8>,
}

/// A kind of synced document, as far as the document itself goes. Implementors provide
/// [`Document::wrap`], access to the automerge document and [`Document::refresh`]; every
/// other method is provided, the same for every kind.
pub trait Document: Sized + Send + 'static {
    /// The kind's name, as errors and logs say it: `case`, `patrol`.
    const KIND: &'static str;

    /// Wraps an automerge document of this kind, checking the lists its layout requires.
    fn wrap(doc: AutoCommit) -> Result<Self, DocError>;

    /// The automerge document.
    fn automerge(&self) -> &AutoCommit;

    /// The automerge document, mutable.
    fn automerge_mut(&mut self) -> &mut AutoCommit;

    /// Re-reads what the wrapper caches about the document (its lists' ids) after changes
    /// arrived: a document that first arrived as changes only has its lists once they came.
    fn refresh(&mut self) -> Result<(), DocError>;

    /// Loads a document from a saved snapshot, or from any concatenation of saved documents
    /// and changes; new changes will carry `actor`.
    fn load(bytes: &[u8], actor: &ActorId) -> Result<Self, DocError> {
        Self::wrap(AutoCommit::load(bytes)?.with_actor(actor.clone()))
    }

    /// Builds a document from bytes received from elsewhere (a whole document or changes),
    /// checked for whole chunks first.
    fn from_remote(bytes: &[u8], actor: &ActorId) -> Result<Self, DocError> {
        check_bytes(bytes)?;
        Self::from_checked(bytes, actor)
    }

    /// Builds a document from received bytes that [`chunks::check`] has already passed (the
    /// server checks a push before taking any lock).
    fn from_checked(bytes: &[u8], actor: &ActorId) -> Result<Self, DocError> {
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        load_received(&mut doc, bytes)?;
        Self::wrap(doc)
    }

    /// Wraps a document [`received::read`] loaded, writing with `actor`; also gives its
    /// changes, which were read back and encoded when it was loaded.
    fn from_preloaded(
        preloaded: received::Preloaded,
        actor: &ActorId,
    ) -> Result<(Self, Vec<RawChange>), DocError> {
        let received::Preloaded { doc, changes } = preloaded;
        Ok((Self::wrap(doc.with_actor(actor.clone()))?, changes))
    }

    /// Applies saved changes or documents received from elsewhere. Unknown changes are added,
    /// known ones ignored.
    fn apply(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        check_bytes(bytes)?;
        self.apply_checked(bytes)
    }

    /// Like [`Document::apply`] for received bytes that [`chunks::check`] has already passed.
    fn apply_checked(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        load_received(self.automerge_mut(), bytes)?;
        self.refresh()
    }

    /// Like [`Document::apply`] for bytes this device stored itself, already checked once.
    fn apply_trusted(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        load_incremental(self.automerge_mut(), bytes)?;
        self.refresh()
    }

    /// The current heads.
    fn heads(&mut self) -> Vec<ChangeHash> {
        self.automerge_mut().get_heads()
    }

    /// The hashes of changes that arrived changes depend on but that have not arrived yet.
    fn missing_deps(&mut self) -> Vec<ChangeHash> {
        self.automerge_mut().get_missing_deps(&[])
    }

    /// The whole document, compacted.
    fn save(&mut self) -> Vec<u8> {
        self.automerge_mut().save()
    }

    /// The changes made since `heads`, as bytes [`Document::apply`] accepts.
    fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.automerge_mut().save_after(heads)
    }

    /// The document saved from its changes applied in a canonical order (dependencies first,
    /// ties broken by hash): byte-identical on every replica that holds the same changes,
    /// whatever order they arrived in. (A plain [`Document::save`] keeps arrival order.)
    fn canonical_save(&mut self) -> Result<Vec<u8>, DocError> {
        canonical_save(self.automerge_mut())
    }

    /// The changes not reachable from `heads` (all of them for empty heads), in causal order,
    /// each with its author actor and its raw bytes.
    fn changes_since(&mut self, heads: &[ChangeHash]) -> Vec<RawChange> {
        changes_since(self.automerge_mut(), heads, &|_| None)
    }

    /// [`Document::changes_since`], taking a change's bytes from `known` (by its hash) when it
    /// has them: the server stores a pushed change as it arrived instead of encoding (and
    /// compressing) it again.
    fn changes_since_known(
        &mut self,
        heads: &[ChangeHash],
        known: &dyn Fn(&ChangeHash) -> Option<Vec<u8>>,
    ) -> Vec<RawChange> {
        changes_since(self.automerge_mut(), heads, known)
    }

    /// A copy of the document at its current state, writing with `actor` from now on.
    fn fork(&mut self, actor: &ActorId) -> Result<Self, DocError> {
        Self::wrap(self.automerge_mut().fork().with_actor(actor.clone()))
    }

    /// The document's `id` fact.
    fn id(&self) -> Result<String, DocError> {
        str_at(self.automerge(), "id").ok_or(DocError::Field("id"))
    }

    /// The layout that wrote the document: its `layout` key, 1 when absent (first-wave
    /// documents).
    fn layout(&self) -> Result<u64, DocError> {
        layout_at(self.automerge())
    }

    /// The keys of the root map.
    fn root_keys(&self) -> Vec<String> {
        self.automerge().keys(ROOT).collect()
    }

    /// Puts a scalar under a root key and returns the change bytes (a newer layout's key, for
    /// the mixed-version tests).
    #[cfg(any(test, feature = "test-hooks"))]
    fn put_root_scalar(
        &mut self,
        key: &str,
        value: automerge::ScalarValue,
    ) -> Result<Vec<u8>, DocError> {
        ops::put_root_scalar(self.automerge_mut(), key, value)
    }
}

/// Implements [`Document`] for a wrapper `struct $ty { doc: AutoCommit, $list: ObjId, … }` whose
/// root lists are under keys spelled like its fields: `wrap` and `refresh` read each list's id
/// (a missing list is [`DocError::Field`] naming it).
macro_rules! listed_document {
    ($ty:ident, $kind:expr, $($list:ident),+) => {
        impl $crate::document::Document for $ty {
            const KIND: &'static str = $kind;

            fn wrap(doc: automerge::AutoCommit) -> Result<$ty, $crate::document::DocError> {
                $(let $list = $crate::document::ops::list_id(&doc, stringify!($list))?;)+
                Ok($ty { doc, $($list),+ })
            }

            fn automerge(&self) -> &automerge::AutoCommit {
                &self.doc
            }

            fn automerge_mut(&mut self) -> &mut automerge::AutoCommit {
                &mut self.doc
            }

            fn refresh(&mut self) -> Result<(), $crate::document::DocError> {
                $(self.$list = $crate::document::ops::list_id(&self.doc, stringify!($list))?;)+
                Ok(())
            }
        }
    };
}
pub(crate) use listed_document;
