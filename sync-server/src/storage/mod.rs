//! Storage behind a few traits, with two real backends: SQLite (the embedded default: a data
//! folder, nothing to set up) and PostgreSQL (several stateless server instances over one
//! database).
//!
//! The sync logic ([`crate::sync`]) runs inside [`Storage::transact`] against the [`Tx`]
//! trait, so both backends share it. A transaction either commits whole or not at all. `Tx` is
//! the sum of one trait per concern ([`OrgTx`], [`EnrolTx`], [`DeviceTx`],
//! [`DeviceStatusTx`], [`DocTx`], [`FeedTx`], [`PhotoTx`], [`MetaTx`], [`DeskAuthTx`],
//! [`DeskIndexTx`]; decision 0024): a function that needs one concern takes that trait, and
//! each backend implements each concern in a module of its own.
//!
//! Feed positions are handed out by [`FeedTx::allocate_positions`], which both backends implement
//! with a counter row updated inside the writing transaction: the row stays locked until
//! commit, so positions become visible in the order they were handed out and a reader that
//! stops at [`FeedTx::max_position`] never skips a change that commits late.

pub mod desk_index;
pub mod meta;
pub mod migrations;
pub mod postgres;
pub mod sqlite;

use crate::error::{ServerError, StorageError};
pub use desk_index::DeskIndexTx;
pub use meta::StoreIdentity;
pub use migrations::Migrated;
use xiangying_model::ids::{ActorHex, DeviceId, DocId, PersonId, PhotoHash};
use xiangying_model::sync::keys::AccessKey;

/// Shorthand.
pub type Result<T> = std::result::Result<T, ServerError>;

/// The published roster and catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRow {
    /// Bumped on every publication.
    pub version: u64,
    /// Roster JSON.
    pub roster: String,
    /// Catalogue JSON.
    pub catalogue: String,
}

/// An enrolment code as stored (by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    /// The person it was issued for.
    pub person: PersonId,
    /// When it was issued (ms); it expires a configured time later.
    pub created_at: i64,
    /// When it was spent, if it was.
    pub used_at: Option<i64>,
}

/// A device that uploaded (or proved it holds) a photo file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoUploader {
    /// The device.
    pub device: DeviceId,
    /// Its person when it uploaded.
    pub person: PersonId,
}

/// Who uploaded a photo file whole: recorded once the file is stored, before the device is
/// told so. Written in groups (`photo_access::record_uploaders` through
/// [`crate::group_commit`]).
#[derive(Debug, Clone)]
pub struct NewUploader {
    /// The file.
    pub hash: PhotoHash,
    /// The device that uploaded it.
    pub device: DeviceId,
    /// Its person.
    pub person: PersonId,
    /// The file's length (towards the device's quota).
    pub bytes: u64,
    /// When (ms).
    pub at: i64,
    /// Whether the server held the file before this upload: a file held without uploaders is
    /// first given its legacy ones (`photo_access::adopt_legacy`).
    pub held_before: bool,
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// Random id.
    pub id: DeviceId,
    /// The person it belongs to.
    pub person: PersonId,
    /// A name the person gave it.
    pub name: String,
    /// SHA-256 of its bearer token, hex.
    pub token_hash: String,
    /// When it enrolled (ms).
    pub created_at: i64,
    /// Revoked devices get 401.
    pub revoked: bool,
    /// Why the device was quarantined for tampering, if it was.
    pub quarantined: Option<String>,
}

/// What a device last reported with a sync and what the server last refused it (table
/// `device_status`, decision 0041). `None` where nothing was reported (an old device, a
/// malformed header) or nothing refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceStatus {
    /// The device.
    pub device: DeviceId,
    /// Server clock at its last authenticated request (ms), kept to within a minute outside
    /// syncs.
    pub last_seen: i64,
    /// Its `xiangying-client` header (printable, bounded).
    pub app_version: Option<String>,
    /// Its outbox length when its last sync left.
    pub outbox: Option<u64>,
    /// The stable code of its last failed sync, as it reported it.
    pub last_error: Option<String>,
    /// Photo files its last sync could not send, their copy on the phone being missing or
    /// damaged (decision 0062); `None` when it reported none.
    pub photos_unreadable: Option<u64>,
    /// The stable code of the last refusal the server gave it, and when (ms).
    pub refusal: Option<(String, i64)>,
}

