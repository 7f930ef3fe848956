//! The device's side of a server restore.
//!
//! Every server answer names the store's epoch, which a restore from a backup changes. A device
//! that sees a new epoch after an older one knows the server may have lost what it acknowledged
//! since the backup, and that its feed cursor points past the server's feed. It queues every
//! document it holds again, whole (with other people's changes it pulled, in case their phones
//! are gone), queues every photo file it holds for upload again (the server skips the ones it
//! has), reads the feed again from the start, and marks its pushes as re-deliveries until the
//! outbox drains; the server accepts other people's changes in a re-delivery only within the
//! recovery window after a restore (docs/decisions/0021-recovery-after-a-restore.md).

use super::Device;
use crate::document::Document;
use crate::error::Result;
use crate::store::redeliver::{PhotoFile, Restart, WholeDoc};

/// The last store epoch the server named.
const META_EPOCH: &str = "server_epoch";
/// "1" while pushes re-deliver after a restore.
const META_REDELIVERING: &str = "redelivering";

/// What noticing a server's epoch found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Epoch {
    /// The same store as before (or the first answer naming one).
    Same,
    /// The server was restored: everything was queued again.
    Restored,
}

impl Device {
    /// Compares the epoch a server answer named with the last one seen, and queues everything
    /// again when it changed. `cursor_key` is the meta key of the feed cursor.
    pub(super) fn notice_epoch(&self, epoch: Option<&str>, cursor_key: &str) -> Result<Epoch> {
        let Some(epoch) = epoch else {
            return Ok(Epoch::Same);
        };
        match self.store.meta_get(META_EPOCH)? {
            Some(old) if old == epoch.as_bytes() => Ok(Epoch::Same),
            None => {
                self.store.meta_set(META_EPOCH, epoch.as_bytes())?;
                Ok(Epoch::Same)
            }
            Some(_) => {
                self.requeue_everything(epoch, cursor_key)?;
                Ok(Epoch::Restored)
            }
        }
    }

    /// The epoch of the server store this device last talked to.
    pub fn server_epoch(&self) -> Result<Option<String>> {
        Ok(self
            .store
            .meta_get(META_EPOCH)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// True while this device re-delivers what a restored server lost.
    pub fn redelivering(&self) -> Result<bool> {
        Ok(self.store.meta_get(META_REDELIVERING)?.as_deref() == Some(b"1"))
    }

    /// Ends re-delivery once the outbox has drained.
    pub(super) fn redelivery_done_if_drained(&self) -> Result<()> {
        if self.redelivering()? && self.store.outbox_len()? == 0 {
            self.store.meta_set(META_REDELIVERING, b"0")?;
        }
        Ok(())
    }

    fn requeue_everything(&self, epoch: &str, cursor_key: &str) -> Result<()> {
        let files = self.photo_files();
        let mut docs = Vec::new();
        let mut photos = Vec::new();
        for id in self.store.doc_ids()? {
            // A document this device cannot read cannot be re-delivered either; it stays as it
            // is and the rest goes.
            let Ok(mut doc) = self.store.load_synced(&id, &self.actor) else {
                continue;
            };
            if let Some(case) = doc.downcast_ref::<crate::case::CaseDoc>()
                && let Ok(refs) = case.photos()
            {
                for hash in refs.into_iter().flat_map(|p| [p.hash, p.thumb]) {
                    if let Ok(path) = files.path_of(&hash)
                        && let Ok(meta) = std::fs::metadata(path)
                    {
                        photos.push(PhotoFile {
                            hash,
                            case_id: id.clone(),
                            bytes: meta.len(),
                        });
                    }
                }
            }
            docs.push(WholeDoc {
                bytes: doc.save(),
                id,
            });
        }
        self.store.requeue_after_restore(
            &docs,
            &photos,
            &Restart {
                epoch_key: META_EPOCH,
                epoch,
                cursor_key,
                redelivering_key: META_REDELIVERING,
            },
            self.now(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewReport;
    use crate::org::sample;
    use crate::testkit::World;

    fn report() -> NewReport {
        NewReport {
            category: sample::MANHOLE.into(),
            location: sample::IN_G1,
            grid: None,
            segment: None,
            description: "井盖缺失".into(),
        }
    }

    #[test]
    fn a_new_epoch_after_an_old_one_queues_every_document_whole_and_restarts_the_feed() {
        let w = World::new(&["psc1", "gw1"]);
        let d = w.dev("psc1");
        let a = d.report(&report()).unwrap();
        d.forward(&a, "").unwrap();
        let b = d.report(&report()).unwrap();
        d.store.meta_set("cursor", b"77").unwrap();
        // The first answer naming an epoch is remembered; the same one again changes nothing.
        assert_eq!(d.notice_epoch(Some("e1"), "cursor").unwrap(), Epoch::Same);
        assert_eq!(d.notice_epoch(Some("e1"), "cursor").unwrap(), Epoch::Same);
        assert_eq!(d.notice_epoch(None, "cursor").unwrap(), Epoch::Same);
        assert_eq!(d.outbox_len().unwrap(), 3);
        assert!(!d.redelivering().unwrap());

        assert_eq!(
            d.notice_epoch(Some("e2"), "cursor").unwrap(),
            Epoch::Restored
        );
        assert_eq!(d.server_epoch().unwrap().as_deref(), Some("e2"));
        assert!(d.redelivering().unwrap());
        assert_eq!(d.store.meta_get("cursor").unwrap().unwrap(), b"0");
        // One whole document per case, each holding every change the old entries held.
        let entries = d.outbox(10).unwrap();
        let mut ids: Vec<&str> = entries.iter().map(|e| e.case_id.as_str()).collect();
        ids.sort();
        let mut want = vec![a.as_str(), b.as_str()];
        want.sort();
        assert_eq!(ids, want);
        for e in &entries {
            let mut doc =
                crate::sync::synced::SyncedDoc::load(&e.bytes, &automerge::ActorId::random())
                    .unwrap();
            assert_eq!(
                doc.canonical_save().unwrap(),
                d.canonical_case(&e.case_id).unwrap()
            );
        }
        // Once the outbox drains, pushes are ordinary again.
        d.ack_outbox(&entries.iter().map(|e| e.seq).collect::<Vec<_>>())
            .unwrap();
        d.redelivery_done_if_drained().unwrap();
        assert!(!d.redelivering().unwrap());
    }
}
