//! Patrols on the device: start one on my grid or segment, record the phone's fixes, record
//! who walked along (三陪同), end it; list patrols and the weekly accompaniment count. A
//! companion confirms their accompaniment from their own device (the patrol reaches them
//! because it names them); until then it counts as unconfirmed.
//!
//! Fixes are buffered in the store and packed into one track chunk every [`CHUNK_POINTS`]
//! fixes, when the patrol ends and before every sync, so a two-hour patrol at one fix every
//! 5 s costs about a dozen small document changes.

use super::Device;
use crate::case::Denied;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::org::{Role, Scope};
use crate::patrol::track::check_points;
use crate::patrol::weekly::{WeeklyAccompaniment, week_start, weekly_accompaniments};
use crate::patrol::{
    PatrolAction, PatrolDoc, PatrolEvent, PatrolFacts, PatrolPlace, PatrolState, TrackPoint,
    fold_patrol, fold_patrol_doc, fold_patrol_log,
};
use crate::store::{DocBytes, DocWrite, Ended, Origin, PatrolSummary, PatrolWrite};

/// Fixes packed into one track chunk (10 minutes at one fix every 5 s).
pub const CHUNK_POINTS: u32 = 120;

/// Everything about one patrol that a detail screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct PatrolView {
    /// The immutable facts.
    pub facts: PatrolFacts,
    /// The folded state (of the packed track; `track` also has the buffered fixes).
    pub state: PatrolState,
    /// Every fix: the packed track, then those still buffered on this device.
    pub track: Vec<TrackPoint>,
}

impl Device {
    /// Starts a patrol of my grid (grid workers) or my segment (street chiefs) and returns its
    /// id. Refused while another of my patrols is under way.
    pub fn start_patrol(&self, place: PatrolPlace) -> Result<String> {
        let me = self.claim()?;
        let refuse = |reason: Denied| Error::NotAllowed {
            action: "start a patrol".into(),
            reason,
        };
        // Only the roles that walk patrols (a grid worker, a street chief) walk them, each
        // their own place, held in a scope of their role's kind.
        let walks = me.role.capabilities().walks_patrols && me.role.fits(&me.scope);
        let allowed = walks
            && match (&me.scope, &place) {
                (Scope::Grid(mine), PatrolPlace::Grid(g)) => mine == g,
                (Scope::Segment(mine), PatrolPlace::Segment(s)) => mine == s,
                _ => false,
            };
        if !allowed {
            return Err(refuse(Denied::DoesNotPatrol {
                role: me.role,
                scope: format!("{:?}", me.scope),
                place_kind: place.kind_str().to_string(),
                place: place.id().to_string(),
            }));
        }
        if let Some(open) = self
            .store
            .list_patrols(Some(&me.person), Ended::Excluded, 1)?
            .into_iter()
            .next()
        {
            return Err(refuse(Denied::PatrolUnderWay { patrol: open.id }));
        }
        let org = self.org()?;
        let community = match &place {
            PatrolPlace::Grid(g) => org.roster.grid(g).map(|g| g.community.clone()),
            PatrolPlace::Segment(s) => org.roster.segment(s).map(|s| s.community.clone()),
        }
        .ok_or_else(|| Error::NotFound {
            what: place.kind_str(),
            id: place.id().to_string(),
        })?;
        let facts = PatrolFacts {
            id: uuid::Uuid::now_v7().to_string(),
            walker: me,
            place,
            community,
            started_at: self.now(),
        };
        let mut doc = PatrolDoc::create(&self.actor, &facts).map_err(|e| Error::InvalidInput {
            field: "patrol",
            problem: e.to_string(),
        })?;
        let bytes = doc.save();
        self.store_patrol(&doc, &bytes, DocBytes::Whole, Origin::Local, None)?;
        Ok(facts.id)
    }

    /// Records fixes of my patrol under way (in time order, not before its start or the last
    /// fix). A bad fix refuses the whole batch, naming it; nothing is stored then. Returns how
    /// many fixes wait to be packed.
    pub fn record_track(&self, patrol_id: &str, points: &[TrackPoint]) -> Result<u32> {
        let _editing = self.editing();
        let (doc, facts, state) = self.my_patrol(patrol_id, "record a track")?;
        if state.is_ended() {
            return Err(Error::NotAllowed {
                action: "record a track".into(),
                reason: Denied::PatrolEnded {
                    patrol: patrol_id.to_string(),
                },
            });
        }
        // The last fix is the newest buffered one, else the last of the packed track (only
        // its last chunk is read: this runs for every batch the phone delivers).
        let last = match self.store.last_buffered_at(patrol_id)? {
            Some(t) => Some(t),
            None => doc.last_fix_at().map_err(|e| corrupt(patrol_id, e))?,
        };
        let not_before = last.unwrap_or(facts.started_at).max(facts.started_at);
        check_points(points, not_before).map_err(|e| Error::InvalidInput {
            field: "track",
            problem: e.to_string(),
        })?;
        let waiting = self.store.buffer_points(patrol_id, points)?;
        if waiting >= CHUNK_POINTS {
            self.pack_track(doc)?;
            return Ok(0);
        }
        Ok(waiting)
    }

