//! The Zhenxing sub-district example (振兴街道) as generated data on synthetic geometry.
//!
//! The numbers are those of `docs/DOMAIN.md` ("Places", "People and roles"): 12 communities, 64
//! grids with one grid worker each, 42 road segments along 16 roads, 44 party-member and 32
//! merchant street chiefs, 20 grid informants per grid, six departments. The places are synthetic:
//! 8 × 8 rectangular grids of 106.25 m × 100 m tile an 850 m × 800 m block (680,000 m²) centred
//! near Panjin ([`CENTRE`]); grid rows run north to south, columns west to east. The communities
//! are four strips of two columns, each cut into three contiguous blocks of 6, 5 and 5 grids; the
//! roads follow grid borders. People's names and phone numbers come from a fixed pseudo-random
//! sequence, so every run produces the same roster. `data/zhenxing/` holds the same data as files
//! (written by `cargo run -p xiangying-core --example gen_zhenxing -- data/zhenxing`).

use super::geo::EARTH_RADIUS_M;
use super::{
    Calendar, Catalogue, Community, Department, Grid, Person, Point, Road, RoadSegment, Role,
    Roster, RosterIndex, Scope, Street, catalogue_data,
};

/// The centre of the street's block.
pub const CENTRE: Point = Point {
    lon: 122.05,
    lat: 41.12,
};
/// Number of communities.
pub const COMMUNITIES: usize = 12;
/// Number of grids.
pub const GRIDS: usize = 64;
/// Number of roads (8 main, 8 secondary).
pub const ROADS: usize = 16;
/// Number of road segments.
pub const SEGMENTS: usize = 42;
/// Number of party-member street chiefs.
pub const PARTY_STREET_CHIEFS: usize = 44;
/// Number of merchant street chiefs.
pub const MERCHANT_STREET_CHIEFS: usize = 32;
/// Grid informants per grid.
pub const INFORMANTS_PER_GRID: usize = 20;
/// Staff of the street's grid centre.
pub const CENTER_STAFF: usize = 3;
/// Sub-district officials.
pub const OFFICIALS: usize = 4;
/// Volunteers per community.
pub const VOLUNTEERS_PER_COMMUNITY: usize = 3;
/// Residents (family representatives) per grid.
pub const RESIDENTS_PER_GRID: usize = 3;

/// Grid columns (west to east) and rows (north to south).
const COLS: usize = 8;
const ROWS: usize = 8;
/// A grid's size in metres.
const CELL_W_M: f64 = 106.25;
const CELL_H_M: f64 = 100.0;

/// The six departments: id and name.
const DEPARTMENTS: [(&str, &str, usize); 6] = [
    ("police", "振兴派出所", 2),
    ("enforcement", "振兴街道综合执法队", 2),
    ("market", "振兴市场监管所", 2),
    ("transport", "交通运输执法中队", 1),
    ("tax", "振兴税务所", 1),
    ("justice", "振兴司法所", 1),
];

const COMMUNITY_NAMES: [&str; COMMUNITIES] = [
    "兴隆社区",
    "振兴社区",
    "石油社区",
    "惠宾社区",
    "新兴社区",
    "和平社区",
    "友谊社区",
    "光明社区",
    "幸福社区",
    "建设社区",
    "育才社区",
    "繁荣社区",
];

/// Community sizes within each strip of two columns, north to south.
const STRIP_BLOCKS: [usize; 3] = [6, 5, 5];

/// A road: its name, whether it is main, the grid line it follows (`true` a north–south line
/// `x = k`, `false` an east–west line `y = k`), and how many segments it is cut into.
const ROAD_PLAN: [(&str, bool, bool, usize, usize); ROADS] = [
    ("石油大街", true, true, 0, 3),
    ("兴隆台街", true, true, 3, 3),
    ("振兴街", true, true, 5, 3),
    ("惠宾大街", true, true, 8, 3),
    ("市府大街", true, false, 0, 3),
    ("泰山路", true, false, 3, 3),
    ("中兴路", true, false, 5, 3),
    ("渤海路", true, false, 8, 3),
    ("光明路", false, true, 1, 3),
    ("建设路", false, true, 2, 2),
    ("友谊路", false, true, 4, 2),
    ("育才路", false, true, 6, 2),
    ("繁荣路", false, false, 1, 3),
    ("幸福路", false, false, 2, 2),
    ("和平路", false, false, 4, 2),
    ("新兴路", false, false, 6, 2),
];

