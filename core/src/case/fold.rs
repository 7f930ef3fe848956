//! The fold: a case's state computed from its events in document order.
//!
//! Each event is checked against the state the events before it produced, using the author's
//! recorded claim ([`super::rules`]). A valid event changes the state; an invalid one (a second
//! volunteer's claim, a close that lost to a rework, an escalation by someone who no longer
//! holds the case) stays in the history with the reason it lost. Events the server voided are
//! skipped and marked. The same events give the same state on every replica.
//!
//! The fold reads no calendar: the deadline is the one the reporting device recorded in the
//! facts, moved by the deadline each extension recorded (see
//! `docs/decisions/0011-working-hours-deadlines.md`). Documents and events made before
//! deadlines were recorded count natural hours, as they always did.

use super::event::{Action, Assignee, Author, Claim, Event};
use super::facts::{CaseKind, Facts};
use super::rules;
use crate::org::{Level, Role};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Raised by a street chief, who still holds it (handle or forward).
    Reported,
    /// Sent to a person who has not accepted it yet.
    Forwarded,
    /// A resident request waiting for the community.
    Requested,
    /// Somebody is working on it.
    InProgress,
    /// Sent up a level, not yet accepted there.
    Escalated,
    /// Sent to departments, or to the community's volunteers.
    Dispatched,
    /// The handler reports it done; waiting for verification.
    Resolved,
    /// The reporter's side confirmed the work; waiting to be closed.
    Verified,
    /// Finished.
    Closed,
    /// Withdrawn as invalid.
    Voided,
    /// Folded into another case.
    Duplicate,
}

impl Status {
    /// Every status, in a stable order.
    pub const ALL: [Status; 11] = [
        Status::Reported,
        Status::Forwarded,
        Status::Requested,
        Status::InProgress,
        Status::Escalated,
        Status::Dispatched,
        Status::Resolved,
        Status::Verified,
        Status::Closed,
        Status::Voided,
        Status::Duplicate,
    ];

    /// The stable identifier used in index tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Reported => "reported",
            Status::Forwarded => "forwarded",
            Status::Requested => "requested",
            Status::InProgress => "in_progress",
            Status::Escalated => "escalated",
            Status::Dispatched => "dispatched",
            Status::Resolved => "resolved",
            Status::Verified => "verified",
            Status::Closed => "closed",
            Status::Voided => "voided",
            Status::Duplicate => "duplicate",
        }
    }

    /// Parses [`Status::as_str`] back.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// True once nothing more will happen to the case.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Voided | Status::Duplicate)
    }

    /// True while somebody still has work to do (not resolved, verified or terminal).
    pub fn is_open(self) -> bool {
        !self.is_terminal() && !matches!(self, Status::Resolved | Status::Verified)
    }
}

/// What the fold made of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "snake_case")]
pub enum Outcome {
    /// It took effect.
    Applied,
    /// It lost or was not allowed; the reason says why.
    Rejected(String),
    /// The server voided it; the reason says why.
    VoidedByServer(String),
    /// An action of a type this build does not know (a newer layout wrote it): shown with
    /// its time and author, counted nowhere.
    NotUnderstood,
}

/// One event with what the fold made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldedEvent {
    /// The event as recorded.
    pub event: Event,
    /// Whether it took effect.
    pub outcome: Outcome,
}

/// A case's state, computed by [`fold`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    /// Where it stands.
    pub status: Status,
    /// The level it sits at.
    pub level: Level,
    /// Who it waits on.
    pub assignee: Option<Assignee>,
    /// When it must be resolved by, ms since the epoch: the deadline recorded in the facts
    /// (report time + limit on its clock), moved by extensions. Older documents without one:
    /// report time + limit + extension hours, in natural hours.
    pub deadline: i64,
    /// Settled on the spot by the person who found it (自行处置).
    pub handled_on_spot: bool,
    /// Who reported the work done, while it waits for verification.
    pub resolved_by: Option<String>,
    /// When the work was last reported done (device time of that event).
    pub resolved_at: Option<i64>,
    /// When it was closed (device time of that event).
    pub closed_at: Option<i64>,
    /// Everybody who has held the case, in order of first holding it.
    pub holders: Vec<String>,
    /// The volunteer who claimed a request.
    pub claimed_by: Option<String>,
    /// The case this one duplicates.
    pub duplicate_of: Option<String>,
    /// How many times it was sent back for rework.
    pub reworks: u32,
    /// How many times its deadline was extended.
    pub extensions: u32,
    /// The latest device time of any applied event.
    pub updated_at: i64,
    /// Every event, with its outcome, in document order.
    pub history: Vec<FoldedEvent>,
    raised: bool,
}

