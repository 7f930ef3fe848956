//! Tests of the Zhenxing example: the shipped files, the numbers of `docs/DOMAIN.md`, the
//! geometry.

use super::*;
use crate::org::{
    CategoryKind, Level, distance_m, point_in_polygon, polygon_area_m2, polygon_centroid,
};
use std::collections::{HashMap, HashSet};

const ROSTER_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/zhenxing/roster.json");
const CATALOGUE_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/zhenxing/catalogue.json"
);

fn count(roster: &Roster, role: Role) -> usize {
    roster.people_with_role(role).count()
}

#[test]
fn the_generated_roster_and_catalogue_pass_every_check() {
    let roster = roster();
    let problems = roster.problems("zhenxing");
    assert!(problems.is_empty(), "{problems:#?}");
    let catalogue = catalogue();
    assert!(catalogue.check().is_ok(), "{:?}", catalogue.check());
    assert!(catalogue.check_against(&roster).is_ok());
}

#[test]
fn the_shipped_files_equal_what_the_generator_produces() {
    let loaded = Roster::from_json(ROSTER_FILE, &read(ROSTER_FILE));
    let Ok(loaded) = loaded else {
        panic!(
            "{loaded:?} (run `cargo run -p xiangying-core --example gen_zhenxing -- data/zhenxing`)"
        );
    };
    let generated = roster();
    assert_eq!(loaded.street, generated.street);
    same_list("roads", &loaded.roads, &generated.roads);
    same_list("communities", &loaded.communities, &generated.communities);
    same_list("grids", &loaded.grids, &generated.grids);
    same_list("segments", &loaded.segments, &generated.segments);
    same_list("departments", &loaded.departments, &generated.departments);
    same_list("people", &loaded.people, &generated.people);

    let loaded = Catalogue::from_json(CATALOGUE_FILE, &read(CATALOGUE_FILE));
    let Ok(loaded) = loaded else {
        panic!("{loaded:?} (run the gen_zhenxing example)");
    };
    same_list("categories", &loaded.categories, &catalogue().categories);
    assert!(
        loaded.calendar == catalogue().calendar,
        "the calendar differs (run the gen_zhenxing example)"
    );
}

/// Asserts two lists are equal, naming the first entry that differs (not printing both).
fn same_list<T: PartialEq + std::fmt::Debug>(what: &str, file: &[T], generated: &[T]) {
    let hint = "run `cargo run -p xiangying-core --example gen_zhenxing -- data/zhenxing`";
    if let Some(i) = (0..file.len().min(generated.len())).find(|&i| file[i] != generated[i]) {
        panic!(
            "{what}[{i}] differs: file {:?}, generator {:?}; {hint}",
            file[i], generated[i]
        );
    }
    assert_eq!(file.len(), generated.len(), "{what}: {hint}");
}

#[test]
fn generation_is_deterministic() {
    let (a, b) = (roster(), roster());
    assert_eq!(a.people, b.people);
    assert_eq!(a.grids, b.grids);
    assert_eq!(a.segments, b.segments);
}

#[test]
fn the_numbers_of_the_domain() {
    let r = roster();
    assert_eq!(r.street.id, ids::STREET);
    assert_eq!(r.street.name, "振兴街道");
    assert_eq!(r.street.case_prefix, "ZX");
    assert_eq!(r.communities.len(), 12);
    assert_eq!(r.grids.len(), 64);
    assert_eq!(r.segments.len(), 42);
    assert_eq!(r.roads.len(), 16);
    assert_eq!(r.roads.iter().filter(|road| road.main).count(), 8);
    assert_eq!(r.departments.len(), 6);
    let dept_ids: Vec<&str> = r.departments.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(dept_ids, ids::DEPARTMENTS);
    assert_eq!(count(&r, Role::GridWorker), 64);
    assert_eq!(count(&r, Role::CommunityChief), 12);
    assert_eq!(count(&r, Role::PartyStreetChief), 44);
    assert_eq!(count(&r, Role::MerchantStreetChief), 32);
    assert_eq!(count(&r, Role::GridInformant), 64 * 20);
    assert_eq!(count(&r, Role::StreetCenter), CENTER_STAFF);
    assert_eq!(count(&r, Role::StreetOfficial), OFFICIALS);
    assert_eq!(count(&r, Role::Volunteer), 12 * VOLUNTEERS_PER_COMMUNITY);
    assert_eq!(count(&r, Role::Resident), 64 * RESIDENTS_PER_GRID);
    for d in ids::DEPARTMENTS {
        let staff = r.people_in(&Scope::Department(d.into())).count();
        assert!((1..=2).contains(&staff), "{d}: {staff}");
    }
    // Every role appears.
    for role in Role::ALL {
        assert!(count(&r, role) > 0, "{role:?}");
    }
}

