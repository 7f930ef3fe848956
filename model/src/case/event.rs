//! Events: the append-only history of a case. Every action anybody takes on a case is one
//! [`Event`], recorded with the author's role and scope as they were when the action was taken
//! (a [`Claim`]), so that the fold never depends on the roster version a device holds.

use crate::org::{Level, Role, Scope};
use serde::{Deserialize, Serialize};

/// Who acted, as they were when they acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The person's id in the roster.
    pub person: String,
    /// The role they held.
    pub role: Role,
    /// The scope of that role.
    pub scope: Scope,
}

/// The author of an event: a person (with their claim) or a sync server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Author {
    /// A person acting through their device.
    Person(Claim),
    /// A sync server instance (case numbers, voids of unauthorised events).
    Server {
        /// Which server instance wrote it.
        instance: String,
    },
}

impl Author {
    /// The person's id, or `None` for the server.
    pub fn person(&self) -> Option<&str> {
        match self {
            Author::Person(c) => Some(&c.person),
            Author::Server { .. } => None,
        }
    }
}

/// Who a case waits on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Assignee {
    /// One person.
    Person(String),
    /// The sub-district grid centre: any of its staff.
    Center,
    /// One or more departments (several for joint enforcement).
    Departments(Vec<String>),
    /// The volunteers of a community, until one of them claims the request.
    Volunteers(String),
}

/// What was done. Payloads carry what the fold needs; free text is for people.
///
/// Read tolerantly: an action whose `type` this build does not know (written by a newer
/// layout) reads as [`Action::Unknown`] with its JSON kept byte for byte; a known type with an
/// invalid payload is an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// The case was raised (always the first event). `assignee` is who holds it first, chosen
    /// by the reporter's device from its roster copy.
    Reported {
        /// Who holds the case after the report.
        assignee: Assignee,
    },
    /// A street chief or grid worker settled it on the spot (自行处置), with after photos.
    HandledOnSpot {
        /// What was done.
        note: String,
        /// SHA-256 of the after photos.
        photos: Vec<String>,
    },
    /// Sent on to another person (a street chief or informant to the grid worker of the place).
    Forwarded {
        /// The receiver's person id.
        to: String,
        /// Why, or what to look at.
        note: String,
    },
    /// The assignee took the case on.
    Accepted,
    /// Sent up one level (grid → community → street).
    Escalated {
        /// The level it goes to.
        to_level: Level,
        /// Who holds it there.
        to: Assignee,
        /// Why it cannot be settled at this level.
        reason: String,
    },
    /// The centre sent it to one department, or to several for joint enforcement.
    Dispatched {
        /// The departments' ids.
        departments: Vec<String>,
        /// Instructions.
        note: String,
    },
    /// A community chief published a resident request to the community's volunteers.
    DispatchedToVolunteers {
        /// Instructions.
        note: String,
    },
    /// A volunteer took a dispatched request.
    Claimed,
    /// A remark that changes nothing.
    Note {
        /// The text.
        text: String,
    },
    /// The handler reports the work done, with evidence.
    Resolved {
        /// What was done.
        note: String,
        /// SHA-256 of the evidence photos.
        photos: Vec<String>,
    },
    /// The reporter's side confirms the work.
    Verified {
        /// Remarks.
        note: String,
    },
    /// The reporter's side sends it back.
    Reworked {
        /// What is still wrong.
        reason: String,
    },
    /// The deadline was moved.
    Extended {
        /// Hours added to the deadline, on the case's clock (working or natural hours).
        hours: u32,
        /// Why.
        reason: String,
        /// The new deadline, ms since the epoch, computed by the extending device: the
        /// deadline it saw plus `hours` in its calendar. `None` in events made before
        /// deadlines were recorded (the fold then adds `hours` natural hours).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<i64>,
    },
    /// Closed after verification.
    Closed {
        /// Remarks.
        note: String,
    },
    /// Withdrawn as invalid (a mistaken report).
    Voided {
        /// Why.
        reason: String,
    },
    /// The same problem as another case, which carries on.
    MarkedDuplicate {
        /// The other case's id.
        of: String,
    },
    /// The server found an event unauthorised against its roster and voids it.
    ServerVoid {
        /// The voided event's id.
        event: String,
        /// Why.
        reason: String,
    },
    /// An action of a type this build does not know, written by a newer layout: shown, kept,
    /// counted nowhere.
    #[serde(skip)]
    Unknown {
        /// Its `type`.
        type_name: String,
        /// The action's JSON as written.
        raw: String,
    },
}

/// The `type` of every action this build knows (an action of another type is
/// [`Action::Unknown`]).
pub const ACTION_TYPES: &[&str] = &[
    "reported",
    "handled_on_spot",
    "forwarded",
    "accepted",
    "escalated",
    "dispatched",
    "dispatched_to_volunteers",
    "claimed",
    "note",
    "resolved",
    "verified",
    "reworked",
    "extended",
    "closed",
    "voided",
    "marked_duplicate",
    "server_void",
];

crate::case::tolerant::tolerant_serde!(Action, ACTION_TYPES);

impl Action {
    /// The stable name of the action, as used in messages and documents.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Reported { .. } => "report",
            Action::HandledOnSpot { .. } => "handle on the spot",
            Action::Forwarded { .. } => "forward",
            Action::Accepted => "accept",
            Action::Escalated { .. } => "escalate",
            Action::Dispatched { .. } => "dispatch",
            Action::DispatchedToVolunteers { .. } => "dispatch to volunteers",
            Action::Claimed => "claim",
            Action::Note { .. } => "note",
            Action::Resolved { .. } => "resolve",
            Action::Verified { .. } => "verify",
            Action::Reworked { .. } => "rework",
            Action::Extended { .. } => "extend",
            Action::Closed { .. } => "close",
            Action::Voided { .. } => "void",
            Action::MarkedDuplicate { .. } => "mark duplicate",
            Action::ServerVoid { .. } => "server void",
            Action::Unknown { .. } => "unknown",
        }
    }
}

/// One entry of a case's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// A UUIDv7, unique across all cases.
    pub id: String,
    /// The author's device wall clock when the work was done, in milliseconds since the epoch.
    pub at: i64,
    /// Who did it.
    pub by: Author,
    /// What they did.
    pub action: Action,
}

impl Event {
    /// A new event by a person, with a fresh id.
    pub fn new(at: i64, claim: Claim, action: Action) -> Event {
        Event {
            id: uuid::Uuid::now_v7().to_string(),
            at,
            by: Author::Person(claim),
            action,
        }
    }
}
