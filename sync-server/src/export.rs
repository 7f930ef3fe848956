//! `admin export`: the whole street as JSON Lines plus photo files, for archives, audits and
//! other systems. The format is described in `docs/EXPORT.md`; [`FORMAT_VERSION`] names it.
//!
//! - The output folder must be new or empty; nothing else is ever written to or removed.
//! - Documents are read in pages of [`PAGE`] in id order ([`crate::storage::Tx::cases_after`]),
//!   each page in a short transaction of its own, so the server keeps serving and memory
//!   stays bounded however many cases the street holds. Photo references are gathered in a
//!   scratch SQLite file inside the output folder (removed at the end), not in memory.
//! - A document or event that cannot be read (a corrupt snapshot, an action this build does
//!   not know) does not stop the export: its line carries an `"error"` field and the manifest
//!   counts it. A referenced photo missing from the blob store is listed with
//!   `"missing": true`.
//! - `manifest.json` is written last: a folder without it is an interrupted export.

use crate::blobs::{BlobStore, valid_hash};
use crate::error::ServerError;
use crate::storage::{PhotoUploader, Storage, StoredCase, with_tx};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use xiangying_core::case::{
    Assignee, Author, CaseDoc, Facts, Outcome, PhotoRef, Status, fold as fold_case,
};
use xiangying_core::org::{Level, Roster};
use xiangying_core::patrol::{Companion, PatrolDoc, PatrolFacts, TrackPoint, fold_patrol};
use xiangying_core::sync::synced::SyncedDoc;

/// The version of the export format this build writes (`version` in the manifest).
pub const FORMAT_VERSION: u32 = 1;

/// How many documents are read per transaction.
pub const PAGE: u32 = 100;

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// One line per case.
pub const CASES: &str = "cases.jsonl";
/// One line per patrol.
pub const PATROLS: &str = "patrols.jsonl";
/// One line per referenced photo or thumbnail file.
pub const PHOTOS: &str = "photos.jsonl";
/// The folder of photo files, each named by its SHA-256.
pub const PHOTO_DIR: &str = "photos";
/// The roster as published.
pub const ROSTER: &str = "roster.json";
/// The catalogue as published.
pub const CATALOGUE: &str = "catalogue.json";

/// The scratch index of photo references, inside the output folder while the export runs.
const SCRATCH: &str = ".export-photo-refs.sqlite";

/// What an export holds (the manifest's `counts`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Case lines written, readable or not.
    pub cases: u64,
    /// Patrol lines written, readable or not.
    pub patrols: u64,
    /// Events of the readable cases.
    pub case_events: u64,
    /// Log entries of the readable patrols.
    pub patrol_events: u64,
    /// Documents (cases or patrols) written with an `"error"` instead of their content.
    pub unreadable: u64,
    /// Photo and thumbnail files the cases reference (each once, however many cases).
    pub photos: u64,
    /// Those copied into the export.
    pub photos_written: u64,
    /// Those the blob store does not hold (listed with `"missing": true`).
    pub photos_missing: u64,
    /// Those listed with an `"error"` (a reference that is not a SHA-256 hash, a stored file
    /// whose content does not match its name).
    pub photo_errors: u64,
}

/// One file of the export as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// Path inside the export folder.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
}

/// The street the export is of, from the published roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreetInfo {
    /// Stable identifier.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Prefix of its case numbers.
    pub case_prefix: String,
}

/// Where the data came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreInfo {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The store's identity, when the store records one (`null` otherwise).
    pub id: Option<String>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    /// Always `xiangying-export`.
    pub format: String,
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// When the export started, RFC 3339 UTC.
    pub exported_at: String,
    /// The same, ms since the epoch.
    pub exported_at_ms: i64,
    /// The street, when a readable roster is published.
    pub street: Option<StreetInfo>,
    /// The published roster and catalogue version (0: none published).
    pub org_version: u64,
    /// The store.
    pub store: StoreInfo,
    /// The highest feed position when the export started: every change up to it is in the
    /// export (changes that arrived while it ran may be too).
    pub feed_position: u64,
    /// What the export holds.
    pub counts: Counts,
    /// Every file but the manifest and the photo files (which are named by their SHA-256 and
    /// listed with their sizes in `photos.jsonl`), with size and SHA-256.
    pub files: Vec<FileEntry>,
}

