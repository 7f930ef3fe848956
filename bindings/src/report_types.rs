//! The records of the reports ([`crate::reports`]): the evaluation rankings (绩效排名) of grids,
//! communities, departments and people, with the patrol figures beside the case figures, and
//! the street chiefs' notice boards (街长公示栏), with their conversions from the core's types.
//!
//! A ranked unit is one flat record (counts, rates, score, rank, patrol counts and time) so
//! that a table screen needs no further arithmetic; rates are fractions from 0 to 1 and are
//! `None` where the core leaves them undefined (no due or no resolved cases).

use xiangying_core::org::Roster;
use xiangying_core::report as core_report;

/// One unit's line of a ranking, with every figure of the period. See
/// [`crate::XiangyingDevice::rankings`] for which cases and patrols count and how.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RankedUnit {
    /// The unit's id (grid, community, department or person id).
    pub id: String,
    /// Its name from the device's roster; the id when the roster does not know it.
    pub name: String,
    /// Its place, from 1 without gaps; `None` when it had no due cases (no score).
    pub rank: Option<u32>,
    /// 综合得分, 0–100 rounded to 0.01: 100 × (40% 结案率 + 30% 按期结案率 +
    /// 20% (1 − 返工率) + 10% (1 − 延期率)); `None` without due cases.
    pub score: Option<f64>,
    /// 立案数: cases raised in the period.
    pub raised: u64,
    /// 应结案数: cases due in the period (deadline in it, or closed in it).
    pub due: u64,
    /// 结案数: cases closed in the period, handled on the spot included.
    pub closed: u64,
    /// 按期结案数: closed cases whose work was done by the deadline.
    pub closed_on_time: u64,
    /// 处置数: cases whose last reported resolution falls in the period.
    pub resolved: u64,
    /// 返工数: resolved cases sent back for rework at least once.
    pub reworked: u64,
    /// 延期数: due cases whose deadline was extended.
    pub extended: u64,
    /// 自行处置数: closed cases settled on the spot.
    pub handled_on_spot: u64,
    /// 结案率 = 结案数 ÷ 应结案数 (0–1); `None` without due cases.
    pub close_rate: Option<f64>,
    /// 按期结案率 = 按期结案数 ÷ 应结案数 (0–1); `None` without due cases.
    pub on_time_rate: Option<f64>,
    /// 返工率 = 返工数 ÷ 处置数 (0–1); `None` without resolved cases.
    pub rework_rate: Option<f64>,
    /// 延期率 = 延期数 ÷ 应结案数 (0–1); `None` without due cases.
    pub extension_rate: Option<f64>,
    /// 平均处置时长: mean hours from report to last resolution over the resolved cases;
    /// `None` without resolved cases.
    pub avg_handling_hours: Option<f64>,
    /// 巡查次数: patrols started in the period (not voided) on this grid (grid patrols), in
    /// this community (grid and segment patrols), or walked by this person. Patrol figures do
    /// not enter the score.
    pub patrols: u64,
    /// 巡查时长 in ms: end − start of those patrols that ended.
    pub patrol_ms: i64,
    /// 巡查时长 in hours (`patrol_ms` ÷ 3,600,000), for display.
    pub patrol_hours: f64,
    /// 陪同巡查次数: of those patrols, the ones somebody walked along (三陪同).
    pub accompanied: u64,
    /// 参与陪同次数: patrols started in the period (not voided) that this person walked along
    /// as a companion, or (for a department) that its staff walked along.
    pub accompaniments: u64,
}

impl RankedUnit {
    /// Converts the core's line, naming the unit with `name` (the id when it gives `None`).
    pub(crate) fn of(u: core_report::RankedUnit, name: Option<String>) -> RankedUnit {
        let f = u.figures;
        RankedUnit {
            name: name.unwrap_or_else(|| u.unit.clone()),
            id: u.unit,
            rank: u.rank,
            score: u.score,
            raised: f.raised,
            due: f.due,
            closed: f.closed,
            closed_on_time: f.closed_on_time,
            resolved: f.resolved,
            reworked: f.reworked,
            extended: f.extended,
            handled_on_spot: f.handled_on_spot,
            close_rate: f.close_rate(),
            on_time_rate: f.on_time_rate(),
            rework_rate: f.rework_rate(),
            extension_rate: f.extension_rate(),
            avg_handling_hours: f.avg_handling_hours(),
            patrols: f.patrols,
            patrol_ms: f.patrol_ms,
            patrol_hours: f.patrol_hours(),
            accompanied: f.accompanied,
            accompaniments: f.accompaniments,
        }
    }
}

