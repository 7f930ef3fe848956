//! The folder backend: photo files under `<data>/photos`, partial uploads appended in place.
//!
//! A device's partial upload lives in `partial/<device>/<hash>` and grows chunk by chunk; once
//! whole and matching its hash it moves to `<2 hex>/<hash>` (a rename, so it appears whole or
//! not at all). Expiry goes by the file's last-written time. Files of the earlier layout
//! (`partial/<hash>`) expire the same way.

use super::{Backend, BlobBody, BlobInfo, OpenBlob, Removed, mismatch};
use crate::error::ServerError;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Photo files in a folder.
#[derive(Debug)]
pub struct FolderBackend {
    root: PathBuf,
}

fn io(path: &Path, e: std::io::Error) -> ServerError {
    ServerError::Internal(format!("{}: {e}", path.display()))
}

/// Whether a file was last written longer than `ttl` ago.
fn expired(meta: &fs::Metadata, ttl: Duration, now: SystemTime) -> bool {
    meta.modified()
        .ok()
        .and_then(|m| now.duration_since(m).ok())
        .is_some_and(|age| age > ttl)
}

impl FolderBackend {
    /// The files under `root`.
    pub fn new(root: PathBuf) -> FolderBackend {
        FolderBackend { root }
    }

    fn final_path(&self, hash: &str) -> PathBuf {
        self.root.join(&hash[..2]).join(hash)
    }

    fn partial_dir(&self) -> PathBuf {
        self.root.join("partial")
    }

    /// Where a device's partial upload of a file lives (for tests and tools).
    pub fn partial_path(&self, device: &str, hash: &str) -> PathBuf {
        self.partial_dir().join(device).join(hash)
    }

    fn remove_empty_device_dir(&self, device: &str) {
        // Fails harmlessly while the folder still holds uploads.
        let _ = fs::remove_dir(self.partial_dir().join(device));
    }
}

impl Backend for FolderBackend {
    fn folder(&self) -> Option<&Path> {
        Some(&self.root)
    }

    fn is_complete(&self, hash: &str) -> Result<bool, ServerError> {
        Ok(self.final_path(hash).exists())
    }

