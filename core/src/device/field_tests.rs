//! Field operations through the façade: routing, routed reports and forwards, duplicate
//! suggestions across the 250 m and 7-day edges, duplicates keeping both reporters and photos,
//! and a meeting list worked out by hand.

use crate::case::{Assignee, Status};
use crate::org::{EARTH_RADIUS_M, Point, sample};
use crate::photo::test_support::{jpeg_rgb, marker_image};
use crate::store::Period;
use crate::testkit::{HOUR, T0, World};
use crate::{Error, NewReport};

const DAY: i64 = 24 * HOUR;
const MINUTE: i64 = 60_000;

/// Metres to degrees (the sample street lies at the equator, where both are the same).
fn deg(m: f64) -> f64 {
    m / EARTH_RADIUS_M.to_radians()
}

fn report_at(category: &str, location: Point) -> NewReport {
    NewReport {
        category: category.into(),
        location,
        grid: None,
        segment: None,
        description: "井盖破损".into(),
    }
}

#[test]
fn the_device_routes_with_its_roster_copy() {
    let w = World::new(&["psc1"]);
    let r = w.dev("psc1").route(sample::IN_G1).unwrap();
    assert_eq!((r.grid.as_str(), r.segment.as_deref()), ("g1", Some("s1")));
    assert_eq!(r.grid_worker.as_deref(), Some("gw1"));
    assert_eq!(r.street_chiefs, vec!["psc1", "msc1"]);
    assert!(matches!(
        w.dev("psc1").route(Point::new(f64::NAN, 0.0)),
        Err(Error::InvalidInput {
            field: "location",
            ..
        })
    ));
}

#[test]
fn a_routed_report_fills_grid_and_segment_and_forwards_to_the_routed_worker() {
    let w = World::new(&["psc1", "gw2"]);
    let d = w.dev("psc1");
    // In g2, 10 m off the segment: the street chief does not choose anything.
    let p = Point::new(0.15, 0.05 + deg(10.0));
    let (id, route) = d.report_routed(&report_at(sample::MANHOLE, p)).unwrap();
    assert_eq!(
        (route.grid.as_str(), route.segment.as_deref()),
        ("g2", Some("s1"))
    );
    assert!(!route.outside_street);
    let v = d.case(&id).unwrap();
    assert_eq!(v.facts.grid, "g2");
    assert_eq!(v.facts.community, "c1");
    assert_eq!(v.facts.segment.as_deref(), Some("s1"));
    let (state, route) = d.forward_routed(&id, "请处理").unwrap();
    assert_eq!(state.status, Status::Forwarded);
    assert_eq!(state.assignee, Some(Assignee::Person("gw2".into())));
    assert_eq!(route.grid_worker.as_deref(), Some("gw2"));
    w.sync_all();
    assert_eq!(w.dev("gw2").inbox(10).unwrap()[0].id, id);
}

#[test]
fn a_report_outside_the_street_is_accepted_in_the_nearest_grid_and_flagged() {
    let w = World::new(&["psc1"]);
    let d = w.dev("psc1");
    let p = Point::new(0.3 + deg(120.0), 0.05);
    // The plain report refuses it: a street chief has no grid to fall back on.
    assert!(matches!(
        d.report(&report_at(sample::MANHOLE, p)),
        Err(Error::InvalidInput {
            field: "location",
            ..
        })
    ));
    let (id, route) = d.report_routed(&report_at(sample::MANHOLE, p)).unwrap();
    assert!(route.outside_street);
    assert!((route.distance_to_street_m - 120.0).abs() < 0.01);
    assert_eq!(route.segment, None);
    let v = d.case(&id).unwrap();
    assert_eq!(
        (v.facts.grid.as_str(), v.facts.community.as_str()),
        ("g3", "c2")
    );
    // No segment in reach: the street chief's own segment applies, as in a plain report.
    assert_eq!(v.facts.segment.as_deref(), Some("s1"));
}

#[test]
fn a_chosen_grid_is_kept_and_the_route_shows_the_difference() {
    let w = World::new(&["gw1"]);
    let d = w.dev("gw1");
    let mut r = report_at(sample::DISPUTE, sample::IN_G3);
    r.grid = Some("g1".into());
    let (id, route) = d.report_routed(&r).unwrap();
    assert_eq!(route.grid, "g3");
    assert_eq!(d.case(&id).unwrap().facts.grid, "g1");
}

