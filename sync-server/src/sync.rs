//! The sync logic, over any storage backend: push (judge, void, number, store) and pull (the
//! scoped change feed after a cursor), the same for every kind of synced document: each kind
//! judges and indexes a push to its documents (`SyncedDoc::accept`, decision 0026).

use crate::error::ServerError;
use crate::state::Limits;
use crate::storage::{CaseMeta, DeviceRow, FeedScope, NewChange, Result, Tx};
use automerge::{ActorId, ChangeHash};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use xiangying_model::document::received::{self, Preloaded};
use xiangying_model::document::{DocError, Document};
use xiangying_model::ids::{ActorHex, DeviceId, DocId, PersonId};
use xiangying_model::org::Roster;
use xiangying_model::sync::intake::{self, IntakeError, Tally};
use xiangying_model::sync::judge::Judging;
use xiangying_model::sync::keys::AccessKey;
pub use xiangying_model::sync::kind::claim_of;
use xiangying_model::sync::kind::{Accepted, Host, HostError, ListBound, Refused};
use xiangying_model::sync::scope::{ReadScope, may_see, read_scope};
use xiangying_model::sync::synced::SyncedDoc;
use xiangying_model::sync::version::LAYOUT;
use xiangying_model::sync::wire;
use xiangying_model::sync::wire::{FeedItem, PushedChange};

/// What a request runs with.
pub struct Ctx<'a> {
    /// The server's roster.
    pub roster: &'a Roster,
    /// The calling device.
    pub device: &'a DeviceRow,
    /// This server instance's automerge actor id (never shared with another writer).
    pub actor: &'a ActorId,
    /// This server instance's name, recorded on its events.
    pub instance: &'a str,
    /// Server clock, ms since the epoch.
    pub now: i64,
    /// The document layout the device writes, from its protocol header (1 without one):
    /// above this build's, the judge lets through what it cannot judge.
    pub layout: u32,
    /// The push re-delivers what a restored store lost, within the recovery window
    /// (docs/decisions/0021-recovery-after-a-restore.md).
    pub redelivery: bool,
}

impl Ctx<'_> {
    /// How this request's pushes are judged.
    pub fn judging(&self) -> Judging<'_> {
        Judging {
            pusher: self.device.person.as_str(),
            newer: self.layout > LAYOUT,
            redelivery: self.redelivery,
        }
    }
}

/// What the caller reads with; a person missing from the roster sees only their own cases.
pub fn scope_of(roster: &Roster, person: &PersonId) -> ReadScope {
    match claim_of(roster, person.as_str()) {
        Some(c) => read_scope(&c),
        None => ReadScope {
            all: false,
            keys: vec![AccessKey::Person(person.to_string())],
        },
    }
}

/// The storage's feed filter for a read scope.
fn feed_scope(scope: &ReadScope) -> FeedScope<'_> {
    if scope.all {
        FeedScope::All
    } else {
        FeedScope::Keys(&scope.keys)
    }
}

/// A push whose bytes were sized up and parsed before any lock was taken.
pub struct CheckedPush<'a> {
    /// The pushed parts by document id, in push order.
    by_case: BTreeMap<DocId, Vec<Part<'a>>>,
    /// The highest outbox sequence number pushed.
    max_seq: Option<i64>,
    /// The bounds on a document's lists.
    limits: DocLimits,
}

/// One pushed part, with what reading it before the lock found (decision 0048).
struct Part<'a> {
    bytes: &'a [u8],
    /// Each change chunk of the part, by its change's hash.
    changes: Vec<(ChangeHash, &'a [u8])>,
    /// The part built into a document, when it can start one (a new case's push); taken by
    /// the first attempt of the write (a retried transaction builds it from the bytes).
    preloaded: Mutex<Option<Box<Preloaded>>>,
    /// How many of the parts after this one the preloaded document already holds (the
    /// phone's later changes to the case it raised, pushed with it).
    covers: usize,
}

/// The bounds on a document's lists, from [`Limits`].
#[derive(Debug, Clone, Copy)]
struct DocLimits {
    events: usize,
    photos: usize,
    chunks: usize,
}

