//! A patrol's state: a deterministic fold over its log and track, like a case's.
//!
//! Rules, in document order (every entry stays in the history with its outcome):
//! - only the walker writes a patrol, except that a companion confirms their own
//!   accompaniment; a server writes voids only;
//! - an accompaniment names somebody other than the walker whose recorded role accompanies
//!   patrols (an official or department staff on any patrol, a grid worker on a street chief's
//!   segment patrol), once per person;
//! - a confirmation counts only when written by the person the accompaniment names, once;
//!   until then (and in documents written before confirmations existed) the accompaniment is
//!   unconfirmed;
//! - the first `Ended` ends the patrol; later ones are rejected;
//! - a server void voids one entry, or with the patrol's id the whole patrol (then it counts
//!   for nothing).

use super::track::{TrackPoint, length_m};
use super::{CompanionKind, PatrolAction, PatrolEvent, PatrolFacts, PatrolPlace};
use crate::case::{Author, Claim, Outcome};
use crate::denied::Denied;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Somebody who walked along.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Companion {
    /// Who, with the role and scope recorded.
    pub claim: Claim,
    /// Which of the three accompaniments.
    pub kind: CompanionKind,
    /// When it was recorded (device clock, ms).
    pub at: i64,
    /// The id of the log entry that recorded it (what a confirmation names).
    #[serde(default)]
    pub event: String,
    /// When the companion confirmed it from their own device (their clock, ms), if they have.
    #[serde(default)]
    pub confirmed_at: Option<i64>,
}

impl Companion {
    /// True once the companion has confirmed from their own device.
    pub fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// A patrol's folded state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolState {
    /// When the walker ended it, if they have.
    pub ended_at: Option<i64>,
    /// Why a server voided the whole patrol, if it did.
    pub voided: Option<String>,
    /// Who walked along, in the order recorded.
    pub companions: Vec<Companion>,
    /// How many fixes the track has.
    pub points: u32,
    /// The walked length through the fixes, metres.
    pub distance_m: f64,
    /// The time of the last fix, if any.
    pub last_fix_at: Option<i64>,
    /// Every log entry with its outcome, in document order.
    pub history: Vec<(PatrolEvent, Outcome)>,
}

impl PatrolState {
    /// True once the walker has ended it.
    pub fn is_ended(&self) -> bool {
        self.ended_at.is_some()
    }

    /// The patrol time that counts: end − start of an ended, valid patrol (0 otherwise, and
    /// never negative on a wrong clock).
    pub fn duration_ms(&self, facts: &PatrolFacts) -> i64 {
        match (self.ended_at, &self.voided) {
            (Some(end), None) => (end - facts.started_at).max(0),
            _ => 0,
        }
    }

    /// The companions of a kind.
    pub fn companions_of(&self, kind: CompanionKind) -> impl Iterator<Item = &Companion> {
        self.companions.iter().filter(move |c| c.kind == kind)
    }

    /// The accompaniment naming `person` that they have not confirmed yet, if any.
    pub fn awaiting(&self, person: &str) -> Option<&Companion> {
        self.companions
            .iter()
            .find(|c| c.claim.person == person && !c.is_confirmed())
    }
}

/// Folds a patrol's log and track into its state.
pub fn fold_patrol(
    facts: &PatrolFacts,
    events: &[PatrolEvent],
    track: &[TrackPoint],
) -> PatrolState {
    let mut voids: HashMap<&str, &str> = HashMap::new();
    for e in events {
        if let (Author::Server { .. }, PatrolAction::ServerVoid { event, reason }) =
            (&e.by, &e.action)
        {
            voids.entry(event.as_str()).or_insert(reason.as_str());
        }
    }
    let mut s = PatrolState {
        ended_at: None,
        voided: voids.get(facts.id.as_str()).map(|r| r.to_string()),
        companions: Vec::new(),
        points: u32::try_from(track.len()).unwrap_or(u32::MAX),
        distance_m: length_m(track),
        last_fix_at: track.last().map(|p| p.at),
        history: Vec::with_capacity(events.len()),
    };
    for e in events {
        let outcome = match voids.get(e.id.as_str()) {
            Some(reason) => Outcome::VoidedByServer(reason.to_string()),
            None if matches!(e.action, PatrolAction::Unknown { .. }) => Outcome::NotUnderstood,
            None => match apply(facts, &mut s, e) {
                Ok(()) => Outcome::Applied,
                Err(reason) => Outcome::Rejected(reason),
            },
        };
        s.history.push((e.clone(), outcome));
    }
    s
}