/// What a device reports with one sync request (read from its headers, already checked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Its `xiangying-client` header.
    pub app_version: Option<String>,
    /// Its outbox length.
    pub outbox: Option<u64>,
    /// Its last sync failure's code.
    pub last_error: Option<String>,
    /// Its photo files that cannot be sent.
    pub photos_unreadable: Option<u64>,
}

/// A case as the server stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    /// The whole document.
    pub snapshot: Vec<u8>,
    /// Its feed position (of its latest change).
    pub feed_pos: u64,
}

/// A stored document and its id, as [`DocTx::cases_after`] lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCase {
    /// The document's id (a case's or a patrol's).
    pub case_id: DocId,
    /// Its snapshot and feed position.
    pub row: CaseRow,
}

/// Index columns of a case, for listings and rankings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseMeta {
    /// Case id.
    pub case_id: DocId,
    /// Human number.
    pub number: Option<String>,
    /// Status (as `Status::as_str`).
    pub status: String,
    /// Level (as `Level::as_str`).
    pub level: String,
    /// Grid.
    pub grid: String,
    /// Community.
    pub community: String,
    /// Reporter.
    pub reporter: String,
    /// Category code.
    pub category: String,
    /// Raised at (ms, device clock).
    pub created_at: i64,
    /// Last change received (ms, server clock).
    pub received_at: i64,
    /// What the document contributes to the rankings (a postcard-encoded
    /// [`xiangying_model::report::RankingRow`]), `None` when it never counts.
    pub ranking: Option<Vec<u8>>,
}

/// A stored document's ranking row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankingEntry {
    /// The document.
    pub case_id: DocId,
    /// Its row, `None` when it never counts (or none was kept).
    pub row: Option<Vec<u8>>,
    /// False when the document was stored before rows were kept: fold it to know.
    pub kept: bool,
}

/// One change to store in the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChange {
    /// automerge change bytes.
    pub bytes: Vec<u8>,
    /// The device that pushed it, `None` for the server's own.
    pub device: Option<DeviceId>,
}

/// Which documents a feed read covers (see [`FeedTx::feed_cases`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedScope<'a> {
    /// Every stored document (a reader who may see everything, or the server itself).
    All,
    /// The documents visible through any of these access keys (none when it is empty).
    Keys(&'a [AccessKey]),
}

/// An access key read back from a store's `case_access` (text at the SQL boundary only); a
/// text that is not a key is a store the server cannot serve from, and says which text.
pub fn stored_access_key(text: &str) -> Result<AccessKey> {
    text.parse()
        .map_err(|e| StorageError::driver("reading case_access", e).into())
}

/// The published roster and catalogue (table `org`, one row).
///
/// Invariant: the version only grows; every publication bumps it by one, and 0 means nothing
/// was published yet.
pub trait OrgTx {
    /// The published roster and catalogue.
    fn org(&mut self) -> Result<Option<OrgRow>>;
    /// The published version (0 before the first publication), without the texts.
    fn org_version(&mut self) -> Result<u64>;
    /// Publishes a roster and catalogue; returns the new version.
    fn set_org(&mut self, roster: &str, catalogue: &str) -> Result<u64>;
}

