//! The case document: one automerge document per case.
//!
//! Layout of the root map:
//! - the facts as scalars: `id`, `kind`, `category`, `category_name`, `limit_hours`, `clock`
//!   (`working` or `natural`), `reporter`, `created_at`, `deadline` (ms), `lon`, `lat`, `grid`,
//!   `community`, `segment` (absent when none), `description`; written once, when the case is
//!   raised (`clock` and `deadline` are absent in documents made before they were recorded);
//! - `layout`: the document layout that wrote the case (an integer, see
//!   [`LAYOUT`]); absent in first-wave documents, which are layout 1;
//! - `number`: the human case number, written by the server on first sight;
//! - `photos`: a list of photo references, each one JSON string, only ever appended;
//! - `events`: the history, a list of events, each one JSON string, only ever appended.
//!
//! An event or photo reference is a single immutable scalar so that "append only" is a plain
//! property of the change ops (inserts into a list, never puts on existing elements), which the
//! server can check. Every mutation returns the bytes of the change it made, for the store's
//! change log and outbox.
//!
//! Root keys this build does not know (a newer layout wrote them) are kept as they are: no
//! device ever rewrites them, and they travel with the document's changes.

use super::event::Event;
use super::facts::{CaseKind, Facts, PhotoRef};
use crate::org::LimitClock;
use crate::org::Point;
use automerge::{
    ActorId, AutoCommit, AutomergeError, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue,
    Value, transaction::Transactable,
};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The document layout this build writes and fully understands: the MINOR of the protocol
/// version ([`crate::sync::version`] re-exports it), recorded under `layout` in every case and
/// patrol document this build makes.
pub const LAYOUT: u32 = 2;

/// What is wrong with a case document.
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
    /// The change chunk.
    pub bytes: Vec<u8>,
}

/// One case's automerge document, with typed accessors.
#[derive(Debug)]
pub struct CaseDoc {
    doc: AutoCommit,
    events: ObjId,
    photos: ObjId,
}

impl CaseDoc {
    /// Makes the document of a new case: its facts and its first event, as one change.
    pub fn create(actor: &ActorId, facts: &Facts, first: &Event) -> Result<CaseDoc, DocError> {
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        doc.put(ROOT, "id", facts.id.as_str())?;
        doc.put(ROOT, "layout", u64::from(LAYOUT))?;
        doc.put(ROOT, "kind", facts.kind.as_str())?;
        doc.put(ROOT, "category", facts.category.as_str())?;
        doc.put(ROOT, "category_name", facts.category_name.as_str())?;
        doc.put(ROOT, "limit_hours", u64::from(facts.limit_hours))?;
        if let Some(clock) = facts.clock {
            doc.put(ROOT, "clock", clock.as_str())?;
        }
        doc.put(ROOT, "reporter", facts.reporter.as_str())?;
        doc.put(ROOT, "created_at", facts.created_at)?;
        if let Some(deadline) = facts.deadline {
            doc.put(ROOT, "deadline", deadline)?;
        }
        doc.put(ROOT, "lon", facts.location.lon)?;
        doc.put(ROOT, "lat", facts.location.lat)?;
        doc.put(ROOT, "grid", facts.grid.as_str())?;
        doc.put(ROOT, "community", facts.community.as_str())?;
        if let Some(seg) = &facts.segment {
            doc.put(ROOT, "segment", seg.as_str())?;
        }
        doc.put(ROOT, "description", facts.description.as_str())?;
        let photos = doc.put_object(ROOT, "photos", ObjType::List)?;
        let events = doc.put_object(ROOT, "events", ObjType::List)?;
        doc.insert(&events, 0, to_json(first)?)?;
        doc.commit();
        Ok(CaseDoc {
            doc,
            events,
            photos,
        })
    }

    /// Loads a document from a saved snapshot, or from any concatenation of saved documents and
    /// changes; new changes will carry `actor`.
    pub fn load(bytes: &[u8], actor: &ActorId) -> Result<CaseDoc, DocError> {
        let doc = AutoCommit::load(bytes)?.with_actor(actor.clone());
        CaseDoc::wrap(doc)
    }

