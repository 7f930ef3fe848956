//! The records and enums that cross the boundary, and their conversions from the core's
//! types. They are plain data (Kotlin data classes and sealed classes, Swift structs and
//! enums); times are milliseconds since the Unix epoch, device wall clock.
//!
//! Status, level, role and scope are matched exhaustively: a new one in the core must be
//! mapped here on purpose (the build says so). Actions fall back to [`CaseAction::Other`], so
//! a case that carries an action this layer does not know yet still shows.

use crate::datum::{Datum, GeoPoint, map_point};
use xiangying_core::case as core_case;
use xiangying_core::org as core_org;
use xiangying_core::store::CaseSummary as CoreSummary;
use xiangying_core::{CaseView, NewReport as CoreNewReport, NewRequest as CoreNewRequest};

/// A problem report (问题上报) or a resident request (群众点单).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CaseKind {
    /// A problem seen on patrol.
    Problem,
    /// A resident's request, dispatched by the community to volunteers.
    Request,
}

impl From<core_case::CaseKind> for CaseKind {
    fn from(k: core_case::CaseKind) -> CaseKind {
        match k {
            core_case::CaseKind::Problem => CaseKind::Problem,
            core_case::CaseKind::Request => CaseKind::Request,
        }
    }
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CaseStatus {
    /// Raised by a street chief, who still holds it (handle or forward).
    Reported,
    /// Sent to a person who has not accepted it yet.
    Forwarded,
    /// A resident request waiting for the community.
    Requested,
    /// Somebody is working on it.
    InProgress,
    /// Sent up a level, not yet accepted there.
    Escalated,
    /// Sent to departments, or to the community's volunteers.
    Dispatched,
    /// The handler reports it done; waiting for verification.
    Resolved,
    /// The reporter's side confirmed the work; waiting to be closed.
    Verified,
    /// Finished.
    Closed,
    /// Withdrawn as invalid.
    Voided,
    /// Folded into another case.
    Duplicate,
}

impl From<core_case::Status> for CaseStatus {
    fn from(s: core_case::Status) -> CaseStatus {
        use core_case::Status as S;
        match s {
            S::Reported => CaseStatus::Reported,
            S::Forwarded => CaseStatus::Forwarded,
            S::Requested => CaseStatus::Requested,
            S::InProgress => CaseStatus::InProgress,
            S::Escalated => CaseStatus::Escalated,
            S::Dispatched => CaseStatus::Dispatched,
            S::Resolved => CaseStatus::Resolved,
            S::Verified => CaseStatus::Verified,
            S::Closed => CaseStatus::Closed,
            S::Voided => CaseStatus::Voided,
            S::Duplicate => CaseStatus::Duplicate,
        }
    }
}

impl From<CaseStatus> for core_case::Status {
    fn from(s: CaseStatus) -> core_case::Status {
        use core_case::Status as S;
        match s {
            CaseStatus::Reported => S::Reported,
            CaseStatus::Forwarded => S::Forwarded,
            CaseStatus::Requested => S::Requested,
            CaseStatus::InProgress => S::InProgress,
            CaseStatus::Escalated => S::Escalated,
            CaseStatus::Dispatched => S::Dispatched,
            CaseStatus::Resolved => S::Resolved,
            CaseStatus::Verified => S::Verified,
            CaseStatus::Closed => S::Closed,
            CaseStatus::Voided => S::Voided,
            CaseStatus::Duplicate => S::Duplicate,
        }
    }
}

/// The management level a case sits at (小事不出网格，大事不出社区，重大事情不出街道).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Level {
    /// 网格: settled by the grid worker.
    Grid,
    /// 社区: settled by the community grid chief.
    Community,
    /// 街道: settled by the sub-district grid centre.
    Street,
    /// 联合执法: dispatched by the centre to departments acting together.
    JointEnforcement,
}

