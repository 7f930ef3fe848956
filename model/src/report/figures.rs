//! The figures of one ranked unit ([`Figures`]: the counts, the rates and the score) and the
//! kinds of unit ([`UnitKind`]); the definitions of each count are in the [`super::rankings`]
//! module doc. Both [`super::rankings`] and [`super::ranking_row`] use these; this module uses
//! neither.

use serde::{Deserialize, Serialize};

/// Weight of 结案率 in the score.
pub const WEIGHT_CLOSE_RATE: f64 = 0.4;
/// Weight of 按期结案率 in the score.
pub const WEIGHT_ON_TIME_RATE: f64 = 0.3;
/// Weight of 1 − 返工率 in the score.
pub const WEIGHT_NO_REWORK: f64 = 0.2;
/// Weight of 1 − 延期率 in the score.
pub const WEIGHT_NO_EXTENSION: f64 = 0.1;

const HOUR_MS: f64 = 3_600_000.0;

/// What a ranked unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// A grid (网格).
    Grid,
    /// A community (社区).
    Community,
    /// An enforcement department (驻街执法部门).
    Department,
    /// A person, as a case's handler (承办人).
    Person,
}

impl UnitKind {
    /// Every kind, in a stable order.
    pub const ALL: [UnitKind; 4] = [
        UnitKind::Grid,
        UnitKind::Community,
        UnitKind::Department,
        UnitKind::Person,
    ];

    /// The stable identifier (`grid`, `community`, `department`, `person`).
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Grid => "grid",
            UnitKind::Community => "community",
            UnitKind::Department => "department",
            UnitKind::Person => "person",
        }
    }

    /// Parses [`UnitKind::as_str`] back.
    pub fn parse(s: &str) -> Option<UnitKind> {
        UnitKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The Chinese name shown in tables.
    pub fn label_zh(self) -> &'static str {
        match self {
            UnitKind::Grid => "网格",
            UnitKind::Community => "社区",
            UnitKind::Department => "部门",
            UnitKind::Person => "人员",
        }
    }
}

/// The counts of one unit over the period (see the module doc for each definition).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// 立案数: cases raised in the period.
    pub raised: u64,
    /// 应结案数: cases due in the period (deadline in it, or closed in it).
    pub due: u64,
    /// 结案数: cases closed in the period, handled on the spot included.
    pub closed: u64,
    /// 按期结案数: closed cases whose work was done by the deadline.
    pub closed_on_time: u64,
    /// 处置数: cases whose last resolution falls in the period.
    pub resolved: u64,
    /// 返工数: resolved cases sent back at least once.
    pub reworked: u64,
    /// 延期数: due cases whose deadline was extended.
    pub extended: u64,
    /// 自行处置数: closed cases settled on the spot.
    pub handled_on_spot: u64,
    /// Sum over the resolved cases of (last resolution − report), ms.
    pub handling_ms: i64,
    /// 巡查次数: patrols started in the period.
    pub patrols: u64,
    /// 巡查时长: their time (ended patrols), ms.
    pub patrol_ms: i64,
    /// 陪同巡查次数: of these, patrols somebody walked along.
    pub accompanied: u64,
    /// 参与陪同次数: patrols this unit (a person or department) walked along.
    pub accompaniments: u64,
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    // Counts stay far below 2^53, where u64 → f64 is exact.
    (d > 0).then(|| n as f64 / d as f64)
}

impl Figures {
    /// 结案率 = 结案 ÷ 应结案; `None` without due cases.
    pub fn close_rate(&self) -> Option<f64> {
        ratio(self.closed, self.due)
    }

    /// 按期结案率 = 按期结案 ÷ 应结案; `None` without due cases.
    pub fn on_time_rate(&self) -> Option<f64> {
        ratio(self.closed_on_time, self.due)
    }

    /// 返工率 = 返工 ÷ 处置; `None` without resolved cases.
    pub fn rework_rate(&self) -> Option<f64> {
        ratio(self.reworked, self.resolved)
    }

    /// 延期率 = 延期 ÷ 应结案; `None` without due cases.
    pub fn extension_rate(&self) -> Option<f64> {
        ratio(self.extended, self.due)
    }

    /// 巡查时长 in hours.
    pub fn patrol_hours(&self) -> f64 {
        self.patrol_ms as f64 / HOUR_MS
    }

    /// 平均处置时长 in hours, report to last resolution; `None` without resolved cases.
    pub fn avg_handling_hours(&self) -> Option<f64> {
        (self.resolved > 0).then(|| self.handling_ms as f64 / self.resolved as f64 / HOUR_MS)
    }

    /// 综合得分 (0–100, rounded to 0.01; weights in the module doc); `None` without due cases.
    pub fn score(&self) -> Option<f64> {
        let close = self.close_rate()?;
        let on_time = self.on_time_rate()?;
        let extension = self.extension_rate()?;
        let rework = self.rework_rate().unwrap_or(0.0);
        let raw = 100.0
            * (WEIGHT_CLOSE_RATE * close
                + WEIGHT_ON_TIME_RATE * on_time
                + WEIGHT_NO_REWORK * (1.0 - rework)
                + WEIGHT_NO_EXTENSION * (1.0 - extension));
        Some((raw * 100.0).round() / 100.0)
    }

    pub(crate) fn add(&mut self, o: &Figures) {
        self.raised += o.raised;
        self.due += o.due;
        self.closed += o.closed;
        self.closed_on_time += o.closed_on_time;
        self.resolved += o.resolved;
        self.reworked += o.reworked;
        self.extended += o.extended;
        self.handled_on_spot += o.handled_on_spot;
        self.handling_ms += o.handling_ms;
        self.patrols += o.patrols;
        self.patrol_ms += o.patrol_ms;
        self.accompanied += o.accompanied;
        self.accompaniments += o.accompaniments;
    }

    pub(crate) fn is_empty(&self) -> bool {
        *self == Figures::default()
    }
}
