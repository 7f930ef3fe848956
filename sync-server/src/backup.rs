//! `admin backup` and `admin restore`: a consistent copy of the store and its photo files,
//! taken while the server serves, and putting one back (server stopped) under a new epoch.
//!
//! A backup folder holds the database (`server.db`, an SQLite copy made with `VACUUM INTO`, or
//! `postgres.sql`, a plain `pg_dump` of the server's schema), the photo files under
//! `photos/<2 hex>/<sha-256>`, and `manifest.json` ([`Manifest`]), written last, naming every
//! file with its size and SHA-256. The database copy is taken first: a photo a case cites is
//! never removed (the clean-up removes only photos no case cites, [`crate::photo_sweep`]), so
//! every photo the copy knows is on disk by then.
//!
//! A restore verifies the whole backup before touching anything (a missing, damaged or extra
//! large file, a backup from a newer schema or of the other backend is refused, naming the
//! problem), then builds the restored store beside the live one (SQLite: a staging folder in
//! the data folder; PostgreSQL: a staging schema), migrates it, writes a new epoch and
//! `restored_at`, and only then swaps it in. The replaced store is kept, not deleted:
//! `before-restore-<time>/` in the data folder, or the schema `<schema>_before_<time>`.
//!
//! With photos in an S3 bucket (decision 0037) the backup streams each photo object into the
//! same `photos/<2 hex>/<sha-256>` files, and a restore puts into the bucket every photo of the
//! backup it lacks (before the store is swapped; photos already there stay, being named by
//! their content) and leaves the data folder's photos alone ([`backup_with`],
//! [`restore_with`]).

use crate::blobs::BlobStore;
use crate::error::{ServerError, StorageError};
use crate::storage::migrations::{self, LATEST};
use crate::storage::postgres::{PgOptions, PostgresStorage};
use crate::storage::sqlite::{self, SqliteStorage};
use crate::storage::{Storage, StoreIdentity, meta, with_tx};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The manifest's file name in a backup folder.
pub const MANIFEST: &str = "manifest.json";
/// The manifest format this build writes and reads.
pub const FORMAT: u32 = 1;
/// The PostgreSQL dump's file name in a backup folder.
pub const PG_DUMP_FILE: &str = "postgres.sql";

type Result<T> = std::result::Result<T, ServerError>;

fn io(what: &Path, e: std::io::Error) -> ServerError {
    ServerError::Internal(format!("{}: {e}", what.display()))
}

fn bad(msg: String) -> ServerError {
    ServerError::BadRequest(msg)
}

/// Where a server keeps its store: the data folder (photos, and the SQLite database unless
/// PostgreSQL is used) and, for PostgreSQL, the URL and schema.
#[derive(Debug, Clone)]
pub struct Location {
    /// The data folder.
    pub data: PathBuf,
    /// PostgreSQL, when used.
    pub postgres: Option<PgLocation>,
}

/// A PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgLocation {
    /// The URL.
    pub url: String,
    /// The schema holding the tables; `None`: the URL's current schema (normally `public`).
    pub schema: Option<String>,
}

impl Location {
    /// The store a server configuration names.
    pub fn of(cfg: &crate::Config) -> Location {
        Location {
            data: cfg.data.clone(),
            postgres: cfg.postgres.as_ref().map(|url| PgLocation {
                url: url.clone(),
                schema: None,
            }),
        }
    }

    fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    fn photos(&self) -> PathBuf {
        self.data.join("photos")
    }
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Its path in the backup folder, `/`-separated.
    pub path: String,
    /// Its size, bytes.
    pub size: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// What `manifest.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The manifest format ([`FORMAT`]).
    pub format: u32,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The store's id.
    pub store_id: String,
    /// The store's epoch when the backup was taken.
    pub epoch: String,
    /// The store's schema version.
    pub schema_version: u32,
    /// When the backup was taken (ms since the Unix epoch).
    pub created_at: i64,
    /// The same time, readable (UTC, RFC 3339).
    pub created_utc: String,
    /// Every file: the database first, then the photos.
    pub files: Vec<FileEntry>,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The backup's manifest.
    pub manifest: Manifest,
    /// The restored store's identity (its new epoch and `restored_at`).
    pub identity: StoreIdentity,
    /// Where the replaced store was kept.
    pub kept: String,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn stamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y%m%d%H%M%S%3f")
        .to_string()
}

