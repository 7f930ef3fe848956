//! Desk actions on cases, through the same rules and push judgement as a phone's.
//!
//! A desk action is made the way a phone makes one: the case document is loaded, the event is
//! built with the signed-in person's claim from the roster, checked by the fold's rules
//! ([`check`]) and appended as an automerge change. That change is then pushed through
//! [`sync::push`] as the person's desk device, in the same transaction, so the push judgement,
//! numbering, indexing and the change feed treat it exactly like a change from a phone: the
//! case history and the rankings cannot tell a desk action from a phone action, and every
//! device that may see the case receives the event on its next sync.
//!
//! Each person writes at the desk with an automerge actor of their own, derived from their id
//! (decision 0042), held by a device row of their own (`desk-<person>`) whose token hash is
//! not a SHA-256 value, so no bearer token can ever authenticate as it.

use super::error::DeskError;
use super::session::DeskUser;
use crate::error::ServerError;
use crate::state::AppState;
use crate::storage::{DeviceRow, Tx, with_tx};
use crate::sync::{self, Ctx};
use automerge::ActorId;
use sha2::{Digest, Sha256};
/// An hour in milliseconds.
const HOUR_MS: i64 = 3_600_000;
use xiangying_model::case::{
    Action, Assignee, CaseDoc, CaseKind, CaseState, Claim, Denied, Event, Facts, check, fold,
};
use xiangying_model::document::Document;
use xiangying_model::ids::{DeviceId, DocId};
use xiangying_model::org::{Level, LimitClock, Roster};
use xiangying_model::sync::version::LAYOUT;
use xiangying_model::sync::wire::PushedChange;

/// The longest note, reason or comment the desk accepts (characters).
pub const MAX_TEXT_CHARS: usize = 2000;

/// What a person at the desk does to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskAction {
    /// 受理: take on a case sent to me (or to my department, or to the centre).
    Accept,
    /// 派遣 / 改派: send a street-level problem to departments (again, to reassign it).
    Dispatch {
        /// Department ids.
        departments: Vec<String>,
        /// Instructions.
        note: String,
    },
    /// 上报: send the case up one level.
    Escalate {
        /// Why it cannot be settled at this level.
        reason: String,
    },
    /// 派给志愿者: publish a resident request to the community's volunteers.
    DispatchToVolunteers {
        /// Instructions.
        note: String,
    },
    /// 办结: report the work done.
    Resolve {
        /// What was done.
        note: String,
    },
    /// 核查通过: confirm the work.
    Verify {
        /// Remarks.
        note: String,
    },
    /// 退回重办: send the work back.
    Rework {
        /// What is still wrong.
        reason: String,
    },
    /// 延期: move the deadline by hours on the case's clock.
    Extend {
        /// Hours (1–720).
        hours: u32,
        /// Why.
        reason: String,
    },
    /// 结案: close verified work.
    Close {
        /// Remarks.
        note: String,
    },
    /// 作废: withdraw an invalid case.
    Void {
        /// Why.
        reason: String,
    },
    /// 重复案件: the same problem as another case (its id).
    MarkDuplicate {
        /// The other case's id.
        of: String,
    },
    /// 备注: a comment.
    Note {
        /// The text.
        text: String,
    },
}

impl DeskAction {
    /// The action's form name (the `action` field of the case page's forms).
    pub fn key(&self) -> &'static str {
        match self {
            DeskAction::Accept => "accept",
            DeskAction::Dispatch { .. } => "dispatch",
            DeskAction::Escalate { .. } => "escalate",
            DeskAction::DispatchToVolunteers { .. } => "volunteers",
            DeskAction::Resolve { .. } => "resolve",
            DeskAction::Verify { .. } => "verify",
            DeskAction::Rework { .. } => "rework",
            DeskAction::Extend { .. } => "extend",
            DeskAction::Close { .. } => "close",
            DeskAction::Void { .. } => "void",
            DeskAction::MarkDuplicate { .. } => "duplicate",
            DeskAction::Note { .. } => "note",
        }
    }

    /// The action's name in Chinese.
    pub fn label(&self) -> &'static str {
        label_of(self.key())
    }

    /// Every text the action carries, to bound.
    fn texts(&self) -> Vec<&str> {
        match self {
            DeskAction::Accept => Vec::new(),
            DeskAction::Dispatch { departments, note } => {
                let mut v: Vec<&str> = departments.iter().map(String::as_str).collect();
                v.push(note);
                v
            }
            DeskAction::Escalate { reason }
            | DeskAction::Rework { reason }
            | DeskAction::Void { reason }
            | DeskAction::Extend { reason, .. } => vec![reason],
            DeskAction::DispatchToVolunteers { note }
            | DeskAction::Resolve { note }
            | DeskAction::Verify { note }
            | DeskAction::Close { note } => vec![note],
            DeskAction::MarkDuplicate { of } => vec![of],
            DeskAction::Note { text } => vec![text],
        }
    }
}