    /// Builds a document from bytes received from elsewhere (a whole document or changes).
    pub fn from_remote(bytes: &[u8], actor: &ActorId) -> Result<CaseDoc, DocError> {
        check_bytes(bytes)?;
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        load_received(&mut doc, bytes)?;
        CaseDoc::wrap(doc)
    }

    /// Wraps an automerge document that has the case layout.
    pub(crate) fn wrap(doc: AutoCommit) -> Result<CaseDoc, DocError> {
        let events = list_id(&doc, "events")?;
        let photos = list_id(&doc, "photos")?;
        Ok(CaseDoc {
            doc,
            events,
            photos,
        })
    }

    /// Applies saved changes or documents received from elsewhere. Unknown changes are added,
    /// known ones ignored.
    pub fn apply(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        check_bytes(bytes)?;
        self.apply_checked(bytes)
    }

    /// Like [`CaseDoc::apply`] for received bytes that [`super::chunks::check`] has already
    /// passed (the server checks a push before taking any lock).
    pub fn apply_checked(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        load_received(&mut self.doc, bytes)?;
        self.relist()
    }

    /// Like [`CaseDoc::apply`] for bytes this device stored itself, already checked once.
    pub fn apply_trusted(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        load_incremental(&mut self.doc, bytes)?;
        self.relist()
    }

    /// A document that arrived as changes only now has its lists.
    fn relist(&mut self) -> Result<(), DocError> {
        self.events = list_id(&self.doc, "events")?;
        self.photos = list_id(&self.doc, "photos")?;
        Ok(())
    }

    /// The current heads.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The hashes of changes that arrived changes depend on but that have not arrived yet.
    pub fn missing_deps(&mut self) -> Vec<ChangeHash> {
        self.doc.get_missing_deps(&[])
    }

    /// The whole document, compacted.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The document saved from its changes applied in a canonical order (dependencies first,
    /// ties broken by hash): byte-identical on every replica that holds the same changes,
    /// whatever order they arrived in. (A plain [`CaseDoc::save`] keeps arrival order.)
    pub fn canonical_save(&mut self) -> Result<Vec<u8>, DocError> {
        canonical_save(&mut self.doc)
    }

    /// The changes not reachable from `heads` (all of them for empty heads), in causal order,
    /// each with its author actor and its raw bytes.
    pub fn changes_since(&mut self, heads: &[ChangeHash]) -> Vec<RawChange> {
        changes_since(&mut self.doc, heads)
    }

    /// The automerge document, for code shared by every synced document kind.
    pub(crate) fn automerge(&self) -> &AutoCommit {
        &self.doc
    }

