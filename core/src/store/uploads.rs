//! The photo upload queue: files a case references that no server holds yet. An entry is
//! written in the transaction that adds the reference, and removed only when the server
//! confirms it has the whole file, so a photo is never left behind.

use super::Cached;
use crate::error::Result;
use rusqlite::{Connection, params};

/// One photo file waiting for upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// SHA-256 of the file, lowercase hex.
    pub hash: String,
    /// The case that references it.
    pub case_id: String,
    /// Its size.
    pub bytes: u64,
}

/// Queues a file (once; a second reference to the same file adds nothing).
pub fn push(conn: &Connection, hash: &str, case_id: &str, bytes: u64, now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO uploads (hash, case_id, bytes, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        hash,
        case_id,
        i64::try_from(bytes).unwrap_or(i64::MAX),
        now
    ])?;
    Ok(())
}

/// The oldest entries.
pub fn pending(conn: &Connection, limit: u32) -> Result<Vec<Upload>> {
    let mut stmt = conn.prepare_cached(
        "SELECT hash, case_id, bytes FROM uploads ORDER BY created_at, hash LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(Upload {
            hash: r.get(0)?,
            case_id: r.get(1)?,
            bytes: r.get::<_, i64>(2)?.unsigned_abs(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many photo files wait to upload.
pub fn len(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.row("SELECT COUNT(*) FROM uploads", [], |r| r.get(0))?;
    Ok(n.unsigned_abs())
}

/// Removes entries, in one transaction.
pub fn done(conn: &mut Connection, hashes: &[String]) -> Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached("DELETE FROM uploads WHERE hash = ?1")?;
        for hash in hashes {
            stmt.execute([hash])?;
        }
    }
    tx.commit()?;
    Ok(())
}
