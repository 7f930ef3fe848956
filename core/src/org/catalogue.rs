//! The category catalogue: what can be reported, at which level it is handled, how long it may
//! take and which department answers for it (GB/T 30428 / CJ/T 214 shape, plus grid duties).

use super::Level;
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
    /// The time limit from report to resolution, in hours.
    pub limit_hours: u32,
    /// The department that answers for it when dispatched, if any.
    pub department: Option<String>,
}

/// The whole catalogue, indexed by code.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Catalogue {
    /// Every small category.
    pub categories: Vec<Category>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl Catalogue {
    /// Builds a catalogue, indexing it by code.
    pub fn new(categories: Vec<Category>) -> Catalogue {
        let index = categories
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.clone(), i))
            .collect();
        Catalogue { categories, index }
    }

    /// The category with this code.
    pub fn get(&self, code: &str) -> Option<&Category> {
        self.index.get(code).map(|&i| &self.categories[i])
    }
}

impl Catalogue {
    /// Parses a catalogue from JSON text; `file` names it in errors.
    pub fn from_json(file: &str, text: &str) -> Result<Catalogue, super::OrgError> {
        let c: Catalogue = serde_json::from_str(text).map_err(|e| super::OrgError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        Ok(Catalogue::new(c.categories))
    }
}