/// Copies `from` to `to` (creating folders), returning the size and SHA-256 of what was copied.
fn copy_hashed(from: &Path, to: &Path) -> Result<(u64, String)> {
    let mut src = fs::File::open(from).map_err(|e| io(from, e))?;
    copy_read(&mut src, &from.display().to_string(), to)
}

/// Streams a whole photo from the store into `to`; returns its size and SHA-256.
fn copy_blob(blobs: &BlobStore, hash: &str, to: &Path) -> Result<(u64, String)> {
    let mut src = blobs.open(hash)?;
    copy_read(&mut src, &format!("photo {hash}"), to)
}

/// Streams `src` (named `what` in errors) into a new file `to` (creating folders), synced;
/// returns the size and SHA-256 of what was copied.
fn copy_read(src: &mut dyn Read, what: &str, to: &Path) -> Result<(u64, String)> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
    }
    let mut dst = fs::File::create(to).map_err(|e| io(to, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = src
            .read(&mut buf)
            .map_err(|e| ServerError::Internal(format!("{what}: {e}")))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n]).map_err(|e| io(to, e))?;
        size += n as u64;
    }
    dst.sync_all().map_err(|e| io(to, e))?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// The device id a restore's photo uploads are stored under.
const RESTORE_DEVICE: &str = "restore";

/// Puts every photo of the backup that `bucket` lacks into it, in pieces of at most
/// [`crate::blobs::s3::PART_BYTES`], each checked against its hash as any upload.
fn upload_photos(from: &Path, manifest: &Manifest, bucket: &BlobStore) -> Result<()> {
    let device = xiangying_model::ids::DeviceId::from(RESTORE_DEVICE);
    let mut buf = vec![0u8; crate::blobs::s3::PART_BYTES];
    for f in manifest.files.iter().skip(1) {
        if bucket.is_complete(&f.sha256)? {
            continue;
        }
        let hash = xiangying_model::ids::PhotoHash::from(f.sha256.as_str());
        let path = from.join(&f.path);
        let mut src = fs::File::open(&path).map_err(|e| io(&path, e))?;
        let mut offset = 0u64;
        loop {
            let n = src.read(&mut buf).map_err(|e| io(&path, e))?;
            if n == 0 && offset > 0 {
                break;
            }
            let chunk = crate::blobs::Chunk {
                offset,
                total: f.size,
                bytes: &buf[..n],
            };
            let day = std::time::Duration::from_secs(86_400);
            let done = bucket.append(&device, &hash, chunk, day, || Ok(()))?;
            offset += n as u64;
            if done == crate::blobs::BlobStatus::Complete {
                break;
            }
        }
    }
    Ok(())
}