    fn partial_len(&self, device: &str, hash: &str, ttl: Duration) -> Result<u64, ServerError> {
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

    fn device_partial_bytes(&self, device: &str) -> Result<u64, ServerError> {
        let dir = self.partial_dir().join(device);
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(0);
        };
        Ok(entries
            .filter_map(|e| e.ok()?.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum())
    }

    fn write_chunk(
        &self,
        device: &str,
        hash: &str,
        _offset: u64,
        bytes: &[u8],
    ) -> Result<(), ServerError> {
        let part = self.partial_path(device, hash);
        // The device's folder may be removed between making it and opening the file (a sweep
        // removes empty folders, as the end of another upload of the device does): make it
        // again and retry.
        let mut tries = 0;
        let mut f = loop {
            if let Some(dir) = part.parent() {
                fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            }
            match OpenOptions::new().create(true).append(true).open(&part) {
                Ok(f) => break f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && tries < 3 => tries += 1,
                Err(e) => return Err(io(&part, e)),
            }
        };
        f.write_all(bytes).map_err(|e| io(&part, e))?;
        f.sync_all().map_err(|e| io(&part, e))
    }

    fn finish(
        &self,
        device: &str,
        hash: &str,
        verified: &mut dyn FnMut() -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        let part = self.partial_path(device, hash);
        if hash_file(&part)? != hash {
            fs::remove_file(&part).map_err(|e| io(&part, e))?;
            return Err(mismatch());
        }
        if let Err(e) = verified() {
            fs::remove_file(&part).map_err(|e| io(&part, e))?;
            return Err(e);
        }
        let dest = self.final_path(hash);
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
        Ok(())
    }

    /// Written beside the partial uploads as `<device>.<hash>` (swept like them if the
    /// process stops half way), synced while `verified` records it (the two waits overlap:
    /// decision 0060), then renamed into place once both are done, and the folder synced: one
    /// new file and two syncs, where the chunked path makes a device folder, syncs the chunk,
    /// reads the file back to hash it and removes the folder.
    fn put_whole(
        &self,
        device: &str,
        hash: &str,
        bytes: &[u8],
        verified: &mut dyn FnMut() -> Result<(), ServerError>,
    ) -> Result<(), ServerError> {
        let dest = self.final_path(hash);
        if dest.exists() {
            return verified();
        }
        let dir = self.partial_dir();
        fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let tmp = dir.join(format!("{device}.{hash}"));
        let written = File::create(&tmp).and_then(|mut f| {
            f.write_all(bytes)?;
            Ok(f)
        });
        let done = match written {
            // The file reaches the disk on a thread of its own while the uploader is recorded
            // here; nothing is renamed into place before both are done. A record made for a
            // file whose sync then fails is what a crash before the rename leaves too: the
            // device was not answered, sends the file again, and the record is found.
            Ok(f) => std::thread::scope(|s| {
                let synced = s.spawn(move || f.sync_all());
                let recorded = verified();
                let synced = synced
                    .join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("the sync's thread panicked")))
                    .map_err(|e| io(&tmp, e));
                synced.and(recorded)
            }),
            Err(e) => Err(io(&tmp, e)),
        };
        if let Err(e) = done {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        let Some(shard) = dest.parent() else {
            return Err(io(&dest, std::io::ErrorKind::InvalidInput.into()));
        };
        fs::create_dir_all(shard).map_err(|e| io(shard, e))?;
        fs::rename(&tmp, &dest).map_err(|e| io(&dest, e))?;
        File::open(shard)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(shard, e))
    }

    fn sweep_partials(&self, ttl: Duration, dry_run: bool) -> Result<Removed, ServerError> {
        let now = SystemTime::now();
        let dir = self.partial_dir();
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(Removed::default());
        };
        let mut removed = Removed::default();
        let mut remove = |path: &Path, meta: &fs::Metadata| -> Result<(), ServerError> {
            if !dry_run {
                fs::remove_file(path).map_err(|e| io(path, e))?;
            }
            removed.count += 1;
            removed.bytes += meta.len();
            Ok(())
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if let Ok(files) = fs::read_dir(&path) {
                    for f in files.flatten() {
                        if let Ok(m) = f.metadata()
                            && m.is_file()
                            && expired(&m, ttl, now)
                        {
                            remove(&f.path(), &m)?;
                        }
                    }
                }
                if !dry_run {
                    let _ = fs::remove_dir(&path);
                }
            } else if expired(&meta, ttl, now) {
                remove(&path, &meta)?;
            }
        }
        Ok(removed)
    }

    fn complete_blobs(&self) -> Result<Vec<BlobInfo>, ServerError> {
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
                if super::valid_hash(&hash)
                    && hash.starts_with(name.as_ref())
                    && let Ok(meta) = f.metadata()
                {
                    out.push(BlobInfo {
                        hash,
                        len: meta.len(),
                        stored: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    });
                }
            }
        }
        out.sort_by(|a, b| a.hash.cmp(&b.hash));
        Ok(out)
    }

    fn remove_complete(&self, hash: &str) -> Result<(), ServerError> {
        let p = self.final_path(hash);
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(&p, e)),
        }
    }

    fn open(&self, hash: &str) -> Result<OpenBlob, ServerError> {
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
        Ok(OpenBlob::new(meta.len(), BlobBody::File(file)))
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
    use crate::blobs::{BlobStatus, BlobStore, Chunk};
    use std::sync::Arc;
    use xiangying_model::ids::{DeviceId, PhotoHash};

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

    /// Sets a file's last-written time, as an upload left idle since then would have it.
    fn age(path: &Path, when: SystemTime) {
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }

    #[test]
    fn resumable_upload_with_offsets_and_hash_check() {
        let dir = tempfile::tempdir().unwrap();
        let backend = Arc::new(FolderBackend::new(dir.path().to_path_buf()));
        let store = BlobStore::with_backend(backend.clone(), 1000);
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
        let backend = Arc::new(FolderBackend::new(dir.path().to_path_buf()));
        let store = BlobStore::with_backend(backend.clone(), 1000);
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
        // The file written beside the partial uploads while the record ran is gone too.
        let left: Vec<_> = fs::read_dir(dir.path().join("partial")).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn a_whole_file_is_put_in_place_only_after_its_record() {
        let dir = tempfile::tempdir().unwrap();
        let backend = Arc::new(FolderBackend::new(dir.path().to_path_buf()));
        let store = BlobStore::with_backend(backend.clone(), 1000);
        let data = b"whole bytes".to_vec();
        let hash = hex::encode(Sha256::digest(&data));
        let mut recorded = false;
        let r = store.append(&dev("dev-a"), &ph(&hash), ck(0, 11, &data), DAY, || {
            // The record runs while the file is synced: nobody can read it yet.
            assert!(!backend.final_path(&hash).exists());
            recorded = true;
            Ok(())
        });
        assert!(matches!(r, Ok(BlobStatus::Complete)), "{r:?}");
        assert!(recorded);
        assert_eq!(fs::read(backend.final_path(&hash)).unwrap(), data);
        let left: Vec<_> = fs::read_dir(dir.path().join("partial")).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn idle_partial_uploads_expire_and_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let backend = Arc::new(FolderBackend::new(dir.path().to_path_buf()));
        let store = BlobStore::with_backend(backend.clone(), 1000);
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
        for p in [backend.partial_path("dev-a", &hash), legacy.clone()] {
            age(&p, old);
        }
        assert_eq!(store.sweep(DAY).unwrap(), 2);
        assert!(!backend.partial_path("dev-a", &hash).exists());
        assert!(!dir.path().join("partial").join("dev-a").exists());
        assert!(!legacy.exists());
        assert_eq!(
            store.partial_len(&dev("dev-b"), &ph(&hash), DAY).unwrap(),
            2
        );
        // An expired upload of the asking device counts as 0 and is removed.
        let p = backend.partial_path("dev-b", &hash);
        age(&p, old);
        assert_eq!(
            store.partial_len(&dev("dev-b"), &ph(&hash), DAY).unwrap(),
            0
        );
        assert!(!p.exists());
    }

    #[test]
    fn new_uploads_sweep_at_most_once_a_minute() {
        let dir = tempfile::tempdir().unwrap();
        let backend = Arc::new(FolderBackend::new(dir.path().to_path_buf()));
        let store = BlobStore::with_backend(backend.clone(), 1000);
        let old = SystemTime::now() - 2 * DAY;
        let expired = |device: &str, data: &[u8]| {
            let hash = hex::encode(Sha256::digest(data));
            store
                .append(&dev(device), &ph(&hash), ck(0, 10, &data[..4]), DAY, ok)
                .unwrap();
            let p = backend.partial_path(device, &hash);
            age(&p, old);
            (p, hash)
        };
        let (first, _) = expired("dev-a", b"0123456789");
        assert_eq!(store.sweep_often(DAY).unwrap(), 1);
        assert!(!first.exists());
        // Within the minute the next upload does not list the folder again.
        let (second, hash) = expired("dev-b", b"abcdefghij");
        assert_eq!(store.sweep_often(DAY).unwrap(), 0);
        assert!(second.exists());
        // The expired upload still counts as nothing for its device.
        assert_eq!(
            store.partial_len(&dev("dev-b"), &ph(&hash), DAY).unwrap(),
            0
        );
        let (third, _) = expired("dev-c", b"ABCDEFGHIJ");
        // The scheduled clean-up sweeps whenever it runs.
        assert_eq!(store.sweep(DAY).unwrap(), 1);
        assert!(!third.exists());
    }
}
