//! Rankings computed by hand for a small fixed set of cases on the sample street.

use super::rankings::{Figures, Rankings, UnitKind, rankings};
use crate::case::{Action, Assignee, CaseKind, CaseState, Claim, Event, Facts, Outcome, fold};
use crate::org::{Level, sample};

const H: i64 = 3_600_000;
const DAY: i64 = 24 * H;
const T0: i64 = 1_795_939_200_000;
const FROM: i64 = T0;
const TO: i64 = T0 + 7 * DAY;

fn claim(person: &str) -> Claim {
    let r = sample::roster().unwrap();
    let p = r.person(person).unwrap();
    Claim {
        person: p.id.clone(),
        role: p.role,
        scope: p.scope.clone(),
    }
}

fn facts(id: &str, reporter: &str, grid: &str, created_at: i64) -> Facts {
    let community = if grid == "g3" { "c2" } else { "c1" };
    Facts {
        id: id.into(),
        kind: CaseKind::Problem,
        category: sample::MANHOLE.into(),
        category_name: "井盖破损".into(),
        limit_hours: 24,
        clock: None,
        deadline: None,
        reporter: reporter.into(),
        created_at,
        location: if grid == "g3" {
            sample::IN_G3
        } else {
            sample::IN_G1
        },
        grid: grid.into(),
        community: community.into(),
        segment: None,
        description: "井盖缺失".into(),
    }
}

fn ev(person: &str, at: i64, action: Action) -> Event {
    Event::new(at, claim(person), action)
}

fn report_to_self(person: &str, at: i64) -> Event {
    ev(
        person,
        at,
        Action::Reported {
            assignee: Assignee::Person(person.into()),
        },
    )
}

fn resolved(person: &str, at: i64) -> Event {
    ev(
        person,
        at,
        Action::Resolved {
            note: "已修复".into(),
            photos: vec![],
        },
    )
}

fn verified(person: &str, at: i64) -> Event {
    ev(person, at, Action::Verified { note: "好".into() })
}

fn closed(person: &str, at: i64) -> Event {
    ev(
        person,
        at,
        Action::Closed {
            note: "结案".into(),
        },
    )
}

/// The fixed data set (see the comments for what each case is meant to exercise).
fn cases() -> Vec<(Facts, CaseState)> {
    let mut out = Vec::new();
    let mut add = |f: Facts, events: Vec<Event>| {
        let s = fold(&f, &events);
        for h in &s.history {
            assert_eq!(
                h.outcome,
                Outcome::Applied,
                "{}: {:?}",
                f.id,
                h.event.action
            );
        }
        out.push((f, s));
    };
    // A: g1, resolved in 4 h, closed on time.
    add(
        facts("A", "gw1", "g1", T0 + H),
        vec![
            report_to_self("gw1", T0 + H),
            resolved("gw1", T0 + 5 * H),
            verified("cc1", T0 + 6 * H),
            closed("cc1", T0 + 7 * H),
        ],
    );
    // B: g1, a street chief handles it on the spot after 1 h.
    add(
        facts("B", "psc1", "g1", T0 + 2 * H),
        vec![
            report_to_self("psc1", T0 + 2 * H),
            ev(
                "psc1",
                T0 + 3 * H,
                Action::HandledOnSpot {
                    note: "扶正".into(),
                    photos: vec!["ab".into()],
                },
            ),
        ],
    );
    // C: g1, resolved late (deadline T0+34h), sent back, resolved again at T0+50h, closed.
    add(
        facts("C", "gw1", "g1", T0 + 10 * H),
        vec![
            report_to_self("gw1", T0 + 10 * H),
            resolved("gw1", T0 + 40 * H),
            ev(
                "cc1",
                T0 + 41 * H,
                Action::Reworked {
                    reason: "没修好".into(),
                },
            ),
            resolved("gw1", T0 + 50 * H),
            verified("cc1", T0 + 51 * H),
            closed("cc1", T0 + 51 * H),
        ],
    );
    // D: g2, extended by 48 h (deadline T0+73h, in the period), still open.
    add(
        facts("D", "gw2", "g2", T0 + H),
        vec![
            report_to_self("gw2", T0 + H),
            ev(
                "cc1",
                T0 + 2 * H,
                Action::Extended {
                    hours: 48,
                    reason: "等配件".into(),
                    until: None,
                },
            ),
        ],
    );
    // E: g3, escalated to the community and the street, joint enforcement, police resolves.
    add(
        facts("E", "gw3", "g3", T0 + H),
        vec![
            report_to_self("gw3", T0 + H),
            ev(
                "gw3",
                T0 + 2 * H,
                Action::Escalated {
                    to_level: Level::Community,
                    to: Assignee::Person("cc2".into()),
                    reason: "需社区协调".into(),
                },
            ),
            ev(
                "cc2",
                T0 + 3 * H,
                Action::Escalated {
                    to_level: Level::Street,
                    to: Assignee::Center,
                    reason: "需联合执法".into(),
                },
            ),
            ev(
                "center",
                T0 + 4 * H,
                Action::Dispatched {
                    departments: vec!["police".into(), "enforcement".into()],
                    note: "联合执法".into(),
                },
            ),
            resolved("police1", T0 + 20 * H),
            verified("center", T0 + 21 * H),
            closed("center", T0 + 22 * H),
        ],
    );
    // F: g1, raised before the period (deadline before it), closed late inside it.
    add(
        facts("F", "gw1", "g1", T0 - 3 * DAY),
        vec![
            report_to_self("gw1", T0 - 3 * DAY),
            resolved("gw1", T0 + 2 * DAY),
            verified("cc1", T0 + 2 * DAY),
            closed("cc1", T0 + 2 * DAY),
        ],
    );
    // G: g1, voided: never counts.
    add(
        facts("G", "gw1", "g1", T0 + H),
        vec![
            report_to_self("gw1", T0 + H),
            ev(
                "cc1",
                T0 + 2 * H,
                Action::Voided {
                    reason: "误报".into(),
                },
            ),
        ],
    );
    // H: g1, raised an hour before the period ends; due after it.
    add(
        facts("H", "gw1", "g1", TO - H),
        vec![report_to_self("gw1", TO - H)],
    );
    // I: g1, raised and due entirely after the period: not counted anywhere.
    add(
        facts("I", "gw1", "g1", TO + DAY),
        vec![report_to_self("gw1", TO + DAY)],
    );
    out
}