/// Checks one entry against the state and applies it, or says why it cannot apply: a server
/// entry goes to [`by_server`], a person's to the transition of its action (the walker
/// writes every entry but a companion's own confirmation).
fn apply(facts: &PatrolFacts, s: &mut PatrolState, e: &PatrolEvent) -> Result<(), Denied> {
    let claim = match &e.by {
        Author::Server { .. } => return by_server(&e.action),
        Author::Person(c) => c,
    };
    match &e.action {
        PatrolAction::Unknown { type_name, .. } => Err(unknown(type_name)),
        PatrolAction::ServerVoid { .. } => Err(Denied::PatrolOnlyServerVoids),
        PatrolAction::Confirmed { accompaniment } => confirm(s, &claim.person, accompaniment, e.at),
        PatrolAction::Accompanied { companion } => {
            walker_only(facts, claim)?;
            accompanied(facts, s, companion, e)
        }
        PatrolAction::Ended => {
            walker_only(facts, claim)?;
            ended(s, e.at)
        }
    }
}

/// The refusal of an entry type this build does not know.
fn unknown(type_name: &str) -> Denied {
    Denied::UnknownPatrolEntry {
        type_name: type_name.to_string(),
    }
}

/// An entry written by the server: only a void (it takes effect by being skipped in the
/// fold), nothing else.
fn by_server(action: &PatrolAction) -> Result<(), Denied> {
    match action {
        PatrolAction::Unknown { type_name, .. } => Err(unknown(type_name)),
        PatrolAction::ServerVoid { .. } => Ok(()),
        PatrolAction::Accompanied { .. } | PatrolAction::Ended | PatrolAction::Confirmed { .. } => {
            Err(Denied::PatrolServerOnlyVoids)
        }
    }
}

/// Refuses an entry by anybody but the patrol's walker.
fn walker_only(facts: &PatrolFacts, claim: &Claim) -> Result<(), Denied> {
    if claim.person == facts.walker.person {
        Ok(())
    } else {
        Err(Denied::NotTheWalker {
            walker: facts.walker.person.clone(),
        })
    }
}

/// 陪同: records somebody who walked along. The walker writes it; the companion is somebody
/// else whose recorded role accompanies patrols (an official or department staff on any
/// patrol, a grid worker only on a street chief's segment patrol), once per person. The
/// accompaniment is unconfirmed until the companion confirms it.
fn accompanied(
    facts: &PatrolFacts,
    s: &mut PatrolState,
    companion: &Claim,
    e: &PatrolEvent,
) -> Result<(), Denied> {
    let kind = CompanionKind::of(companion.role).ok_or(Denied::RoleDoesNotAccompany {
        role: companion.role,
    })?;
    if companion.person == facts.walker.person {
        return Err(Denied::WalkerAccompaniesSelf);
    }
    if kind == CompanionKind::GridWorker && !matches!(facts.place, PatrolPlace::Segment(_)) {
        return Err(Denied::GridWorkerOnSegmentsOnly);
    }
    if s.companions
        .iter()
        .any(|c| c.claim.person == companion.person)
    {
        return Err(Denied::CompanionAlreadyRecorded {
            person: companion.person.clone(),
        });
    }
    s.companions.push(Companion {
        claim: companion.clone(),
        kind,
        at: e.at,
        event: e.id.clone(),
        confirmed_at: None,
    });
    Ok(())
}

/// 结束: the walker ends the patrol; the first end counts, later ones are refused.
fn ended(s: &mut PatrolState, at: i64) -> Result<(), Denied> {
    match s.ended_at {
        Some(t) => Err(Denied::PatrolAlreadyEnded { at: t }),
        None => {
            s.ended_at = Some(at);
            Ok(())
        }
    }
}

