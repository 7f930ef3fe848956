//! The lines of `cases.jsonl` and `patrols.jsonl`: a stored document read and folded, or an
//! error line when it cannot be read (see `docs/EXPORT.md` for the fields).

use super::photos::PhotoUse;
use crate::storage::StoredCase;
use serde::Serialize;
use xiangying_model::case::{
    Assignee, Author, CaseDoc, DocError, Facts, Outcome, PhotoRef, Status, fold as fold_case,
};
use xiangying_model::document::Document;
use xiangying_model::org::Level;
use xiangying_model::patrol::{Companion, PatrolDoc, PatrolFacts, TrackPoint, fold_patrol};
use xiangying_model::sync::synced::SyncedDoc;

/// Which file a document's line goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// `cases.jsonl` (also documents that cannot be loaded at all).
    Case,
    /// `patrols.jsonl`.
    Patrol,
}

/// A document's line.
pub(super) struct DocLine {
    /// The file it goes to.
    pub(super) target: Target,
    /// The JSON text, without the line end.
    pub(super) text: String,
    /// How many events (or log entries) it holds.
    pub(super) events: u64,
    /// True for an error line.
    pub(super) unreadable: bool,
}

/// A document's line: its content, or an error line when it cannot be read. The photo uses
/// of a case are added to `refs` whenever its photo list is readable, even when the rest is
/// not, so that its photos are exported all the same.
pub(super) fn document_line(stored: &StoredCase, now: i64, refs: &mut Vec<PhotoUse>) -> DocLine {
    // Read only: nothing is ever written with this actor.
    let actor = automerge::ActorId::from(b"xiangying-export".to_vec());
    let id = stored.case_id.as_str();
    let mut error = ErrorLine {
        id,
        document: None,
        number: None,
        feed_pos: stored.row.feed_pos,
        error: String::new(),
        facts: None,
        photos: None,
    };
    let doc = match SyncedDoc::load(&stored.row.snapshot, &actor) {
        Ok(doc) => doc,
        Err(e) => {
            error.error = e.to_string();
            return error.into_line(Target::Case);
        }
    };
    if let Some(doc) = doc.downcast_ref::<CaseDoc>() {
        let photos = doc.photos();
        if let Ok(photos) = &photos {
            refs.extend(photo_uses(id, photos));
        }
        return match case_line(id, error.feed_pos, doc, photos, now) {
            Ok((text, events)) => DocLine {
                target: Target::Case,
                text,
                events,
                unreadable: false,
            },
            Err(e) => {
                error.error = e;
                error.document = Some("case");
                error.number = doc.number();
                error.facts = doc.facts().ok().and_then(|f| serde_json::to_value(f).ok());
                error.photos = doc.photos().ok();
                error.into_line(Target::Case)
            }
        };
    }
    if let Some(doc) = doc.downcast_ref::<PatrolDoc>() {
        return match patrol_line(id, error.feed_pos, doc) {
            Ok((text, events)) => DocLine {
                target: Target::Patrol,
                text,
                events,
                unreadable: false,
            },
            Err(e) => {
                error.error = e;
                error.document = Some("patrol");
                error.facts = doc.facts().ok().and_then(|f| serde_json::to_value(f).ok());
                error.into_line(Target::Patrol)
            }
        };
    }
    // A kind this export does not write (registered by a newer build): named, not lost.
    error.error = format!(
        "a document of kind `{}`, which this export does not write",
        doc.kind()
    );
    error.into_line(Target::Case)
}

/// The line of a document that cannot be read whole: what could be read, and why not.
#[derive(Serialize)]
struct ErrorLine<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<String>,
    feed_pos: u64,
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    facts: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    photos: Option<Vec<PhotoRef>>,
}

impl ErrorLine<'_> {
    fn into_line(self, target: Target) -> DocLine {
        // Serialising strings, numbers and JSON values cannot fail; keep a line even if it did.
        let text = serde_json::to_string(&self).unwrap_or_else(|_| {
            serde_json::json!({"id": self.id, "error": self.error}).to_string()
        });
        DocLine {
            target,
            text,
            events: 0,
            unreadable: true,
        }
    }
}

/// Every file a case's photos use: each photo and its thumbnail.
fn photo_uses(case: &str, photos: &[PhotoRef]) -> Vec<PhotoUse> {
    let mut uses = Vec::with_capacity(photos.len() * 2);
    for p in photos {
        for (file, role) in [(&p.hash, "photo"), (&p.thumb, "thumbnail")] {
            uses.push(PhotoUse {
                case: case.to_string(),
                role,
                photo: p.hash.clone(),
                stage: p.stage.as_str().to_string(),
                added_by: p.added_by.clone(),
                added_at: p.added_at,
                file: file.clone(),
            });
        }
    }
    uses
}

/// An event or log entry: the action's type beside its payload, and the fold's outcome.
#[derive(Serialize)]
struct EventOut<'a> {
    id: &'a str,
    at: i64,
    by: &'a Author,
    #[serde(rename = "type")]
    kind: String,
    payload: serde_json::Value,
    #[serde(flatten)]
    outcome: &'a Outcome,
}