/// The size and SHA-256 of a file.
fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut f = fs::File::open(path).map_err(|e| io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// The photo files (whole ones, not partial uploads) under a photos folder, as
/// `photos/<2 hex>/<hash>` paths relative to the data folder.
fn photo_paths(photos: &Path) -> Vec<String> {
    crate::blobs::BlobStore::new(photos.to_path_buf(), u64::MAX)
        .complete_hashes()
        .unwrap_or_default()
        .into_iter()
        .map(|h| format!("photos/{}/{h}", &h[..2]))
        .collect()
}

/// Writes a backup of the store at `loc` into `out` (which must not exist, or be empty) while
/// the server may keep serving; returns the manifest written.
pub fn backup(loc: &Location, out: &Path) -> Result<Manifest> {
    backup_with(loc, None, out)
}

/// [`backup`], the photos read from `bucket` when given (the S3 backend) instead of the data
/// folder.
pub fn backup_with(loc: &Location, bucket: Option<&BlobStore>, out: &Path) -> Result<Manifest> {
    if out.exists() {
        let mut entries = fs::read_dir(out).map_err(|e| io(out, e))?;
        if entries.next().is_some() {
            return Err(bad(format!(
                "{} is not empty: back up into a new folder",
                out.display()
            )));
        }
    }
    // A store newer than this build is refused before anything is written (PostgreSQL: when
    // it is opened below).
    let live = loc.data.join(sqlite::DB_FILE);
    if loc.postgres.is_none() && live.is_file() {
        migrations::check_known(sqlite::stored_version(&live)?)?;
    }
    fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let created_at = now_ms();
    let mut files = Vec::new();
    let identity = match &loc.postgres {
        None => {
            let db = out.join(sqlite::DB_FILE);
            sqlite::snapshot_into(&loc.data, &db)?;
            let identity = sqlite::read_identity(&db)?;
            let (size, sha256) = hash_file(&db)?;
            files.push(FileEntry {
                path: sqlite::DB_FILE.into(),
                size,
                sha256,
            });
            identity
        }
        Some(pg) => {
            let storage = open_pg(pg, pg.schema.clone())?;
            let schema = storage.schema_name()?;
            let identity = storage.identity().clone();
            drop(storage);
            let dump = out.join(PG_DUMP_FILE);
            pg_dump(&pg.url, &schema, &dump)?;
            let (size, sha256) = hash_file(&dump)?;
            files.push(FileEntry {
                path: PG_DUMP_FILE.into(),
                size,
                sha256,
            });
            identity
        }
    };
    if identity.schema_version < 2 {
        return Err(bad(format!(
            "the store is at schema version {}: run `admin migrate` first",
            identity.schema_version
        )));
    }
    match bucket {
        None => {
            for rel in photo_paths(&loc.photos()) {
                let (size, sha256) = copy_hashed(&loc.data.join(&rel), &out.join(&rel))?;
                files.push(FileEntry {
                    path: rel,
                    size,
                    sha256,
                });
            }
        }
        Some(blobs) => {
            for hash in blobs.complete_hashes()? {
                let rel = format!("photos/{}/{hash}", &hash[..2]);
                let (size, sha256) = copy_blob(blobs, &hash, &out.join(&rel))?;
                if sha256 != hash {
                    return Err(ServerError::Internal(format!(
                        "the photo object {hash} does not match its name (its SHA-256 is {sha256})"
                    )));
                }
                files.push(FileEntry {
                    path: rel,
                    size,
                    sha256,
                });
            }
        }
    }
    let manifest = Manifest {
        format: FORMAT,
        backend: loc.backend().into(),
        store_id: identity.store_id,
        epoch: identity.epoch,
        schema_version: identity.schema_version,
        created_at,
        created_utc: chrono::DateTime::from_timestamp_millis(created_at)
            .unwrap_or_default()
            .to_rfc3339(),
        files,
    };
    let text = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| ServerError::Internal(format!("manifest: {e}")))?;
    let tmp = out.join(format!("{MANIFEST}.tmp"));
    fs::write(&tmp, text).map_err(|e| io(&tmp, e))?;
    fs::rename(&tmp, out.join(MANIFEST)).map_err(|e| io(&tmp, e))?;
    Ok(manifest)
}

/// Whether a manifest path is a plain relative path inside the backup folder.
fn safe_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        })
}

