//! Synced documents of every kind on the device: taking in what the server sends (one path for
//! every kind: load or build, apply, index by kind, store) and writing documents of kinds that
//! need no index of their own (`docs/decisions/0026-document-kinds.md`).
//!
//! Cases and patrols keep their index rows (the lists, the inbox, the patrol screens); a kind
//! registered without a device index is stored as its document alone and read back whole with
//! [`Device::document`].

use super::Device;
use crate::case::CaseDoc;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::patrol::PatrolDoc;
use crate::store::{DocBytes, DocWrite, Origin};
use crate::sync::kind::SyncedKind;
use crate::sync::synced::SyncedDoc;

impl Device {
    /// Takes in document bytes (whole documents or changes) received from elsewhere, for a
    /// document of any kind. Known changes are ignored, so applying the same bytes twice
    /// changes nothing.
    pub fn apply_remote(&self, id: &str, bytes: &[u8]) -> Result<()> {
        let corrupt = |e: crate::document::DocError| Error::InvalidInput {
            field: "bytes",
            problem: format!("not a valid change for document {id}: {e}"),
        };
        if self.store.has_case(id)? {
            let mut doc = self.store.load_synced(id, &self.actor)?;
            let before = doc.heads();
            doc.apply(bytes).map_err(corrupt)?;
            // Changes whose dependencies have not arrived yet are queued by automerge; the raw
            // bytes are kept so that they apply once the rest arrives, even after a restart.
            if doc.heads() == before && doc.missing_deps().is_empty() {
                return Ok(());
            }
            self.store_synced(id, &doc, bytes, DocBytes::Changes, Origin::Remote)
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
            self.store_synced(id, &doc, &snapshot, DocBytes::Whole, Origin::Remote)
        }
    }

    /// Stores a document write with the index rows of its kind: cases and patrols have
    /// their own; any other kind is its document alone.
    fn store_synced(
        &self,
        id: &str,
        doc: &SyncedDoc,
        bytes: &[u8],
        kind: DocBytes,
        origin: Origin,
    ) -> Result<()> {
        if let Some(case) = doc.downcast_ref::<CaseDoc>() {
            return self.write(case, bytes, kind, origin, &[], self.now());
        }
        if let Some(patrol) = doc.downcast_ref::<PatrolDoc>() {
            return self.store_patrol(patrol, bytes, kind, origin, None);
        }
        self.store.write_doc(&DocWrite {
            id,
            bytes,
            kind,
            origin,
            now: self.now(),
        })
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
        })
    }

    /// A stored document of any kind, whole.
    pub fn document(&self, id: &str) -> Result<SyncedDoc> {
        self.store.load_synced(id, &self.actor)
    }
}
