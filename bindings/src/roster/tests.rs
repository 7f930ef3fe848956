//! The roster read API on the Rust side of the boundary: each view's people and phones, the
//! places with their shapes as the roster holds them, search through the device, category
//! deadlines on both clocks, the calendar, and the errors.

use crate::*;
use std::sync::Arc;
use xiangying_core::org::{sample, zhenxing};

fn device(
    dir: &std::path::Path,
    roster: String,
    catalogue: String,
    person: Option<&str>,
) -> Arc<XiangyingDevice> {
    let d = XiangyingDevice::open(dir.display().to_string()).unwrap();
    d.install_org(roster, catalogue).unwrap();
    if let Some(p) = person {
        d.set_person(p.into()).unwrap();
    }
    d
}

fn sample_device(dir: &std::path::Path, person: &str) -> Arc<XiangyingDevice> {
    device(
        dir,
        sample::roster_json().unwrap(),
        sample::catalogue_json().unwrap(),
        Some(person),
    )
}

fn ids(people: &[RosterPerson]) -> Vec<&str> {
    people.iter().map(|p| p.id.as_str()).collect()
}

/// Beijing local time to ms since the epoch.
fn bj(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, mo, d)
        .unwrap()
        .and_hms_opt(h, mi, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
        - 8 * 3_600_000
}

#[test]
fn people_follow_the_view_of_the_devices_person() {
    let dir = tempfile::tempdir().unwrap();
    let gw1 = sample_device(dir.path(), "gw1");
    let people = gw1.people().unwrap();
    assert_eq!(people.len(), 13);
    assert!(people.iter().all(|p| p.phone.is_some()));
    let me = gw1.person("gw1".into()).unwrap().unwrap();
    assert_eq!(
        (me.role, me.role_label.as_str(), me.scope.clone()),
        (Role::GridWorker, "网格员", Scope::Grid { id: "g1".into() })
    );
    assert_eq!(
        (me.community.as_deref(), me.grid.as_deref()),
        (Some("c1"), Some("g1"))
    );
    assert_eq!(gw1.person("vol1".into()).unwrap(), None);

    let dir = tempfile::tempdir().unwrap();
    let res = sample_device(dir.path(), "res1");
    let people = res.people().unwrap();
    assert_eq!(
        ids(&people),
        ["cc1", "cc2", "gw1", "gw2", "gw3", "psc1", "msc1", "res1"]
    );
    assert!(people.iter().all(|p| p.phone.is_none()));
    assert!(res.search_people("测试vol".into(), 20).unwrap().is_empty());
    let dir = tempfile::tempdir().unwrap();
    let centre = sample_device(dir.path(), "center");
    assert_eq!(
        ids(&centre.search_people("测试vol".into(), 20).unwrap()),
        ["vol1", "vol2", "vol3"]
    );
    assert_eq!(centre.search_people("测试".into(), 3).unwrap().len(), 3);
}

#[test]
fn places_leave_as_the_roster_holds_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = sample_device(dir.path(), "res1");
    let roster = sample::roster().unwrap();
    let grids = d.grids().unwrap();
    assert_eq!(grids.len(), roster.grids.len());
    for (g, r) in grids.iter().zip(&roster.grids) {
        // (lon, lat) pairs: the sample street lies outside China, where no datum shifts a point.
        let got: Vec<(f64, f64)> = g.polygon.iter().map(|p| (p.lon, p.lat)).collect();
        let want: Vec<(f64, f64)> = r.polygon.iter().map(|p| (p.lon, p.lat)).collect();
        assert_eq!(got, want);
        assert!(g.area_m2 > 0.0 && g.centroid.is_some());
    }
    assert_eq!(grids[0].grid_worker.as_deref(), Some("gw1"));
    let s = &d.road_segments().unwrap()[0];
    assert_eq!(
        (s.road_name.as_str(), s.main_road, s.street_chiefs.clone()),
        (
            "样例大街",
            true,
            vec!["psc1".to_string(), "msc1".to_string()]
        )
    );
    assert_eq!(s.polyline.len(), 2);
    let c = d.communities().unwrap();
    assert_eq!((c[0].chief.as_deref(), c[0].grids.len()), (Some("cc1"), 2));
    assert_eq!(d.departments().unwrap()[0].name, "派出所");
}

#[test]
fn category_deadlines_count_on_their_clock_and_the_calendar_is_given_whole() {
    let dir = tempfile::tempdir().unwrap();
    let roster = serde_json::to_string(&zhenxing::roster()).unwrap();
    let catalogue = serde_json::to_string(&zhenxing::catalogue()).unwrap();
    let d = device(dir.path(), roster, catalogue, Some("center-01"));
    let friday = bj(2026, 12, 4, 16, 0);
    let all = d.category_deadlines(Some(friday)).unwrap();
    let get = |code: &str| all.iter().find(|c| c.category.code == code).unwrap();
    assert_eq!(get("010101").deadline_ms, bj(2026, 12, 7, 16, 30));
    assert_eq!(get("010102").deadline_ms, bj(2026, 12, 4, 18, 0));
    assert_eq!(get("010104").department_name.as_deref(), Some("振兴派出所"));
    assert!(matches!(
        d.category_deadlines(Some(-1)),
        Err(ApiError::InvalidInput { field, .. }) if field == "at_ms"
    ));

    let cal = d.working_calendar().unwrap();
    assert_eq!(cal.utc_offset_minutes, 480);
    assert_eq!(cal.minutes_per_day, 450);
    assert_eq!(
        cal.periods
            .iter()
            .map(|p| (p.start.as_str(), p.end_minute))
            .collect::<Vec<_>>(),
        [("08:30", 720), ("13:30", 1050)]
    );
    assert_eq!(cal.weekdays, Weekday::ALL[..5]);
    assert_eq!(cal.holidays.len(), 7);
    assert!(d.is_working_time(Some(bj(2026, 10, 10, 9, 0))).unwrap());
    assert!(!d.is_working_time(Some(bj(2026, 10, 5, 9, 0))).unwrap());
}

#[test]
fn without_a_roster_nothing_is_set_up() {
    let dir = tempfile::tempdir().unwrap();
    let d = XiangyingDevice::open(dir.path().display().to_string()).unwrap();
    assert!(matches!(d.people(), Err(ApiError::NotSetUp { .. })));
    assert!(matches!(
        d.search_people("zs".into(), 20),
        Err(ApiError::NotSetUp { .. })
    ));
    assert!(matches!(
        d.working_calendar(),
        Err(ApiError::NotSetUp { .. })
    ));
}
