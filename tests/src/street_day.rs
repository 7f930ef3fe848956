//! The anchors' street day in this project's terms, for the benchmarks that compare with
//! PouchDB and automerge-repo (`benches/street_day.rs`, `scripts/bench-anchors`) and the scale
//! curves (`benches/scale_curve.rs`): a street of `n` grids with one grid worker each (device
//! `i` is the grid worker of grid `i`, as the anchors' device `i` writes grid `G-i`), and the
//! day each of them records offline: 30 reports, each raised, then given a note as a separate
//! edit, and every third escalated to the community (2.33 edits a report), with a description
//! of 100 to 140 CJK characters from a phrase vocabulary, as the anchors' generator writes.
//! docs/BENCHMARKS.md ("Against PouchDB and automerge-repo") describes the mapping.

use xiangying_core::org::{Grid, Point, Roster, Scope, zhenxing};
use xiangying_core::{Device, NewReport};

/// The grid's edge, in degrees (about 220 m north–south).
const EDGE_DEG: f64 = 0.002;
/// Grids per row of the synthetic street.
const COLUMNS: usize = 40;
/// The category every report of the day is in (a damaged manhole cover).
pub const CATEGORY: &str = "010101";

/// The id of grid `i` (1-based) of the synthetic street: `G-0017`.
pub fn grid_id(i: usize) -> String {
    format!("G-{i:04}")
}

/// The grid worker of grid `i`: `gw-0017`.
pub fn worker_id(i: usize) -> String {
    format!("gw-{i:04}")
}

/// The roster and catalogue (JSON) of a street of `grids` square grids, one grid worker
/// each, over the Zhenxing street's communities, roads, departments and staff (its own grids
/// and the people placed in them are replaced).
pub fn street(grids: usize) -> (String, String) {
    let mut roster = zhenxing::roster();
    let communities: Vec<String> = roster.communities.iter().map(|c| c.id.clone()).collect();
    let per_community = grids.div_ceil(communities.len()).max(1);
    // Blocks of `per_community` grids a community, as the 150-grid street has always been;
    // when blocks would leave the last communities without a grid (20 grids: blocks of 2
    // fill 10 of 12), the grids are spread evenly instead. Every community needs a grid, so
    // the street has at least as many grids as Zhenxing has communities.
    let blocks_fill = (grids.max(1) - 1) / per_community + 1 == communities.len();
    let community_of = |i: usize| {
        if blocks_fill {
            (i - 1) / per_community
        } else {
            (i - 1) * communities.len() / grids
        }
    };
    roster.grids = (1..=grids)
        .map(|i| Grid {
            id: grid_id(i),
            name: format!("网格{i}"),
            community: communities[community_of(i)].clone(),
            polygon: square(i),
        })
        .collect();
    roster.people.retain(|p| !matches!(p.scope, Scope::Grid(_)));
    let template = roster
        .people
        .iter()
        .find(|p| p.role == xiangying_core::org::Role::CommunityChief)
        .cloned()
        .expect("Zhenxing has community chiefs");
    for i in 1..=grids {
        let mut p = template.clone();
        p.id = worker_id(i);
        p.name = format!("网格员{i}");
        p.phone = format!("139{i:08}");
        p.role = xiangying_core::org::Role::GridWorker;
        p.scope = Scope::Grid(grid_id(i));
        roster.people.push(p);
    }
    // Serialised and read back: the index is rebuilt and every rule of the roster checked.
    let json = serde_json::to_string(&roster).expect("roster");
    Roster::from_json("street day roster", &json).expect("the synthetic street is valid");
    (
        json,
        serde_json::to_string(&zhenxing::catalogue()).expect("catalogue"),
    )
}

/// The south-west corner of grid `i`.
fn corner(i: usize) -> Point {
    let (row, col) = ((i - 1) / COLUMNS, (i - 1) % COLUMNS);
    Point {
        lon: zhenxing::CENTRE.lon + col as f64 * EDGE_DEG,
        lat: zhenxing::CENTRE.lat + row as f64 * EDGE_DEG,
    }
}