fn io(path: &Path, e: std::io::Error) -> ServerError {
    ServerError::Internal(format!("{}: {e}", path.display()))
}

fn json<T: Serialize + ?Sized>(v: &T) -> Result<String, ServerError> {
    serde_json::to_string(v).map_err(|e| ServerError::Internal(format!("JSON: {e}")))
}

fn scratch_err(e: rusqlite::Error) -> ServerError {
    ServerError::Internal(format!("export scratch index: {e}"))
}

/// Checks that `out` is a new or empty folder and creates it. Nothing is written when it is
/// not.
fn prepare_out(out: &Path) -> Result<(), ServerError> {
    match fs::metadata(out) {
        Ok(meta) if !meta.is_dir() => Err(ServerError::BadRequest(format!(
            "{} exists and is not a folder",
            out.display()
        ))),
        Ok(_) => {
            let mut entries = fs::read_dir(out).map_err(|e| io(out, e))?;
            if entries.next().is_some() {
                Err(ServerError::BadRequest(format!(
                    "{} is not empty: export into a new or empty folder",
                    out.display()
                )))
            } else {
                Ok(())
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(out).map_err(|e| io(out, e))
        }
        Err(e) => Err(io(out, e)),
    }
}

/// Creates a file that must not exist yet.
fn create_new(path: &Path) -> Result<File, ServerError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| io(path, e))
}

/// A JSON Lines file being written.
struct Lines {
    path: PathBuf,
    w: BufWriter<File>,
}

impl Lines {
    fn create(path: PathBuf) -> Result<Lines, ServerError> {
        let w = BufWriter::new(create_new(&path)?);
        Ok(Lines { path, w })
    }

    fn line(&mut self, text: &str) -> Result<(), ServerError> {
        self.w
            .write_all(text.as_bytes())
            .and_then(|()| self.w.write_all(b"\n"))
            .map_err(|e| io(&self.path, e))
    }

    fn finish(mut self) -> Result<(), ServerError> {
        self.w.flush().map_err(|e| io(&self.path, e))?;
        self.w.get_ref().sync_all().map_err(|e| io(&self.path, e))
    }
}

/// Size and SHA-256 of a file, read in pieces.
fn file_entry(dir: &Path, name: &str) -> Result<FileEntry, ServerError> {
    let path = dir.join(name);
    let mut f = File::open(&path).map_err(|e| io(&path, e))?;
    let (bytes, sha256) = hash_reader(&mut f).map_err(|e| io(&path, e))?;
    Ok(FileEntry {
        path: name.to_string(),
        bytes,
        sha256,
    })
}

fn hash_reader(r: &mut impl Read) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((total, hex::encode(hasher.finalize())))
}

/// Writes the whole street into `out` (a new or empty folder): see the module doc and
/// `docs/EXPORT.md`. Returns the manifest written.
pub fn export(
    storage: &dyn Storage,
    blobs: &BlobStore,
    out: &Path,
) -> Result<Manifest, ServerError> {
    export_paged(storage, blobs, out, PAGE)
}

