//! The content-addressed photo store on the device: `<root>/<first 2 hex>/<sha256>.jpg`.
//!
//! Files are named by the SHA-256 of their bytes, so the same photo attached twice is
//! stored once, and a name always tells what the content must be. Every file is written
//! atomically: to a temporary file in the same folder, flushed to disk (`fsync`), then
//! renamed to its final name and the folder flushed, so a crash or kill mid-write never
//! leaves a partial file under a final name (at worst a `.tmp` file, which
//! [`PhotoFiles::remove_partial`] sweeps).

use super::encode::{Encoded, sha256_hex};
use super::{PhotoError, ProcessedPhoto};
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Extension of stored files.
const EXT: &str = "jpg";
/// Extension of files being written.
const TMP_EXT: &str = "tmp";

/// A folder of content-addressed photo files (typically inside the app's data folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoFiles {
    root: PathBuf,
}

/// One stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// Lowercase hex SHA-256 of the content: the handle to keep in the case.
    pub sha256: String,
    /// Where the file is.
    pub path: PathBuf,
    /// Size in bytes.
    pub bytes: u64,
    /// False when the file was already there (nothing was written).
    pub newly_written: bool,
}

/// What [`PhotoFiles::store`] did with a processed photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPhoto {
    /// The full-size photo.
    pub photo: StoredFile,
    /// Its thumbnail.
    pub thumbnail: StoredFile,
}