/// One-time enrolment codes, stored by hash (table `codes`).
///
/// Invariant: a code is spent at most once ([`EnrolTx::take_code`] marks it used in the same
/// statement that reads it) and a spent code is never revoked or reused.
pub trait EnrolTx {
    /// Stores a one-time enrolment code (hashed) for a person.
    fn insert_code(&mut self, code_hash: &str, person: &PersonId, now: i64) -> Result<()>;
    /// Consumes an unused code: returns its person and marks it used, or `None`.
    fn take_code(&mut self, code_hash: &str, now: i64) -> Result<Option<PersonId>>;
    /// A code by hash, spent or not.
    fn code(&mut self, code_hash: &str) -> Result<Option<CodeRow>>;
    /// Revokes an unused code; false when there was none.
    fn revoke_code(&mut self, code_hash: &str) -> Result<bool>;
}

/// Enrolled devices and the automerge actor ids they write with (tables `devices`, `actors`).
///
/// Invariants: a token hash belongs to at most one device (a unique column); nothing here
/// un-revokes a device; an actor id's owner is the first device recorded for it and never
/// changes.
pub trait DeviceTx {
    /// Stores a newly enrolled device.
    fn insert_device(&mut self, device: &DeviceRow) -> Result<()>;
    /// The device holding a token (by hash).
    fn device_by_token(&mut self, token_hash: &str) -> Result<Option<DeviceRow>>;
    /// Every device.
    fn devices(&mut self) -> Result<Vec<DeviceRow>>;
    /// Revokes a device; false when unknown.
    fn revoke_device(&mut self, device_id: &DeviceId) -> Result<bool>;
    /// Quarantines a device for tampering.
    fn quarantine_device(&mut self, device_id: &DeviceId, reason: &str) -> Result<()>;
    /// The device that first wrote with an automerge actor id.
    fn actor_owner(&mut self, actor: &ActorHex) -> Result<Option<DeviceId>>;
    /// Records the device that writes with an actor id (the first one recorded stays).
    fn set_actor_owner(&mut self, actor: &ActorHex, device: &DeviceId) -> Result<()>;
}

/// Device status for the desk (table `device_status`, decision 0041): when each device was
/// last seen, what it reported with its last sync, the last refusal it got.
///
/// Invariant: a row only exists for a device that made an authenticated request; writes are
/// cheap (one upsert, and [`DeviceStatusTx::touch_device`] writes nothing unless last seen
/// moved by at least `step` ms).
pub trait DeviceStatusTx {
    /// Records that a device made an authenticated request at `now`, when its last seen is
    /// older than `now - step` (or unknown).
    fn touch_device(&mut self, device: &DeviceId, now: i64, step: i64) -> Result<()>;
    /// Records a sync request: last seen `now` and what the device reported (replacing what
    /// it reported before; `None` clears).
    fn record_sync(&mut self, device: &DeviceId, now: i64, report: &SyncReport) -> Result<()>;
    /// Records a refusal the server gave a device (its stable code) at `now`.
    fn record_refusal(&mut self, device: &DeviceId, code: &str, now: i64) -> Result<()>;
    /// Every device's status, by device id.
    fn device_statuses(&mut self) -> Result<Vec<DeviceStatus>>;
}

