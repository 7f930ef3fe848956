//! The device store: one SQLite database in the device's data folder.
//!
//! - [`schema`]: numbered migrations;
//! - `docs`: case documents as a compacted snapshot plus incremental changes;
//! - `loaded`: the last documents used, kept loaded between uses;
//! - `index`: the index tables every list of the app is answered from;
//! - `outbox`: changes not yet acknowledged by a server;
//! - `patrols`: patrol index rows and fixes not yet packed into the track;
//! - `meta`: small device settings (actor id, identity, roster copy);
//! - [`redeliver`]: queuing everything again after the server was restored.
//!
//! One writer connection and one reader connection, WAL mode: readers never wait for the
//! writer. Every case write (document change + index rows + outbox entry) is one transaction,
//! so a process killed at any instruction leaves either all of it or none of it.

mod docs;
mod index;
mod loaded;
mod meta;
mod nearby;
mod outbox;
mod patrols;
pub mod redeliver;
pub mod schema;
mod uploads;

pub use docs::{DocBytes, Origin};
pub use index::{CaseSummary, Query};
pub use loaded::{KEPT, Keep, ReadAt};
pub use nearby::{DUPLICATE_RADIUS_M, DUPLICATE_WINDOW_DAYS, MeetingGroup, MeetingList, Period};
pub use outbox::OutboxEntry;
pub use patrols::{Ended, PatrolSummary};
pub use uploads::Upload;

use crate::case::{CaseDoc, CaseState, Facts};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::patrol::{PatrolDoc, PatrolFacts, PatrolState, TrackPoint};
use automerge::ActorId;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

/// A case write inside the caller's transaction.
fn case_in(tx: &rusqlite::Transaction<'_>, w: &CaseWrite<'_>) -> Result<()> {
    docs::write(tx, &w.doc)?;
    index::upsert(tx, w.facts, w.state, w.number)?;
    for (hash, bytes) in w.uploads {
        uploads::push(tx, hash, w.doc.id, *bytes, w.doc.now)?;
    }
    Ok(())
}

/// A patrol write inside the caller's transaction.
fn patrol_in(tx: &rusqlite::Transaction<'_>, w: &PatrolWrite<'_>) -> Result<()> {
    docs::write(tx, &w.doc)?;
    patrols::upsert(tx, w.facts, w.state)?;
    if let Some(upto) = w.packed_upto {
        patrols::drop_buffered(tx, w.doc.id, upto)?;
    }
    Ok(())
}

/// `execute` and `query_row` through the connection's statement cache: rusqlite's own parse
/// the statement again on every call, which was a tenth of a push's time.
pub(crate) trait Cached {
    /// [`rusqlite::Connection::execute`], with the statement cached.
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    /// [`rusqlite::Connection::query_row`], with the statement cached.
    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for rusqlite::Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
    fn row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: rusqlite::Params,
        F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// The first column of every row a query returns, as text (ids, mostly).
fn strings(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many incremental changes a document may collect before it is compacted on write.
const COMPACT_AFTER: i64 = 32;

/// One write to a synced document of any kind: the bytes, what they are and where they were
/// made. Stored with the kind's index rows (if any) in one transaction.
#[derive(Clone, Copy, Debug)]
pub struct DocWrite<'a> {
    /// The document's id.
    pub id: &'a str,
    /// The whole document when it is new to this store, otherwise the change bytes.
    pub bytes: &'a [u8],
    /// Whether `bytes` is a whole document for a document this store has not seen, or changes.
    pub kind: DocBytes,
    /// Whether the bytes were made here (and must reach the server) or came from it.
    pub origin: Origin,
    /// Device wall clock, ms since the epoch.
    pub now: i64,
    /// The document as this write leaves it, to keep loaded once the write commits.
    pub keep: Option<Keep<'a>>,
}

/// One case write: the document write and the state it folds to, stored in one transaction.
pub struct CaseWrite<'a> {
    /// The document write.
    pub doc: DocWrite<'a>,
    /// The case's facts.
    pub facts: &'a Facts,
    /// Its folded state after the write.
    pub state: &'a CaseState,
    /// Its human number, if known.
    pub number: Option<&'a str>,
    /// Photo files (hash, size) to queue for upload with this write.
    pub uploads: &'a [(String, u64)],
}

/// One patrol write: the document write, the state it folds to, and the buffered fixes it
/// packed, stored in one transaction.
pub struct PatrolWrite<'a> {
    /// The document write.
    pub doc: DocWrite<'a>,
    /// The patrol's facts.
    pub facts: &'a PatrolFacts,
    /// Its folded state after the write.
    pub state: &'a PatrolState,
    /// Buffered fixes up to this row id were packed into the change: drop them.
    pub packed_upto: Option<i64>,
}

