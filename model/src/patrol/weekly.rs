//! The weekly accompaniment count (三陪同): how many of each grid worker's patrols in a week a
//! sub-district official walked along, against the rule "at least twice a week".
//!
//! A week runs from Monday 00:00 to the next Monday 00:00 in China Standard Time (UTC+8). A
//! patrol counts in the week it started, unless a server voided it; a patrol with two officials
//! counts once. Only accompaniments the companion confirmed from their own device count for the
//! rule; patrols that name a companion who has not confirmed are counted apart, as
//! unconfirmed, so a walker cannot meet the rule by naming somebody. Everybody asked about is listed, so a grid worker with no patrol at all shows
//! up with 0 and fails the rule.

use super::{CompanionKind, PatrolFacts, PatrolState};
use serde::{Deserialize, Serialize};

/// Official accompaniments a grid worker needs each week.
pub const OFFICIAL_PER_WEEK: u32 = 2;

const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;
const CHINA_OFFSET_MS: i64 = 8 * 3_600_000;

/// One grid worker's week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyAccompaniment {
    /// The grid worker.
    pub person: String,
    /// Patrols they started in the week.
    pub patrols: u32,
    /// Their patrol time in the week (ended patrols), ms.
    pub patrol_ms: i64,
    /// Patrols a sub-district official walked along and confirmed.
    pub official: u32,
    /// Patrols enforcement department staff walked along and confirmed.
    pub department: u32,
    /// True when `official` (confirmed only) ≥ [`OFFICIAL_PER_WEEK`].
    pub meets_rule: bool,
    /// Patrols naming a sub-district official, none of whom has confirmed.
    pub official_unconfirmed: u32,
    /// Patrols naming department staff, none of whom has confirmed.
    pub department_unconfirmed: u32,
}

/// Monday 00:00 (UTC+8) of the week holding `t` (ms since the epoch).
pub fn week_start(t: i64) -> i64 {
    let local = t + CHINA_OFFSET_MS;
    // 1970-01-01 was a Thursday: shift so that weeks start on Mondays.
    let monday_based = local + 3 * DAY_MS;
    monday_based - monday_based.rem_euclid(WEEK_MS) - 3 * DAY_MS - CHINA_OFFSET_MS
}

/// The week starting at `week` (see [`week_start`]) for each of `people`, in their order.
pub fn weekly_accompaniments<'a>(
    people: &[String],
    patrols: impl IntoIterator<Item = (&'a PatrolFacts, &'a PatrolState)>,
    week: i64,
) -> Vec<WeeklyAccompaniment> {
    let mut out: Vec<WeeklyAccompaniment> = people
        .iter()
        .map(|p| WeeklyAccompaniment {
            person: p.clone(),
            patrols: 0,
            patrol_ms: 0,
            official: 0,
            department: 0,
            meets_rule: false,
            official_unconfirmed: 0,
            department_unconfirmed: 0,
        })
        .collect();
    for (facts, state) in patrols {
        if state.voided.is_some() || facts.started_at < week || facts.started_at >= week + WEEK_MS {
            continue;
        }
        let Some(row) = out.iter_mut().find(|r| r.person == facts.walker.person) else {
            continue;
        };
        row.patrols += 1;
        row.patrol_ms += state.duration_ms(facts);
        match confirmation(state, CompanionKind::Official) {
            Some(true) => row.official += 1,
            Some(false) => row.official_unconfirmed += 1,
            None => {}
        }
        match confirmation(state, CompanionKind::Department) {
            Some(true) => row.department += 1,
            Some(false) => row.department_unconfirmed += 1,
            None => {}
        }
    }
    for r in &mut out {
        r.meets_rule = r.official >= OFFICIAL_PER_WEEK;
    }
    out
}

