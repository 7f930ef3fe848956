//! Synced documents (cases and patrols) on disk: a compacted snapshot per document plus the
//! incremental changes written since, folded into a new snapshot by compaction.

use super::Cached;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::sync::synced::SyncedDoc;
use automerge::ActorId;
use rusqlite::{Connection, OptionalExtension, params};

/// What the bytes of a document write are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocBytes {
    /// A whole saved document, for a document this store has not seen: stored as its snapshot.
    Whole,
    /// Change bytes for a document this store holds: appended after its snapshot.
    Changes,
}

/// Where the bytes of a document write were made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Made on this device: they go to the outbox too, to reach the server.
    Local,
    /// Received from the server (or imported): stored only, never sent back.
    Remote,
}

/// Stores a document write: the whole document or the change bytes, as its `kind` says; and,
/// for [`Origin::Local`] bytes, the same bytes in the outbox for the server, stamped `now`.
pub fn write(conn: &Connection, w: &super::DocWrite<'_>) -> Result<()> {
    match w.kind {
        DocBytes::Whole => insert(conn, w.id, w.bytes)?,
        DocBytes::Changes => append_change(conn, w.id, w.bytes)?,
    }
    match w.origin {
        Origin::Local => super::outbox::push(conn, w.id, w.bytes, w.now)?,
        Origin::Remote => {}
    }
    Ok(())
}

/// Stores the whole document of a case new to this store.
pub fn insert(conn: &Connection, case_id: &str, snapshot: &[u8]) -> Result<()> {
    conn.prepare_cached("INSERT INTO docs (case_id, snapshot) VALUES (?1, ?2)")?
        .execute(params![case_id, snapshot])?;
    Ok(())
}

/// Appends change bytes to a stored case.
pub fn append_change(conn: &Connection, case_id: &str, bytes: &[u8]) -> Result<()> {
    let updated = conn
        .prepare_cached("UPDATE docs SET pending_changes = pending_changes + 1 WHERE case_id = ?1")?
        .execute([case_id])?;
    if updated == 0 {
        return Err(Error::NotFound {
            what: "case",
            id: case_id.to_string(),
        });
    }
    conn.prepare_cached("INSERT INTO doc_changes (case_id, bytes) VALUES (?1, ?2)")?
        .execute(params![case_id, bytes])?;
    Ok(())
}

/// Every stored document's id (cases and patrols), in id order.
pub fn ids(conn: &Connection) -> Result<Vec<String>> {
    super::strings(conn, "SELECT case_id FROM docs ORDER BY case_id", [])
}

/// True when the case is stored.
pub fn exists(conn: &Connection, case_id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM docs WHERE case_id = ?1")?
        .query_row([case_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// A stored document's changes since its snapshot, in order.
const CHANGES_SINCE_SNAPSHOT: &str = "SELECT bytes FROM doc_changes WHERE case_id = ?1 ORDER BY id";

/// Loads a document: the snapshot, then every change since, in order.
pub fn load<D: Document>(conn: &Connection, case_id: &str, actor: &ActorId) -> Result<D> {
    let snapshot: Vec<u8> = conn
        .prepare_cached("SELECT snapshot FROM docs WHERE case_id = ?1")?
        .query_row([case_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::NotFound {
            what: "case",
            id: case_id.to_string(),
        })?;
    let corrupt = |reason: String| Error::CorruptCase {
        case_id: case_id.to_string(),
        reason,
    };
    let mut doc = D::load(&snapshot, actor).map_err(|e| corrupt(e.to_string()))?;
    // The changes since the snapshot, applied in one go: automerge takes in a run of change
    // chunks as one batch, and the wrapper re-reads the document once, not once a change.
    let mut changes = Vec::new();
    let mut stmt = conn.prepare_cached(CHANGES_SINCE_SNAPSHOT)?;
    let mut rows = stmt.query([case_id])?;
    while let Some(row) = rows.next()? {
        let bytes: Vec<u8> = row.get(0)?;
        changes.extend_from_slice(&bytes);
    }
    if !changes.is_empty() {
        doc.apply_trusted(&changes)
            .map_err(|e| corrupt(e.to_string()))?;
    }
    Ok(doc)
}

/// The cases with more than `min_changes` incremental changes.
pub fn needing_compaction(conn: &Connection, min_changes: i64) -> Result<Vec<String>> {
    let sql = "SELECT case_id FROM docs WHERE pending_changes > ?1";
    super::strings(conn, sql, [min_changes])
}

/// Replaces a case's snapshot and changes by one compacted snapshot. Returns false (and
/// changes nothing) when the stored document does not load.
pub fn compact(conn: &Connection, case_id: &str, actor: &ActorId) -> Result<bool> {
    let mut doc: SyncedDoc = match load(conn, case_id, actor) {
        Ok(doc) => doc,
        Err(Error::CorruptCase { .. }) => return Ok(false),
        Err(e) => return Err(e),
    };
    let snapshot = doc.save();
    conn.exec(
        "UPDATE docs SET snapshot = ?2, pending_changes = 0 WHERE case_id = ?1",
        params![case_id, snapshot],
    )?;
    conn.exec("DELETE FROM doc_changes WHERE case_id = ?1", [case_id])?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Action, CaseDoc, Event};
    use crate::store::Store;
    use rusqlite::StatementStatus;
    use xiangying_model::testkit::{g1_claim, g1_facts, g1_reported};

    /// Stores a case, then a change to it, on the writer; returns its id.
    fn stored_case(store: &Store, n: u32) -> String {
        let id = format!("0193a4b2-0000-7000-8000-00000000000{n}");
        let mut doc = CaseDoc::create(&ActorId::random(), &g1_facts(&id), &g1_reported()).unwrap();
        insert(&store.writer(), &id, &doc.save()).unwrap();
        let note = Action::Note {
            text: format!("note {n}"),
        };
        let change = doc
            .append_event(&Event::new(2, g1_claim("gw1"), note))
            .unwrap();
        append_change(&store.writer(), &id, &change).unwrap();
        id
    }

    #[test]
    fn loading_documents_compiles_the_change_query_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.db")).unwrap();
        let ids = [stored_case(&store, 1), stored_case(&store, 2)];
        let actor = ActorId::random();
        for _ in 0..3 {
            for id in &ids {
                let doc: CaseDoc = load(&store.reader(), id, &actor).unwrap();
                assert_eq!(
                    doc.events().unwrap().len(),
                    2,
                    "the change since the snapshot"
                );
            }
        }
        let reader = store.reader();
        let stmt = reader.prepare_cached(CHANGES_SINCE_SNAPSHOT).unwrap();
        assert_eq!(
            stmt.get_status(StatementStatus::RePrepare),
            0,
            "the cached statement was compiled again on a later use"
        );
    }
}
