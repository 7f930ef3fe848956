//! Re-delivery after a server restore: when the server's store epoch changes, everything this
//! device holds goes back into the outbox as whole documents, every photo file it holds is
//! queued for upload again, and the feed is read again from the start; all in one transaction
//! with the new epoch, so a kill part-way leaves either the old state (and the next sync
//! notices the new epoch again) or the whole re-delivery queued.

use super::{meta, outbox, uploads};
use crate::error::Result;
use rusqlite::Connection;

/// One document to push again whole.
pub struct WholeDoc {
    /// The document id.
    pub id: String,
    /// Its whole saved bytes.
    pub bytes: Vec<u8>,
}

/// One photo file to upload again.
pub struct PhotoFile {
    /// SHA-256 of the file.
    pub hash: String,
    /// A document that references it.
    pub case_id: String,
    /// Its size.
    pub bytes: u64,
}

/// What re-delivery set the device to do, as meta keys.
pub struct Restart<'a> {
    /// The new epoch, stored under this key.
    pub epoch_key: &'a str,
    /// The new epoch.
    pub epoch: &'a str,
    /// The feed cursor key, reset to 0.
    pub cursor_key: &'a str,
    /// The key flagging pushes as re-deliveries until the outbox drains.
    pub redelivering_key: &'a str,
}

/// Queues `docs` whole in place of their pending changes (a whole document holds every change
/// an entry held), queues `photos` for upload, and records the restart, in one transaction.
pub fn requeue(
    conn: &mut Connection,
    docs: &[WholeDoc],
    photos: &[PhotoFile],
    restart: &Restart<'_>,
    now: i64,
) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for d in docs {
        tx.prepare_cached("DELETE FROM outbox WHERE case_id = ?1")?
            .execute([&d.id])?;
        outbox::push(&tx, &d.id, &d.bytes, now)?;
    }
    for p in photos {
        uploads::push(&tx, &p.hash, &p.case_id, p.bytes, now)?;
    }
    meta::set(&tx, restart.epoch_key, restart.epoch.as_bytes())?;
    meta::set(&tx, restart.cursor_key, b"0")?;
    meta::set(&tx, restart.redelivering_key, b"1")?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema;

    fn restart() -> Restart<'static> {
        Restart {
            epoch_key: "epoch",
            epoch: "e2",
            cursor_key: "cursor",
            redelivering_key: "redelivering",
        }
    }

    #[test]
    fn whole_documents_replace_their_pending_changes_and_the_feed_restarts() {
        let mut conn = Connection::open_in_memory().unwrap();
        schema::migrate(&mut conn).unwrap();
        outbox::push(&conn, "a", b"change-1", 1).unwrap();
        outbox::push(&conn, "b", b"change-2", 1).unwrap();
        outbox::push(&conn, "a", b"change-3", 1).unwrap();
        meta::set(&conn, "cursor", b"42").unwrap();
        let docs = [WholeDoc {
            id: "a".into(),
            bytes: b"whole-a".to_vec(),
        }];
        let photos = [PhotoFile {
            hash: "h".into(),
            case_id: "a".into(),
            bytes: 10,
        }];
        requeue(&mut conn, &docs, &photos, &restart(), 2).unwrap();
        let pending = outbox::pending(&conn, 10).unwrap();
        let got: Vec<(&str, &[u8])> = pending
            .iter()
            .map(|e| (e.case_id.as_str(), e.bytes.as_slice()))
            .collect();
        assert_eq!(got, vec![("b", &b"change-2"[..]), ("a", &b"whole-a"[..])]);
        assert_eq!(uploads::pending(&conn, 10).unwrap().len(), 1);
        assert_eq!(meta::get(&conn, "cursor").unwrap().unwrap(), b"0");
        assert_eq!(meta::get(&conn, "epoch").unwrap().unwrap(), b"e2");
        assert_eq!(meta::get(&conn, "redelivering").unwrap().unwrap(), b"1");
    }
}
