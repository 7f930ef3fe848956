//! The records and enums of patrols ([`crate::patrol`]): where a patrol goes, the phone's
//! location fixes, a patrol with its companions (三陪同) and whole track, a list row, and a
//! grid worker's weekly accompaniment count, with their conversions from the core's types.
//! Times are milliseconds since the Unix epoch (device clock), distances metres.
//!
//! People are named from the device's roster copy (the id when the roster does not know them,
//! e.g. somebody who left the street), so a patrol screen needs no roster of its own.

use crate::datum::{Datum, map_point};
use crate::types::{Claim, Role};
use xiangying_core::PatrolView as CoreView;
use xiangying_core::org::Roster;
use xiangying_core::patrol as core_patrol;
use xiangying_core::patrol::track::length_m;
use xiangying_core::patrol::weekly::{OFFICIAL_PER_WEEK, WeeklyAccompaniment as CoreWeekly};
use xiangying_core::store::PatrolSummary as CoreSummary;

/// A person's name from the roster, or their id when the roster does not know them.
fn name_of(roster: Option<&Roster>, person: &str) -> String {
    roster
        .and_then(|r| r.person(person))
        .map_or_else(|| person.to_string(), |p| p.name.clone())
}

/// Where a patrol goes: grid workers walk their grid, street chiefs their road segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PatrolPlace {
    /// A grid (网格), walked by its grid worker.
    Grid {
        /// The grid's id.
        id: String,
    },
    /// A road segment (路段), walked by one of its street chiefs.
    Segment {
        /// The segment's id.
        id: String,
    },
}

impl From<core_patrol::PatrolPlace> for PatrolPlace {
    fn from(p: core_patrol::PatrolPlace) -> PatrolPlace {
        match p {
            core_patrol::PatrolPlace::Grid(id) => PatrolPlace::Grid { id },
            core_patrol::PatrolPlace::Segment(id) => PatrolPlace::Segment { id },
        }
    }
}

impl From<PatrolPlace> for core_patrol::PatrolPlace {
    fn from(p: PatrolPlace) -> core_patrol::PatrolPlace {
        match p {
            PatrolPlace::Grid { id } => core_patrol::PatrolPlace::Grid(id),
            PatrolPlace::Segment { id } => core_patrol::PatrolPlace::Segment(id),
        }
    }
}

/// One location fix of a patrol's track, as the phone's location service gave it.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct TrackPoint {
    /// When the fix was taken, device clock (ms). Fixes go forward in time, never before
    /// the patrol's start.
    pub at_ms: i64,
    /// Longitude, degrees east, in `datum`.
    pub lon: f64,
    /// Latitude, degrees north, in `datum`.
    pub lat: f64,
    /// The horizontal accuracy the phone reported, metres (0 when unknown). Stored rounded
    /// to whole metres.
    pub accuracy_m: f64,
    /// The datum of the fix: WGS-84 from the platform's location service (Android fused
    /// provider, iOS Core Location), GCJ-02 from AMap's or Tencent's location SDK, BD-09
    /// from Baidu's. Fixes the API returns are in the device's map datum.
    pub datum: Datum,
}

impl TrackPoint {
    /// The core's fix (WGS-84) as the app's map wants it.
    pub(crate) fn of(p: core_patrol::TrackPoint, datum: Datum) -> TrackPoint {
        let g = map_point(
            xiangying_core::org::Point {
                lon: p.lon,
                lat: p.lat,
            },
            datum,
        );
        TrackPoint {
            at_ms: p.at,
            lon: g.lon,
            lat: g.lat,
            accuracy_m: p.accuracy_m,
            datum,
        }
    }
}

impl From<TrackPoint> for core_patrol::TrackPoint {
    fn from(p: TrackPoint) -> core_patrol::TrackPoint {
        let w = crate::datum::GeoPoint {
            lon: p.lon,
            lat: p.lat,
            datum: p.datum,
        }
        .to_wgs84();
        core_patrol::TrackPoint {
            at: p.at_ms,
            lon: w.lon,
            lat: w.lat,
            accuracy_m: p.accuracy_m,
        }
    }
}

