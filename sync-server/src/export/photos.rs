//! `photos.jsonl` and the `photos/` folder: the photo uses of the exported cases, gathered in
//! a scratch SQLite file (not in memory), then one line per referenced file, copied from the
//! blob store and checked against its name on the way.

use super::{Counts, PHOTO_DIR, create_new, hash_reader, io};
use crate::blobs::{BlobStore, valid_hash};
use crate::error::ServerError;
use crate::storage::{PhotoUploader, Storage, with_tx};
use serde::Serialize;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;
use xiangying_model::ids::{DeviceId, PersonId, PhotoHash};

/// An error of the scratch index, named as such.
fn scratch_err(e: rusqlite::Error) -> ServerError {
    ServerError::Internal(format!("export scratch index: {e}"))
}

/// One use of a photo or thumbnail file by a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct PhotoUse {
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
    /// The hash of the file used: the photo's, or its thumbnail's.
    #[serde(skip)]
    pub(super) file: String,
}

/// The photo uses gathered so far, in a scratch SQLite file, so that the photo listing needs
/// no memory per photo.
pub(super) struct Scratch {
    conn: rusqlite::Connection,
}

impl Scratch {
    /// Creates the scratch file (it must not exist).
    pub(super) fn open(path: &Path) -> Result<Scratch, ServerError> {
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

    /// Records a page's photo uses, in one transaction.
    pub(super) fn add(&self, uses: &[PhotoUse]) -> Result<(), ServerError> {
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
    pub(super) fn each_file(
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
pub(super) struct UploaderOut {
    device: DeviceId,
    person: PersonId,
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
pub(super) struct PhotoLine {
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
pub(super) fn photo_line(
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
    line.uploaded_by = with_tx(storage, |tx| tx.photo_uploaders(&PhotoHash::from(hash)))?
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
        from: &mut blob,
        to: &mut dest,
    };
    // Not synced one by one (a sync per file would triple the time of a large export): the
    // files are named by their SHA-256, so a copy cut short by a crash shows on checking.
    let (bytes, sha) = hash_reader(&mut tee).map_err(|e| io(&path, e))?;
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
    from: &'a mut dyn Read,
    to: &'a mut File,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.from.read(buf)?;
        self.to.write_all(&buf[..n])?;
        Ok(n)
    }
}
