//! Who may see a case: the access keys a case carries and the keys a person reads with.
//!
//! A case is visible to a person when the two sets meet (or the person sees everything).
//! Keys accumulate: once a person held a case, or a department was dispatched to it, they keep
//! seeing it. Grid worker: their grid and what was sent to them; street chief: their segment;
//! community chief: the community; centre and officials: everything; department: what was
//! dispatched to it; volunteer: requests dispatched to their community's pool.

use crate::case::{Action, Assignee, CaseState, Claim, Facts, Outcome};
use crate::org::{Role, Scope};

/// What a person reads with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadScope {
    /// True for the centre and officials: every case.
    pub all: bool,
    /// Otherwise, the keys.
    pub keys: Vec<String>,
}

/// The keys a person reads with, from their current claim.
pub fn read_scope(claim: &Claim) -> ReadScope {
    let mut keys = vec![format!("person:{}", claim.person)];
    let all = claim.role.sees_whole_street();
    match (&claim.role, &claim.scope) {
        (Role::CommunityChief, Scope::Community(c)) => keys.push(format!("community:{c}")),
        (Role::GridWorker, Scope::Grid(g)) => keys.push(format!("grid:{g}")),
        (Role::PartyStreetChief | Role::MerchantStreetChief, Scope::Segment(s)) => {
            keys.push(format!("segment:{s}"))
        }
        (Role::DepartmentStaff, Scope::Department(d)) => keys.push(format!("dept:{d}")),
        (Role::Volunteer, Scope::Community(c)) => keys.push(format!("volunteers:{c}")),
        // A scoped role whose scope is of another kind reads with its own key only.
        (
            Role::CommunityChief
            | Role::GridWorker
            | Role::PartyStreetChief
            | Role::MerchantStreetChief
            | Role::DepartmentStaff
            | Role::Volunteer,
            _,
        ) => {}
        // The centre and officials read everything; these read by their own key.
        (Role::StreetCenter | Role::StreetOfficial | Role::GridInformant | Role::Resident, _) => {}
    }
    ReadScope { all, keys }
}

/// The keys a case is visible through, from its facts and folded state.
pub fn access_keys(facts: &Facts, state: &CaseState) -> Vec<String> {
    let mut keys = vec![
        format!("grid:{}", facts.grid),
        format!("community:{}", facts.community),
        format!("person:{}", facts.reporter),
    ];
    if let Some(s) = &facts.segment {
        keys.push(format!("segment:{s}"));
    }
    keys.extend(state.holders.iter().map(|h| format!("person:{h}")));
    for e in &state.history {
        if e.outcome != Outcome::Applied {
            continue;
        }
        match &e.event.action {
            Action::Dispatched { departments, .. } => {
                keys.extend(departments.iter().map(|d| format!("dept:{d}")))
            }
            Action::DispatchedToVolunteers { .. } => {
                keys.push(format!("volunteers:{}", facts.community))
            }
            // No other action opens the case to a new reader (holders are added above).
            Action::Reported { .. }
            | Action::HandledOnSpot { .. }
            | Action::Forwarded { .. }
            | Action::Accepted
            | Action::Escalated { .. }
            | Action::Claimed
            | Action::Note { .. }
            | Action::Resolved { .. }
            | Action::Verified { .. }
            | Action::Reworked { .. }
            | Action::Extended { .. }
            | Action::Closed { .. }
            | Action::Voided { .. }
            | Action::MarkedDuplicate { .. }
            | Action::ServerVoid { .. }
            | Action::Unknown { .. } => {}
        }
    }
    if let Some(Assignee::Departments(ds)) = &state.assignee {
        keys.extend(ds.iter().map(|d| format!("dept:{d}")));
    }
    keys.sort();
    keys.dedup();
    keys
}

/// True when a person with `scope` may see a case with `keys`.
pub fn may_see(scope: &ReadScope, keys: &[String]) -> bool {
    scope.all || scope.keys.iter().any(|k| keys.contains(k))
}

/// The keys a patrol is visible through: its walker and companions, its place and community
/// (so the community chief and the centre see it).
pub fn patrol_access_keys(
    facts: &crate::patrol::PatrolFacts,
    state: &crate::patrol::PatrolState,
) -> Vec<String> {
    let mut keys = vec![
        format!("person:{}", facts.walker.person),
        format!("community:{}", facts.community),
        format!("{}:{}", facts.place.kind_str(), facts.place.id()),
    ];
    keys.extend(
        state
            .companions
            .iter()
            .map(|c| format!("person:{}", c.claim.person)),
    );
    keys.sort();
    keys.dedup();
    keys
}