/// Which of the three accompaniments (三陪同) a companion gives, from their role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CompanionKind {
    /// A sub-district official (街道干部陪同网格员); a grid worker needs two a week.
    Official,
    /// Enforcement department staff (驻街部门陪同).
    Department,
    /// A grid worker walking with a street chief on their segment (网格员陪同街长).
    GridWorker,
}

impl From<core_patrol::CompanionKind> for CompanionKind {
    fn from(k: core_patrol::CompanionKind) -> CompanionKind {
        match k {
            core_patrol::CompanionKind::Official => CompanionKind::Official,
            core_patrol::CompanionKind::Department => CompanionKind::Department,
            core_patrol::CompanionKind::GridWorker => CompanionKind::GridWorker,
        }
    }
}

/// Somebody who walked along on a patrol.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PatrolCompanion {
    /// The person's id.
    pub person: String,
    /// Their name from the device's roster (the id when it does not know them).
    pub name: String,
    /// Their role as recorded when they joined.
    pub role: Role,
    /// Which accompaniment this is.
    pub kind: CompanionKind,
    /// When the walker recorded them, device clock (ms).
    pub at_ms: i64,
    /// When the companion confirmed from their own device (their clock, ms); `None` while
    /// unconfirmed, and then the accompaniment does not count for the weekly rule.
    pub confirmed_at_ms: Option<i64>,
}

impl PatrolCompanion {
    fn of(c: core_patrol::Companion, roster: Option<&Roster>) -> PatrolCompanion {
        PatrolCompanion {
            name: name_of(roster, &c.claim.person),
            person: c.claim.person,
            role: c.claim.role.into(),
            kind: c.kind.into(),
            at_ms: c.at,
            confirmed_at_ms: c.confirmed_at,
        }
    }
}

/// One patrol with everything a detail screen shows: who walks where, since when, who walked
/// along, and the whole track (fixes still waiting to be packed included).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PatrolView {
    /// The patrol's id (a UUIDv7 made on the walker's device).
    pub id: String,
    /// Who walks it, with their role and scope when they started.
    pub walker: Claim,
    /// The walker's name from the device's roster (the id when it does not know them).
    pub walker_name: String,
    /// Where.
    pub place: PatrolPlace,
    /// The community the place belongs to.
    pub community: String,
    /// When it started, the walker's device clock (ms).
    pub started_at_ms: i64,
    /// When the walker ended it (ms); `None` while it is under way.
    pub ended_at_ms: Option<i64>,
    /// Why a server voided the whole patrol (the walker's claim did not hold on the server's
    /// roster); a voided patrol counts for nothing. `None` for a valid patrol.
    pub voided: Option<String>,
    /// Who walked along, in the order recorded (entries the fold refused or a server voided
    /// are left out).
    pub companions: Vec<PatrolCompanion>,
    /// How many fixes the track has, those still buffered on this device included.
    pub points: u32,
    /// The walked length through every fix of `track`, metres.
    pub distance_m: f64,
    /// The patrol time that counts (巡查时长): end − start of an ended, valid patrol; 0 while
    /// under way (show now − `started_at_ms` then) and for a voided patrol.
    pub duration_ms: i64,
    /// Every fix in time order: the packed track, then those still buffered on this device,
    /// in the device's map datum. Coordinates are stored to 1e-6° (about 0.1 m), accuracies
    /// to whole metres.
    pub track: Vec<TrackPoint>,
}

impl PatrolView {
    /// Converts the core's view, naming people from `roster` when there is one, the track in
    /// the map datum `datum`.
    pub(crate) fn of(v: CoreView, roster: Option<&Roster>, datum: Datum) -> PatrolView {
        let CoreView {
            facts,
            state,
            track,
        } = v;
        let duration_ms = state.duration_ms(&facts);
        PatrolView {
            walker_name: name_of(roster, &facts.walker.person),
            id: facts.id,
            walker: facts.walker.into(),
            place: facts.place.into(),
            community: facts.community,
            started_at_ms: facts.started_at,
            ended_at_ms: state.ended_at,
            voided: state.voided,
            companions: state
                .companions
                .into_iter()
                .map(|c| PatrolCompanion::of(c, roster))
                .collect(),
            points: u32::try_from(track.len()).unwrap_or(u32::MAX),
            // Over the whole track, so fixes not yet packed count on a live screen too (the
            // core's `state.distance_m` covers the packed ones).
            distance_m: length_m(&track),
            duration_ms,
            track: track
                .into_iter()
                .map(|p| TrackPoint::of(p, datum))
                .collect(),
        }
    }
}