#[test]
fn duplicates_are_the_open_cases_of_the_category_within_250_m_nearest_first() {
    let w = World::new(&["gw1", "gw2"]);
    let d = w.dev("gw1");
    let at = |dx: f64, dy: f64| Point::new(0.05 + deg(dx), 0.05 + deg(dy));
    let a = d.report(&report_at(sample::MANHOLE, at(0.0, 0.0))).unwrap();
    w.advance(MINUTE);
    let b = d
        .report(&report_at(sample::MANHOLE, at(240.0, 0.0)))
        .unwrap();
    let _c = d
        .report(&report_at(sample::MANHOLE, at(260.0, 0.0)))
        .unwrap();
    let _d = d.report(&report_at(sample::LITTER, at(0.0, 0.0))).unwrap();
    let e = d
        .report(&report_at(sample::MANHOLE, at(0.0, -100.0)))
        .unwrap();
    let f = d
        .report(&report_at(sample::MANHOLE, at(-150.0, 150.0)))
        .unwrap();
    d.mark_duplicate(&e, &a).unwrap();
    let now = w.dev("gw1").now();
    let got = d
        .duplicate_candidates(sample::MANHOLE, at(0.0, 0.0), now)
        .unwrap();
    let ids: Vec<&str> = got.iter().map(|(s, _)| s.id.as_str()).collect();
    assert_eq!(ids, vec![a.as_str(), f.as_str(), b.as_str()]);
    assert!(got[0].1 < 1e-6);
    assert!((got[1].1 - 150.0 * 2f64.sqrt()).abs() < 0.01);
    assert!((got[2].1 - 240.0).abs() < 0.01);
    // The radius is inclusive: exactly at b's distance it is in, a centimetre short it is out.
    let exact = got[2].1;
    let n = |r: f64| {
        d.duplicate_candidates_within(sample::MANHOLE, at(0.0, 0.0), now, r, 7)
            .unwrap()
            .len()
    };
    assert_eq!((n(exact), n(exact - 0.01)), (3, 2));
}

#[test]
fn duplicates_are_found_across_a_grid_border() {
    let w = World::new(&["gw1", "gw2"]);
    let b = w
        .dev("gw2")
        .report(&report_at(
            sample::LITTER,
            Point::new(0.1 + deg(10.0), 0.02),
        ))
        .unwrap();
    w.sync_all();
    let got = w
        .dev("gw1")
        .duplicate_candidates(sample::LITTER, Point::new(0.1 - deg(100.0), 0.02), T0)
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].0.id.as_str(), got[0].0.grid.as_str()),
        (b.as_str(), "g2")
    );
    assert!((got[0].1 - 110.0).abs() < 0.01);
}

#[test]
fn duplicates_are_from_the_last_seven_days_including_the_first_instant() {
    let w = World::new(&["gw1"]);
    let d = w.dev("gw1");
    let a = d
        .report(&report_at(sample::MANHOLE, sample::IN_G1))
        .unwrap();
    w.advance(MINUTE);
    let b = d
        .report(&report_at(sample::MANHOLE, sample::IN_G1))
        .unwrap();
    let ids = |now: i64| -> Vec<String> {
        d.duplicate_candidates(sample::MANHOLE, sample::IN_G1, now)
            .unwrap()
            .into_iter()
            .map(|(s, _)| s.id)
            .collect()
    };
    // Same distance: newest first.
    assert_eq!(ids(T0 + HOUR), vec![b.clone(), a.clone()]);
    assert_eq!(ids(T0 + 7 * DAY), vec![b.clone(), a.clone()]);
    assert_eq!(ids(T0 + 7 * DAY + 1), vec![b.clone()]);
    assert_eq!(ids(T0 + 7 * DAY + MINUTE + 1), Vec::<String>::new());
}

#[test]
fn rows_indexed_before_migration_3_are_skipped_until_reindexed() {
    let w = World::new(&["gw1"]);
    let d = w.dev("gw1");
    let a = d
        .report(&report_at(sample::DISPUTE, sample::IN_G1))
        .unwrap();
    d.escalate(&a, "需社区协调").unwrap();
    // What an upgraded store holds: the new columns at their defaults.
    let conn = rusqlite::Connection::open(d.dir().join("xiangying.db")).unwrap();
    conn.execute(
        "UPDATE cases SET lon = NULL, lat = NULL, escalated = 0, reworks = 0",
        [],
    )
    .unwrap();
    let now = d.now();
    let dups = || {
        d.duplicate_candidates(sample::DISPUTE, sample::IN_G1, now)
            .unwrap()
    };
    assert!(dups().is_empty());
    let escalated = || -> usize {
        let m = d.meeting_list(Period::Week, now).unwrap();
        m.grids.iter().map(|g| g.escalated.len()).sum()
    };
    assert_eq!(escalated(), 0);
    assert_eq!(d.reindex_places().unwrap(), 1);
    assert_eq!(d.reindex_places().unwrap(), 0);
    assert_eq!(dups().len(), 1);
    assert_eq!(escalated(), 1);
}