impl From<core_org::Level> for Level {
    fn from(l: core_org::Level) -> Level {
        match l {
            core_org::Level::Grid => Level::Grid,
            core_org::Level::Community => Level::Community,
            core_org::Level::Street => Level::Street,
            core_org::Level::JointEnforcement => Level::JointEnforcement,
        }
    }
}

/// A person's role; one person holds exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Role {
    /// 街道网格中心 staff: sees everything, dispatches, verifies, closes.
    StreetCenter,
    /// 社区网格长: oversees the grids of one community.
    CommunityChief,
    /// 网格员: one per grid; patrols, reports, handles or escalates.
    GridWorker,
    /// 网格信息员: part-time; reports to the grid worker.
    GridInformant,
    /// 党员街长 (green): patrols a road segment; fixes small things, forwards the rest.
    PartyStreetChief,
    /// 商户街长 (blue): a shop keeper on the segment with the same duties.
    MerchantStreetChief,
    /// 街道干部: accompanies grid workers on patrol.
    StreetOfficial,
    /// 驻街执法部门 staff: handles what the centre dispatches to the department.
    DepartmentStaff,
    /// 志愿者: claims resident requests dispatched by the community.
    Volunteer,
    /// 居民: raises requests (点单).
    Resident,
}

impl From<core_org::Role> for Role {
    fn from(r: core_org::Role) -> Role {
        use core_org::Role as R;
        match r {
            R::StreetCenter => Role::StreetCenter,
            R::CommunityChief => Role::CommunityChief,
            R::GridWorker => Role::GridWorker,
            R::GridInformant => Role::GridInformant,
            R::PartyStreetChief => Role::PartyStreetChief,
            R::MerchantStreetChief => Role::MerchantStreetChief,
            R::StreetOfficial => Role::StreetOfficial,
            R::DepartmentStaff => Role::DepartmentStaff,
            R::Volunteer => Role::Volunteer,
            R::Resident => Role::Resident,
        }
    }
}

/// Where a person's responsibility lies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Scope {
    /// The whole street (centre staff, officials).
    Street,
    /// One community (community chiefs, volunteers).
    Community {
        /// The community's id.
        id: String,
    },
    /// One grid (grid workers, informants, residents).
    Grid {
        /// The grid's id.
        id: String,
    },
    /// One road segment (street chiefs).
    Segment {
        /// The segment's id.
        id: String,
    },
    /// One department (department staff).
    Department {
        /// The department's id.
        id: String,
    },
}

impl From<core_org::Scope> for Scope {
    fn from(s: core_org::Scope) -> Scope {
        use core_org::Scope as S;
        match s {
            S::Street => Scope::Street,
            S::Community(id) => Scope::Community { id },
            S::Grid(id) => Scope::Grid { id },
            S::Segment(id) => Scope::Segment { id },
            S::Department(id) => Scope::Department { id },
        }
    }
}

/// Who acted (or who uses this device), with the role and scope they held.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Claim {
    /// The person's id in the roster.
    pub person: String,
    /// The role they held.
    pub role: Role,
    /// The scope of that role.
    pub scope: Scope,
}

impl From<core_case::Claim> for Claim {
    fn from(c: core_case::Claim) -> Claim {
        Claim {
            person: c.person,
            role: c.role.into(),
            scope: c.scope.into(),
        }
    }
}

/// Who a case waits on.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Assignee {
    /// One person.
    Person {
        /// The person's id.
        id: String,
    },
    /// The sub-district grid centre: any of its staff.
    Center,
    /// One or more departments (several for joint enforcement).
    Departments {
        /// The departments' ids.
        ids: Vec<String>,
    },
    /// The volunteers of a community, until one of them claims the request.
    Volunteers {
        /// The community's id.
        community: String,
    },
}

impl From<core_case::Assignee> for Assignee {
    fn from(a: core_case::Assignee) -> Assignee {
        use core_case::Assignee as A;
        match a {
            A::Person(id) => Assignee::Person { id },
            A::Center => Assignee::Center,
            A::Departments(ids) => Assignee::Departments { ids },
            A::Volunteers(community) => Assignee::Volunteers { community },
        }
    }
}

