//! Patrols (巡查) on [`XiangyingDevice`]: a grid worker walks their grid or a street chief their
//! segment; the app starts the patrol, hands over the phone's location fixes in batches,
//! records who walked along (三陪同) and ends it. Patrols are synced documents like cases:
//! `sync_now` pushes and pulls them, and chiefs and the centre see the patrols of their scope.
//!
//! Blocking or async follows decision 0005: what touches one patrol (its document and the
//! buffer of fixes: start, record, companion, end, one patrol with its whole track, a
//! two-hour track of 1,440 fixes included) or the index (the lists) is a blocking call of a
//! few milliseconds; the weekly count, which folds every patrol the device holds, runs on a
//! worker thread.
//!
//! Changes are announced like case changes: the registered [`crate::CaseListener`]s hear the
//! patrol's id after every start, batch of fixes, companion and end, and a sync reports the
//! patrols it pulled among the changed ids. Ids are UUIDs of either kind; a screen refreshes
//! when an id it shows is among them (or the list is empty).

use crate::device::{XiangyingDevice, on_worker};
use crate::error::{ApiError, ApiResult};
use crate::patrol_types::{
    PatrolPlace, PatrolSummary, PatrolView, TrackPoint, WeeklyAccompaniment, WeeklyAccompaniments,
};
use std::sync::Arc;
use xiangying_core::Error as CoreError;
use xiangying_core::patrol::TrackPoint as CoreTrackPoint;
use xiangying_core::patrol::weekly::week_start;

impl XiangyingDevice {
    /// One patrol as the app sees it, people named from the roster copy.
    fn patrol_view(&self, v: xiangying_core::PatrolView) -> PatrolView {
        let roster = self.device.roster().ok();
        PatrolView::of(v, roster.as_ref(), self.map_datum.get())
    }

    /// Maps a core error of a call on `patrol_id`: the store's "case not found" names a
    /// patrol, and the id of a case (whose document does not read as a patrol) is not found
    /// either, rather than a corrupt document. Case and patrol ids arrive through the same
    /// change listener, so an app may well ask for the wrong kind.
    fn patrol_error(&self, patrol_id: &str, e: CoreError) -> ApiError {
        match e {
            CoreError::NotFound { what: "case", id } => ApiError::NotFound {
                what: "patrol".into(),
                id,
            },
            CoreError::CorruptCase { .. } if self.device.case(patrol_id).is_ok() => {
                ApiError::NotFound {
                    what: "patrol".into(),
                    id: patrol_id.to_string(),
                }
            }
            e => e.into(),
        }
    }
}

#[uniffi::export]
impl XiangyingDevice {
    /// Starts a patrol and returns its id: a grid worker on their own grid, a street chief on
    /// their own segment; one patrol at a time per person. The listeners hear of it.
    ///
    /// Errors: `NotAllowed` (another person's grid or segment, a role that does not patrol, a
    /// patrol of mine still under way: the reason names it), `NotFound` (the place is not in
    /// the roster), `NotSetUp` (no roster or person).
    pub fn start_patrol(&self, place: PatrolPlace) -> ApiResult<String> {
        let id = self.device.start_patrol(place.into())?;
        self.listeners.notify(vec![id.clone()]);
        Ok(id)
    }

    /// Records a batch of the phone's location fixes on my patrol under way: in time order,
    /// not before the patrol's start nor the last fix recorded. Returns how many fixes are
    /// buffered on the device, not yet packed into the patrol's document (they are packed
    /// every 120 fixes, when the patrol ends and before every sync; 0 right after a pack).
    /// The listeners hear of the patrol (not of an empty batch). Batches of a few to a few dozen fixes are the
    /// intended size: each is one small SQLite write.
    ///
    /// One bad fix refuses the whole batch and nothing is stored: `InvalidInput` with field
    /// `track` and a problem starting `track point #i` (its index in this batch: a position
    /// that is not one, a negative or NaN accuracy, a time going back). Also `NotAllowed` (not
    /// the walker, or the patrol has ended), `NotFound` (no such patrol).
    pub fn record_track(&self, patrol_id: String, points: Vec<TrackPoint>) -> ApiResult<u32> {
        let points: Vec<CoreTrackPoint> = points.into_iter().map(Into::into).collect();
        let waiting = self
            .device
            .record_track(&patrol_id, &points)
            .map_err(|e| self.patrol_error(&patrol_id, e))?;
        if !points.is_empty() {
            self.listeners.notify(vec![patrol_id]);
        }
        Ok(waiting)
    }

    /// Records that `person_id` walks along on my patrol (三陪同): a sub-district official or
    /// enforcement department staff on any patrol, a grid worker on a street chief's segment
    /// patrol; once per person. Returns the patrol with its companions; the listeners hear
    /// of it.
    ///
    /// Errors: `NotAllowed` (not the walker, the person's role does not accompany patrols or
    /// not this kind of patrol, already recorded, the walker themself), `NotFound` (no such
    /// person in the roster, no such patrol).
    pub fn add_companion(&self, patrol_id: String, person_id: String) -> ApiResult<PatrolView> {
        let v = self
            .device
            .add_companion(&patrol_id, &person_id)
            .map_err(|e| self.patrol_error(&patrol_id, e))?;
        self.listeners.notify(vec![patrol_id]);
        Ok(self.patrol_view(v))
    }