/// 确认陪同: a companion's confirmation of the accompaniment recorded by entry
/// `accompaniment`; only by the person it names, once.
fn confirm(s: &mut PatrolState, by: &str, accompaniment: &str, at: i64) -> Result<(), Denied> {
    let c = s
        .companions
        .iter_mut()
        .find(|c| c.event == accompaniment)
        .ok_or_else(|| Denied::NoSuchAccompaniment {
            accompaniment: accompaniment.to_string(),
        })?;
    if c.claim.person != by {
        return Err(Denied::NotTheCompanion {
            person: c.claim.person.clone(),
            accompaniment: accompaniment.to_string(),
        });
    }
    if let Some(t) = c.confirmed_at {
        return Err(Denied::AlreadyConfirmed {
            accompaniment: accompaniment.to_string(),
            at: t,
        });
    }
    c.confirmed_at = Some(at);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::{Role, Scope};

    fn facts(place: PatrolPlace) -> PatrolFacts {
        PatrolFacts {
            id: "p1".into(),
            walker: claim("w", Role::PartyStreetChief, Scope::Segment("s1".into())),
            place,
            community: "c1".into(),
            started_at: 1_000,
        }
    }

    fn claim(p: &str, role: Role, scope: Scope) -> Claim {
        Claim {
            person: p.into(),
            role,
            scope,
        }
    }

    fn with(companion: Claim) -> PatrolAction {
        PatrolAction::Accompanied { companion }
    }

    #[test]
    fn companions_end_and_voids_fold_deterministically() {
        let f = facts(PatrolPlace::Segment("s1".into()));
        let w = f.walker.clone();
        let official = claim("o", Role::StreetOfficial, Scope::Street);
        let police = claim("d", Role::DepartmentStaff, Scope::Department("ps".into()));
        let gw = claim("g", Role::GridWorker, Scope::Grid("g1".into()));
        let vol = claim("v", Role::Volunteer, Scope::Community("c1".into()));
        let events = vec![
            PatrolEvent::new(1_100, w.clone(), with(official.clone())),
            PatrolEvent::new(1_200, w.clone(), with(police)),
            PatrolEvent::new(1_300, w.clone(), with(gw)),
            PatrolEvent::new(1_400, w.clone(), with(vol)),
            PatrolEvent::new(1_500, w.clone(), with(official)),
            PatrolEvent::new(1_600, w.clone(), with(w.clone())),
            PatrolEvent::new(9_000, gw_claim(), PatrolAction::Ended),
            PatrolEvent::new(10_000, w.clone(), PatrolAction::Ended),
            PatrolEvent::new(11_000, w.clone(), PatrolAction::Ended),
        ];
        let s = fold_patrol(&f, &events, &[]);
        let outcomes: Vec<bool> = s
            .history
            .iter()
            .map(|(_, o)| *o == Outcome::Applied)
            .collect();
        assert_eq!(
            outcomes,
            [true, true, true, false, false, false, false, true, false]
        );
        assert_eq!(s.companions.len(), 3);
        assert_eq!(s.companions_of(CompanionKind::Official).count(), 1);
        assert_eq!(s.ended_at, Some(10_000));
        assert_eq!(s.duration_ms(&f), 9_000);

        let mut voided = events.clone();
        voided.push(PatrolEvent {
            id: "v1".into(),
            at: 12_000,
            by: Author::Server {
                instance: "s".into(),
            },
            action: PatrolAction::ServerVoid {
                event: events[0].id.clone(),
                reason: "not an official".into(),
            },
        });
        let s = fold_patrol(&f, &voided, &[]);
        // The second record of the official now applies in place of the voided first.
        assert!(matches!(s.history[0].1, Outcome::VoidedByServer(_)));
        assert_eq!(s.history[4].1, Outcome::Applied);
        assert_eq!(s.companions_of(CompanionKind::Official).count(), 1);
        assert_eq!(s.companions[2].at, 1_500);
    }

    fn gw_claim() -> Claim {
        claim("someone-else", Role::GridWorker, Scope::Grid("g1".into()))
    }

    #[test]
    fn a_grid_worker_accompanies_only_segment_patrols_and_a_voided_patrol_counts_nothing() {
        let f = facts(PatrolPlace::Grid("g1".into()));
        let w = f.walker.clone();
        let events = vec![
            PatrolEvent::new(1_100, w.clone(), with(gw_claim())),
            PatrolEvent::new(5_000, w.clone(), PatrolAction::Ended),
            PatrolEvent {
                id: "v".into(),
                at: 6_000,
                by: Author::Server {
                    instance: "s".into(),
                },
                action: PatrolAction::ServerVoid {
                    event: "p1".into(),
                    reason: "moved".into(),
                },
            },
            PatrolEvent {
                id: "x".into(),
                at: 6_000,
                by: Author::Person(w),
                action: PatrolAction::ServerVoid {
                    event: "p1".into(),
                    reason: "forged".into(),
                },
            },
        ];
        let s = fold_patrol(&f, &events, &[]);
        assert!(s.companions.is_empty());
        assert_eq!(s.voided.as_deref(), Some("moved"));
        assert_eq!(s.duration_ms(&f), 0);
        assert!(matches!(s.history[3].1, Outcome::Rejected(_)));
    }

    fn confirm(at: i64, by: Claim, accompaniment: &PatrolEvent) -> PatrolEvent {
        PatrolEvent::new(
            at,
            by,
            PatrolAction::Confirmed {
                accompaniment: accompaniment.id.clone(),
            },
        )
    }

    #[test]
    fn only_the_named_companion_confirms_and_only_once() {
        let f = facts(PatrolPlace::Grid("g1".into()));
        let w = f.walker.clone();
        let official = claim("o", Role::StreetOfficial, Scope::Street);
        let police = claim("d", Role::DepartmentStaff, Scope::Department("ps".into()));
        let with_o = PatrolEvent::new(1_100, w.clone(), with(official.clone()));
        let with_d = PatrolEvent::new(1_200, w.clone(), with(police.clone()));
        let events = vec![
            with_o.clone(),
            with_d.clone(),
            // The walker, a third person and the other companion cannot confirm for "o".
            confirm(1_300, w.clone(), &with_o),
            confirm(1_400, gw_claim(), &with_o),
            confirm(1_500, police.clone(), &with_o),
            confirm(1_600, official.clone(), &with_o),
            confirm(1_700, official.clone(), &with_o),
            confirm(1_800, official.clone(), &with_d),
            PatrolEvent::new(
                1_900,
                official.clone(),
                PatrolAction::Confirmed {
                    accompaniment: "nothing".into(),
                },
            ),
        ];
        let s = fold_patrol(&f, &events, &[]);
        let applied: Vec<bool> = s
            .history
            .iter()
            .map(|(_, o)| *o == Outcome::Applied)
            .collect();
        assert_eq!(
            applied,
            [true, true, false, false, false, true, false, false, false]
        );
        assert_eq!(s.companions[0].confirmed_at, Some(1_600));
        assert!(!s.companions[1].is_confirmed());
        assert_eq!(s.awaiting("o"), None);
        assert_eq!(
            s.awaiting("d").map(|c| c.event.as_str()),
            Some(with_d.id.as_str())
        );

        // A confirmation of a voided accompaniment counts for nothing.
        let mut voided = events[..2].to_vec();
        voided.push(confirm(1_600, official, &with_o));
        voided.push(PatrolEvent {
            id: "v".into(),
            at: 2_000,
            by: Author::Server {
                instance: "s".into(),
            },
            action: PatrolAction::ServerVoid {
                event: with_o.id.clone(),
                reason: "moved".into(),
            },
        });
        let s = fold_patrol(&f, &voided, &[]);
        assert!(matches!(s.history[2].1, Outcome::Rejected(_)));
        assert_eq!(s.companions.len(), 1);
    }

    #[test]
    fn the_track_gives_points_and_distance_and_a_wrong_clock_no_negative_time() {
        let f = facts(PatrolPlace::Segment("s1".into()));
        let pts = [
            TrackPoint {
                at: 2_000,
                lon: 121.0,
                lat: 31.0,
                accuracy_m: 3.0,
            },
            TrackPoint {
                at: 7_000,
                lon: 121.0,
                lat: 31.001,
                accuracy_m: 3.0,
            },
        ];
        let end = PatrolEvent::new(500, f.walker.clone(), PatrolAction::Ended);
        let s = fold_patrol(&f, &[end], &pts);
        assert_eq!(s.points, 2);
        assert!((s.distance_m - 111.2).abs() < 1.0, "{}", s.distance_m);
        assert_eq!(s.last_fix_at, Some(7_000));
        assert_eq!(s.duration_ms(&f), 0);
    }
}
