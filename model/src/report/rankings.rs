//! Rankings (绩效排名): the standard evaluation figures of digital urban management per grid,
//! community, department and person over a period, a composite score and a ranking.
//!
//! One pure function of the folded cases, so the device (over its own store) and the server
//! (over every case) give the same numbers for the same cases. Every time used is a device
//! time: the case's `created_at` and the `at` of the events that resolved, closed or extended
//! it, never the time a server received them, so offline work is credited when it was done.
//!
//! # Which cases count
//! A case counts when its report applied (the fold accepted its `Reported` event) and it is
//! neither voided (作废) nor a duplicate: those were never real cases. Problems and resident
//! requests both count. A case belongs to:
//! - its **grid** and **community** (from its facts);
//! - every **department** an applied `Dispatched` event sent it to (a joint-enforcement case
//!   counts once for each of its departments);
//! - one **person**, its handler (承办人): the author of its last applied `Resolved` or
//!   `HandledOnSpot` event, or, while nobody has reported work done, the person it waits on;
//!   a case waiting on the centre, departments or volunteers counts for no person.
//!
//! # The figures, for a period `[from, to)` in ms
//! - 立案数 `raised`: counted cases with `created_at` in the period.
//! - 结案数 `closed`: cases with status closed whose `closed_at` (the device time of the
//!   `Closed` or `HandledOnSpot` event) is in the period; handled-on-the-spot cases included.
//! - 应结案数 `due`: cases whose deadline (the one recorded at report time, in working hours
//!   of the reporting device's calendar, moved by extensions) is in the period, plus cases closed in the period whatever their deadline (a case closed
//!   early was due as soon as it was closed). So 结案 ⊆ 应结案; an overdue case still open
//!   counts as due in the period of its deadline, and again in the period it is finally closed.
//! - 按期结案数 `closed_on_time`: closed cases (as above) whose last resolution (`resolved_at`,
//!   the device time of the work) is at or before the deadline.
//! - 处置数 `resolved`: cases whose last reported resolution (`Resolved` or `HandledOnSpot`)
//!   is in the period; 返工数 `reworked`: of these, those sent back at least once.
//! - 延期数 `extended`: due cases whose deadline was extended at least once.
//! - 自行处置数 `handled_on_spot`: closed cases (as above) settled on the spot.
//! - 结案率 = 结案 ÷ 应结案; 按期结案率 = 按期结案 ÷ 应结案; 返工率 = 返工 ÷ 处置;
//!   延期率 = 延期 ÷ 应结案; 平均处置时长 = mean of (last resolution − report) over the resolved
//!   cases, in hours (a negative span from a wrong device clock counts as 0).
//! - 综合得分 = 100 × (40% 结案率 + 30% 按期结案率 + 20% (1 − 返工率) + 10% (1 − 延期率)),
//!   rounded to 0.01; a 返工率 without resolved cases counts as 0. A unit without due cases has
//!   no score and no rank.
//! - Ranking: by score (high first), then more 结案, then more 立案, then the unit id; ranks are
//!   1, 2, 3, … without gaps or shared places.
//!
//! # Patrols
//! A patrol counts in the period it started in, unless a server voided it. It adds to its
//! grid (a grid patrol), its community and its walker (as a person):
//! - 巡查次数 `patrols`; 巡查时长 `patrol_ms` (end − start of ended patrols);
//! - 陪同巡查次数 `accompanied`: of these, patrols somebody walked along (三陪同).
//!
//! and to each companion (as a person) and a companion's department:
//! - 参与陪同次数 `accompaniments`: patrols they walked along.
//!
//! Patrol figures are shown beside the case figures; they do not enter the score (the
//! standard score is about cases), and a unit with only patrols has no score and no rank.

pub use super::figures::{
    Figures, UnitKind, WEIGHT_CLOSE_RATE, WEIGHT_NO_EXTENSION, WEIGHT_NO_REWORK,
    WEIGHT_ON_TIME_RATE,
};
pub use super::ranking_row::RankingRow;
use crate::case::{CaseState, Facts};
use crate::patrol::{PatrolFacts, PatrolState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One unit's line of a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedUnit {
    /// Its id (grid, community, department or person id).
    pub unit: String,
    /// Its place, from 1; `None` when it had no due cases (no score).
    pub rank: Option<u32>,
    /// 综合得分, see [`Figures::score`].
    pub score: Option<f64>,
    /// Its counts.
    pub figures: Figures,
}

/// The rankings of every kind of unit over one period. Units appear when at least one case
/// counts for them in the period; ranked units first, in rank order, then the unranked by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rankings {
    /// Start of the period, ms since the epoch, inclusive.
    pub from: i64,
    /// End of the period, ms since the epoch, exclusive.
    pub to: i64,
    /// The grids.
    pub grids: Vec<RankedUnit>,
    /// The communities.
    pub communities: Vec<RankedUnit>,
    /// The departments.
    pub departments: Vec<RankedUnit>,
    /// The people, as handlers.
    pub people: Vec<RankedUnit>,
}

