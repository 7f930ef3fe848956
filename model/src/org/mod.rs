//! The organisation: places, people, roles, the category catalogue and its working calendar.
//!
//! A street (街道) holds communities (社区), which hold grids (网格, polygons); road segments
//! (责任路段, polylines) run along the street's roads. People hold one role and one scope.
//! The roster and the catalogue are published by the server as plain JSON files that an
//! administrator can edit; a device holds a read-only copy. Everything here is plain data plus
//! lookups: the case rules in [`crate::case`] decide what a role may do.

mod calendar;
mod capability;
mod catalogue;
mod catalogue_data;
pub mod datum;
mod geo;
mod load;
mod lookup;
mod route;
pub mod sample;
mod search;
mod view;
pub mod zhenxing;

pub use calendar::{
    Calendar, CalendarError, CalendarSpec, Holiday, LimitClock, MAX_HOLIDAY_DAYS, MAX_LIMIT_HOURS,
    WEEKDAYS, WorkPeriod,
};
pub use capability::{Audience, Capabilities, FirstHolder, Reach, ScopeKind};
pub use catalogue::{Catalogue, Category, CategoryKind};
pub use datum::Datum;
pub use geo::{
    EARTH_RADIUS_M, Point, distance_m, distance_to_polyline_m, point_in_polygon, polygon_area_m2,
    polygon_centroid, polyline_length_m,
};
pub use load::OrgError;
pub use route::{DEFAULT_SEGMENT_RADIUS_M, Route, Router};
pub use search::{Found, MatchKind, PeopleIndex};
pub use view::is_private;

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The name that in-memory rosters and catalogues carry in their errors (defined here, not in
/// `load`, because `catalogue` needs it too and `load` depends on `catalogue`).
pub const MEMORY: &str = "<memory>";

/// The management level a case sits at, from the grid up to joint enforcement.
///
/// 小事不出网格，大事不出社区，重大事情不出街道: small matters stay in the grid, big ones in the
/// community, major ones in the sub-district; the hardest go to joint enforcement (联合执法).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl Level {
    /// The stable identifier used in documents and index tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Grid => "grid",
            Level::Community => "community",
            Level::Street => "street",
            Level::JointEnforcement => "joint_enforcement",
        }
    }

    /// Parses [`Level::as_str`] back.
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "grid" => Level::Grid,
            "community" => Level::Community,
            "street" => Level::Street,
            "joint_enforcement" => Level::JointEnforcement,
            _ => return None,
        })
    }

    /// The Chinese name shown to users.
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Grid => "网格",
            Level::Community => "社区",
            Level::Street => "街道",
            Level::JointEnforcement => "联合执法",
        }
    }
}

/// A person's role. One person holds exactly one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl Role {
    /// Every role, in a stable order (for tests and tables).
    pub const ALL: [Role; 10] = [
        Role::StreetCenter,
        Role::CommunityChief,
        Role::GridWorker,
        Role::GridInformant,
        Role::PartyStreetChief,
        Role::MerchantStreetChief,
        Role::StreetOfficial,
        Role::DepartmentStaff,
        Role::Volunteer,
        Role::Resident,
    ];

    /// The stable identifier used in documents and files.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::StreetCenter => "street_center",
            Role::CommunityChief => "community_chief",
            Role::GridWorker => "grid_worker",
            Role::GridInformant => "grid_informant",
            Role::PartyStreetChief => "party_street_chief",
            Role::MerchantStreetChief => "merchant_street_chief",
            Role::StreetOfficial => "street_official",
            Role::DepartmentStaff => "department_staff",
            Role::Volunteer => "volunteer",
            Role::Resident => "resident",
        }
    }

    /// The Chinese name shown to users.
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::StreetCenter => "街道网格中心",
            Role::CommunityChief => "社区网格长",
            Role::GridWorker => "网格员",
            Role::GridInformant => "网格信息员",
            Role::PartyStreetChief => "党员街长",
            Role::MerchantStreetChief => "商户街长",
            Role::StreetOfficial => "街道干部",
            Role::DepartmentStaff => "驻街执法部门",
            Role::Volunteer => "志愿者",
            Role::Resident => "居民",
        }
    }

    /// True for the two kinds of street chief (街长) ([`Capabilities::street_chief`]).
    pub fn is_street_chief(self) -> bool {
        self.capabilities().street_chief
    }

    /// True for the roles whose work spans the whole street, whatever their scope: the centre
    /// and street officials read every case and see every grid worker's patrols
    /// ([`Capabilities::sees_whole_street`]).
    pub fn sees_whole_street(self) -> bool {
        self.capabilities().sees_whole_street
    }
}

/// Where a person's responsibility lies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Scope {
    /// The whole street (centre staff, officials).
    Street,
    /// One community (community chiefs, volunteers).
    Community(String),
    /// One grid (grid workers, informants, residents).
    Grid(String),
    /// One road segment (street chiefs).
    Segment(String),
    /// One department (department staff).
    Department(String),
}