/// What was done in one event of a case's history.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum CaseAction {
    /// The case was raised (always the first event); `assignee` holds it first.
    Reported {
        /// Who holds the case after the report.
        assignee: Assignee,
    },
    /// Settled on the spot (自行处置), with after photos.
    HandledOnSpot {
        /// What was done.
        note: String,
        /// SHA-256 of the after photos.
        photos: Vec<String>,
    },
    /// Sent on to another person.
    Forwarded {
        /// The receiver's person id.
        to: String,
        /// Why, or what to look at.
        note: String,
    },
    /// The assignee took the case on.
    Accepted,
    /// Sent up one level.
    Escalated {
        /// The level it goes to.
        to_level: Level,
        /// Who holds it there.
        to: Assignee,
        /// Why it cannot be settled at this level.
        reason: String,
    },
    /// The centre sent it to one department, or to several for joint enforcement.
    Dispatched {
        /// The departments' ids.
        departments: Vec<String>,
        /// Instructions.
        note: String,
    },
    /// A community chief published a resident request to the community's volunteers.
    DispatchedToVolunteers {
        /// Instructions.
        note: String,
    },
    /// A volunteer took a dispatched request.
    Claimed,
    /// A remark that changes nothing.
    Note {
        /// The text.
        text: String,
    },
    /// The handler reports the work done, with evidence.
    Resolved {
        /// What was done.
        note: String,
        /// SHA-256 of the evidence photos.
        photos: Vec<String>,
    },
    /// The reporter's side confirms the work.
    Verified {
        /// Remarks.
        note: String,
    },
    /// The reporter's side sends it back.
    Reworked {
        /// What is still wrong.
        reason: String,
    },
    /// The deadline was moved.
    Extended {
        /// Hours added to the deadline.
        hours: u32,
        /// Why.
        reason: String,
    },
    /// Closed after verification.
    Closed {
        /// Remarks.
        note: String,
    },
    /// Withdrawn as invalid.
    Voided {
        /// Why.
        reason: String,
    },
    /// The same problem as another case, which carries on.
    MarkedDuplicate {
        /// The other case's id.
        of: String,
    },
    /// The server voided an event it found unauthorised against its roster.
    ServerVoid {
        /// The voided event's id.
        event: String,
        /// Why.
        reason: String,
    },
    /// An action of a type this app does not know: a newer app version wrote it. Show it as
    /// an event of kind "unknown" with its time and author; it changes nothing in the case.
    Unknown {
        /// The action's `type` as written (e.g. to say "update the app to see this").
        type_name: String,
    },
    /// An action this version of the bindings does not know yet; `name` says which.
    Other {
        /// The action's stable name.
        name: String,
    },
}

impl From<core_case::Action> for CaseAction {
    // New core actions land in `Other` until mapped here.
    #[allow(unreachable_patterns)]
    fn from(a: core_case::Action) -> CaseAction {
        use core_case::Action as A;
        match a {
            A::Reported { assignee } => CaseAction::Reported {
                assignee: assignee.into(),
            },
            A::HandledOnSpot { note, photos } => CaseAction::HandledOnSpot { note, photos },
            A::Forwarded { to, note } => CaseAction::Forwarded { to, note },
            A::Accepted => CaseAction::Accepted,
            A::Escalated {
                to_level,
                to,
                reason,
            } => CaseAction::Escalated {
                to_level: to_level.into(),
                to: to.into(),
                reason,
            },
            A::Dispatched { departments, note } => CaseAction::Dispatched { departments, note },
            A::DispatchedToVolunteers { note } => CaseAction::DispatchedToVolunteers { note },
            A::Claimed => CaseAction::Claimed,
            A::Note { text } => CaseAction::Note { text },
            A::Resolved { note, photos } => CaseAction::Resolved { note, photos },
            A::Verified { note } => CaseAction::Verified { note },
            A::Reworked { reason } => CaseAction::Reworked { reason },
            A::Extended { hours, reason, .. } => CaseAction::Extended { hours, reason },
            A::Closed { note } => CaseAction::Closed { note },
            A::Voided { reason } => CaseAction::Voided { reason },
            A::MarkedDuplicate { of } => CaseAction::MarkedDuplicate { of },
            A::ServerVoid { event, reason } => CaseAction::ServerVoid { event, reason },
            A::Unknown { type_name, .. } => CaseAction::Unknown { type_name },
            other => CaseAction::Other {
                name: other.name().to_string(),
            },
        }
    }
}