/// [`export`] reading `page` documents per transaction.
fn export_paged(
    storage: &dyn Storage,
    blobs: &BlobStore,
    out: &Path,
    page_size: u32,
) -> Result<Manifest, ServerError> {
    prepare_out(out)?;
    let now = chrono::Utc::now();
    let now_ms = now.timestamp_millis();
    let (org, feed_position) = with_tx(storage, |tx| Ok((tx.org()?, tx.max_position()?)))?;
    let mut files = Vec::new();
    let mut street = None;
    let org_version = org.as_ref().map(|o| o.version).unwrap_or(0);
    if let Some(org) = &org {
        for (name, text) in [(ROSTER, &org.roster), (CATALOGUE, &org.catalogue)] {
            let path = out.join(name);
            let mut f = create_new(&path)?;
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| io(&path, e))?;
        }
        street = Roster::from_json("roster", &org.roster)
            .ok()
            .map(|r| StreetInfo {
                id: r.street.id.clone(),
                name: r.street.name.clone(),
                case_prefix: r.street.case_prefix.clone(),
            });
    }

    let mut counts = Counts::default();
    let scratch_path = out.join(SCRATCH);
    let scratch = Scratch::open(&scratch_path)?;
    let mut cases = Lines::create(out.join(CASES))?;
    let mut patrols = Lines::create(out.join(PATROLS))?;
    let mut after = String::new();
    loop {
        let page = with_tx(storage, |tx| tx.cases_after(&after, page_size))?;
        let Some(last) = page.last() else { break };
        after = last.case_id.clone();
        let mut refs = Vec::new();
        for stored in &page {
            let line = document_line(stored, now_ms, &mut refs);
            match line.target {
                Target::Case => {
                    counts.cases += 1;
                    counts.case_events += line.events;
                    cases.line(&line.text)?;
                }
                Target::Patrol => {
                    counts.patrols += 1;
                    counts.patrol_events += line.events;
                    patrols.line(&line.text)?;
                }
            }
            if line.unreadable {
                counts.unreadable += 1;
                tracing::warn!(id = %stored.case_id, "export: document written with an error");
            }
        }
        scratch.add(&refs)?;
        if page.len() < page_size as usize {
            break;
        }
    }
    cases.finish()?;
    patrols.finish()?;

    fs::create_dir(out.join(PHOTO_DIR)).map_err(|e| io(&out.join(PHOTO_DIR), e))?;
    let mut photos = Lines::create(out.join(PHOTOS))?;
    scratch.each_file(|hash, uses| {
        let line = photo_line(storage, blobs, out, hash, uses, &mut counts)?;
        photos.line(&json(&line)?)
    })?;
    photos.finish()?;
    drop(scratch);
    fs::remove_file(&scratch_path).map_err(|e| io(&scratch_path, e))?;

    for name in [CASES, PATROLS, PHOTOS, ROSTER, CATALOGUE] {
        if out.join(name).exists() {
            files.push(file_entry(out, name)?);
        }
    }
    let manifest = Manifest {
        format: "xiangying-export".into(),
        version: FORMAT_VERSION,
        exported_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        exported_at_ms: now_ms,
        street,
        org_version,
        store: StoreInfo {
            backend: storage.kind().to_string(),
            id: None,
        },
        feed_position,
        counts,
        files,
    };
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| ServerError::Internal(format!("JSON: {e}")))?;
    let path = out.join(MANIFEST);
    let mut f = create_new(&path)?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.write_all(b"\n"))
        .and_then(|()| f.sync_all())
        .map_err(|e| io(&path, e))?;
    Ok(manifest)
}

/// A few lines for the operator: what was written where, and what needs a look.
pub fn summary(m: &Manifest, out: &Path) -> String {
    let c = &m.counts;
    let mut text = format!(
        "exported {} cases ({} events), {} patrols ({} log entries), {} photo files ({} written) into {}",
        c.cases,
        c.case_events,
        c.patrols,
        c.patrol_events,
        c.photos,
        c.photos_written,
        out.display()
    );
    if c.unreadable > 0 {
        text.push_str(&format!(
            "\n{} documents could not be read: their lines carry an \"error\" field",
            c.unreadable
        ));
    }
    if c.photos_missing > 0 {
        text.push_str(&format!(
            "\n{} referenced photo files are missing from the blob store (\"missing\": true)",
            c.photos_missing
        ));
    }
    if c.photo_errors > 0 {
        text.push_str(&format!(
            "\n{} photo files were not exported: their lines carry an \"error\" field",
            c.photo_errors
        ));
    }
    text
}

/// Which file a document's line goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Case,
    Patrol,
}

/// A document's line.
struct DocLine {
    target: Target,
    text: String,
    events: u64,
    unreadable: bool,
}

