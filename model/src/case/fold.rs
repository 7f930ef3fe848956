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

use super::event::{Action, Author, Event};
use super::facts::Facts;
use super::rules;
use super::state::{CaseState, FoldedEvent, HOUR_MS, Outcome, Status};
use super::transitions as t;
use crate::denied::Denied;
use crate::org::Level;
use std::collections::HashMap;

/// Folds a case's events, in document order, into its state.
pub fn fold(facts: &Facts, events: &[Event]) -> CaseState {
    let voids: HashMap<&str, &str> = events
        .iter()
        .filter(|e| matches!(e.by, Author::Server { .. }))
        .filter_map(|e| {
            if let Action::ServerVoid { event, reason } = &e.action {
                Some((event.as_str(), reason.as_str()))
            } else {
                None
            }
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
pub fn check(facts: &Facts, state: &CaseState, event: &Event) -> Result<(), Denied> {
    let mut scratch = state.clone();
    scratch.history = Vec::new();
    apply(facts, &mut scratch, event)
}

/// Checks one event against the state and applies it, or says why it cannot apply.
///
/// The gates, in order: a server may only void events; the report comes first (and once);
/// an action this build does not know is refused; a note is judged on its own (allowed on a
/// finished case); nothing else happens to a finished case. Then each action has its own
/// transition in [`super::transitions`].
fn apply(facts: &Facts, s: &mut CaseState, event: &Event) -> Result<(), Denied> {
    let claim = match &event.by {
        Author::Server { .. } => return t::by_server(&event.action),
        Author::Person(c) => c,
    };
    let action = &event.action;
    if let Action::Reported { assignee } = action {
        return t::report(facts, s, claim, assignee);
    }
    if !s.raised {
        return Err(Denied::NoValidReport);
    }
    if let Action::Unknown { type_name, .. } = action {
        return Err(t::unknown(type_name));
    }
    if let Action::Note { text } = action {
        return t::note(facts, s, claim, text);
    }
    if s.status.is_terminal() {
        return Err(rules::wrong_status(action.name(), s.status, s));
    }
    let by = t::By {
        facts,
        claim,
        at: event.at,
        action: action.name(),
        holds: rules::holds(s, claim),
    };
    match action {
        Action::Reported { .. } | Action::Note { .. } => Ok(()),
        Action::HandledOnSpot { photos, .. } => t::handled_on_spot(&by, s, photos),
        Action::Forwarded { to, .. } => t::forwarded(&by, s, to),
        Action::Accepted => t::accepted(&by, s),
        Action::Escalated {
            to_level,
            to,
            reason,
        } => t::escalated(&by, s, *to_level, to, reason),
        Action::Dispatched { departments, .. } => t::dispatched(&by, s, departments),
        Action::DispatchedToVolunteers { .. } => t::dispatched_to_volunteers(&by, s),
        Action::Claimed => t::claimed(&by, s),
        Action::Resolved { note, photos } => t::resolved(&by, s, note, photos),
        Action::Verified { .. } => t::verified(&by, s),
        Action::Reworked { reason } => t::reworked(&by, s, reason),
        Action::Extended { hours, until, .. } => t::extended(&by, s, *hours, *until),
        Action::Closed { .. } => t::closed(&by, s),
        Action::Voided { reason } => t::voided(&by, s, reason),
        Action::MarkedDuplicate { of } => t::marked_duplicate(&by, s, of),
        Action::ServerVoid { .. } => Err(Denied::OnlyServerVoids),
        Action::Unknown { type_name, .. } => Err(t::unknown(type_name)),
    }
}

#[cfg(test)]
#[path = "fold_tests.rs"]
mod tests;