/// Reads and checks a backup folder: the manifest, every file's presence, size and SHA-256,
/// the schema version and (given) the backend. Changes nothing.
pub fn verify(from: &Path, backend: Option<&str>) -> Result<Manifest> {
    let path = from.join(MANIFEST);
    let text = fs::read(&path).map_err(|e| {
        bad(format!(
            "{}: {e} (not a backup folder, or an unfinished backup)",
            path.display()
        ))
    })?;
    let value: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| bad(format!("{}: not a backup manifest: {e}", path.display())))?;
    // The format first, so that a manifest of a later format is named as such.
    let format = value.get("format").and_then(serde_json::Value::as_u64);
    if format != Some(u64::from(FORMAT)) {
        return Err(bad(format!(
            "{}: manifest format {}, this build reads format {FORMAT}",
            path.display(),
            format.map_or_else(|| "missing".to_owned(), |f| f.to_string())
        )));
    }
    let manifest: Manifest = serde_json::from_value(value)
        .map_err(|e| bad(format!("{}: not a backup manifest: {e}", path.display())))?;
    if manifest.schema_version > LATEST {
        return Err(bad(format!(
            "the backup is of schema version {}, newer than this build knows ({LATEST}): \
             restore it with a server build that knows version {}",
            manifest.schema_version, manifest.schema_version
        )));
    }
    if manifest.schema_version < 2 {
        return Err(bad(format!(
            "the backup claims schema version {}: backups start at version 2",
            manifest.schema_version
        )));
    }
    if let Some(b) = backend
        && manifest.backend != b
    {
        return Err(bad(format!(
            "the backup is of a {} store and this server uses {b}",
            manifest.backend
        )));
    }
    let db_file = match manifest.backend.as_str() {
        "sqlite" => sqlite::DB_FILE,
        "postgres" => PG_DUMP_FILE,
        other => {
            return Err(bad(format!(
                "the backup names an unknown backend {other:?}"
            )));
        }
    };
    if manifest.files.first().map(|f| f.path.as_str()) != Some(db_file) {
        return Err(bad(format!("the manifest does not list {db_file} first")));
    }
    let mut seen = std::collections::BTreeSet::new();
    for f in &manifest.files {
        if !safe_path(&f.path) || !seen.insert(f.path.as_str()) {
            return Err(bad(format!("the manifest names a bad path {:?}", f.path)));
        }
        if f.path != db_file {
            let name = f.path.rsplit('/').next().unwrap_or_default();
            let want = format!("photos/{}/{name}", name.get(..2).unwrap_or_default());
            if f.path != want || !crate::blobs::valid_hash(name) || f.sha256 != name {
                return Err(bad(format!(
                    "the manifest names {:?}, which is not a photo file",
                    f.path
                )));
            }
        }
        let p = from.join(&f.path);
        let meta = fs::metadata(&p).map_err(|e| bad(format!("{}: missing ({e})", f.path)))?;
        if meta.len() != f.size {
            return Err(bad(format!(
                "{}: {} bytes, the manifest says {}: the backup is damaged",
                f.path,
                meta.len(),
                f.size
            )));
        }
        let (_, sha) = hash_file(&p)?;
        if sha != f.sha256 {
            return Err(bad(format!(
                "{}: SHA-256 {sha}, the manifest says {}: the backup is damaged",
                f.path, f.sha256
            )));
        }
    }
    Ok(manifest)
}

/// Puts the backup in `from` back as the store at `loc` (the server must be stopped):
/// verifies it, builds the restored store beside the live one, migrates it, gives it a new
/// epoch and `restored_at`, and swaps it in, keeping the replaced store aside.
pub fn restore(loc: &Location, from: &Path) -> Result<Restored> {
    restore_with(loc, None, from)
}

/// [`restore`], the photos put into `bucket` when given (the S3 backend) instead of the data
/// folder: every photo of the backup the bucket lacks is uploaded before the store is swapped,
/// and the data folder's photos are left alone.
pub fn restore_with(loc: &Location, bucket: Option<&BlobStore>, from: &Path) -> Result<Restored> {
    let manifest = verify(from, Some(loc.backend()))?;
    if let Some(b) = bucket {
        upload_photos(from, &manifest, b)?;
    }
    let folder = bucket.is_none();
    let now = now_ms();
    let (identity, kept) = match &loc.postgres {
        None => restore_sqlite(loc, from, &manifest, now, folder)?,
        Some(pg) => restore_postgres(loc, pg, from, &manifest, now, folder)?,
    };
    Ok(Restored {
        manifest,
        identity,
        kept,
    })
}

/// Copies the backup's photos into `photos` (a new folder), checking each again.
fn stage_photos(from: &Path, manifest: &Manifest, photos: &Path) -> Result<()> {
    fs::create_dir_all(photos).map_err(|e| io(photos, e))?;
    for f in manifest.files.iter().skip(1) {
        let rel = f.path.trim_start_matches("photos/");
        let (_, sha) = copy_hashed(&from.join(&f.path), &photos.join(rel))?;
        if sha != f.sha256 {
            return Err(bad(format!("{}: changed while being restored", f.path)));
        }
    }
    Ok(())
}

/// Moves `from` to `to` when `from` exists.
fn move_if_present(from: &Path, to: &Path) -> Result<()> {
    if from.exists() {
        fs::rename(from, to).map_err(|e| io(from, e))?;
    }
    Ok(())
}

