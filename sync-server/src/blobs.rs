//! Photo files, named by SHA-256 and uploaded resumably, in one of two places: a folder on the
//! server's file system ([`folder`], the default) or an S3-compatible bucket ([`s3`], for
//! several server instances; decision 0037).
//!
//! A partial upload belongs to the device that started it and grows chunk by chunk at the
//! offset the server reports to that device, so no device can block another's upload of the
//! same file. Once whole and matching its hash it becomes the file `<2 hex>/<hash>` (stored
//! once, however many devices upload it). A partial upload not written to for the configured
//! time expires: it is ignored and removed when its device asks again, and
//! [`BlobStore::sweep`] removes every expired one. [`BlobStore`] holds what both backends
//! share (the checks, the size limit, the order of an upload's steps); a [`Backend`] only
//! stores bytes.

pub mod folder;
pub mod s3;

use crate::error::ServerError;
use bytes::Bytes;
use futures::stream::BoxStream;
use serde::Deserialize;
use sha2::Digest;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use xiangying_model::ids::{DeviceId, PhotoHash};

/// Where an upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobStatus {
    /// The server holds the whole file.
    Complete,
    /// The server holds this many bytes of it.
    Partial(u64),
}

/// A piece of an upload: `bytes` at `offset` of a file of `total` bytes.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// Where the bytes go.
    pub offset: u64,
    /// The whole file's length.
    pub total: u64,
    /// The bytes.
    pub bytes: &'a [u8],
}

/// A whole file held, as the clean-up sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Its SHA-256.
    pub hash: String,
    /// Its length in bytes.
    pub len: u64,
    /// When it was stored (the folder: last written; S3: last modified).
    pub stored: SystemTime,
}

/// What a clean-up removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    /// How many partial uploads or files.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// The bytes of a whole file opened for reading.
pub enum BlobBody {
    /// A file of the folder backend.
    File(std::fs::File),
    /// An object's bytes as they arrive from the bucket.
    Stream(BoxStream<'static, std::io::Result<Bytes>>),
}

/// A whole photo file opened for reading: [`Read`] it (blocking code only), or turn it into a
/// stream of chunks for an HTTP body ([`OpenBlob::into_stream`]). Neither holds the file in
/// memory.
pub struct OpenBlob {
    /// Its length in bytes.
    pub len: u64,
    /// Its bytes.
    pub body: BlobBody,
    /// The chunk being read from a stream.
    pending: Bytes,
}

impl std::fmt::Debug for OpenBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenBlob").field("len", &self.len).finish()
    }
}

impl OpenBlob {
    /// A file of `len` bytes read from `body`.
    pub fn new(len: u64, body: BlobBody) -> OpenBlob {
        OpenBlob {
            len,
            body,
            pending: Bytes::new(),
        }
    }

    /// The bytes as a stream of chunks (64 KiB from a file, as received from a bucket), for a
    /// response body. Call inside a Tokio runtime.
    pub fn into_stream(self) -> BoxStream<'static, std::io::Result<Bytes>> {
        use futures::StreamExt;
        let first = futures::stream::iter((!self.pending.is_empty()).then(|| Ok(self.pending)));
        match self.body {
            BlobBody::File(f) => first
                .chain(tokio_util::io::ReaderStream::new(
                    tokio::fs::File::from_std(f),
                ))
                .boxed(),
            BlobBody::Stream(s) => first.chain(s).boxed(),
        }
    }
}

impl Read for OpenBlob {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match &mut self.body {
            BlobBody::File(f) => f.read(buf),
            BlobBody::Stream(s) => {
                while self.pending.is_empty() {
                    let next = s3::block_on(futures::StreamExt::next(s))
                        .map_err(|e| std::io::Error::other(e.to_string()))?;
                    match next {
                        Some(chunk) => self.pending = chunk?,
                        None => return Ok(0),
                    }
                }
                let n = buf.len().min(self.pending.len());
                buf[..n].copy_from_slice(&self.pending.split_to(n));
                Ok(n)
            }
        }
    }
}

