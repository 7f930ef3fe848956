//! Field operations on the façade: routing a location to the people who answer for it,
//! reporting and forwarding by place without the user choosing, duplicate suggestions when a
//! report is started, and the lists of the review meetings. All offline, from the roster copy
//! and the index tables.

use super::{Device, NewReport};
use crate::case::CaseState;
use crate::error::{Error, Result};
use crate::org::{Point, Route};
use crate::store::{CaseSummary, DUPLICATE_RADIUS_M, DUPLICATE_WINDOW_DAYS, MeetingList, Period};

const DAY_MS: i64 = 86_400_000;

fn check_location(p: Point) -> Result<()> {
    if p.is_valid() {
        Ok(())
    } else {
        Err(Error::InvalidInput {
            field: "location",
            problem: format!("({}, {}) is not a position", p.lon, p.lat),
        })
    }
}

impl Device {
    /// Routes a location with the device's roster copy: its grid (a point on a shared border
    /// goes to the grid listed first; outside every grid, the nearest grid, flagged
    /// `outside_street`), its road segment within 30 m, and the grid worker, community grid
    /// chief and street chiefs who answer for them.
    pub fn route(&self, location: Point) -> Result<Route> {
        check_location(location)?;
        let org = self.org()?;
        org.router
            .clone()
            .route(location)
            .ok_or(Error::NotSetUp("the roster has no grids"))
    }

    /// Raises a problem report placed by the router: the grid and segment the reporter left
    /// empty are filled from the route of the location (a chosen grid or segment is kept; with
    /// no segment in reach, a street chief's own segment applies as in [`Device::report`]).
    /// A location outside the street is accepted, filed in the nearest grid; the returned
    /// route says so (`outside_street`, `distance_to_street_m`). Returns the case id and route.
    pub fn report_routed(&self, r: &NewReport) -> Result<(String, Route)> {
        let route = self.route(r.location)?;
        let mut filled = r.clone();
        if filled.grid.is_none() {
            filled.grid = Some(route.grid.clone());
        }
        if filled.segment.is_none() {
            filled.segment = route.segment.clone();
        }
        let id = self.report(&filled)?;
        Ok((id, route))
    }

    /// Forwards a case to the grid worker of its place, with the route of its location. The
    /// case's recorded grid (fixed when it was raised, and what every device's scope follows)
    /// decides the receiver: when the reporter chose a grid other than the one the location
    /// lies in, the route returned shows the difference, and the case still goes to the
    /// recorded grid's worker, as [`Device::forward`] does.
    pub fn forward_routed(&self, case_id: &str, note: &str) -> Result<(CaseState, Route)> {
        let view = self.case(case_id)?;
        let route = self.route(view.facts.location)?;
        let state = self.forward(case_id, note)?;
        Ok((state, route))
    }

    /// Open cases of the same category within 250 m of `location`, raised in the last 7 days
    /// before `now`, nearest first, with their distances in metres: the duplicates to suggest
    /// when a report is started. From the index tables only, offline.
    pub fn duplicate_candidates(
        &self,
        category: &str,
        location: Point,
        now: i64,
    ) -> Result<Vec<(CaseSummary, f64)>> {
        self.duplicate_candidates_within(
            category,
            location,
            now,
            DUPLICATE_RADIUS_M,
            DUPLICATE_WINDOW_DAYS,
        )
    }

    /// [`Device::duplicate_candidates`] with another radius (metres, included) and window
    /// (days before `now`, the window's first instant included).
    pub fn duplicate_candidates_within(
        &self,
        category: &str,
        location: Point,
        now: i64,
        radius_m: f64,
        days: u32,
    ) -> Result<Vec<(CaseSummary, f64)>> {
        check_location(location)?;
        if !radius_m.is_finite() || radius_m < 0.0 {
            return Err(Error::InvalidInput {
                field: "radius_m",
                problem: format!("{radius_m} is not a distance"),
            });
        }
        let since = now - i64::from(days) * DAY_MS;
        self.store
            .open_near(category, location, radius_m, since, now)
    }

    /// The lists of a weekly, monthly or quarterly review ending at `now`: per grid and per
    /// community, the overdue, escalated, reworked and long-open cases this device holds.
    pub fn meeting_list(&self, period: Period, now: i64) -> Result<MeetingList> {
        self.store.meeting_list(period, now)
    }

    /// Fills the index columns added by store migration 3 (place, escalation, reworks) for
    /// cases written before it, by loading each such document once; returns how many were
    /// rewritten. Cases that fail to load are skipped. The app may call it once after an
    /// upgrade, when idle; until then those cases are missing from duplicate suggestions and
    /// may be missing from meeting lists.
    pub fn reindex_places(&self) -> Result<usize> {
        let mut done = 0;
        for id in self.store.cases_missing_place(u32::MAX)? {
            let Ok(view) = self.case(&id) else { continue };
            self.store
                .reindex_case(&view.facts, &view.state, view.number.as_deref())?;
            done += 1;
        }
        Ok(done)
    }
}