/// The stable ids of the example, for tests and demos (numbers are 1-based).
pub mod ids {
    /// The street's id.
    pub const STREET: &str = "zhenxing";
    /// The street's case number prefix.
    pub const CASE_PREFIX: &str = "ZX";
    /// The departments' ids.
    pub const DEPARTMENTS: [&str; 6] = [
        "police",
        "enforcement",
        "market",
        "transport",
        "tax",
        "justice",
    ];

    /// Community `n`: `c01`..`c12`.
    pub fn community(n: usize) -> String {
        format!("c{n:02}")
    }
    /// Grid `n`: `g01`..`g64`.
    pub fn grid(n: usize) -> String {
        format!("g{n:02}")
    }
    /// Road `n`: `r01`..`r16`.
    pub fn road(n: usize) -> String {
        format!("r{n:02}")
    }
    /// Road segment `n`: `s01`..`s42`.
    pub fn segment(n: usize) -> String {
        format!("s{n:02}")
    }
    /// The grid worker of grid `n`: `gw-g01`.
    pub fn grid_worker(grid: usize) -> String {
        format!("gw-g{grid:02}")
    }
    /// The community grid chief of community `n`: `cc-c01`.
    pub fn community_chief(community: usize) -> String {
        format!("cc-c{community:02}")
    }
    /// Party-member street chief `n`: `sc-party-01`..`sc-party-44`.
    pub fn party_street_chief(n: usize) -> String {
        format!("sc-party-{n:02}")
    }
    /// Merchant street chief `n`: `sc-merchant-01`..`sc-merchant-32`.
    pub fn merchant_street_chief(n: usize) -> String {
        format!("sc-merchant-{n:02}")
    }
    /// Informant `n` of grid `grid`: `inf-g01-01`.
    pub fn informant(grid: usize, n: usize) -> String {
        format!("inf-g{grid:02}-{n:02}")
    }
    /// Centre staff member `n`: `center-01`.
    pub fn center(n: usize) -> String {
        format!("center-{n:02}")
    }
    /// Sub-district official `n`: `official-01`.
    pub fn official(n: usize) -> String {
        format!("official-{n:02}")
    }
    /// Staff member `n` of a department: `dept-police-01`.
    pub fn department_staff(department: &str, n: usize) -> String {
        format!("dept-{department}-{n:02}")
    }
    /// Volunteer `n` of community `community`: `vol-c01-01`.
    pub fn volunteer(community: usize, n: usize) -> String {
        format!("vol-c{community:02}-{n:02}")
    }
    /// Resident `n` of grid `grid`: `res-g01-01`.
    pub fn resident(grid: usize, n: usize) -> String {
        format!("res-g{grid:02}-{n:02}")
    }
}

/// The Zhenxing roster. Deterministic: every call returns the same roster. Tests check that it
/// passes every rule of [`Roster::from_json`].
pub fn roster() -> Roster {
    let plan = Plan::new();
    let communities = (0..COMMUNITIES)
        .map(|c| Community {
            id: ids::community(c + 1),
            name: COMMUNITY_NAMES[c].to_string(),
        })
        .collect();
    let grids = plan.grids();
    let (roads, segments) = plan.roads_and_segments();
    let departments = DEPARTMENTS
        .iter()
        .map(|&(id, name, _)| Department {
            id: id.to_string(),
            name: name.to_string(),
        })
        .collect();
    let mut roster = Roster {
        street: Street {
            id: ids::STREET.to_string(),
            name: "振兴街道".to_string(),
            case_prefix: ids::CASE_PREFIX.to_string(),
        },
        roads,
        communities,
        grids,
        segments,
        departments,
        people: people(),
        index: RosterIndex::default(),
    };
    roster.reindex();
    roster
}

/// The standard category catalogue (components, events and grid duties) used by Zhenxing, with
/// the 2026 working calendar ([`Calendar::china_2026`]). Tests check that it passes every rule
/// of [`Catalogue::from_json`] and names only Zhenxing's departments.
pub fn catalogue() -> Catalogue {
    Catalogue::new(catalogue_data::categories()).with_calendar(Calendar::china_2026())
}

/// The grid lines and the community of every cell.
struct Plan {
    /// Longitudes of the north–south grid lines, west to east (`COLS + 1` of them).
    xs: Vec<f64>,
    /// Latitudes of the east–west grid lines, north to south (`ROWS + 1` of them).
    ys: Vec<f64>,
    /// `cell[row][col]` = (grid number, community number), both 1-based.
    cell: [[(usize, usize); COLS]; ROWS],
}

/// Rounds degrees to 1e-7 (about a centimetre), so files hold short, exact numbers.
fn round7(deg: f64) -> f64 {
    (deg * 1e7).round() / 1e7
}