/// Stored documents (cases and patrols): their snapshots, index columns, ranking rows, access
/// keys and photo references, the case-number counters, and which device holds which document
/// whole (tables `cases`, `case_rankings`, `case_access`, `photo_refs`, `counters` for numbers,
/// `device_cases`).
///
/// Invariants: [`DocTx::save_case`] writes a document's snapshot, index columns, ranking row,
/// access keys, photo references and new changes together; access keys and photo references
/// are only ever added; a number handed out by [`DocTx::next_number`] is never handed out
/// again under its key; a device's holding of a document only moves to an earlier position.
pub trait DocTx {
    /// Loads a case and locks it against other writers until the transaction ends.
    fn lock_case(&mut self, case_id: &DocId) -> Result<Option<CaseRow>>;
    /// Reads a case without locking it.
    fn case(&mut self, case_id: &DocId) -> Result<Option<CaseRow>>;
    /// At most `limit` stored documents (cases and patrols) whose ids sort after `after`
    /// (the empty id for the first page), in id order: a reader pages through the whole store with
    /// bounded memory, each page in a transaction of its own.
    fn cases_after(&mut self, after: &DocId, limit: u32) -> Result<Vec<StoredCase>>;
    /// Stores a case's new snapshot, index columns (and ranking row), access keys and new
    /// changes at positions `first_pos..` (handed out by [`FeedTx::allocate_positions`]); the
    /// case's feed position becomes the last of them.
    fn save_case(
        &mut self,
        meta: &CaseMeta,
        snapshot: &[u8],
        changes: &[NewChange],
        first_pos: u64,
        access: &[AccessKey],
        photos: &[PhotoHash],
    ) -> Result<()>;
    /// A case's access keys, in the order of their text.
    fn access(&mut self, case_id: &DocId) -> Result<Vec<AccessKey>>;
    /// Every stored document's ranking row (see [`CaseMeta::ranking`]), by case id.
    fn ranking_rows(&mut self) -> Result<Vec<RankingEntry>>;
    /// The next sequence number under a key (case numbers per street and day), from 1.
    fn next_number(&mut self, key: &str) -> Result<u64>;
    /// Makes sure [`DocTx::next_number`] under `key` hands out numbers above `taken` (a
    /// number given before a restore, brought back by a re-delivery).
    fn number_taken(&mut self, key: &str, taken: u64) -> Result<()>;
    /// From which feed position a device holds a case whole (0: it wrote to it).
    fn device_case(&mut self, device: &DeviceId, case_id: &DocId) -> Result<Option<u64>>;
    /// Records that a device holds a case whole from `since` (an earlier record stays).
    fn set_device_case(&mut self, device: &DeviceId, case_id: &DocId, since: u64) -> Result<()>;
}

/// The change feed: handing out positions and reading the committed changes by position
/// (the `feed` counter and table `changes`).
///
/// Invariant (see the module doc): positions are unique and become visible in the order
/// they were handed out, so a reader that stops at [`FeedTx::max_position`] never skips a
/// change that commits late; committed change rows never change.
pub trait FeedTx {
    /// Hands out `n` consecutive feed positions (see the module doc); returns the first.
    fn allocate_positions(&mut self, n: u64) -> Result<u64>;
    /// The highest feed position handed out and committed.
    fn max_position(&mut self) -> Result<u64>;
    /// The cases in `scope` that have a change at a position in `(after, upto]`, each with
    /// the first such position, ordered by it, at most `limit`. Read from the change rows,
    /// which never change once committed, so the answer is the same whatever commits
    /// concurrently above `upto`. Because positions are unique, every change at a position up
    /// to the last listed first position belongs to a listed case: a reader may safely move
    /// its cursor there when it stops early.
    fn feed_cases(
        &mut self,
        scope: FeedScope<'_>,
        after: u64,
        upto: u64,
        limit: u32,
    ) -> Result<Vec<(DocId, u64)>>;
    /// A case's changes with positions in `(after, upto]` not pushed by `device`.
    fn changes_between(
        &mut self,
        case_id: &DocId,
        after: u64,
        upto: u64,
        exclude_device: &DeviceId,
    ) -> Result<Vec<Vec<u8>>>;
}

/// Who uploaded which photo file, and how many bytes each device uploaded (tables
/// `photo_uploaders`, `photo_refs` read by hash).
///
/// Invariant: an uploader is recorded once per file and device; a repeat changes nothing, so
/// a device's quota counts each file once.
pub trait PhotoTx {
    /// The cases that reference a photo hash.
    fn photo_cases(&mut self, hash: &PhotoHash) -> Result<Vec<DocId>>;
    /// Records that a device (of a person) uploaded a photo file of `bytes` bytes, or proved
    /// it holds it by uploading it whole; a repeat changes nothing.
    fn add_photo_uploader(
        &mut self,
        hash: &PhotoHash,
        device: &DeviceId,
        person: &PersonId,
        bytes: u64,
        now: i64,
    ) -> Result<()>;
    /// The devices that uploaded a photo file.
    fn photo_uploaders(&mut self, hash: &PhotoHash) -> Result<Vec<PhotoUploader>>;
    /// The bytes of the photo files a device uploaded (towards its quota).
    fn device_photo_bytes(&mut self, device: &DeviceId) -> Result<u64>;
}

