//! Tests of routing by place: the sample street's edge cases, and agreement with the roster's
//! own linear lookups over the whole Zhenxing example.

use super::*;
use crate::org::{polygon_centroid, sample, zhenxing};

/// Metres to degrees of latitude (and of longitude at the equator, where the sample lies).
fn deg(m: f64) -> f64 {
    m / EARTH_RADIUS_M.to_radians()
}

fn router() -> Router {
    Router::new(&sample::roster().unwrap())
}

#[test]
fn a_point_on_the_segment_in_g1_names_everybody() {
    let r = router().route(sample::IN_G1).unwrap();
    assert_eq!(
        r,
        Route {
            grid: "g1".into(),
            community: "c1".into(),
            segment: Some("s1".into()),
            segment_distance_m: Some(0.0),
            grid_worker: Some("gw1".into()),
            community_chief: Some("cc1".into()),
            street_chiefs: vec!["psc1".into(), "msc1".into()],
            outside_street: false,
            distance_to_street_m: 0.0,
        }
    );
    let r = router().route(sample::IN_G3).unwrap();
    assert_eq!(
        (r.grid.as_str(), r.community.as_str(), r.segment.as_deref()),
        ("g3", "c2", None)
    );
    assert_eq!(r.community_chief.as_deref(), Some("cc2"));
    assert!(r.street_chiefs.is_empty());
}

#[test]
fn a_point_on_a_shared_border_goes_to_the_grid_listed_first() {
    let roster = sample::roster().unwrap();
    let router = Router::new(&roster);
    for (p, want) in [
        (Point::new(0.1, 0.03), "g1"), // g1 | g2
        (Point::new(0.2, 0.08), "g2"), // g2 | g3 (different communities)
        (Point::new(0.1, 0.1), "g1"),  // a corner of g1 and g2
        (Point::new(0.0, 0.0), "g1"),  // the street's own corner
        (Point::new(0.3, 0.1), "g3"),  // the far corner
    ] {
        let r = router.route(p).unwrap();
        assert_eq!(r.grid, want, "{p:?}");
        assert!(!r.outside_street, "{p:?}");
        assert_eq!(roster.grid_at(p).map(|g| g.id.as_str()), Some(want));
    }
}

#[test]
fn a_segment_end_reaches_exactly_the_radius() {
    let router = router();
    // The east end of s1, on the g2 | g3 border.
    let end = Point::new(0.2, 0.05);
    let r = router.route(end).unwrap();
    assert_eq!((r.grid.as_str(), r.segment.as_deref()), ("g2", Some("s1")));
    assert_eq!(r.segment_distance_m, Some(0.0));
    // Beyond the end, in g3: the distance is to the end point, not to the road's extension.
    let near = Point::new(0.2 + deg(29.0), 0.05);
    let r = router.route(near).unwrap();
    assert_eq!((r.grid.as_str(), r.segment.as_deref()), ("g3", Some("s1")));
    assert!((r.segment_distance_m.unwrap() - 29.0).abs() < 0.01);
    assert_eq!(r.street_chiefs, vec!["psc1", "msc1"]);
    let far = Point::new(0.2 + deg(31.0), 0.05);
    assert_eq!(router.route(far).unwrap().segment, None);
    // Beside the middle: the perpendicular distance decides, at 30 m the default radius.
    let beside = Point::new(0.1, 0.05 + deg(30.0) * 0.999);
    assert_eq!(router.route(beside).unwrap().segment.as_deref(), Some("s1"));
    let beside = Point::new(0.1, 0.05 + deg(30.0) * 1.001);
    assert_eq!(router.route(beside).unwrap().segment, None);
}

#[test]
fn the_radius_is_configurable() {
    let roster = sample::roster().unwrap();
    let wide = Router::with_segment_radius(&roster, 500.0);
    assert_eq!(wide.segment_radius_m(), 500.0);
    let p = Point::new(0.1, 0.05 + deg(400.0));
    assert_eq!(wide.route(p).unwrap().segment.as_deref(), Some("s1"));
    assert_eq!(router().route(p).unwrap().segment, None);
    let none = Router::with_segment_radius(&roster, f64::NAN);
    assert_eq!(none.segment_radius_m(), 0.0);
    assert_eq!(
        none.route(sample::IN_G1).unwrap().segment.as_deref(),
        Some("s1")
    );
}

