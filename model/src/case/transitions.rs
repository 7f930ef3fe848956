//! One transition per action: what each action does to a case's state, and who may take it.
//!
//! [`super::fold()`] calls these after its gates (the case was raised, the action is known, a
//! note is judged apart, the case is not finished); each function checks the rest of what the
//! action needs (the status it may start from, the author's role and hold on the case, the
//! action's own fields) and then changes the state, or returns the reason it cannot, leaving
//! the state as it was. Role checks come from [`super::rules`].

use super::event::{Action, Assignee, Claim};
use super::facts::{CaseKind, Facts};
use super::rules;
use super::state::{CaseState, HOUR_MS, Status};
use crate::denied::Denied;
use crate::org::{Level, Role, Scope};

/// Who takes an action on a case, and what the gates already worked out about them.
pub(super) struct By<'a> {
    /// The case's facts.
    pub(super) facts: &'a Facts,
    /// The author's recorded claim.
    pub(super) claim: &'a Claim,
    /// The event's device time, ms since the epoch.
    pub(super) at: i64,
    /// The action's name, for refusals.
    pub(super) action: &'a str,
    /// Whether the author holds the case now ([`rules::holds`]).
    pub(super) holds: bool,
}

impl By<'_> {
    /// Refuses unless the case is in one of `allowed`.
    fn need_status(&self, s: &CaseState, allowed: &[Status]) -> Result<(), Denied> {
        if allowed.contains(&s.status) {
            Ok(())
        } else {
            Err(rules::wrong_status(self.action, s.status, s))
        }
    }

    /// Refuses unless the author holds the case.
    fn need_holder(&self, s: &CaseState) -> Result<(), Denied> {
        if self.holds {
            return Ok(());
        }
        Err(Denied::NotHolder {
            person: self.claim.person.clone(),
            holder: match &s.assignee {
                Some(Assignee::Person(p)) => Some(p.clone()),
                _ => None,
            },
        })
    }
}

/// An event written by the server: only a void of another event (it takes effect by being
/// skipped in the fold), nothing else.
pub(super) fn by_server(action: &Action) -> Result<(), Denied> {
    match action {
        Action::ServerVoid { .. } => Ok(()),
        Action::Reported { .. }
        | Action::HandledOnSpot { .. }
        | Action::Forwarded { .. }
        | Action::Accepted
        | Action::Escalated { .. }
        | Action::Dispatched { .. }
        | Action::DispatchedToVolunteers { .. }
        | Action::Claimed
        | Action::Note { .. }
        | Action::Resolved { .. }
        | Action::Verified { .. }
        | Action::Reworked { .. }
        | Action::Extended { .. }
        | Action::Closed { .. }
        | Action::Voided { .. }
        | Action::MarkedDuplicate { .. }
        | Action::Unknown { .. } => Err(Denied::ServerOnlyVoids),
    }
}

/// The refusal of an action type this build does not know.
pub(super) fn unknown(type_name: &str) -> Denied {
    Denied::UnknownAction {
        type_name: type_name.to_string(),
    }
}

