//! Who may see a case: the access keys a case carries and the keys a person reads with.
//!
//! A case is visible to a person when the two sets meet (or the person sees everything).
//! Keys accumulate: once a person held a case, or a department was dispatched to it, they keep
//! seeing it. Grid worker: their grid and what was sent to them; street chief: their segment;
//! community chief: the community; centre and officials: everything; department: what was
//! dispatched to it; volunteer: requests dispatched to their community's pool.

use super::keys::AccessKey;
use crate::case::{Action, Assignee, CaseState, Claim, Facts, Outcome};
use crate::org::{Role, Scope};
use crate::patrol::PatrolPlace;

/// What a person reads with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadScope {
    /// True for the centre and officials: every case.
    pub all: bool,
    /// Otherwise, the keys.
    pub keys: Vec<AccessKey>,
}

/// The keys a person reads with, from their current claim.
pub fn read_scope(claim: &Claim) -> ReadScope {
    let mut keys = vec![AccessKey::Person(claim.person.clone())];
    let all = claim.role.sees_whole_street();
    match (&claim.role, &claim.scope) {
        (Role::CommunityChief, Scope::Community(c)) => keys.push(AccessKey::Community(c.clone())),
        (Role::GridWorker, Scope::Grid(g)) => keys.push(AccessKey::Grid(g.clone())),
        (Role::PartyStreetChief | Role::MerchantStreetChief, Scope::Segment(s)) => {
            keys.push(AccessKey::Segment(s.clone()))
        }
        (Role::DepartmentStaff, Scope::Department(d)) => keys.push(AccessKey::Dept(d.clone())),
        (Role::Volunteer, Scope::Community(c)) => keys.push(AccessKey::Volunteers(c.clone())),
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
pub fn access_keys(facts: &Facts, state: &CaseState) -> Vec<AccessKey> {
    let mut keys = vec![
        AccessKey::Grid(facts.grid.clone()),
        AccessKey::Community(facts.community.clone()),
        AccessKey::Person(facts.reporter.clone()),
    ];
    if let Some(s) = &facts.segment {
        keys.push(AccessKey::Segment(s.clone()));
    }
    keys.extend(state.holders.iter().cloned().map(AccessKey::Person));
    for e in &state.history {
        if e.outcome != Outcome::Applied {
            continue;
        }
        match &e.event.action {
            Action::Dispatched { departments, .. } => {
                keys.extend(departments.iter().cloned().map(AccessKey::Dept))
            }
            Action::DispatchedToVolunteers { .. } => {
                keys.push(AccessKey::Volunteers(facts.community.clone()))
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
        keys.extend(ds.iter().cloned().map(AccessKey::Dept));
    }
    keys.sort();
    keys.dedup();
    keys
}

/// True when a person with `scope` may see a case with `keys`.
pub fn may_see(scope: &ReadScope, keys: &[AccessKey]) -> bool {
    scope.all || scope.keys.iter().any(|k| keys.contains(k))
}

/// The keys a patrol is visible through: its walker and companions, its place and community
/// (so the community chief and the centre see it).
pub fn patrol_access_keys(
    facts: &crate::patrol::PatrolFacts,
    state: &crate::patrol::PatrolState,
) -> Vec<AccessKey> {
    let place = match &facts.place {
        PatrolPlace::Grid(g) => AccessKey::Grid(g.clone()),
        PatrolPlace::Segment(s) => AccessKey::Segment(s.clone()),
    };
    let mut keys = vec![
        AccessKey::Person(facts.walker.person.clone()),
        AccessKey::Community(facts.community.clone()),
        place,
    ];
    keys.extend(
        state
            .companions
            .iter()
            .map(|c| AccessKey::Person(c.claim.person.clone())),
    );
    keys.sort();
    keys.dedup();
    keys
}
