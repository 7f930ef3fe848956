//! Synced documents of every kind on the device: taking in what the server sends (one path for
//! every kind: load or build, apply, index by kind, store) and writing documents of kinds that
//! need no index of their own (`docs/decisions/0026-document-kinds.md`).
//!
//! Cases and patrols keep their index rows (the lists, the inbox, the patrol screens); a kind
//! registered without a device index is stored as its document alone and read back whole with
//! [`Device::document`].

use super::CaseView;
use super::Device;
use super::patrols::patrol_state;
use super::view_of;
use crate::case::CaseDoc;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::patrol::PatrolDoc;
use crate::patrol::{PatrolFacts, PatrolState};
use crate::store::{
    CaseWrite, DocBytes, DocWrite, KEPT, Keep, Origin, PatrolWrite, ReadAt, RemoteWrite,
};
use crate::sync::kind::SyncedKind;
use crate::sync::synced::SyncedDoc;

impl Device {
    /// Takes in document bytes (whole documents or changes) received from elsewhere, for a
    /// document of any kind. Known changes are ignored, so applying the same bytes twice
    /// changes nothing.
    pub fn apply_remote(&self, id: &str, bytes: &[u8]) -> Result<()> {
        self.apply_remote_page(&[(id, bytes)])
    }

    /// [`Device::apply_remote`] for every document of one answer of the server, stored in
    /// one transaction (all of them or, on the first bad one, none), so a page of the feed
    /// costs one commit. A document named twice (the server sends each once) starts another
    /// transaction, so that its second bytes apply to what its first stored.
    pub(crate) fn apply_remote_page(&self, items: &[(&str, &[u8])]) -> Result<()> {
        let _editing = self.editing();
        let mut taken = Vec::with_capacity(items.len());
        let mut ids = std::collections::HashSet::new();
        for (id, bytes) in items {
            if !ids.insert(*id) {
                self.store_taken(&taken)?;
                taken.clear();
                ids.clear();
                ids.insert(*id);
            }
            if let Some(t) = self.take_in(id, bytes)? {
                taken.push(t);
                // A page may bring hundreds of documents: only the last few are held loaded
                // until it is stored, as many as the store keeps.
                if let Some(older) = taken.len().checked_sub(KEPT + 1) {
                    taken[older].doc = None;
                }
            }
        }
        self.store_taken(&taken)
    }

    fn store_taken(&self, taken: &[Taken]) -> Result<()> {
        let now = self.now();
        let writes: Vec<RemoteWrite<'_>> = taken.iter().map(|t| t.write(now)).collect();
        self.store.write_remote(&writes)
    }

    /// Loads or builds the document `bytes` belong to and applies them; `None` when they
    /// bring nothing new.
    fn take_in(&self, id: &str, bytes: &[u8]) -> Result<Option<Taken>> {
        let corrupt = |e: crate::document::DocError| Error::InvalidInput {
            field: "bytes",
            problem: format!("not a valid change for document {id}: {e}"),
        };
        // One read of the store tells whether the document is held and gives it.
        let held = match self.store.load_tracked::<SyncedDoc>(id, &self.actor) {
            Ok(held) => Some(held),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let (doc, bytes, kind, read_at) = if let Some((mut doc, read_at)) = held {
            let before = doc.heads();
            doc.apply(bytes).map_err(corrupt)?;
            // Changes whose dependencies have not arrived yet are queued by automerge; the raw
            // bytes are kept so that they apply once the rest arrives, even after a restart.
            if doc.heads() == before && doc.missing_deps().is_empty() {
                return Ok(None);
            }
            (doc, bytes.to_vec(), DocBytes::Changes, Some(read_at))
        } else {
            let mut doc = SyncedDoc::from_remote(bytes, &self.actor).map_err(corrupt)?;
            let doc_id = doc.id().map_err(corrupt)?;
            if doc_id != id {
                return Err(Error::InvalidInput {
                    field: "case_id",
                    problem: format!("the bytes are of {} {doc_id}, not {id}", doc.kind()),
                });
            }
            let snapshot = doc.save();
            (doc, snapshot, DocBytes::Whole, None)
        };
        let what = if let Some(case) = doc.downcast_ref::<CaseDoc>() {
            Kind::Case(Box::new(view_of(case)?))
        } else if let Some(patrol) = doc.downcast_ref::<PatrolDoc>() {
            let (facts, state) = patrol_state(patrol)?;
            Kind::Patrol(Box::new((facts, state)))
        } else {
            Kind::Doc(id.to_string())
        };
        Ok(Some(Taken {
            what,
            bytes,
            kind,
            doc: Some(doc),
            read_at,
        }))
    }

    /// Stores a new document of a kind with no device index (made here with
    /// [`Device::actor`]) and queues it for the server.
    pub fn add_document<K: SyncedKind>(&self, doc: &mut K) -> Result<()> {
        let id = doc.id().map_err(|e| Error::InvalidInput {
            field: "document",
            problem: e.to_string(),
        })?;
        if self.store.has_case(&id)? {
            return Err(Error::InvalidInput {
                field: "document",
                problem: format!("a document with id {id} is already stored"),
            });
        }
        let snapshot = doc.save();
        self.store.write_doc(&DocWrite {
            id: &id,
            bytes: &snapshot,
            kind: DocBytes::Whole,
            origin: Origin::Local,
            now: self.now(),
            keep: None,
        })
    }

    /// Stores a change made on this device to a document of a kind with no device index (the
    /// bytes a kind's mutation returned) and queues it for the server.
    pub fn change_document(&self, id: &str, bytes: &[u8]) -> Result<()> {
        self.store.write_doc(&DocWrite {
            id,
            bytes,
            kind: DocBytes::Changes,
            origin: Origin::Local,
            now: self.now(),
            keep: None,
        })
    }

    /// A stored document of any kind, whole.
    pub fn document(&self, id: &str) -> Result<SyncedDoc> {
        self.store.load_synced(id, &self.actor)
    }
}

/// A document taken in from the server, ready to store.
struct Taken {
    what: Kind,
    /// The bytes to store: the received changes, or the whole document when it is new here.
    bytes: Vec<u8>,
    kind: DocBytes,
    /// The document with them applied, kept loaded once stored (only for the last
    /// [`KEPT`] documents of a page).
    doc: Option<SyncedDoc>,
    /// When the document was read, for changes to a stored one.
    read_at: Option<ReadAt>,
}

/// What a taken-in document indexes as.
enum Kind {
    Case(Box<CaseView>),
    Patrol(Box<(PatrolFacts, PatrolState)>),
    Doc(String),
}

impl Taken {
    /// Its write, for [`crate::store::Store::write_remote`].
    fn write(&self, now: i64) -> RemoteWrite<'_> {
        let doc = |id| DocWrite {
            id,
            bytes: &self.bytes,
            kind: self.kind,
            origin: Origin::Remote,
            now,
            keep: self.doc.as_ref().map(|d| Keep {
                doc: d.automerge(),
                read_at: self.read_at,
            }),
        };
        match &self.what {
            Kind::Case(view) => RemoteWrite::Case(CaseWrite {
                doc: doc(&view.facts.id),
                facts: &view.facts,
                state: &view.state,
                number: view.number.as_deref(),
                uploads: &[],
            }),
            Kind::Patrol(patrol) => RemoteWrite::Patrol(PatrolWrite {
                doc: doc(&patrol.0.id),
                facts: &patrol.0,
                state: &patrol.1,
                packed_upto: None,
            }),
            Kind::Doc(id) => RemoteWrite::Doc(doc(id)),
        }
    }
}