/// The author of an event.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum EventAuthor {
    /// A person acting through their device, as they were when they acted.
    Person {
        /// Their recorded claim.
        claim: Claim,
    },
    /// A sync server instance (case numbers, voids of unauthorised events).
    Server {
        /// Which server instance wrote it.
        instance: String,
    },
}

impl From<core_case::Author> for EventAuthor {
    fn from(a: core_case::Author) -> EventAuthor {
        match a {
            core_case::Author::Person(c) => EventAuthor::Person { claim: c.into() },
            core_case::Author::Server { instance } => EventAuthor::Server { instance },
        }
    }
}

/// What the fold made of one event.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum EventOutcome {
    /// It took effect.
    Applied,
    /// It lost or was not allowed (e.g. a second volunteer's claim); `reason` says why.
    Rejected {
        /// Why, in English words a user can read.
        reason: String,
        /// Which refusal of the rules (e.g. `AlreadyTaken`).
        code: crate::codes::ErrorCode,
        /// Why, in Simplified Chinese.
        reason_zh: String,
    },
    /// The server voided it.
    VoidedByServer {
        /// Why.
        reason: String,
    },
    /// Its action is of a type this app does not know (a newer app version wrote it): shown,
    /// counted nowhere.
    NotUnderstood,
}

impl From<core_case::Outcome> for EventOutcome {
    fn from(o: core_case::Outcome) -> EventOutcome {
        match o {
            core_case::Outcome::Applied => EventOutcome::Applied,
            core_case::Outcome::Rejected(reason) => EventOutcome::Rejected {
                code: crate::codes::ErrorCode::from(&reason),
                reason_zh: reason.zh(),
                reason: reason.to_string(),
            },
            core_case::Outcome::VoidedByServer(reason) => EventOutcome::VoidedByServer { reason },
            core_case::Outcome::NotUnderstood => EventOutcome::NotUnderstood,
        }
    }
}

/// One entry of a case's history, with what the fold made of it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CaseEvent {
    /// The event's id (a UUIDv7).
    pub id: String,
    /// The author's device wall clock when the work was done (ms).
    pub at_ms: i64,
    /// Who did it.
    pub author: EventAuthor,
    /// What they did.
    pub action: CaseAction,
    /// Whether it took effect.
    pub outcome: EventOutcome,
}

impl From<core_case::FoldedEvent> for CaseEvent {
    fn from(f: core_case::FoldedEvent) -> CaseEvent {
        CaseEvent {
            id: f.event.id,
            at_ms: f.event.at,
            author: f.event.by.into(),
            action: f.event.action.into(),
            outcome: f.outcome.into(),
        }
    }
}

/// A case's state as the fold computes it from the events; every action returns it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CaseState {
    /// Where it stands.
    pub status: CaseStatus,
    /// The level it sits at.
    pub level: Level,
    /// Who it waits on.
    pub assignee: Option<Assignee>,
    /// When it must be resolved by (ms): report time + the category's limit + extensions.
    pub deadline_ms: i64,
    /// Settled on the spot by the person who found it (自行处置).
    pub handled_on_spot: bool,
    /// Who reported the work done, while it waits for verification.
    pub resolved_by: Option<String>,
    /// When the work was last reported done (ms).
    pub resolved_at_ms: Option<i64>,
    /// When it was closed (ms).
    pub closed_at_ms: Option<i64>,
    /// Everybody who has held the case, in order of first holding it.
    pub holders: Vec<String>,
    /// The volunteer who claimed a request.
    pub claimed_by: Option<String>,
    /// The case this one duplicates.
    pub duplicate_of: Option<String>,
    /// How many times it was sent back for rework.
    pub reworks: u32,
    /// How many times its deadline was extended.
    pub extensions: u32,
    /// The latest device time of any applied event (ms).
    pub updated_at_ms: i64,
    /// Every event, with its outcome, in document order.
    pub history: Vec<CaseEvent>,
}

