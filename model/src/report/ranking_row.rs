//! What one document contributes to the rankings, whatever the period: the few times, flags
//! and unit ids that [`super::rankings`]' definitions read, taken once from the folded state.
//!
//! The device builds rows on the fly; the server stores one per document when it accepts a
//! push (it folds then anyway), so a year of a whole street ranks without loading a single
//! automerge document. Rows are serde values (the server keeps them postcard-encoded).

use super::figures::{Figures, UnitKind};
use crate::case::{Action, Assignee, Author, CaseState, Facts, Outcome, Status};
use crate::org::Scope;
use crate::patrol::{PatrolFacts, PatrolPlace, PatrolState};
use serde::{Deserialize, Serialize};

/// One document's contribution to the rankings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RankingRow {
    /// A counted case.
    Case(CaseRow),
    /// A counted patrol.
    Patrol(PatrolRow),
}

/// What the rankings read of a counted case (see the module doc of [`super::rankings`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRow {
    /// Its grid.
    pub grid: String,
    /// Its community.
    pub community: String,
    /// The departments applied dispatches sent it to, each once, in order.
    pub departments: Vec<String>,
    /// Its handler (承办人), if any.
    pub handler: Option<String>,
    /// Raised at (device time).
    pub created_at: i64,
    /// Its deadline.
    pub deadline: i64,
    /// When it was closed, when its status is closed.
    pub closed_at: Option<i64>,
    /// Its last reported resolution.
    pub resolved_at: Option<i64>,
    /// Sent back at least once.
    pub reworked: bool,
    /// Its deadline was extended at least once.
    pub extended: bool,
    /// Settled on the spot.
    pub handled_on_spot: bool,
}

/// What the rankings read of a counted (not voided) patrol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatrolRow {
    /// Its grid, for a grid patrol.
    pub grid: Option<String>,
    /// Its community.
    pub community: String,
    /// Who walked it.
    pub walker: String,
    /// Started at (device time).
    pub started_at: i64,
    /// Its patrol time (0 until ended).
    pub duration_ms: i64,
    /// Each companion who confirmed from their own device, with their department when they are
    /// department staff (an unconfirmed companion is not counted: decision 0015).
    pub companions: Vec<(String, Option<String>)>,
}

impl RankingRow {
    /// The row of a case, or `None` when it never counts (its report did not apply, or it was
    /// voided or is a duplicate).
    pub fn of_case(facts: &Facts, s: &CaseState) -> Option<RankingRow> {
        let reported = s.history.iter().any(|h| {
            matches!(h.event.action, Action::Reported { .. }) && h.outcome == Outcome::Applied
        });
        if !reported || matches!(s.status, Status::Voided | Status::Duplicate) {
            return None;
        }
        Some(RankingRow::Case(CaseRow {
            grid: facts.grid.clone(),
            community: facts.community.clone(),
            departments: departments(s),
            handler: handler(s).map(str::to_string),
            created_at: facts.created_at,
            deadline: s.deadline,
            closed_at: if s.status == Status::Closed {
                s.closed_at
            } else {
                None
            },
            resolved_at: s.resolved_at,
            reworked: s.reworks > 0,
            extended: s.extensions > 0,
            handled_on_spot: s.handled_on_spot,
        }))
    }

    /// The row of a patrol, or `None` when a server voided it.
    pub fn of_patrol(facts: &PatrolFacts, s: &PatrolState) -> Option<RankingRow> {
        if s.voided.is_some() {
            return None;
        }
        Some(RankingRow::Patrol(PatrolRow {
            grid: match &facts.place {
                PatrolPlace::Grid(g) => Some(g.clone()),
                PatrolPlace::Segment(_) => None,
            },
            community: facts.community.clone(),
            walker: facts.walker.person.clone(),
            started_at: facts.started_at,
            duration_ms: s.duration_ms(facts),
            companions: s
                .companions
                .iter()
                .filter(|c| c.is_confirmed())
                .map(|c| {
                    let dept = match &c.claim.scope {
                        Scope::Department(d) => Some(d.clone()),
                        _ => None,
                    };
                    (c.claim.person.clone(), dept)
                })
                .collect(),
        }))
    }

    /// The figures this row adds to each of its units over `[from, to)`.
    pub fn figures(&self, from: i64, to: i64) -> Vec<(UnitKind, String, Figures)> {
        let within = |t: i64| from <= t && t < to;
        let mut out = Vec::new();
        match self {
            RankingRow::Case(c) => {
                let b = u64::from;
                let closed = c.closed_at.is_some_and(within);
                let due = within(c.deadline) || closed;
                let resolved = c.resolved_at.is_some_and(within);
                let fig = Figures {
                    raised: b(within(c.created_at)),
                    due: b(due),
                    closed: b(closed),
                    closed_on_time: b(closed && c.resolved_at.is_some_and(|r| r <= c.deadline)),
                    resolved: b(resolved),
                    reworked: b(resolved && c.reworked),
                    extended: b(due && c.extended),
                    handled_on_spot: b(closed && c.handled_on_spot),
                    handling_ms: match c.resolved_at {
                        Some(r) if resolved => (r - c.created_at).max(0),
                        _ => 0,
                    },
                    ..Figures::default()
                };
                out.push((UnitKind::Grid, c.grid.clone(), fig));
                out.push((UnitKind::Community, c.community.clone(), fig));
                for d in &c.departments {
                    out.push((UnitKind::Department, d.clone(), fig));
                }
                if let Some(p) = &c.handler {
                    out.push((UnitKind::Person, p.clone(), fig));
                }
            }
            RankingRow::Patrol(p) => {
                if !within(p.started_at) {
                    return out;
                }
                let walked = Figures {
                    patrols: 1,
                    patrol_ms: p.duration_ms,
                    accompanied: u64::from(!p.companions.is_empty()),
                    ..Figures::default()
                };
                if let Some(g) = &p.grid {
                    out.push((UnitKind::Grid, g.clone(), walked));
                }
                out.push((UnitKind::Community, p.community.clone(), walked));
                out.push((UnitKind::Person, p.walker.clone(), walked));
                let along = Figures {
                    accompaniments: 1,
                    ..Figures::default()
                };
                for (person, dept) in &p.companions {
                    out.push((UnitKind::Person, person.clone(), along));
                    if let Some(d) = dept {
                        out.push((UnitKind::Department, d.clone(), along));
                    }
                }
            }
        }
        out
    }
}

/// The departments applied dispatches sent the case to, each once, in order.
fn departments(s: &CaseState) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in &s.history {
        if let (Action::Dispatched { departments, .. }, Outcome::Applied) =
            (&h.event.action, &h.outcome)
        {
            for d in departments {
                if !out.contains(d) {
                    out.push(d.clone());
                }
            }
        }
    }
    out
}

/// The case's handler: who last reported the work done, else the person it waits on.
fn handler(s: &CaseState) -> Option<&str> {
    let last_work = s
        .history
        .iter()
        .rev()
        .find_map(|h| match (&h.event, &h.outcome) {
            (e, Outcome::Applied)
                if matches!(
                    e.action,
                    Action::Resolved { .. } | Action::HandledOnSpot { .. }
                ) =>
            {
                match &e.by {
                    Author::Person(c) => Some(c.person.as_str()),
                    Author::Server { .. } => None,
                }
            }
            _ => None,
        });
    last_work.or(match &s.assignee {
        Some(Assignee::Person(p)) => Some(p.as_str()),
        _ => None,
    })
}
