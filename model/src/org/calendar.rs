//! The working calendar: when a street works, so that a category's time limit in working
//! hours (工作时) becomes a deadline instant.
//!
//! A [`Calendar`] holds the street's UTC offset (China: +08:00, no daylight saving), the daily
//! working periods (by default 08:30–12:00 and 13:30–17:30), the working weekdays (Monday to
//! Friday) and the public holidays (放假) with their make-up working days (调休, weekend days
//! worked instead). It is published with the category catalogue; a device computes a case's
//! deadline with its own copy when the case is raised and records it in the case, so that the
//! fold never reads a calendar (see `docs/decisions/0011-working-hours-deadlines.md`).
//!
//! [`LimitClock`] says whether a category's limit counts working hours (the default) or
//! natural hours (自然时, for emergencies that cannot wait for Monday).
//!
//! In a file the calendar is written as plain strings ([`CalendarSpec`]):
//!
//! ```json
//! {"utc_offset": "+08:00",
//!  "periods": [{"start": "08:30", "end": "12:00"}, {"start": "13:30", "end": "17:30"}],
//!  "weekdays": ["mon", "tue", "wed", "thu", "fri"],
//!  "holidays": [{"name": "国庆节", "from": "2026-10-01", "to": "2026-10-07",
//!                "workdays": ["2026-09-20", "2026-10-10"]}]}
//! ```

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The longest time limit a category may have: a year (the catalogue loader refuses longer
/// ones; the calendar counts working hours that far ahead).
pub const MAX_LIMIT_HOURS: u32 = 24 * 366;

/// How a category's time limit is counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitClock {
    /// 工作时: only the calendar's working periods on working days count.
    #[default]
    Working,
    /// 自然时: every hour counts, nights, weekends and holidays included.
    Natural,
}

impl LimitClock {
    /// Both clocks, in a stable order.
    pub const ALL: [LimitClock; 2] = [LimitClock::Working, LimitClock::Natural];

    /// The stable identifier used in files and documents.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitClock::Working => "working",
            LimitClock::Natural => "natural",
        }
    }

    /// Parses [`LimitClock::as_str`] back.
    pub fn parse(s: &str) -> Option<LimitClock> {
        LimitClock::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// True for [`LimitClock::Working`] (the default, left out of files).
    pub fn is_working(&self) -> bool {
        *self == LimitClock::Working
    }
}

/// One daily working period, as written in a file: `{"start": "08:30", "end": "12:00"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkPeriod {
    /// When it starts, local time `HH:MM`.
    pub start: String,
    /// When it ends, local time `HH:MM` (`24:00` for midnight).
    pub end: String,
}

/// One public holiday as published (放假调休): the days off from `from` to `to` (both included)
/// and the make-up working days (调休上班) that go with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    /// The holiday's name, e.g. 国庆节.
    pub name: String,
    /// The first day off, `YYYY-MM-DD`.
    pub from: String,
    /// The last day off, `YYYY-MM-DD` (the same as `from` for a single day).
    pub to: String,
    /// Days that are normally off (weekends) but worked for this holiday, `YYYY-MM-DD`.
    #[serde(default)]
    pub workdays: Vec<String>,
}

/// A calendar as written in the catalogue file: every value a plain string, so that an
/// administrator edits it by hand and [`Calendar::new`] names any mistake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// The street's offset from UTC, `+HH:MM` or `-HH:MM` (China: `+08:00`).
    pub utc_offset: String,
    /// The daily working periods, in order, not overlapping.
    pub periods: Vec<WorkPeriod>,
    /// The working weekdays: `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`.
    pub weekdays: Vec<String>,
    /// The public holidays and their make-up working days.
    pub holidays: Vec<Holiday>,
}

/// The field names of [`CalendarSpec`], as written in files.
pub(super) const CALENDAR_FIELDS: &[&str] = &["utc_offset", "periods", "weekdays", "holidays"];
/// The field names of [`WorkPeriod`].
pub(super) const PERIOD_FIELDS: &[&str] = &["start", "end"];
/// The field names of [`Holiday`].
pub(super) const HOLIDAY_FIELDS: &[&str] = &["name", "from", "to", "workdays"];
/// The weekday names, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The longest single holiday accepted: a longer range is a typo (a wrong month or year).
pub const MAX_HOLIDAY_DAYS: i64 = 31;