/// The store as a whole: its `server_meta` values (identity, see [`meta`]) and its size.
///
/// Invariant: `store_id` is set once; only the identity code in [`meta`] writes `server_meta`.
pub trait MetaTx {
    /// A value of the store's `server_meta` (see [`meta`]).
    fn meta(&mut self, key: &str) -> Result<Option<String>>;
    /// Sets a value of the store's `server_meta`.
    fn set_meta(&mut self, key: &str, value: &str) -> Result<()>;
    /// How many cases, changes and devices there are.
    fn counts(&mut self) -> Result<(u64, u64, u64)>;
}

/// A desk session as stored (by the SHA-256 of its cookie's token; decision 0039).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskSessionRow {
    /// Who is signed in.
    pub person: PersonId,
    /// When the session was opened (ms): it ends a configured time later whatever happens.
    pub created_at: i64,
    /// When it was last used (ms): it ends a configured time after that.
    pub last_seen: i64,
    /// The browser's `User-Agent`, shortened, to tell sessions apart.
    pub user_agent: Option<String>,
}

/// Failed desk sign-ins in a row of one sign-in subject (a person, or a name no person has).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeskLockout {
    /// Failures in a row since the last success.
    pub failures: u32,
    /// Until when (ms) every attempt is refused (0: not locked).
    pub locked_until: i64,
}

/// Desk sign-in: passwords (argon2id PHC strings), sessions and one-time sign-in links by the
/// SHA-256 of their tokens, failure counts (tables `desk_passwords`, `desk_sessions`,
/// `desk_lockouts`, `desk_links`; decision 0039).
///
/// Invariants: no secret is stored in clear (a session or link is found by its token's hash);
/// a link is spent at most once ([`DeskAuthTx::take_desk_link`] marks it in the statement that
/// reads it); [`DeskAuthTx::add_desk_failure`] counts atomically, so concurrent failures are
/// all counted.
pub trait DeskAuthTx {
    /// A person's password hash (PHC string), if they have one.
    fn desk_password(&mut self, person: &PersonId) -> Result<Option<String>>;
    /// Sets (or replaces) a person's password hash.
    fn set_desk_password(&mut self, person: &PersonId, phc: &str, now: i64) -> Result<()>;
    /// Stores a new session.
    fn insert_desk_session(&mut self, token_hash: &str, row: &DeskSessionRow) -> Result<()>;
    /// A session by its token's hash.
    fn desk_session(&mut self, token_hash: &str) -> Result<Option<DeskSessionRow>>;
    /// Records that a session was used at `now`.
    fn touch_desk_session(&mut self, token_hash: &str, now: i64) -> Result<()>;
    /// Ends a session; false when there was none.
    fn delete_desk_session(&mut self, token_hash: &str) -> Result<bool>;
    /// Ends every session of a person; returns how many there were.
    fn delete_desk_sessions_of(&mut self, person: &PersonId) -> Result<u64>;
    /// Ends every session last used before `idle_before` or opened before `opened_before`;
    /// returns how many.
    fn delete_stale_desk_sessions(&mut self, idle_before: i64, opened_before: i64) -> Result<u64>;
    /// The failure count and lock of a sign-in subject (zeros when none is recorded).
    fn desk_lockout(&mut self, subject: &str) -> Result<DeskLockout>;
    /// Counts one more failure of a subject; returns the count now.
    fn add_desk_failure(&mut self, subject: &str) -> Result<u32>;
    /// Locks a subject until `until` (ms).
    fn lock_desk_subject(&mut self, subject: &str, until: i64) -> Result<()>;
    /// Forgets a subject's failures (a success).
    fn clear_desk_lockout(&mut self, subject: &str) -> Result<()>;
    /// Stores a one-time sign-in link (by its token's hash) for a person.
    fn insert_desk_link(&mut self, token_hash: &str, person: &PersonId, now: i64) -> Result<()>;
    /// Spends an unspent link created after `created_after`: returns its person and marks it
    /// used at `now`, or `None`.
    fn take_desk_link(
        &mut self,
        token_hash: &str,
        now: i64,
        created_after: i64,
    ) -> Result<Option<PersonId>>;
}