/// One use of a photo or thumbnail file by a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhotoUse {
    /// The case.
    pub case: String,
    /// `photo` or `thumbnail`.
    #[serde(rename = "as")]
    pub role: &'static str,
    /// The photo's hash (for a thumbnail: the photo it shows).
    pub photo: String,
    /// `before`, `after` or `evidence`.
    pub stage: String,
    /// Who attached it.
    pub added_by: String,
    /// When, device clock, ms since the epoch.
    pub added_at: i64,
    #[serde(skip)]
    file: String,
}

/// A document's line: its content, or an error line when it cannot be read. Photo uses of a
/// readable case are added to `refs`.
fn document_line(stored: &StoredCase, now: i64, refs: &mut Vec<PhotoUse>) -> DocLine {
    // Read only: nothing is ever written with this actor.
    let actor = automerge::ActorId::from(b"xiangying-export".to_vec());
    let id = stored.case_id.as_str();
    let feed_pos = stored.row.feed_pos;
    let doc = match SyncedDoc::load(&stored.row.snapshot, &actor) {
        Ok(doc) => doc,
        Err(e) => return error_line(Target::Case, id, None, None, feed_pos, e.to_string()),
    };
    match doc {
        SyncedDoc::Case(doc) => match case_line(id, feed_pos, &doc, now) {
            Ok((text, events, uses)) => {
                refs.extend(uses);
                DocLine {
                    target: Target::Case,
                    text,
                    events,
                    unreadable: false,
                }
            }
            Err(e) => error_line(Target::Case, id, Some("case"), doc.number(), feed_pos, e),
        },
        SyncedDoc::Patrol(doc) => match patrol_line(id, feed_pos, &doc) {
            Ok((text, events)) => DocLine {
                target: Target::Patrol,
                text,
                events,
                unreadable: false,
            },
            Err(e) => error_line(Target::Patrol, id, Some("patrol"), None, feed_pos, e),
        },
    }
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    document: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<String>,
    feed_pos: u64,
    error: String,
}

fn error_line(
    target: Target,
    id: &str,
    document: Option<&str>,
    number: Option<String>,
    feed_pos: u64,
    error: String,
) -> DocLine {
    let line = ErrorLine {
        id,
        document,
        number,
        feed_pos,
        error,
    };
    // Serialising strings and numbers cannot fail; keep a line even if it did.
    let text = serde_json::to_string(&line)
        .unwrap_or_else(|_| format!("{{\"id\":{id:?},\"error\":\"unserialisable\"}}"));
    DocLine {
        target,
        text,
        events: 0,
        unreadable: true,
    }
}

/// An event or log entry: the action's type beside its payload, and the fold's outcome.
#[derive(Serialize)]
struct EventOut<'a> {
    id: &'a str,
    at: i64,
    by: &'a Author,
    #[serde(rename = "type")]
    kind: String,
    payload: serde_json::Value,
    #[serde(flatten)]
    outcome: &'a Outcome,
}

/// Splits an action serialised with its `type` tag into the type and the rest.
fn split_action<A: Serialize>(action: &A) -> Result<(String, serde_json::Value), String> {
    let mut v = serde_json::to_value(action).map_err(|e| format!("action: {e}"))?;
    let kind = match v.as_object_mut().and_then(|m| m.remove("type")) {
        Some(serde_json::Value::String(s)) => s,
        _ => return Err("action without a type".into()),
    };
    Ok((kind, v))
}

#[derive(Serialize)]
struct CaseStateOut<'a> {
    status: Status,
    level: Level,
    assignee: &'a Option<Assignee>,
    deadline: i64,
    overdue: bool,
    handled_on_spot: bool,
    resolved_by: &'a Option<String>,
    resolved_at: Option<i64>,
    closed_at: Option<i64>,
    holders: &'a [String],
    claimed_by: &'a Option<String>,
    duplicate_of: &'a Option<String>,
    reworks: u32,
    extensions: u32,
    updated_at: i64,
}

#[derive(Serialize)]
struct CaseLine<'a> {
    id: &'a str,
    number: Option<String>,
    feed_pos: u64,
    facts: &'a Facts,
    state: CaseStateOut<'a>,
    events: Vec<EventOut<'a>>,
    photos: &'a [PhotoRef],
}