#[test]
fn a_location_outside_the_street_is_flagged_with_the_nearest_grid() {
    let router = router();
    // 22 m west of the street: outside every grid, but still within reach of s1's west end.
    let p = Point::new(-deg(22.0), 0.05);
    let r = router.route(p).unwrap();
    assert!(r.outside_street);
    assert_eq!(r.grid, "g1");
    assert_eq!(r.grid_worker.as_deref(), Some("gw1"));
    assert!((r.distance_to_street_m - 22.0).abs() < 0.01, "{r:?}");
    assert_eq!(r.segment.as_deref(), Some("s1"));
    // East of g3, far from any segment.
    let p = Point::new(0.3 + deg(1_000.0), 0.02);
    let r = router.route(p).unwrap();
    assert!(r.outside_street);
    assert_eq!((r.grid.as_str(), r.segment.as_deref()), ("g3", None));
    assert!((r.distance_to_street_m - 1_000.0).abs() < 0.1, "{r:?}");
    // Far away: still an answer, and a large distance.
    let r = router.route(Point::new(120.0, 30.0)).unwrap();
    assert!(r.outside_street && r.distance_to_street_m > 1_000_000.0);
    // Diagonally off a corner: the distance to that corner, and the grid owning it first.
    let r = router.route(Point::new(-deg(30.0), -deg(40.0))).unwrap();
    assert_eq!(r.grid, "g1");
    assert!((r.distance_to_street_m - 50.0).abs() < 0.01, "{r:?}");
}

#[test]
fn the_router_agrees_with_the_rosters_linear_lookups_across_zhenxing() {
    let roster = zhenxing::roster();
    let router = Router::new(&roster);
    let bbox = roster
        .grids
        .iter()
        .filter_map(|g| BBox::of(&g.polygon))
        .reduce(BBox::union)
        .unwrap();
    // A lattice over the street and 60 m around it, 161 × 161 points; its step does not divide
    // the grid sizes, and the grids' own corners and centroids are added.
    let (w, h) = (bbox.max_lon - bbox.min_lon, bbox.max_lat - bbox.min_lat);
    let (mx, my) = (w * 0.1, h * 0.1);
    let mut points = Vec::new();
    for i in 0..=160 {
        for j in 0..=160 {
            points.push(Point::new(
                bbox.min_lon - mx + (w + 2.0 * mx) * f64::from(i) / 160.0,
                bbox.min_lat - my + (h + 2.0 * my) * f64::from(j) / 160.0,
            ));
        }
    }
    for g in &roster.grids {
        points.extend(g.polygon.iter().copied());
        points.extend(polygon_centroid(&g.polygon));
    }
    for s in &roster.segments {
        points.extend(s.polyline.iter().copied());
    }
    let mut outside = 0;
    for p in points {
        let r = router.route(p).unwrap();
        match roster.grid_at(p) {
            Some(g) => {
                assert_eq!(r.grid, g.id, "{p:?}");
                assert!(!r.outside_street);
                assert_eq!(
                    r.grid_worker,
                    roster.grid_worker_of(&g.id).map(|p| p.id.clone())
                );
            }
            None => {
                outside += 1;
                assert!(r.outside_street && r.distance_to_street_m > 0.0, "{p:?}");
            }
        }
        let want = roster.segment_near(p, DEFAULT_SEGMENT_RADIUS_M);
        assert_eq!(
            r.segment.as_deref(),
            want.map(|(s, _)| s.id.as_str()),
            "{p:?}"
        );
        if let Some((s, _)) = want {
            let chiefs: Vec<String> = roster
                .street_chiefs_of(&s.id)
                .into_iter()
                .map(|p| p.id.clone())
                .collect();
            assert_eq!(r.street_chiefs, chiefs);
        }
    }
    assert!(outside > 1_000, "the lattice reaches outside the street");
}

#[test]
fn every_zhenxing_grid_centre_routes_to_its_own_worker() {
    let roster = zhenxing::roster();
    let router = Router::new(&roster);
    for (n, g) in roster.grids.iter().enumerate() {
        let c = polygon_centroid(&g.polygon).unwrap();
        let r = router.route(c).unwrap();
        assert_eq!(r.grid, g.id);
        assert_eq!(r.grid_worker, Some(zhenxing::ids::grid_worker(n + 1)));
        assert_eq!(r.community, g.community);
    }
}