/// Everything a transaction offers: the concerns together. The sync logic, the API, the admin
/// commands, backup and export take `&mut dyn Tx`; a function that needs one concern only may
/// take the narrower trait. Every type that implements all the concerns is a `Tx`.
pub trait Tx:
    OrgTx
    + EnrolTx
    + DeviceTx
    + DeviceStatusTx
    + DocTx
    + FeedTx
    + PhotoTx
    + MetaTx
    + DeskAuthTx
    + DeskIndexTx
{
}

impl<
    T: OrgTx
        + EnrolTx
        + DeviceTx
        + DeviceStatusTx
        + DocTx
        + FeedTx
        + PhotoTx
        + MetaTx
        + DeskAuthTx
        + DeskIndexTx
        + ?Sized,
> Tx for T
{
}

/// A storage backend: runs closures in transactions.
pub trait Storage: Send + Sync + 'static {
    /// Runs `f` in a transaction; commits when it returns `Ok`, rolls back otherwise.
    fn transact(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// A short name for logs: `sqlite` or `postgres`.
    fn kind(&self) -> &'static str;
    /// The store's identity as read when it was opened (after migrating it).
    fn identity(&self) -> &StoreIdentity;
    /// What migrating the store did when it was opened.
    fn migrated(&self) -> Migrated;
    /// Rings `wake` whenever another server instance over the same store commits a document
    /// write (the wake-up channel across instances). Nothing to do for a store only this
    /// process writes: the instance rings for its own writes.
    fn watch_feed(&self, _wake: std::sync::Weak<crate::wake::Wake>) -> Result<()> {
        Ok(())
    }
    /// Whether the storage answers, without waiting behind writers where the backend allows
    /// (the health check uses it).
    fn ping(&self) -> Result<()> {
        self.transact(&mut |tx| tx.org_version().map(|_| ()))
    }
}

/// Runs `f` in a transaction and returns its value; the time it took (committed or not) goes to
/// `xiangying_store_transaction_duration_seconds` ([`crate::metrics`]).
pub fn with_tx<T>(storage: &dyn Storage, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
    let mut out = None;
    let started = std::time::Instant::now();
    let done = storage.transact(&mut |tx| {
        out = Some(f(tx)?);
        Ok(())
    });
    crate::metrics::store_transaction(storage.kind(), started.elapsed());
    done?;
    out.ok_or_else(|| ServerError::Internal("transaction returned nothing".into()))
}

#[cfg(test)]
mod tests {
    use super::sqlite::SqliteStorage;
    use super::*;

    /// Publishes through the narrow trait only.
    fn publish(tx: &mut dyn OrgTx) -> Result<u64> {
        tx.set_org("{}", "{}")
    }

    /// Reads through the narrow trait only.
    fn epoch(tx: &mut dyn MetaTx) -> Result<Option<String>> {
        tx.meta(meta::EPOCH)
    }