fn case_line(
    id: &str,
    feed_pos: u64,
    doc: &CaseDoc,
    now: i64,
) -> Result<(String, u64, Vec<PhotoUse>), String> {
    let facts = doc.facts().map_err(|e| e.to_string())?;
    let events = doc.events().map_err(|e| e.to_string())?;
    let photos = doc.photos().map_err(|e| e.to_string())?;
    let state = fold_case(&facts, &events);
    let mut out = Vec::with_capacity(state.history.len());
    for f in &state.history {
        let (kind, payload) = split_action(&f.event.action)?;
        out.push(EventOut {
            id: &f.event.id,
            at: f.event.at,
            by: &f.event.by,
            kind,
            payload,
            outcome: &f.outcome,
        });
    }
    let line = CaseLine {
        id,
        number: doc.number(),
        feed_pos,
        facts: &facts,
        state: CaseStateOut {
            status: state.status,
            level: state.level,
            assignee: &state.assignee,
            deadline: state.deadline,
            overdue: state.is_overdue(now),
            handled_on_spot: state.handled_on_spot,
            resolved_by: &state.resolved_by,
            resolved_at: state.resolved_at,
            closed_at: state.closed_at,
            holders: &state.holders,
            claimed_by: &state.claimed_by,
            duplicate_of: &state.duplicate_of,
            reworks: state.reworks,
            extensions: state.extensions,
            updated_at: state.updated_at,
        },
        events: out,
        photos: &photos,
    };
    let text = serde_json::to_string(&line).map_err(|e| e.to_string())?;
    let mut uses = Vec::with_capacity(photos.len() * 2);
    for p in &photos {
        for (file, role) in [(&p.hash, "photo"), (&p.thumb, "thumbnail")] {
            uses.push(PhotoUse {
                case: id.to_string(),
                role,
                photo: p.hash.clone(),
                stage: p.stage.as_str().to_string(),
                added_by: p.added_by.clone(),
                added_at: p.added_at,
                file: file.clone(),
            });
        }
    }
    Ok((text, events.len() as u64, uses))
}

#[derive(Serialize)]
struct PatrolStateOut<'a> {
    ended_at: Option<i64>,
    voided: &'a Option<String>,
    companions: &'a [Companion],
    points: u32,
    distance_m: f64,
    last_fix_at: Option<i64>,
    duration_ms: i64,
}

#[derive(Serialize)]
struct PatrolLine<'a> {
    id: &'a str,
    feed_pos: u64,
    facts: &'a PatrolFacts,
    state: PatrolStateOut<'a>,
    events: Vec<EventOut<'a>>,
    track: &'a [TrackPoint],
}

fn patrol_line(id: &str, feed_pos: u64, doc: &PatrolDoc) -> Result<(String, u64), String> {
    let facts = doc.facts().map_err(|e| e.to_string())?;
    let events = doc.events().map_err(|e| e.to_string())?;
    let track = doc.track().map_err(|e| e.to_string())?;
    let state = fold_patrol(&facts, &events, &track);
    let mut out = Vec::with_capacity(state.history.len());
    for (event, outcome) in &state.history {
        let (kind, payload) = split_action(&event.action)?;
        out.push(EventOut {
            id: &event.id,
            at: event.at,
            by: &event.by,
            kind,
            payload,
            outcome,
        });
    }
    let line = PatrolLine {
        id,
        feed_pos,
        facts: &facts,
        state: PatrolStateOut {
            ended_at: state.ended_at,
            voided: &state.voided,
            companions: &state.companions,
            points: state.points,
            distance_m: state.distance_m,
            last_fix_at: state.last_fix_at,
            duration_ms: state.duration_ms(&facts),
        },
        events: out,
        track: &track,
    };
    let text = serde_json::to_string(&line).map_err(|e| e.to_string())?;
    Ok((text, events.len() as u64))
}

/// The photo uses gathered so far, in a scratch SQLite file, so that the photo listing needs
/// no memory per photo.
struct Scratch {
    conn: rusqlite::Connection,
}

