//! The records and enums of the field operations ([`crate::field`]): a location's route to the
//! people who answer for it, routed reports and forwards, duplicate suggestions and the lists
//! of the review meetings, with their conversions from the core's types. Times are
//! milliseconds since the Unix epoch, distances metres.

use crate::types::{CaseState, CaseSummary};
use xiangying_core::org::Route as CoreRoute;
use xiangying_core::store as core_store;

/// Where a location falls and who answers for it, from the device's roster copy.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Route {
    /// The grid containing the location; outside the street, the nearest grid.
    pub grid: String,
    /// The community of that grid.
    pub community: String,
    /// The nearest road segment within 30 m, if any.
    pub segment: Option<String>,
    /// The distance to that segment in metres.
    pub segment_distance_m: Option<f64>,
    /// The grid worker of the grid (person id), if the roster has one.
    pub grid_worker: Option<String>,
    /// The community grid chief of the community (person id), if the roster has one.
    pub community_chief: Option<String>,
    /// The street chiefs of the segment (person ids, roster order); empty without a segment.
    pub street_chiefs: Vec<String>,
    /// True when the location lies outside every grid of the street (filed in the nearest).
    pub outside_street: bool,
    /// How far outside the street the location lies in metres (0 inside): the distance to the
    /// boundary of the grid chosen.
    pub distance_to_street_m: f64,
}

impl From<CoreRoute> for Route {
    fn from(r: CoreRoute) -> Route {
        Route {
            grid: r.grid,
            community: r.community,
            segment: r.segment,
            segment_distance_m: r.segment_distance_m,
            grid_worker: r.grid_worker,
            community_chief: r.community_chief,
            street_chiefs: r.street_chiefs,
            outside_street: r.outside_street,
            distance_to_street_m: r.distance_to_street_m,
        }
    }
}

/// A report raised by [`crate::XiangyingDevice::report_routed`]: its case id and the route of
/// its location.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RoutedReport {
    /// The new case's id.
    pub case_id: String,
    /// Where its location falls and who answers for it (`outside_street` says when it was
    /// filed in the nearest grid).
    pub route: Route,
}

/// A forward done by [`crate::XiangyingDevice::forward_routed`]: the case's new state and the
/// route of its location.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RoutedForward {
    /// The case's state after the forward (its `assignee` is the receiver).
    pub state: CaseState,
    /// The route of the case's location; its grid differs from the case's own when the
    /// reporter chose another grid.
    pub route: Route,
}

/// An open case that may be the same problem as a report being started.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DuplicateCandidate {
    /// The case, as a list row.
    pub summary: CaseSummary,
    /// Its distance from the new report's location, in metres.
    pub distance_m: f64,
}

impl From<(core_store::CaseSummary, f64)> for DuplicateCandidate {
    fn from((s, d): (core_store::CaseSummary, f64)) -> DuplicateCandidate {
        DuplicateCandidate {
            summary: s.into(),
            distance_m: d,
        }
    }
}

/// Which review meeting a list is for. Fixed lengths, so a list never depends on the calendar
/// or the time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ReviewPeriod {
    /// The weekly review: the last 7 days.
    Week,
    /// The monthly review: the last 30 days.
    Month,
    /// The quarterly review: the last 91 days.
    Quarter,
}

impl From<ReviewPeriod> for core_store::Period {
    fn from(p: ReviewPeriod) -> core_store::Period {
        match p {
            ReviewPeriod::Week => core_store::Period::Week,
            ReviewPeriod::Month => core_store::Period::Month,
            ReviewPeriod::Quarter => core_store::Period::Quarter,
        }
    }
}

impl From<core_store::Period> for ReviewPeriod {
    fn from(p: core_store::Period) -> ReviewPeriod {
        match p {
            core_store::Period::Week => ReviewPeriod::Week,
            core_store::Period::Month => ReviewPeriod::Month,
            core_store::Period::Quarter => ReviewPeriod::Quarter,
        }
    }
}

/// The cases one grid or community brings to a review meeting. A case may stand in several
/// lists.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MeetingGroup {
    /// The grid's or community's id.
    pub id: String,
    /// Open and past their deadline, most overdue first.
    pub overdue: Vec<CaseSummary>,
    /// Escalated at some point, and still not finished or finished within the period; oldest
    /// first.
    pub escalated: Vec<CaseSummary>,
    /// Sent back for rework at least once, and still not finished or finished within the
    /// period; oldest first.
    pub reworked: Vec<CaseSummary>,
    /// Open and raised before the period began; oldest first.
    pub long_open: Vec<CaseSummary>,
}

impl From<core_store::MeetingGroup> for MeetingGroup {
    fn from(g: core_store::MeetingGroup) -> MeetingGroup {
        let rows = |v: Vec<core_store::CaseSummary>| v.into_iter().map(Into::into).collect();
        MeetingGroup {
            id: g.id,
            overdue: rows(g.overdue),
            escalated: rows(g.escalated),
            reworked: rows(g.reworked),
            long_open: rows(g.long_open),
        }
    }
}

/// The lists of a weekly, monthly or quarterly review, per grid and per community, from the
/// cases the device holds. "Open" means not yet resolved, verified or finished; "finished"
/// means closed, voided or marked duplicate.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MeetingList {
    /// The review.
    pub period: ReviewPeriod,
    /// When the list was made (ms): the period's end.
    pub now_ms: i64,
    /// When the period began (ms): `now_ms` minus its length.
    pub since_ms: i64,
    /// Grids with anything to discuss, by id.
    pub grids: Vec<MeetingGroup>,
    /// Communities with anything to discuss, by id (their grids' cases together).
    pub communities: Vec<MeetingGroup>,
}

impl From<core_store::MeetingList> for MeetingList {
    fn from(m: core_store::MeetingList) -> MeetingList {
        MeetingList {
            period: m.period.into(),
            now_ms: m.now,
            since_ms: m.since,
            grids: m.grids.into_iter().map(Into::into).collect(),
            communities: m.communities.into_iter().map(Into::into).collect(),
        }
    }
}