impl From<core_case::CaseState> for CaseState {
    fn from(s: core_case::CaseState) -> CaseState {
        CaseState {
            status: s.status.into(),
            level: s.level.into(),
            assignee: s.assignee.map(Into::into),
            deadline_ms: s.deadline,
            handled_on_spot: s.handled_on_spot,
            resolved_by: s.resolved_by,
            resolved_at_ms: s.resolved_at,
            closed_at_ms: s.closed_at,
            holders: s.holders,
            claimed_by: s.claimed_by,
            duplicate_of: s.duplicate_of,
            reworks: s.reworks,
            extensions: s.extensions,
            updated_at_ms: s.updated_at,
            history: s.history.into_iter().map(Into::into).collect(),
        }
    }
}

/// Which moment a photo shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PhotoStage {
    /// The problem as found.
    Before,
    /// The place after the work.
    After,
    /// Other evidence (a document, a signed form).
    Evidence,
}

impl From<core_case::PhotoStage> for PhotoStage {
    fn from(s: core_case::PhotoStage) -> PhotoStage {
        match s {
            core_case::PhotoStage::Before => PhotoStage::Before,
            core_case::PhotoStage::After => PhotoStage::After,
            core_case::PhotoStage::Evidence => PhotoStage::Evidence,
        }
    }
}

/// A photo attached to a case; the bytes live outside the document, named by their hash.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PhotoRef {
    /// Lowercase hex SHA-256 of the processed photo's bytes.
    pub hash: String,
    /// Lowercase hex SHA-256 of its thumbnail's bytes.
    pub thumb: String,
    /// Before, after or evidence.
    pub stage: PhotoStage,
    /// Size of the processed photo in bytes.
    pub bytes: u64,
    /// When it was taken (ms), if known: the camera's record the app passed, else the EXIF.
    pub captured_at_ms: Option<i64>,
    /// Where it was taken, in the device's map datum, if known: the camera's record the app
    /// passed, else the EXIF GPS position.
    pub place: Option<GeoPoint>,
    /// Who attached it.
    pub added_by: String,
    /// When it was attached (ms).
    pub added_at_ms: i64,
}

impl PhotoRef {
    /// Converts the core's reference, its place in the map datum `datum`.
    pub(crate) fn of(p: core_case::PhotoRef, datum: Datum) -> PhotoRef {
        PhotoRef {
            hash: p.hash,
            thumb: p.thumb,
            stage: p.stage.into(),
            bytes: p.bytes,
            captured_at_ms: p.captured_at,
            place: p.place.map(|q| map_point(q, datum)),
            added_by: p.added_by,
            added_at_ms: p.added_at,
        }
    }
}

/// Everything a case's detail screen shows: its facts, number, state and photos.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CaseDetail {
    /// The case id, a UUIDv7 made on the reporting device.
    pub id: String,
    /// The human number (street prefix + date + sequence), once a server assigned it.
    pub number: Option<String>,
    /// Problem or request.
    pub kind: CaseKind,
    /// The small category code.
    pub category: String,
    /// The category's Chinese name, as the catalogue had it at report time.
    pub category_name: String,
    /// The category's time limit in hours, as the catalogue had it at report time.
    pub limit_hours: u32,
    /// How those hours count (working hours, or natural hours for urgent categories and for
    /// cases raised before working-hour deadlines); the deadline in `state` already applies it.
    pub limit_clock: LimitClock,
    /// The reporter's person id.
    pub reporter: String,
    /// When it was raised (ms).
    pub created_at_ms: i64,
    /// Where, in the device's map datum.
    pub location: GeoPoint,
    /// The grid it lies in.
    pub grid: String,
    /// The community of that grid.
    pub community: String,
    /// The road segment, when reported on one.
    pub segment: Option<String>,
    /// The reporter's words.
    pub description: String,
    /// The folded state with the whole history.
    pub state: CaseState,
    /// The photos attached.
    pub photos: Vec<PhotoRef>,
}