impl Scratch {
    fn open(path: &Path) -> Result<Scratch, ServerError> {
        let conn = rusqlite::Connection::open(path).map_err(scratch_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE uses (file TEXT NOT NULL, role TEXT NOT NULL, photo TEXT NOT NULL,
                case_id TEXT NOT NULL, stage TEXT NOT NULL, added_by TEXT NOT NULL,
                added_at INTEGER NOT NULL);
             CREATE INDEX uses_by_file ON uses (file, case_id, role, photo);",
        )
        .map_err(scratch_err)?;
        Ok(Scratch { conn })
    }

    fn add(&self, uses: &[PhotoUse]) -> Result<(), ServerError> {
        let tx = self.conn.unchecked_transaction().map_err(scratch_err)?;
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO uses (file, role, photo, case_id, stage, added_by, added_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(scratch_err)?;
            for u in uses {
                ins.execute(rusqlite::params![
                    u.file, u.role, u.photo, u.case, u.stage, u.added_by, u.added_at
                ])
                .map_err(scratch_err)?;
            }
        }
        tx.commit().map_err(scratch_err)
    }

    /// Calls `f` once per distinct file, in hash order, with every use of it.
    fn each_file(
        &self,
        mut f: impl FnMut(&str, Vec<PhotoUse>) -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT file, role, photo, case_id, stage, added_by, added_at FROM uses
                 ORDER BY file, case_id, role, photo",
            )
            .map_err(scratch_err)?;
        let mut rows = stmt.query([]).map_err(scratch_err)?;
        let mut current: Option<String> = None;
        let mut uses: Vec<PhotoUse> = Vec::new();
        while let Some(r) = rows.next().map_err(scratch_err)? {
            let file: String = r.get(0).map_err(scratch_err)?;
            let role: String = r.get(1).map_err(scratch_err)?;
            let u = PhotoUse {
                role: if role == "thumbnail" {
                    "thumbnail"
                } else {
                    "photo"
                },
                photo: r.get(2).map_err(scratch_err)?,
                case: r.get(3).map_err(scratch_err)?,
                stage: r.get(4).map_err(scratch_err)?,
                added_by: r.get(5).map_err(scratch_err)?,
                added_at: r.get(6).map_err(scratch_err)?,
                file: file.clone(),
            };
            if current.as_deref() != Some(file.as_str()) {
                if let Some(done) = current.take() {
                    f(&done, std::mem::take(&mut uses))?;
                }
                current = Some(file);
            }
            if !uses.contains(&u) {
                uses.push(u);
            }
        }
        if let Some(done) = current {
            f(&done, uses)?;
        }
        Ok(())
    }
}

/// A device that uploaded the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct UploaderOut {
    device: String,
    person: String,
}

impl From<PhotoUploader> for UploaderOut {
    fn from(u: PhotoUploader) -> Self {
        UploaderOut {
            device: u.device,
            person: u.person,
        }
    }
}

/// A line of `photos.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct PhotoLine {
    sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    missing: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    cases: Vec<String>,
    uses: Vec<PhotoUse>,
    uploaded_by: Vec<UploaderOut>,
}