fn compute() -> Rankings {
    let cases = cases();
    rankings(cases.iter().map(|(f, s)| (f, s)), FROM, TO)
}

fn unit<'a>(r: &'a Rankings, kind: UnitKind, id: &str) -> &'a super::RankedUnit {
    r.by(kind)
        .iter()
        .find(|u| u.unit == id)
        .unwrap_or_else(|| panic!("no {kind:?} {id}"))
}

#[test]
fn every_figure_by_hand() {
    let r = compute();
    let g1 = Figures {
        raised: 4,         // A B C H
        due: 4,            // A B C (deadline in period), F (closed in period)
        closed: 4,         // A B C F
        closed_on_time: 2, // A B
        resolved: 4,       // A B C F
        reworked: 1,       // C
        extended: 0,
        handled_on_spot: 1, // B
        handling_ms: (4 + 1 + 40 + 120) * H,
        ..Figures::default()
    };
    let u = unit(&r, UnitKind::Grid, "g1");
    assert_eq!(u.figures, g1);
    assert_eq!(u.figures.close_rate(), Some(1.0));
    assert_eq!(u.figures.on_time_rate(), Some(0.5));
    assert_eq!(u.figures.rework_rate(), Some(0.25));
    assert_eq!(u.figures.extension_rate(), Some(0.0));
    assert_eq!(u.figures.avg_handling_hours(), Some(41.25));
    assert_eq!(u.score, Some(80.0));

    let g2 = unit(&r, UnitKind::Grid, "g2");
    assert_eq!(
        g2.figures,
        Figures {
            raised: 1,
            due: 1,
            extended: 1,
            ..Figures::default()
        }
    );
    assert_eq!(g2.figures.rework_rate(), None);
    assert_eq!(g2.figures.avg_handling_hours(), None);
    assert_eq!(g2.score, Some(20.0));

    let e = Figures {
        raised: 1,
        due: 1,
        closed: 1,
        closed_on_time: 1,
        resolved: 1,
        handling_ms: 19 * H,
        ..Figures::default()
    };
    assert_eq!(unit(&r, UnitKind::Grid, "g3").figures, e);
    assert_eq!(unit(&r, UnitKind::Grid, "g3").score, Some(100.0));

    let ids = |k: UnitKind| -> Vec<(String, Option<u32>)> {
        r.by(k).iter().map(|u| (u.unit.clone(), u.rank)).collect()
    };
    let want = |v: &[(&str, u32)]| -> Vec<(String, Option<u32>)> {
        v.iter().map(|&(u, n)| (u.to_string(), Some(n))).collect()
    };
    assert_eq!(
        ids(UnitKind::Grid),
        want(&[("g3", 1), ("g1", 2), ("g2", 3)])
    );

    // Communities: c1 = g1 + g2; c2 = g3.
    let c1 = unit(&r, UnitKind::Community, "c1");
    let mut sum = g1;
    sum.raised += 1;
    sum.due += 1;
    sum.extended += 1;
    assert_eq!(c1.figures, sum);
    assert_eq!(c1.figures.close_rate(), Some(0.8));
    assert_eq!(c1.score, Some(67.0));
    assert_eq!(unit(&r, UnitKind::Community, "c2").figures, e);
    assert_eq!(ids(UnitKind::Community), want(&[("c2", 1), ("c1", 2)]));

    // Departments: both of E's; a tie on every figure falls back to the id.
    assert_eq!(unit(&r, UnitKind::Department, "police").figures, e);
    assert_eq!(unit(&r, UnitKind::Department, "enforcement").figures, e);
    assert_eq!(
        ids(UnitKind::Department),
        want(&[("enforcement", 1), ("police", 2)])
    );

    // People, as handlers: gw1 did A, C, F and holds H; psc1 B; gw2 holds D; police1 did E.
    let gw1 = unit(&r, UnitKind::Person, "gw1");
    assert_eq!(
        gw1.figures,
        Figures {
            raised: 3,
            due: 3,
            closed: 3,
            closed_on_time: 1,
            resolved: 3,
            reworked: 1,
            extended: 0,
            handled_on_spot: 0,
            handling_ms: (4 + 40 + 120) * H,
            ..Figures::default()
        }
    );
    assert_eq!(gw1.score, Some(73.33));
    assert_eq!(
        unit(&r, UnitKind::Person, "psc1").figures.handled_on_spot,
        1
    );
    assert_eq!(unit(&r, UnitKind::Person, "police1").figures, e);
    assert_eq!(
        ids(UnitKind::Person),
        want(&[("police1", 1), ("psc1", 2), ("gw1", 3), ("gw2", 4)])
    );
}