#[test]
fn every_grid_has_its_worker_and_informants_and_every_community_its_chief() {
    let r = roster();
    for n in 1..=GRIDS {
        let g = ids::grid(n);
        let worker = r.grid_worker_of(&g).map(|p| p.id.clone());
        assert_eq!(worker, Some(ids::grid_worker(n)), "{g}");
        let informants = r.informants_of(&g);
        assert_eq!(informants.len(), INFORMANTS_PER_GRID, "{g}");
        assert_eq!(informants[0].id, ids::informant(n, 1));
        assert!(r.person(&ids::resident(n, 1)).is_some());
    }
    for n in 1..=COMMUNITIES {
        let c = ids::community(n);
        let chief = r.community_chief_of(&c).map(|p| p.id.clone());
        assert_eq!(chief, Some(ids::community_chief(n)), "{c}");
        assert!(r.person(&ids::volunteer(n, 1)).is_some());
    }
    for id in [
        ids::center(1),
        ids::official(1),
        ids::department_staff("police", 1),
        ids::party_street_chief(44),
        ids::merchant_street_chief(32),
    ] {
        assert!(r.person(&id).is_some(), "{id}");
    }
}

#[test]
fn communities_hold_contiguous_blocks_of_five_or_six_grids() {
    let r = roster();
    let mut sizes: Vec<usize> = Vec::new();
    for c in &r.communities {
        let grids: Vec<&Grid> = r.grids_of(&c.id).collect();
        sizes.push(grids.len());
        // Contiguous: every grid of the community can be reached from the first through grids
        // of the community that share a border (two corners).
        let shares_border =
            |a: &Grid, b: &Grid| a.polygon.iter().filter(|p| b.polygon.contains(p)).count() == 2;
        let mut reached = vec![grids[0]];
        let mut frontier = vec![grids[0]];
        while let Some(g) = frontier.pop() {
            for &h in &grids {
                if !reached.iter().any(|x| x.id == h.id) && shares_border(g, h) {
                    reached.push(h);
                    frontier.push(h);
                }
            }
        }
        assert_eq!(reached.len(), grids.len(), "{} is not contiguous", c.id);
    }
    sizes.sort_unstable();
    assert_eq!(sizes, [5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6]);
    // Grid numbers run community by community.
    let order: Vec<&str> = r.grids.iter().map(|g| g.community.as_str()).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted);
}

#[test]
fn grids_tile_the_street_without_overlaps() {
    let r = roster();
    let mut total = 0.0;
    for g in &r.grids {
        let area = polygon_area_m2(&g.polygon);
        assert!((area - 10_625.0).abs() < 5.0, "{}: {area}", g.id);
        total += area;
        let Some(centre) = polygon_centroid(&g.polygon) else {
            panic!("{} has no centroid", g.id);
        };
        // Its own centre is in no other grid, and grid_at finds the grid itself.
        assert_eq!(
            r.grid_at(centre).map(|h| h.id.as_str()),
            Some(g.id.as_str())
        );
        let containing = r
            .grids
            .iter()
            .filter(|h| point_in_polygon(centre, &h.polygon))
            .count();
        assert_eq!(containing, 1, "{}", g.id);
    }
    assert!((total - 680_000.0).abs() < 680.0, "{total}");
    // The block is centred on CENTRE, and CENTRE itself (a corner of four grids) is found.
    assert!(r.grid_at(CENTRE).is_some());
    // Outside the street: 50 m beyond the west edge.
    let west = r
        .grids
        .iter()
        .map(|g| g.polygon[0].lon)
        .fold(f64::MAX, f64::min);
    let outside = Point {
        lon: west - 50.0 / (111_195.0 * CENTRE.lat.to_radians().cos()),
        lat: CENTRE.lat,
    };
    assert!(r.grid_at(outside).is_none());
}

#[test]
fn a_point_on_a_border_belongs_to_the_grid_listed_first() {
    let r = roster();
    let (Some(g01), Some(g02)) = (r.grid("g01"), r.grid("g02")) else {
        panic!("g01 and g02 exist");
    };
    // g01 and g02 share their east/west border.
    let a = g01.polygon[1];
    let b = g01.polygon[2];
    let mid = Point {
        lon: a.lon,
        lat: (a.lat + b.lat) / 2.0,
    };
    assert!(point_in_polygon(mid, &g01.polygon) && point_in_polygon(mid, &g02.polygon));
    assert_eq!(r.grid_at(mid).map(|g| g.id.as_str()), Some("g01"));
}