/// Where photo files are kept: the `[photos]` table of the configuration file (decision 0037;
/// docs/OPERATIONS.md, "Photos: folder or object storage").
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotosConfig {
    /// `folder` (the default: `<data>/photos`) or `s3`.
    #[serde(default)]
    pub backend: BackendKind,
    /// The bucket (S3).
    pub bucket: Option<String>,
    /// The S3 endpoint URL, for S3-compatible servers (MinIO, Ceph, a cloud's OSS); left out:
    /// AWS.
    pub endpoint: Option<String>,
    /// The region (S3; default `us-east-1`).
    pub region: Option<String>,
    /// A key prefix inside the bucket, e.g. `xiangying/` (S3; default none).
    pub prefix: Option<String>,
    /// The access key (S3); left out: the environment's `AWS_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// The secret key (S3); left out: the environment's `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<String>,
    /// Whether a plain `http://` endpoint is allowed (S3; default false).
    #[serde(default)]
    pub allow_http: bool,
    /// Hours after which an idle partial upload expires; left out: `limits.
    /// partial_upload_ttl_hours`.
    pub partial_ttl_hours: Option<u64>,
    /// Days a whole file no case refers to is kept before the clean-up removes it (default 7).
    pub orphan_grace_days: Option<u64>,
    /// Minutes between two clean-ups inside `serve` (default 60).
    pub sweep_every_minutes: Option<u64>,
}

/// The photo backends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// A folder on the server's file system.
    #[default]
    Folder,
    /// An S3-compatible bucket.
    S3,
}

/// Default days an unreferenced file is kept.
pub const DEFAULT_ORPHAN_GRACE_DAYS: u64 = 7;
/// Default minutes between clean-ups inside `serve`.
pub const DEFAULT_SWEEP_EVERY_MINUTES: u64 = 60;

impl PhotosConfig {
    /// Checks the table: S3 needs a bucket, the folder takes no S3 keys, no period is 0.
    pub fn check(&self) -> Result<(), String> {
        match self.backend {
            BackendKind::S3 if self.bucket.as_deref().is_none_or(|b| b.trim().is_empty()) => {
                return Err("photos.bucket is needed with photos.backend = \"s3\"".into());
            }
            BackendKind::Folder
                if self.bucket.is_some()
                    || self.endpoint.is_some()
                    || self.access_key_id.is_some()
                    || self.secret_access_key.is_some() =>
            {
                return Err(
                    "photos.bucket, endpoint and keys are for photos.backend = \"s3\"; the \
                     folder backend keeps photos in <data>/photos"
                        .into(),
                );
            }
            _ => {}
        }
        for (key, v) in [
            ("partial_ttl_hours", self.partial_ttl_hours),
            ("orphan_grace_days", self.orphan_grace_days),
            ("sweep_every_minutes", self.sweep_every_minutes),
        ] {
            if v == Some(0) {
                return Err(format!("photos.{key} must be more than 0"));
            }
        }
        Ok(())
    }

    /// How long an unreferenced whole file is kept.
    pub fn orphan_grace(&self) -> Duration {
        Duration::from_secs(
            self.orphan_grace_days
                .unwrap_or(DEFAULT_ORPHAN_GRACE_DAYS)
                .saturating_mul(86_400),
        )
    }

    /// The time between two clean-ups inside `serve`.
    pub fn sweep_every(&self) -> Duration {
        Duration::from_secs(
            self.sweep_every_minutes
                .unwrap_or(DEFAULT_SWEEP_EVERY_MINUTES)
                .saturating_mul(60),
        )
    }
}