impl CaseState {
    /// True when the deadline has passed and work is still open at `now`.
    pub fn is_overdue(&self, now: i64) -> bool {
        self.status.is_open() && now > self.deadline
    }

    /// The inbox keys of whoever the case waits on (see [`inbox_keys_for`]).
    pub fn waiting_on(&self, facts: &Facts) -> Vec<String> {
        let mut keys = Vec::new();
        match self.status {
            Status::Resolved => {
                keys.push(format!("p:{}", facts.reporter));
                keys.push(format!("community:{}", facts.community));
            }
            Status::Verified => keys.push(format!("community:{}", facts.community)),
            s if s.is_terminal() => {}
            _ => match &self.assignee {
                Some(Assignee::Person(p)) => keys.push(format!("p:{p}")),
                Some(Assignee::Center) => keys.push("center".to_string()),
                Some(Assignee::Departments(ds)) => {
                    keys.extend(ds.iter().map(|d| format!("dept:{d}")))
                }
                Some(Assignee::Volunteers(c)) => keys.push(format!("volunteers:{c}")),
                None => {}
            },
        }
        keys.sort();
        keys.dedup();
        keys
    }

    fn hold(&mut self, assignee: Assignee) {
        if let Assignee::Person(p) = &assignee
            && !self.holders.contains(p)
        {
            self.holders.push(p.clone());
        }
        self.assignee = Some(assignee);
    }
}

/// The inbox keys a person's own inbox is made of: cases waiting on them by name, on their
/// centre, department or volunteer pool, and (for a community chief) awaiting verification in
/// their community.
pub fn inbox_keys_for(claim: &Claim) -> Vec<String> {
    use crate::org::Scope;
    let mut keys = vec![format!("p:{}", claim.person)];
    match (claim.role, &claim.scope) {
        (Role::StreetCenter, _) => keys.push("center".into()),
        (Role::DepartmentStaff, Scope::Department(d)) => keys.push(format!("dept:{d}")),
        (Role::Volunteer, Scope::Community(c)) => keys.push(format!("volunteers:{c}")),
        (Role::CommunityChief, Scope::Community(c)) => keys.push(format!("community:{c}")),
        _ => {}
    }
    keys
}

const HOUR_MS: i64 = 3_600_000;

/// Folds a case's events, in document order, into its state.
pub fn fold(facts: &Facts, events: &[Event]) -> CaseState {
    let voids: HashMap<&str, &str> = events
        .iter()
        .filter(|e| matches!(e.by, Author::Server { .. }))
        .filter_map(|e| match &e.action {
            Action::ServerVoid { event, reason } => Some((event.as_str(), reason.as_str())),
            _ => None,
        })
        .collect();
    let mut state = CaseState {
        status: Status::Reported,
        level: Level::Grid,
        assignee: None,
        deadline: facts
            .deadline
            .unwrap_or(facts.created_at + i64::from(facts.limit_hours) * HOUR_MS),
        handled_on_spot: false,
        resolved_by: None,
        resolved_at: None,
        closed_at: None,
        holders: Vec::new(),
        claimed_by: None,
        duplicate_of: None,
        reworks: 0,
        extensions: 0,
        updated_at: facts.created_at,
        history: Vec::with_capacity(events.len()),
        raised: false,
    };
    for event in events {
        let outcome = if let Some(reason) = voids.get(event.id.as_str()) {
            Outcome::VoidedByServer((*reason).to_string())
        } else if matches!(event.action, Action::Unknown { .. }) {
            Outcome::NotUnderstood
        } else {
            match apply(facts, &mut state, event) {
                Ok(()) => {
                    state.updated_at = state.updated_at.max(event.at);
                    Outcome::Applied
                }
                Err(reason) => Outcome::Rejected(reason),
            }
        };
        state.history.push(FoldedEvent {
            event: event.clone(),
            outcome,
        });
    }
    state
}