/// Copies one referenced file into the export (checking its content against its name) and
/// returns its line.
fn photo_line(
    storage: &dyn Storage,
    blobs: &BlobStore,
    out: &Path,
    hash: &str,
    uses: Vec<PhotoUse>,
    counts: &mut Counts,
) -> Result<PhotoLine, ServerError> {
    counts.photos += 1;
    let mut cases: Vec<String> = uses.iter().map(|u| u.case.clone()).collect();
    cases.dedup();
    let mut line = PhotoLine {
        sha256: hash.to_string(),
        file: None,
        bytes: None,
        missing: false,
        error: None,
        cases,
        uses,
        uploaded_by: Vec::new(),
    };
    if !valid_hash(hash) {
        // Never used as a file name.
        counts.photo_errors += 1;
        line.error = Some("the reference is not a SHA-256 hash".into());
        return Ok(line);
    }
    line.uploaded_by = with_tx(storage, |tx| tx.photo_uploaders(hash))?
        .into_iter()
        .map(UploaderOut::from)
        .collect();
    let mut blob = match blobs.open(hash) {
        Ok(b) => b,
        Err(ServerError::NotFound) => {
            counts.photos_missing += 1;
            line.missing = true;
            return Ok(line);
        }
        Err(e) => return Err(e),
    };
    let path = out.join(PHOTO_DIR).join(hash);
    let mut dest = create_new(&path)?;
    let mut tee = Tee {
        from: &mut blob.file,
        to: &mut dest,
    };
    let (bytes, sha) = hash_reader(&mut tee).map_err(|e| io(&path, e))?;
    dest.sync_all().map_err(|e| io(&path, e))?;
    drop(dest);
    if sha != hash {
        fs::remove_file(&path).map_err(|e| io(&path, e))?;
        counts.photo_errors += 1;
        line.error = Some(format!(
            "the stored file's content does not match its name (its SHA-256 is {sha})"
        ));
        return Ok(line);
    }
    counts.photos_written += 1;
    line.file = Some(format!("{PHOTO_DIR}/{hash}"));
    line.bytes = Some(bytes);
    Ok(line)
}