/// What a photo backend does: store and read bytes. The hash and the device are checked by
/// [`BlobStore`] before any call; calls for one file are serialised by its lock.
pub trait Backend: Send + Sync {
    /// Whether the whole file is held.
    fn is_complete(&self, hash: &str) -> Result<bool, ServerError>;
    /// How many bytes of the device's upload are stored; an upload idle for longer than `ttl`
    /// is removed and counts as 0.
    fn partial_len(&self, device: &str, hash: &str, ttl: Duration) -> Result<u64, ServerError>;
    /// The bytes of all of a device's partial uploads.
    fn device_partial_bytes(&self, device: &str) -> Result<u64, ServerError>;
    /// Stores `bytes` at `offset` (which is what [`Backend::partial_len`] just said).
    fn write_chunk(
        &self,
        device: &str,
        hash: &str,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), ServerError>;
    /// The upload is whole: checks its bytes against the hash (a mismatch removes it and is
    /// refused), runs `verified` (its error removes the upload too), then makes it the file
    /// unless it is held already, and removes the upload.
    fn finish(
        &self,
        device: &str,
        hash: &str,
        verified: &mut dyn FnMut() -> Result<(), ServerError>,
    ) -> Result<(), ServerError>;
    /// Stores a whole file that arrived in one chunk, its bytes already checked against the
    /// hash: as [`Backend::write_chunk`] then [`Backend::finish`] (what this default does),
    /// which a backend may do in fewer steps.
    fn put_whole(
        &self,
        device: &str,
        hash: &str,
        bytes: &[u8],
        verified: &mut dyn FnMut() -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        self.write_chunk(device, hash, 0, bytes)?;
        self.finish(device, hash, verified)
    }
    /// Removes (unless `dry_run`) every partial upload idle for longer than `ttl`.
    fn sweep_partials(&self, ttl: Duration, dry_run: bool) -> Result<Removed, ServerError>;
    /// Every whole file held, sorted by hash.
    fn complete_blobs(&self) -> Result<Vec<BlobInfo>, ServerError>;
    /// Removes a whole file.
    fn remove_complete(&self, hash: &str) -> Result<(), ServerError>;
    /// Opens a whole file; a missing one is [`ServerError::NotFound`].
    fn open(&self, hash: &str) -> Result<OpenBlob, ServerError>;
    /// The folder, for the folder backend.
    fn folder(&self) -> Option<&Path> {
        None
    }
}

/// The blob store: the checks and steps both backends share, over one [`Backend`].
#[derive(Clone)]
pub struct BlobStore {
    backend: Arc<dyn Backend>,
    max_bytes: u64,
    /// Uploads of the same file are serialised in this process; different files go in
    /// parallel (the lock is picked by the hash's first byte).
    locks: Arc<Vec<Mutex<()>>>,
    /// When a new upload last swept the expired partial uploads ([`BlobStore::sweep_often`]).
    last_swept: Arc<Mutex<Option<Instant>>>,
}

/// How often new uploads sweep the folder's expired partial uploads: listing the folder for
/// every upload cost 2 % of the street's photo push (decision 0057).
const SWEEP_AT_MOST_EVERY: Duration = Duration::from_secs(60);

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore")
            .field("folder", &self.backend.folder())
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

