//! The immutable facts of a case and its photo references.

use crate::org::{LimitClock, Point};
use serde::{Deserialize, Serialize};

/// A problem report (问题上报) or a resident request (群众点单).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// A problem seen on patrol.
    Problem,
    /// A resident's request, dispatched by the community to volunteers.
    Request,
}

impl CaseKind {
    /// The stable identifier used in documents and index tables.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Problem => "problem",
            CaseKind::Request => "request",
        }
    }

    /// Parses [`CaseKind::as_str`] back.
    pub fn parse(s: &str) -> Option<CaseKind> {
        match s {
            "problem" => Some(CaseKind::Problem),
            "request" => Some(CaseKind::Request),
            _ => None,
        }
    }
}

/// What never changes once a case is raised. The category's name, time limit and clock are
/// copied from the catalogue at report time, and the deadline is computed then with the
/// reporting device's calendar, so the fold never depends on the catalogue version.
///
/// `clock` and `deadline` are absent (`None`) in documents made before deadlines were
/// recorded; the fold then counts the limit in natural hours from `created_at`, as it always
/// did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// The case id, a UUIDv7 made on the reporting device.
    pub id: String,
    /// Problem or request.
    pub kind: CaseKind,
    /// The small category code.
    pub category: String,
    /// The category's Chinese name, as the catalogue had it.
    pub category_name: String,
    /// The category's time limit in hours, as the catalogue had it.
    pub limit_hours: u32,
    /// How the limit counts (working or natural hours), as the catalogue had it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<LimitClock>,
    /// When it must be resolved by, ms since the epoch, before any extension: `created_at`
    /// plus the limit on its clock in the reporting device's calendar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<i64>,
    /// The reporter's person id.
    pub reporter: String,
    /// When it was raised, device wall clock, ms since the epoch.
    pub created_at: i64,
    /// Where.
    pub location: Point,
    /// The grid it lies in.
    pub grid: String,
    /// The community of that grid.
    pub community: String,
    /// The road segment, when reported on one.
    pub segment: Option<String>,
    /// The reporter's words.
    pub description: String,
}

/// Which moment a photo shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoStage {
    /// The problem as found.
    Before,
    /// The place after the work.
    After,
    /// Other evidence (a document, a signed form).
    Evidence,
}

impl PhotoStage {
    /// The stable identifier used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoStage::Before => "before",
            PhotoStage::After => "after",
            PhotoStage::Evidence => "evidence",
        }
    }

    /// Parses [`PhotoStage::as_str`] back.
    pub fn parse(s: &str) -> Option<PhotoStage> {
        match s {
            "before" => Some(PhotoStage::Before),
            "after" => Some(PhotoStage::After),
            "evidence" => Some(PhotoStage::Evidence),
            _ => None,
        }
    }
}

/// A photo attached to a case. The bytes live outside the document, named by their hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoRef {
    /// Lowercase hex SHA-256 of the processed photo's bytes.
    pub hash: String,
    /// Lowercase hex SHA-256 of its thumbnail's bytes.
    pub thumb: String,
    /// Before, after or evidence.
    pub stage: PhotoStage,
    /// Size of the processed photo in bytes.
    pub bytes: u64,
    /// When it was taken, ms since the epoch, if known: the camera API's record when the app
    /// passed one, else the photo's EXIF.
    pub captured_at: Option<i64>,
    /// Where it was taken, WGS-84, if known: the camera API's record (converted from its
    /// datum) when the app passed one, else the EXIF GPS position. Absent from references
    /// written before it existed, and left out of the JSON when unknown, so such references
    /// keep their bytes; older builds ignore the field (decision 0031).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Point>,
    /// Who attached it.
    pub added_by: String,
    /// When it was attached, device wall clock, ms since the epoch.
    pub added_at: i64,
}