/// One write of a batch taken in from the server ([`Store::write_remote`]): a document of any
/// kind with its index rows.
pub enum RemoteWrite<'a> {
    /// A case.
    Case(CaseWrite<'a>),
    /// A patrol.
    Patrol(PatrolWrite<'a>),
    /// A document of a kind with no index rows on the device.
    Doc(DocWrite<'a>),
}

/// Called after a local write that queued changes for the server ([`Store::on_local_write`]).
pub type WriteHook = std::sync::Arc<dyn Fn() + Send + Sync>;

/// The SQLite store.
pub struct Store {
    writer: Mutex<Connection>,
    reader: Option<Mutex<Connection>>,
    on_local: std::sync::RwLock<Option<WriteHook>>,
    /// Documents kept loaded; locked after the writer, never before it.
    loaded: Mutex<loaded::Loaded>,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store> {
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        schema::migrate(&mut writer)?;
        let reader = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.busy_timeout(std::time::Duration::from_secs(5))?;
        reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        stable_plans(&reader)?;
        let version = data_version(&writer)?;
        Ok(Store {
            writer: Mutex::new(writer),
            reader: Some(Mutex::new(reader)),
            on_local: std::sync::RwLock::new(None),
            loaded: Mutex::new(loaded::Loaded::new(loaded::KEPT, version)),
        })
    }

    /// A store in memory, for tests and tools: one connection serves reads and writes.
    pub fn open_in_memory() -> Result<Store> {
        let mut writer = Connection::open_in_memory()?;
        stable_plans(&writer)?;
        schema::migrate(&mut writer)?;
        let version = data_version(&writer)?;
        Ok(Store {
            writer: Mutex::new(writer),
            reader: None,
            on_local: std::sync::RwLock::new(None),
            loaded: Mutex::new(loaded::Loaded::new(loaded::KEPT, version)),
        })
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn loaded(&self) -> MutexGuard<'_, loaded::Loaded> {
        self.loaded.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `body` in one immediate transaction on the writer and commits it; then, still
    /// holding the writer, tells the kept documents what the write of `docs` did.
    fn write_docs(
        &self,
        docs: &[&DocWrite<'_>],
        body: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut conn = self.writer();
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            body(&tx)?;
            tx.commit()?;
            Ok(())
        })();
        // Without the version nobody can tell whether another connection wrote: keep nothing.
        let version = data_version(&conn);
        let sure = result.is_ok() && version.is_ok();
        self.loaded()
            .written(docs, sure, version.unwrap_or_default());
        drop(conn);
        result
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        match &self.reader {
            Some(r) => r.lock().unwrap_or_else(|e| e.into_inner()),
            None => self.writer(),
        }
    }

    /// Calls `hook` after every committed write of [`Origin::Local`] bytes; `None` removes it.
    pub fn on_local_write(&self, hook: Option<WriteHook>) {
        *self.on_local.write().unwrap_or_else(|e| e.into_inner()) = hook;
    }

    /// Tells the hook, after a committed write, when the write queued local changes.
    fn written(&self, origin: Origin) {
        if origin == Origin::Local {
            let hook = self
                .on_local
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(hook) = hook {
                hook();
            }
        }
    }

    /// Reads a device setting.
    pub fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        meta::get(&self.reader(), key)
    }

    /// Writes a device setting.
    pub fn meta_set(&self, key: &str, value: &[u8]) -> Result<()> {
        meta::set(&self.writer(), key, value)
    }

    /// Loads a case's document; a damaged one gives [`Error::CorruptCase`] for that case only.
    pub fn load_case(&self, case_id: &str, actor: &ActorId) -> Result<CaseDoc> {
        Ok(self.load_tracked(case_id, actor)?.0)
    }

    /// Loads a document of either kind (case or patrol).
    pub fn load_synced(&self, id: &str, actor: &ActorId) -> Result<crate::sync::synced::SyncedDoc> {
        Ok(self.load_tracked(id, actor)?.0)
    }

    /// Loads a patrol's document.
    pub fn load_patrol(&self, patrol_id: &str, actor: &ActorId) -> Result<PatrolDoc> {
        Ok(self.load_tracked(patrol_id, actor)?.0)
    }

    /// Loads a document of kind `D`, from its kept copy when it has one, and says when it was
    /// read: a change made to it and written with that [`ReadAt`] in its [`Keep`] leaves the
    /// changed document kept loaded.
    pub fn load_tracked<D: Document>(&self, id: &str, actor: &ActorId) -> Result<(D, ReadAt)> {
        let trusted = self.others_seen();
        let (kept, at) = self.loaded().get(id);
        if trusted && let Some(doc) = kept {
            let doc = D::wrap(doc.with_actor(actor.clone())).map_err(|e| Error::CorruptCase {
                case_id: id.to_string(),
                reason: e.to_string(),
            })?;
            return Ok((doc, at));
        }
        let doc: D = docs::load(&self.reader(), id, actor)?;
        if trusted {
            self.loaded().keep_read(id, doc.automerge(), at);
        }
        Ok((doc, at))
    }

    /// Looks whether another connection committed since the kept documents were last checked
    /// (forgetting them if so); false when the writer is busy and nobody can tell now, in which
    /// case the caller reads from the store.
    fn others_seen(&self) -> bool {
        let conn = match self.writer.try_lock() {
            Ok(conn) => conn,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        match data_version(&conn) {
            Ok(version) => {
                self.loaded().observe(version);
                true
            }
            Err(_) => false,
        }
    }

    /// Stores a patrol write: document, index row, outbox entry and the drop of the packed
    /// fixes, atomically.
    pub fn write_patrol(&self, w: &PatrolWrite<'_>) -> Result<()> {
        self.write_docs(&[&w.doc], |tx| patrol_in(tx, w))?;
        self.written(w.doc.origin);
        Ok(())
    }

    /// Stores what one answer of the server brought, every document with its index rows, in
    /// one transaction: one commit (and one `fsync`) for a page of the feed instead of one
    /// per document, and a crash leaves all of the page or none of it.
    pub fn write_remote(&self, writes: &[RemoteWrite<'_>]) -> Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        let docs: Vec<&DocWrite<'_>> = writes
            .iter()
            .map(|w| match w {
                RemoteWrite::Case(w) => &w.doc,
                RemoteWrite::Patrol(w) => &w.doc,
                RemoteWrite::Doc(w) => w,
            })
            .collect();
        self.write_docs(&docs, |tx| {
            for w in writes {
                match w {
                    RemoteWrite::Case(w) => case_in(tx, w)?,
                    RemoteWrite::Patrol(w) => patrol_in(tx, w)?,
                    RemoteWrite::Doc(w) => docs::write(tx, w)?,
                }
            }
            Ok(())
        })
    }

    /// Buffers fixes of a patrol; returns how many the buffer holds now.
    pub fn buffer_points(&self, patrol_id: &str, points: &[TrackPoint]) -> Result<u32> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = patrols::buffer_points(&tx, patrol_id, points)?;
        tx.commit()?;
        Ok(n)
    }

    /// A patrol's buffered fixes in order, with the row id of the last.
    pub fn buffered_points(&self, patrol_id: &str) -> Result<(Vec<TrackPoint>, Option<i64>)> {
        patrols::buffered(&self.reader(), patrol_id)
    }

    /// The time of a patrol's last buffered fix.
    pub fn last_buffered_at(&self, patrol_id: &str) -> Result<Option<i64>> {
        patrols::last_buffered_at(&self.reader(), patrol_id)
    }

    /// The patrols with buffered fixes.
    pub fn patrols_with_buffered_points(&self) -> Result<Vec<String>> {
        patrols::with_buffered(&self.reader())
    }

    /// Patrols newest first: all, or one walker's; with or without those that ended.
    pub fn list_patrols(
        &self,
        walker: Option<&str>,
        ended: Ended,
        limit: u32,
    ) -> Result<Vec<PatrolSummary>> {
        patrols::list(&self.reader(), walker, ended, limit)
    }

    /// True when the store holds this case.
    pub fn has_case(&self, case_id: &str) -> Result<bool> {
        docs::exists(&self.reader(), case_id)
    }

    /// Stores a write to a document of a kind with no index rows on the device: the document
    /// and (if local) its outbox entry, atomically.
    pub fn write_doc(&self, w: &DocWrite<'_>) -> Result<()> {
        self.write_docs(&[w], |tx| docs::write(tx, w))?;
        self.written(w.origin);
        Ok(())
    }

    /// Stores a case write: document, index rows and (if local) outbox entry, atomically.
    pub fn write_case(&self, w: &CaseWrite<'_>) -> Result<()> {
        self.write_docs(&[&w.doc], |tx| case_in(tx, w))?;
        self.written(w.doc.origin);
        Ok(())
    }

    /// Compacts every document with more than `min_changes` incremental changes into one
    /// snapshot. Safe to run at any time (the app runs it when idle); returns how many were
    /// compacted. Documents that fail to load are left as they are.
    pub fn compact(&self, actor: &ActorId, min_changes: i64) -> Result<usize> {
        let ids = docs::needing_compaction(&self.reader(), min_changes)?;
        let mut done = 0;
        for id in ids {
            let mut conn = self.writer();
            // The stored document keeps its content, but its copy goes: what is kept is only
            // ever what a load would give, and this write is counted like any other.
            self.loaded().rewritten(&id);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if docs::compact(&tx, &id, actor)? {
                done += 1;
            }
            tx.commit()?;
        }
        Ok(done)
    }

    /// Compacts the documents that have collected many changes (see [`COMPACT_AFTER`]).
    pub fn compact_busy(&self, actor: &ActorId) -> Result<usize> {
        self.compact(actor, COMPACT_AFTER)
    }

    /// Lists case summaries matching a query, newest first.
    pub fn list(&self, query: &Query, now: i64, limit: u32) -> Result<Vec<CaseSummary>> {
        index::list(&self.reader(), query, now, limit)
    }

    /// The oldest outbox entries, up to `limit`.
    pub fn outbox_pending(&self, limit: u32) -> Result<Vec<OutboxEntry>> {
        outbox::pending(&self.reader(), limit)
    }

    /// Removes outbox entries the server has acknowledged.
    pub fn outbox_ack(&self, seqs: &[i64]) -> Result<()> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        outbox::ack(&tx, seqs)?;
        tx.commit()?;
        Ok(())
    }

    /// Removes every outbox entry up to and including `seq` (a server acknowledged them).
    pub fn outbox_ack_through(&self, seq: i64) -> Result<()> {
        outbox::ack_through(&self.writer(), seq)
    }

    /// The photo files waiting for upload, oldest first.
    pub fn uploads_pending(&self, limit: u32) -> Result<Vec<Upload>> {
        uploads::pending(&self.reader(), limit)
    }

    /// Removes uploads from the queue once the server holds their files, in one commit.
    pub fn uploads_done(&self, hashes: &[String]) -> Result<()> {
        if hashes.is_empty() {
            return Ok(());
        }
        uploads::done(&mut self.writer(), hashes)
    }

    /// Every stored document's id (cases and patrols).
    pub fn doc_ids(&self) -> Result<Vec<String>> {
        docs::ids(&self.reader())
    }

    /// Queues everything again after a server restore ([`redeliver::requeue`]).
    pub fn requeue_after_restore(
        &self,
        docs: &[redeliver::WholeDoc],
        photos: &[redeliver::PhotoFile],
        restart: &redeliver::Restart<'_>,
        now: i64,
    ) -> Result<()> {
        redeliver::requeue(&mut self.writer(), docs, photos, restart, now)
    }

    /// How many outbox entries wait for the server.
    pub fn outbox_len(&self) -> Result<u64> {
        outbox::len(&self.reader())
    }

    /// How many photo files wait to upload.
    pub fn uploads_len(&self) -> Result<u64> {
        uploads::len(&self.reader())
    }

    /// Open cases of `category` raised at or after `since` within `radius_m` metres of `at`,
    /// nearest first, with their distances; from the index alone.
    pub fn open_near(
        &self,
        category: &str,
        at: crate::org::Point,
        radius_m: f64,
        since: i64,
        now: i64,
    ) -> Result<Vec<(CaseSummary, f64)>> {
        nearby::open_near(&self.reader(), category, at, radius_m, since, now)
    }

    /// The lists of a review meeting for `period` ending at `now`, from the index alone.
    pub fn meeting_list(&self, period: Period, now: i64) -> Result<MeetingList> {
        nearby::meeting_list(&self.reader(), period, now)
    }

    /// Cases whose index row lacks the columns of migration 3 (written before it), up to
    /// `limit`.
    pub fn cases_missing_place(&self, limit: u32) -> Result<Vec<String>> {
        nearby::missing_place(&self.reader(), limit)
    }

    /// Rewrites a case's index rows from its facts and state, without touching its document.
    pub fn reindex_case(
        &self,
        facts: &Facts,
        state: &CaseState,
        number: Option<&str>,
    ) -> Result<()> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        index::upsert(&tx, facts, state, number)?;
        tx.commit()?;
        Ok(())
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::NotSetUp(
            "the store's file system does not support WAL",
        ));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    stable_plans(conn)?;
    Ok(())
}

/// The connection's `PRAGMA data_version`: it moves when another connection commits.
fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.row("PRAGMA data_version", [], |r| r.get(0))
}

/// Turns on SQLite's query planner stability guarantee (decision 0054). Without it, a cached
/// statement whose plan the planner tied to a bound value (`LIMIT ?`, or `col = ?` on a column
/// no index covers) is compiled again on every use after rusqlite clears its bindings, which
/// undoes the statement cache.
fn stable_plans(conn: &Connection) -> Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// Prepared statements kept per connection: more than the store has (rusqlite keeps 16 by
/// default, and a sync cycles through more, parsing each again).
const STATEMENT_CACHE: usize = 128;