/// Whether a patrol has a confirmed companion of `kind` (`Some(true)`), only unconfirmed ones
/// (`Some(false)`), or none (`None`).
fn confirmation(state: &PatrolState, kind: CompanionKind) -> Option<bool> {
    let mut named = false;
    for c in state.companions_of(kind) {
        if c.is_confirmed() {
            return Some(true);
        }
        named = true;
    }
    named.then_some(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Claim;
    use crate::org::{Role, Scope};
    use crate::patrol::{Companion, PatrolPlace};

    // 2026-11-23 is a Monday; 00:00 there in UTC+8 is 2026-11-22T16:00Z.
    const MONDAY: i64 = 1_795_363_200_000;

    fn patrol(
        walker: &str,
        start: i64,
        officials: usize,
        voided: bool,
    ) -> (PatrolFacts, PatrolState) {
        let claim = |p: &str, role, scope| Claim {
            person: p.to_string(),
            role,
            scope,
        };
        let facts = PatrolFacts {
            id: format!("{walker}-{start}"),
            walker: claim(walker, Role::GridWorker, Scope::Grid("g".into())),
            place: PatrolPlace::Grid("g".into()),
            community: "c".into(),
            started_at: start,
        };
        let companions = (0..officials)
            .map(|i| Companion {
                claim: claim(&format!("o{i}"), Role::StreetOfficial, Scope::Street),
                kind: CompanionKind::Official,
                at: start,
                event: format!("e{i}"),
                confirmed_at: Some(start + 1),
            })
            .collect();
        let state = PatrolState {
            ended_at: Some(start + 3_600_000),
            voided: voided.then(|| "moved".to_string()),
            companions,
            points: 0,
            distance_m: 0.0,
            last_fix_at: None,
            history: Vec::new(),
        };
        (facts, state)
    }

    #[test]
    fn weeks_start_on_monday_midnight_china_time() {
        assert_eq!(week_start(MONDAY), MONDAY);
        assert_eq!(week_start(MONDAY + WEEK_MS - 1), MONDAY);
        assert_eq!(week_start(MONDAY - 1), MONDAY - WEEK_MS);
        // Sunday 23:00 UTC is Monday 07:00 in China.
        assert_eq!(
            week_start(MONDAY + WEEK_MS + 7 * 3_600_000),
            MONDAY + WEEK_MS
        );
    }

    #[test]
    fn officials_count_once_per_patrol_and_everyone_asked_is_listed() {
        let ps = [
            patrol("a", MONDAY + 1_000, 2, false),
            patrol("a", MONDAY + DAY_MS, 1, false),
            patrol("b", MONDAY + DAY_MS, 1, false),
            patrol("b", MONDAY + 2 * DAY_MS, 1, true),
            patrol("b", MONDAY - 1, 1, false),
            patrol("b", MONDAY + WEEK_MS, 1, false),
            patrol("x", MONDAY + DAY_MS, 1, false),
        ];
        let people = ["a".to_string(), "b".to_string(), "c".to_string()];
        let w = weekly_accompaniments(&people, ps.iter().map(|(f, s)| (f, s)), MONDAY);
        assert_eq!(w.len(), 3);
        assert_eq!((w[0].patrols, w[0].official, w[0].meets_rule), (2, 2, true));
        assert_eq!(w[0].patrol_ms, 2 * 3_600_000);
        assert_eq!(
            (w[1].patrols, w[1].official, w[1].meets_rule),
            (1, 1, false)
        );
        assert_eq!(
            (w[2].patrols, w[2].official, w[2].meets_rule),
            (0, 0, false)
        );
    }

    #[test]
    fn unconfirmed_officials_are_shown_apart_and_do_not_meet_the_rule() {
        let mut ps = [
            patrol("a", MONDAY + 1_000, 1, false),
            patrol("a", MONDAY + 2_000, 2, false),
            patrol("a", MONDAY + 3_000, 2, false),
        ];
        // Nobody confirmed the first two; one of two confirmed the third.
        for (_, s) in &mut ps[..2] {
            s.companions.iter_mut().for_each(|c| c.confirmed_at = None);
        }
        ps[2].1.companions[0].confirmed_at = None;
        let w = weekly_accompaniments(&["a".into()], ps.iter().map(|(f, s)| (f, s)), MONDAY);
        assert_eq!(
            (w[0].patrols, w[0].official, w[0].official_unconfirmed),
            (3, 1, 2)
        );
        assert!(!w[0].meets_rule);
        assert_eq!((w[0].department, w[0].department_unconfirmed), (0, 0));
    }
}