/// The sub-district (街道) itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Street {
    /// Stable identifier, e.g. `zhenxing`.
    pub id: String,
    /// Display name, e.g. 振兴街道.
    pub name: String,
    /// Prefix of human case numbers, e.g. `ZX` in `ZX-20261129-0001`.
    pub case_prefix: String,
}

/// A named road (main or secondary street) along which segments run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Road {
    /// Stable identifier.
    pub id: String,
    /// Display name, e.g. 兴隆街.
    pub name: String,
    /// True for a main street (主街), false for a secondary one (次街).
    pub main: bool,
}

/// A community (社区).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Community {
    /// Stable identifier.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A grid (网格): a polygon inside one community, with exactly one grid worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Stable identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The community the grid belongs to.
    pub community: String,
    /// The boundary, a closed ring (the last point need not repeat the first).
    pub polygon: Vec<Point>,
}

/// A responsibility road segment (责任路段): a polyline along one road.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadSegment {
    /// Stable identifier.
    pub id: String,
    /// Display name, e.g. 兴隆街（一段）.
    pub name: String,
    /// The road it runs along.
    pub road: String,
    /// The community that answers for it.
    pub community: String,
    /// The centre line.
    pub polyline: Vec<Point>,
}

/// An enforcement department stationed in the street (驻街执法部门).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Department {
    /// Stable identifier, e.g. `police`.
    pub id: String,
    /// Display name, e.g. 派出所.
    pub name: String,
}

/// A person in the roster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// Stable identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Phone number shown on notice boards.
    pub phone: String,
    /// The one role the person holds.
    pub role: Role,
    /// Where that role applies.
    pub scope: Scope,
}

/// The roster of one street: places and people. Build it with [`Roster::new`] or load it with
/// [`Roster::from_json`]; both check every reference and build the lookup indexes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Roster {
    /// The street itself.
    pub street: Street,
    /// Its roads.
    pub roads: Vec<Road>,
    /// Its communities.
    pub communities: Vec<Community>,
    /// Its grids.
    pub grids: Vec<Grid>,
    /// Its road segments.
    pub segments: Vec<RoadSegment>,
    /// The departments stationed in it.
    pub departments: Vec<Department>,
    /// Everybody who uses the system.
    pub people: Vec<Person>,
    #[serde(skip)]
    index: RosterIndex,
}

#[derive(Debug, Clone, Default)]
struct RosterIndex {
    people: HashMap<String, usize>,
    grids: HashMap<String, usize>,
    segments: HashMap<String, usize>,
    communities: HashMap<String, usize>,
    departments: HashMap<String, usize>,
    roads: HashMap<String, usize>,
    grid_worker: HashMap<String, usize>,
    community_chief: HashMap<String, usize>,
}

impl Roster {
    /// Builds a roster from its parts, checking it as [`Roster::from_json`] does.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        street: Street,
        roads: Vec<Road>,
        communities: Vec<Community>,
        grids: Vec<Grid>,
        segments: Vec<RoadSegment>,
        departments: Vec<Department>,
        people: Vec<Person>,
    ) -> Result<Roster, OrgError> {
        let mut roster = Roster {
            street,
            roads,
            communities,
            grids,
            segments,
            departments,
            people,
            index: RosterIndex::default(),
        };
        roster.check_and_index("<memory>")?;
        Ok(roster)
    }

    /// The person with this id.
    pub fn person(&self, id: &str) -> Option<&Person> {
        self.index.people.get(id).map(|&i| &self.people[i])
    }

    /// The grid with this id.
    pub fn grid(&self, id: &str) -> Option<&Grid> {
        self.index.grids.get(id).map(|&i| &self.grids[i])
    }

    /// The road segment with this id.
    pub fn segment(&self, id: &str) -> Option<&RoadSegment> {
        self.index.segments.get(id).map(|&i| &self.segments[i])
    }

    /// The community with this id.
    pub fn community(&self, id: &str) -> Option<&Community> {
        self.index
            .communities
            .get(id)
            .map(|&i| &self.communities[i])
    }

    /// The department with this id.
    pub fn department(&self, id: &str) -> Option<&Department> {
        self.index
            .departments
            .get(id)
            .map(|&i| &self.departments[i])
    }

    /// The road with this id.
    pub fn road(&self, id: &str) -> Option<&Road> {
        self.index.roads.get(id).map(|&i| &self.roads[i])
    }

    /// The grid worker of a grid.
    pub fn grid_worker_of(&self, grid: &str) -> Option<&Person> {
        self.index.grid_worker.get(grid).map(|&i| &self.people[i])
    }

    /// The community grid chief of a community.
    pub fn community_chief_of(&self, community: &str) -> Option<&Person> {
        self.index
            .community_chief
            .get(community)
            .map(|&i| &self.people[i])
    }

    /// The grid that contains a point, if any (a point on a shared border belongs to the grid
    /// listed first).
    pub fn grid_at(&self, p: Point) -> Option<&Grid> {
        self.grids.iter().find(|g| point_in_polygon(p, &g.polygon))
    }
}
