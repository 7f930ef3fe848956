//! A small sample street for tests, examples and documentation: two communities, three grids,
//! one road segment, one person in every role, two departments and a handful of categories.
//! Far smaller than the Zhenxing example, so a test can reason about every person in it.
//!
//! Layout (longitude 0.0–0.3, latitude 0.0–0.1): grids `g1` and `g2` in community `c1`, grid
//! `g3` in community `c2`, each 0.1 × 0.1; segment `s1` runs along latitude 0.05 through `g1`
//! and `g2`.

use super::{
    Catalogue, Category, CategoryKind, Community, Department, Grid, Level, LimitClock, OrgError,
    Person, Point, Road, RoadSegment, Role, Roster, Scope, Street,
};

fn square(x0: f64) -> Vec<Point> {
    [(x0, 0.0), (x0 + 0.1, 0.0), (x0 + 0.1, 0.1), (x0, 0.1)]
        .iter()
        .map(|&(lon, lat)| Point { lon, lat })
        .collect()
}

fn person(id: &str, role: Role, scope: Scope) -> Person {
    Person {
        id: id.into(),
        name: format!("测试{id}"),
        phone: "138-0000-0000".into(),
        role,
        scope,
    }
}

/// The people of the sample street, by id: `center`, `cc1`, `cc2` (community chiefs),
/// `gw1`..`gw3` (grid workers of `g1`..`g3`), `inf1` (informant, `g1`), `psc1` and `msc1`
/// (party and merchant street chiefs of `s1`), `official`, `police1`, `enf1` (department staff),
/// `vol1`, `vol2` (volunteers of `c1`), `vol3` (of `c2`), `res1` (resident of `g1`).
pub fn roster() -> Result<Roster, OrgError> {
    use Role::*;
    let g = |s: &str| Scope::Grid(s.into());
    let c = |s: &str| Scope::Community(s.into());
    let people = vec![
        person("center", StreetCenter, Scope::Street),
        person("cc1", CommunityChief, c("c1")),
        person("cc2", CommunityChief, c("c2")),
        person("gw1", GridWorker, g("g1")),
        person("gw2", GridWorker, g("g2")),
        person("gw3", GridWorker, g("g3")),
        person("inf1", GridInformant, g("g1")),
        person("psc1", PartyStreetChief, Scope::Segment("s1".into())),
        person("msc1", MerchantStreetChief, Scope::Segment("s1".into())),
        person("official", StreetOfficial, Scope::Street),
        person(
            "police1",
            DepartmentStaff,
            Scope::Department("police".into()),
        ),
        person(
            "enf1",
            DepartmentStaff,
            Scope::Department("enforcement".into()),
        ),
        person("vol1", Volunteer, c("c1")),
        person("vol2", Volunteer, c("c1")),
        person("vol3", Volunteer, c("c2")),
        person("res1", Resident, g("g1")),
    ];
    let grid = |id: &str, community: &str, x0: f64| Grid {
        id: id.into(),
        name: format!("第{id}网格"),
        community: community.into(),
        polygon: square(x0),
    };
    Roster::new(
        Street {
            id: "sample".into(),
            name: "样例街道".into(),
            case_prefix: "YL".into(),
        },
        vec![Road {
            id: "r1".into(),
            name: "样例大街".into(),
            main: true,
        }],
        vec![
            Community {
                id: "c1".into(),
                name: "一社区".into(),
            },
            Community {
                id: "c2".into(),
                name: "二社区".into(),
            },
        ],
        vec![
            grid("g1", "c1", 0.0),
            grid("g2", "c1", 0.1),
            grid("g3", "c2", 0.2),
        ],
        vec![RoadSegment {
            id: "s1".into(),
            name: "样例大街一段".into(),
            road: "r1".into(),
            community: "c1".into(),
            polyline: vec![
                Point {
                    lon: 0.0,
                    lat: 0.05,
                },
                Point {
                    lon: 0.2,
                    lat: 0.05,
                },
            ],
        }],
        vec![
            Department {
                id: "police".into(),
                name: "派出所".into(),
            },
            Department {
                id: "enforcement".into(),
                name: "综合执法队".into(),
            },
        ],
        people,
    )
}

/// 井盖破损: a component, handled in the grid within 24 h.
pub const MANHOLE: &str = "010101";
/// 垃圾满溢: an event, handled in the grid within 4 h.
pub const LITTER: &str = "020101";
/// 占道经营: an event, handled by the community within 48 h, enforcement answers for it.
pub const STALL: &str = "020501";
/// 邻里纠纷: a grid duty, 72 h.
pub const DISPUTE: &str = "030201";
/// 居民求助: a grid duty used for resident requests, community, 24 h.
pub const HELP: &str = "030901";

/// A few categories: [`MANHOLE`], [`LITTER`], [`STALL`], [`DISPUTE`], [`HELP`]. Their limits
/// run on natural hours, so that tests reason with plain arithmetic whatever the day; the
/// calendar is the default one ([`crate::org::Calendar::china_2026`]).
pub fn catalogue() -> Catalogue {
    let cat =
        |code: &str, kind, big: &str, name: &str, level, hours, dept: Option<&str>| Category {
            code: code.into(),
            kind,
            big_code: code[..4].into(),
            big_name: big.into(),
            name: name.into(),
            level,
            limit_hours: hours,
            department: dept.map(Into::into),
            clock: LimitClock::Natural,
        };
    use CategoryKind::*;
    Catalogue::new(vec![
        cat(
            MANHOLE,
            Component,
            "公用设施",
            "井盖破损",
            Level::Grid,
            24,
            None,
        ),
        cat(LITTER, Event, "市容环境", "垃圾满溢", Level::Grid, 4, None),
        cat(
            STALL,
            Event,
            "街面秩序",
            "占道经营",
            Level::Community,
            48,
            Some("enforcement"),
        ),
        cat(DISPUTE, Duty, "矛盾调处", "邻里纠纷", Level::Grid, 72, None),
        cat(
            HELP,
            Duty,
            "社会服务",
            "居民求助",
            Level::Community,
            24,
            None,
        ),
    ])
}

/// The sample roster as JSON, as a server would publish it.
pub fn roster_json() -> Result<String, OrgError> {
    to_json(&roster()?)
}

/// The sample catalogue as JSON, as a server would publish it.
pub fn catalogue_json() -> Result<String, OrgError> {
    to_json(&catalogue())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, OrgError> {
    serde_json::to_string(value).map_err(|e| OrgError::Parse {
        file: "sample".into(),
        message: e.to_string(),
    })
}

/// A point inside grid `g1` on segment `s1`.
pub const IN_G1: Point = Point {
    lon: 0.05,
    lat: 0.05,
};

/// A point inside grid `g3`.
pub const IN_G3: Point = Point {
    lon: 0.25,
    lat: 0.05,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_round_trips_through_json() {
        let r = Roster::from_json("sample", &roster_json().unwrap()).unwrap();
        assert_eq!(r.grid_worker_of("g2").unwrap().id, "gw2");
        assert_eq!(r.community_chief_of("c2").unwrap().id, "cc2");
        assert_eq!(r.grid_at(IN_G3).unwrap().id, "g3");
        let c = Catalogue::from_json("sample", &catalogue_json().unwrap()).unwrap();
        assert_eq!(c.get(STALL).unwrap().limit_hours, 48);
    }
}