impl CaseDetail {
    /// Converts the core's view, positions in the map datum `datum`.
    pub(crate) fn of(v: CaseView, datum: Datum) -> CaseDetail {
        let f = v.facts;
        CaseDetail {
            id: f.id,
            number: v.number,
            kind: f.kind.into(),
            category: f.category,
            category_name: f.category_name,
            limit_hours: f.limit_hours,
            limit_clock: f.clock.unwrap_or(core_org::LimitClock::Natural).into(),
            reporter: f.reporter,
            created_at_ms: f.created_at,
            location: map_point(f.location, datum),
            grid: f.grid,
            community: f.community,
            segment: f.segment,
            description: f.description,
            state: v.state.into(),
            photos: v
                .photos
                .into_iter()
                .map(|p| PhotoRef::of(p, datum))
                .collect(),
        }
    }
}

/// One row of a case list: what a list screen shows, read from the index without loading
/// the case's document.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CaseSummary {
    /// Case id.
    pub id: String,
    /// Human number, once a server assigned it.
    pub number: Option<String>,
    /// Problem or request.
    pub kind: CaseKind,
    /// Category code.
    pub category: String,
    /// Category name.
    pub category_name: String,
    /// Where it stands.
    pub status: CaseStatus,
    /// Its level.
    pub level: Level,
    /// Who it waits on, as `person-id`, `center`, `dept:a,b` or `volunteers:community`.
    pub assignee: Option<String>,
    /// Reporter's person id.
    pub reporter: String,
    /// Grid id.
    pub grid: String,
    /// Community id.
    pub community: String,
    /// Road segment id.
    pub segment: Option<String>,
    /// Reporter's words.
    pub description: String,
    /// Raised at (ms).
    pub created_at_ms: i64,
    /// Last applied event at (ms).
    pub updated_at_ms: i64,
    /// Deadline (ms).
    pub deadline_ms: i64,
    /// Past its deadline with work still open, at the time of the query.
    pub overdue: bool,
}

impl From<CoreSummary> for CaseSummary {
    fn from(s: CoreSummary) -> CaseSummary {
        CaseSummary {
            id: s.id,
            number: s.number,
            kind: s.kind.into(),
            category: s.category,
            category_name: s.category_name,
            status: s.status.into(),
            level: s.level.into(),
            assignee: s.assignee,
            reporter: s.reporter,
            grid: s.grid,
            community: s.community,
            segment: s.segment,
            description: s.description,
            created_at_ms: s.created_at,
            updated_at_ms: s.updated_at,
            deadline_ms: s.deadline,
            overdue: s.overdue,
        }
    }
}

/// What a reporter enters for a problem.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewReport {
    /// The small category code from the catalogue.
    pub category: String,
    /// Where the problem is, in the datum it says. `None` (only with photos, in
    /// `report_with_photos`) places the report where its first photo with a known place was
    /// taken: the camera's record, else the EXIF GPS position.
    pub location: Option<GeoPoint>,
    /// A few words.
    pub description: String,
    /// The grid, when the reporter chose one; otherwise found from the location.
    #[uniffi(default = None)]
    pub grid: Option<String>,
    /// The road segment, when on one; a street chief's own segment by default.
    #[uniffi(default = None)]
    pub segment: Option<String>,
}

impl NewReport {
    /// The core's report, at `location` (WGS-84).
    pub(crate) fn at(self, location: core_org::Point) -> CoreNewReport {
        CoreNewReport {
            category: self.category,
            location,
            grid: self.grid,
            segment: self.segment,
            description: self.description,
        }
    }

