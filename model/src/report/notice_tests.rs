//! Notice boards: every segment, every responsible person, escaping.

use super::notice::{NoticeBoard, escape};
use crate::org::{Roster, sample, zhenxing};

#[test]
fn sample_board_lists_chiefs_grid_workers_and_enforcement() {
    let roster = sample::roster().unwrap();
    let board = NoticeBoard::of(&roster);
    assert_eq!(board.segments.len(), 1);
    let s = &board.segments[0];
    let ids: Vec<&str> = s.people.iter().map(|e| e.person.as_str()).collect();
    // s1 runs through g1 and g2; the enforcement department is 综合执法队; no greening.
    assert_eq!(ids, ["psc1", "msc1", "gw1", "gw2", "enf1"]);
    assert_eq!(s.people[0].role, "党员街长");
    assert_eq!(s.people[1].role, "商户街长");
    assert!(s.people[2].role.starts_with("网格员"));
    assert_eq!(s.people[4].role, "综合执法队");
    // 0.2° of longitude on the equator.
    assert!((22_000..22_500).contains(&s.length_m), "{}", s.length_m);
    let html = board.html();
    assert!(html.contains("样例大街一段"));
    assert!(html.contains(&format!("全长约 {} 米", s.length_m)));
    assert!(html.contains("@page"));
    assert!(html.contains("@media print"));
    assert!(!html.contains("<script"));
    let svg = board.segment_svg("s1").unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("测试psc1"));
    assert!(board.segment_svg("nope").is_none());
}

#[test]
fn zhenxing_board_has_every_segment_and_every_person() {
    let roster = zhenxing::roster();
    let board = NoticeBoard::of(&roster);
    assert_eq!(board.segments.len(), zhenxing::SEGMENTS);
    let html = board.html();
    assert_eq!(
        html.matches("<section class=\"board\"").count(),
        zhenxing::SEGMENTS
    );
    for (seg, s) in roster.segments.iter().zip(&board.segments) {
        assert_eq!(seg.id, s.segment);
        assert!(html.contains(&format!("id=\"seg-{}\"", seg.id)));
        assert!(html.contains(&escape(&seg.name)));
        let chiefs = roster.street_chiefs_of(&seg.id);
        let along = roster.grids_along(&seg.id);
        assert!(!along.is_empty(), "{} runs along no grid", seg.id);
        // Chiefs + grid workers + 2 staff of the enforcement brigade; Zhenxing has no greening.
        assert_eq!(s.people.len(), chiefs.len() + along.len() + 2, "{}", seg.id);
        for e in &s.people {
            let p = roster.person(&e.person).unwrap();
            assert_eq!((&e.name, &e.phone), (&p.name, &p.phone));
            assert!(html.contains(&escape(&p.name)), "{}", p.name);
            assert!(html.contains(&escape(&p.phone)), "{}", p.phone);
        }
    }
    // Every street chief and every grid worker appears somewhere.
    for p in &roster.people {
        if p.role.is_street_chief() {
            assert!(html.contains(&p.name), "{}", p.id);
        }
    }
}

#[test]
fn names_are_escaped_and_greening_is_found() {
    let base = sample::roster().unwrap();
    let mut people = base.people.clone();
    for p in &mut people {
        if p.id == "psc1" {
            p.name = "张<&>三".into();
            p.phone = "+86 (138) 0000-1111".into();
        }
        if p.id == "police1" {
            p.scope = crate::org::Scope::Department("green".into());
        }
    }
    let mut departments = base.departments.clone();
    departments.push(crate::org::Department {
        id: "green".into(),
        name: "园林绿化所<一>".into(),
    });
    let roster = Roster::new(
        base.street.clone(),
        base.roads.clone(),
        base.communities.clone(),
        base.grids.clone(),
        base.segments.clone(),
        departments,
        people,
    )
    .unwrap();
    let board = NoticeBoard::of(&roster);
    let html = board.html();
    assert!(html.contains("张&lt;&amp;&gt;三"));
    assert!(html.contains("+86 (138) 0000-1111"));
    assert!(!html.contains("张<&>三"));
    assert!(html.contains("园林绿化所&lt;一&gt;"));
    let last = board.segments[0].people.last().unwrap();
    assert_eq!(last.person, "police1");
    assert_eq!(last.duty, super::notice::DUTY_GREENING);
    let svg = board.segment_svg("s1").unwrap();
    assert!(svg.contains("张&lt;&amp;&gt;三") && !svg.contains("张<&>三"));
}