impl Plan {
    fn new() -> Plan {
        let per_deg_lat = EARTH_RADIUS_M.to_radians();
        let per_deg_lon = per_deg_lat * CENTRE.lat.to_radians().cos();
        let width = CELL_W_M * COLS as f64;
        let height = CELL_H_M * ROWS as f64;
        let west = CENTRE.lon - width / 2.0 / per_deg_lon;
        let north = CENTRE.lat + height / 2.0 / per_deg_lat;
        let xs = (0..=COLS)
            .map(|i| round7(west + i as f64 * CELL_W_M / per_deg_lon))
            .collect();
        let ys = (0..=ROWS)
            .map(|j| round7(north - j as f64 * CELL_H_M / per_deg_lat))
            .collect();
        // Each strip of two columns, walked row by row in a serpentine, is cut into blocks of
        // 6, 5 and 5 consecutive cells: every block is contiguous.
        let mut cell = [[(0, 0); COLS]; ROWS];
        let mut grid = 0;
        for strip in 0..COLS / 2 {
            let mut walk = Vec::with_capacity(2 * ROWS);
            for row in 0..ROWS {
                let (a, b) = (2 * strip, 2 * strip + 1);
                let cols = if row % 2 == 0 { [a, b] } else { [b, a] };
                walk.extend(cols.iter().map(|&col| (row, col)));
            }
            let mut cells = walk.into_iter();
            for (block, &size) in STRIP_BLOCKS.iter().enumerate() {
                let community = strip * STRIP_BLOCKS.len() + block + 1;
                for (row, col) in cells.by_ref().take(size) {
                    grid += 1;
                    cell[row][col] = (grid, community);
                }
            }
        }
        Plan { xs, ys, cell }
    }

    fn grids(&self) -> Vec<Grid> {
        let mut grids: Vec<(usize, Grid)> = Vec::with_capacity(GRIDS);
        let mut in_community = [0usize; COMMUNITIES];
        let mut cells: Vec<(usize, usize, usize, usize)> = Vec::with_capacity(GRIDS);
        for row in 0..ROWS {
            for col in 0..COLS {
                let (grid, community) = self.cell[row][col];
                cells.push((grid, community, row, col));
            }
        }
        cells.sort_unstable();
        for (grid, community, row, col) in cells {
            let k = &mut in_community[community - 1];
            *k += 1;
            let (w, e) = (self.xs[col], self.xs[col + 1]);
            let (n, s) = (self.ys[row], self.ys[row + 1]);
            grids.push((
                grid,
                Grid {
                    id: ids::grid(grid),
                    name: format!("{}第{}网格", COMMUNITY_NAMES[community - 1], k),
                    community: ids::community(community),
                    // Counter-clockwise from the south-west corner.
                    polygon: vec![
                        Point { lon: w, lat: s },
                        Point { lon: e, lat: s },
                        Point { lon: e, lat: n },
                        Point { lon: w, lat: n },
                    ],
                },
            ));
        }
        grids.into_iter().map(|(_, g)| g).collect()
    }

    fn roads_and_segments(&self) -> (Vec<Road>, Vec<RoadSegment>) {
        const ORDINALS: [&str; 3] = ["一", "二", "三"];
        let mut roads = Vec::with_capacity(ROADS);
        let mut segments = Vec::with_capacity(SEGMENTS);
        for (r, &(name, main, north_south, line, pieces)) in ROAD_PLAN.iter().enumerate() {
            let road = ids::road(r + 1);
            roads.push(Road {
                id: road.clone(),
                name: name.to_string(),
                main,
            });
            // Cells along the road, cut into `pieces` runs: 8 → 3 + 3 + 2 or 4 + 4.
            let cells = if north_south { ROWS } else { COLS };
            let mut start = 0;
            for ordinal in ORDINALS.iter().take(pieces) {
                let len = cells.div_ceil(pieces).min(cells - start);
                let end = start + len;
                // The community of the middle cell on the east (or south) side of the road;
                // the west (north) side on the street's far edge.
                let middle = start + (len - 1) / 2;
                let side = line.min(if north_south { COLS } else { ROWS } - 1);
                let (row, col) = if north_south {
                    (middle, side)
                } else {
                    (side, middle)
                };
                let polyline = if north_south {
                    vec![
                        Point {
                            lon: self.xs[line],
                            lat: self.ys[start],
                        },
                        Point {
                            lon: self.xs[line],
                            lat: self.ys[end],
                        },
                    ]
                } else {
                    vec![
                        Point {
                            lon: self.xs[start],
                            lat: self.ys[line],
                        },
                        Point {
                            lon: self.xs[end],
                            lat: self.ys[line],
                        },
                    ]
                };
                segments.push(RoadSegment {
                    id: ids::segment(segments.len() + 1),
                    name: format!("{name}{ordinal}段"),
                    road: road.clone(),
                    community: ids::community(self.cell[row][col].1),
                    polyline,
                });
                start = end;
            }
        }
        (roads, segments)
    }
}