/// The Chinese name of an action by its form key.
pub fn label_of(key: &str) -> &'static str {
    match key {
        "accept" => "受理",
        "dispatch" => "派遣",
        "escalate" => "上报",
        "volunteers" => "派给志愿者",
        "resolve" => "办结",
        "verify" => "核查通过",
        "rework" => "退回重办",
        "extend" => "延期",
        "close" => "结案",
        "void" => "作废",
        "duplicate" => "标为重复",
        "note" => "备注",
        _ => "操作",
    }
}

/// The form keys of every desk action, in the order the case page offers them.
pub const ALL_KEYS: [&str; 12] = [
    "accept",
    "dispatch",
    "escalate",
    "volunteers",
    "resolve",
    "verify",
    "rework",
    "extend",
    "close",
    "void",
    "duplicate",
    "note",
];

/// The automerge actor `person` writes with at the desk: the same on every server instance
/// (their changes to one case are serialised by the case's lock), never a phone's (a phone's
/// actor is random).
pub fn desk_actor(person: &str) -> ActorId {
    let digest = Sha256::digest(format!("xiangying-desk-actor:{person}").as_bytes());
    ActorId::from(&digest[..16])
}

/// The id of `person`'s desk device row.
pub fn desk_device_id(person: &str) -> DeviceId {
    DeviceId::from(format!("desk-{person}"))
}

/// Whether a device row is a person's desk rather than a phone (by its token hash, which no
/// enrolment can write).
pub fn is_desk_device(d: &DeviceRow) -> bool {
    d.token_hash.starts_with("desk:")
}

/// The token hash stored for a desk device: not 64 hex digits, so no bearer token hashes to
/// it and nobody can sync as the desk.
fn desk_token_hash(person: &str) -> String {
    format!("desk:{person}")
}

/// `person`'s desk device row, made on their first desk action.
fn desk_device(tx: &mut dyn Tx, person: &str, now: i64) -> Result<DeviceRow, ServerError> {
    let hash = desk_token_hash(person);
    if let Some(d) = tx.device_by_token(&hash)? {
        return Ok(d);
    }
    let row = DeviceRow {
        id: desk_device_id(person),
        person: person.into(),
        name: "网页工作台".to_string(),
        token_hash: hash,
        created_at: now,
        revoked: false,
        quarantined: None,
    };
    tx.insert_device(&row)?;
    Ok(row)
}

/// A case loaded for the desk: its document, facts, events and folded state.
pub struct LoadedCase {
    /// The document (new changes carry the loader's actor).
    pub doc: CaseDoc,
    /// Its facts.
    pub facts: Facts,
    /// Its events.
    pub events: Vec<Event>,
    /// Its state now.
    pub state: CaseState,
}

/// Loads a case document from its stored snapshot.
pub fn load_case(
    snapshot: &[u8],
    actor: &ActorId,
    case_id: &str,
) -> Result<LoadedCase, ServerError> {
    let stored = |e: xiangying_model::case::DocError| {
        ServerError::Internal(format!("stored case {case_id}: {e}"))
    };
    let doc = CaseDoc::load(snapshot, actor).map_err(stored)?;
    let facts = doc.facts().map_err(stored)?;
    let events = doc.events().map_err(stored)?;
    let state = fold(&facts, &events);
    Ok(LoadedCase {
        doc,
        facts,
        events,
        state,
    })
}

