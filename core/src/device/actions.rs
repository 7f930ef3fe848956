//! The actions on an existing case. Each builds one event, checks it with the fold's rules
//! against the case's current state, and only then appends it: a refused action writes nothing
//! and says why.

use super::{Device, Made, Org};
use crate::case::{Action, Assignee, CaseDoc, CaseState, Claim, Denied, Event, Facts, check, fold};
use crate::error::{Error, Result};
use crate::org::{Level, LimitClock};
use crate::store::Origin;

impl Device {
    /// Appends the event `build` makes, after checking it; returns the new state.
    fn act(
        &self,
        case_id: &str,
        build: impl FnOnce(&Org, &Facts, &CaseState, &Claim) -> Result<Action>,
    ) -> Result<CaseState> {
        let claim = self.claim()?;
        let org = self.org()?;
        let _editing = self.editing();
        let (mut doc, read_at) = self.store.load_tracked::<CaseDoc>(case_id, &self.actor)?;
        let corrupt = |e: crate::case::DocError| Error::CorruptCase {
            case_id: case_id.to_string(),
            reason: e.to_string(),
        };
        let facts = doc.facts().map_err(corrupt)?;
        let mut events = doc.events().map_err(corrupt)?;
        let state = fold(&facts, &events);
        let action = build(&org, &facts, &state, &claim)?;
        let name = action.name();
        let now = self.now();
        let event = Event::new(now, claim, action);
        check(&facts, &state, &event).map_err(|reason| {
            log::info!(
                target: crate::logs::RULES,
                "refused {name} on case {case_id}: {}",
                reason.code()
            );
            Error::NotAllowed {
                action: name.to_string(),
                reason,
            }
        })?;
        let change = doc.append_event(&event).map_err(corrupt)?;
        events.push(event);
        let made = Made::ChangedFrom(read_at);
        self.write(&doc, &change, made, Origin::Local, &[], now)?;
        Ok(fold(&facts, &events))
    }

    /// A street chief (or informant's grid worker) sends the case to the grid worker of its
    /// grid, found in the roster.
    pub fn forward(&self, case_id: &str, note: &str) -> Result<CaseState> {
        self.act(case_id, |org, facts, _, _| {
            let to = org
                .roster
                .grid_worker_of(&facts.grid)
                .ok_or_else(|| Error::NotFound {
                    what: "grid worker of grid",
                    id: facts.grid.clone(),
                })?;
            Ok(Action::Forwarded {
                to: to.id.clone(),
                note: note.to_string(),
            })
        })
    }

    /// Takes on a case that was forwarded, escalated or dispatched to me.
    pub fn accept(&self, case_id: &str) -> Result<CaseState> {
        self.act(case_id, |_, _, _, _| Ok(Action::Accepted))
    }

    /// Sends the case up one level: grid → community chief, community → street centre.
    pub fn escalate(&self, case_id: &str, reason: &str) -> Result<CaseState> {
        self.act(case_id, |org, facts, state, _| {
            let (to_level, to) = match state.level {
                Level::Grid => {
                    let chief =
                        org.roster
                            .community_chief_of(&facts.community)
                            .ok_or_else(|| Error::NotFound {
                                what: "community grid chief of community",
                                id: facts.community.clone(),
                            })?;
                    (Level::Community, Assignee::Person(chief.id.clone()))
                }
                Level::Community => (Level::Street, Assignee::Center),
                Level::Street | Level::JointEnforcement => {
                    return Err(Error::NotAllowed {
                        action: "escalate".into(),
                        reason: Denied::StreetLevelDispatches,
                    });
                }
            };
            Ok(Action::Escalated {
                to_level,
                to,
                reason: reason.to_string(),
            })
        })
    }

    /// The centre sends the case to one department, or to several for joint enforcement.
    pub fn dispatch(&self, case_id: &str, departments: &[String], note: &str) -> Result<CaseState> {
        self.act(case_id, |org, _, _, _| {
            for d in departments {
                if org.roster.department(d).is_none() {
                    return Err(Error::NotFound {
                        what: "department",
                        id: d.clone(),
                    });
                }
            }
            let mut departments = departments.to_vec();
            departments.sort();
            departments.dedup();
            Ok(Action::Dispatched {
                departments,
                note: note.to_string(),
            })
        })
    }