/// A small deterministic pseudo-random sequence (SplitMix64), the same on every platform.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0; the tiny modulo bias does not matter here).
    fn below(&mut self, n: usize) -> usize {
        // Lossless: the remainder is below `n`, which is a usize.
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const SURNAMES: [&str; 48] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "程", "曹", "袁",
    "邓", "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛", "叶",
];

const GIVEN: [&str; 64] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "文", "辉", "建", "国", "志", "红",
    "海", "鹏", "宇", "浩", "凯", "俊", "晨", "欣", "雪", "梅", "琳", "婷", "斌", "峰", "波", "亮",
    "春", "丹", "东", "福", "光", "佳", "金", "鑫", "林", "宁", "庆", "荣", "胜", "淑", "新", "阳",
];

const MOBILE_PREFIXES: [&str; 16] = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "158",
    "159", "186", "189",
];

/// Names and phone numbers in a fixed order.
struct People {
    seq: Sequence,
    list: Vec<Person>,
}

impl People {
    fn add(&mut self, id: String, role: Role, scope: Scope) {
        let surname = self.seq.pick(&SURNAMES);
        let mut name = format!("{surname}{}", self.seq.pick(&GIVEN));
        if self.seq.below(10) < 7 {
            name.push_str(self.seq.pick(&GIVEN));
        }
        let prefix = self.seq.pick(&MOBILE_PREFIXES);
        let number = self.seq.below(100_000_000);
        let phone = format!("{prefix}-{:04}-{:04}", number / 10_000, number % 10_000);
        self.list.push(Person {
            id,
            name,
            phone,
            role,
            scope,
        });
    }
}

/// The segment of merchant street chief `j` (0-based): spread evenly over the 42 segments.
fn merchant_segment(j: usize) -> usize {
    j * SEGMENTS / MERCHANT_STREET_CHIEFS + 1
}

fn people() -> Vec<Person> {
    let mut p = People {
        seq: Sequence(0x5A48_454E_5849_4E47), // "ZHENXING"
        list: Vec::new(),
    };
    for n in 1..=CENTER_STAFF {
        p.add(ids::center(n), Role::StreetCenter, Scope::Street);
    }
    for n in 1..=OFFICIALS {
        p.add(ids::official(n), Role::StreetOfficial, Scope::Street);
    }
    for &(dept, _, staff) in &DEPARTMENTS {
        for n in 1..=staff {
            p.add(
                ids::department_staff(dept, n),
                Role::DepartmentStaff,
                Scope::Department(dept.to_string()),
            );
        }
    }
    for c in 1..=COMMUNITIES {
        p.add(
            ids::community_chief(c),
            Role::CommunityChief,
            Scope::Community(ids::community(c)),
        );
    }
    for g in 1..=GRIDS {
        p.add(
            ids::grid_worker(g),
            Role::GridWorker,
            Scope::Grid(ids::grid(g)),
        );
    }
    for n in 1..=PARTY_STREET_CHIEFS {
        let segment = (n - 1) % SEGMENTS + 1;
        p.add(
            ids::party_street_chief(n),
            Role::PartyStreetChief,
            Scope::Segment(ids::segment(segment)),
        );
    }
    for n in 1..=MERCHANT_STREET_CHIEFS {
        p.add(
            ids::merchant_street_chief(n),
            Role::MerchantStreetChief,
            Scope::Segment(ids::segment(merchant_segment(n - 1))),
        );
    }
    for g in 1..=GRIDS {
        for n in 1..=INFORMANTS_PER_GRID {
            p.add(
                ids::informant(g, n),
                Role::GridInformant,
                Scope::Grid(ids::grid(g)),
            );
        }
    }
    for c in 1..=COMMUNITIES {
        for n in 1..=VOLUNTEERS_PER_COMMUNITY {
            p.add(
                ids::volunteer(c, n),
                Role::Volunteer,
                Scope::Community(ids::community(c)),
            );
        }
    }
    for g in 1..=GRIDS {
        for n in 1..=RESIDENTS_PER_GRID {
            p.add(
                ids::resident(g, n),
                Role::Resident,
                Scope::Grid(ids::grid(g)),
            );
        }
    }
    p.list
}

#[cfg(test)]
mod tests;