/// 上报 / 申请: raises the case. Only once, only by the reporter the facts name, and only by a
/// role that may report this kind of case ([`rules::may_report`]); a problem goes to one
/// person or the centre, a request to one person. Sets the starting level (grid; community
/// for requests and community chiefs; street for the centre) and status (with the reporter
/// when they kept it, forwarded or requested when they sent it on).
pub(super) fn report(
    facts: &Facts,
    s: &mut CaseState,
    claim: &Claim,
    assignee: &Assignee,
) -> Result<(), Denied> {
    if s.raised {
        return Err(Denied::AlreadyReported);
    }
    if claim.person != facts.reporter {
        return Err(Denied::NotTheReporter {
            reporter: facts.reporter.clone(),
            person: claim.person.clone(),
        });
    }
    rules::may_report(facts, claim)?;
    let to_self = matches!(assignee, Assignee::Person(p) if *p == claim.person)
        || (matches!(assignee, Assignee::Center) && rules::is_center(claim));
    let shape_ok = match facts.kind {
        CaseKind::Problem => matches!(assignee, Assignee::Person(_) | Assignee::Center),
        CaseKind::Request => matches!(assignee, Assignee::Person(_)),
    };
    if !shape_ok {
        return Err(Denied::NewCaseAssignee);
    }
    s.raised = true;
    s.holders.push(claim.person.clone());
    s.level = match facts.kind {
        CaseKind::Request => Level::Community,
        CaseKind::Problem => claim.role.capabilities().problem_level,
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

/// 备注: changes nothing; allowed in any status (finished cases included) to anyone involved
/// in the case ([`rules::involved`]), with some text.
pub(super) fn note(facts: &Facts, s: &CaseState, claim: &Claim, text: &str) -> Result<(), Denied> {
    if text.trim().is_empty() {
        return Err(Denied::NoteNeedsText);
    }
    if rules::involved(facts, s, claim) {
        Ok(())
    } else {
        Err(Denied::NotInvolved {
            person: claim.person.clone(),
        })
    }
}

/// 自行处置: closes a grid-level case on the spot. The holder, if a grid worker or street
/// chief, from reported or in progress, with an after photo.
pub(super) fn handled_on_spot(
    by: &By<'_>,
    s: &mut CaseState,
    photos: &[String],
) -> Result<(), Denied> {
    by.need_status(s, &[Status::Reported, Status::InProgress])?;
    by.need_holder(s)?;
    if s.level != Level::Grid || !by.claim.role.capabilities().handles_on_spot {
        return Err(Denied::OnSpotNotAllowed);
    }
    if photos.is_empty() {
        return Err(Denied::AfterPhotoRequired);
    }
    s.status = Status::Closed;
    s.handled_on_spot = true;
    s.resolved_at = Some(by.at);
    s.closed_at = Some(by.at);
    Ok(())
}

/// 转交: hands a grid-level case to another person, who must accept it. The holder, from
/// reported, in progress or forwarded; never to themselves.
pub(super) fn forwarded(by: &By<'_>, s: &mut CaseState, to: &str) -> Result<(), Denied> {
    by.need_status(
        s,
        &[Status::Reported, Status::InProgress, Status::Forwarded],
    )?;
    by.need_holder(s)?;
    if s.level != Level::Grid {
        return Err(Denied::ForwardOnlyGridLevel);
    }
    if to == by.claim.person {
        return Err(Denied::ForwardToSelf);
    }
    s.status = Status::Forwarded;
    s.hold(Assignee::Person(to.to_string()));
    Ok(())
}

/// 受理: the person (or pool) it was sent to takes it on; it is then in progress. When it
/// waited on the centre, the accepting person holds it by name from now on.
pub(super) fn accepted(by: &By<'_>, s: &mut CaseState) -> Result<(), Denied> {
    by.need_status(
        s,
        &[
            Status::Forwarded,
            Status::Escalated,
            Status::Dispatched,
            Status::Requested,
        ],
    )?;
    by.need_holder(s)?;
    s.status = Status::InProgress;
    if let Some(Assignee::Center) = s.assignee {
        s.hold(Assignee::Person(by.claim.person.clone()));
    }
    Ok(())
}

/// 上报上级: sends a problem one level up with a reason: the grid worker from the grid to a
/// person at the community, the community chief from the community to the centre. The
/// holder; the street level dispatches instead.
pub(super) fn escalated(
    by: &By<'_>,
    s: &mut CaseState,
    to_level: Level,
    to: &Assignee,
    reason: &str,
) -> Result<(), Denied> {
    by.need_status(
        s,
        &[
            Status::Reported,
            Status::Forwarded,
            Status::InProgress,
            Status::Escalated,
        ],
    )?;
    if by.facts.kind != CaseKind::Problem {
        return Err(Denied::RequestNotEscalated);
    }
    by.need_holder(s)?;
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
            return Err(Denied::StreetLevelDispatches);
        }
    };
    if by.claim.role != needed_role {
        return Err(Denied::EscalateWrongRole {
            role: needed_role,
            level: s.level,
        });
    }
    if to_level != next || !shape_ok {
        return Err(Denied::EscalateWrongTarget {
            level: s.level,
            next,
        });
    }
    if reason.trim().is_empty() {
        return Err(Denied::EscalationNeedsReason);
    }
    s.status = Status::Escalated;
    s.level = next;
    s.hold(to.clone());
    Ok(())
}