/// Checks whether `event` is allowed on a case in `state`, without changing anything.
pub fn check(facts: &Facts, state: &CaseState, event: &Event) -> Result<(), String> {
    let mut scratch = state.clone();
    scratch.history = Vec::new();
    apply(facts, &mut scratch, event)
}

/// Checks one event against the state and applies it, or says why it cannot apply.
fn apply(facts: &Facts, s: &mut CaseState, event: &Event) -> Result<(), String> {
    let claim = match &event.by {
        Author::Server { .. } => {
            return match event.action {
                Action::ServerVoid { .. } => Ok(()),
                _ => Err("a server may only void events".into()),
            };
        }
        Author::Person(c) => c,
    };
    let action = &event.action;
    let name = action.name();
    if let Action::Reported { assignee } = action {
        return report(facts, s, claim, assignee);
    }
    if !s.raised {
        return Err("the case has no valid report".into());
    }
    if let Action::Unknown { type_name, .. } = action {
        return Err(format!(
            "this app does not know the action `{type_name}`; an update shows it"
        ));
    }
    if matches!(action, Action::Note { .. }) {
        return note(facts, s, claim, action);
    }
    if s.status.is_terminal() {
        return Err(rules::wrong_status(name, s.status, s));
    }
    let holds = rules::holds(s, claim);
    let not_holder = || {
        format!(
            "{} does not hold this case{}",
            claim.person,
            match &s.assignee {
                Some(Assignee::Person(p)) => format!(" ({p} does)"),
                _ => String::new(),
            }
        )
    };
    match action {
        Action::Reported { .. } | Action::Note { .. } => Ok(()),
        Action::HandledOnSpot { photos, .. } => {
            need_status(name, s, &[Status::Reported, Status::InProgress])?;
            if !holds {
                return Err(not_holder());
            }
            if s.level != Level::Grid
                || !(claim.role == Role::GridWorker || claim.role.is_street_chief())
            {
                return Err(
                    "only a grid worker or street chief may handle a grid-level case on the spot"
                        .into(),
                );
            }
            if photos.is_empty() {
                return Err("an after photo is required to handle on the spot".into());
            }
            s.status = Status::Closed;
            s.handled_on_spot = true;
            s.resolved_at = Some(event.at);
            s.closed_at = Some(event.at);
            Ok(())
        }
        Action::Forwarded { to, .. } => {
            need_status(
                name,
                s,
                &[Status::Reported, Status::InProgress, Status::Forwarded],
            )?;
            if !holds {
                return Err(not_holder());
            }
            if s.level != Level::Grid {
                return Err("only a grid-level case can be forwarded; escalate instead".into());
            }
            if *to == claim.person {
                return Err("cannot forward a case to oneself".into());
            }
            s.status = Status::Forwarded;
            s.hold(Assignee::Person(to.clone()));
            Ok(())
        }
        Action::Accepted => {
            need_status(
                name,
                s,
                &[
                    Status::Forwarded,
                    Status::Escalated,
                    Status::Dispatched,
                    Status::Requested,
                ],
            )?;
            if !holds {
                return Err(not_holder());
            }
            s.status = Status::InProgress;
            if let Some(Assignee::Center) = s.assignee {
                s.hold(Assignee::Person(claim.person.clone()));
            }
            Ok(())
        }
        Action::Escalated {
            to_level,
            to,
            reason,
        } => {
            need_status(
                name,
                s,
                &[
                    Status::Reported,
                    Status::Forwarded,
                    Status::InProgress,
                    Status::Escalated,
                ],
            )?;
            if facts.kind != CaseKind::Problem {
                return Err("resident requests are dispatched, not escalated".into());
            }
            if !holds {
                return Err(not_holder());
            }
            let (needed_role, next, shape_ok) = match s.level {
                Level::Grid => (
                    Role::GridWorker,
                    Level::Community,
                    matches!(to, Assignee::Person(_)),
                ),
                Level::Community => (
                    Role::CommunityChief,
                    Level::Street,
                    matches!(to, Assignee::Center),
                ),
                Level::Street | Level::JointEnforcement => {
                    return Err(
                        "the street level dispatches to departments instead of escalating".into(),
                    );
                }
            };
            if claim.role != needed_role {
                return Err(format!(
                    "only the {} may escalate a {}-level case",
                    needed_role.as_str(),
                    s.level.as_str()
                ));
            }
            if *to_level != next || !shape_ok {
                return Err(format!(
                    "a {}-level case escalates to the {} level",
                    s.level.as_str(),
                    next.as_str()
                ));
            }
            if reason.trim().is_empty() {
                return Err("an escalation needs a reason".into());
            }
            s.status = Status::Escalated;
            s.level = next;
            s.hold(to.clone());
            Ok(())
        }
        Action::Dispatched { departments, .. } => {
            need_status(
                name,
                s,
                &[Status::Escalated, Status::InProgress, Status::Dispatched],
            )?;
            if facts.kind != CaseKind::Problem {
                return Err("resident requests are dispatched to volunteers".into());
            }
            if !rules::is_center(claim) {
                return Err("only the street grid centre may dispatch to departments".into());
            }
            if s.level < Level::Street {
                return Err("only a street-level case can be dispatched to departments".into());
            }
            if departments.is_empty() {
                return Err("name at least one department".into());
            }
            s.status = Status::Dispatched;
            s.level = if departments.len() > 1 {
                Level::JointEnforcement
            } else {
                Level::Street
            };
            s.hold(Assignee::Departments(departments.clone()));
            Ok(())
        }
        Action::DispatchedToVolunteers { .. } => {
            need_status(name, s, &[Status::Requested, Status::InProgress])?;
            if facts.kind != CaseKind::Request {
                return Err("only resident requests go to volunteers".into());
            }
            if !rules::is_community_chief(facts, claim) {
                return Err(
                    "only the community grid chief of this community may dispatch to volunteers"
                        .into(),
                );
            }
            s.status = Status::Dispatched;
            s.hold(Assignee::Volunteers(facts.community.clone()));
            Ok(())
        }
        Action::Claimed => {
            if let Some(who) = &s.claimed_by {
                return Err(format!("already taken by {who}"));
            }
            need_status(name, s, &[Status::Dispatched])?;
            let pool_ok = matches!(&s.assignee, Some(Assignee::Volunteers(c))
                if claim.role == Role::Volunteer
                    && matches!(&claim.scope, crate::org::Scope::Community(mine) if mine == c));
            if !pool_ok {
                return Err(
                    "only a volunteer of this community may claim a dispatched request".into(),
                );
            }
            s.status = Status::InProgress;
            s.claimed_by = Some(claim.person.clone());
            s.hold(Assignee::Person(claim.person.clone()));
            Ok(())
        }
        Action::Resolved { note, photos } => {
            need_status(
                name,
                s,
                &[
                    Status::InProgress,
                    Status::Forwarded,
                    Status::Escalated,
                    Status::Dispatched,
                    Status::Reported,
                ],
            )?;
            if !holds {
                return Err(not_holder());
            }
            if note.trim().is_empty() && photos.is_empty() {
                return Err("evidence is required: a photo or a note".into());
            }
            s.status = Status::Resolved;
            s.resolved_by = Some(claim.person.clone());
            s.resolved_at = Some(event.at);
            Ok(())
        }
        Action::Verified { .. } => {
            need_status(name, s, &[Status::Resolved])?;
            if !rules::can_verify(facts, s, claim) {
                return Err(format!(
                    "{} may not verify this work (the reporter's side or a supervisor verifies, never the handler)",
                    claim.person
                ));
            }
            s.status = Status::Verified;
            Ok(())
        }
        Action::Reworked { reason } => {
            need_status(name, s, &[Status::Resolved, Status::Verified])?;
            if !rules::can_verify(facts, s, claim) {
                return Err(format!("{} may not send this work back", claim.person));
            }
            if reason.trim().is_empty() {
                return Err("say what is still wrong".into());
            }
            s.status = Status::InProgress;
            s.resolved_by = None;
            s.reworks += 1;
            Ok(())
        }
        Action::Extended { hours, until, .. } => {
            if !(1..=720).contains(hours) {
                return Err("an extension is 1 to 720 hours".into());
            }
            if !rules::supervises(facts, claim) {
                return Err(
                    "only the community grid chief or the centre may extend a deadline".into(),
                );
            }
            let moved = until.unwrap_or(s.deadline + i64::from(*hours) * HOUR_MS);
            if moved <= s.deadline {
                // Two extensions made offline from the same deadline: one earlier in document
                // order already gives more time than this one would.
                return Err(
                    "the deadline is already later than this extension would make it".into(),
                );
            }
            s.deadline = moved;
            s.extensions += 1;
            Ok(())
        }
        Action::Closed { .. } => {
            need_status(name, s, &[Status::Verified])?;
            if !rules::can_verify(facts, s, claim) {
                return Err(format!("{} may not close this case", claim.person));
            }
            s.status = Status::Closed;
            s.closed_at = Some(event.at);
            Ok(())
        }
        Action::Voided { reason } => {
            let own_unaccepted = claim.person == facts.reporter
                && matches!(
                    s.status,
                    Status::Reported | Status::Forwarded | Status::Requested
                );
            let community_level = rules::is_community_chief(facts, claim)
                && matches!(s.level, Level::Grid | Level::Community);
            if !(rules::is_center(claim) || own_unaccepted || community_level) {
                return Err("only the centre, the community chief, or the reporter before anyone accepted it may void a case".into());
            }
            if reason.trim().is_empty() {
                return Err("a void needs a reason".into());
            }
            s.status = Status::Voided;
            s.closed_at = Some(event.at);
            Ok(())
        }
        Action::MarkedDuplicate { of } => {
            if *of == facts.id {
                return Err("a case cannot duplicate itself".into());
            }
            if !(rules::supervises(facts, claim) || rules::is_grid_worker(facts, claim)) {
                return Err(
                    "only the grid worker, the community chief or the centre may mark a duplicate"
                        .into(),
                );
            }
            s.status = Status::Duplicate;
            s.duplicate_of = Some(of.clone());
            s.closed_at = Some(event.at);
            Ok(())
        }
        Action::ServerVoid { .. } => Err("only a server may void events".into()),
        Action::Unknown { type_name, .. } => Err(format!(
            "this app does not know the action `{type_name}`; an update shows it"
        )),
    }
}

