//! The patrol document: one automerge document per patrol.
//!
//! Layout of the root map:
//! - the facts as scalars, written once when the patrol starts: `id`, `kind` (= `patrol`),
//!   `walker` (the walker's claim as JSON), `place` (JSON), `community`, `started_at`;
//! - `layout`: the document layout that wrote the patrol (absent in first-wave documents,
//!   which are layout 1);
//! - `track`: a list of track chunks (byte strings, see [`super::track`]), only ever appended;
//! - `log`: a list of [`PatrolEvent`]s, each one JSON string, only ever appended.
//!
//! As in the case document, every list element is one immutable scalar, so "append only" is a
//! property of the change ops that the server checks. Every mutation returns the bytes of the
//! change it made, for the store's change log and outbox.

use super::track::{ChunkError, TrackPoint, decode_chunk, encode_chunk};
use super::{PATROL_KIND, PatrolEvent, PatrolFacts};
use crate::document::DocError;
use crate::document::ops::{
    append, element_ids, entries, new_entries, new_positions, scalar_at, str_at, to_json,
};
use automerge::{
    ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
    transaction::Transactable,
};

/// One patrol's automerge document, with typed accessors.
#[derive(Debug)]
pub struct PatrolDoc {
    doc: AutoCommit,
    track: ObjId,
    log: ObjId,
}

crate::document::listed_document!(PatrolDoc, PATROL_KIND, track, log);

impl PatrolDoc {
    /// Makes the document of a new patrol: its facts and empty track and log, as one change.
    pub fn create(actor: &ActorId, facts: &PatrolFacts) -> Result<PatrolDoc, DocError> {
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        doc.put(ROOT, "id", facts.id.as_str())?;
        doc.put(ROOT, "layout", u64::from(crate::case::LAYOUT))?;
        doc.put(ROOT, "kind", PATROL_KIND)?;
        doc.put(ROOT, "walker", to_json(&facts.walker)?)?;
        doc.put(ROOT, "place", to_json(&facts.place)?)?;
        doc.put(ROOT, "community", facts.community.as_str())?;
        doc.put(ROOT, "started_at", facts.started_at)?;
        let track = doc.put_object(ROOT, "track", ObjType::List)?;
        let log = doc.put_object(ROOT, "log", ObjType::List)?;
        doc.commit();
        Ok(PatrolDoc { doc, track, log })
    }

    /// The underlying document, for tests that tamper with it.
    #[cfg(test)]
    pub(crate) fn raw_mut(&mut self) -> (&mut AutoCommit, &ObjId, &ObjId) {
        (&mut self.doc, &self.track, &self.log)
    }

    /// Appends one chunk of fixes and returns the change bytes.
    pub fn append_track(&mut self, points: &[TrackPoint]) -> Result<Vec<u8>, DocError> {
        let chunk = encode_chunk(points).map_err(|e| DocError::Encode(e.to_string()))?;
        append(&mut self.doc, &self.track, ScalarValue::Bytes(chunk))
    }

    /// Appends a log entry and returns the change bytes.
    pub fn append_event(&mut self, event: &PatrolEvent) -> Result<Vec<u8>, DocError> {
        append(&mut self.doc, &self.log, to_json(event)?)
    }

    /// The immutable facts.
    pub fn facts(&self) -> Result<PatrolFacts, DocError> {
        let d = &self.doc;
        let s = |k: &'static str| str_at(d, k).ok_or(DocError::Field(k));
        if s("kind")? != PATROL_KIND {
            return Err(DocError::Field("kind"));
        }
        Ok(PatrolFacts {
            id: s("id")?,
            walker: json_at(d, "walker")?,
            place: json_at(d, "place")?,
            community: s("community")?,
            started_at: match scalar_at(d, "started_at") {
                Some(ScalarValue::Int(t)) => Some(t),
                _ => None,
            }
            .ok_or(DocError::Field("started_at"))?,
        })
    }

    /// The log in document order.
    pub fn events(&self) -> Result<Vec<PatrolEvent>, DocError> {
        entries(&self.doc, &self.log, "patrol event")
    }

    /// The raw track chunks in document order.
    pub fn chunks(&self) -> Result<Vec<Vec<u8>>, DocError> {
        (0..self.doc.length(&self.track))
            .map(|i| self.chunk_at(i))
            .collect()
    }

    fn chunk_at(&self, index: usize) -> Result<Vec<u8>, DocError> {
        match self.doc.get(&self.track, index)? {
            Some((Value::Scalar(v), _)) => match v.as_ref() {
                ScalarValue::Bytes(b) => Ok(b.clone()),
                _ => Err(chunk_error(index, "not a byte string")),
            },
            _ => Err(chunk_error(index, "not a byte string")),
        }
    }

