//! Deadlines through the façade: a working-hours limit counted in the reporting device's
//! calendar and recorded in the case, extensions across a holiday, every device folding the
//! recorded deadline whatever calendar it holds, and documents from before deadlines were
//! recorded folding as they always did.

use crate::case::{Action, Assignee, CaseDoc, CaseKind, Claim, Event, Facts, Outcome};
use crate::document::Document;
use crate::org::{Calendar, Catalogue, LimitClock, Role, Scope, WorkPeriod, sample};
use crate::testkit::{HOUR, World};
use crate::{Error, NewReport};
use automerge::ActorId;
use chrono::NaiveDate;
use std::sync::atomic::Ordering;

const MINUTE: i64 = 60_000;

/// Beijing local time to ms since the epoch.
fn bj(y: i32, m: u32, d: u32, hh: u32, mm: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(hh, mm, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
        - 8 * HOUR
}

/// The sample catalogue with every limit in working hours of `calendar`.
fn working_catalogue(calendar: Calendar) -> String {
    let mut c: Catalogue = sample::catalogue().with_calendar(calendar);
    for cat in &mut c.categories {
        cat.clock = LimitClock::Working;
    }
    serde_json::to_string(&c).unwrap()
}

/// A world of the sample street whose catalogue counts working hours of the 2026 calendar,
/// with the clock at `now`.
fn working_world(people: &[&str], now: i64) -> World {
    let w = World::new(people);
    let catalogue = working_catalogue(Calendar::china_2026());
    let roster = sample::roster_json().unwrap();
    for d in w.devices.values() {
        d.install_org(&roster, &catalogue).unwrap();
    }
    w.now.store(now, Ordering::SeqCst);
    w
}

fn litter() -> NewReport {
    NewReport {
        category: sample::LITTER.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: "垃圾满溢".into(),
    }
}

#[test]
fn a_report_on_friday_afternoon_is_due_on_monday() {
    // Friday 27 November 2026, 15:00: 垃圾满溢 has 4 working hours; 2.5 of them are left on
    // Friday, the other 1.5 come on Monday morning.
    let w = working_world(&["gw1", "cc1"], bj(2026, 11, 27, 15, 0));
    let d = w.dev("gw1");
    let id = d.report(&litter()).unwrap();
    let v = d.case(&id).unwrap();
    let monday_10h = bj(2026, 11, 30, 10, 0);
    assert_eq!(v.facts.clock, Some(LimitClock::Working));
    assert_eq!(v.facts.deadline, Some(monday_10h));
    assert_eq!(v.state.deadline, monday_10h);
    // Not overdue over the weekend, on any device.
    w.sync_all();
    w.now.store(bj(2026, 11, 29, 22, 0), Ordering::SeqCst);
    for p in ["gw1", "cc1"] {
        assert!(w.dev(p).overdue(10).unwrap().is_empty(), "{p}");
        let s = w.dev(p).case(&id).unwrap().state;
        assert!(!s.is_overdue(w.dev(p).now()));
    }
    // Overdue on Monday at 10:01, from each device's own data.
    w.now.store(monday_10h + MINUTE, Ordering::SeqCst);
    for p in ["gw1", "cc1"] {
        let overdue = w.dev(p).overdue(10).unwrap();
        assert_eq!(overdue.len(), 1, "{p}");
        assert_eq!(overdue[0].deadline, monday_10h);
        assert!(overdue[0].overdue);
    }
}

#[test]
fn every_device_folds_the_recorded_deadline_whatever_calendar_it_holds() {
    let w = working_world(&["gw1", "cc1"], bj(2026, 11, 27, 15, 0));
    // cc1 holds another calendar: every day worked, 09:00–17:00.
    let mut spec = Calendar::china_2026_spec();
    spec.weekdays = crate::org::WEEKDAYS.map(String::from).to_vec();
    spec.periods = vec![WorkPeriod {
        start: "09:00".into(),
        end: "17:00".into(),
    }];
    spec.holidays.clear();
    let other = working_catalogue(Calendar::new(spec).unwrap());
    w.dev("cc1")
        .install_org(&sample::roster_json().unwrap(), &other)
        .unwrap();
    let id = w.dev("gw1").report(&litter()).unwrap();
    w.sync_all();
    let mine = w.dev("gw1").case(&id).unwrap().state;
    let theirs = w.dev("cc1").case(&id).unwrap().state;
    assert_eq!(mine.deadline, bj(2026, 11, 30, 10, 0));
    assert_eq!(theirs, mine);
    // cc1 extends with its own calendar; both devices fold the deadline it recorded.
    // Monday 10:00 + 8 working hours of cc1's calendar: 7 h on Monday, 1 h on Tuesday.
    let s = w.dev("cc1").extend(&id, 8, "等待清运车").unwrap();
    assert_eq!(s.deadline, bj(2026, 12, 1, 10, 0));
    w.sync_all();
    assert_eq!(
        w.dev("gw1").case(&id).unwrap().state.deadline,
        bj(2026, 12, 1, 10, 0)
    );
}

#[test]
fn an_extension_across_the_national_day_holiday() {
    // Wednesday 30 September 2026, 09:00 + 4 working hours: 14:30 the same day.
    let w = working_world(&["gw1", "cc1"], bj(2026, 9, 30, 9, 0));
    let id = w.dev("gw1").report(&litter()).unwrap();
    assert_eq!(
        w.dev("gw1").case(&id).unwrap().state.deadline,
        bj(2026, 9, 30, 14, 30)
    );
    w.sync_all();
    // At 14:00 the chief gives 8 more working hours: 3 on Wednesday afternoon, then 1–7
    // October are off, then 3.5 + 1.5 on Thursday 8 October: 15:00.
    w.now.store(bj(2026, 9, 30, 14, 0), Ordering::SeqCst);
    let s = w.dev("cc1").extend(&id, 8, "节前来不及").unwrap();
    let due = bj(2026, 10, 8, 15, 0);
    assert_eq!((s.deadline, s.extensions), (due, 1));
    let last = s.history.last().unwrap();
    assert!(matches!(
        last.event.action,
        Action::Extended { hours: 8, until: Some(u), .. } if u == due
    ));
    w.sync_all();
    w.now.store(bj(2026, 10, 5, 12, 0), Ordering::SeqCst);
    assert!(w.dev("gw1").overdue(10).unwrap().is_empty());
    w.now.store(due + MINUTE, Ordering::SeqCst);
    assert_eq!(w.dev("gw1").overdue(10).unwrap().len(), 1);
    assert_eq!(w.dev("gw1").case(&id).unwrap().state.deadline, due);
}

#[test]
fn two_offline_extensions_from_one_deadline_keep_the_later() {
    let w = working_world(&["gw1", "cc1", "center"], bj(2026, 11, 23, 9, 0));
    let id = w.dev("gw1").report(&litter()).unwrap();
    w.sync_all();
    let short = w.dev("center").extend(&id, 2, "短").unwrap().deadline;
    let long = w.dev("cc1").extend(&id, 16, "长").unwrap().deadline;
    assert!(long > short);
    w.sync_all();
    let states: Vec<_> = ["gw1", "cc1", "center"]
        .iter()
        .map(|p| w.dev(p).case(&id).unwrap().state)
        .collect();
    assert!(states.iter().all(|s| s == &states[0]));
    assert_eq!(states[0].deadline, long);
    // Whichever came first in document order, the other either moved the deadline further
    // or lost with a reason.
    let extensions: Vec<&Outcome> = states[0]
        .history
        .iter()
        .filter(|e| matches!(e.event.action, Action::Extended { .. }))
        .map(|e| &e.outcome)
        .collect();
    assert_eq!(extensions.len(), 2);
    assert!(extensions.iter().any(|o| **o == Outcome::Applied));
}

#[test]
fn natural_hour_categories_ignore_the_calendar() {
    // The sample catalogue counts natural hours: Friday 15:00 + 4 h is Friday 19:00.
    let w = World::new(&["gw1", "cc1"]);
    let friday = bj(2026, 11, 27, 15, 0);
    w.now.store(friday, Ordering::SeqCst);
    let id = w.dev("gw1").report(&litter()).unwrap();
    let v = w.dev("gw1").case(&id).unwrap();
    assert_eq!(v.facts.clock, Some(LimitClock::Natural));
    assert_eq!(v.state.deadline, friday + 4 * HOUR);
    w.sync_all();
    let s = w.dev("cc1").extend(&id, 24, "x").unwrap();
    assert_eq!(s.deadline, friday + 28 * HOUR);
}

#[test]
fn a_document_from_before_recorded_deadlines_folds_as_before() {
    let w = working_world(&["gw1", "cc1"], bj(2026, 11, 27, 15, 0));
    let created = bj(2026, 11, 27, 15, 0);
    let facts = Facts {
        id: "old-case".into(),
        kind: CaseKind::Problem,
        category: sample::LITTER.into(),
        category_name: "垃圾满溢".into(),
        limit_hours: 4,
        clock: None,
        deadline: None,
        reporter: "gw1".into(),
        created_at: created,
        location: sample::IN_G1,
        grid: "g1".into(),
        community: "c1".into(),
        segment: None,
        description: "旧版本的案件".into(),
    };
    let claim = Claim {
        person: "gw1".into(),
        role: Role::GridWorker,
        scope: Scope::Grid("g1".into()),
    };
    let first = Event::new(
        created,
        claim,
        Action::Reported {
            assignee: Assignee::Person("gw1".into()),
        },
    );
    let mut doc = CaseDoc::create(&ActorId::random(), &facts, &first).unwrap();
    assert!(
        !doc.root_keys()
            .iter()
            .any(|k| k == "deadline" || k == "clock")
    );
    w.dev("cc1").apply_remote("old-case", &doc.save()).unwrap();
    let v = w.dev("cc1").case("old-case").unwrap();
    assert_eq!((v.facts.clock, v.facts.deadline), (None, None));
    assert_eq!(v.state.deadline, created + 4 * HOUR);
    w.now.store(created + 4 * HOUR + MINUTE, Ordering::SeqCst);
    assert_eq!(
        w.dev("cc1").overdue(10).unwrap()[0].deadline,
        created + 4 * HOUR
    );
    // An extension by a new device adds natural hours to it, as an old device would.
    let s = w.dev("cc1").extend("old-case", 24, "等待").unwrap();
    assert_eq!(s.deadline, created + 28 * HOUR);
    assert!(w.dev("cc1").overdue(10).unwrap().is_empty());
}

#[test]
fn a_catalogue_with_a_bad_calendar_is_refused_and_changes_nothing() {
    let w = World::new(&["gw1"]);
    let d = w.dev("gw1");
    let before = d.catalogue().unwrap();
    let mut v: serde_json::Value =
        serde_json::from_str(&sample::catalogue_json().unwrap()).unwrap();
    v["calendar"]["holidays"][0]["workdays"] = serde_json::json!(["2026-01-02"]);
    let err = d
        .install_org(&sample::roster_json().unwrap(), &v.to_string())
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(r#"calendar.holidays[0] (name "元旦")"#) && text.contains("2026-01-02"),
        "{text}"
    );
    assert!(!matches!(err, Error::NotFound { .. }));
    assert_eq!(d.catalogue().unwrap(), before);
}
