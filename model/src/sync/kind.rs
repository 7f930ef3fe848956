//! A kind of synced document, as the sync sees it: what the server does with a push to one
//! (judge it, void what the roster does not back, index it), and what the server lends a kind
//! while it does ([`Host`]). Cases and patrols are the two built-in kinds ([`super::kinds`]).
//! A new kind (a notice, a meeting record) is one module implementing
//! [`crate::document::Document`] and [`SyncedKind`], plus a line in
//! [`super::synced::BUILT_IN`] (or a [`super::synced::register`] call, for a kind defined
//! outside this crate); the store, the outbox, the push, the feed and the phone's apply then
//! handle it like the others (`docs/decisions/0026-document-kinds.md`).

use super::judge::{Judging, Tamper};
use super::keys::AccessKey;
use crate::case::{Author, Claim};
use crate::document::{DocError, Document};
use crate::ids::PhotoHash;
use crate::org::Roster;
use crate::report::RankingRow;

/// A kind of synced document: a [`Document`] the server knows how to accept.
pub trait SyncedKind: Document {
    /// Whether a document whose root `kind` key holds `kind` (`None` when it has none) is of
    /// this kind. Cases, the first kind, take every document no other kind recognises.
    fn recognises(kind: Option<&str>) -> bool;

    /// The lengths of the document's lists that the server bounds.
    fn list_lengths(&self) -> Vec<(ListBound, usize)>;

    /// Judges a device's push (`before` is the server's copy, `None` for a document new to
    /// it), voids what the roster does not back, writes what the server writes on first sight
    /// (a case number), and says how to index the document.
    fn accept(
        before: Option<&mut Self>,
        after: &mut Self,
        host: &mut dyn Host,
    ) -> Result<Accepted, Refused>;
}

/// A list bound the server's limits set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListBound {
    /// Events of a case, entries of a patrol's log, entries of any kind's history.
    Entries,
    /// Photo references of a case.
    Photos,
    /// Chunks of a patrol's track.
    TrackChunks,
}

/// What the server lends a kind while it accepts a push: the judging, the roster, its clock
/// and name, and the numbering sequences of its storage.
pub trait Host {
    /// How the push is judged (who pushed it, what may pass).
    fn judging(&self) -> Judging<'_>;
    /// The server's roster.
    fn roster(&self) -> &Roster;
    /// Server clock, ms since the epoch.
    fn now(&self) -> i64;
    /// This server instance's name, recorded on its events.
    fn instance(&self) -> &str;
    /// The next number of a sequence under `key`, from 1.
    fn next_number(&mut self, key: &str) -> Result<u64, HostError>;
    /// Makes sure the sequence under `key` hands out numbers above `taken`.
    fn number_taken(&mut self, key: &str, taken: u64) -> Result<(), HostError>;
}

/// An error of the host's storage, kept whole for the server to report.
pub type HostError = Box<dyn std::error::Error + Send + Sync>;

/// Why a push to a document was not accepted.
#[derive(Debug)]
pub enum Refused {
    /// The push breaks the rules of the document: the device is quarantined.
    Tamper(Tamper),
    /// The document cannot be read: a bad request.
    Malformed(Box<DocError>),
    /// The server failed to write its own change (a void, a number).
    Internal(Box<DocError>),
    /// The host's storage failed.
    Host(HostError),
}

impl Refused {
    /// The document cannot be read ([`Refused::Malformed`]).
    pub fn malformed(e: DocError) -> Refused {
        Refused::Malformed(Box::new(e))
    }

    /// The server failed to write its own change ([`Refused::Internal`]).
    pub fn internal(e: DocError) -> Refused {
        Refused::Internal(Box::new(e))
    }
}

impl From<Tamper> for Refused {
    fn from(t: Tamper) -> Refused {
        Refused::Tamper(t)
    }
}

/// What the server indexes of an accepted document.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The listing and ranking columns.
    pub index: IndexRow,
    /// The access keys the document is read through ([`super::scope`]).
    pub access: Vec<AccessKey>,
    /// The photo files (and thumbnails) it references, by hash.
    pub photos: Vec<PhotoHash>,
    /// For a case, its facts and the state they fold to, as judged: the server's other
    /// indexes (the desk's) take them from here instead of reading and folding the
    /// document again.
    pub case: Option<Box<(crate::case::Facts, crate::case::CaseState)>>,
}

/// The columns the server lists and ranks a document by.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRow {
    /// Human number, for kinds that have one.
    pub number: Option<String>,
    /// Status, as the kind spells it.
    pub status: String,
    /// Level (cases), or the kind's name.
    pub level: String,
    /// Grid ("" when the document has none).
    pub grid: String,
    /// Community.
    pub community: String,
    /// Who made it.
    pub reporter: String,
    /// Category code (cases), or the kind's name.
    pub category: String,
    /// Made at (ms, device clock).
    pub created_at: i64,
    /// What it contributes to the rankings, if anything.
    pub ranking: Option<RankingRow>,
}

impl IndexRow {
    /// The row of a document of kind `kind` made by `reporter` at `created_at`, with no
    /// number, status, place or ranking: a kind fills in what it has.
    pub fn of_kind(kind: &str, reporter: &str, created_at: i64) -> IndexRow {
        IndexRow {
            number: None,
            status: String::new(),
            level: kind.to_string(),
            grid: String::new(),
            community: String::new(),
            reporter: reporter.to_string(),
            category: kind.to_string(),
            created_at,
            ranking: None,
        }
    }
}

/// The person's current claim in a roster.
pub fn claim_of(roster: &Roster, person: &str) -> Option<Claim> {
    roster.person(person).map(|p| Claim {
        person: p.id.clone(),
        role: p.role,
        scope: p.scope.clone(),
    })
}

/// The reason for voiding an entry whose claim the host's roster does not back now, if it
/// does not.
pub fn stale_claim(host: &dyn Host, claim: &Claim) -> Option<String> {
    let current = claim_of(host.roster(), &claim.person);
    if current.as_ref() == Some(claim) {
        return None;
    }
    Some(match &current {
        Some(c) => format!(
            "{} acted as {} of {:?}, but the roster has them as {} of {:?}",
            claim.person,
            claim.role.as_str(),
            claim.scope,
            c.role.as_str(),
            c.scope
        ),
        None => format!("{} is not in the roster", claim.person),
    })
}

/// The author of the server's own entries.
pub fn server_author(host: &dyn Host) -> Author {
    Author::Server {
        instance: host.instance().to_string(),
    }
}