    /// The time of the track's last fix, reading only the last chunk.
    pub fn last_fix_at(&self) -> Result<Option<i64>, DocError> {
        let n = self.doc.length(&self.track);
        if n == 0 {
            return Ok(None);
        }
        let last = self.chunk_at(n - 1)?;
        let points = decode_chunk(&last).map_err(|e| chunk_error(n - 1, &e.to_string()))?;
        Ok(points.last().map(|p| p.at))
    }

    /// Every fix of the track, chunk after chunk.
    pub fn track(&self) -> Result<Vec<TrackPoint>, DocError> {
        let mut out = Vec::new();
        for (index, c) in self.chunks()?.iter().enumerate() {
            out.extend(
                decode_chunk(c).map_err(|e: ChunkError| chunk_error(index, &e.to_string()))?,
            );
        }
        Ok(out)
    }

    /// The append-only lists, by name: `track` and `log`.
    pub(crate) fn lists(&self) -> [(&'static str, ObjId); 2] {
        [("track", self.track.clone()), ("log", self.log.clone())]
    }

    /// The log entries this document holds beyond `before`'s (by element, not by content), in
    /// document order.
    pub fn new_events(&self, before: &PatrolDoc) -> Result<Vec<PatrolEvent>, DocError> {
        let known = element_ids(&before.doc, &before.log);
        new_entries(&self.doc, &self.log, &known, "patrol event")
    }

    /// The positions and bytes of the track chunks this document holds beyond `before`'s.
    pub fn new_chunks(&self, before: &PatrolDoc) -> Result<Vec<(usize, Vec<u8>)>, DocError> {
        let known = element_ids(&before.doc, &before.track);
        new_positions(&self.doc, &self.track, &known)
            .into_iter()
            .map(|i| Ok((i, self.chunk_at(i)?)))
            .collect()
    }

    /// How many track chunks and log entries the document holds.
    pub fn list_lengths(&self) -> (usize, usize) {
        (self.doc.length(&self.track), self.doc.length(&self.log))
    }
}

fn json_at<T: serde::de::DeserializeOwned>(d: &AutoCommit, k: &'static str) -> Result<T, DocError> {
    let text = str_at(d, k).ok_or(DocError::Field(k))?;
    serde_json::from_str(&text).map_err(|_| DocError::Field(k))
}

fn chunk_error(index: usize, message: &str) -> DocError {
    DocError::Entry {
        what: "track chunk",
        index,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Document;
    use crate::patrol::PatrolAction;

    pub(crate) fn facts() -> PatrolFacts {
        crate::testkit::g1_patrol_facts("p1", 1_000)
    }

    #[test]
    fn a_patrol_round_trips_through_its_bytes() {
        let actor = ActorId::random();
        let mut doc = PatrolDoc::create(&actor, &facts()).unwrap();
        let initial = doc.save();
        let pts = vec![
            TrackPoint {
                at: 2_000,
                lon: 121.1,
                lat: 31.1,
                accuracy_m: 5.0,
            },
            TrackPoint {
                at: 7_000,
                lon: 121.10005,
                lat: 31.10004,
                accuracy_m: 6.0,
            },
        ];
        let c1 = doc.append_track(&pts).unwrap();
        let end = PatrolEvent::new(9_000, facts().walker, PatrolAction::Ended);
        let c2 = doc.append_event(&end).unwrap();
        let saved = doc.save();
        let back = PatrolDoc::load(&saved, &ActorId::random()).unwrap();
        assert_eq!(back.facts().unwrap(), facts());
        assert_eq!(back.track().unwrap().len(), 2);
        assert_eq!(back.events().unwrap(), vec![end]);

        // The same document rebuilt from its start plus the two increments.
        let mut other = PatrolDoc::load(&initial, &ActorId::random()).unwrap();
        other.apply(&c1).unwrap();
        other.apply(&c2).unwrap();
        assert_eq!(
            other.canonical_save().unwrap(),
            doc.canonical_save().unwrap()
        );
        assert!(other.apply(b"junk").is_err());
    }

    #[test]
    fn a_case_is_not_a_patrol() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "kind", "problem").unwrap();
        doc.put_object(ROOT, "track", ObjType::List).unwrap();
        doc.put_object(ROOT, "log", ObjType::List).unwrap();
        let p = PatrolDoc::wrap(doc).unwrap();
        assert!(matches!(p.facts(), Err(DocError::Field(_))));
    }

    /// Found by the `automerge` fuzz target (`fuzz/corpus/automerge/`): a track change with two
    /// bytes changed and its checksum recomputed parses, then made automerge panic while
    /// applying it to the patrol.
    #[test]
    fn a_change_automerge_panics_on_is_refused() {
        let base = include_bytes!("testdata/base-patrol.am");
        let change = include_bytes!("testdata/panic-import-ops.am");
        let mut p = PatrolDoc::load(base, &ActorId::random()).unwrap();
        let e = p.apply(change).unwrap_err();
        assert!(e.to_string().contains("automerge could not apply"), "{e}");
    }
}