/// What is wrong with a calendar: which entry (e.g. `calendar.holidays[2] (name "春节")`) and
/// the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{entry}: {problem}")]
pub struct CalendarError {
    /// The entry, named as in the catalogue file.
    pub entry: String,
    /// What is wrong with it.
    pub problem: String,
}

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;
/// 1970-01-01 was a Thursday: weekday index (Monday = 0) of day 0.
const EPOCH_WEEKDAY: i64 = 3;
/// Instants further than this from the epoch (about 31,000 years) are not calendar dates;
/// [`Calendar::add_working_hours`] counts them in natural hours.
const SANE_MS: i64 = 1_000_000_000_000_000;
/// How many days [`Calendar::add_working_hours`] walks before it gives up (only a calendar
/// with almost no working time gets there).
const MAX_DAYS_WALKED: i64 = 10_000_000;

/// A street's working calendar. Build it with [`Calendar::new`] from a [`CalendarSpec`] (which
/// checks it); [`Calendar::default`] is [`Calendar::china_2026`]. Serialized, it is its spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CalendarSpec", into = "CalendarSpec")]
pub struct Calendar {
    spec: CalendarSpec,
    /// Offset from UTC in ms.
    offset_ms: i64,
    /// Working periods as (start, end) ms into the local day, sorted, not overlapping.
    periods: Vec<(i64, i64)>,
    /// Working weekdays, Monday first.
    weekdays: [bool; 7],
    /// Local day numbers (days since 1970-01-01) off for a holiday.
    off: BTreeSet<i64>,
    /// Local day numbers worked to make up for a holiday.
    on: BTreeSet<i64>,
}

impl Default for Calendar {
    /// [`Calendar::china_2026`].
    fn default() -> Calendar {
        Calendar::china_2026()
    }
}

impl TryFrom<CalendarSpec> for Calendar {
    type Error = CalendarError;

    fn try_from(spec: CalendarSpec) -> Result<Calendar, CalendarError> {
        Calendar::new(spec)
    }
}

impl From<Calendar> for CalendarSpec {
    fn from(c: Calendar) -> CalendarSpec {
        c.spec
    }
}

/// The 2026 public holidays of the People's Republic of China and their make-up working
/// days, as published by the General Office of the State Council on 4 November 2025
/// (国务院办公厅关于2026年部分节假日安排的通知). Each street's administrators publish their own
/// calendar with the catalogue (next year's list, local rest days); this one is only the
/// default for catalogues that carry none.
const CHINA_2026: &[(&str, &str, &str, &[&str])] = &[
    ("元旦", "2026-01-01", "2026-01-03", &["2026-01-04"]),
    (
        "春节",
        "2026-02-15",
        "2026-02-23",
        &["2026-02-14", "2026-02-28"],
    ),
    ("清明节", "2026-04-04", "2026-04-06", &[]),
    ("劳动节", "2026-05-01", "2026-05-05", &["2026-05-09"]),
    ("端午节", "2026-06-19", "2026-06-21", &[]),
    ("中秋节", "2026-09-25", "2026-09-27", &[]),
    (
        "国庆节",
        "2026-10-01",
        "2026-10-07",
        &["2026-09-20", "2026-10-10"],
    ),
];

impl Calendar {
    /// Checks a calendar spec and builds the calendar, or names the first problem (see
    /// [`Calendar::problems`]).
    pub fn new(spec: CalendarSpec) -> Result<Calendar, CalendarError> {
        let (calendar, problems) = Calendar::build(spec);
        match problems.into_iter().next() {
            Some(first) => Err(first),
            None => Ok(calendar),
        }
    }

    /// Every problem of a calendar spec, in file order (empty when it is valid): an offset,
    /// time or date that does not parse; a period that ends before it starts or overlaps
    /// another; no working period or weekday; an unknown or repeated weekday; a holiday that
    /// ends before it starts or lasts more than [`MAX_HOLIDAY_DAYS`]; a date off twice; a
    /// make-up working day that is already a working weekday; a date both off and worked.
    pub fn problems(spec: &CalendarSpec) -> Vec<CalendarError> {
        Calendar::build(spec.clone()).1
    }