/// Reads from `from`, writing everything read to `to`.
struct Tee<'a> {
    from: &'a mut File,
    to: &'a mut File,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.from.read(buf)?;
        self.to.write_all(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;
    use crate::storage::{CaseMeta, NewChange};
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit, ObjType, ReadDoc, Value};
    use xiangying_core::case::{Action, CaseKind, Claim, Event};
    use xiangying_core::org::{Point, Role, Scope};

    const T0: i64 = 1_795_939_200_000;

    fn facts(id: &str) -> Facts {
        Facts {
            id: id.into(),
            kind: CaseKind::Problem,
            category: "010101".into(),
            category_name: "井盖破损".into(),
            limit_hours: 24,
            clock: None,
            deadline: None,
            reporter: "gw1".into(),
            created_at: T0,
            location: Point {
                lon: 123.4,
                lat: 41.8,
            },
            grid: "g1".into(),
            community: "c1".into(),
            segment: None,
            description: "井盖缺失".into(),
        }
    }

    fn case_snapshot(id: &str) -> Vec<u8> {
        let claim = Claim {
            person: "gw1".into(),
            role: Role::GridWorker,
            scope: Scope::Grid("g1".into()),
        };
        let first = Event::new(
            T0,
            claim,
            Action::Reported {
                assignee: Assignee::Person("gw1".into()),
            },
        );
        let actor = ActorId::from(b"test-device".to_vec());
        CaseDoc::create(&actor, &facts(id), &first).unwrap().save()
    }

    /// A case whose second event has an action type no build knows.
    fn unknown_action_snapshot(id: &str) -> Vec<u8> {
        let mut doc = AutoCommit::load(&case_snapshot(id)).unwrap();
        let events = match doc.get(automerge::ROOT, "events").unwrap() {
            Some((Value::Object(ObjType::List), obj)) => obj,
            _ => panic!("no events list"),
        };
        let raw = serde_json::json!({
            "id": "0190f000-0000-7000-8000-000000000001",
            "at": T0 + 1,
            "by": {"kind": "person", "person": "gw1", "role": "grid_worker", "scope": {"kind": "grid", "id": "g1"}},
            "action": {"type": "teleported", "to": "moon"},
        });
        doc.insert(&events, 1, raw.to_string()).unwrap();
        doc.save()
    }

    fn store(s: &dyn Storage, id: &str, snapshot: Vec<u8>) {
        with_tx(s, |tx| {
            let first = tx.allocate_positions(1)?;
            tx.save_case(
                &CaseMeta {
                    case_id: id.into(),
                    number: None,
                    status: "reported".into(),
                    level: "grid".into(),
                    grid: "g1".into(),
                    community: "c1".into(),
                    reporter: "gw1".into(),
                    category: "010101".into(),
                    created_at: T0,
                    received_at: T0,
                    ranking: None,
                },
                &snapshot,
                &[NewChange {
                    bytes: vec![1],
                    device: None,
                }],
                first,
                &[],
                &[],
            )
        })
        .unwrap();
    }

    fn lines(path: &Path) -> Vec<serde_json::Value> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn setup() -> (tempfile::TempDir, SqliteStorage, BlobStore) {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(&dir.path().join("data")).unwrap();
        let blobs = BlobStore::new(dir.path().join("data/photos"), 1 << 20);
        (dir, storage, blobs)
    }

    #[test]
    fn a_non_empty_folder_or_a_file_is_refused_and_left_as_it_was() {
        let (dir, storage, blobs) = setup();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("keep.txt"), "mine").unwrap();
        let e = export(&storage, &blobs, &out).unwrap_err();
        assert!(e.to_string().contains("is not empty"), "{e}");
        let names: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("keep.txt")]);
        assert_eq!(fs::read_to_string(out.join("keep.txt")).unwrap(), "mine");

        let file = dir.path().join("a-file");
        fs::write(&file, "x").unwrap();
        let e = export(&storage, &blobs, &file).unwrap_err();
        assert!(e.to_string().contains("not a folder"), "{e}");
        assert_eq!(fs::read_to_string(&file).unwrap(), "x");
    }

    #[test]
    fn unreadable_documents_get_an_error_line_and_the_export_carries_on() {
        let (dir, storage, blobs) = setup();
        store(&storage, "case-a", case_snapshot("case-a"));
        store(&storage, "case-b", b"not an automerge document".to_vec());
        store(&storage, "case-c", unknown_action_snapshot("case-c"));
        store(&storage, "case-d", case_snapshot("case-d"));
        let out = dir.path().join("out");
        let m = export(&storage, &blobs, &out).unwrap();
        let cases = lines(&out.join(CASES));
        let ids: Vec<&str> = cases.iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["case-a", "case-b", "case-c", "case-d"]);
        assert!(cases[1]["error"].is_string(), "{}", cases[1]);
        // An unknown action is either an error line or (once the build keeps unknown
        // actions) an event of that type: never the end of the export.
        let c = &cases[2];
        assert!(
            c["error"].is_string()
                || c["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["type"] == "teleported"),
            "{c}"
        );
        let unreadable = cases.iter().filter(|c| c.get("error").is_some()).count() as u64;
        assert!(unreadable >= 1);
        assert_eq!(m.counts.unreadable, unreadable);
        assert_eq!(m.counts.cases, 4);
        for good in [&cases[0], &cases[3]] {
            assert_eq!(good["state"]["status"], "in_progress", "{good}");
            assert_eq!(good["events"][0]["type"], "reported");
            assert_eq!(good["events"][0]["outcome"], "applied");
            assert_eq!(good["events"][0]["payload"]["assignee"]["id"], "gw1");
            assert_eq!(good["facts"]["description"], "井盖缺失");
        }
        // The scratch index is gone, the manifest is there.
        assert!(!out.join(SCRATCH).exists());
        let written: Manifest = m;
        let on_disk: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join(MANIFEST)).unwrap()).unwrap();
        assert_eq!(on_disk["counts"]["unreadable"], written.counts.unreadable);
        assert_eq!(on_disk["version"], FORMAT_VERSION);
    }

    #[test]
    fn pages_cover_every_document_once_in_id_order() {
        let (dir, storage, blobs) = setup();
        let mut ids: Vec<String> = (0..23)
            .map(|i| format!("case-{:02}", (i * 7) % 23))
            .collect();
        for id in &ids {
            store(&storage, id, case_snapshot(id));
        }
        ids.sort();
        for page in [1, 5, 23, 24] {
            let out = dir.path().join(format!("out-{page}"));
            let m = export_paged(&storage, &blobs, &out, page).unwrap();
            let got: Vec<String> = lines(&out.join(CASES))
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(got, ids, "page {page}");
            assert_eq!(m.counts.cases, 23);
        }
    }

    #[test]
    fn an_action_splits_into_its_type_and_payload() {
        let (kind, payload) = split_action(&Action::Verified { note: "好".into() }).unwrap();
        assert_eq!(kind, "verified");
        assert_eq!(payload, serde_json::json!({"note": "好"}));
    }
}