/// True for a 64-character lowercase hex string.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl PhotoFiles {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        PhotoFiles { root: root.into() }
    }

    /// The store's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the file named `hash` lives (whether or not it exists). Refuses anything but
    /// 64 lowercase hex digits, so a hash from a document can never point outside the store.
    pub fn path_of(&self, hash: &str) -> Result<PathBuf, PhotoError> {
        if !is_sha256_hex(hash) {
            return Err(PhotoError::BadHash(hash.to_owned()));
        }
        Ok(self.root.join(&hash[..2]).join(format!("{hash}.{EXT}")))
    }

    /// True when the file named `hash` is stored (false for a malformed hash).
    pub fn contains(&self, hash: &str) -> bool {
        self.path_of(hash).is_ok_and(|p| p.is_file())
    }

    /// Reads the file named `hash`, checking that its content still has that hash.
    pub fn read(&self, hash: &str) -> Result<Vec<u8>, PhotoError> {
        let path = self.path_of(hash)?;
        let bytes = fs::read(&path).map_err(|e| PhotoError::io(&path, e))?;
        let actual = sha256_hex(&bytes);
        if actual != hash {
            return Err(PhotoError::HashMismatch {
                hash: hash.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Reads the file named `hash` for an upload, without hashing it: the server checks every
    /// byte it takes against the hash and refuses a mismatch, so hashing here too would do the
    /// same work twice (issue 18). Only when the server refuses the bytes does the uploader
    /// hash them, to tell a damaged copy on this phone from a refusal of another kind.
    pub fn read_to_send(&self, hash: &str) -> Result<Vec<u8>, PhotoError> {
        let path = self.path_of(hash)?;
        fs::read(&path).map_err(|e| PhotoError::io(&path, e))
    }

    /// Stores the photo and its thumbnail. Storing the same photo again writes nothing and
    /// returns the same hashes.
    pub fn store(&self, photo: &ProcessedPhoto) -> Result<StoredPhoto, PhotoError> {
        Ok(StoredPhoto {
            photo: self.put(&photo.photo)?,
            thumbnail: self.put(&photo.thumbnail)?,
        })
    }

    /// Stores one encoded file under its hash (a no-op when it is already there).
    pub fn put(&self, file: &Encoded) -> Result<StoredFile, PhotoError> {
        self.put_bytes(&file.bytes)
    }

    /// Stores raw bytes (e.g. a photo downloaded from the server) under their SHA-256.
    pub fn put_bytes(&self, data: &[u8]) -> Result<StoredFile, PhotoError> {
        self.write_named(data, false)
    }

    /// Stores raw bytes under their SHA-256 even when a file of that name is there: a copy
    /// that no longer matches its name (what [`PhotoFiles::read`] refuses) is replaced, in
    /// one rename, by the good bytes, e.g. the same photo downloaded again from the server.
    pub fn mend(&self, data: &[u8]) -> Result<StoredFile, PhotoError> {
        self.write_named(data, true)
    }

    /// Writes `data` under its SHA-256, over a file of that name only when `replace`.
    fn write_named(&self, data: &[u8], replace: bool) -> Result<StoredFile, PhotoError> {
        // Never trust a given hash for the name: compute it.
        let sha256 = sha256_hex(data);
        let path = self.path_of(&sha256)?;
        let bytes = data.len() as u64;
        if !replace && path.is_file() {
            return Ok(StoredFile {
                sha256,
                path,
                bytes,
                newly_written: false,
            });
        }
        let dir = path
            .parent()
            .ok_or_else(|| PhotoError::BadHash(sha256.clone()))?
            .to_path_buf();
        fs::create_dir_all(&dir).map_err(|e| PhotoError::io(&dir, e))?;
        write_atomically(&dir, &path, data)?;
        Ok(StoredFile {
            sha256,
            path,
            bytes,
            newly_written: true,
        })
    }

    /// Deletes the file named `hash`; returns whether it was there.
    pub fn remove(&self, hash: &str) -> Result<bool, PhotoError> {
        let path = self.path_of(hash)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(PhotoError::io(&path, e)),
        }
    }

    /// Deletes the temporary files a crash may have left behind; returns how many.
    /// Call it at start-up, when no store is in progress.
    pub fn remove_partial(&self) -> Result<usize, PhotoError> {
        let mut removed = 0;
        let top = match fs::read_dir(&self.root) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(PhotoError::io(&self.root, e)),
        };
        for sub in top {
            let sub = sub.map_err(|e| PhotoError::io(&self.root, e))?.path();
            if !sub.is_dir() {
                continue;
            }
            for f in fs::read_dir(&sub).map_err(|e| PhotoError::io(&sub, e))? {
                let f = f.map_err(|e| PhotoError::io(&sub, e))?.path();
                if f.extension().is_some_and(|x| x == TMP_EXT) {
                    fs::remove_file(&f).map_err(|e| PhotoError::io(&f, e))?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// Temp file + fsync + rename + fsync of the folder.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), PhotoError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}.{}.{TMP_EXT}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = File::create_new(&tmp).map_err(|e| PhotoError::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| PhotoError::io(&tmp, e))?;
        f.sync_all().map_err(|e| PhotoError::io(&tmp, e))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| PhotoError::io(path, e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), PhotoError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| PhotoError::io(dir, e))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), PhotoError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::test_support::{jpeg_rgb, marker_image};
    use crate::photo::{PhotoOptions, process};

    fn sample() -> ProcessedPhoto {
        process(
            &jpeg_rgb(&marker_image(400, 300), 90),
            &PhotoOptions::default(),
        )
        .unwrap()
    }

    fn all_files(root: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for sub in fs::read_dir(root).unwrap() {
            let sub = sub.unwrap().path();
            for f in fs::read_dir(&sub).unwrap() {
                out.push(f.unwrap().path());
            }
        }
        out.sort();
        out
    }

    #[test]
    fn store_lays_files_out_by_hash_and_reads_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let files = PhotoFiles::new(dir.path().join("photos"));
        let p = sample();
        let s = files.store(&p).unwrap();
        assert!(s.photo.newly_written && s.thumbnail.newly_written);
        assert_eq!(s.photo.sha256, p.photo.sha256);
        assert_eq!(s.thumbnail.sha256, p.thumbnail.sha256);
        let h = &p.photo.sha256;
        assert_eq!(
            s.photo.path,
            dir.path()
                .join("photos")
                .join(&h[..2])
                .join(format!("{h}.jpg"))
        );
        assert_eq!(files.read(h).unwrap(), p.photo.bytes);
        assert_eq!(files.read(&p.thumbnail.sha256).unwrap(), p.thumbnail.bytes);
        assert!(files.contains(h));
        assert!(files.contains(&p.thumbnail.sha256));
        // Only the two final files, no temporary left behind.
        let listed = all_files(files.root());
        assert_eq!(listed.len(), 2);
        assert!(
            listed
                .iter()
                .all(|f| f.extension().is_some_and(|x| x == "jpg"))
        );
    }

    #[test]
    fn storing_twice_is_a_no_op_with_the_same_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let files = PhotoFiles::new(dir.path());
        let p = sample();
        let first = files.store(&p).unwrap();
        let modified = fs::metadata(&first.photo.path).unwrap().modified().unwrap();
        let again = files.store(&sample()).unwrap();
        assert!(!again.photo.newly_written && !again.thumbnail.newly_written);
        assert_eq!(again.photo.sha256, first.photo.sha256);
        assert_eq!(again.thumbnail.sha256, first.thumbnail.sha256);
        assert_eq!(
            fs::metadata(&first.photo.path).unwrap().modified().unwrap(),
            modified
        );
        assert_eq!(all_files(dir.path()).len(), 2);
    }

    #[test]
    fn contains_and_path_of_refuse_bad_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let files = PhotoFiles::new(dir.path());
        assert!(!files.contains(&"a".repeat(64)));
        assert!(!files.contains("../../etc/passwd"));
        assert!(matches!(files.path_of("ABC"), Err(PhotoError::BadHash(_))));
        assert!(matches!(
            files.path_of(&"A".repeat(64)),
            Err(PhotoError::BadHash(_))
        ));
        assert!(matches!(
            files.read(&"0".repeat(64)),
            Err(PhotoError::Io { .. })
        ));
    }

    #[test]
    fn a_damaged_file_is_reported_not_returned() {
        let dir = tempfile::tempdir().unwrap();
        let files = PhotoFiles::new(dir.path());
        let s = files.store(&sample()).unwrap();
        fs::write(&s.photo.path, b"bit rot").unwrap();
        assert!(matches!(
            files.read(&s.photo.sha256),
            Err(PhotoError::HashMismatch { .. })
        ));
        // Put again, the damaged copy stays; mended, the good bytes replace it.
        let good = sample().photo.bytes;
        assert!(!files.put_bytes(&good).unwrap().newly_written);
        assert!(files.read(&s.photo.sha256).is_err());
        assert!(files.mend(&good).unwrap().newly_written);
        assert_eq!(files.read(&s.photo.sha256).unwrap(), good);
        assert!(
            all_files(dir.path())
                .iter()
                .all(|p| p.extension().unwrap() == "jpg")
        );
        fs::write(&s.photo.path, b"bit rot").unwrap();
        // Read to send, the same file comes back as it is: the server is the one to check.
        assert_eq!(files.read_to_send(&s.photo.sha256).unwrap(), b"bit rot");
        assert!(matches!(
            files.read_to_send("../../etc/passwd"),
            Err(PhotoError::BadHash(_))
        ));
        assert!(matches!(
            files.read_to_send(&"0".repeat(64)),
            Err(PhotoError::Io { .. })
        ));
    }

    #[test]
    fn leftover_temporaries_are_swept_and_never_seen_as_photos() {
        let dir = tempfile::tempdir().unwrap();
        let files = PhotoFiles::new(dir.path());
        let s = files.store(&sample()).unwrap();
        // What a kill between create and rename leaves: a temp file beside the real ones.
        let h = "ab".repeat(32);
        let sub = dir.path().join("ab");
        fs::create_dir_all(&sub).unwrap();
        fs::write(sub.join(format!(".{h}.1.0.tmp")), b"half a jpe").unwrap();
        assert!(!files.contains(&h));
        assert_eq!(files.remove_partial().unwrap(), 1);
        assert_eq!(all_files(dir.path()).len(), 2);
        assert!(files.remove(&s.photo.sha256).unwrap());
        assert!(!files.remove(&s.photo.sha256).unwrap());
        assert!(!files.contains(&s.photo.sha256));
    }
}