    /// Records that somebody walks along on my patrol (三陪同): a sub-district official,
    /// enforcement department staff, or (on a street chief's segment patrol) a grid worker.
    pub fn add_companion(&self, patrol_id: &str, person_id: &str) -> Result<PatrolView> {
        let companion = self.claim_of(person_id)?;
        let action = PatrolAction::Accompanied { companion };
        let _editing = self.editing();
        self.log_patrol(patrol_id, "record a companion", action)
    }

    /// Confirms, as the companion a walker named on their patrol, that I walked along: an
    /// entry I sign in the patrol's log. Refused when the patrol names no accompaniment of
    /// mine awaiting confirmation.
    pub fn confirm_accompaniment(&self, patrol_id: &str) -> Result<PatrolView> {
        let what = "confirm an accompaniment";
        let me = self.claim()?;
        let _editing = self.editing();
        let mut doc = self.store.load_patrol(patrol_id, &self.actor)?;
        let (facts, state) = fold_patrol_log(&doc).map_err(|e| corrupt(patrol_id, e))?;
        let accompaniment = state
            .awaiting(&me.person)
            .map(|c| c.event.clone())
            .ok_or_else(|| Error::NotAllowed {
                action: what.into(),
                reason: Denied::NothingToConfirm {
                    patrol: patrol_id.to_string(),
                    person: me.person.clone(),
                },
            })?;
        let event = PatrolEvent::new(self.now(), me, PatrolAction::Confirmed { accompaniment });
        self.append_entry(patrol_id, &mut doc, &facts, event, what)
    }