/// Builds the event's action from a desk action, as a phone would (the escalation target and
/// the extended deadline from the roster and calendar).
fn build(
    roster: &Roster,
    calendar: &xiangying_model::org::Calendar,
    case: &LoadedCase,
    action: &DeskAction,
) -> Result<Action, DeskError> {
    Ok(match action {
        DeskAction::Accept => Action::Accepted,
        DeskAction::Dispatch { departments, note } => {
            let mut departments = departments.clone();
            departments.sort();
            departments.dedup();
            for d in &departments {
                if roster.department(d).is_none() {
                    return Err(DeskError::BadRequest(format!("没有编号为 {d} 的部门")));
                }
            }
            Action::Dispatched {
                departments,
                note: note.clone(),
            }
        }
        DeskAction::Escalate { reason } => {
            let (to_level, to) = match case.state.level {
                Level::Grid => {
                    let chief = roster
                        .community_chief_of(&case.facts.community)
                        .ok_or_else(|| {
                            DeskError::BadRequest(format!(
                                "社区 {} 没有社区网格长，无法上报",
                                case.facts.community
                            ))
                        })?;
                    (Level::Community, Assignee::Person(chief.id.clone()))
                }
                Level::Community => (Level::Street, Assignee::Center),
                Level::Street | Level::JointEnforcement => {
                    return Err(refusal("escalate", &Denied::StreetLevelDispatches));
                }
            };
            Action::Escalated {
                to_level,
                to,
                reason: reason.clone(),
            }
        }
        DeskAction::DispatchToVolunteers { note } => {
            Action::DispatchedToVolunteers { note: note.clone() }
        }
        DeskAction::Resolve { note } => Action::Resolved {
            note: note.clone(),
            photos: Vec::new(),
        },
        DeskAction::Verify { note } => Action::Verified { note: note.clone() },
        DeskAction::Rework { reason } => Action::Reworked {
            reason: reason.clone(),
        },
        DeskAction::Extend { hours, reason } => {
            let clock = case.facts.clock.unwrap_or(LimitClock::Natural);
            Action::Extended {
                hours: *hours,
                reason: reason.clone(),
                until: Some(calendar.add_hours(case.state.deadline, *hours, clock)),
            }
        }
        DeskAction::Close { note } => Action::Closed { note: note.clone() },
        DeskAction::Void { reason } => Action::Voided {
            reason: reason.clone(),
        },
        DeskAction::MarkDuplicate { of } => Action::MarkedDuplicate { of: of.clone() },
        DeskAction::Note { text } => Action::Note { text: text.clone() },
    })
}

