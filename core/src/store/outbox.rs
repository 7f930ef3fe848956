//! The outbox: change bytes made on this device that no server has acknowledged yet. An entry
//! is written in the same transaction as the change itself and removed only on acknowledgement.

use super::Cached;
use crate::error::Result;
use rusqlite::{Connection, params};

/// One unacknowledged change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Its position; acknowledgements name it.
    pub seq: i64,
    /// The case it belongs to.
    pub case_id: String,
    /// The change bytes (a whole document for a new case).
    pub bytes: Vec<u8>,
}

/// Adds an entry.
pub fn push(conn: &Connection, case_id: &str, bytes: &[u8], now: i64) -> Result<()> {
    conn.prepare_cached("INSERT INTO outbox (case_id, bytes, created_at) VALUES (?1, ?2, ?3)")?
        .execute(params![case_id, bytes, now])?;
    Ok(())
}

/// The oldest entries, up to `limit`.
pub fn pending(conn: &Connection, limit: u32) -> Result<Vec<OutboxEntry>> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, case_id, bytes FROM outbox ORDER BY seq LIMIT ?1")?;
    let rows = stmt.query_map([limit], |r| {
        Ok(OutboxEntry {
            seq: r.get(0)?,
            case_id: r.get(1)?,
            bytes: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Removes acknowledged entries.
pub fn ack(conn: &Connection, seqs: &[i64]) -> Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?;
    for seq in seqs {
        stmt.execute([seq])?;
    }
    Ok(())
}

/// Removes every entry up to and including `seq`.
pub fn ack_through(conn: &Connection, seq: i64) -> Result<()> {
    conn.exec("DELETE FROM outbox WHERE seq <= ?1", [seq])?;
    Ok(())
}

/// How many entries wait.
pub fn len(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
    Ok(n.unsigned_abs())
}
