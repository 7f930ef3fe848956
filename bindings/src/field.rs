//! Field operations on [`XiangyingDevice`]: routing a location to the people who answer for
//! it, reporting and forwarding by place, duplicate suggestions when a report is started, and
//! the lists of the review meetings. All offline, from the roster copy and the index tables,
//! so they are blocking calls of a few milliseconds like the other queries; only
//! [`XiangyingDevice::reindex_places`], which loads documents, runs on a worker thread.

use crate::datum::GeoPoint;
use crate::device::{XiangyingDevice, on_worker};
use crate::error::{ApiError, ApiResult};
use crate::field_types::{
    DuplicateCandidate, MeetingList, ReviewPeriod, Route, RoutedForward, RoutedReport,
};
use crate::types::NewReport;
use std::sync::Arc;
use xiangying_core::store::{DUPLICATE_RADIUS_M, DUPLICATE_WINDOW_DAYS};

/// The last millisecond of the year 9999: later "now"s are mistakes, and keeping `now_ms`
/// within 1970..=9999 keeps the core's `now - window` arithmetic far from overflowing.
const MAX_TIME_MS: i64 = 253_402_300_799_999;

impl XiangyingDevice {
    /// `now_ms` if given and plausible, else the device clock.
    fn now_or_clock(&self, now_ms: Option<i64>) -> ApiResult<i64> {
        self.time_or_clock("now_ms", now_ms)
    }

    /// `t` if given and plausible (else `InvalidInput` naming `field`), or the device clock.
    pub(crate) fn time_or_clock(&self, field: &str, t: Option<i64>) -> ApiResult<i64> {
        match t {
            None => Ok(self.device.now()),
            Some(t) if (0..=MAX_TIME_MS).contains(&t) => Ok(t),
            Some(t) => Err(ApiError::InvalidInput {
                field: field.into(),
                problem: format!("{t} is not a time between 1970 and 9999 in ms"),
            }),
        }
    }
}

#[uniffi::export]
impl XiangyingDevice {
    // ---- routing by place -------------------------------------------------------------

    /// Where `location` (converted from its datum to WGS-84) falls and who answers for it,
    /// from the device's roster copy, offline
    /// and in microseconds: its grid (a point on a border shared by two grids goes to the grid
    /// listed first), its community, the road segment within 30 m, the grid worker, the
    /// community grid chief and the segment's street chiefs. A location outside every grid
    /// is routed to the nearest grid with `outside_street` set and its distance.
    ///
    /// Errors: `InvalidInput` with field `location` (not a position: NaN, out of range),
    /// `NotSetUp` (no roster installed, or a roster without grids).
    pub fn route(&self, location: GeoPoint) -> ApiResult<Route> {
        Ok(self.device.route(location.to_wgs84())?.into())
    }

    /// Raises a problem report placed by the router: the grid and segment left empty in
    /// `report` are filled from the route of its location (a chosen grid or segment is kept;
    /// with no segment in reach, a street chief's own segment applies as in
    /// [`XiangyingDevice::report`]). Unlike `report`, a location outside the street is
    /// accepted and filed in the nearest grid; the returned route says so (`outside_street`,
    /// `distance_to_street_m`). Returns the case id and the route; the listeners hear of it.
    ///
    /// Errors as [`XiangyingDevice::report`]: `NotFound` (unknown category), `InvalidInput`
    /// (an empty description, a location that is not a position), `NotAllowed`.
    pub fn report_routed(&self, report: NewReport) -> ApiResult<RoutedReport> {
        let (case_id, route) = self.device.report_routed(&report.located()?)?;
        self.listeners.notify(vec![case_id.clone()]);
        Ok(RoutedReport {
            case_id,
            route: route.into(),
        })
    }

    /// Forwards a case to the grid worker of its grid, as [`XiangyingDevice::forward`] does,
    /// and returns the new state with the route of the case's location (who answers for the
    /// place). The case's recorded grid decides the receiver: when the reporter chose another
    /// grid than the one the location lies in, the route shows the difference.
    pub fn forward_routed(&self, case_id: String, note: String) -> ApiResult<RoutedForward> {
        let (state, route) = self.device.forward_routed(&case_id, &note)?;
        self.listeners.notify(vec![case_id]);
        Ok(RoutedForward {
            state: state.into(),
            route: route.into(),
        })
    }

    // ---- duplicate suggestions ----------------------------------------------------------

    /// The open cases of `category` near `location`, raised in the last days: the duplicates
    /// to suggest when a report is started (then [`XiangyingDevice::mark_duplicate`] the new
    /// one, or report anyway). Nearest first (same distance: newest first), with distances in
    /// metres; across grid borders; from the index tables only, offline.
    ///
    /// `radius_m` defaults to 250 m (included), `days` to 7 (the window's first instant
    /// included), `now_ms` to the device clock. Errors: `InvalidInput` with field `location`,
    /// `radius_m` (negative or not a number) or `now_ms` (before 1970 or after 9999).
    #[uniffi::method(default(radius_m = None, days = None, now_ms = None))]
    pub fn duplicate_candidates(
        &self,
        category: String,
        location: GeoPoint,
        radius_m: Option<f64>,
        days: Option<u32>,
        now_ms: Option<i64>,
    ) -> ApiResult<Vec<DuplicateCandidate>> {
        let now = self.now_or_clock(now_ms)?;
        let found = self.device.duplicate_candidates_within(
            &category,
            location.to_wgs84(),
            now,
            radius_m.unwrap_or(DUPLICATE_RADIUS_M),
            days.unwrap_or(DUPLICATE_WINDOW_DAYS),
        )?;
        Ok(found.into_iter().map(Into::into).collect())
    }

    // ---- review meetings ----------------------------------------------------------------

    /// The lists of a weekly, monthly or quarterly review meeting ending at `now_ms` (the
    /// device clock by default): per grid and per community, the overdue, escalated, reworked
    /// and long-open cases this device holds. From the index tables, offline. `InvalidInput`
    /// with field `now_ms` for a time before 1970 or after 9999.
    #[uniffi::method(default(now_ms = None))]
    pub fn meeting_list(
        &self,
        period: ReviewPeriod,
        now_ms: Option<i64>,
    ) -> ApiResult<MeetingList> {
        let now = self.now_or_clock(now_ms)?;
        Ok(self.device.meeting_list(period.into(), now)?.into())
    }

    /// Fills the place, escalation and rework index columns for cases stored by an app
    /// version before duplicate suggestions and meeting lists existed, loading each such case
    /// once, on a worker thread; returns how many were rewritten (0 on a store made by this
    /// version). Until it ran, those cases are missing from
    /// [`XiangyingDevice::duplicate_candidates`] and may be missing from meeting lists: call
    /// it once after an upgrade, when idle. Cases that cannot be loaded are skipped.
    pub async fn reindex_places(&self) -> ApiResult<u64> {
        let device = Arc::clone(&self.device);
        on_worker("xiangying-reindex", move |_| {
            Ok(device.reindex_places()? as u64)
        })
        .await
    }
}