fn restore_sqlite(
    loc: &Location,
    from: &Path,
    manifest: &Manifest,
    now: i64,
    folder: bool,
) -> Result<(StoreIdentity, String)> {
    fs::create_dir_all(&loc.data).map_err(|e| io(&loc.data, e))?;
    let staging = loc.data.join(format!("restoring-{}", stamp(now)));
    let built = (|| {
        fs::create_dir_all(&staging).map_err(|e| io(&staging, e))?;
        let db = staging.join(sqlite::DB_FILE);
        let (_, sha) = copy_hashed(&from.join(sqlite::DB_FILE), &db)?;
        if sha != manifest.files[0].sha256 {
            return Err(bad(format!(
                "{}: changed while being restored",
                sqlite::DB_FILE
            )));
        }
        let identity = {
            let storage = SqliteStorage::open(&staging)?;
            let schema_version = storage.migrated().to;
            with_tx(&storage, |tx| {
                meta::mark_restored(tx, now)?;
                meta::load(tx, schema_version)
            })?
        };
        sqlite::checkpoint(&db)?;
        if folder {
            stage_photos(from, manifest, &staging.join("photos"))?;
        }
        Ok(identity)
    })();
    let identity = match built {
        Ok(identity) => identity,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    // The swap: the live files go aside as a set, the staged ones take their place.
    let kept = loc.data.join(format!("before-restore-{}", stamp(now)));
    fs::create_dir_all(&kept).map_err(|e| io(&kept, e))?;
    for name in [
        sqlite::DB_FILE.to_owned(),
        format!("{}-wal", sqlite::DB_FILE),
        format!("{}-shm", sqlite::DB_FILE),
        "photos".to_owned(),
    ] {
        if name == "photos" && !folder {
            continue;
        }
        move_if_present(&loc.data.join(&name), &kept.join(&name))?;
    }
    fs::rename(
        staging.join(sqlite::DB_FILE),
        loc.data.join(sqlite::DB_FILE),
    )
    .map_err(|e| io(&staging, e))?;
    if folder {
        fs::rename(staging.join("photos"), loc.photos()).map_err(|e| io(&staging, e))?;
    }
    let _ = fs::remove_dir_all(&staging);
    Ok((identity, kept.display().to_string()))
}

fn open_pg(pg: &PgLocation, schema: Option<String>) -> Result<PostgresStorage> {
    PostgresStorage::connect_with(
        &pg.url,
        &PgOptions {
            schema,
            pool_size: 2,
            ..PgOptions::default()
        },
    )
}

fn restore_postgres(
    loc: &Location,
    pg: &PgLocation,
    from: &Path,
    manifest: &Manifest,
    now: i64,
    folder: bool,
) -> Result<(StoreIdentity, String)> {
    let dump = fs::read_to_string(from.join(PG_DUMP_FILE))
        .map_err(|e| bad(format!("{PG_DUMP_FILE}: {e}")))?;
    if hex::encode(Sha256::digest(dump.as_bytes())) != manifest.files[0].sha256 {
        return Err(bad(format!("{PG_DUMP_FILE}: changed while being restored")));
    }
    let dumped = dumped_schema(&dump).ok_or_else(|| {
        bad(format!(
            "{PG_DUMP_FILE}: names no schema: not a pg_dump of one"
        ))
    })?;
    // The live schema's name, from the live store when it opens, else from the URL alone.
    let live = match &pg.schema {
        Some(s) => s.clone(),
        None => current_schema(&pg.url)?,
    };
    let suffix = stamp(now);
    let staging = short_name(&live, &format!("_restoring_{suffix}"));
    let kept = short_name(&live, &format!("_before_{suffix}"));
    let built = (|| {
        let mut client = connect(&pg.url)?;
        load_dump(&mut client, &dump, &dumped, &staging)?;
        drop(client);
        let storage = open_pg(pg, Some(staging.clone()))?;
        let schema_version = storage.migrated().to;
        let identity = with_tx(&storage, |tx| {
            meta::mark_restored(tx, now)?;
            meta::load(tx, schema_version)
        })?;
        drop(storage);
        let photos = loc.data.join(format!("restoring-{suffix}-photos"));
        if folder && let Err(e) = stage_photos(from, manifest, &photos) {
            let _ = fs::remove_dir_all(&photos);
            return Err(e);
        }
        Ok((identity, photos))
    })();
    let (identity, photos) = match built {
        Ok(v) => v,
        Err(e) => {
            if let Ok(mut c) = connect(&pg.url) {
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{staging}\" CASCADE"));
            }
            return Err(e);
        }
    };
    // The swap, in one transaction: the live schema is renamed aside, the staged one takes
    // its name.
    let mut client = connect(&pg.url)?;
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1)",
        &[&crate::storage::postgres::SCHEMA_LOCK],
    )?;
    let exists: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
            &[&live],
        )?
        .try_get(0)?;
    if exists {
        tx.batch_execute(&format!("ALTER SCHEMA \"{live}\" RENAME TO \"{kept}\""))?;
    }
    tx.batch_execute(&format!("ALTER SCHEMA \"{staging}\" RENAME TO \"{live}\""))?;
    tx.commit()?;
    let kept_photos = loc.data.join(format!("before-restore-{suffix}-photos"));
    if folder {
        move_if_present(&loc.photos(), &kept_photos)?;
        fs::rename(&photos, loc.photos()).map_err(|e| io(&photos, e))?;
    }
    Ok((
        identity,
        format!(
            "schema {kept}{}{}",
            if exists { "" } else { " (there was none)" },
            if folder {
                format!(", photos in {}", kept_photos.display())
            } else {
                String::new()
            }
        ),
    ))
}