    /// The patrols naming me as a companion that I have not confirmed yet, newest first.
    pub fn accompaniments_awaiting_me(&self) -> Result<Vec<PatrolSummary>> {
        let me = self.claim()?.person;
        let mut out = Vec::new();
        for s in self.store.list_patrols(None, Ended::Included, u32::MAX)? {
            if s.walker == me || s.companions == 0 {
                continue;
            }
            let doc = self.store.load_patrol(&s.id, &self.actor)?;
            let (_, state) = fold_patrol_log(&doc).map_err(|e| corrupt(&s.id, e))?;
            if state.voided.is_none() && state.awaiting(&me).is_some() {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// Ends my patrol: packs the buffered fixes and records the end.
    pub fn end_patrol(&self, patrol_id: &str) -> Result<PatrolView> {
        let _editing = self.editing();
        let (doc, _, _) = self.my_patrol(patrol_id, "end a patrol")?;
        self.pack_track(doc)?;
        self.log_patrol(patrol_id, "end a patrol", PatrolAction::Ended)
    }

    /// A patrol with its state and its whole track.
    pub fn patrol(&self, patrol_id: &str) -> Result<PatrolView> {
        let doc = self.store.load_patrol(patrol_id, &self.actor)?;
        let (facts, state) = patrol_state(&doc)?;
        let mut track = doc.track().map_err(|e| corrupt(patrol_id, e))?;
        track.extend(self.store.buffered_points(patrol_id)?.0);
        Ok(PatrolView {
            facts,
            state,
            track,
        })
    }

    /// The patrols this device holds (mine and, for chiefs and the centre, those of their
    /// scope), newest first.
    pub fn patrols(&self, limit: u32) -> Result<Vec<PatrolSummary>> {
        self.store.list_patrols(None, Ended::Included, limit)
    }

    /// My patrol under way, if any (to resume recording after the app restarts).
    pub fn active_patrol(&self) -> Result<Option<PatrolSummary>> {
        let me = self.claim()?.person;
        Ok(self
            .store
            .list_patrols(Some(&me), Ended::Excluded, 1)?
            .into_iter()
            .next())
    }

    /// The accompaniment count of the week holding `at` (Monday 00:00 China time onwards) for
    /// every grid worker in my scope (a grid worker: themself), from the patrols this device
    /// holds, against the rule "≥ 2 official accompaniments a week".
    pub fn weekly_accompaniments(&self, at: i64) -> Result<Vec<WeeklyAccompaniment>> {
        let me = self.claim()?;
        let org = self.org()?;
        let people: Vec<String> = org
            .roster
            .people_with_role(Role::GridWorker)
            .filter(|p| {
                if me.role.sees_whole_street() {
                    return true;
                }
                // The head of a community sees its grid workers; everybody else (and a chief
                // whose scopes do not line up) their own only.
                match (me.role.headed_place(&me.scope), &p.scope) {
                    (Some(Scope::Community(c)), Scope::Grid(g)) => {
                        org.roster.grid(g).is_some_and(|g| &g.community == c)
                    }
                    _ => p.id == me.person,
                }
            })
            .map(|p| p.id.clone())
            .collect();
        let week = week_start(at);
        let patrols = self.folded_patrols()?;
        Ok(weekly_accompaniments(
            &people,
            patrols.iter().map(|(f, s)| (f, s)),
            week,
        ))
    }

    /// Every patrol this device holds, folded from its log (tracks not decoded).
    pub(crate) fn folded_patrols(&self) -> Result<Vec<(PatrolFacts, PatrolState)>> {
        let mut out = Vec::new();
        for s in self.store.list_patrols(None, Ended::Included, u32::MAX)? {
            let doc = self.store.load_patrol(&s.id, &self.actor)?;
            out.push(fold_patrol_log(&doc).map_err(|e| corrupt(&s.id, e))?);
        }
        Ok(out)
    }

    /// Packs the buffered fixes of every patrol into their tracks (before a sync).
    pub(crate) fn pack_all_tracks(&self) -> Result<()> {
        let _editing = self.editing();
        for id in self.store.patrols_with_buffered_points()? {
            let doc = self.store.load_patrol(&id, &self.actor)?;
            self.pack_track(doc)?;
        }
        Ok(())
    }

    fn pack_track(&self, mut doc: PatrolDoc) -> Result<()> {
        let id = doc.facts().map_err(|e| corrupt("", e))?.id;
        let (points, upto) = self.store.buffered_points(&id)?;
        if points.is_empty() {
            return Ok(());
        }
        let bytes = doc.append_track(&points).map_err(|e| corrupt(&id, e))?;
        self.store_patrol(&doc, &bytes, DocBytes::Changes, Origin::Local, upto)
    }

    fn my_patrol(
        &self,
        patrol_id: &str,
        action: &str,
    ) -> Result<(PatrolDoc, PatrolFacts, PatrolState)> {
        let me = self.claim()?;
        let doc = self.store.load_patrol(patrol_id, &self.actor)?;
        // The walker and the log decide what may be written; the track is not decoded.
        let (facts, state) = fold_patrol_log(&doc).map_err(|e| corrupt(patrol_id, e))?;
        if facts.walker.person != me.person {
            return Err(Error::NotAllowed {
                action: action.into(),
                reason: Denied::WalkedByOther {
                    patrol: patrol_id.to_string(),
                    walker: facts.walker.person.clone(),
                },
            });
        }
        Ok((doc, facts, state))
    }

    fn log_patrol(&self, patrol_id: &str, what: &str, action: PatrolAction) -> Result<PatrolView> {
        let (mut doc, facts, _) = self.my_patrol(patrol_id, what)?;
        let event = PatrolEvent::new(self.now(), self.claim()?, action);
        self.append_entry(patrol_id, &mut doc, &facts, event, what)
    }

    /// Appends a log entry of mine when the fold applies it (whether it does depends on the
    /// log alone), stores it with its outbox entry, and returns the patrol as it now stands.
    fn append_entry(
        &self,
        patrol_id: &str,
        doc: &mut PatrolDoc,
        facts: &PatrolFacts,
        event: PatrolEvent,
        what: &str,
    ) -> Result<PatrolView> {
        let mut events = doc.events().map_err(|e| corrupt(patrol_id, e))?;
        events.push(event.clone());
        if let Some((_, crate::case::Outcome::Rejected(reason))) =
            fold_patrol(facts, &events, &[]).history.last()
        {
            return Err(Error::NotAllowed {
                action: what.into(),
                reason: reason.clone(),
            });
        }
        let bytes = doc
            .append_event(&event)
            .map_err(|e| corrupt(patrol_id, e))?;
        self.store_patrol(doc, &bytes, DocBytes::Changes, Origin::Local, None)?;
        self.patrol(patrol_id)
    }

    /// Stores a patrol's bytes with its index row (and, when made here, its outbox entry).
    pub(crate) fn store_patrol(
        &self,
        doc: &PatrolDoc,
        bytes: &[u8],
        kind: DocBytes,
        origin: Origin,
        packed_upto: Option<i64>,
    ) -> Result<()> {
        let (facts, state) = patrol_state(doc)?;
        self.store.write_patrol(&PatrolWrite {
            doc: DocWrite {
                id: &facts.id,
                bytes,
                kind,
                origin,
                now: self.now(),
                keep: None,
            },
            facts: &facts,
            state: &state,
            packed_upto,
        })
    }
}

/// A patrol document's facts and folded state.
pub(crate) fn patrol_state(doc: &PatrolDoc) -> Result<(PatrolFacts, PatrolState)> {
    fold_patrol_doc(doc).map_err(|e| corrupt(&doc.facts().map(|f| f.id).unwrap_or_default(), e))
}

fn corrupt(id: &str, e: crate::case::DocError) -> Error {
    Error::CorruptCase {
        case_id: id.to_string(),
        reason: e.to_string(),
    }
}
