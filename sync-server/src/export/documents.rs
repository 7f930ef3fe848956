//! The lines of `cases.jsonl` and `patrols.jsonl`: a stored document read and folded, or an
//! error line when it cannot be read (see `docs/EXPORT.md` for the fields).

use super::photos::PhotoUse;
use crate::storage::StoredCase;
use serde::Serialize;
use xiangying_core::case::{
    Assignee, Author, CaseDoc, Facts, Outcome, PhotoRef, Status, fold as fold_case,
};
use xiangying_core::org::Level;
use xiangying_core::patrol::{Companion, PatrolDoc, PatrolFacts, TrackPoint, fold_patrol};
use xiangying_core::sync::synced::SyncedDoc;

/// Which file a document's line goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Case,
    Patrol,
}

/// A document's line.
pub(super) struct DocLine {
    pub(super) target: Target,
    pub(super) text: String,
    pub(super) events: u64,
    pub(super) unreadable: bool,
}

/// A document's line: its content, or an error line when it cannot be read. Photo uses of a
/// readable case are added to `refs`.
pub(super) fn document_line(stored: &StoredCase, now: i64, refs: &mut Vec<PhotoUse>) -> DocLine {
    // Read only: nothing is ever written with this actor.
    let actor = automerge::ActorId::from(b"xiangying-export".to_vec());
    let id = stored.case_id.as_str();
    let feed_pos = stored.row.feed_pos;
    let doc = match SyncedDoc::load(&stored.row.snapshot, &actor) {
        Ok(doc) => doc,
        Err(e) => return error_line(Target::Case, id, None, None, feed_pos, e.to_string()),
    };
    match doc {
        SyncedDoc::Case(doc) => match case_line(id, feed_pos, &doc, now) {
            Ok((text, events, uses)) => {
                refs.extend(uses);
                DocLine {
                    target: Target::Case,
                    text,
                    events,
                    unreadable: false,
                }
            }
            Err(e) => error_line(Target::Case, id, Some("case"), doc.number(), feed_pos, e),
        },
        SyncedDoc::Patrol(doc) => match patrol_line(id, feed_pos, &doc) {
            Ok((text, events)) => DocLine {
                target: Target::Patrol,
                text,
                events,
                unreadable: false,
            },
            Err(e) => error_line(Target::Patrol, id, Some("patrol"), None, feed_pos, e),
        },
    }
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<String>,
    feed_pos: u64,
    error: String,
}

fn error_line(
    target: Target,
    id: &str,
    document: Option<&str>,
    number: Option<String>,
    feed_pos: u64,
    error: String,
) -> DocLine {
    let line = ErrorLine {
        id,
        document,
        number,
        feed_pos,
        error,
    };
    // Serialising strings and numbers cannot fail; keep a line even if it did.
    let text = serde_json::to_string(&line)
        .unwrap_or_else(|_| format!("{{\"id\":{id:?},\"error\":\"unserialisable\"}}"));
    DocLine {
        target,
        text,
        events: 0,
        unreadable: true,
    }
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

fn case_line(
    id: &str,
    feed_pos: u64,
    doc: &CaseDoc,
    now: i64,
) -> Result<(String, u64, Vec<PhotoUse>), String> {
    let facts = doc.facts().map_err(|e| e.to_string())?;
    let events = doc.events().map_err(|e| e.to_string())?;
    let photos = doc.photos().map_err(|e| e.to_string())?;
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
    let mut uses = Vec::with_capacity(photos.len() * 2);
    for p in &photos {
        for (file, role) in [(&p.hash, "photo"), (&p.thumb, "thumbnail")] {
            uses.push(PhotoUse {
                case: id.to_string(),
                role,
                photo: p.hash.clone(),
                stage: p.stage.as_str().to_string(),
                added_by: p.added_by.clone(),
                added_at: p.added_at,
                file: file.clone(),
            });
        }
    }
    Ok((text, events.len() as u64, uses))
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
    use xiangying_core::case::Action;

    #[test]
    fn an_action_splits_into_its_type_and_payload() {
        let (kind, payload) = split_action(&Action::Verified { note: "好".into() }).unwrap();
        assert_eq!(kind, "verified");
        assert_eq!(payload, serde_json::json!({"note": "好"}));
    }
}
