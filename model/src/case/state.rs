//! What a case's state is made of: its [`Status`], the [`CaseState`] the fold computes, and
//! what the fold made of each event ([`Outcome`], [`FoldedEvent`]). Plain data; the fold
//! ([`super::fold()`]), the rules ([`super::rules`]) and the transitions all read it, and it
//! reads none of them.

use super::event::{Assignee, Event};
use super::facts::Facts;
use super::inbox::InboxKey;
use crate::denied::Denied;
use crate::org::Level;
use serde::{Deserialize, Serialize};

/// One hour in ms.
pub(super) const HOUR_MS: i64 = 3_600_000;

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
    /// It lost or was not allowed; the reason says why (stored as its English sentence).
    Rejected(Denied),
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

/// A case's state, computed by [`super::fold()`].
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
    /// Whether a valid report raised the case (set by the fold).
    pub(super) raised: bool,
}

impl CaseState {
    /// True when the deadline has passed and work is still open at `now`.
    pub fn is_overdue(&self, now: i64) -> bool {
        self.status.is_open() && now > self.deadline
    }

    /// The inbox keys of whoever the case waits on (see [`super::inbox_keys_for`]).
    pub fn waiting_on(&self, facts: &Facts) -> Vec<InboxKey> {
        let mut keys = Vec::new();
        match self.status {
            Status::Resolved => {
                keys.push(InboxKey::Person(facts.reporter.clone()));
                keys.push(InboxKey::Community(facts.community.clone()));
            }
            Status::Verified => keys.push(InboxKey::Community(facts.community.clone())),
            s if s.is_terminal() => {}
            _ => match &self.assignee {
                Some(Assignee::Person(p)) => keys.push(InboxKey::Person(p.clone())),
                Some(Assignee::Center) => keys.push(InboxKey::Center),
                Some(Assignee::Departments(ds)) => {
                    keys.extend(ds.iter().map(|d| InboxKey::Dept(d.clone())))
                }
                Some(Assignee::Volunteers(c)) => keys.push(InboxKey::Volunteers(c.clone())),
                None => {}
            },
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// Puts the case with `assignee`, adding a person to [`CaseState::holders`] the first time.
    pub(super) fn hold(&mut self, assignee: Assignee) {
        if let Assignee::Person(p) = &assignee
            && !self.holders.contains(p)
        {
            self.holders.push(p.clone());
        }
        self.assignee = Some(assignee);
    }
}