/// 派遣: the street grid centre sends a street-level problem to one or more departments
/// (several make it joint enforcement, 联合执法).
pub(super) fn dispatched(
    by: &By<'_>,
    s: &mut CaseState,
    departments: &[String],
) -> Result<(), Denied> {
    by.need_status(
        s,
        &[Status::Escalated, Status::InProgress, Status::Dispatched],
    )?;
    if by.facts.kind != CaseKind::Problem {
        return Err(Denied::RequestToVolunteers);
    }
    if !rules::is_center(by.claim) {
        return Err(Denied::DispatchOnlyCentre);
    }
    if s.level < Level::Street {
        return Err(Denied::DispatchOnlyStreetLevel);
    }
    if departments.is_empty() {
        return Err(Denied::NoDepartment);
    }
    s.status = Status::Dispatched;
    s.level = if departments.len() > 1 {
        Level::JointEnforcement
    } else {
        Level::Street
    };
    s.hold(Assignee::Departments(departments.to_vec()));
    Ok(())
}

/// 派给志愿者: the community chief of the request's community puts a resident request in the
/// community's volunteer pool.
pub(super) fn dispatched_to_volunteers(by: &By<'_>, s: &mut CaseState) -> Result<(), Denied> {
    by.need_status(s, &[Status::Requested, Status::InProgress])?;
    if by.facts.kind != CaseKind::Request {
        return Err(Denied::VolunteersOnlyRequests);
    }
    if !rules::is_community_chief(by.facts, by.claim) {
        return Err(Denied::VolunteersOnlyChief);
    }
    s.status = Status::Dispatched;
    s.hold(Assignee::Volunteers(by.facts.community.clone()));
    Ok(())
}

/// 认领: a volunteer of the pool's community takes a dispatched request; the first claim in
/// document order wins, later ones lose.
pub(super) fn claimed(by: &By<'_>, s: &mut CaseState) -> Result<(), Denied> {
    if let Some(who) = &s.claimed_by {
        return Err(Denied::AlreadyTaken { by: who.clone() });
    }
    by.need_status(s, &[Status::Dispatched])?;
    let claim = by.claim;
    let pool_ok = matches!(&s.assignee, Some(Assignee::Volunteers(c))
        if claim.role == Role::Volunteer
            && matches!(&claim.scope, Scope::Community(mine) if mine == c));
    if !pool_ok {
        return Err(Denied::ClaimOnlyVolunteer);
    }
    s.status = Status::InProgress;
    s.claimed_by = Some(claim.person.clone());
    s.hold(Assignee::Person(claim.person.clone()));
    Ok(())
}

/// 处置完成: the holder reports the work done, with a photo or a note; it then waits for
/// verification.
pub(super) fn resolved(
    by: &By<'_>,
    s: &mut CaseState,
    note: &str,
    photos: &[String],
) -> Result<(), Denied> {
    by.need_status(
        s,
        &[
            Status::InProgress,
            Status::Forwarded,
            Status::Escalated,
            Status::Dispatched,
            Status::Reported,
        ],
    )?;
    by.need_holder(s)?;
    if note.trim().is_empty() && photos.is_empty() {
        return Err(Denied::EvidenceRequired);
    }
    s.status = Status::Resolved;
    s.resolved_by = Some(by.claim.person.clone());
    s.resolved_at = Some(by.at);
    Ok(())
}

