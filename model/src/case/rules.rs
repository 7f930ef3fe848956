//! Who may do what, and when. These predicates read only the case's facts, its folded state
//! and the author's recorded [`Claim`]: never the roster, so every replica judges alike.

use super::event::{Assignee, Claim};
use super::facts::{CaseKind, Facts};
use super::state::{CaseState, Status};
use crate::denied::Denied;
use crate::org::{Reach, Role, Scope};

/// True when the claim is the case's current assignee.
pub fn holds(state: &CaseState, claim: &Claim) -> bool {
    match &state.assignee {
        Some(Assignee::Person(p)) => *p == claim.person,
        Some(Assignee::Center) => claim.role == Role::StreetCenter,
        Some(Assignee::Departments(ds)) => {
            claim.role == Role::DepartmentStaff
                && matches!(&claim.scope, Scope::Department(d) if ds.contains(d))
        }
        // The volunteers' pool is only claimed, never worked on as such.
        Some(Assignee::Volunteers(_)) | None => false,
    }
}

/// True for the sub-district grid centre's staff.
pub fn is_center(claim: &Claim) -> bool {
    claim.role == Role::StreetCenter
}

/// True for the community grid chief of the case's community.
pub fn is_community_chief(facts: &Facts, claim: &Claim) -> bool {
    claim.role == Role::CommunityChief
        && matches!(&claim.scope, Scope::Community(c) if *c == facts.community)
}

/// True for the grid worker of the case's grid.
pub fn is_grid_worker(facts: &Facts, claim: &Claim) -> bool {
    claim.role == Role::GridWorker && matches!(&claim.scope, Scope::Grid(g) if *g == facts.grid)
}

/// True for the centre and the community chief of the case's community.
pub fn supervises(facts: &Facts, claim: &Claim) -> bool {
    is_center(claim) || is_community_chief(facts, claim)
}

/// True when the claim may verify (or send back) the work: the reporter's side, anybody who
/// held the case before, or a supervisor; never the person who did the work.
pub fn can_verify(facts: &Facts, state: &CaseState, claim: &Claim) -> bool {
    if state.resolved_by.as_deref() == Some(claim.person.as_str()) {
        return false;
    }
    claim.person == facts.reporter
        || state.holders.contains(&claim.person)
        || supervises(facts, claim)
}

/// True when the case concerns the claim at all (reporter, holder, or in its place).
pub fn involved(facts: &Facts, state: &CaseState, claim: &Claim) -> bool {
    claim.person == facts.reporter
        || holds(state, claim)
        || state.holders.contains(&claim.person)
        || is_center(claim)
        || match &claim.scope {
            Scope::Street => true,
            Scope::Community(c) => *c == facts.community,
            Scope::Grid(g) => *g == facts.grid,
            Scope::Segment(s) => facts.segment.as_deref() == Some(s.as_str()),
            Scope::Department(d) => {
                matches!(&state.assignee, Some(Assignee::Departments(ds)) if ds.contains(d))
            }
        }
}

/// Whether a role may raise a case of this kind here, and why not (the role's
/// [`crate::org::Capabilities::reports`] and [`crate::org::Capabilities::requests`]).
pub fn may_report(facts: &Facts, claim: &Claim) -> Result<(), Denied> {
    let caps = claim.role.capabilities();
    let reach = match facts.kind {
        CaseKind::Problem => caps.reports,
        CaseKind::Request => caps.requests,
    };
    let here = claim
        .role
        .in_own_place(&claim.scope, &facts.grid, &facts.community);
    match reach {
        Reach::Anywhere => Ok(()),
        Reach::OwnPlace if here => Ok(()),
        Reach::OwnPlace => Err(Denied::OutsideOwnPlace {
            role: claim.role,
            kind: facts.kind,
            scope: caps.scope,
        }),
        Reach::Never => Err(Denied::RoleMayNotRaise {
            role: claim.role,
            kind: facts.kind,
        }),
    }
}

/// The refusal of an action because of the case's status.
pub fn wrong_status(action: &str, status: Status, state: &CaseState) -> Denied {
    match (status, &state.claimed_by) {
        (Status::InProgress, Some(who)) if action == "claim" => {
            Denied::AlreadyTaken { by: who.clone() }
        }
        _ => Denied::WrongStatus {
            action: action.to_string(),
            status,
        },
    }
}