    /// The automerge document, mutable, for code shared by every synced document kind.
    pub(crate) fn automerge_mut(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    /// The changes made since `heads`, as bytes [`CaseDoc::apply`] accepts.
    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// Appends an event and returns the bytes of the change.
    pub fn append_event(&mut self, event: &Event) -> Result<Vec<u8>, DocError> {
        let heads = self.doc.get_heads();
        let n = self.doc.length(&self.events);
        self.doc.insert(&self.events, n, to_json(event)?)?;
        self.doc.commit();
        Ok(self.doc.save_after(&heads))
    }

    /// Appends a photo reference and returns the bytes of the change.
    pub fn add_photo(&mut self, photo: &PhotoRef) -> Result<Vec<u8>, DocError> {
        let heads = self.doc.get_heads();
        let n = self.doc.length(&self.photos);
        self.doc.insert(&self.photos, n, to_json(photo)?)?;
        self.doc.commit();
        Ok(self.doc.save_after(&heads))
    }

    /// Writes the human case number (the server does this once) and returns the change bytes.
    pub fn set_number(&mut self, number: &str) -> Result<Vec<u8>, DocError> {
        let heads = self.doc.get_heads();
        self.doc.put(ROOT, "number", number)?;
        self.doc.commit();
        Ok(self.doc.save_after(&heads))
    }

    /// The underlying automerge document, for tests that must tamper with it.
    #[cfg(test)]
    pub(crate) fn raw_mut(&mut self) -> (&mut AutoCommit, &ObjId) {
        (&mut self.doc, &self.events)
    }

    /// A copy of the document at its current state, writing with `actor` from now on.
    pub fn fork(&mut self, actor: &ActorId) -> Result<CaseDoc, DocError> {
        CaseDoc::wrap(self.doc.fork().with_actor(actor.clone()))
    }

    /// The keys of the root map.
    pub fn root_keys(&self) -> Vec<String> {
        self.doc.keys(ROOT).collect()
    }

    /// The layout that wrote the document: its `layout` key, 1 when absent (first-wave
    /// documents). See [`layout_at`].
    pub fn layout(&self) -> Result<u64, DocError> {
        layout_at(&self.doc)
    }

    /// Puts a scalar under a root key and returns the change bytes: what a device of a newer
    /// layout writes under a key this build does not know (the mixed-version tests play one).
    #[cfg(any(test, feature = "test-hooks"))]
    pub fn put_root_scalar(&mut self, key: &str, value: ScalarValue) -> Result<Vec<u8>, DocError> {
        put_root_scalar(&mut self.doc, key, value)
    }

    /// The human case number, once the server has assigned it.
    pub fn number(&self) -> Option<String> {
        str_at(&self.doc, "number")
    }

    /// The immutable facts.
    pub fn facts(&self) -> Result<Facts, DocError> {
        let d = &self.doc;
        let s = |k: &'static str| str_at(d, k).ok_or(DocError::Field(k));
        Ok(Facts {
            id: s("id")?,
            kind: CaseKind::parse(&s("kind")?).ok_or(DocError::Field("kind"))?,
            category: s("category")?,
            category_name: s("category_name")?,
            limit_hours: match scalar_at(d, "limit_hours") {
                Some(ScalarValue::Uint(h)) => u32::try_from(h).ok(),
                Some(ScalarValue::Int(h)) => u32::try_from(h).ok(),
                _ => None,
            }
            .ok_or(DocError::Field("limit_hours"))?,
            clock: match scalar_at(d, "clock") {
                None => None,
                Some(ScalarValue::Str(c)) => {
                    Some(LimitClock::parse(&c).ok_or(DocError::Field("clock"))?)
                }
                Some(_) => return Err(DocError::Field("clock")),
            },
            reporter: s("reporter")?,
            created_at: match scalar_at(d, "created_at") {
                Some(ScalarValue::Int(t)) => Some(t),
                _ => None,
            }
            .ok_or(DocError::Field("created_at"))?,
            deadline: match scalar_at(d, "deadline") {
                None => None,
                Some(ScalarValue::Int(t)) => Some(t),
                Some(_) => return Err(DocError::Field("deadline")),
            },
            location: Point {
                lon: f64_at(d, "lon").ok_or(DocError::Field("lon"))?,
                lat: f64_at(d, "lat").ok_or(DocError::Field("lat"))?,
            },
            grid: s("grid")?,
            community: s("community")?,
            segment: str_at(d, "segment"),
            description: s("description")?,
        })
    }

    /// The events in document order.
    pub fn events(&self) -> Result<Vec<Event>, DocError> {
        entries(&self.doc, &self.events, "event")
    }

    /// The photo references in document order.
    pub fn photos(&self) -> Result<Vec<PhotoRef>, DocError> {
        entries(&self.doc, &self.photos, "photo")
    }

    /// The append-only lists, by name: `events` and `photos`.
    pub(crate) fn lists(&self) -> [(&'static str, ObjId); 2] {
        [
            ("events", self.events.clone()),
            ("photos", self.photos.clone()),
        ]
    }

    /// The events this document holds beyond `before`'s (by element, not by content), in
    /// document order.
    pub fn new_events(&self, before: &CaseDoc) -> Result<Vec<Event>, DocError> {
        let known = element_ids(&before.doc, &before.events);
        new_entries(&self.doc, &self.events, &known, "event")
    }

    /// The photo references this document holds beyond `before`'s, in document order.
    pub fn new_photos(&self, before: &CaseDoc) -> Result<Vec<PhotoRef>, DocError> {
        let known = element_ids(&before.doc, &before.photos);
        new_entries(&self.doc, &self.photos, &known, "photo")
    }

    /// How many events and photo references the document holds.
    pub fn list_lengths(&self) -> (usize, usize) {
        (self.doc.length(&self.events), self.doc.length(&self.photos))
    }
}

/// A document saved from its changes applied in a canonical order (dependencies first, ties
/// broken by hash): byte-identical on every replica holding the same changes.
pub(crate) fn canonical_save(doc: &mut AutoCommit) -> Result<Vec<u8>, DocError> {
    let changes = doc.get_changes(&[]);
    let known: HashSet<ChangeHash> = changes.iter().map(|c| c.hash()).collect();
    let mut waiting: HashMap<ChangeHash, usize> = HashMap::new();
    let mut dependents: HashMap<ChangeHash, Vec<ChangeHash>> = HashMap::new();
    let mut by_hash = HashMap::new();
    for c in changes {
        let deps: Vec<_> = c
            .deps()
            .iter()
            .filter(|d| known.contains(d))
            .copied()
            .collect();
        waiting.insert(c.hash(), deps.len());
        for d in deps {
            dependents.entry(d).or_default().push(c.hash());
        }
        by_hash.insert(c.hash(), c);
    }
    let mut ready: BTreeSet<ChangeHash> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(h, _)| *h)
        .collect();
    let mut ordered = Vec::with_capacity(by_hash.len());
    while let Some(h) = ready.pop_first() {
        for d in dependents.remove(&h).unwrap_or_default() {
            if let Some(n) = waiting.get_mut(&d) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(d);
                }
            }
        }
        if let Some(c) = by_hash.remove(&h) {
            ordered.push(c);
        }
    }
    let mut fresh = AutoCommit::new();
    fresh.apply_changes(ordered)?;
    Ok(fresh.save())
}

