//! `admin export`: the whole street as JSON Lines plus photo files, for archives, audits and
//! other systems. The format is described in `docs/EXPORT.md`; [`FORMAT_VERSION`] names it.
//!
//! - The output folder must be new or empty; nothing else is ever written to or removed.
//! - Documents are read in pages of [`PAGE`] in id order ([`crate::storage::DocTx::cases_after`]),
//!   each page in a short transaction of its own, so the server keeps serving and memory
//!   stays bounded however many cases the street holds. Photo references are gathered in a
//!   scratch SQLite file inside the output folder (removed at the end), not in memory.
//! - A document or event that cannot be read (a corrupt snapshot, an action this build does
//!   not know) does not stop the export: its line carries an `"error"` field and the manifest
//!   counts it. A referenced photo missing from the blob store is listed with
//!   `"missing": true`.
//! - `manifest.json` is written last: a folder without it is an interrupted export.

mod documents;
mod photos;

use crate::blobs::BlobStore;
use crate::error::ServerError;
use crate::storage::{Storage, with_tx};
use documents::{Target, document_line};
use photos::{Scratch, photo_line};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use xiangying_model::ids::DocId;
use xiangying_model::org::Roster;

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
    /// The data files (`cases.jsonl`, …), with size and SHA-256. In `manifest.json` the photo
    /// files follow them in the same list, streamed from `photos.jsonl` (so that a street's
    /// hundreds of thousands of photos are never held in memory).
    pub files: Vec<FileEntry>,
}

/// A file system error, naming the path.
fn io(path: &Path, e: std::io::Error) -> ServerError {
    ServerError::Internal(format!("{}: {e}", path.display()))
}

/// Compact JSON text.
fn json<T: Serialize + ?Sized>(v: &T) -> Result<String, ServerError> {
    serde_json::to_string(v).map_err(|e| ServerError::Internal(format!("JSON: {e}")))
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

/// Reads `r` to its end: how many bytes, and their SHA-256.
fn hash_reader(r: &mut impl Read) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        total += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((total, hex::encode(hasher.finalize())))
}

/// Writes the whole street into `out` (a new or empty folder): see the module doc and
/// `docs/EXPORT.md`. Returns the manifest written (its `files` without the photo files: see
/// [`Manifest::files`]). A folder that is not empty, or a file, is refused before anything is
/// written.
pub fn export(
    storage: &dyn Storage,
    blobs: &BlobStore,
    out: &Path,
) -> Result<Manifest, ServerError> {
    export_paged(storage, blobs, out, PAGE)
}

/// [`export`] reading `page_size` documents per transaction.
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
    let mut after = DocId::default();
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
    write_manifest(out, &manifest)?;
    Ok(manifest)
}

/// The written part of a `photos.jsonl` line.
#[derive(serde::Deserialize)]
struct WrittenPhoto {
    sha256: String,
    file: Option<String>,
    bytes: Option<u64>,
}

