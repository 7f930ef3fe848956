//! The category catalogue: what can be reported, at which level it is handled, how long it may
//! take and which department answers for it (GB/T 30428 / CJ/T 214 shape, plus grid duties),
//! with the working calendar its time limits are counted in.

use super::{Calendar, Level, LimitClock, MEMORY};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Whether a category is a component (部件), an event (事件) or a grid duty (网格职责).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryKind {
    /// 部件: a physical thing in public space (a manhole cover, a street light).
    Component,
    /// 事件: something happening (littering, illegal parking, a burst pipe).
    Event,
    /// 网格职责: one of the duties assigned to grids (综治信访, 矛盾调处, …).
    Duty,
}

/// One small category (小类) with its big category (大类).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    /// The small category code, unique in the catalogue, e.g. `010101`.
    pub code: String,
    /// Component, event or duty.
    pub kind: CategoryKind,
    /// The big category code, e.g. `0101`.
    pub big_code: String,
    /// The big category's Chinese name, e.g. 公用设施.
    pub big_name: String,
    /// The small category's Chinese name, e.g. 井盖.
    pub name: String,
    /// The level that handles it by default.
    pub level: Level,
    /// The time limit from report to resolution, in hours counted on [`Category::clock`]:
    /// working hours of the catalogue's [`Calendar`] unless the category says otherwise.
    pub limit_hours: u32,
    /// The department that answers for it when dispatched, if any.
    pub department: Option<String>,
    /// How the limit is counted: working hours (the default, left out of files) or natural
    /// hours (for emergencies such as a missing manhole cover).
    #[serde(default, skip_serializing_if = "LimitClock::is_working")]
    pub clock: LimitClock,
}

/// The whole catalogue, indexed by code.
///
/// Build it with [`Catalogue::try_new`] or load it with [`Catalogue::from_json`] /
/// [`Catalogue::load`], which check it; [`Catalogue::new`] only indexes. Deserializing with
/// serde indexes too (but does not check the categories; the calendar is always checked).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(from = "CatalogueData")]
pub struct Catalogue {
    /// The working calendar the time limits are counted in, published with the catalogue
    /// ([`Calendar::china_2026`] for a catalogue file without one).
    pub calendar: Calendar,
    /// Every small category.
    pub categories: Vec<Category>,
    #[serde(skip)]
    pub(super) index: HashMap<String, usize>,
    /// The file it was loaded from, named in errors (`<memory>` when built in code).
    #[serde(skip)]
    pub(super) source: String,
}

/// The serialized form of a catalogue: `{"calendar": {...}, "categories": [...]}`, the
/// calendar optional.
#[derive(Deserialize)]
pub(super) struct CatalogueData {
    #[serde(default)]
    pub(super) calendar: Calendar,
    pub(super) categories: Vec<Category>,
}

impl From<CatalogueData> for Catalogue {
    fn from(data: CatalogueData) -> Catalogue {
        Catalogue::new(data.categories).with_calendar(data.calendar)
    }
}

impl Catalogue {
    /// Builds a catalogue, indexing it by code (where codes repeat, the first wins; use
    /// [`Catalogue::try_new`] to refuse that).
    pub fn new(categories: Vec<Category>) -> Catalogue {
        let mut index = HashMap::with_capacity(categories.len());
        for (i, c) in categories.iter().enumerate() {
            index.entry(c.code.clone()).or_insert(i);
        }
        Catalogue {
            calendar: Calendar::default(),
            categories,
            index,
            source: MEMORY.to_string(),
        }
    }

    /// The same catalogue with another working calendar.
    pub fn with_calendar(mut self, calendar: Calendar) -> Catalogue {
        self.calendar = calendar;
        self
    }

    /// When a case of category `code` raised at `start` (ms since the epoch) is due: its
    /// limit counted on its clock in this catalogue's calendar. `None` for an unknown code.
    pub fn deadline(&self, code: &str, start: i64) -> Option<i64> {
        let c = self.get(code)?;
        Some(self.calendar.add_hours(start, c.limit_hours, c.clock))
    }

    /// The category with this code.
    pub fn get(&self, code: &str) -> Option<&Category> {
        self.index.get(code).map(|&i| &self.categories[i])
    }

    /// The number of small categories.
    pub fn len(&self) -> usize {
        self.categories.len()
    }

    /// True when the catalogue has no categories.
    pub fn is_empty(&self) -> bool {
        self.categories.is_empty()
    }

    /// The categories of one kind, in catalogue order.
    pub fn of_kind(&self, kind: CategoryKind) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(move |c| c.kind == kind)
    }

    /// The big categories of one kind as `(big_code, big_name)`, each once, in catalogue
    /// order (the first level of a category picker).
    pub fn big_categories(&self, kind: CategoryKind) -> Vec<(&str, &str)> {
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for c in self.of_kind(kind) {
            if !seen.iter().any(|&(code, _)| code == c.big_code) {
                seen.push((&c.big_code, &c.big_name));
            }
        }
        seen
    }

    /// The small categories of one big category, in catalogue order (the second level of a
    /// category picker).
    pub fn in_big(&self, big_code: &str) -> impl Iterator<Item = &Category> {
        self.categories
            .iter()
            .filter(move |c| c.big_code == big_code)
    }
}

impl PartialEq for Catalogue {
    /// Two catalogues are equal when they hold the same categories in the same order and the
    /// same calendar, wherever they were loaded from.
    fn eq(&self, other: &Catalogue) -> bool {
        self.categories == other.categories && self.calendar == other.calendar
    }
}