#[test]
fn order_of_cases_does_not_matter_and_units_without_due_cases_are_unranked() {
    let mut cs = cases();
    let a = rankings(cs.iter().map(|(f, s)| (f, s)), FROM, TO);
    cs.reverse();
    let b = rankings(cs.iter().map(|(f, s)| (f, s)), FROM, TO);
    assert_eq!(a, b);
    // In the week after, only H (due) and I (raised and due) count, for g1 / gw1.
    let next = rankings(cs.iter().map(|(f, s)| (f, s)), TO, TO + 7 * DAY);
    let g1 = unit(&next, UnitKind::Grid, "g1");
    assert_eq!(
        (g1.figures.raised, g1.figures.due, g1.figures.closed),
        (1, 2, 0)
    );
    assert_eq!(g1.score, Some(30.0));
    assert_eq!(next.grids.len(), 1);
    // In the week before, only F counts: raised and due there, closed only later.
    let before = rankings(cs.iter().map(|(f, s)| (f, s)), T0 - 7 * DAY, T0);
    let g1 = unit(&before, UnitKind::Grid, "g1");
    assert_eq!(
        (g1.figures.raised, g1.figures.due, g1.figures.closed),
        (1, 1, 0)
    );
    // A period in which a unit only raised cases leaves it unranked.
    let only_raised = rankings(cs.iter().map(|(f, s)| (f, s)), TO + DAY, TO + DAY + 1);
    let g1 = unit(&only_raised, UnitKind::Grid, "g1");
    assert_eq!((g1.figures.raised, g1.figures.due), (1, 0));
    assert_eq!((g1.rank, g1.score), (None, None));
}

#[test]
fn table_names_units_and_shows_rates() {
    let r = compute();
    let t = r.table(UnitKind::Grid, &|id| {
        (id == "g1").then(|| "第一网格".to_string())
    });
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("排名\t网格\t名称\t立案数"));
    assert!(lines[1].starts_with("1\tg3\tg3\t1\t1\t1\t100.0%"));
    assert!(lines[2].starts_with(
        "2\tg1\t第一网格\t4\t4\t4\t100.0%\t50.0%\t25.0%\t0.0%\t1\t41.25\t0\t0.00\t0\t0\t80.00"
    ));
    assert_eq!(UnitKind::parse("department"), Some(UnitKind::Department));
    assert_eq!(UnitKind::parse("street"), None);
}

mod patrols {
    use super::*;
    use crate::case::Author;
    use crate::org::{Role, Scope};
    use crate::patrol::{PatrolAction, PatrolEvent, PatrolFacts, PatrolPlace, fold_patrol};
    use crate::report::RankingsBuilder;

    fn person(id: &str, role: Role, scope: Scope) -> Claim {
        Claim {
            person: id.into(),
            role,
            scope,
        }
    }

