//! A year of a whole street, generated: [`CASES`] cases on the Zhenxing roster (every grid,
//! short but varied histories: closed on time, handled on the spot, late, extended, reworked,
//! escalated and dispatched to departments, still open), one every [`YEAR`] / [`CASES`] from
//! [`YEAR_START`]. The same every run. For the rankings benchmark (`sync-server/benches`) and
//! the load test (`tests/benches/load.rs`), which seeds a server store with it.

use crate::case::{Action, Assignee, CaseKind, CaseState, Claim, Event, Facts, fold};
use crate::org::{Level, Roster, zhenxing};

/// An hour, in milliseconds.
pub const H: i64 = 3_600_000;
/// 2026-01-01T00:00:00+08:00.
pub const YEAR_START: i64 = 1_767_196_800_000;
/// A year (365 days), in milliseconds.
pub const YEAR: i64 = 365 * 24 * H;
/// How many cases a year of the street holds.
pub const CASES: usize = 100_000;

/// The id of the `i`-th case: a UUID (as the wire carries case ids) that says where it came
/// from.
pub fn case_id(i: usize) -> String {
    format!("2026ca5e-0000-4000-8000-{i:012}")
}

/// A person's claim as the roster gives it.
fn claim(roster: &Roster, person: &str) -> Claim {
    let p = roster.person(person).unwrap();
    Claim {
        person: p.id.clone(),
        role: p.role,
        scope: p.scope.clone(),
    }
}

/// The year's cases: each one's facts, events (the first is the report) and folded state.
pub fn cases() -> Vec<(Facts, Vec<Event>, CaseState)> {
    cases_upto(CASES)
}

/// The first `n` cases of [`cases`] (the same case `i` whatever `n`).
pub fn cases_upto(n: usize) -> Vec<(Facts, Vec<Event>, CaseState)> {
    let roster = zhenxing::roster();
    let ids = zhenxing::ids::DEPARTMENTS;
    (0..n)
        .map(|i| {
            let g = i % zhenxing::GRIDS + 1;
            let grid = roster.grid(&zhenxing::ids::grid(g)).unwrap();
            let gw = zhenxing::ids::grid_worker(g);
            let cc = roster
                .community_chief_of(&grid.community)
                .unwrap()
                .id
                .clone();
            let centre = zhenxing::ids::center(1);
            let at = YEAR_START + (i as i64) * (YEAR / CASES as i64);
            let facts = Facts {
                id: case_id(i),
                kind: CaseKind::Problem,
                category: "010101".into(),
                category_name: "井盖破损".into(),
                limit_hours: 24,
                clock: None,
                deadline: None,
                reporter: gw.clone(),
                created_at: at,
                location: zhenxing::CENTRE,
                grid: grid.id.clone(),
                community: grid.community.clone(),
                segment: None,
                description: "井盖缺失".into(),
            };
            let ev = |p: &str, t: i64, a: Action| Event::new(t, claim(&roster, p), a);
            let resolved = || Action::Resolved {
                note: "修好".into(),
                photos: vec![],
            };
            let verify = || Action::Verified { note: "好".into() };
            let close = || Action::Closed { note: "结".into() };
            let mut events = vec![ev(
                &gw,
                at,
                Action::Reported {
                    assignee: Assignee::Person(gw.clone()),
                },
            )];
            match i % 10 {
                0..=2 => events.extend([
                    ev(&gw, at + 3 * H, resolved()),
                    ev(&cc, at + 4 * H, verify()),
                    ev(&cc, at + 5 * H, close()),
                ]),
                3 | 4 => events.push(ev(
                    &gw,
                    at + H,
                    Action::HandledOnSpot {
                        note: "处置".into(),
                        photos: vec!["ab".into()],
                    },
                )),
                5 => events.extend([
                    ev(&gw, at + 30 * H, resolved()),
                    ev(&cc, at + 31 * H, verify()),
                    ev(&cc, at + 32 * H, close()),
                ]),
                6 => events.extend([
                    ev(
                        &cc,
                        at + H,
                        Action::Extended {
                            hours: 24,
                            reason: "等配件".into(),
                            until: None,
                        },
                    ),
                    ev(&gw, at + 40 * H, resolved()),
                    ev(&cc, at + 41 * H, verify()),
                    ev(&cc, at + 42 * H, close()),
                ]),
                7 => events.extend([
                    ev(&gw, at + 5 * H, resolved()),
                    ev(
                        &cc,
                        at + 6 * H,
                        Action::Reworked {
                            reason: "没修好".into(),
                        },
                    ),
                    ev(&gw, at + 10 * H, resolved()),
                    ev(&cc, at + 11 * H, verify()),
                    ev(&cc, at + 12 * H, close()),
                ]),
                8 => {
                    let dept = ids[(i / 10) % ids.len()];
                    let staff = zhenxing::ids::department_staff(dept, 1);
                    events.extend([
                        ev(
                            &gw,
                            at + H,
                            Action::Escalated {
                                to_level: Level::Community,
                                to: Assignee::Person(cc.clone()),
                                reason: "需社区协调".into(),
                            },
                        ),
                        ev(
                            &cc,
                            at + 2 * H,
                            Action::Escalated {
                                to_level: Level::Street,
                                to: Assignee::Center,
                                reason: "需执法".into(),
                            },
                        ),
                        ev(
                            &centre,
                            at + 3 * H,
                            Action::Dispatched {
                                departments: vec![dept.to_string()],
                                note: "处理".into(),
                            },
                        ),
                        ev(&staff, at + 20 * H, resolved()),
                        ev(&centre, at + 21 * H, verify()),
                        ev(&centre, at + 22 * H, close()),
                    ]);
                }
                _ => {}
            }
            let state = fold(&facts, &events);
            (facts, events, state)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Outcome;

    #[test]
    fn ids_are_uuids_and_every_event_applies() {
        let cases = cases_upto(200);
        let mut ids = std::collections::BTreeSet::new();
        for (facts, events, state) in &cases {
            uuid::Uuid::parse_str(&facts.id).unwrap();
            assert!(ids.insert(facts.id.clone()), "ids are distinct");
            assert_eq!(state.history.len(), events.len());
            assert!(
                state.history.iter().all(|e| e.outcome == Outcome::Applied),
                "{}: {:?}",
                facts.id,
                state.history
            );
        }
    }
}