#[test]
fn marking_a_duplicate_keeps_both_reporters_and_both_photo_sets() {
    let w = World::new(&["gw1", "psc1"]);
    let photo = |n: u32| jpeg_rgb(&marker_image(320 + n * 16, 240), 90);
    let (p1, p2, p3) = (photo(0), photo(1), photo(2));
    let a = w
        .dev("gw1")
        .report_with_photos(&report_at(sample::MANHOLE, sample::IN_G1), &[&p1])
        .unwrap();
    let near = Point::new(0.05 + deg(30.0), 0.05);
    let now = w.dev("psc1").now();
    w.sync_all();
    // The street chief starts a report: the grid worker's case is suggested.
    let sugg = w
        .dev("psc1")
        .duplicate_candidates(sample::MANHOLE, near, now)
        .unwrap();
    assert_eq!(sugg.len(), 1);
    assert_eq!(sugg[0].0.id, a);
    assert_eq!(sugg[0].0.reporter, "gw1");
    // They report anyway, with two photos of their own.
    let b = w
        .dev("psc1")
        .report_with_photos(&report_at(sample::MANHOLE, near), &[&p2, &p3])
        .unwrap();
    w.sync_all();
    w.dev("gw1").mark_duplicate(&b, &a).unwrap();
    w.sync_all();
    for person in ["gw1", "psc1"] {
        let d = w.dev(person);
        let va = d.case(&a).unwrap();
        let vb = d.case(&b).unwrap();
        assert_eq!(
            (va.facts.reporter.as_str(), vb.facts.reporter.as_str()),
            ("gw1", "psc1")
        );
        assert_eq!(vb.state.status, Status::Duplicate);
        assert_eq!(vb.state.duplicate_of.as_deref(), Some(a.as_str()));
        assert_eq!(va.photos.len(), 1, "{person}");
        assert_eq!(vb.photos.len(), 2, "{person}");
        assert!(va.photos.iter().all(|p| p.added_by == "gw1"));
        assert!(vb.photos.iter().all(|p| p.added_by == "psc1"));
        // Both summaries stay listed, each with its reporter.
        let all = d.all_cases(10).unwrap();
        assert!(all.iter().any(|s| s.id == a && s.reporter == "gw1"));
        assert!(all.iter().any(|s| s.id == b && s.reporter == "psc1"));
        // Only the case that carries on is still suggested.
        let sugg = d.duplicate_candidates(sample::MANHOLE, near, now).unwrap();
        assert_eq!(sugg.len(), 1);
        assert_eq!(sugg[0].0.id, a);
    }
    // Each reporter's device still serves its own photo files.
    let va = w.dev("gw1").case(&a).unwrap();
    assert!(!w.dev("gw1").photo(&va.photos[0].hash).unwrap().is_empty());
    let vb = w.dev("psc1").case(&b).unwrap();
    for p in &vb.photos {
        assert!(!w.dev("psc1").photo(&p.hash).unwrap().is_empty());
    }
}

/// The hand-worked data set of the meeting list test; see there.
struct Cases {
    a: String,
    b: String,
    c: String,
    e: String,
    f: String,
}

