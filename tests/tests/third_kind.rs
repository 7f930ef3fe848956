//! A third kind of synced document, added in one module and registered: a community chief's
//! notice to a grid, which the grid's workers acknowledge. It syncs end to end through the
//! real server and real device stores, on the same path as cases and patrols, and the server
//! judges it like them (docs/decisions/0026-document-kinds.md).

use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, transaction::Transactable};
use xiangying_core::document::ops::{entries, list_id, str_at, to_json};
use xiangying_core::document::{DocError, Document};
use xiangying_core::sync::judge::{Tamper, only_appends, root_keys};
use xiangying_core::sync::keys::AccessKey::{Grid, Person};
use xiangying_core::sync::kind::{Accepted, Host, IndexRow, ListBound, Refused, SyncedKind};
use xiangying_core::sync::synced::register;
use xiangying_tests::{Field, sample_org};

const KEYS: &[&str] = &["id", "layout", "kind", "author", "grid", "text", "acks"];

/// A notice: facts written once, acknowledgements only appended.
struct Notice {
    doc: AutoCommit,
    acks: ObjId,
}

impl Notice {
    fn create(actor: &ActorId, id: &str, author: &str, grid: &str, text: &str) -> Notice {
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        let facts = [("id", id), ("kind", "notice"), ("author", author)];
        for (k, v) in facts.into_iter().chain([("grid", grid), ("text", text)]) {
            doc.put(ROOT, k, v).unwrap();
        }
        let acks = doc.put_object(ROOT, "acks", ObjType::List).unwrap();
        doc.commit();
        Notice { doc, acks }
    }
    fn fact(&self, key: &'static str) -> Result<String, Refused> {
        str_at(&self.doc, key).ok_or_else(|| Refused::malformed(DocError::Field(key)))
    }
    /// Appends `person`'s acknowledgement; returns the change bytes.
    fn acknowledge(&mut self, person: &str) -> Vec<u8> {
        let heads = self.doc.get_heads();
        let (n, entry) = (self.doc.length(&self.acks), to_json(&person).unwrap());
        self.doc.insert(&self.acks, n, entry).unwrap();
        self.doc.commit();
        self.doc.save_after(&heads)
    }
    fn acks(&self) -> Vec<String> {
        entries(&self.doc, &self.acks, "acknowledgement").unwrap()
    }
}

impl Document for Notice {
    const KIND: &'static str = "notice";
    fn wrap(doc: AutoCommit) -> Result<Notice, DocError> {
        let acks = list_id(&doc, "acks")?;
        Ok(Notice { doc, acks })
    }
    fn automerge(&self) -> &AutoCommit {
        &self.doc
    }
    fn automerge_mut(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }
    fn refresh(&mut self) -> Result<(), DocError> {
        self.acks = list_id(&self.doc, "acks")?;
        Ok(())
    }
}

impl SyncedKind for Notice {
    fn recognises(kind: Option<&str>) -> bool {
        kind == Some("notice")
    }
    fn list_lengths(&self) -> Vec<(ListBound, usize)> {
        vec![(ListBound::Entries, self.doc.length(&self.acks))]
    }
    fn accept(
        before: Option<&mut Notice>,
        after: &mut Notice,
        host: &mut dyn Host,
    ) -> Result<Accepted, Refused> {
        let (judging, old) = (host.judging(), before.as_deref().map(|b| &b.doc));
        root_keys(old, &after.doc, KEYS, &judging)?;
        let (author, grid) = (after.fact("author")?, after.fact("grid")?);
        match before {
            None if author != judging.pusher => Err(Tamper::ForgedReporter {
                reporter: author.clone(),
                pusher: judging.pusher.to_string(),
            })?,
            None => {}
            Some(b) => {
                for key in ["author", "grid", "text"] {
                    if b.fact(key).ok() != after.fact(key).ok() {
                        Err(Tamper::FactChanged(key))?;
                    }
                }
                let heads = b.doc.get_heads();
                let lists = [("acks", b.acks.clone())];
                only_appends(&mut after.doc, &heads, &lists, KEYS, &judging)?;
            }
        }
        let status = format!("{} acknowledged", after.acks().len());
        let keys = vec![Grid(grid.clone()), Person(author.clone())];
        Ok(Accepted {
            index: IndexRow {
                status,
                grid,
                ..IndexRow::of_kind("notice", &author, host.now())
            },
            access: keys,
            photos: Vec::new(),
            case: None,
        })
    }
}

#[test]
fn a_third_kind_of_document_syncs_end_to_end() {
    register::<Notice>();
    let mut f = Field::new(sample_org());
    for p in ["cc1", "gw1", "gw2"] {
        f.enrol(p);
    }
    let id = uuid::Uuid::now_v7().to_string();
    let mut notice = Notice::create(f.dev("cc1").actor(), &id, "cc1", "g1", "清理楼道杂物");
    f.dev("cc1").add_document(&mut notice).unwrap();
    f.sync_all();

    // The grid's worker holds it and acknowledges it; the other grid's worker never sees it.
    let mut held = f.dev("gw1").document(&id).unwrap();
    let held = held.downcast_mut::<Notice>().expect("a notice");
    assert_eq!(held.fact("text").unwrap(), "清理楼道杂物");
    let ack = held.acknowledge("gw1");
    f.dev("gw1").change_document(&id, &ack).unwrap();
    assert!(f.dev("gw2").document(&id).is_err());
    f.sync_all();
    f.sync_all();
    let back = f.dev("cc1").document(&id).unwrap();
    assert_eq!(back.downcast_ref::<Notice>().unwrap().acks(), ["gw1"]);
    let canonical = |p: &str| f.dev(p).canonical_case(&id).unwrap();
    assert_eq!(canonical("cc1"), canonical("gw1"));

    // The server judges it like any kind: rewriting a fact is tampering, refused.
    let mut forged = f.dev("gw1").document(&id).unwrap();
    let (heads, am) = (forged.heads(), forged.automerge_mut());
    am.put(ROOT, "text", "改过的通知").unwrap();
    let bytes = forged.save_after(&heads);
    let (status, body) = xiangying_tests::push_raw(&f, "gw1", &id, bytes);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("changes the fact `text`"), "{body}");
}