#[test]
fn every_segment_has_a_street_chief_and_lies_on_its_road() {
    let r = roster();
    let mut per_road: HashMap<&str, usize> = HashMap::new();
    for (n, s) in r.segments.iter().enumerate() {
        assert_eq!(s.id, ids::segment(n + 1));
        let chiefs = r.street_chiefs_of(&s.id);
        assert!(!chiefs.is_empty(), "{} has no street chief", s.id);
        assert!(
            chiefs.iter().any(|p| p.role == Role::PartyStreetChief),
            "{}",
            s.id
        );
        *per_road.entry(s.road.as_str()).or_default() += 1;
        let Some(road) = r.road(&s.road) else {
            panic!("{} on unknown road {}", s.id, s.road);
        };
        assert!(s.name.starts_with(&road.name), "{} {}", s.name, road.name);
        // Straight, along a grid border: the segment runs along one or two grids per cell.
        let along = r.grids_along(&s.id);
        assert!(!along.is_empty(), "{}", s.id);
        assert!(
            along.iter().any(|g| g.community == s.community),
            "{} answers for {} but runs along none of its grids",
            s.id,
            s.community
        );
        let length = distance_m(s.polyline[0], s.polyline[1]);
        assert!((200.0..=430.0).contains(&length), "{}: {length}", s.id);
    }
    assert_eq!(per_road.len(), 16);
    assert!(per_road.values().all(|&n| n == 2 || n == 3));
    // Merchant chiefs sit on 32 different segments.
    let merchant_segments: HashSet<&Scope> = r
        .people_with_role(Role::MerchantStreetChief)
        .map(|p| &p.scope)
        .collect();
    assert_eq!(merchant_segments.len(), 32);
}

#[test]
fn a_segment_inside_the_street_runs_along_two_grids_per_cell() {
    let r = roster();
    // s01 is the first third of 石油大街 on the west edge: three grids, one side only.
    assert_eq!(r.grids_along("s01").len(), 3);
    // 兴隆台街 (r02) runs on an inner line: its first segment borders 3 cells on each side.
    let Some(s) = r.segments.iter().find(|s| s.road == "r02") else {
        panic!("r02 has segments");
    };
    assert_eq!(r.grids_along(&s.id).len(), 6, "{}", s.id);
    assert!(r.grids_along("nope").is_empty());
}

#[test]
fn segment_near_finds_the_nearest_within_the_distance() {
    let r = roster();
    let Some(s) = r.segment("s02") else {
        panic!("s02 exists");
    };
    let (a, b) = (s.polyline[0], s.polyline[1]);
    let mid = Point {
        lon: (a.lon + b.lon) / 2.0,
        lat: (a.lat + b.lat) / 2.0,
    };
    // On the segment.
    let found = r.segment_near(mid, 5.0);
    assert_eq!(found.map(|(s, _)| s.id.as_str()), Some("s02"));
    assert!(found.is_some_and(|(_, d)| d < 1e-6));
    // 8 m east of its middle (s02 runs north–south on the west edge).
    let east = Point {
        lon: mid.lon + 8.0 / (111_195.0 * mid.lat.to_radians().cos()),
        lat: mid.lat,
    };
    let found = r.segment_near(east, 20.0);
    assert_eq!(found.map(|(s, _)| s.id.as_str()), Some("s02"));
    assert!(
        found.is_some_and(|(_, d)| (d - 8.0).abs() < 0.05),
        "{found:?}"
    );
    assert!(r.segment_near(east, 7.0).is_none());
    // At the end shared with s01 both are 0 m away: the one listed first wins.
    let found = r.segment_near(a, 1.0);
    assert_eq!(found.map(|(s, _)| s.id.as_str()), Some("s01"));
    // Far outside the street: nothing within 100 m.
    let far = Point {
        lon: CENTRE.lon + 0.05,
        lat: CENTRE.lat,
    };
    assert!(r.segment_near(far, 100.0).is_none());
    assert!(r.segment_near(far, 10_000.0).is_some());
}

#[test]
fn catalogue_is_complete_enough_for_the_field() {
    let c = catalogue();
    assert!(c.len() >= 60, "{}", c.len());
    for name in [
        "井盖破损",
        "路灯不亮",
        "占道经营",
        "乱堆物料",
        "违章停车",
        "私搭乱建",
        "非法小广告",
        "施工扰民",
        "道路破损",
        "道路积水",
        "树木倒伏",
        "垃圾满溢",
        "噪音扰民",
        "邻里纠纷",
    ] {
        assert!(c.categories.iter().any(|x| x.name == name), "{name}");
    }
    let bigs: Vec<&str> = c
        .big_categories(CategoryKind::Component)
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    assert_eq!(
        bigs,
        [
            "公用设施",
            "道路交通",
            "市容环境",
            "园林绿化",
            "房屋土地",
            "其他设施"
        ]
    );
    let duties: Vec<&str> = c
        .big_categories(CategoryKind::Duty)
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    for duty in [
        "综治信访",
        "矛盾调处",
        "安全生产",
        "消防安全",
        "食品安全",
        "流动人口",
        "养老服务",
    ] {
        assert!(duties.contains(&duty), "{duty}");
    }
    assert_eq!(
        c.in_big("0101").count(),
        c.categories.iter().filter(|x| x.big_code == "0101").count()
    );
    let Some(cover) = c.get("010102") else {
        panic!("010102 exists");
    };
    assert_eq!((cover.name.as_str(), cover.limit_hours), ("井盖缺失", 2));
    assert!(
        c.categories
            .iter()
            .any(|x| x.level == Level::JointEnforcement)
    );
}

/// A shipped file's text (the model reads no files; its tests may).
fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}