    /// A patrol of `walker` from `start`, ended after `hours` (never when `None`), with
    /// `companions` (each confirming from their own device except `unconfirmed` ones), voided
    /// by a server when `voided`.
    fn patrol(
        walker: Claim,
        place: PatrolPlace,
        start: i64,
        hours: Option<i64>,
        companions: &[Claim],
        voided: bool,
    ) -> (PatrolFacts, crate::patrol::PatrolState) {
        let facts = PatrolFacts {
            id: format!("{}-{start}", walker.person),
            walker: walker.clone(),
            place,
            community: "c1".into(),
            started_at: start,
        };
        let mut log: Vec<PatrolEvent> = Vec::new();
        for c in companions {
            let named = PatrolEvent::new(
                start,
                walker.clone(),
                PatrolAction::Accompanied {
                    companion: c.clone(),
                },
            );
            let confirm = PatrolEvent::new(
                start,
                c.clone(),
                PatrolAction::Confirmed {
                    accompaniment: named.id.clone(),
                },
            );
            log.push(named);
            if !c.person.starts_with("unconfirmed") {
                log.push(confirm);
            }
        }
        if let Some(h) = hours {
            log.push(PatrolEvent::new(
                start + h * H,
                walker.clone(),
                PatrolAction::Ended,
            ));
        }
        if voided {
            log.push(PatrolEvent {
                id: "void".into(),
                at: start,
                by: Author::Server {
                    instance: "s".into(),
                },
                action: PatrolAction::ServerVoid {
                    event: facts.id.clone(),
                    reason: "moved".into(),
                },
            });
        }
        let state = fold_patrol(&facts, &log, &[]);
        (facts, state)
    }

    #[test]
    fn patrol_time_and_accompaniments_by_hand_without_changing_the_scores() {
        let gw1 = person("gw1", Role::GridWorker, Scope::Grid("g1".into()));
        let psc1 = person("psc1", Role::PartyStreetChief, Scope::Segment("s1".into()));
        let official = person("official", Role::StreetOfficial, Scope::Street);
        let unconfirmed = person("unconfirmed-o2", Role::StreetOfficial, Scope::Street);
        let police1 = person(
            "police1",
            Role::DepartmentStaff,
            Scope::Department("police".into()),
        );
        let g1 = || PatrolPlace::Grid("g1".into());
        let s1 = PatrolPlace::Segment("s1".into());
        let patrols = [
            // Counts: 2 h with the official (and one who never confirmed: not counted).
            patrol(
                gw1.clone(),
                g1(),
                FROM + H,
                Some(2),
                &[official, unconfirmed],
                false,
            ),
            // Counts: 1 h on s1 with gw1 and the police.
            patrol(
                psc1,
                s1,
                FROM + DAY,
                Some(1),
                &[gw1.clone(), police1],
                false,
            ),
            // Voided, before the period, and not ended: 0, 0, and a patrol without time.
            patrol(gw1.clone(), g1(), FROM + 2 * DAY, Some(5), &[], true),
            patrol(gw1.clone(), g1(), FROM - H, Some(3), &[], false),
            patrol(gw1, g1(), FROM + 3 * DAY, None, &[], false),
        ];
        let cases = cases();
        let mut b = RankingsBuilder::new(FROM, TO);
        for (f, s) in &cases {
            b.add(f, s);
        }
        for (f, s) in &patrols {
            b.add_patrol(f, s);
        }
        let r = b.finish();
        let figs = |kind, id| unit(&r, kind, id).figures;
        let p = |f: Figures| (f.patrols, f.patrol_ms, f.accompanied, f.accompaniments);
        assert_eq!(p(figs(UnitKind::Grid, "g1")), (2, 2 * H, 1, 0));
        assert_eq!(p(figs(UnitKind::Community, "c1")), (3, 3 * H, 2, 0));
        assert_eq!(p(figs(UnitKind::Person, "gw1")), (2, 2 * H, 1, 1));
        assert_eq!(p(figs(UnitKind::Person, "psc1")), (1, H, 1, 0));
        assert_eq!(p(figs(UnitKind::Person, "official")), (0, 0, 0, 1));
        assert!(
            r.by(UnitKind::Person)
                .iter()
                .all(|u| u.unit != "unconfirmed-o2" || u.figures.accompaniments == 0)
        );
        assert_eq!(p(figs(UnitKind::Person, "police1")), (0, 0, 0, 1));
        assert_eq!(p(figs(UnitKind::Department, "police")), (0, 0, 0, 1));
        assert!(r.by(UnitKind::Grid).iter().all(|u| u.unit != "s1"));
        // Patrols do not enter the score: the case figures and ranks are as without them.
        let without = compute();
        for kind in UnitKind::ALL {
            for u in without.by(kind) {
                let with = unit(&r, kind, &u.unit);
                assert_eq!(
                    (with.rank, with.score),
                    (u.rank, u.score),
                    "{kind:?} {}",
                    u.unit
                );
            }
        }
        let table = r.table(UnitKind::Grid, &|_| None);
        assert!(
            table
                .lines()
                .next()
                .unwrap()
                .contains("巡查次数\t巡查时长(小时)\t陪同巡查次数")
        );
        assert!(table.contains("\t2\t2.00\t1\t0\t"), "{table}");
    }
}