/// Splits an action serialised with its `type` tag into the type and the rest.
fn split_action<A: Serialize>(action: &A) -> Result<(String, serde_json::Value), String> {
    let mut v = serde_json::to_value(action).map_err(|e| format!("action: {e}"))?;
    let kind = match v.as_object_mut().and_then(|m| m.remove("type")) {
        Some(serde_json::Value::String(s)) => s,
        _ => return Err("action without a type".into()),
    };
    Ok((kind, v))
}

#[derive(Serialize)]
struct CaseStateOut<'a> {
    status: Status,
    level: Level,
    assignee: &'a Option<Assignee>,
    deadline: i64,
    overdue: bool,
    handled_on_spot: bool,
    resolved_by: &'a Option<String>,
    resolved_at: Option<i64>,
    closed_at: Option<i64>,
    holders: &'a [String],
    claimed_by: &'a Option<String>,
    duplicate_of: &'a Option<String>,
    reworks: u32,
    extensions: u32,
    updated_at: i64,
}

#[derive(Serialize)]
struct CaseLine<'a> {
    id: &'a str,
    number: Option<String>,
    feed_pos: u64,
    facts: &'a Facts,
    state: CaseStateOut<'a>,
    events: Vec<EventOut<'a>>,
    photos: &'a [PhotoRef],
}

/// A readable case's line and its number of events; `photos` is its photo list, read already.
fn case_line(
    id: &str,
    feed_pos: u64,
    doc: &CaseDoc,
    photos: Result<Vec<PhotoRef>, DocError>,
    now: i64,
) -> Result<(String, u64), String> {
    let facts = doc.facts().map_err(|e| e.to_string())?;
    let events = doc.events().map_err(|e| e.to_string())?;
    let photos = photos.map_err(|e| e.to_string())?;
    let state = fold_case(&facts, &events);
    let mut out = Vec::with_capacity(state.history.len());
    for f in &state.history {
        let (kind, payload) = split_action(&f.event.action)?;
        out.push(EventOut {
            id: &f.event.id,
            at: f.event.at,
            by: &f.event.by,
            kind,
            payload,
            outcome: &f.outcome,
        });
    }
    let line = CaseLine {
        id,
        number: doc.number(),
        feed_pos,
        facts: &facts,
        state: CaseStateOut {
            status: state.status,
            level: state.level,
            assignee: &state.assignee,
            deadline: state.deadline,
            overdue: state.is_overdue(now),
            handled_on_spot: state.handled_on_spot,
            resolved_by: &state.resolved_by,
            resolved_at: state.resolved_at,
            closed_at: state.closed_at,
            holders: &state.holders,
            claimed_by: &state.claimed_by,
            duplicate_of: &state.duplicate_of,
            reworks: state.reworks,
            extensions: state.extensions,
            updated_at: state.updated_at,
        },
        events: out,
        photos: &photos,
    };
    let text = serde_json::to_string(&line).map_err(|e| e.to_string())?;
    Ok((text, events.len() as u64))
}

#[derive(Serialize)]
struct PatrolStateOut<'a> {
    ended_at: Option<i64>,
    voided: &'a Option<String>,
    companions: &'a [Companion],
    points: u32,
    distance_m: f64,
    last_fix_at: Option<i64>,
    duration_ms: i64,
}

#[derive(Serialize)]
struct PatrolLine<'a> {
    id: &'a str,
    feed_pos: u64,
    facts: &'a PatrolFacts,
    state: PatrolStateOut<'a>,
    events: Vec<EventOut<'a>>,
    track: &'a [TrackPoint],
}

fn patrol_line(id: &str, feed_pos: u64, doc: &PatrolDoc) -> Result<(String, u64), String> {
    let facts = doc.facts().map_err(|e| e.to_string())?;
    let events = doc.events().map_err(|e| e.to_string())?;
    let track = doc.track().map_err(|e| e.to_string())?;
    let state = fold_patrol(&facts, &events, &track);
    let mut out = Vec::with_capacity(state.history.len());
    for (event, outcome) in &state.history {
        let (kind, payload) = split_action(&event.action)?;
        out.push(EventOut {
            id: &event.id,
            at: event.at,
            by: &event.by,
            kind,
            payload,
            outcome,
        });
    }
    let line = PatrolLine {
        id,
        feed_pos,
        facts: &facts,
        state: PatrolStateOut {
            ended_at: state.ended_at,
            voided: &state.voided,
            companions: &state.companions,
            points: state.points,
            distance_m: state.distance_m,
            last_fix_at: state.last_fix_at,
            duration_ms: state.duration_ms(&facts),
        },
        events: out,
        track: &track,
    };
    let text = serde_json::to_string(&line).map_err(|e| e.to_string())?;
    Ok((text, events.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use xiangying_model::case::Action;

    #[test]
    fn an_action_splits_into_its_type_and_payload() {
        let (kind, payload) = split_action(&Action::Verified { note: "好".into() }).unwrap();
        assert_eq!(kind, "verified");
        assert_eq!(payload, serde_json::json!({"note": "好"}));
    }
}