/// The rankings of every kind of unit over one period. A unit appears when at least one case
/// or patrol counts for it in the period; ranked units come first in rank order, then the
/// unranked (no due cases, e.g. patrols only) by id.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Rankings {
    /// Start of the period (ms), included.
    pub from_ms: i64,
    /// End of the period (ms), excluded.
    pub to_ms: i64,
    /// The grids (网格).
    pub grids: Vec<RankedUnit>,
    /// The communities (社区).
    pub communities: Vec<RankedUnit>,
    /// The departments (驻街执法部门) the cases were dispatched to, and those whose staff
    /// walked along on patrols.
    pub departments: Vec<RankedUnit>,
    /// The people: the cases' handlers (承办人), patrol walkers and companions.
    pub people: Vec<RankedUnit>,
}

impl Rankings {
    /// Converts the core's rankings, naming units from `roster` when there is one.
    pub(crate) fn of(r: core_report::Rankings, roster: Option<&Roster>) -> Rankings {
        let named = |units: Vec<core_report::RankedUnit>,
                     name: &dyn Fn(&Roster, &str) -> Option<String>| {
            units
                .into_iter()
                .map(|u| {
                    let n = roster.and_then(|ro| name(ro, &u.unit));
                    RankedUnit::of(u, n)
                })
                .collect()
        };
        Rankings {
            from_ms: r.from,
            to_ms: r.to,
            grids: named(r.grids, &|ro, id| ro.grid(id).map(|g| g.name.clone())),
            communities: named(r.communities, &|ro, id| {
                ro.community(id).map(|c| c.name.clone())
            }),
            departments: named(r.departments, &|ro, id| {
                ro.department(id).map(|d| d.name.clone())
            }),
            people: named(r.people, &|ro, id| ro.person(id).map(|p| p.name.clone())),
        }
    }
}

/// One responsible person on a segment's notice board.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NoticeEntry {
    /// Role label as printed, e.g. 党员街长, 网格员（第g1网格）, or a department's name.
    pub role: String,
    /// The person's id.
    pub person: String,
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Short duty text.
    pub duty: String,
}

impl From<core_report::NoticeEntry> for NoticeEntry {
    fn from(e: core_report::NoticeEntry) -> NoticeEntry {
        NoticeEntry {
            role: e.role,
            person: e.person,
            name: e.name,
            phone: e.phone,
            duty: e.duty,
        }
    }
}

/// One road segment's notice board block.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SegmentBoard {
    /// The segment's id.
    pub segment: String,
    /// The segment's name: its patrol range.
    pub name: String,
    /// The road's name, when the roster has it.
    pub road: Option<String>,
    /// The name of the community that answers for it, when the roster has it.
    pub community: Option<String>,
    /// Length of the patrol range in metres, rounded.
    pub length_m: u32,
    /// The responsible people: street chiefs, grid workers of the grids it runs along,
    /// enforcement staff, greening staff.
    pub people: Vec<NoticeEntry>,
}

impl From<core_report::SegmentBoard> for SegmentBoard {
    fn from(s: core_report::SegmentBoard) -> SegmentBoard {
        SegmentBoard {
            segment: s.segment,
            name: s.name,
            road: s.road,
            community: s.community,
            length_m: s.length_m,
            people: s.people.into_iter().map(Into::into).collect(),
        }
    }
}

/// The notice boards (街长公示栏) of the whole street, from the device's roster copy.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NoticeBoard {
    /// The street's name.
    pub street: String,
    /// One block per road segment, in roster order.
    pub segments: Vec<SegmentBoard>,
}

impl From<core_report::NoticeBoard> for NoticeBoard {
    fn from(b: core_report::NoticeBoard) -> NoticeBoard {
        NoticeBoard {
            street: b.street,
            segments: b.segments.into_iter().map(Into::into).collect(),
        }
    }
}