    /// The street calendar of mainland China in 2026: UTC+8, 08:30–12:00 and 13:30–17:30,
    /// Monday to Friday, with the 2026 public holidays and make-up working days published by
    /// the State Council (元旦, 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节). Administrators
    /// publish their own calendar with the catalogue; this is the default when they do not.
    pub fn china_2026() -> Calendar {
        // The data is checked by the tests, so the problems list is empty.
        Calendar::build(Calendar::china_2026_spec()).0
    }

    /// The spec of [`Calendar::china_2026`], as it would be written in a catalogue file.
    pub fn china_2026_spec() -> CalendarSpec {
        let period = |start: &str, end: &str| WorkPeriod {
            start: start.into(),
            end: end.into(),
        };
        CalendarSpec {
            utc_offset: "+08:00".into(),
            periods: vec![period("08:30", "12:00"), period("13:30", "17:30")],
            weekdays: WEEKDAYS[..5].iter().map(|d| d.to_string()).collect(),
            holidays: CHINA_2026
                .iter()
                .map(|&(name, from, to, workdays)| Holiday {
                    name: name.into(),
                    from: from.into(),
                    to: to.into(),
                    workdays: workdays.iter().map(|d| d.to_string()).collect(),
                })
                .collect(),
        }
    }

    /// The calendar as written in a file.
    pub fn spec(&self) -> &CalendarSpec {
        &self.spec
    }

    /// The street's offset from UTC, in minutes.
    pub fn utc_offset_minutes(&self) -> i64 {
        self.offset_ms / MINUTE_MS
    }

    /// The daily working periods as (start, end) minutes after local midnight, in order.
    pub fn period_minutes(&self) -> Vec<(i64, i64)> {
        self.periods
            .iter()
            .map(|&(a, b)| (a / MINUTE_MS, b / MINUTE_MS))
            .collect()
    }

    /// Which weekdays are working days when no holiday says otherwise, Monday first.
    pub fn working_weekdays(&self) -> [bool; 7] {
        self.weekdays
    }

    /// The working time of one ordinary working day, in minutes.
    pub fn minutes_per_day(&self) -> i64 {
        self.periods.iter().map(|(a, b)| b - a).sum::<i64>() / MINUTE_MS
    }

