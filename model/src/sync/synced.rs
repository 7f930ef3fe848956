//! Every kind of document that syncs, behind one type: storage and the sync plumbing (push,
//! pull, the device's store) handle all kinds the same way through [`SyncedDoc`]; reading the
//! content and judging a push depend on the kind, which the root `kind` key tells
//! (the registry below: [`BUILT_IN`] and [`register`]).

use super::judge::Tamper;
use super::kind::{Accepted, Host, ListBound, Refused, SyncedKind};
use crate::document::ops::str_at;
use crate::document::{DocError, Document};
use automerge::AutoCommit;
use std::any::Any;
use std::sync::RwLock;

/// A synced document of any kind.
pub struct SyncedDoc(Box<dyn Erased>);

impl std::fmt::Debug for SyncedDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SyncedDoc").field(&self.kind()).finish()
    }
}

/// What [`SyncedDoc`] needs of a kind, object-safe.
trait Erased: Send {
    fn kind(&self) -> &'static str;
    fn automerge(&self) -> &AutoCommit;
    fn automerge_mut(&mut self) -> &mut AutoCommit;
    fn refresh(&mut self) -> Result<(), DocError>;
    fn list_lengths(&self) -> Vec<(ListBound, usize)>;
    fn accept(
        &mut self,
        before: Option<&mut (dyn Erased + 'static)>,
        host: &mut dyn Host,
    ) -> Result<Accepted, Refused>;
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<K: SyncedKind> Erased for K {
    fn kind(&self) -> &'static str {
        K::KIND
    }
    fn automerge(&self) -> &AutoCommit {
        Document::automerge(self)
    }
    fn automerge_mut(&mut self) -> &mut AutoCommit {
        Document::automerge_mut(self)
    }
    fn refresh(&mut self) -> Result<(), DocError> {
        Document::refresh(self)
    }
    fn list_lengths(&self) -> Vec<(ListBound, usize)> {
        SyncedKind::list_lengths(self)
    }
    fn accept(
        &mut self,
        before: Option<&mut (dyn Erased + 'static)>,
        host: &mut dyn Host,
    ) -> Result<Accepted, Refused> {
        let before = match before {
            None => None,
            // A push cannot turn a document into another kind.
            Some(b) => Some(
                b.as_any_mut()
                    .downcast_mut::<K>()
                    .ok_or(Tamper::FactChanged("kind"))?,
            ),
        };
        K::accept(before, self, host)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl Document for SyncedDoc {
    const KIND: &'static str = "document";

    /// Wraps the document as the kind its root `kind` key names.
    fn wrap(doc: AutoCommit) -> Result<SyncedDoc, DocError> {
        recognise(doc)
    }

    fn automerge(&self) -> &AutoCommit {
        self.0.automerge()
    }

    fn automerge_mut(&mut self) -> &mut AutoCommit {
        self.0.automerge_mut()
    }

    fn refresh(&mut self) -> Result<(), DocError> {
        self.0.refresh()
    }
}

impl SyncedDoc {
    /// A document of kind `K`.
    pub fn new<K: SyncedKind>(doc: K) -> SyncedDoc {
        SyncedDoc(Box::new(doc))
    }

    /// Wraps an automerge document as kind `K`.
    pub(super) fn wrap_kind<K: SyncedKind>(doc: AutoCommit) -> Result<SyncedDoc, DocError> {
        Ok(SyncedDoc::new(K::wrap(doc)?))
    }

    /// The kind's name: `case`, `patrol`, …
    pub fn kind(&self) -> &'static str {
        self.0.kind()
    }

    /// The lengths of the lists the server bounds.
    pub fn list_lengths(&self) -> Vec<(ListBound, usize)> {
        self.0.list_lengths()
    }

    /// Accepts a push on the server ([`SyncedKind::accept`]): `self` is the document after
    /// the push, `before` the server's copy. A push that changes the kind is tampering.
    pub fn accept(
        &mut self,
        before: Option<&mut SyncedDoc>,
        host: &mut dyn Host,
    ) -> Result<Accepted, Refused> {
        self.0.accept(before.map(|b| b.0.as_mut()), host)
    }

    /// The document as kind `K`, if it is one.
    pub fn downcast_ref<K: SyncedKind>(&self) -> Option<&K> {
        self.0.as_any().downcast_ref()
    }

    /// The document as kind `K`, mutable, if it is one.
    pub fn downcast_mut<K: SyncedKind>(&mut self) -> Option<&mut K> {
        self.0.as_any_mut().downcast_mut()
    }
}

/// A registered kind: how to recognise its documents and wrap them.
#[derive(Clone, Copy)]
pub struct Registration {
    /// The kind's name ([`Document::KIND`]).
    pub kind: &'static str,
    recognises: fn(Option<&str>) -> bool,
    wrap: fn(AutoCommit) -> Result<SyncedDoc, DocError>,
}

impl Registration {
    /// The registration of kind `K`.
    pub const fn of<K: SyncedKind>() -> Registration {
        Registration {
            kind: K::KIND,
            recognises: K::recognises,
            wrap: SyncedDoc::wrap_kind::<K>,
        }
    }
}

/// The kinds this build knows, tried in order; a document none recognises is a case.
pub const BUILT_IN: &[Registration] = &[Registration::of::<crate::patrol::PatrolDoc>()];

/// Kinds registered at run time ([`register`]), tried after [`BUILT_IN`].
static REGISTERED: RwLock<Vec<Registration>> = RwLock::new(Vec::new());

/// Registers a kind defined outside this crate, for the whole process (the server and every
/// device in it). Registering a kind twice changes nothing.
pub fn register<K: SyncedKind>() {
    let mut kinds = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
    if !kinds.iter().any(|r| r.kind == K::KIND) {
        kinds.push(Registration::of::<K>());
    }
}

/// Wraps an automerge document as the kind its root `kind` key names.
fn recognise(doc: AutoCommit) -> Result<SyncedDoc, DocError> {
    let kind = str_at(&doc, "kind");
    let kind = kind.as_deref();
    if let Some(r) = BUILT_IN.iter().find(|r| (r.recognises)(kind)) {
        return (r.wrap)(doc);
    }
    let registered = REGISTERED
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|r| (r.recognises)(kind))
        .copied();
    match registered {
        Some(r) => (r.wrap)(doc),
        None => SyncedDoc::wrap_kind::<crate::case::CaseDoc>(doc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patrol::PatrolDoc;
    use automerge::ActorId;

    #[test]
    fn the_kind_key_picks_the_document_type() {
        let actor = ActorId::random();
        let facts = crate::testkit::g1_patrol_facts("p", 5);
        let mut p = PatrolDoc::create(&actor, &facts).unwrap();
        let mut doc = SyncedDoc::from_remote(&p.save(), &actor).unwrap();
        assert_eq!(doc.kind(), "patrol");
        assert_eq!(doc.id().unwrap(), "p");
        let mut copy = doc.fork(&ActorId::random()).unwrap();
        assert_eq!(
            copy.canonical_save().unwrap(),
            doc.canonical_save().unwrap()
        );
        assert!(SyncedDoc::from_remote(b"nonsense", &actor).is_err());
        let mut empty = AutoCommit::new();
        assert!(matches!(
            SyncedDoc::load(&empty.save(), &actor),
            Err(DocError::Field(_))
        ));
    }

    /// Found by the `automerge` fuzz target (`fuzz/corpus/automerge/`): a track change with two
    /// bytes changed, applied as the server does (to a fork of the stored patrol), was taken
    /// in, and automerge panicked reading the new changes back.
    #[test]
    fn a_change_automerge_panics_on_reading_back_is_refused() {
        let base = include_bytes!("../patrol/testdata/base-patrol.am");
        let change = include_bytes!("../patrol/testdata/panic-get-changes.am");
        let mut stored = SyncedDoc::load(base, &ActorId::random()).unwrap();
        let mut after = stored.fork(&ActorId::random()).unwrap();
        let e = after.apply(change).unwrap_err();
        assert!(e.to_string().contains("automerge could not apply"), "{e}");
    }
}