/// The changes of `doc` not reachable from `heads`, in causal order, with their actors.
pub(crate) fn changes_since(doc: &mut AutoCommit, heads: &[ChangeHash]) -> Vec<RawChange> {
    doc.get_changes(heads)
        .into_iter()
        .map(|mut c| RawChange {
            actor: c.actor_id().clone(),
            bytes: c.bytes().to_vec(),
        })
        .collect()
}

/// automerge's incremental load, with a panic inside automerge (found by fuzzing: automerge
/// 0.12 panics on some crafted changes that parse) turned into an error. After an error the
/// document may hold part of the bytes: callers drop it (the server works on a fork).
pub(crate) fn load_incremental(doc: &mut AutoCommit, bytes: &[u8]) -> Result<(), DocError> {
    no_panic(|| doc.load_incremental(bytes).map(drop))
}

/// [`load_incremental`] for bytes received from elsewhere, then the new changes read back once
/// (as the server does next): automerge 0.12 can take in crafted changes that it panics on
/// when reading them back (found by fuzzing). Panics are errors; after an error the document
/// may hold part of the bytes: callers drop it.
pub(crate) fn load_received(doc: &mut AutoCommit, bytes: &[u8]) -> Result<(), DocError> {
    let heads = doc.get_heads();
    no_panic(|| {
        doc.load_incremental(bytes)?;
        doc.get_changes(&heads);
        Ok(())
    })
}

fn no_panic(f: impl FnOnce() -> Result<(), AutomergeError>) -> Result<(), DocError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(loaded) => loaded.map_err(DocError::from),
        Err(_) => Err(DocError::Bytes(
            "automerge could not apply the changes".into(),
        )),
    }
}

