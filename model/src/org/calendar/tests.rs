//! Tests of the working calendar: deadlines across nights, lunch, weekends, the 2026 holidays
//! and their make-up working days, checked against a minute-by-minute count; and one test per
//! mistake an administrator can make in a calendar.

use super::*;
use proptest::prelude::*;

const MIN: i64 = MINUTE_MS;
const H: i64 = HOUR_MS;

/// Beijing local time to ms since the epoch.
fn bj(y: i32, m: u32, d: u32, hh: u32, mm: u32) -> i64 {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(hh, mm, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis()
        - 8 * H
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The reference: walk minute by minute, counting the working ones.
fn by_minutes(c: &Calendar, start: i64, hours: u32) -> i64 {
    let mut left = i64::from(hours) * 60;
    let mut t = start;
    while left > 0 {
        if c.is_working_time(t) {
            left -= 1;
        }
        t += MIN;
    }
    t
}

fn cn() -> Calendar {
    Calendar::china_2026()
}

#[test]
fn the_2026_calendar_is_valid_and_matches_the_state_council_notice() {
    assert_eq!(Calendar::problems(&Calendar::china_2026_spec()), vec![]);
    let c = cn();
    assert_eq!(c, Calendar::default());
    assert_eq!((c.utc_offset_minutes(), c.minutes_per_day()), (480, 450));
    assert_eq!(c.period_minutes(), [(510, 720), (810, 1050)]);
    assert_eq!(
        c.working_weekdays(),
        [true, true, true, true, true, false, false]
    );
    // Days off, including the weekend days inside each holiday.
    for (from, days) in [
        (date(2026, 1, 1), 3),
        (date(2026, 2, 15), 9),
        (date(2026, 4, 4), 3),
        (date(2026, 5, 1), 5),
        (date(2026, 6, 19), 3),
        (date(2026, 9, 25), 3),
        (date(2026, 10, 1), 7),
    ] {
        for d in from.iter_days().take(days) {
            assert!(!c.is_working_day(d), "{d} is off");
        }
    }
    // Make-up working days are weekend days, worked.
    for d in [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ] {
        assert!(c.is_working_day(d), "{d} is worked");
        assert!(
            d.weekday().number_from_monday() >= 6,
            "{d} is a weekend day"
        );
    }
    // Ordinary days.
    assert!(c.is_working_day(date(2026, 11, 27))); // Friday
    assert!(!c.is_working_day(date(2026, 11, 28))); // Saturday
    assert!(!c.is_working_day(date(2026, 11, 29))); // Sunday
    assert!(c.is_working_day(date(2026, 10, 8))); // the Thursday after National Day
}

#[test]
fn working_time_is_the_two_periods_of_a_working_day() {
    let c = cn();
    assert!(!c.is_working_time(bj(2026, 11, 27, 8, 29)));
    assert!(c.is_working_time(bj(2026, 11, 27, 8, 30)));
    assert!(c.is_working_time(bj(2026, 11, 27, 11, 59)));
    assert!(!c.is_working_time(bj(2026, 11, 27, 12, 0)));
    assert!(!c.is_working_time(bj(2026, 11, 27, 13, 29)));
    assert!(c.is_working_time(bj(2026, 11, 27, 13, 30)));
    assert!(!c.is_working_time(bj(2026, 11, 27, 17, 30)));
    assert!(!c.is_working_time(bj(2026, 11, 28, 10, 0)));
}

#[test]
fn a_deadline_across_a_weekend() {
    let c = cn();
    // Friday 16:00 + 4 working hours: 1.5 h on Friday, 2.5 h on Monday morning.
    let start = bj(2026, 11, 27, 16, 0);
    assert_eq!(c.add_working_hours(start, 4), bj(2026, 11, 30, 11, 0));
    assert_eq!(
        c.add_hours(start, 4, LimitClock::Working),
        bj(2026, 11, 30, 11, 0)
    );
    assert_eq!(c.add_hours(start, 4, LimitClock::Natural), start + 4 * H);
    // Reported on Saturday: counting starts on Monday at 08:30.
    assert_eq!(
        c.add_working_hours(bj(2026, 11, 28, 10, 0), 1),
        bj(2026, 11, 30, 9, 30)
    );
    // A working week from Monday 08:30 (5 × 7.5 h) ends on Friday at 17:30.
    assert_eq!(
        c.add_working_hours(bj(2026, 11, 23, 8, 30), 37) + 30 * MIN,
        bj(2026, 11, 27, 17, 30)
    );
}

#[test]
fn a_deadline_across_the_national_day_holiday() {
    let c = cn();
    // Wednesday 30 September 16:00 + 4 h: 1.5 h that day, 1–7 October off, then Thursday 8th.
    assert_eq!(
        c.add_working_hours(bj(2026, 9, 30, 16, 0), 4),
        bj(2026, 10, 8, 11, 0)
    );
    // Spring Festival: 15–23 February off; 24th is the first working day after it.
    assert_eq!(
        c.add_working_hours(bj(2026, 2, 13, 17, 30), 1),
        bj(2026, 2, 14, 9, 30)
    );
    assert_eq!(
        c.add_working_hours(bj(2026, 2, 14, 17, 30), 1),
        bj(2026, 2, 24, 9, 30)
    );
}

#[test]
fn make_up_weekend_days_are_worked() {
    let c = cn();
    // Friday 9 October 16:00 + 4 h: Saturday 10 October is a make-up working day.
    assert_eq!(
        c.add_working_hours(bj(2026, 10, 9, 16, 0), 4),
        bj(2026, 10, 10, 11, 0)
    );
    // Friday 18 September 17:00 + 1 h: Sunday 20 September is worked, Saturday 19th is not.
    assert_eq!(
        c.add_working_hours(bj(2026, 9, 18, 17, 0), 1),
        bj(2026, 9, 20, 9, 0)
    );
    // Friday 13 February 17:00 + 8 h: half an hour, then the whole make-up Saturday.
    assert_eq!(
        c.add_working_hours(bj(2026, 2, 13, 17, 0), 8),
        bj(2026, 2, 14, 17, 30)
    );
}

#[test]
fn a_start_at_night_or_at_lunch_waits_for_the_next_period() {
    let c = cn();
    assert_eq!(
        c.add_working_hours(bj(2026, 11, 24, 20, 0), 1),
        bj(2026, 11, 25, 9, 30)
    );
    assert_eq!(
        c.add_working_hours(bj(2026, 11, 25, 6, 0), 1),
        bj(2026, 11, 25, 9, 30)
    );
    assert_eq!(
        c.add_working_hours(bj(2026, 11, 25, 12, 30), 1),
        bj(2026, 11, 25, 14, 30)
    );
    // Starting at 12:00 sharp is lunch, too.
    assert_eq!(
        c.add_working_hours(bj(2026, 11, 25, 12, 0), 1),
        bj(2026, 11, 25, 14, 30)
    );
    // Using up the morning exactly ends at noon, not at 13:30.
    assert_eq!(
        c.add_working_hours(bj(2026, 11, 25, 9, 0), 3),
        bj(2026, 11, 25, 12, 0)
    );
    // Seconds are kept.
    let odd = bj(2026, 11, 25, 9, 0) + 1_234;
    assert_eq!(c.add_working_hours(odd, 2), bj(2026, 11, 25, 11, 0) + 1_234);
}

#[test]
fn zero_hours_is_the_start_itself() {
    let c = cn();
    for start in [bj(2026, 11, 25, 10, 0), bj(2026, 11, 28, 23, 0)] {
        assert_eq!(c.add_working_hours(start, 0), start);
        assert_eq!(c.add_hours(start, 0, LimitClock::Natural), start);
    }
}

#[test]
fn a_very_long_limit_counts_every_working_minute() {
    let c = cn();
    let start = bj(2026, 1, 5, 8, 30);
    let hours = crate::org::MAX_LIMIT_HOURS;
    let end = c.add_working_hours(start, hours);
    assert_eq!(end, by_minutes(&c, start, hours));
    // 8,784 h of 7.5 h days is about 1,171 working days: four and a half years.
    assert!(bj(2030, 1, 1, 0, 0) < end && end < bj(2031, 1, 1, 0, 0));
}

#[test]
fn instants_beyond_any_date_count_in_natural_hours() {
    let c = cn();
    assert_eq!(c.add_working_hours(i64::MAX, 3), i64::MAX);
    assert_eq!(c.add_working_hours(i64::MIN, 3), i64::MIN + 3 * H);
    assert!(!c.is_working_time(i64::MAX));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn working_hours_match_a_minute_by_minute_count(
        minute in 0i64..(366 * 24 * 60),
        hours in 1u32..60,
    ) {
        let c = cn();
        let start = bj(2026, 1, 1, 0, 0) + minute * MIN;
        let end = c.add_working_hours(start, hours);
        prop_assert_eq!(end, by_minutes(&c, start, hours));
        prop_assert!(end >= start + i64::from(hours) * H);
        // Adding in two steps gives the same deadline.
        let half = hours / 2;
        prop_assert_eq!(c.add_working_hours(c.add_working_hours(start, half), hours - half), end);
    }
}

// ---- mistakes in a calendar ------------------------------------------------------------

fn problem(edit: impl FnOnce(&mut CalendarSpec)) -> CalendarError {
    let mut spec = Calendar::china_2026_spec();
    edit(&mut spec);
    let problems = Calendar::problems(&spec);
    assert!(!problems.is_empty(), "no problem found");
    assert_eq!(Calendar::new(spec).unwrap_err(), problems[0]);
    problems[0].clone()
}

#[test]
fn an_unparseable_date_is_named() {
    let e = problem(|s| s.holidays[6].to = "2026-10-32".into());
    assert_eq!(e.entry, "calendar.holidays[6] (name \"国庆节\")");
    assert_eq!(
        e.problem,
        "to \"2026-10-32\" is not a date (expected YYYY-MM-DD)"
    );
    let e = problem(|s| s.holidays[0].workdays[0] = "2026-1-4".into());
    assert_eq!(
        e.to_string(),
        "calendar.holidays[0] (name \"元旦\"): workdays \"2026-1-4\" is not a date (expected YYYY-MM-DD)"
    );
}

#[test]
fn a_period_that_ends_before_it_starts_or_overlaps_is_refused() {
    let e = problem(|s| s.periods[1].end = "13:00".into());
    assert_eq!(e.entry, "calendar.periods[1] (start \"13:30\")");
    assert_eq!(
        e.problem,
        "the period ends at 13:00, not after it starts at 13:30"
    );
    let e = problem(|s| s.periods[1].start = "11:30".into());
    assert_eq!(
        e.problem,
        "overlaps calendar.periods[0] (08:30–12:00); periods must not overlap"
    );
    let e = problem(|s| s.periods[0].start = "8:30".into());
    assert_eq!(
        e.problem,
        "start \"8:30\" is not a time of day (expected HH:MM)"
    );
    let e = problem(|s| s.periods.clear());
    assert!(e.problem.starts_with("no working periods"), "{e}");
    // Periods may be listed in any order, and one may end at midnight.
    let mut spec = Calendar::china_2026_spec();
    spec.periods.reverse();
    spec.periods.push(WorkPeriod {
        start: "20:00".into(),
        end: "24:00".into(),
    });
    let c = Calendar::new(spec).unwrap();
    assert_eq!(c.minutes_per_day(), 450 + 240);
    assert!(c.is_working_time(bj(2026, 11, 27, 23, 59)));
}

#[test]
fn a_date_both_off_and_worked_is_refused() {
    let e = problem(|s| s.holidays[6].workdays.push("2026-10-03".into()));
    assert_eq!(e.entry, "calendar.holidays[6] (name \"国庆节\")");
    assert_eq!(
        e.problem,
        "2026-10-03 is both a make-up working day here and a day off in calendar.holidays[6] (name \"国庆节\")"
    );
    let e = problem(|s| s.holidays[5].to = "2026-10-01".into());
    assert_eq!(
        e.problem,
        "2026-10-01 is already a day off in calendar.holidays[5] (name \"中秋节\")"
    );
}

#[test]
fn other_calendar_mistakes_are_named() {
    let e = problem(|s| s.holidays[6].workdays[0] = "2026-09-21".into());
    assert_eq!(
        e.problem,
        "make-up working day 2026-09-21 is a mon, already a working weekday"
    );
    let e = problem(|s| s.holidays[1].to = "2026-02-01".into());
    assert_eq!(
        e.problem,
        "the holiday ends on 2026-02-01, before it starts on 2026-02-15"
    );
    let e = problem(|s| s.holidays[1].to = "2027-02-23".into());
    assert!(e.problem.contains("at most 31 days"), "{e}");
    let e = problem(|s| s.holidays[1].name = " ".into());
    assert_eq!(e.problem, "empty name");
    let e = problem(|s| s.weekdays.push("Sat".into()));
    assert_eq!(e.entry, "calendar.weekdays[5]");
    assert!(e.problem.starts_with("unknown weekday \"Sat\""), "{e}");
    let e = problem(|s| s.weekdays.push("mon".into()));
    assert_eq!(e.problem, "weekday \"mon\" is listed twice");
    let e = problem(|s| s.utc_offset = "8".into());
    assert_eq!(e.entry, "calendar");
    assert!(e.problem.starts_with("utc_offset \"8\" must be"), "{e}");
    let e = problem(|s| s.weekdays.clear());
    assert!(e.problem.starts_with("no working weekdays"), "{e}");
}

#[test]
fn another_offset_and_weekdays_count_in_their_own_local_time() {
    let mut spec = Calendar::china_2026_spec();
    spec.utc_offset = "-05:00".into();
    spec.periods = vec![WorkPeriod {
        start: "09:00".into(),
        end: "17:00".into(),
    }];
    spec.weekdays = ["mon", "tue", "wed", "thu", "fri", "sat"]
        .map(String::from)
        .to_vec();
    spec.holidays.clear();
    let c = Calendar::new(spec).unwrap();
    let local = |d: u32, h: u32| bj(2026, 11, d, h, 0) + 13 * H;
    // Saturday is worked; Sunday is not.
    assert_eq!(c.add_working_hours(local(28, 16), 2), local(30, 10));
}

#[test]
fn the_calendar_serializes_as_its_spec() {
    let c = cn();
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["utc_offset"], "+08:00");
    assert_eq!(json["holidays"][6]["workdays"][1], "2026-10-10");
    let back: Calendar = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, c);
    let mut bad = json;
    bad["periods"][0]["end"] = "08:00".into();
    let err = serde_json::from_value::<Calendar>(bad).unwrap_err();
    assert!(err.to_string().contains("calendar.periods[0]"), "{err}");
}

#[test]
fn limit_clocks_have_stable_names() {
    for c in LimitClock::ALL {
        assert_eq!(LimitClock::parse(c.as_str()), Some(c));
    }
    assert_eq!(LimitClock::default(), LimitClock::Working);
    assert!(LimitClock::Working.is_working() && !LimitClock::Natural.is_working());
}
