//! Photo files on the server's file system, named by SHA-256, uploaded resumably.
//!
//! A partial upload belongs to the device that started it: it lives in
//! `partial/<device>/<hash>` and grows chunk by chunk at the offset the server reports to that
//! device, so no device can block another's upload of the same file. Once whole and matching
//! its hash it moves to `<2 hex>/<hash>` (stored once, however many devices upload it). A
//! partial upload not written to for the configured time expires: it is ignored and removed
//! when its device asks again, and [`BlobStore::sweep`] removes every expired one.

use crate::error::ServerError;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use xiangying_model::ids::{DeviceId, PhotoHash};

/// Where an upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobStatus {
    /// The server holds the whole file.
    Complete,
    /// The server holds this many bytes of it.
    Partial(u64),
}

/// The blob store.
pub struct BlobStore {
    root: PathBuf,
    max_bytes: u64,
    /// Uploads of the same file are serialised; different files go in parallel (the lock is
    /// picked by the hash's first byte).
    locks: Vec<Mutex<()>>,
}

fn io(path: &Path, e: std::io::Error) -> ServerError {
    ServerError::Internal(format!("{}: {e}", path.display()))
}

/// True for 64 lowercase hex digits.
pub fn valid_hash(hash: &str) -> bool {
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True for a device id that is safe as a folder name (the server makes them: `dev-<hex>`).
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

/// Whether a file was last written longer than `ttl` ago.
fn expired(meta: &fs::Metadata, ttl: Duration, now: SystemTime) -> bool {
    meta.modified()
        .ok()
        .and_then(|m| now.duration_since(m).ok())
        .is_some_and(|age| age > ttl)
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

/// A whole photo file opened for reading.
#[derive(Debug)]
pub struct OpenBlob {
    /// The open file.
    pub file: File,
    /// Its length in bytes.
    pub len: u64,
}

impl BlobStore {
    /// A store under `root`, refusing files over `max_bytes`.
    pub fn new(root: PathBuf, max_bytes: u64) -> BlobStore {
        BlobStore {
            root,
            max_bytes,
            locks: (0..256).map(|_| Mutex::new(())).collect(),
        }
    }

    /// The folder the files live in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn final_path(&self, hash: &str) -> PathBuf {
        self.root.join(&hash[..2]).join(hash)
    }

    fn partial_dir(&self) -> PathBuf {
        self.root.join("partial")
    }

    /// Where a device's partial upload of a file lives (for tests and tools).
    pub fn partial_path(&self, device: &DeviceId, hash: &PhotoHash) -> PathBuf {
        self.partial_dir().join(device.as_str()).join(hash.as_str())
    }

    /// Whether the server holds the whole file.
    pub fn is_complete(&self, hash: &str) -> Result<bool, ServerError> {
        check_hash(hash)?;
        Ok(self.final_path(hash).exists())
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
        let p = self.partial_path(device, hash);
        match fs::metadata(&p) {
            Ok(m) if expired(&m, ttl, SystemTime::now()) => {
                fs::remove_file(&p).map_err(|e| io(&p, e))?;
                Ok(0)
            }
            Ok(m) => Ok(m.len()),
            Err(_) => Ok(0),
        }
    }

    /// The bytes of all of a device's partial uploads (towards its quota).
    pub fn device_partial_bytes(&self, device: &DeviceId) -> Result<u64, ServerError> {
        check_device(device.as_str())?;
        let dir = self.partial_dir().join(device.as_str());
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(0);
        };
        Ok(entries
            .filter_map(|e| e.ok()?.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum())
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
        let part = self.partial_path(device, hash);
        if let Some(dir) = part.parent() {
            fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&part)
            .map_err(|e| io(&part, e))?;
        f.write_all(chunk).map_err(|e| io(&part, e))?;
        f.sync_all().map_err(|e| io(&part, e))?;
        drop(f);
        if end < total {
            return Ok(BlobStatus::Partial(end));
        }
        if hash_file(&part)? != hash.as_str() {
            fs::remove_file(&part).map_err(|e| io(&part, e))?;
            return Err(ServerError::BadRequest(
                "the uploaded bytes do not match the hash; upload again from 0".into(),
            ));
        }
        if let Err(e) = verified() {
            fs::remove_file(&part).map_err(|e| io(&part, e))?;
            return Err(e);
        }
        let dest = self.final_path(hash.as_str());
        if dest.exists() {
            fs::remove_file(&part).map_err(|e| io(&part, e))?;
        } else if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            fs::rename(&part, &dest).map_err(|e| io(&dest, e))?;
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io(dir, e))?;
        }
        self.remove_empty_device_dir(device);
        Ok(BlobStatus::Complete)
    }

    fn remove_empty_device_dir(&self, device: &DeviceId) {
        // Fails harmlessly while the folder still holds uploads.
        let _ = fs::remove_dir(self.partial_dir().join(device.as_str()));
    }

    /// Removes every partial upload idle for longer than `ttl` (and the folders left empty);
    /// returns how many were removed. Files of the earlier layout (`partial/<hash>`) expire the
    /// same way.
    pub fn sweep(&self, ttl: Duration) -> Result<usize, ServerError> {
        let now = SystemTime::now();
        let dir = self.partial_dir();
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(0);
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if let Ok(files) = fs::read_dir(&path) {
                    for f in files.flatten() {
                        if f.metadata()
                            .is_ok_and(|m| m.is_file() && expired(&m, ttl, now))
                        {
                            fs::remove_file(f.path()).map_err(|e| io(&f.path(), e))?;
                            removed += 1;
                        }
                    }
                }
                let _ = fs::remove_dir(&path);
            } else if expired(&meta, ttl, now) {
                fs::remove_file(&path).map_err(|e| io(&path, e))?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// The hashes of every whole file held.
    pub fn complete_hashes(&self) -> Result<Vec<String>, ServerError> {
        let mut out = Vec::new();
        let Ok(shards) = fs::read_dir(&self.root) else {
            return Ok(out);
        };
        for shard in shards.flatten() {
            let name = shard.file_name();
            let name = name.to_string_lossy();
            if name.len() != 2 || !shard.path().is_dir() {
                continue;
            }
            let Ok(files) = fs::read_dir(shard.path()) else {
                continue;
            };
            for f in files.flatten() {
                let hash = f.file_name().to_string_lossy().into_owned();
                if valid_hash(&hash) && hash.starts_with(name.as_ref()) {
                    out.push(hash);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Opens a whole file for streaming. A missing file is [`ServerError::NotFound`]; one that
    /// cannot be read is an internal error.
    pub fn open(&self, hash: &str) -> Result<OpenBlob, ServerError> {
        check_hash(hash)?;
        let p = self.final_path(hash);
        let file = match File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ServerError::NotFound);
            }
            Err(e) => return Err(io(&p, e)),
        };
        let meta = file.metadata().map_err(|e| io(&p, e))?;
        if !meta.is_file() {
            return Err(ServerError::Internal(format!(
                "{}: not a regular file",
                p.display()
            )));
        }
        Ok(OpenBlob {
            file,
            len: meta.len(),
        })
    }

    /// A whole file's bytes.
    pub fn read(&self, hash: &str) -> Result<Vec<u8>, ServerError> {
        let mut blob = self.open(hash)?;
        let mut bytes = Vec::new();
        blob.file
            .read_to_end(&mut bytes)
            .map_err(|e| io(&self.final_path(hash), e))?;
        Ok(bytes)
    }
}

/// SHA-256 of a file, read in pieces.
fn hash_file(path: &Path) -> Result<String, ServerError> {
    let mut f = File::open(path).map_err(|e| io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = f.read(&mut buf).map_err(|e| io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn ck(offset: u64, total: u64, bytes: &[u8]) -> Chunk<'_> {
        Chunk {
            offset,
            total,
            bytes,
        }
    }

    fn dev(id: &str) -> DeviceId {
        DeviceId::from(id)
    }

    fn ph(hash: &str) -> PhotoHash {
        PhotoHash::from(hash)
    }

    fn ok() -> Result<(), ServerError> {
        Ok(())
    }

    #[test]
    fn resumable_upload_with_offsets_and_hash_check() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path().to_path_buf(), 1000);
        let data = b"hello photo bytes".to_vec();
        let hash = hex::encode(Sha256::digest(&data));
        assert!(!store.is_complete(&hash).unwrap());
        assert_eq!(
            store.partial_len(&dev("dev-a"), &ph(&hash), DAY).unwrap(),
            0
        );
        let n = data.len() as u64;
        assert_eq!(
            store
                .append(&dev("dev-a"), &ph(&hash), ck(0, n, &data[..5]), DAY, ok)
                .unwrap(),
            BlobStatus::Partial(5)
        );
        assert_eq!(store.device_partial_bytes(&dev("dev-a")).unwrap(), 5);
        assert!(matches!(
            store.append(&dev("dev-a"), &ph(&hash), ck(3, n, &data[3..]), DAY, ok),
            Err(ServerError::Conflict(m)) if m.contains('5')
        ));
        // Another device's upload of the same file starts at 0: nothing blocks it.
        assert_eq!(
            store.partial_len(&dev("dev-b"), &ph(&hash), DAY).unwrap(),
            0
        );
        let mut recorded = false;
        assert_eq!(
            store
                .append(&dev("dev-b"), &ph(&hash), ck(0, n, &data), DAY, || {
                    recorded = true;
                    Ok(())
                })
                .unwrap(),
            BlobStatus::Complete
        );
        assert!(recorded);
        assert_eq!(store.read(&hash).unwrap(), data);
        // dev-a finishes too: a proof of possession, the file stays stored once.
        assert_eq!(
            store
                .append(&dev("dev-a"), &ph(&hash), ck(5, n, &data[5..]), DAY, ok)
                .unwrap(),
            BlobStatus::Complete
        );
        assert_eq!(store.device_partial_bytes(&dev("dev-a")).unwrap(), 0);
        assert_eq!(store.open(&hash).unwrap().len, n);
        assert_eq!(store.complete_hashes().unwrap(), vec![hash.clone()]);
        let wrong = hex::encode(Sha256::digest(b"other"));
        assert!(
            store
                .append(&dev("dev-a"), &ph(&wrong), ck(0, n, &data), DAY, ok)
                .is_err()
        );
        assert_eq!(
            store.partial_len(&dev("dev-a"), &ph(&wrong), DAY).unwrap(),
            0
        );
        assert!(!store.is_complete(&wrong).unwrap());
        assert!(matches!(
            store.append(&dev("dev-a"), &ph(&wrong), ck(0, 5000, &data), DAY, ok),
            Err(ServerError::TooLarge(_))
        ));
        assert!(store.is_complete("../etc/passwd").is_err());
        assert!(store.partial_len(&dev("../x"), &ph(&hash), DAY).is_err());
    }

    #[test]
    fn a_failed_record_keeps_the_file_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path().to_path_buf(), 1000);
        let data = b"bytes".to_vec();
        let hash = hex::encode(Sha256::digest(&data));
        let r = store.append(&dev("dev-a"), &ph(&hash), ck(0, 5, &data), DAY, || {
            Err(ServerError::storage_state("down"))
        });
        assert!(matches!(r, Err(ServerError::Storage(_))));
        assert!(!store.is_complete(&hash).unwrap());
        assert_eq!(
            store.partial_len(&dev("dev-a"), &ph(&hash), DAY).unwrap(),
            0
        );
    }

    #[test]
    fn idle_partial_uploads_expire_and_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path().to_path_buf(), 1000);
        let data = b"0123456789".to_vec();
        let hash = hex::encode(Sha256::digest(&data));
        store
            .append(&dev("dev-a"), &ph(&hash), ck(0, 10, &data[..4]), DAY, ok)
            .unwrap();
        store
            .append(&dev("dev-b"), &ph(&hash), ck(0, 10, &data[..2]), DAY, ok)
            .unwrap();
        let legacy = dir.path().join("partial").join(&hash);
        fs::write(&legacy, b"old").unwrap();
        assert_eq!(store.sweep(DAY).unwrap(), 0);
        let old = SystemTime::now() - 2 * DAY;
        for p in [
            store.partial_path(&dev("dev-a"), &ph(&hash)),
            legacy.clone(),
        ] {
            File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        assert_eq!(store.sweep(DAY).unwrap(), 2);
        assert!(!store.partial_path(&dev("dev-a"), &ph(&hash)).exists());
        assert!(!dir.path().join("partial").join("dev-a").exists());
        assert!(!legacy.exists());
        assert_eq!(
            store.partial_len(&dev("dev-b"), &ph(&hash), DAY).unwrap(),
            2
        );
        // An expired upload of the asking device counts as 0 and is removed.
        let p = store.partial_path(&dev("dev-b"), &ph(&hash));
        File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_eq!(
            store.partial_len(&dev("dev-b"), &ph(&hash), DAY).unwrap(),
            0
        );
        assert!(!p.exists());
    }
}
