//! TEMPORARY STUB (map part, branch wip-map): the case index's contract names only, so that
//! the map compiles and its tests run before the case index part lands. The integrator drops
//! this file for the real one. [`pins`] returns no pin.

use crate::error::ServerError;
use crate::storage::Tx;
use xiangying_model::sync::scope::ReadScope;

/// One case as the desk lists it (contract fields).
#[derive(Debug, Clone, PartialEq)]
pub struct DeskCase {
    /// Case id.
    pub case_id: String,
    /// Human number.
    pub number: Option<String>,
    /// Status (`Status::as_str`).
    pub status: String,
    /// Status in Chinese.
    pub status_label: String,
    /// Level (`Level::as_str`).
    pub level: String,
    /// Category code.
    pub category: String,
    /// Category in Chinese.
    pub category_label: String,
    /// Grid id.
    pub grid: String,
    /// Community id.
    pub community: String,
    /// Reporter's person id.
    pub reporter: String,
    /// Who holds it, in words.
    pub assignee_label: String,
    /// Departments it is dispatched to.
    pub departments: Vec<String>,
    /// Deadline, ms.
    pub deadline: Option<i64>,
    /// Past its deadline and still open.
    pub overdue: bool,
    /// Reported at, ms.
    pub created_at: i64,
    /// Last changed at, ms.
    pub updated_at: i64,
    /// Closed at, ms.
    pub closed_at: Option<i64>,
    /// Latitude (WGS-84).
    pub lat: Option<f64>,
    /// Longitude (WGS-84).
    pub lon: Option<f64>,
    /// A line of its description.
    pub summary: String,
}

/// Filters of a case listing (contract: all optional, plus sort and page).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseQuery {
    /// Community id.
    pub community: Option<String>,
    /// Grid id.
    pub grid: Option<String>,
    /// Statuses (`Status::as_str`); empty: any.
    pub statuses: Vec<String>,
    /// Category code.
    pub category: Option<String>,
    /// Only overdue cases.
    pub overdue: bool,
    /// Reported at or after, ms.
    pub from: Option<i64>,
    /// Reported before, ms.
    pub to: Option<i64>,
    /// Sort key.
    pub sort: Option<String>,
    /// Page, from 1.
    pub page: Option<u32>,
}

/// A page of cases and how many match.
#[derive(Debug, Clone, Default)]
pub struct CaseList {
    /// The rows.
    pub rows: Vec<DeskCase>,
    /// How many match in all.
    pub total: u64,
}

/// Stub: no case.
pub fn list(
    _tx: &mut dyn Tx,
    _scope: &ReadScope,
    _q: &CaseQuery,
    _now: i64,
) -> Result<CaseList, ServerError> {
    Ok(CaseList::default())
}

/// Stub: no pin.
pub fn pins(
    _tx: &mut dyn Tx,
    _scope: &ReadScope,
    _q: &CaseQuery,
    _now: i64,
    _max: usize,
) -> Result<Vec<DeskCase>, ServerError> {
    Ok(Vec::new())
}
