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
use crate::document::ops::{
    RootScalars, append, element_ids, entries, new_entries, str_at, to_json,
};
pub use crate::document::{DocError, LAYOUT, RawChange};
use crate::org::LimitClock;
use crate::org::Point;
use automerge::{
    ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, transaction::Transactable,
};

/// One case's automerge document, with typed accessors.
#[derive(Debug)]
pub struct CaseDoc {
    doc: AutoCommit,
    events: ObjId,
    photos: ObjId,
}

crate::document::listed_document!(CaseDoc, "case", events, photos);

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

    /// Appends an event and returns the bytes of the change.
    pub fn append_event(&mut self, event: &Event) -> Result<Vec<u8>, DocError> {
        append(&mut self.doc, &self.events, to_json(event)?)
    }

    /// Appends a photo reference and returns the bytes of the change.
    pub fn add_photo(&mut self, photo: &PhotoRef) -> Result<Vec<u8>, DocError> {
        append(&mut self.doc, &self.photos, to_json(photo)?)
    }

    /// Writes the human case number (the server does this once) as one change. The server
    /// reads the change's bytes with the rest of what it stores, so none are made here.
    pub fn set_number(&mut self, number: &str) -> Result<(), DocError> {
        self.doc.put(ROOT, "number", number)?;
        self.doc.commit();
        Ok(())
    }

    /// The underlying automerge document, for tests that must tamper with it.
    #[cfg(test)]
    pub(crate) fn raw_mut(&mut self) -> (&mut AutoCommit, &ObjId) {
        (&mut self.doc, &self.events)
    }

    /// The human case number, once the server has assigned it.
    pub fn number(&self) -> Option<String> {
        str_at(&self.doc, "number")
    }

    /// The immutable facts.
    pub fn facts(&self) -> Result<Facts, DocError> {
        let d = RootScalars::read(&self.doc);
        let s = |k: &'static str| d.str(k).ok_or(DocError::Field(k));
        Ok(Facts {
            id: s("id")?,
            kind: CaseKind::parse(&s("kind")?).ok_or(DocError::Field("kind"))?,
            category: s("category")?,
            category_name: s("category_name")?,
            limit_hours: match d.scalar("limit_hours") {
                Some(ScalarValue::Uint(h)) => u32::try_from(*h).ok(),
                Some(ScalarValue::Int(h)) => u32::try_from(*h).ok(),
                _ => None,
            }
            .ok_or(DocError::Field("limit_hours"))?,
            clock: match d.scalar("clock") {
                None => None,
                Some(ScalarValue::Str(c)) => {
                    Some(LimitClock::parse(c).ok_or(DocError::Field("clock"))?)
                }
                Some(_) => return Err(DocError::Field("clock")),
            },
            reporter: s("reporter")?,
            created_at: match d.scalar("created_at") {
                Some(ScalarValue::Int(t)) => Some(*t),
                _ => None,
            }
            .ok_or(DocError::Field("created_at"))?,
            deadline: match d.scalar("deadline") {
                None => None,
                Some(ScalarValue::Int(t)) => Some(*t),
                Some(_) => return Err(DocError::Field("deadline")),
            },
            location: Point {
                lon: d.f64("lon").ok_or(DocError::Field("lon"))?,
                lat: d.f64("lat").ok_or(DocError::Field("lat"))?,
            },
            grid: s("grid")?,
            community: s("community")?,
            segment: d.str("segment"),
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