/// Takes `action` on case `case_id` as `user`: checked by the case rules, pushed through the
/// push judgement as the person's desk device, committed with the feed; the devices that may
/// see the case are woken. A refused action changes nothing and names its reason in Chinese.
pub fn act(
    state: &AppState,
    user: &DeskUser,
    case_id: &str,
    action: &DeskAction,
    now: i64,
) -> Result<CaseState, DeskError> {
    for t in action.texts() {
        if t.chars().count() > MAX_TEXT_CHARS {
            return Err(DeskError::BadRequest(format!(
                "文字过长：最多 {MAX_TEXT_CHARS} 个字"
            )));
        }
    }
    let doc_id = DocId::from(case_id.to_string());
    let uuid = uuid::Uuid::parse_str(case_id)
        .map_err(|_| DeskError::NotFound(format!("没有编号为 {case_id} 的案件")))?;
    let person = user.person.as_str();
    let actor = desk_actor(person);
    let mut outcome: Option<Result<CaseState, DeskError>> = None;
    let pushed = with_tx(state.storage.as_ref(), |tx| {
        outcome = None;
        let roster = state.roster(tx)?;
        let catalogue = super::catalogue(tx)?;
        let Some(row) = tx.lock_case(&doc_id)? else {
            outcome = Some(Err(not_found(case_id)));
            return Ok(None);
        };
        let scope = sync::scope_of(&roster, &user.person);
        if !scope.all && !xiangying_model::sync::scope::may_see(&scope, &tx.access(&doc_id)?) {
            outcome = Some(Err(not_found(case_id)));
            return Ok(None);
        }
        let mut case = match load_case(&row.snapshot, &actor, case_id) {
            Ok(c) => c,
            Err(ServerError::Internal(_)) => {
                // Not a case document (a patrol): nothing at the desk acts on it.
                outcome = Some(Err(not_found(case_id)));
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        // The claim as the roster says now, as a phone that just synced would record it.
        let claim = match sync::claim_of(&roster, person) {
            Some(c) => c,
            None => {
                outcome = Some(Err(DeskError::Forbidden(
                    "花名册中已没有您的记录，不能办理案件".into(),
                )));
                return Ok(None);
            }
        };
        let built = match build(&roster, &catalogue.calendar, &case, action) {
            Ok(a) => a,
            Err(e) => {
                outcome = Some(Err(e));
                return Ok(None);
            }
        };
        let event = Event::new(now, claim, built);
        if let Err(reason) = check(&case.facts, &case.state, &event) {
            outcome = Some(Err(refusal(action.key(), &reason)));
            return Ok(None);
        }
        let bytes = case
            .doc
            .append_event(&event)
            .map_err(|e| ServerError::Internal(format!("case {case_id}: {e}")))?;
        case.events.push(event);
        let device = desk_device(tx, person, now)?;
        let pushed = [PushedChange {
            seq: 0,
            case_id: uuid,
            bytes,
        }];
        let checked = sync::check_push(&state.limits, &pushed)?;
        let ctx = Ctx {
            roster: &roster,
            device: &device,
            actor: &state.actor,
            instance: &state.instance,
            now,
            layout: LAYOUT,
            redelivery: false,
        };
        let result = sync::push(tx, &ctx, &checked)?;
        outcome = Some(Ok(fold(&case.facts, &case.events)));
        Ok(Some(result))
    })?;
    if let Some(p) = pushed
        && !p.keys.is_empty()
    {
        state.wake.ring_for(p.keys);
    }
    outcome.unwrap_or_else(|| {
        Err(DeskError::Server(ServerError::Internal(
            "no outcome".into(),
        )))
    })
}

fn not_found(case_id: &str) -> DeskError {
    DeskError::NotFound(format!("没有编号为 {case_id} 的案件，或您无权查看"))
}

/// Which actions `claim` may take on `case` now, by the fold's own rules: each action is tried
/// with a representative payload against the current state.
pub fn allowed(roster: &Roster, case: &LoadedCase, claim: &Claim, now: i64) -> Vec<&'static str> {
    let dept = roster
        .departments
        .first()
        .map(|d| d.id.clone())
        .unwrap_or_default();
    let probe = |key: &str| -> Option<Action> {
        Some(match key {
            "accept" => Action::Accepted,
            "dispatch" => Action::Dispatched {
                departments: vec![dept.clone()],
                note: String::new(),
            },
            "escalate" => {
                let (to_level, to) = match case.state.level {
                    Level::Grid => (
                        Level::Community,
                        Assignee::Person(
                            roster
                                .community_chief_of(&case.facts.community)
                                .map(|c| c.id.clone())?,
                        ),
                    ),
                    Level::Community => (Level::Street, Assignee::Center),
                    Level::Street | Level::JointEnforcement => return None,
                };
                Action::Escalated {
                    to_level,
                    to,
                    reason: "x".into(),
                }
            }
            "volunteers" => Action::DispatchedToVolunteers {
                note: String::new(),
            },
            "resolve" => Action::Resolved {
                note: "x".into(),
                photos: Vec::new(),
            },
            "verify" => Action::Verified {
                note: String::new(),
            },
            "rework" => Action::Reworked { reason: "x".into() },
            "extend" => Action::Extended {
                hours: 1,
                reason: "x".into(),
                until: Some(case.state.deadline.max(now) + HOUR_MS),
            },
            "close" => Action::Closed {
                note: String::new(),
            },
            "void" => Action::Voided { reason: "x".into() },
            "duplicate" => Action::MarkedDuplicate {
                of: "00000000-0000-0000-0000-000000000000".into(),
            },
            "note" => Action::Note { text: "x".into() },
            _ => return None,
        })
    };
    ALL_KEYS
        .iter()
        .copied()
        .filter(|key| {
            if *key == "dispatch" && case.facts.kind != CaseKind::Problem {
                return false;
            }
            probe(key).is_some_and(|a| {
                check(&case.facts, &case.state, &Event::new(now, claim.clone(), a)).is_ok()
            })
        })
        .collect()
}

/// A refusal by the case rules, in Chinese (the sentence phones show), with the rule's
/// stable code.
pub fn refusal(key: &str, reason: &Denied) -> DeskError {
    DeskError::Forbidden(format!(
        "不能{}：{}（规则 {}）",
        label_of(key),
        reason.zh(),
        reason.code()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desk_actors_differ_by_person_and_are_stable() {
        assert_eq!(desk_actor("p1"), desk_actor("p1"));
        assert_ne!(desk_actor("p1"), desk_actor("p2"));
    }

    #[test]
    fn no_bearer_token_hashes_to_a_desk_device() {
        let h = desk_token_hash("c1");
        assert!(h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(desk_device_id("c1").as_str().starts_with("desk-"));
    }

    #[test]
    fn every_refusal_names_the_rule() {
        let e = refusal("dispatch", &Denied::DispatchOnlyCentre);
        assert!(e.to_string().contains("dispatch_only_centre"), "{e}");
        assert!(e.to_string().contains("派遣"), "{e}");
    }
}