fn need_status(action: &str, s: &CaseState, allowed: &[Status]) -> Result<(), String> {
    if allowed.contains(&s.status) {
        Ok(())
    } else {
        Err(rules::wrong_status(action, s.status, s))
    }
}

fn report(
    facts: &Facts,
    s: &mut CaseState,
    claim: &Claim,
    assignee: &Assignee,
) -> Result<(), String> {
    if s.raised {
        return Err("the case was already reported".into());
    }
    if claim.person != facts.reporter {
        return Err(format!(
            "the report must be by the reporter {}, not {}",
            facts.reporter, claim.person
        ));
    }
    rules::may_report(facts, claim)?;
    let to_self = matches!(assignee, Assignee::Person(p) if *p == claim.person)
        || (matches!(assignee, Assignee::Center) && rules::is_center(claim));
    let shape_ok = match facts.kind {
        CaseKind::Problem => matches!(assignee, Assignee::Person(_) | Assignee::Center),
        CaseKind::Request => matches!(assignee, Assignee::Person(_)),
    };
    if !shape_ok {
        return Err("a new case goes to one person (or the centre)".into());
    }
    s.raised = true;
    s.holders.push(claim.person.clone());
    s.level = match (facts.kind, claim.role) {
        (CaseKind::Request, _) | (CaseKind::Problem, Role::CommunityChief) => Level::Community,
        (CaseKind::Problem, Role::StreetCenter) => Level::Street,
        _ => Level::Grid,
    };
    s.status = match (facts.kind, to_self) {
        (CaseKind::Request, true) => Status::InProgress,
        (CaseKind::Request, false) => Status::Requested,
        (CaseKind::Problem, true) if claim.role.is_street_chief() => Status::Reported,
        (CaseKind::Problem, true) => Status::InProgress,
        (CaseKind::Problem, false) => Status::Forwarded,
    };
    s.hold(assignee.clone());
    Ok(())
}

fn note(facts: &Facts, s: &CaseState, claim: &Claim, action: &Action) -> Result<(), String> {
    if let Action::Note { text } = action
        && text.trim().is_empty()
    {
        return Err("a note needs text".into());
    }
    if rules::involved(facts, s, claim) {
        Ok(())
    } else {
        Err(format!("{} is not involved in this case", claim.person))
    }
}

#[cfg(test)]
#[path = "fold_tests.rs"]
mod tests;