    /// A community chief publishes a resident request to the community's volunteers.
    pub fn dispatch_to_volunteers(&self, case_id: &str, note: &str) -> Result<CaseState> {
        self.act(case_id, |_, _, _, _| {
            Ok(Action::DispatchedToVolunteers {
                note: note.to_string(),
            })
        })
    }

    /// A volunteer takes a dispatched request. When two claim it offline, the first in
    /// document order wins and the other sees "already taken by …" after syncing.
    pub fn claim_request(&self, case_id: &str) -> Result<CaseState> {
        self.act(case_id, |_, _, _, _| Ok(Action::Claimed))
    }

    /// Settles the case on the spot (自行处置), with after photos (their hashes).
    pub fn handle_on_spot(
        &self,
        case_id: &str,
        note: &str,
        photos: &[String],
    ) -> Result<CaseState> {
        self.act(case_id, |_, _, _, _| {
            Ok(Action::HandledOnSpot {
                note: note.to_string(),
                photos: photos.to_vec(),
            })
        })
    }

    /// Reports the work done, with evidence (a note, photos or both).
    pub fn resolve(&self, case_id: &str, note: &str, photos: &[String]) -> Result<CaseState> {
        self.act(case_id, |_, _, _, _| {
            Ok(Action::Resolved {
                note: note.to_string(),
                photos: photos.to_vec(),
            })
        })
    }

    /// Confirms the work (the reporter's side or a supervisor).
    pub fn verify(&self, case_id: &str, note: &str) -> Result<CaseState> {
        self.act(case_id, |_, _, _, _| {
            Ok(Action::Verified {
                note: note.to_string(),
            })
        })
    }

    /// Sends the work back to the handler.
    pub fn rework(&self, case_id: &str, reason: &str) -> Result<CaseState> {
        self.act(case_id, |_, _, _, _| {
            Ok(Action::Reworked {
                reason: reason.to_string(),
            })
        })
    }

    /// Moves the deadline by `hours` on the case's clock: working hours of this device's
    /// calendar for a working-hours category (an extension from Friday 17:00 by 2 hours ends
    /// on Monday at 10:30), natural hours for a natural-hours one or for a case raised before
    /// deadlines were recorded. The new deadline is recorded in the event.
    pub fn extend(&self, case_id: &str, hours: u32, reason: &str) -> Result<CaseState> {
        self.act(case_id, |org, facts, state, _| {
            let clock = facts.clock.unwrap_or(LimitClock::Natural);
            let until = org
                .catalogue
                .calendar
                .add_hours(state.deadline, hours, clock);
            Ok(Action::Extended {
                hours,
                reason: reason.to_string(),
                until: Some(until),
            })
        })
    }

    /// Closes a verified case.
    pub fn close(&self, case_id: &str, note: &str) -> Result<CaseState> {
        self.act(case_id, |_, _, _, _| {
            Ok(Action::Closed {
                note: note.to_string(),
            })
        })
    }

    /// Withdraws a case as invalid.
    pub fn void(&self, case_id: &str, reason: &str) -> Result<CaseState> {
        self.act(case_id, |_, _, _, _| {
            Ok(Action::Voided {
                reason: reason.to_string(),
            })
        })
    }

    /// Marks the case as a duplicate of another the device holds; both keep their reporters
    /// and photos.
    pub fn mark_duplicate(&self, case_id: &str, of: &str) -> Result<CaseState> {
        if !self.store.has_case(of)? {
            return Err(Error::NotFound {
                what: "case",
                id: of.to_string(),
            });
        }
        self.act(case_id, |_, _, _, _| {
            Ok(Action::MarkedDuplicate { of: of.to_string() })
        })
    }

    /// Adds a note.
    pub fn note(&self, case_id: &str, text: &str) -> Result<CaseState> {
        self.act(case_id, |_, _, _, _| {
            Ok(Action::Note {
                text: text.to_string(),
            })
        })
    }
}