/// Writes `manifest.json`: the manifest, its `files` followed by an entry for every photo file
/// `photos.jsonl` lists as written (their SHA-256 was checked while copying), one line each.
fn write_manifest(out: &Path, manifest: &Manifest) -> Result<(), ServerError> {
    let path = out.join(MANIFEST);
    let mut w = BufWriter::new(create_new(&path)?);
    let text = serde_json::to_string_pretty(manifest)
        .map_err(|e| ServerError::Internal(format!("JSON: {e}")))?;
    // The pretty text ends with the `files` list: reopen it to append the photo files.
    let head = text
        .strip_suffix("\n  ]\n}")
        .ok_or_else(|| ServerError::Internal("manifest layout".into()))?;
    w.write_all(head.as_bytes()).map_err(|e| io(&path, e))?;
    let photos_path = out.join(PHOTOS);
    let photos = File::open(&photos_path).map_err(|e| io(&photos_path, e))?;
    for line in std::io::BufRead::lines(std::io::BufReader::new(photos)) {
        let line = line.map_err(|e| io(&photos_path, e))?;
        let p: WrittenPhoto = serde_json::from_str(&line)
            .map_err(|e| ServerError::Internal(format!("{}: {e}", photos_path.display())))?;
        if let (Some(file), Some(bytes)) = (p.file, p.bytes) {
            let entry = json(&FileEntry {
                path: file,
                bytes,
                sha256: p.sha256,
            })?;
            w.write_all(b",\n    ")
                .and_then(|()| w.write_all(entry.as_bytes()))
                .map_err(|e| io(&path, e))?;
        }
    }
    w.write_all(b"\n  ]\n}\n")
        .and_then(|()| w.flush())
        .map_err(|e| io(&path, e))?;
    w.get_ref().sync_all().map_err(|e| io(&path, e))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;
    use crate::storage::{CaseMeta, NewChange};
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit, ObjType, ReadDoc, Value};
    use xiangying_model::case::{
        Action, Assignee, CaseDoc, CaseKind, Claim, Event, Facts, PhotoRef, PhotoStage,
    };
    use xiangying_model::document::Document;
    use xiangying_model::org::{Point, Role, Scope};

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

    /// A case with these photos.
    fn case_with_photos(id: &str, photos: &[PhotoRef]) -> Vec<u8> {
        let actor = ActorId::from(b"test-device".to_vec());
        let mut doc = CaseDoc::load(&case_snapshot(id), &actor).unwrap();
        for p in photos {
            doc.add_photo(p).unwrap();
        }
        doc.save()
    }

    /// A case whose second event has an action type no build knows.
    fn unknown_action_snapshot(id: &str) -> Vec<u8> {
        with_unknown_action(&case_snapshot(id))
    }

    /// The document with an event of an action type no build knows inserted second.
    fn with_unknown_action(snapshot: &[u8]) -> Vec<u8> {
        let mut doc = AutoCommit::load(snapshot).unwrap();
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
        // actions) an event kept in the history: never the end of the export.
        let c = &cases[2];
        assert!(
            c["error"].is_string() || c["events"].as_array().unwrap().len() == 2,
            "{c}"
        );
        if c["error"].is_string() {
            // What could be read is kept beside the error.
            assert_eq!(c["facts"]["id"], "case-c", "{c}");
            assert_eq!(c["document"], "case", "{c}");
        }
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

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn photo_ref(hash: &str, thumb: &str) -> PhotoRef {
        PhotoRef {
            hash: hash.into(),
            thumb: thumb.into(),
            stage: PhotoStage::Before,
            bytes: 10,
            captured_at: None,
            place: None,
            added_by: "gw1".into(),
            added_at: T0,
        }
    }

    /// Puts a file into the blob store under `name` (normally its hash).
    fn put_blob(blobs: &BlobStore, name: &str, bytes: &[u8]) {
        let dir = blobs.root().join(&name[..2]);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(name), bytes).unwrap();
    }

    #[test]
    fn missing_tampered_and_malformed_photo_files_are_listed_and_the_export_carries_on() {
        let (dir, storage, blobs) = setup();
        let good = photo_ref(&sha(b"good photo"), &sha(b"good thumb"));
        put_blob(&blobs, &good.hash, b"good photo");
        put_blob(&blobs, &good.thumb, b"good thumb");
        let missing = photo_ref(&sha(b"never uploaded"), &sha(b"never uploaded thumb"));
        let tampered = photo_ref(&sha(b"original"), &sha(b"t thumb"));
        put_blob(&blobs, &tampered.hash, b"tampered");
        put_blob(&blobs, &tampered.thumb, b"t thumb");
        // References that are no SHA-256 hash must never become file names.
        let malformed = photo_ref("../../escape", "ZZ");
        store(
            &storage,
            "case-p",
            case_with_photos(
                "case-p",
                &[good.clone(), missing.clone(), tampered.clone(), malformed],
            ),
        );
        // A case whose events cannot all be read still has its photos exported.
        store(
            &storage,
            "case-u",
            with_unknown_action(&case_with_photos("case-u", std::slice::from_ref(&good))),
        );
        let out = dir.path().join("out");
        let m = export(&storage, &blobs, &out).unwrap();
        assert_eq!(m.counts.photos, 8);
        assert_eq!(m.counts.photos_written, 3);
        assert_eq!(m.counts.photos_missing, 2);
        assert_eq!(m.counts.photo_errors, 3);
        let photos: std::collections::BTreeMap<String, serde_json::Value> =
            lines(&out.join(PHOTOS))
                .into_iter()
                .map(|p| (p["sha256"].as_str().unwrap().to_string(), p))
                .collect();
        assert_eq!(photos.len(), 8);
        assert_eq!(
            photos[&good.hash]["cases"],
            serde_json::json!(["case-p", "case-u"])
        );
        assert_eq!(photos[&good.thumb]["uses"][0]["as"], "thumbnail");
        assert_eq!(photos[&good.thumb]["uses"][0]["photo"], good.hash.as_str());
        assert_eq!(photos[&missing.hash]["missing"], true);
        assert_eq!(photos[&missing.thumb]["missing"], true);
        assert!(
            photos[&tampered.hash]["error"]
                .as_str()
                .unwrap()
                .contains("does not match")
        );
        assert!(photos[&tampered.hash].get("file").is_none());
        assert!(photos["../../escape"]["error"].is_string());
        assert!(photos["ZZ"]["error"].is_string());
        // Exactly the good files were written, each matching its name, nothing outside.
        let mut written: Vec<String> = fs::read_dir(out.join(PHOTO_DIR))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        written.sort();
        let mut expected = vec![
            good.hash.clone(),
            good.thumb.clone(),
            tampered.thumb.clone(),
        ];
        expected.sort();
        assert_eq!(written, expected);
        for name in &written {
            assert_eq!(
                &sha(&fs::read(out.join(PHOTO_DIR).join(name)).unwrap()),
                name
            );
        }
        assert!(!dir.path().join("escape").exists());
        assert!(!out.join("escape").exists());
        // The manifest lists them after the data files, with their sizes.
        let manifest: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(out.join(MANIFEST)).unwrap()).unwrap();
        let mut listed: Vec<(String, u64)> = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| {
                let path = f["path"].as_str()?.strip_prefix("photos/")?;
                assert_eq!(f["sha256"], path);
                Some((path.to_string(), f["bytes"].as_u64()?))
            })
            .collect();
        listed.sort();
        let sizes: Vec<(String, u64)> = written
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    fs::metadata(out.join(PHOTO_DIR).join(n)).unwrap().len(),
                )
            })
            .collect();
        assert_eq!(listed, sizes);
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
}