    /// True when `date` (the street's local date) is a working day: a working weekday that is
    /// not a holiday, or a make-up working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.works_on(day_number(date))
    }

    /// True when the instant `at` (ms since the epoch) falls inside a working period of a
    /// working day (a period's start included, its end not).
    pub fn is_working_time(&self, at: i64) -> bool {
        if !(-SANE_MS..=SANE_MS).contains(&at) {
            return false;
        }
        let local = at + self.offset_ms;
        let (day, ms) = (local.div_euclid(DAY_MS), local.rem_euclid(DAY_MS));
        self.works_on(day) && self.periods.iter().any(|&(a, b)| a <= ms && ms < b)
    }

    /// `hours` counted on `clock` from `start`: [`Calendar::add_working_hours`] for working
    /// hours, plain arithmetic for natural hours.
    pub fn add_hours(&self, start: i64, hours: u32, clock: LimitClock) -> i64 {
        match clock {
            LimitClock::Working => self.add_working_hours(start, hours),
            LimitClock::Natural => start.saturating_add(i64::from(hours) * HOUR_MS),
        }
    }

    /// The instant `hours` working hours after `start` (ms since the epoch). Only working
    /// periods of working days count; a start outside working time begins counting at the
    /// next period's start. A deadline that uses up a period exactly is that period's end
    /// (12:00, not 13:30). Zero hours is `start` itself. Instants beyond any calendar date
    /// (tens of thousands of years away) are counted in natural hours.
    pub fn add_working_hours(&self, start: i64, hours: u32) -> i64 {
        let natural = start.saturating_add(i64::from(hours) * HOUR_MS);
        if hours == 0 || !(-SANE_MS..=SANE_MS).contains(&start) || self.periods.is_empty() {
            return if hours == 0 { start } else { natural };
        }
        let mut remaining = i64::from(hours) * HOUR_MS;
        let local = start + self.offset_ms;
        let mut day = local.div_euclid(DAY_MS);
        let mut from = local.rem_euclid(DAY_MS);
        for _ in 0..MAX_DAYS_WALKED {
            if self.works_on(day) {
                for &(a, b) in &self.periods {
                    if from >= b {
                        continue;
                    }
                    let begin = from.max(a);
                    let available = b - begin;
                    if remaining <= available {
                        return day * DAY_MS + begin + remaining - self.offset_ms;
                    }
                    remaining -= available;
                }
            }
            day += 1;
            from = 0;
        }
        natural
    }

    fn works_on(&self, day: i64) -> bool {
        if self.on.contains(&day) {
            return true;
        }
        if self.off.contains(&day) {
            return false;
        }
        self.weekdays[weekday_index(day)]
    }

    /// Builds as much of the calendar as is valid, and lists every problem.
    fn build(spec: CalendarSpec) -> (Calendar, Vec<CalendarError>) {
        let mut problems = Vec::new();
        let mut add = |entry: String, problem: String| {
            problems.push(CalendarError { entry, problem });
        };

        let offset_ms = match parse_offset(&spec.utc_offset) {
            Some(minutes) => minutes * MINUTE_MS,
            None => {
                add(
                    "calendar".into(),
                    format!(
                        "utc_offset {:?} must be +HH:MM or -HH:MM, at most 14 hours (China: \"+08:00\")",
                        spec.utc_offset
                    ),
                );
                0
            }
        };

        let mut periods: Vec<(i64, i64, usize)> = Vec::new();
        for (i, p) in spec.periods.iter().enumerate() {
            let entry = format!("calendar.periods[{i}] (start {:?})", p.start);
            let start = parse_time(&p.start, false);
            let end = parse_time(&p.end, true);
            match (start, end) {
                (None, _) => add(
                    entry,
                    format!("start {:?} is not a time of day (expected HH:MM)", p.start),
                ),
                (_, None) => add(
                    entry,
                    format!(
                        "end {:?} is not a time of day (expected HH:MM, up to 24:00)",
                        p.end
                    ),
                ),
                (Some(a), Some(b)) if b <= a => add(
                    entry,
                    format!(
                        "the period ends at {}, not after it starts at {}",
                        p.end, p.start
                    ),
                ),
                (Some(a), Some(b)) => {
                    if let Some(&(_, _, j)) = periods.iter().find(|&&(c, d, _)| a < d && c < b) {
                        let other = &spec.periods[j];
                        add(
                            entry,
                            format!(
                                "overlaps calendar.periods[{j}] ({}–{}); periods must not overlap",
                                other.start, other.end
                            ),
                        );
                    } else {
                        periods.push((a, b, i));
                    }
                }
            }
        }
        periods.sort_unstable();
        if spec.periods.is_empty() {
            add(
                "calendar".into(),
                "no working periods: list at least one, e.g. {\"start\": \"08:30\", \"end\": \"12:00\"}".into(),
            );
        }

        let mut weekdays = [false; 7];
        for (i, w) in spec.weekdays.iter().enumerate() {
            let entry = format!("calendar.weekdays[{i}]");
            match WEEKDAYS.iter().position(|d| d == w) {
                None => add(
                    entry,
                    format!(
                        "unknown weekday {w:?} (expected one of: {})",
                        WEEKDAYS.join(", ")
                    ),
                ),
                Some(d) if weekdays[d] => add(entry, format!("weekday {w:?} is listed twice")),
                Some(d) => weekdays[d] = true,
            }
        }
        if spec.weekdays.is_empty() {
            add(
                "calendar".into(),
                "no working weekdays: list at least one, e.g. \"mon\"".into(),
            );
        }

        // Which holiday (index) each date off or worked came from, to name both sides of a
        // conflict.
        let mut off: BTreeMap<i64, usize> = BTreeMap::new();
        let mut on: BTreeMap<i64, usize> = BTreeMap::new();
        let named = |j: usize| {
            format!(
                "calendar.holidays[{j}] (name {:?})",
                spec.holidays[j].name.as_str()
            )
        };
        for (i, h) in spec.holidays.iter().enumerate() {
            let entry = named(i);
            if h.name.trim().is_empty() {
                add(entry.clone(), "empty name".into());
            }
            let from = parse_date(&h.from);
            let to = parse_date(&h.to);
            match (from, to) {
                (None, _) => add(entry.clone(), not_a_date("from", &h.from)),
                (_, None) => add(entry.clone(), not_a_date("to", &h.to)),
                (Some(a), Some(b)) if b < a => add(
                    entry.clone(),
                    format!(
                        "the holiday ends on {}, before it starts on {}",
                        h.to, h.from
                    ),
                ),
                (Some(a), Some(b)) if b - a >= MAX_HOLIDAY_DAYS => add(
                    entry.clone(),
                    format!(
                        "{} to {} is {} days off; a holiday lasts at most {MAX_HOLIDAY_DAYS} days",
                        h.from,
                        h.to,
                        b - a + 1
                    ),
                ),
                (Some(a), Some(b)) => {
                    for day in a..=b {
                        if let Some(&j) = off.get(&day) {
                            add(
                                entry.clone(),
                                format!("{} is already a day off in {}", date_text(day), named(j)),
                            );
                            break;
                        }
                        off.insert(day, i);
                    }
                }
            }
            for w in &h.workdays {
                let Some(day) = parse_date(w) else {
                    add(entry.clone(), not_a_date("workdays", w));
                    continue;
                };
                if weekdays[weekday_index(day)] {
                    add(
                        entry.clone(),
                        format!(
                            "make-up working day {w} is a {}, already a working weekday",
                            WEEKDAYS[weekday_index(day)]
                        ),
                    );
                } else if let Some(&j) = on.get(&day) {
                    add(
                        entry.clone(),
                        format!("make-up working day {w} is already listed in {}", named(j)),
                    );
                } else {
                    on.insert(day, i);
                }
            }
        }
        for (day, &i) in &on {
            if let Some(&j) = off.get(day) {
                add(
                    named(i),
                    format!(
                        "{} is both a make-up working day here and a day off in {}",
                        date_text(*day),
                        named(j)
                    ),
                );
            }
        }

        let calendar = Calendar {
            offset_ms,
            periods: periods
                .into_iter()
                .map(|(a, b, _)| (a * MINUTE_MS, b * MINUTE_MS))
                .collect(),
            weekdays,
            off: off.into_keys().collect(),
            on: on.into_keys().collect(),
            spec,
        };
        (calendar, problems)
    }
}