/// Grid `i`'s square, counter-clockwise from its south-west corner.
fn square(i: usize) -> Vec<Point> {
    let c = corner(i);
    let e = EDGE_DEG;
    vec![
        c,
        Point {
            lon: c.lon + e,
            lat: c.lat,
        },
        Point {
            lon: c.lon + e,
            lat: c.lat + e,
        },
        Point {
            lon: c.lon,
            lat: c.lat + e,
        },
    ]
}

/// A point well inside grid `i`, moved a little by `n` so that reports do not pile up.
pub fn inside(i: usize, n: usize) -> Point {
    let c = corner(i);
    let step = EDGE_DEG / 64.0;
    Point {
        lon: c.lon + EDGE_DEG / 4.0 + (n % 32) as f64 * step,
        lat: c.lat + EDGE_DEG / 4.0 + (n / 32 % 32) as f64 * step,
    }
}

/// The phrases descriptions are built from (street-side problems, as a grid worker writes
/// them).
const PHRASES: [&str; 16] = [
    "路口东侧井盖松动",
    "车辆经过时有明显响声",
    "附近居民多次反映",
    "夜间照明不足存在安全隐患",
    "人行道砖块破损翘起",
    "雨后积水影响通行",
    "店铺门前杂物堆放占道",
    "垃圾桶满溢未及时清运",
    "共享单车乱停乱放",
    "绿化带内有建筑垃圾",
    "墙面小广告较多",
    "施工围挡倾斜需加固",
    "楼道内电动车充电",
    "早高峰时段拥堵严重",
    "已现场提醒相关人员",
    "请相关部门尽快处理",
];

/// A description of 100 to 140 CJK characters for report `n` of device `seed`.
pub fn description(seed: usize, n: usize) -> String {
    let mut state = (seed as u64)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add((n as u64 + 1).wrapping_mul(1_442_695_040_888_963_407));
    let target = 100 + (state >> 33) as usize % 41;
    let mut out = String::new();
    while out.chars().count() < target {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        out.push_str(PHRASES[(state >> 40) as usize % PHRASES.len()]);
        out.push('，');
    }
    out.chars().take(target - 1).chain(['。']).collect()
}

/// Records grid worker `i`'s day on `d`, offline: `reports` reports, each raised (with the
/// photos `photos(n)` gives, camera bytes), given a note, and every third escalated.
pub fn record_day(d: &Device, i: usize, reports: usize, photos: &dyn Fn(usize) -> Vec<Vec<u8>>) {
    for n in 0..reports {
        let files = photos(n);
        let refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
        let id = d
            .report_with_photos(
                &NewReport {
                    category: CATEGORY.to_string(),
                    location: inside(i, n),
                    grid: None,
                    segment: None,
                    description: description(i, n),
                },
                &refs,
            )
            .expect("report");
        d.note(&id, "已到现场查看，正在联系处理").expect("note");
        if n % 3 == 2 {
            d.escalate(&id, "需社区协调处理").expect("escalate");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_have_the_anchors_length() {
        for n in 0..50 {
            let len = description(17, n).chars().count();
            assert!((100..=140).contains(&len), "{len}");
        }
        assert_ne!(description(1, 1), description(1, 2));
    }

    #[test]
    fn a_street_of_two_thousand_grids_is_valid() {
        let (roster, _) = street(2_000);
        let r = Roster::from_json("t", &roster).unwrap();
        assert_eq!(r.grids.len(), 2_000);
        assert_eq!(
            r.people
                .iter()
                .filter(|p| p.role == xiangying_core::org::Role::GridWorker)
                .count(),
            2_000
        );
    }

    #[test]
    fn smoke_sized_streets_are_valid() {
        for grids in [12, 20, 30, 100, 150] {
            let (roster, _) = street(grids);
            let r = Roster::from_json("t", &roster).unwrap();
            assert_eq!(r.grids.len(), grids);
        }
    }
}