    #[test]
    fn narrow_traits_work_on_the_umbrella_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        let (version, seen, epoch) = with_tx(&storage, |tx| {
            let version = publish(tx)?;
            let seen = tx.org_version()?;
            Ok((version, seen, epoch(tx)?))
        })
        .unwrap();
        assert_eq!((version, seen), (1, 1));
        assert_eq!(epoch.as_deref(), Some(storage.identity().epoch.as_str()));
        // What a narrow-trait function wrote is committed with the transaction.
        assert_eq!(with_tx(&storage, |tx| tx.org_version()).unwrap(), 1);
    }

    #[test]
    fn a_stored_access_key_that_is_not_one_is_an_error_naming_it() {
        assert_eq!(
            stored_access_key("grid:g1").unwrap(),
            AccessKey::Grid("g1".into())
        );
        let err = stored_access_key("gird:g1").unwrap_err();
        assert!(matches!(err, ServerError::Storage(_)), "{err:?}");
        let text = crate::error::chain(&err);
        assert!(
            text.contains("case_access") && text.contains("\"gird:g1\""),
            "{text}"
        );
    }

    /// The index columns of a reported case in `grid`.
    fn test_meta(case_id: &str, grid: &str) -> CaseMeta {
        CaseMeta {
            case_id: case_id.into(),
            number: None,
            status: "reported".into(),
            level: "grid".into(),
            grid: grid.into(),
            community: "cm".into(),
            reporter: "p".into(),
            category: "x".into(),
            created_at: 0,
            received_at: 0,
            ranking: None,
        }
    }

    #[test]
    fn feed_scope_all_lists_every_document_and_empty_keys_none() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        let meta = test_meta("c", "g");
        let change = NewChange {
            bytes: vec![1],
            device: None,
        };
        let keys = vec![AccessKey::Grid("g".into())];
        let (all, none, some) = with_tx(&storage, |tx| {
            let first = tx.allocate_positions(1)?;
            tx.save_case(
                &meta,
                b"doc",
                std::slice::from_ref(&change),
                first,
                &keys,
                &[],
            )?;
            let upto = tx.max_position()?;
            Ok((
                tx.feed_cases(FeedScope::All, 0, upto, 10)?,
                tx.feed_cases(FeedScope::Keys(&[]), 0, upto, 10)?,
                tx.feed_cases(FeedScope::Keys(&keys), 0, upto, 10)?,
            ))
        })
        .unwrap();
        assert_eq!(all, vec![(DocId::from("c"), 1)]);
        assert_eq!(none, vec![]);
        assert_eq!(some, all);
    }

    /// The SQLite feed walks either the positions after the cursor or the cases in the scope,
    /// whichever is fewer (issue 18); both must give the same answer. A street of 40 cases
    /// over 4 grids, 3 changes each, interleaved; read with every cursor, so that the range is
    /// sometimes the smaller and sometimes the scope.
    #[test]
    fn the_feed_is_the_same_whichever_way_it_is_walked() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        let grid = |i: usize| format!("g{}", i % 4);
        with_tx(&storage, |tx| {
            for round in 0..3 {
                for i in 0..40 {
                    let meta = test_meta(&format!("c{i:02}"), &grid(i));
                    let change = NewChange {
                        bytes: vec![round],
                        device: None,
                    };
                    let mut keys = vec![AccessKey::Grid(grid(i))];
                    if i.is_multiple_of(5) {
                        keys.push(AccessKey::Person("p".into()));
                    }
                    let first = tx.allocate_positions(1)?;
                    tx.save_case(&meta, b"doc", &[change], first, &keys, &[])?;
                }
            }
            Ok(())
        })
        .unwrap();
        let keys = vec![AccessKey::Grid("g1".into()), AccessKey::Person("p".into())];
        let visible = |c: &DocId| {
            let i: usize = c.as_str()[1..].parse().unwrap();
            i % 4 == 1 || i.is_multiple_of(5)
        };
        with_tx(&storage, |tx| {
            let upto = tx.max_position()?;
            for cursor in 0..=upto {
                for limit in [3, 1_000] {
                    let all = tx.feed_cases(FeedScope::All, cursor, upto, 1_000)?;
                    let mut want: Vec<_> = all.into_iter().filter(|(c, _)| visible(c)).collect();
                    want.truncate(limit as usize);
                    let got = tx.feed_cases(FeedScope::Keys(&keys), cursor, upto, limit)?;
                    assert_eq!(got, want, "cursor {cursor}, limit {limit}");
                }
            }
            Ok(())
        })
        .unwrap();
    }
}