    /// The core's report at its own location converted to WGS-84; `InvalidInput` with field
    /// `location` when it has none (only a report with photos may leave it out).
    pub(crate) fn located(self) -> crate::ApiResult<CoreNewReport> {
        match self.location {
            Some(g) => {
                let p = g.to_wgs84();
                Ok(self.at(p))
            }
            None => Err(crate::ApiError::InvalidInput {
                field: "location".into(),
                problem: "no location: give one (or report with photos that carry a place)".into(),
            }),
        }
    }
}

/// What a resident (or a grid worker or community chief on their behalf) enters for a request.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct NewRequest {
    /// The small category code from the catalogue.
    pub category: String,
    /// Where help is needed, in the datum it says.
    pub location: GeoPoint,
    /// What is asked for.
    pub description: String,
    /// The grid, when chosen; otherwise found from the location or the resident's own grid.
    #[uniffi(default = None)]
    pub grid: Option<String>,
}

impl From<NewRequest> for CoreNewRequest {
    fn from(r: NewRequest) -> CoreNewRequest {
        CoreNewRequest {
            category: r.category,
            location: r.location.to_wgs84(),
            grid: r.grid,
            description: r.description,
        }
    }
}

/// One case's document bytes received from elsewhere, for [`crate::XiangyingDevice::import_cases`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RemoteCase {
    /// The case id the bytes belong to.
    pub case_id: String,
    /// Whole-document or change bytes, as [`crate::XiangyingDevice::export_case`] gives them.
    pub bytes: Vec<u8>,
}

/// One case an import could not take in.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportFailure {
    /// The case.
    pub case_id: String,
    /// Why.
    pub error: crate::ApiError,
}

/// What a bulk import did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportReport {
    /// The cases taken in (or already known: applying known bytes again changes nothing).
    pub imported: Vec<String>,
    /// The cases refused, each with its error; the others were still taken in.
    pub failed: Vec<ImportFailure>,
    /// True when the import was cancelled before the end; what was taken in stays.
    pub cancelled: bool,
}

/// Whether a category is a component (部件), an event (事件) or a grid duty (网格职责).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CategoryKind {
    /// 部件: a physical thing in public space (a manhole cover, a street light).
    Component,
    /// 事件: something happening (littering, illegal parking, a burst pipe).
    Event,
    /// 网格职责: one of the duties assigned to grids (综治信访, 矛盾调处, …).
    Duty,
}

impl From<core_org::CategoryKind> for CategoryKind {
    fn from(k: core_org::CategoryKind) -> CategoryKind {
        match k {
            core_org::CategoryKind::Component => CategoryKind::Component,
            core_org::CategoryKind::Event => CategoryKind::Event,
            core_org::CategoryKind::Duty => CategoryKind::Duty,
        }
    }
}

/// One small category (小类) of the catalogue the device holds, with its big category (大类):
/// what a category picker shows. Group by `big_code` for the picker's first level.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Category {
    /// The small category code, unique in the catalogue, e.g. `010101`; pass it as
    /// [`NewReport::category`].
    pub code: String,
    /// The small category's Chinese name, e.g. 井盖.
    pub name: String,
    /// The big category code, e.g. `0101`.
    pub big_code: String,
    /// The big category's Chinese name, e.g. 公用设施.
    pub big_name: String,
    /// Component, event or duty.
    pub kind: CategoryKind,
    /// The level that handles it by default.
    pub level: Level,
    /// The time limit from report to resolution, in hours.
    pub limit_hours: u32,
    /// How those hours count: working hours (the street's working periods on working days,
    /// holidays excluded) or natural hours (urgent categories).
    pub limit_clock: LimitClock,
    /// The department that answers for it when dispatched, if any.
    pub department: Option<String>,
}

/// How a time limit counts (工作时 or 自然时).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LimitClock {
    /// 工作时: only the working periods of working days count (8 hours ≈ one working day).
    Working,
    /// 自然时: every hour counts, nights, weekends and holidays included.
    Natural,
}