/// Sizes up every pushed byte against the limits ([`intake::scan`]) and parses it strictly,
/// outside any transaction: a bomb or damaged bytes are refused before anything is locked.
/// Each change chunk's hash is kept, and a part that can start a document is built into one
/// here ([`received::read`]), so the write under the lock does not do that work again.
pub fn check_push<'a>(limits: &Limits, changes: &'a [PushedChange]) -> Result<CheckedPush<'a>> {
    let bounds = limits.intake();
    let mut tally = Tally::default();
    let mut by_case: BTreeMap<DocId, Vec<Part<'_>>> = BTreeMap::new();
    for c in changes {
        let case_id = DocId::from(c.case_id.to_string());
        intake::scan(&c.bytes, &bounds, &mut tally).map_err(|e| match e {
            IntakeError::OverLimit { limit, max } => ServerError::OverLimit { limit, max },
            IntakeError::Malformed(m) => bad(&case_id, m),
        })?;
        let read = received::read(&c.bytes).map_err(|e| bad(&case_id, e))?;
        by_case.entry(case_id).or_default().push(Part {
            bytes: &c.bytes,
            changes: read.changes,
            preloaded: Mutex::new(read.preloaded),
            covers: 0,
        });
    }
    for (case_id, parts) in by_case.iter_mut() {
        take_later_parts(case_id, parts)?;
    }
    Ok(CheckedPush {
        by_case,
        max_seq: changes.iter().map(|c| c.seq).max(),
        limits: DocLimits {
            events: limits.max_doc_events,
            photos: limits.max_doc_photos,
            chunks: limits.max_doc_track_chunks,
        },
    })
}

/// What a push stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushed {
    /// The highest outbox sequence number stored.
    pub max_seq: Option<i64>,
    /// The access keys of the documents written (for the wake-up channel), sorted, without
    /// repeats.
    pub keys: Vec<AccessKey>,
}

/// Applies a device's checked push, all or nothing. Tampering gives [`ServerError::Tamper`]
/// (the caller quarantines the device outside this transaction, which rolls back).
pub fn push(tx: &mut dyn Tx, ctx: &Ctx<'_>, push: &CheckedPush<'_>) -> Result<Pushed> {
    let mut keys = Vec::new();
    // Cases are locked in id order, so two pushes never wait on each other in a cycle.
    for (case_id, parts) in &push.by_case {
        keys.extend(push_case(tx, ctx, case_id, parts, push.limits)?);
    }
    keys.sort();
    keys.dedup();
    Ok(Pushed {
        max_seq: push.max_seq,
        keys,
    })
}