pub(crate) fn check_bytes(bytes: &[u8]) -> Result<(), DocError> {
    super::chunks::check(bytes).map_err(DocError::Bytes)
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, DocError> {
    serde_json::to_string(value).map_err(|e| DocError::Encode(e.to_string()))
}

pub(crate) fn list_id(doc: &AutoCommit, key: &'static str) -> Result<ObjId, DocError> {
    match doc.get(ROOT, key)? {
        Some((Value::Object(ObjType::List), id)) => Ok(id),
        _ => Err(DocError::Field(key)),
    }
}

/// The `layout` root key of a synced document: 1 when absent (first-wave documents), else a
/// positive integer.
pub(crate) fn layout_at(doc: &AutoCommit) -> Result<u64, DocError> {
    match doc.get(ROOT, "layout")? {
        None => Ok(1),
        Some((Value::Scalar(v), _)) => match v.as_ref() {
            ScalarValue::Uint(n) if *n >= 1 => Ok(*n),
            ScalarValue::Int(n) if *n >= 1 => Ok(n.unsigned_abs()),
            _ => Err(DocError::Field("layout")),
        },
        Some(_) => Err(DocError::Field("layout")),
    }
}

/// Puts a scalar under a root key as one change and returns its bytes.
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) fn put_root_scalar(
    doc: &mut AutoCommit,
    key: &str,
    value: ScalarValue,
) -> Result<Vec<u8>, DocError> {
    let heads = doc.get_heads();
    doc.put(ROOT, key, value)?;
    doc.commit();
    Ok(doc.save_after(&heads))
}

pub(crate) fn scalar_at(doc: &AutoCommit, key: &str) -> Option<ScalarValue> {
    match doc.get(ROOT, key) {
        Ok(Some((Value::Scalar(v), _))) => Some(v.into_owned()),
        _ => None,
    }
}

pub(crate) fn str_at(doc: &AutoCommit, key: &str) -> Option<String> {
    match scalar_at(doc, key) {
        Some(ScalarValue::Str(s)) => Some(s.to_string()),
        _ => None,
    }
}

pub(crate) fn f64_at(doc: &AutoCommit, key: &str) -> Option<f64> {
    match scalar_at(doc, key) {
        Some(ScalarValue::F64(f)) => Some(f),
        _ => None,
    }
}

pub(crate) fn entries<T: serde::de::DeserializeOwned>(
    doc: &AutoCommit,
    list: &ObjId,
    what: &'static str,
) -> Result<Vec<T>, DocError> {
    (0..doc.length(list))
        .map(|index| entry_at(doc, list, index, what))
        .collect()
}

/// The element at `index` of a list of JSON strings, parsed.
fn entry_at<T: serde::de::DeserializeOwned>(
    doc: &AutoCommit,
    list: &ObjId,
    index: usize,
    what: &'static str,
) -> Result<T, DocError> {
    let text = match doc.get(list, index)? {
        Some((Value::Scalar(v), _)) => match v.as_ref() {
            ScalarValue::Str(s) => s.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    serde_json::from_str(&text).map_err(|e| DocError::Entry {
        what,
        index,
        message: e.to_string(),
    })
}

/// The ids of a list's elements (the ops that inserted them).
pub(crate) fn element_ids(doc: &AutoCommit, list: &ObjId) -> HashSet<ObjId> {
    doc.list_range(list, ..).map(|item| item.id()).collect()
}

/// The positions of a list's elements that are not among `known`, in document order.
pub(crate) fn new_positions(doc: &AutoCommit, list: &ObjId, known: &HashSet<ObjId>) -> Vec<usize> {
    doc.list_range(list, ..)
        .filter(|item| !known.contains(&item.id()))
        .map(|item| item.index)
        .collect()
}

/// The entries of a list of JSON strings that are not among `known`, in document order.
pub(crate) fn new_entries<T: serde::de::DeserializeOwned>(
    doc: &AutoCommit,
    list: &ObjId,
    known: &HashSet<ObjId>,
    what: &'static str,
) -> Result<Vec<T>, DocError> {
    new_positions(doc, list, known)
        .into_iter()
        .map(|index| entry_at(doc, list, index, what))
        .collect()
}