fn meeting_cases(w: &World) -> Cases {
    let (gw1, gw2, cc1) = (w.dev("gw1"), w.dev("gw2"), w.dev("cc1"));
    let in_g2 = Point::new(0.15, 0.03);
    // T0: A, 垃圾满溢 in g1 (4 h), left open.
    let a = gw1
        .report(&report_at(sample::LITTER, sample::IN_G1))
        .unwrap();
    // T0 + 1 min: B, 邻里纠纷 in g1 (72 h), escalated to the community at once.
    w.advance(MINUTE);
    let b = gw1
        .report(&report_at(sample::DISPUTE, sample::IN_G1))
        .unwrap();
    gw1.escalate(&b, "需社区协调").unwrap();
    // T0 + 1 d: C, 井盖破损 in g2 (24 h): resolved, sent back by cc1, resolved again.
    w.advance(DAY - MINUTE);
    let c = gw2.report(&report_at(sample::MANHOLE, in_g2)).unwrap();
    gw2.resolve(&c, "已更换", &[]).unwrap();
    w.sync_all();
    cc1.rework(&c, "井盖不平").unwrap();
    w.sync_all();
    gw2.resolve(&c, "已重新安装", &[]).unwrap();
    // T0 + 2 d: E, 邻里纠纷 in g1, escalated, then voided by cc1 an hour later.
    w.advance(DAY);
    let e = gw1
        .report(&report_at(sample::DISPUTE, sample::IN_G1))
        .unwrap();
    gw1.escalate(&e, "需社区协调").unwrap();
    w.sync_all();
    w.advance(HOUR);
    cc1.void(&e, "重复上报").unwrap();
    // T0 + 9 d: F, 垃圾满溢 in g2 (4 h), open; G, 邻里纠纷 in g2 (72 h), open and in time.
    w.advance(7 * DAY - HOUR);
    let f = gw2.report(&report_at(sample::LITTER, in_g2)).unwrap();
    gw2.report(&report_at(sample::DISPUTE, in_g2)).unwrap();
    w.sync_all();
    Cases { a, b, c, e, f }
}

#[test]
fn a_meeting_list_matches_the_hand_worked_one() {
    let w = World::new(&["gw1", "gw2", "cc1"]);
    let x = meeting_cases(&w);
    let now = T0 + 10 * DAY;
    let ids = |v: &[crate::store::CaseSummary]| -> Vec<String> {
        v.iter().map(|s| s.id.clone()).collect()
    };
    let v = |xs: &[&String]| -> Vec<String> { xs.iter().map(|s| (*s).clone()).collect() };
    for person in ["gw1", "gw2", "cc1"] {
        // Week: since T0 + 3 d. E was finished before it began, so it is not discussed.
        let m = w.dev(person).meeting_list(Period::Week, now).unwrap();
        assert_eq!(m.since, T0 + 3 * DAY);
        let grid_ids: Vec<&str> = m.grids.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(grid_ids, vec!["g1", "g2"]);
        let (g1, g2) = (&m.grids[0], &m.grids[1]);
        // A's deadline T0 + 4 h, B's T0 + 1 min + 72 h: both past.
        assert_eq!(ids(&g1.overdue), v(&[&x.a, &x.b]));
        assert_eq!(ids(&g1.escalated), v(&[&x.b]));
        assert!(g1.reworked.is_empty());
        assert_eq!(ids(&g1.long_open), v(&[&x.a, &x.b]));
        // C is resolved (not open) but was reworked; F is overdue since T0 + 9 d + 4 h; G is
        // open, in time and new, so in no list.
        assert_eq!(ids(&g2.overdue), v(&[&x.f]));
        assert!(g2.escalated.is_empty());
        assert_eq!(ids(&g2.reworked), v(&[&x.c]));
        assert!(g2.long_open.is_empty());
        assert_eq!(m.communities.len(), 1);
        let c1 = &m.communities[0];
        assert_eq!(c1.id, "c1");
        assert_eq!(ids(&c1.overdue), v(&[&x.a, &x.b, &x.f]));
        assert_eq!(ids(&c1.escalated), v(&[&x.b]));
        assert_eq!(ids(&c1.reworked), v(&[&x.c]));
        assert_eq!(ids(&c1.long_open), v(&[&x.a, &x.b]));

        // Month: since T0 - 20 d. E, voided at T0 + 2 d + 1 h, falls inside; nothing is open
        // longer than a month.
        let m = w.dev(person).meeting_list(Period::Month, now).unwrap();
        let g1 = &m.grids[0];
        assert_eq!(ids(&g1.overdue), v(&[&x.a, &x.b]));
        assert_eq!(ids(&g1.escalated), v(&[&x.b, &x.e]));
        assert!(g1.long_open.is_empty());
        assert_eq!(ids(&m.communities[0].escalated), v(&[&x.b, &x.e]));
        assert_eq!(ids(&m.communities[0].reworked), v(&[&x.c]));
    }
    // Before anything is overdue or old, the list is empty.
    let m = w
        .dev("cc1")
        .meeting_list(Period::Quarter, T0 + HOUR)
        .unwrap();
    assert_eq!(m.period, Period::Quarter);
    assert!(
        m.grids
            .iter()
            .all(|g| g.overdue.is_empty() && g.long_open.is_empty())
    );
    let g1 = m.grids.iter().find(|g| g.id == "g1").unwrap();
    assert_eq!(ids(&g1.escalated), v(&[&x.b, &x.e]));
}