/// Applies the parts that follow a part with a preloaded document (a new case's later
/// changes, as phones push them: the case, then each change since) to that document, before
/// any lock, so that the writer only wraps it. The run stops at the first part that is not
/// change chunks.
fn take_later_parts(case_id: &DocId, parts: &mut [Part<'_>]) -> Result<()> {
    let Some((first, rest)) = parts.split_first_mut() else {
        return Ok(());
    };
    let preloaded = first
        .preloaded
        .get_mut()
        .map_err(|_| ServerError::Internal("a pushed part's lock is poisoned".into()))?;
    let Some(preloaded) = preloaded.as_mut() else {
        return Ok(());
    };
    let run = rest.iter().take_while(|p| !p.changes.is_empty()).count();
    if run == 0 {
        return Ok(());
    }
    let chunks: Vec<(ChangeHash, &[u8])> = rest[..run]
        .iter()
        .flat_map(|p| p.changes.iter().copied())
        .collect();
    preloaded.take_later(&chunks).map_err(|e| bad(case_id, e))?;
    first.covers = run;
    Ok(())
}

fn bad(case_id: &DocId, e: impl std::fmt::Display) -> ServerError {
    ServerError::BadRequest(format!("case {case_id}: {e}"))
}

/// Refuses a document whose lists have grown past the limits.
fn check_lengths(doc: &SyncedDoc, limits: DocLimits) -> Result<()> {
    for (bound, len) in doc.list_lengths() {
        let (limit, max) = match bound {
            ListBound::Entries => ("max_doc_events", limits.events),
            ListBound::Photos => ("max_doc_photos", limits.photos),
            ListBound::TrackChunks => ("max_doc_track_chunks", limits.chunks),
        };
        if len > max {
            return Err(ServerError::OverLimit {
                limit,
                max: max as u64,
            });
        }
    }
    Ok(())
}

fn push_case(
    tx: &mut dyn Tx,
    ctx: &Ctx<'_>,
    case_id: &DocId,
    parts: &[Part<'_>],
    limits: DocLimits,
) -> Result<Vec<AccessKey>> {
    let row = tx.lock_case(case_id)?;
    if row.is_some() && !may_write(tx, ctx, case_id)? {
        return Err(ServerError::Forbidden(format!(
            "case {case_id} is outside the scope of {}",
            ctx.device.person
        )));
    }
    let stored = |e: DocError| ServerError::Internal(format!("stored case {case_id}: {e}"));
    let mut before = row
        .as_ref()
        .map(|r| SyncedDoc::load(&r.snapshot, ctx.actor).map_err(stored))
        .transpose()?;
    let heads_before = before.as_mut().map(|b| b.heads()).unwrap_or_default();
    // The new changes found so far, and the heads the rest are counted from.
    let mut incoming = Vec::new();
    let mut counted_from = heads_before.clone();
    let (mut after, rest) = match before.as_mut() {
        Some(b) => (b.fork(ctx.actor).map_err(stored)?, parts),
        None => {
            let (first, rest) = parts
                .split_first()
                .ok_or_else(|| bad(case_id, "no bytes"))?;
            let preloaded = first
                .preloaded
                .lock()
                .map_err(|_| ServerError::Internal("a pushed part's lock is poisoned".into()))?
                .take();
            match preloaded {
                Some(p) => {
                    let (mut doc, changes) =
                        SyncedDoc::from_preloaded(*p, ctx.actor).map_err(|e| bad(case_id, e))?;
                    incoming = changes;
                    counted_from = doc.heads();
                    (doc, rest.get(first.covers..).unwrap_or_default())
                }
                None => (
                    SyncedDoc::from_checked(first.bytes, ctx.actor).map_err(|e| bad(case_id, e))?,
                    rest,
                ),
            }
        }
    };
    for p in rest {
        after.apply_checked(p.bytes).map_err(|e| bad(case_id, e))?;
    }
    check_lengths(&after, limits)?;
    if !after.missing_deps().is_empty() {
        return Err(ServerError::Conflict(format!(
            "case {case_id}: the changes depend on changes the server does not hold; push the whole document"
        )));
    }
    // A pushed change chunk is stored as it came (its hash names the same change); the rest
    // (the changes of a whole document, the server's own) are encoded from the document.
    let pushed: HashMap<ChangeHash, &[u8]> = parts
        .iter()
        .flat_map(|p| p.changes.iter().copied())
        .collect();
    incoming
        .extend(after.changes_since_known(&counted_from, &|h| pushed.get(h).map(|b| b.to_vec())));
    if incoming.is_empty() {
        // A retry of changes the server already holds: nothing new in the feed.
        tx.set_device_case(&ctx.device.id, case_id, 0)?;
        return Ok(Vec::new());
    }
    let id = after.id().map_err(|e| bad(case_id, e))?;
    if *case_id != id {
        return Err(bad(case_id, format!("the document is of case {id}")));
    }
    let tamper = |reason: String| ServerError::Tamper {
        case_id: case_id.to_string(),
        reason,
    };
    let mut owners_checked = HashSet::new();
    for change in &incoming {
        let actor = &change.actor;
        if !owners_checked.insert(actor) {
            continue;
        }
        let actor = ActorHex::from(actor.to_hex_string());
        match tx.actor_owner(&actor)? {
            // A re-delivery brings back other devices' changes: their actors stay theirs.
            Some(owner) if owner != ctx.device.id && !ctx.redelivery => {
                return Err(tamper(format!(
                    "writes with actor {actor}, which belongs to another device"
                )));
            }
            Some(_) => {}
            // An actor the restored store does not know may be somebody else's: it is claimed
            // by the first ordinary push that writes with it.
            None if ctx.redelivery => {}
            None => tx.set_actor_owner(&actor, &ctx.device.id)?,
        }
    }
    let judged_at = after.heads();
    let accepted = {
        let mut host = ServerHost { tx: &mut *tx, ctx };
        after
            .accept(before.as_mut(), &mut host)
            .map_err(|r| refused(case_id, r))?
    };
    let meta = index_meta(case_id, ctx.now, &accepted)?;
    // What the server wrote while accepting (the case number, voids).
    let own = after.changes_since(&judged_at);
    let all_new: Vec<_> = incoming.into_iter().chain(own).collect();
    if all_new.iter().any(|c| c.actor == *ctx.actor) {
        // Once this instance has written with its actor, that actor is taken: a device that
        // read it in a document and pushes with it is refused like any other actor thief.
        let actor = ActorHex::from(ctx.actor.to_hex_string());
        if tx.actor_owner(&actor)?.is_none() {
            tx.set_actor_owner(&actor, &DeviceId::from(format!("server:{}", ctx.instance)))?;
        }
    }
    let snapshot = after.save();
    let changes: Vec<NewChange> = all_new
        .into_iter()
        .map(|c| NewChange {
            device: (c.actor != *ctx.actor).then(|| ctx.device.id.clone()),
            bytes: c.bytes,
        })
        .collect();
    let first = tx.allocate_positions(changes.len() as u64)?;
    tx.save_case(
        &meta,
        &snapshot,
        &changes,
        first,
        &accepted.access,
        &accepted.photos,
    )?;
    crate::desk::index::update(tx, Some(ctx.roster), &after, accepted.case.as_deref())?;
    tx.set_device_case(&ctx.device.id, case_id, 0)?;
    Ok(accepted.access)
}

/// The storage's index columns of an accepted document.
fn index_meta(case_id: &DocId, now: i64, accepted: &Accepted) -> Result<CaseMeta> {
    let row = &accepted.index;
    Ok(CaseMeta {
        case_id: case_id.clone(),
        number: row.number.clone(),
        status: row.status.clone(),
        level: row.level.clone(),
        grid: row.grid.clone(),
        community: row.community.clone(),
        reporter: row.reporter.clone(),
        category: row.category.clone(),
        created_at: row.created_at,
        received_at: now,
        ranking: row
            .ranking
            .as_ref()
            .map(wire::encode)
            .transpose()
            .map_err(|e| ServerError::Internal(format!("ranking row: {e}")))?,
    })
}

/// The server's answer to a refused push to document `case_id`.
fn refused(case_id: &DocId, r: Refused) -> ServerError {
    match r {
        Refused::Tamper(t) => ServerError::Tamper {
            case_id: case_id.to_string(),
            reason: t.to_string(),
        },
        Refused::Malformed(e) => bad(case_id, e),
        Refused::Internal(e) => ServerError::Internal(e.to_string()),
        Refused::Host(e) => match e.downcast::<ServerError>() {
            Ok(e) => *e,
            Err(e) => ServerError::Internal(e.to_string()),
        },
    }
}

/// What the server lends a document kind while it accepts a push ([`Host`]).
struct ServerHost<'t, 'c> {
    tx: &'t mut dyn Tx,
    ctx: &'c Ctx<'c>,
}

impl Host for ServerHost<'_, '_> {
    fn judging(&self) -> Judging<'_> {
        self.ctx.judging()
    }
    fn roster(&self) -> &Roster {
        self.ctx.roster
    }
    fn now(&self) -> i64 {
        self.ctx.now
    }
    fn instance(&self) -> &str {
        self.ctx.instance
    }
    fn next_number(&mut self, key: &str) -> std::result::Result<u64, HostError> {
        Ok(self.tx.next_number(key)?)
    }
    fn number_taken(&mut self, key: &str, taken: u64) -> std::result::Result<(), HostError> {
        Ok(self.tx.number_taken(key, taken)?)
    }
}

/// A device may write to a case its person may see now, or to one it held before (an honest
/// change made before a scope change is voided, not refused).
fn may_write(tx: &mut dyn Tx, ctx: &Ctx<'_>, case_id: &DocId) -> Result<bool> {
    if tx.device_case(&ctx.device.id, case_id)?.is_some() {
        return Ok(true);
    }
    let scope = scope_of(ctx.roster, &ctx.device.person);
    Ok(scope.all || may_see(&scope, &tx.access(case_id)?))
}

/// Whether the feed holds a change after `cursor` to a document `person` may read: what the
/// wake-up channel answers ([`crate::wake`]). One bounded query; a person's own pushes count
/// (their next sync moves the cursor past them).
pub fn has_news(tx: &mut dyn Tx, roster: &Roster, person: &PersonId, cursor: u64) -> Result<bool> {
    let upto = tx.max_position()?;
    if cursor >= upto {
        return Ok(false);
    }
    let scope = scope_of(roster, person);
    Ok(!tx
        .feed_cases(feed_scope(&scope), cursor, upto, 1)?
        .is_empty())
}

/// One page of the feed.
pub struct Page {
    /// The items.
    pub items: Vec<FeedItem>,
    /// The cursor after them.
    pub cursor: u64,
    /// More is waiting.
    pub more: bool,
}

/// Reads the feed after `cursor` for the device: changes to cases it holds, whole documents
/// for cases new to it. Stops after about `max_bytes` or `max_cases`, at a cursor below which
/// everything was delivered (what lies above it in a delivered case comes again next time:
/// applying known changes changes nothing).
pub fn pull(
    tx: &mut dyn Tx,
    ctx: &Ctx<'_>,
    cursor: u64,
    max_bytes: usize,
    max_cases: u32,
) -> Result<Page> {
    let scope = scope_of(ctx.roster, &ctx.device.person);
    let upto = tx.max_position()?;
    if cursor >= upto {
        return Ok(Page {
            items: Vec::new(),
            cursor: cursor.max(upto),
            more: false,
        });
    }
    let cases = tx.feed_cases(feed_scope(&scope), cursor, upto, max_cases)?;
    let (mut next, mut more) = match cases.last() {
        // Every change up to the last listed first position belongs to a listed case.
        Some((_, first)) if cases.len() as u32 == max_cases => (*first, true),
        _ => (upto, false),
    };
    let mut items = Vec::new();
    let mut whole = Vec::new();
    let mut bytes = 0usize;
    for (case_id, first) in &cases {
        if bytes > 0 && bytes >= max_bytes {
            // Everything below this case's first change belongs to the cases already sent.
            next = first - 1;
            more = true;
            break;
        }
        let id = uuid::Uuid::parse_str(case_id.as_str())
            .map_err(|e| ServerError::Internal(format!("stored case id {case_id}: {e}")))?;
        let holds = tx
            .device_case(&ctx.device.id, case_id)?
            .is_some_and(|since| since <= cursor);
        if holds {
            let changes = tx.changes_between(case_id, cursor, upto, &ctx.device.id)?;
            if !changes.is_empty() {
                let item = FeedItem {
                    case_id: id,
                    whole: false,
                    bytes: changes.concat(),
                };
                bytes += item.bytes.len();
                items.push(item);
            }
        } else {
            let row = tx.case(case_id)?.ok_or(ServerError::NotFound)?;
            bytes += row.snapshot.len();
            items.push(FeedItem {
                case_id: id,
                whole: true,
                bytes: row.snapshot,
            });
            whole.push(case_id.clone());
        }
    }
    // The device holds these whole once it has applied this page and moved to `next`.
    for case_id in whole {
        tx.set_device_case(&ctx.device.id, &case_id, next)?;
    }
    Ok(Page {
        items,
        cursor: next,
        more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;
    use crate::storage::{Storage, with_tx};
    use xiangying_model::case::{Action, CaseDoc, Event};
    use xiangying_model::org::sample;
    use xiangying_model::testkit::{g1_claim, g1_facts, g1_reported};

    /// A new SQLite store in a folder of its own.
    fn store() -> (SqliteStorage, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (SqliteStorage::open(dir.path()).unwrap(), dir)
    }

    /// gw1's device, enrolled in `storage`, with the sample roster and a server actor.
    fn gw1(storage: &SqliteStorage) -> (DeviceRow, Roster, ActorId) {
        let device = DeviceRow {
            id: DeviceId::from("dev-1"),
            person: PersonId::from("gw1"),
            name: "gw1's phone".into(),
            token_hash: "00".into(),
            created_at: 0,
            revoked: false,
            quarantined: None,
        };
        with_tx(storage, |tx| tx.insert_device(&device)).unwrap();
        (device, sample::roster().unwrap(), ActorId::random())
    }

    /// An ordinary push of this build's layout by `device`.
    fn ctx<'a>(roster: &'a Roster, device: &'a DeviceRow, actor: &'a ActorId) -> Ctx<'a> {
        Ctx {
            roster,
            device,
            actor,
            instance: "test",
            now: 2,
            layout: LAYOUT,
            redelivery: false,
        }
    }

    /// gw1's new report in g1, as its phone pushes it: one whole document.
    fn new_case() -> (uuid::Uuid, Vec<u8>) {
        let id = uuid::Uuid::now_v7();
        let facts = g1_facts(&id.to_string());
        let mut doc = CaseDoc::create(&ActorId::random(), &facts, &g1_reported()).unwrap();
        (id, doc.save())
    }

    /// gw1's new report in g1 with two notes made after it, as its phone pushes them: the
    /// document as raised, then each note's change.
    fn new_case_with_notes() -> (uuid::Uuid, Vec<Vec<u8>>) {
        let id = uuid::Uuid::now_v7();
        let facts = g1_facts(&id.to_string());
        let mut doc = CaseDoc::create(&ActorId::random(), &facts, &g1_reported()).unwrap();
        let mut parts = vec![doc.save()];
        for (at, text) in [(2, "到场"), (3, "已处理")] {
            let note = Action::Note { text: text.into() };
            parts.push(
                doc.append_event(&Event::new(at, g1_claim("gw1"), note))
                    .unwrap(),
            );
        }
        (id, parts)
    }

    #[test]
    fn a_new_case_and_its_later_changes_are_read_before_the_lock() {
        let (storage, _dir) = store();
        let (device, roster, actor) = gw1(&storage);
        let ctx = ctx(&roster, &device, &actor);
        let (id, parts) = new_case_with_notes();
        let pushed: Vec<PushedChange> = parts
            .into_iter()
            .enumerate()
            .map(|(i, bytes)| PushedChange {
                seq: i as i64 + 1,
                case_id: id,
                bytes,
            })
            .collect();
        let case_id = DocId::from(id.to_string());
        let stored_changes = |checked: &CheckedPush<'_>, storage: &SqliteStorage| {
            with_tx(storage, |tx| push(tx, &ctx, checked)).unwrap();
            let row = with_tx(storage, |tx| tx.case(&case_id)).unwrap().unwrap();
            let mut doc = SyncedDoc::load(&row.snapshot, &actor).unwrap();
            let case = doc.downcast_ref::<CaseDoc>().unwrap();
            assert_eq!(case.events().unwrap().len(), 3, "the report and both notes");
            assert!(case.number().is_some());
            doc.changes_since(&[]).len()
        };
        let checked = check_push(&Limits::default(), &pushed).unwrap();
        assert_eq!(checked.by_case[&case_id][0].covers, 2);
        // The phone's three changes and the server's number, each once.
        assert_eq!(stored_changes(&checked, &storage), 4);
        // Built from the bytes (as a retried transaction does), the same case is stored.
        let (other, _dir) = store();
        gw1(&other);
        let checked = check_push(&Limits::default(), &pushed).unwrap();
        checked.by_case[&case_id][0]
            .preloaded
            .lock()
            .unwrap()
            .take();
        assert_eq!(stored_changes(&checked, &other), 4);
    }

    #[test]
    fn a_retried_transaction_builds_the_preloaded_document_again() {
        let (storage, _dir) = store();
        let (device, roster, actor) = gw1(&storage);
        let ctx = ctx(&roster, &device, &actor);
        let (id, bytes) = new_case();
        let pushed = [PushedChange {
            seq: 1,
            case_id: id,
            bytes,
        }];
        let checked = check_push(&Limits::default(), &pushed).unwrap();
        let case_id = DocId::from(id.to_string());
        let preloaded =
            |c: &CheckedPush<'_>| c.by_case[&case_id][0].preloaded.lock().unwrap().is_some();
        assert!(preloaded(&checked), "the new case is built before the lock");
        // The first attempt takes the preloaded document, then fails and rolls back (as a
        // PostgreSQL serialisation failure would).
        let failed = storage.transact(&mut |tx| {
            push(tx, &ctx, &checked)?;
            Err(ServerError::Conflict("serialisation failure".into()))
        });
        assert!(failed.is_err());
        assert!(!preloaded(&checked));
        assert!(with_tx(&storage, |tx| tx.case(&case_id)).unwrap().is_none());
        // The retry builds the document from the bytes and stores the same case.
        let stored = with_tx(&storage, |tx| push(tx, &ctx, &checked)).unwrap();
        assert_eq!(stored.max_seq, Some(1));
        let row = with_tx(&storage, |tx| tx.case(&case_id)).unwrap().unwrap();
        let mut doc = SyncedDoc::load(&row.snapshot, &actor).unwrap();
        let case = doc.downcast_ref::<CaseDoc>().unwrap();
        assert!(case.number().is_some(), "numbered by the retry");
        // The phone's change and the server's number, each once.
        assert_eq!(doc.changes_since(&[]).len(), 2);
    }
}