impl From<core_org::LimitClock> for LimitClock {
    fn from(c: core_org::LimitClock) -> LimitClock {
        match c {
            core_org::LimitClock::Working => LimitClock::Working,
            core_org::LimitClock::Natural => LimitClock::Natural,
        }
    }
}

impl From<core_org::Category> for Category {
    fn from(c: core_org::Category) -> Category {
        Category {
            code: c.code,
            name: c.name,
            big_code: c.big_code,
            big_name: c.big_name,
            kind: c.kind.into(),
            level: c.level.into(),
            limit_hours: c.limit_hours,
            limit_clock: c.clock.into(),
            department: c.department,
        }
    }
}

impl From<PhotoStage> for core_case::PhotoStage {
    fn from(s: PhotoStage) -> core_case::PhotoStage {
        match s {
            PhotoStage::Before => core_case::PhotoStage::Before,
            PhotoStage::After => core_case::PhotoStage::After,
            PhotoStage::Evidence => core_case::PhotoStage::Evidence,
        }
    }
}

/// A photo file (a photo or its thumbnail) that no server has yet.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PendingUpload {
    /// Lowercase hex SHA-256 of the file.
    pub hash: String,
    /// The case that references it.
    pub case_id: String,
    /// Its size in bytes.
    pub bytes: u64,
}

impl From<xiangying_core::store::Upload> for PendingUpload {
    fn from(u: xiangying_core::store::Upload) -> PendingUpload {
        PendingUpload {
            hash: u.hash,
            case_id: u.case_id,
            bytes: u.bytes,
        }
    }
}

/// Which part of a sync is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum SyncPhase {
    /// Pushing changes and pulling the feed (one round trip per page).
    Exchanging,
    /// Uploading queued photos.
    UploadingPhotos,
    /// Finished.
    Done,
}

impl From<xiangying_core::SyncPhase> for SyncPhase {
    fn from(p: xiangying_core::SyncPhase) -> SyncPhase {
        match p {
            xiangying_core::SyncPhase::Exchanging => SyncPhase::Exchanging,
            xiangying_core::SyncPhase::UploadingPhotos => SyncPhase::UploadingPhotos,
            xiangying_core::SyncPhase::Done => SyncPhase::Done,
        }
    }
}

/// How far a sync has got: reported after every step, and returned at the end. The counts
/// are totals since the sync started.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// The phase the sync is in (`None` before it starts).
    pub phase: Option<SyncPhase>,
    /// Round trips to the sync endpoint.
    pub round_trips: u32,
    /// Changes of this device the server acknowledged.
    pub pushed: u64,
    /// Feed items applied (changes to, or whole documents of, cases).
    pub pulled: u64,
    /// Photo files (photos and thumbnails) uploaded.
    pub photos_uploaded: u64,
    /// Request body bytes sent.
    pub bytes_sent: u64,
    /// Response body bytes received.
    pub bytes_received: u64,
    /// The server turned out to have been restored from a backup: this phone sent back
    /// everything it holds and read the server's changes again from the start. Apps may tell
    /// the person ("the server was restored; your work was sent again") — nothing is lost.
    pub server_restored: bool,
    /// Photo files this sync could not send because their copy on this phone is missing or
    /// damaged (their hashes). They stay queued and every sync tries them again; the files
    /// after them were sent. `pending_uploads` names each file's case.
    #[uniffi(default)]
    pub photos_unreadable: Vec<String>,
}

impl From<&xiangying_core::SyncReport> for SyncReport {
    fn from(r: &xiangying_core::SyncReport) -> SyncReport {
        SyncReport {
            phase: r.phase.map(Into::into),
            round_trips: r.round_trips,
            pushed: r.pushed,
            pulled: r.pulled,
            photos_uploaded: r.photos_uploaded,
            bytes_sent: r.bytes_sent,
            bytes_received: r.bytes_received,
            server_restored: r.server_restored,
            photos_unreadable: r.photos_unreadable.clone(),
        }
    }
}
