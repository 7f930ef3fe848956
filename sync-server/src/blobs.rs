//! Photo files on the server's file system, named by SHA-256, uploaded resumably: a partial
//! upload lives in `partial/<hash>` and grows chunk by chunk at the offset the server reports;
//! once whole and matching its hash it moves to `<2 hex>/<hash>`.

use crate::error::ServerError;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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

    fn partial_path(&self, hash: &str) -> PathBuf {
        self.root.join("partial").join(hash)
    }

    /// How much of a file the server holds.
    pub fn status(&self, hash: &str) -> Result<BlobStatus, ServerError> {
        if !valid_hash(hash) {
            return Err(ServerError::BadRequest("not a SHA-256 hash".into()));
        }
        if self.final_path(hash).exists() {
            return Ok(BlobStatus::Complete);
        }
        let p = self.partial_path(hash);
        Ok(BlobStatus::Partial(
            fs::metadata(&p).map(|m| m.len()).unwrap_or(0),
        ))
    }

    /// Appends `chunk` at `offset` to a file of `total` bytes. A wrong offset is a
    /// [`ServerError::Conflict`] naming the right one; a finished file whose bytes do not
    /// match the hash is discarded and refused.
    pub fn append(
        &self,
        hash: &str,
        offset: u64,
        total: u64,
        chunk: &[u8],
    ) -> Result<BlobStatus, ServerError> {
        if total > self.max_bytes {
            return Err(ServerError::TooLarge(format!(
                "a photo may have at most {} bytes",
                self.max_bytes
            )));
        }
        let shard = usize::from(u8::from_str_radix(hash.get(..2).unwrap_or("00"), 16).unwrap_or(0));
        let _guard = self.locks[shard].lock().unwrap_or_else(|e| e.into_inner());
        match self.status(hash)? {
            BlobStatus::Complete => return Ok(BlobStatus::Complete),
            BlobStatus::Partial(have) if have != offset => {
                return Err(ServerError::Conflict(format!("upload offset is {have}")));
            }
            BlobStatus::Partial(_) => {}
        }
        let end = offset + chunk.len() as u64;
        if end > total {
            return Err(ServerError::BadRequest(format!(
                "chunk ends at {end}, past the declared length {total}"
            )));
        }
        let part = self.partial_path(hash);
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
        if end < total {
            return Ok(BlobStatus::Partial(end));
        }
        let bytes = fs::read(&part).map_err(|e| io(&part, e))?;
        if hex::encode(Sha256::digest(&bytes)) != hash {
            fs::remove_file(&part).map_err(|e| io(&part, e))?;
            return Err(ServerError::BadRequest(
                "the uploaded bytes do not match the hash; upload again from 0".into(),
            ));
        }
        let dest = self.final_path(hash);
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            fs::rename(&part, &dest).map_err(|e| io(&dest, e))?;
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io(dir, e))?;
        }
        Ok(BlobStatus::Complete)
    }

    /// A whole file's bytes.
    pub fn read(&self, hash: &str) -> Result<Vec<u8>, ServerError> {
        if !valid_hash(hash) {
            return Err(ServerError::BadRequest("not a SHA-256 hash".into()));
        }
        fs::read(self.final_path(hash)).map_err(|_| ServerError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resumable_upload_with_offsets_and_hash_check() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::new(dir.path().to_path_buf(), 1000);
        let data = b"hello photo bytes".to_vec();
        let hash = hex::encode(Sha256::digest(&data));
        assert_eq!(store.status(&hash).unwrap(), BlobStatus::Partial(0));
        let n = data.len() as u64;
        assert_eq!(
            store.append(&hash, 0, n, &data[..5]).unwrap(),
            BlobStatus::Partial(5)
        );
        assert!(matches!(
            store.append(&hash, 3, n, &data[3..]),
            Err(ServerError::Conflict(m)) if m.contains('5')
        ));
        assert_eq!(
            store.append(&hash, 5, n, &data[5..]).unwrap(),
            BlobStatus::Complete
        );
        assert_eq!(store.read(&hash).unwrap(), data);
        assert_eq!(
            store.append(&hash, 0, n, &data).unwrap(),
            BlobStatus::Complete
        );
        let wrong = hex::encode(Sha256::digest(b"other"));
        assert!(store.append(&wrong, 0, n, &data).is_err());
        assert_eq!(store.status(&wrong).unwrap(), BlobStatus::Partial(0));
        assert!(matches!(
            store.append(&wrong, 0, 5000, &data),
            Err(ServerError::TooLarge(_))
        ));
        assert!(store.status("../etc/passwd").is_err());
    }
}