/// `base` + `suffix`, cut to PostgreSQL's 63-byte identifiers.
fn short_name(base: &str, suffix: &str) -> String {
    let keep = 63usize.saturating_sub(suffix.len()).min(base.len());
    format!("{}{suffix}", &base[..keep])
}

fn connect(url: &str) -> Result<::postgres::Client> {
    crate::storage::postgres::connect_client(url)
}

fn current_schema(url: &str) -> Result<String> {
    let mut c = connect(url)?;
    let name: Option<String> = c.query_one("SELECT current_schema()", &[])?.try_get(0)?;
    name.ok_or_else(|| ServerError::storage_state("the connection has no current schema"))
}

/// Finds `pg_dump`: on `PATH`, else the newest under `/usr/lib/postgresql/*/bin`.
pub fn find_pg_tool(name: &str) -> Result<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let p = e.path().join("bin").join(name);
            p.is_file().then_some((v, p))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p).ok_or_else(|| {
        ServerError::Internal(format!(
            "{name} not found on PATH nor under /usr/lib/postgresql/*/bin: install the \
             PostgreSQL client tools (the same major version as the server, or newer)"
        ))
    })
}

/// Dumps one schema with `pg_dump` (plain SQL, no owners or privileges) into `file`.
fn pg_dump(url: &str, schema: &str, file: &Path) -> Result<()> {
    let tool = find_pg_tool("pg_dump")?;
    let out = Command::new(&tool)
        .arg("--format=plain")
        .arg("--no-owner")
        .arg("--no-privileges")
        // Quoted: pg_dump folds an unquoted pattern to lower case.
        .arg(format!("--schema=\"{schema}\""))
        .arg(format!("--file={}", file.display()))
        .arg(format!("--dbname={url}"))
        .output()
        .map_err(|e| ServerError::Internal(format!("{}: {e}", tool.display())))?;
    if !out.status.success() {
        return Err(ServerError::Internal(format!(
            "pg_dump failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// The schema a plain dump of one schema creates or fills (from its first `COPY`, `CREATE
/// TABLE` or `CREATE SCHEMA`).
pub fn dumped_schema(dump: &str) -> Option<String> {
    for line in dump.lines() {
        let rest = line
            .strip_prefix("CREATE SCHEMA ")
            .map(|r| r.trim_end_matches(';'))
            .or_else(|| line.strip_prefix("CREATE TABLE "))
            .or_else(|| line.strip_prefix("COPY "));
        if let Some(rest) = rest {
            let name = match rest.strip_prefix('"') {
                Some(q) => q.split('"').next()?,
                None => rest.split(['.', ' ', ';']).next()?,
            };
            if !name.is_empty() {
                return Some(name.to_owned());
            }
        }
    }
    None
}

/// Replaces the schema qualifier `from.` (plain or quoted) with `"to".` in one SQL line.
fn requalify(line: &str, from: &str, to: &str) -> String {
    let quoted_to = format!("\"{to}\".");
    let line = line.replace(&format!("\"{from}\"."), &quoted_to);
    let pat = format!("{from}.");
    let mut out = String::with_capacity(line.len());
    let mut rest = line.as_str();
    while let Some(i) = rest.find(&pat) {
        let before = rest[..i].chars().next_back();
        let boundary = !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '"');
        out.push_str(&rest[..i]);
        out.push_str(if boundary { &quoted_to } else { &pat });
        rest = &rest[i + pat.len()..];
    }
    out.push_str(rest);
    out
}

/// Loads a plain `pg_dump` of the schema `from` into a new schema `into` (dropped first if it
/// exists), in one transaction: the schema's statements are re-qualified, `COPY` data goes
/// through the copy protocol untouched, owner and schema statements and psql meta-commands
/// are skipped. Used by restore, and by tests to load a dump of an older build.
pub fn load_dump(
    client: &mut ::postgres::Client,
    dump: &str,
    from: &str,
    into: &str,
) -> Result<()> {
    crate::storage::postgres::check_schema_name(into)?;
    let mut tx = client.transaction()?;
    tx.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS \"{into}\" CASCADE; CREATE SCHEMA \"{into}\";"
    ))?;
    let mut sql = String::new();
    let mut lines = dump.lines();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("--") || t.starts_with('\\') || t.is_empty() {
            continue;
        }
        if t.starts_with("CREATE SCHEMA ")
            || (t.starts_with("ALTER ") && t.contains(" OWNER TO "))
            || t.starts_with("COMMENT ON SCHEMA ")
        {
            continue;
        }
        let line = requalify(line, from, into);
        if line.starts_with("COPY ") && line.ends_with("FROM stdin;") {
            if !sql.is_empty() {
                tx.batch_execute(&sql)?;
                sql.clear();
            }
            let stmt = line.trim_end_matches(';');
            let mut writer = tx.copy_in(stmt)?;
            for data in lines.by_ref() {
                if data == "\\." {
                    break;
                }
                writer
                    .write_all(data.as_bytes())
                    .and_then(|()| writer.write_all(b"\n"))
                    .map_err(|e| ServerError::from(StorageError::driver("COPY", e)))?;
            }
            writer.finish()?;
            continue;
        }
        sql.push_str(&line);
        sql.push('\n');
    }
    if !sql.is_empty() {
        tx.batch_execute(&sql)?;
    }
    tx.commit()?;
    Ok(())
}

/// `admin migrate`: brings the store at `loc` to the latest schema; returns from → to.
pub fn migrate(loc: &Location) -> Result<migrations::Migrated> {
    match &loc.postgres {
        None => sqlite::migrate(&loc.data),
        Some(pg) => Ok(open_pg(pg, pg.schema.clone())?.migrated()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_must_stay_inside_the_folder() {
        assert!(safe_path("server.db"));
        assert!(safe_path("photos/ab/abcdef"));
        for p in [
            "",
            "/etc/passwd",
            "../x",
            "photos/../../x",
            "photos//x",
            "a/./b",
            "a b",
        ] {
            assert!(!safe_path(p), "{p}");
        }
    }

    #[test]
    fn dump_statements_are_requalified_but_data_and_lookalikes_are_not() {
        assert_eq!(
            requalify("CREATE TABLE old.cases (", "old", "new"),
            "CREATE TABLE \"new\".cases ("
        );
        assert_eq!(
            requalify("ALTER TABLE ONLY \"old\".org ADD", "old", "new"),
            "ALTER TABLE ONLY \"new\".org ADD"
        );
        assert_eq!(requalify("x_old.y gold.z", "old", "new"), "x_old.y gold.z");
        assert_eq!(
            dumped_schema("--\nSET x = 1;\nCREATE SCHEMA compat_gen1;\n").as_deref(),
            Some("compat_gen1")
        );
        assert_eq!(
            dumped_schema("CREATE TABLE public.org (\n").as_deref(),
            Some("public")
        );
        assert_eq!(dumped_schema("SET x = 1;\n"), None);
    }

    #[test]
    fn a_manifest_of_another_format_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST), br#"{"format": 2, "new": true}"#).unwrap();
        let e = verify(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains("manifest format 2"), "{e}");
        let e = verify(&dir.path().join("nope"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a backup folder"), "{e}");
    }

    #[test]
    fn a_missing_postgres_tool_is_named() {
        let e = find_pg_tool("pg_dump_that_does_not_exist")
            .unwrap_err()
            .to_string();
        assert!(e.contains("pg_dump_that_does_not_exist not found"), "{e}");
    }

    #[test]
    fn short_names_fit_postgres_identifiers() {
        let long = "s".repeat(70);
        assert_eq!(short_name(&long, "_before_20261206020000").len(), 63);
        assert_eq!(short_name("xy", "_b"), "xy_b");
    }
}