/// One row of a patrol list, from the index without loading the document.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PatrolSummary {
    /// The patrol's id.
    pub id: String,
    /// Who walks it (person id).
    pub walker: String,
    /// The walker's name from the device's roster (the id when it does not know them).
    pub walker_name: String,
    /// Where.
    pub place: PatrolPlace,
    /// The place's community.
    pub community: String,
    /// When it started (ms, the walker's device clock).
    pub started_at_ms: i64,
    /// When it ended (ms); `None` while under way.
    pub ended_at_ms: Option<i64>,
    /// Fixes in the track, those still buffered included.
    pub points: u32,
    /// The walked length through the packed fixes, metres (fixes still buffered on the
    /// walker's device are packed every 120 fixes, at the end and before a sync; `patrol`
    /// counts them all).
    pub distance_m: f64,
    /// How many people walked along.
    pub companions: u32,
    /// True when a server voided the whole patrol.
    pub voided: bool,
}

impl PatrolSummary {
    /// Converts the core's row, naming the walker from `roster` when there is one.
    pub(crate) fn of(s: CoreSummary, roster: Option<&Roster>) -> PatrolSummary {
        PatrolSummary {
            walker_name: name_of(roster, &s.walker),
            id: s.id,
            walker: s.walker,
            place: s.place.into(),
            community: s.community,
            started_at_ms: s.started_at,
            ended_at_ms: s.ended_at,
            points: s.points,
            distance_m: s.distance_m,
            companions: s.companions,
            voided: s.voided,
        }
    }
}

/// One grid worker's week of patrols against the rule "a sub-district official walks along at
/// least twice a week" (三陪同). The week runs from Monday 00:00 China time (UTC+8).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WeeklyAccompaniment {
    /// The grid worker's id.
    pub person: String,
    /// Their name from the device's roster (the id when it does not know them).
    pub name: String,
    /// Patrols they started in the week (voided ones left out).
    pub patrols: u32,
    /// Their patrol time in the week, ms (ended patrols).
    pub patrol_ms: i64,
    /// Patrols a sub-district official walked along and confirmed from their own device (a
    /// patrol with two officials counts once).
    pub official: u32,
    /// Patrols enforcement department staff walked along and confirmed.
    pub department: u32,
    /// True when `official` (confirmed only) reaches the weekly rule (`official_needed`).
    pub meets_rule: bool,
    /// Official accompaniments the rule asks for each week (2), so a screen can show
    /// "1 / 2" without a constant of its own.
    pub official_needed: u32,
    /// Patrols naming a sub-district official who has not confirmed (not counted for the
    /// rule).
    pub official_unconfirmed: u32,
    /// Patrols naming department staff who have not confirmed.
    pub department_unconfirmed: u32,
}

impl WeeklyAccompaniment {
    /// Converts the core's row, naming the person from `roster` when there is one.
    pub(crate) fn of(w: CoreWeekly, roster: Option<&Roster>) -> WeeklyAccompaniment {
        WeeklyAccompaniment {
            name: name_of(roster, &w.person),
            person: w.person,
            patrols: w.patrols,
            patrol_ms: w.patrol_ms,
            official: w.official,
            department: w.department,
            meets_rule: w.meets_rule,
            official_needed: OFFICIAL_PER_WEEK,
            official_unconfirmed: w.official_unconfirmed,
            department_unconfirmed: w.department_unconfirmed,
        }
    }
}

/// The weekly accompaniment count of the grid workers in this person's scope.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WeeklyAccompaniments {
    /// Monday 00:00 China time (UTC+8) of the week counted (ms).
    pub week_start_ms: i64,
    /// One row per grid worker in scope, in roster order; those without patrols show 0.
    pub people: Vec<WeeklyAccompaniment>,
}