    /// Confirms, as the companion a walker named on their patrol, that I walked along (三陪同):
    /// an entry I sign, pushed at the next sync. Only a confirmed accompaniment counts for the
    /// weekly rule. Returns the patrol; the listeners hear of it.
    ///
    /// Errors: `NotAllowed` (the patrol names no accompaniment of mine awaiting
    /// confirmation), `NotFound` (no such patrol on this device).
    pub fn confirm_accompaniment(&self, patrol_id: String) -> ApiResult<PatrolView> {
        let v = self
            .device
            .confirm_accompaniment(&patrol_id)
            .map_err(|e| self.patrol_error(&patrol_id, e))?;
        self.listeners.notify(vec![patrol_id]);
        Ok(self.patrol_view(v))
    }

    /// The patrols naming me as a companion that I have not confirmed yet, newest first:
    /// what an official's or department's "to confirm" list shows. `NotSetUp` before a person
    /// is set.
    pub fn accompaniments_awaiting_me(&self) -> ApiResult<Vec<PatrolSummary>> {
        let rows = self.device.accompaniments_awaiting_me()?;
        let roster = self.device.roster().ok();
        Ok(rows
            .into_iter()
            .map(|s| PatrolSummary::of(s, roster.as_ref()))
            .collect())
    }

    /// Ends my patrol: packs the fixes still buffered into its track and records the end.
    /// Returns the ended patrol with its whole track and `duration_ms`; the listeners hear of
    /// it. Errors: `NotAllowed` (not the walker, or already ended), `NotFound`.
    pub fn end_patrol(&self, patrol_id: String) -> ApiResult<PatrolView> {
        let v = self
            .device
            .end_patrol(&patrol_id)
            .map_err(|e| self.patrol_error(&patrol_id, e))?;
        self.listeners.notify(vec![patrol_id]);
        Ok(self.patrol_view(v))
    }

    /// One patrol this device holds, with its companions and its whole track (fixes still
    /// buffered included): for a detail or map screen. Errors: `NotFound` (no such patrol on
    /// this device), `CorruptCase` (its stored document cannot be read).
    pub fn patrol(&self, patrol_id: String) -> ApiResult<PatrolView> {
        let v = self
            .device
            .patrol(&patrol_id)
            .map_err(|e| self.patrol_error(&patrol_id, e))?;
        Ok(self.patrol_view(v))
    }

    /// The patrols this device holds, newest first: mine, and for community chiefs and the
    /// centre those of their scope that a sync brought. From the index, without loading
    /// documents.
    pub fn patrols(&self, limit: u32) -> ApiResult<Vec<PatrolSummary>> {
        let rows = self.device.patrols(limit)?;
        let roster = self.device.roster().ok();
        Ok(rows
            .into_iter()
            .map(|s| PatrolSummary::of(s, roster.as_ref()))
            .collect())
    }

    /// My patrol under way, if any: call it when the app starts to resume recording fixes.
    /// `NotSetUp` before a person is set.
    pub fn active_patrol(&self) -> ApiResult<Option<PatrolSummary>> {
        let row = self.device.active_patrol()?;
        let roster = self.device.roster().ok();
        Ok(row.map(|s| PatrolSummary::of(s, roster.as_ref())))
    }

    /// The weekly accompaniment count (三陪同) of the week holding `at_ms` (default the device
    /// clock; weeks start Monday 00:00 China time), for every grid worker in my scope (the
    /// centre and officials: the street; a community chief: the community; a grid worker:
    /// themself), from the patrols this device holds, against the rule "a sub-district
    /// official walks along at least twice a week". A patrol counts in the week it started
    /// unless a server voided it. On a worker thread: it folds every patrol the device holds.
    ///
    /// Errors: `InvalidInput` with field `at_ms` (before 1970 or after 9999), `NotSetUp`,
    /// `CorruptCase` (a stored patrol that cannot be read).
    #[uniffi::method(default(at_ms = None))]
    pub async fn weekly_accompaniments(
        &self,
        at_ms: Option<i64>,
    ) -> ApiResult<WeeklyAccompaniments> {
        let at = self.time_or_clock("at_ms", at_ms)?;
        let device = Arc::clone(&self.device);
        on_worker("xiangying-weekly", move |_| {
            let rows = device.weekly_accompaniments(at)?;
            let roster = device.roster().ok();
            Ok(WeeklyAccompaniments {
                week_start_ms: week_start(at),
                people: rows
                    .into_iter()
                    .map(|w| WeeklyAccompaniment::of(w, roster.as_ref()))
                    .collect(),
            })
        })
        .await
    }
}