/// 核查: the reporter's side or a supervisor (never the handler, [`rules::can_verify`])
/// confirms resolved work.
pub(super) fn verified(by: &By<'_>, s: &mut CaseState) -> Result<(), Denied> {
    by.need_status(s, &[Status::Resolved])?;
    if !rules::can_verify(by.facts, s, by.claim) {
        return Err(Denied::MayNotVerify {
            person: by.claim.person.clone(),
        });
    }
    s.status = Status::Verified;
    Ok(())
}

/// 返工: whoever may verify sends resolved or verified work back, saying what is still
/// wrong; it is in progress again with the same holder, and counts one more rework.
pub(super) fn reworked(by: &By<'_>, s: &mut CaseState, reason: &str) -> Result<(), Denied> {
    by.need_status(s, &[Status::Resolved, Status::Verified])?;
    if !rules::can_verify(by.facts, s, by.claim) {
        return Err(Denied::MayNotRework {
            person: by.claim.person.clone(),
        });
    }
    if reason.trim().is_empty() {
        return Err(Denied::ReworkNeedsReason);
    }
    s.status = Status::InProgress;
    s.resolved_by = None;
    s.reworks += 1;
    Ok(())
}

/// 延期: the community chief or the centre ([`rules::supervises`]) moves the deadline by 1 to
/// 720 hours, to the deadline the extending device recorded (or by natural hours for events
/// without one). An extension that would not move the deadline later loses.
pub(super) fn extended(
    by: &By<'_>,
    s: &mut CaseState,
    hours: u32,
    until: Option<i64>,
) -> Result<(), Denied> {
    if !(1..=720).contains(&hours) {
        return Err(Denied::ExtensionHours);
    }
    if !rules::supervises(by.facts, by.claim) {
        return Err(Denied::ExtendOnlySupervisor);
    }
    let moved = until.unwrap_or(s.deadline + i64::from(hours) * HOUR_MS);
    if moved <= s.deadline {
        // Two extensions made offline from the same deadline: one earlier in document
        // order already gives more time than this one would.
        return Err(Denied::DeadlineAlreadyLater);
    }
    s.deadline = moved;
    s.extensions += 1;
    Ok(())
}

/// 结案: whoever may verify closes verified work.
pub(super) fn closed(by: &By<'_>, s: &mut CaseState) -> Result<(), Denied> {
    by.need_status(s, &[Status::Verified])?;
    if !rules::can_verify(by.facts, s, by.claim) {
        return Err(Denied::MayNotClose {
            person: by.claim.person.clone(),
        });
    }
    s.status = Status::Closed;
    s.closed_at = Some(by.at);
    Ok(())
}

/// 作废: withdraws the case as invalid, with a reason. The centre at any level; the community
/// chief while it is at the grid or community level; the reporter while nobody has accepted
/// it yet.
pub(super) fn voided(by: &By<'_>, s: &mut CaseState, reason: &str) -> Result<(), Denied> {
    let (facts, claim) = (by.facts, by.claim);
    let own_unaccepted = claim.person == facts.reporter
        && matches!(
            s.status,
            Status::Reported | Status::Forwarded | Status::Requested
        );
    let community_level = rules::is_community_chief(facts, claim)
        && matches!(s.level, Level::Grid | Level::Community);
    if !(rules::is_center(claim) || own_unaccepted || community_level) {
        return Err(Denied::MayNotVoid);
    }
    if reason.trim().is_empty() {
        return Err(Denied::VoidNeedsReason);
    }
    s.status = Status::Voided;
    s.closed_at = Some(by.at);
    Ok(())
}

/// 重复案件: folds the case into another one (never itself). The grid worker of its grid,
/// the community chief or the centre.
pub(super) fn marked_duplicate(by: &By<'_>, s: &mut CaseState, of: &str) -> Result<(), Denied> {
    if of == by.facts.id {
        return Err(Denied::DuplicateOfItself);
    }
    if !(rules::supervises(by.facts, by.claim) || rules::is_grid_worker(by.facts, by.claim)) {
        return Err(Denied::MayNotMarkDuplicate);
    }
    s.status = Status::Duplicate;
    s.duplicate_of = Some(of.to_string());
    s.closed_at = Some(by.at);
    Ok(())
}