/// True for 64 lowercase hex digits.
pub fn valid_hash(hash: &str) -> bool {
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True for a device id that is safe as a folder or key name (the server makes them:
/// `dev-<hex>`).
fn valid_device(device: &str) -> bool {
    !device.is_empty()
        && device.len() <= 64
        && device
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_hash(hash: &str) -> Result<(), ServerError> {
    if valid_hash(hash) {
        Ok(())
    } else {
        Err(ServerError::BadRequest("not a SHA-256 hash".into()))
    }
}

fn check_device(device: &str) -> Result<(), ServerError> {
    if valid_device(device) {
        Ok(())
    } else {
        Err(ServerError::Internal(format!(
            "unusable device id {device:?}"
        )))
    }
}

/// The refusal of an upload whose bytes do not match its hash.
pub(crate) fn mismatch() -> ServerError {
    ServerError::BadRequest("the uploaded bytes do not match the hash; upload again from 0".into())
}

impl BlobStore {
    /// A store in the folder `root`, refusing files over `max_bytes`.
    pub fn new(root: PathBuf, max_bytes: u64) -> BlobStore {
        BlobStore::with_backend(Arc::new(folder::FolderBackend::new(root)), max_bytes)
    }

    /// A store over `backend`, refusing files over `max_bytes`.
    pub fn with_backend(backend: Arc<dyn Backend>, max_bytes: u64) -> BlobStore {
        BlobStore {
            backend,
            max_bytes,
            locks: Arc::new((0..256).map(|_| Mutex::new(())).collect()),
            last_swept: Arc::new(Mutex::new(None)),
        }
    }

    /// The store `cfg` names: the folder `<data>/photos` or a bucket.
    pub fn open_configured(
        cfg: &PhotosConfig,
        data: &Path,
        max_bytes: u64,
    ) -> Result<BlobStore, ServerError> {
        Ok(match cfg.backend {
            BackendKind::Folder => BlobStore::new(data.join("photos"), max_bytes),
            BackendKind::S3 => {
                BlobStore::with_backend(Arc::new(s3::S3Backend::connect(cfg)?), max_bytes)
            }
        })
    }

    /// The folder the files live in, for the folder backend.
    pub fn folder(&self) -> Option<&Path> {
        self.backend.folder()
    }

    /// The folder the files live in; empty for the S3 backend (see [`BlobStore::folder`]).
    pub fn root(&self) -> &Path {
        self.backend.folder().unwrap_or(Path::new(""))
    }

    /// Where a device's partial upload of a file lives with the folder backend (for tests and
    /// tools).
    pub fn partial_path(&self, device: &DeviceId, hash: &PhotoHash) -> PathBuf {
        self.root()
            .join("partial")
            .join(device.as_str())
            .join(hash.as_str())
    }

    /// Whether the server holds the whole file.
    pub fn is_complete(&self, hash: &str) -> Result<bool, ServerError> {
        check_hash(hash)?;
        self.backend.is_complete(hash)
    }

    /// How many bytes of a file `device` has uploaded so far; an upload idle for longer than
    /// `ttl` has expired: it is removed and counts as 0.
    pub fn partial_len(
        &self,
        device: &DeviceId,
        hash: &PhotoHash,
        ttl: Duration,
    ) -> Result<u64, ServerError> {
        check_hash(hash.as_str())?;
        check_device(device.as_str())?;
        self.backend
            .partial_len(device.as_str(), hash.as_str(), ttl)
    }

    /// The bytes of all of a device's partial uploads (towards its quota).
    pub fn device_partial_bytes(&self, device: &DeviceId) -> Result<u64, ServerError> {
        check_device(device.as_str())?;
        self.backend.device_partial_bytes(device.as_str())
    }

    /// Appends a chunk to `device`'s upload of a file. A wrong
    /// offset is a [`ServerError::Conflict`] naming the right one. Once the upload is whole its
    /// bytes are checked against the hash (a mismatch is discarded and refused), then
    /// `verified` runs (to record the uploader) before the file is put in place; when the
    /// server already held the file, the upload was a proof of possession and is dropped.
    pub fn append(
        &self,
        device: &DeviceId,
        hash: &PhotoHash,
        chunk: Chunk<'_>,
        ttl: Duration,
        verified: impl FnOnce() -> Result<(), ServerError>,
    ) -> Result<BlobStatus, ServerError> {
        let Chunk {
            offset,
            total,
            bytes: chunk,
        } = chunk;
        check_hash(hash.as_str())?;
        check_device(device.as_str())?;
        if total > self.max_bytes {
            return Err(ServerError::TooLarge(format!(
                "a photo may have at most {} bytes (limit max_photo)",
                self.max_bytes
            )));
        }
        let shard =
            usize::from(u8::from_str_radix(hash.as_str().get(..2).unwrap_or(""), 16).unwrap_or(0));
        let _guard = self.locks[shard].lock().unwrap_or_else(|e| e.into_inner());
        let have = self.partial_len(device, hash, ttl)?;
        if have != offset {
            return Err(ServerError::Conflict(format!("upload offset is {have}")));
        }
        let end = offset + chunk.len() as u64;
        if end > total {
            return Err(ServerError::BadRequest(format!(
                "chunk ends at {end}, past the declared length {total}"
            )));
        }
        let mut verified = Some(verified);
        let mut verified = || match verified.take() {
            Some(f) => f(),
            None => Ok(()),
        };
        if offset == 0 && end == total {
            // The whole file in one chunk (most photos): checked in memory, so damaged bytes
            // are refused before anything is written.
            if hex::encode(sha2::Sha256::digest(chunk)) != hash.as_str() {
                return Err(mismatch());
            }
            self.backend
                .put_whole(device.as_str(), hash.as_str(), chunk, &mut verified)?;
            return Ok(BlobStatus::Complete);
        }
        self.backend
            .write_chunk(device.as_str(), hash.as_str(), offset, chunk)?;
        if end < total {
            return Ok(BlobStatus::Partial(end));
        }
        self.backend
            .finish(device.as_str(), hash.as_str(), &mut verified)?;
        Ok(BlobStatus::Complete)
    }

    /// [`BlobStore::sweep`], unless this store swept less than a minute ago (then 0): what a
    /// new upload calls. An expired upload left for that minute is still ignored when its
    /// device asks ([`BlobStore::partial_len`]); only its bytes count towards the device's
    /// quota a minute longer.
    pub fn sweep_often(&self, ttl: Duration) -> Result<usize, ServerError> {
        {
            let mut last = self.last_swept.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|t| t.elapsed() < SWEEP_AT_MOST_EVERY) {
                return Ok(0);
            }
            *last = Some(Instant::now());
        }
        self.sweep(ttl)
    }

    /// Removes every partial upload idle for longer than `ttl`; returns how many were
    /// removed.
    pub fn sweep(&self, ttl: Duration) -> Result<usize, ServerError> {
        let r = self.backend.sweep_partials(ttl, false)?;
        Ok(usize::try_from(r.count).unwrap_or(usize::MAX))
    }

    /// Removes (unless `dry_run`) every partial upload idle for longer than `ttl`.
    pub fn sweep_partials(&self, ttl: Duration, dry_run: bool) -> Result<Removed, ServerError> {
        self.backend.sweep_partials(ttl, dry_run)
    }

    /// The hashes of every whole file held.
    pub fn complete_hashes(&self) -> Result<Vec<String>, ServerError> {
        Ok(self
            .backend
            .complete_blobs()?
            .into_iter()
            .map(|b| b.hash)
            .collect())
    }

    /// Every whole file held, with its length and when it was stored.
    pub fn complete_blobs(&self) -> Result<Vec<BlobInfo>, ServerError> {
        self.backend.complete_blobs()
    }

    /// Removes a whole file (the orphan clean-up, [`crate::photo_sweep`]).
    pub fn remove_complete(&self, hash: &str) -> Result<(), ServerError> {
        check_hash(hash)?;
        let shard = usize::from(u8::from_str_radix(hash.get(..2).unwrap_or(""), 16).unwrap_or(0));
        let _guard = self.locks[shard].lock().unwrap_or_else(|e| e.into_inner());
        self.backend.remove_complete(hash)
    }

    /// Opens a whole file for streaming. A missing file is [`ServerError::NotFound`]; one that
    /// cannot be read is an internal error.
    pub fn open(&self, hash: &str) -> Result<OpenBlob, ServerError> {
        check_hash(hash)?;
        self.backend.open(hash)
    }

    /// A whole file's bytes.
    pub fn read(&self, hash: &str) -> Result<Vec<u8>, ServerError> {
        let mut blob = self.open(hash)?;
        let mut bytes = Vec::new();
        blob.read_to_end(&mut bytes)
            .map_err(|e| ServerError::Internal(format!("photo {hash}: {e}")))?;
        Ok(bytes)
    }
}