impl Rankings {
    /// The ranking of one kind of unit.
    pub fn by(&self, kind: UnitKind) -> &[RankedUnit] {
        match kind {
            UnitKind::Grid => &self.grids,
            UnitKind::Community => &self.communities,
            UnitKind::Department => &self.departments,
            UnitKind::Person => &self.people,
        }
    }

    /// A tab-separated table of one kind with a Chinese header; `name` gives a unit's display
    /// name (the id is shown when it gives `None`). Rates in percent, `-` when undefined.
    pub fn table(&self, kind: UnitKind, name: &dyn Fn(&str) -> Option<String>) -> String {
        let pct = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0));
        let num = |r: Option<f64>| r.map_or("-".to_string(), |r| format!("{r:.2}"));
        let mut out = format!(
            "排名\t{}\t名称\t立案数\t应结案数\t结案数\t结案率\t按期结案率\t返工率\t延期率\t自行处置数\t平均处置时长(小时)\t巡查次数\t巡查时长(小时)\t陪同巡查次数\t参与陪同次数\t综合得分\n",
            kind.label_zh()
        );
        for u in self.by(kind) {
            let f = &u.figures;
            let _ = writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:.2}\t{}\t{}\t{}",
                u.rank.map_or("-".to_string(), |r| r.to_string()),
                u.unit,
                name(&u.unit).unwrap_or_else(|| u.unit.clone()),
                f.raised,
                f.due,
                f.closed,
                pct(f.close_rate()),
                pct(f.on_time_rate()),
                pct(f.rework_rate()),
                pct(f.extension_rate()),
                f.handled_on_spot,
                num(f.avg_handling_hours()),
                f.patrols,
                f.patrol_hours(),
                f.accompanied,
                f.accompaniments,
                num(u.score),
            );
        }
        out
    }
}

/// Collects cases one at a time (so a server need not hold them all) and ranks them.
#[derive(Debug, Clone)]
pub struct RankingsBuilder {
    from: i64,
    to: i64,
    units: BTreeMap<(UnitKind, String), Figures>,
}

impl RankingsBuilder {
    /// A builder for the period `[from, to)`, ms since the epoch.
    pub fn new(from: i64, to: i64) -> RankingsBuilder {
        RankingsBuilder {
            from,
            to,
            units: BTreeMap::new(),
        }
    }

    /// Counts one case for its units. Adding the same cases in any order gives the same result.
    pub fn add(&mut self, facts: &Facts, state: &CaseState) {
        if let Some(row) = RankingRow::of_case(facts, state) {
            self.add_row(&row);
        }
    }

    /// Counts one patrol for its units (see the module doc). Adding the same patrols in any
    /// order gives the same result.
    pub fn add_patrol(&mut self, facts: &PatrolFacts, state: &PatrolState) {
        if let Some(row) = RankingRow::of_patrol(facts, state) {
            self.add_row(&row);
        }
    }

    /// Counts what one document contributes, as kept by [`RankingRow`] (the server keeps one
    /// per document so that rankings never load documents).
    pub fn add_row(&mut self, row: &RankingRow) {
        for (kind, unit, fig) in row.figures(self.from, self.to) {
            if !fig.is_empty() {
                self.units.entry((kind, unit)).or_default().add(&fig);
            }
        }
    }

    /// The rankings of every kind.
    pub fn finish(self) -> Rankings {
        let mut by_kind: BTreeMap<UnitKind, Vec<RankedUnit>> = BTreeMap::new();
        for ((kind, unit), figures) in self.units {
            by_kind.entry(kind).or_default().push(RankedUnit {
                unit,
                rank: None,
                score: figures.score(),
                figures,
            });
        }
        let mut take = |k: UnitKind| rank(by_kind.remove(&k).unwrap_or_default());
        Rankings {
            from: self.from,
            to: self.to,
            grids: take(UnitKind::Grid),
            communities: take(UnitKind::Community),
            departments: take(UnitKind::Department),
            people: take(UnitKind::Person),
        }
    }
}

/// The rankings of the folded cases over `[from, to)` (ms since the epoch). See the module doc
/// for what counts and how each figure is defined.
pub fn rankings<'a>(
    cases: impl IntoIterator<Item = (&'a Facts, &'a CaseState)>,
    from: i64,
    to: i64,
) -> Rankings {
    let mut b = RankingsBuilder::new(from, to);
    for (facts, state) in cases {
        b.add(facts, state);
    }
    b.finish()
}

/// Sorts and numbers one kind's units.
fn rank(mut units: Vec<RankedUnit>) -> Vec<RankedUnit> {
    units.sort_by(|a, b| match (a.score, b.score) {
        (Some(x), Some(y)) => y
            .total_cmp(&x)
            .then(b.figures.closed.cmp(&a.figures.closed))
            .then(b.figures.raised.cmp(&a.figures.raised))
            .then(a.unit.cmp(&b.unit)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.unit.cmp(&b.unit),
    });
    let mut next = 1u32;
    for u in &mut units {
        if u.score.is_some() {
            u.rank = Some(next);
            next += 1;
        }
    }
    units
}
