//! Patrols (巡查): a grid worker walking their grid or a street chief walking their segment,
//! with the track the phone recorded and who walked along (三陪同: a sub-district official, an
//! enforcement department, a grid worker with a street chief).
//!
//! A patrol is a second kind of synced document beside the case: one automerge document per
//! patrol ([`PatrolDoc`]), stored, pushed and pulled exactly like a case, with its own
//! structural check on the server ([`crate::sync::patrol_judge`]). Its state is a fold over its
//! log ([`fold_patrol`]); the track is packed in chunks ([`track`]).
//!
//! - [`track`]: location fixes and their compact chunk encoding;
//! - `doc`: the patrol document's layout;
//! - `fold`: the patrol's state from its log and track;
//! - [`weekly`]: the weekly accompaniment count against the "≥ 2 a week" rule.

mod doc;
mod fold;
pub mod track;
pub mod weekly;

pub use doc::PatrolDoc;
pub use fold::{Companion, PatrolState, fold_patrol};
pub use track::TrackPoint;

use crate::case::{Author, Claim};
use crate::org::Role;
use serde::{Deserialize, Serialize};

/// The value of the root `kind` key of a patrol document.
pub const PATROL_KIND: &str = "patrol";

/// Where a patrol goes: a grid (grid workers) or a road segment (street chiefs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum PatrolPlace {
    /// A grid, by id.
    Grid(String),
    /// A road segment, by id.
    Segment(String),
}

impl PatrolPlace {
    /// The place's id.
    pub fn id(&self) -> &str {
        match self {
            PatrolPlace::Grid(g) | PatrolPlace::Segment(g) => g,
        }
    }

    /// `grid` or `segment`.
    pub fn kind_str(&self) -> &'static str {
        match self {
            PatrolPlace::Grid(_) => "grid",
            PatrolPlace::Segment(_) => "segment",
        }
    }
}

/// What never changes once a patrol has started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolFacts {
    /// The patrol id, a UUIDv7 made on the walker's device.
    pub id: String,
    /// Who walks it, with their role and scope when they started (like an event's claim).
    pub walker: Claim,
    /// Where.
    pub place: PatrolPlace,
    /// The community the place belongs to (for scope and rankings).
    pub community: String,
    /// When it started, device clock, ms since the epoch.
    pub started_at: i64,
}

/// One entry of a patrol's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolEvent {
    /// A UUIDv7.
    pub id: String,
    /// Device wall clock when it happened, ms since the epoch.
    pub at: i64,
    /// Who wrote it: the walker, or a server instance.
    pub by: Author,
    /// What happened.
    pub action: PatrolAction,
}

impl PatrolEvent {
    /// A new entry by a person, with a fresh id.
    pub fn new(at: i64, claim: Claim, action: PatrolAction) -> PatrolEvent {
        PatrolEvent {
            id: uuid::Uuid::now_v7().to_string(),
            at,
            by: Author::Person(claim),
            action,
        }
    }
}

/// What a patrol log entry records.
///
/// Read tolerantly, like case actions: an entry of a `type` this build does not know reads as
/// [`PatrolAction::Unknown`] with its JSON kept byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "snake_case", tag = "type")]
pub enum PatrolAction {
    /// Somebody walked along (三陪同), with their role and scope as the walker's roster copy
    /// had them.
    Accompanied {
        /// The companion.
        companion: Claim,
    },
    /// The walker ended the patrol.
    Ended,
    /// The companion named in an accompaniment confirms, from their own device, that they
    /// walked along. Only they may write it; an accompaniment without it counts as
    /// unconfirmed.
    Confirmed {
        /// The id of the `Accompanied` entry that names them.
        accompaniment: String,
    },
    /// A server voided an entry (or, when `event` is the patrol id, the whole patrol) because
    /// its roster does not back the claim.
    ServerVoid {
        /// The voided entry's id, or the patrol's id.
        event: String,
        /// Why.
        reason: String,
    },
    /// An entry of a type this build does not know, written by a newer layout: shown, kept,
    /// counted nowhere.
    #[serde(skip)]
    Unknown {
        /// Its `type`.
        type_name: String,
        /// The entry's JSON as written.
        raw: String,
    },
}

/// The `type` of every patrol log entry this build knows.
pub const PATROL_ACTION_TYPES: &[&str] = &["accompanied", "ended", "confirmed", "server_void"];

crate::case::tolerant::tolerant_serde!(PatrolAction, PATROL_ACTION_TYPES);

/// The three kinds of accompaniment (三陪同) a patrol can record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanionKind {
    /// A sub-district official (街道干部陪同网格员, ≥ 2 a week).
    Official,
    /// Enforcement department staff (驻街部门陪同).
    Department,
    /// A grid worker with a street chief (网格员陪同街长, daily).
    GridWorker,
}

impl CompanionKind {
    /// The kind of accompaniment a person in `role` gives; `None` for roles that do not
    /// accompany patrols.
    pub fn of(role: Role) -> Option<CompanionKind> {
        match role {
            Role::StreetOfficial => Some(CompanionKind::Official),
            Role::DepartmentStaff => Some(CompanionKind::Department),
            Role::GridWorker => Some(CompanionKind::GridWorker),
            Role::StreetCenter
            | Role::CommunityChief
            | Role::GridInformant
            | Role::PartyStreetChief
            | Role::MerchantStreetChief
            | Role::Volunteer
            | Role::Resident => None,
        }
    }

    /// The stable identifier (`official`, `department`, `grid_worker`).
    pub fn as_str(self) -> &'static str {
        match self {
            CompanionKind::Official => "official",
            CompanionKind::Department => "department",
            CompanionKind::GridWorker => "grid_worker",
        }
    }
}

/// A patrol document's facts and folded state.
pub fn fold_patrol_doc(
    doc: &PatrolDoc,
) -> Result<(PatrolFacts, PatrolState), crate::case::DocError> {
    let facts = doc.facts()?;
    let events = doc.events()?;
    let track = doc.track()?;
    let state = fold_patrol(&facts, &events, &track);
    Ok((facts, state))
}

/// A patrol's facts and state folded from its log alone, without decoding its track: what the
/// rankings and the weekly count need. The state's `points`, `distance_m` and `last_fix_at`
/// are left empty.
pub fn fold_patrol_log(
    doc: &PatrolDoc,
) -> Result<(PatrolFacts, PatrolState), crate::case::DocError> {
    let facts = doc.facts()?;
    let events = doc.events()?;
    let state = fold_patrol(&facts, &events, &[]);
    Ok((facts, state))
}