fn not_a_date(field: &str, text: &str) -> String {
    format!("{field} {text:?} is not a date (expected YYYY-MM-DD)")
}

/// `+HH:MM` / `-HH:MM` to minutes, at most 14 hours.
fn parse_offset(s: &str) -> Option<i64> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let minutes = parse_hh_mm(rest)?;
    (minutes <= 14 * 60).then_some(sign * minutes)
}

/// `HH:MM` to minutes into the day; `24:00` only when `end`.
fn parse_time(s: &str, end: bool) -> Option<i64> {
    let minutes = parse_hh_mm(s)?;
    (minutes < 24 * 60 || (end && minutes == 24 * 60)).then_some(minutes)
}

fn parse_hh_mm(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' {
        return None;
    }
    let digits = |x: &[u8]| -> Option<i64> {
        x.iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (h, m) = (digits(&b[..2])?, digits(&b[3..])?);
    (h <= 24 && m < 60).then_some(h * 60 + m)
}

/// `YYYY-MM-DD` (exactly) to the local day number.
fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(day_number)
}

/// Days since 1970-01-01.
fn day_number(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - 719_163
}

fn date_text(day: i64) -> String {
    i32::try_from(day + 719_163)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| format!("day {day}"))
}

/// Monday = 0 … Sunday = 6.
fn weekday_index(day: i64) -> usize {
    // rem_euclid(7) is in 0..7.
    (day + EPOCH_WEEKDAY).rem_euclid(7) as usize
}

#[cfg(test)]
mod tests;
