//! Sizing up pushed automerge bytes before anything decodes them.
//!
//! automerge inflates compressed chunks and columns without a cap and walks every op a
//! run-length-encoded column declares, so a megabyte of crafted bytes can demand gigabytes of
//! memory or hours of work. [`scan`] reads only chunk headers and column metadata: it inflates
//! what is deflated into a buffer that stops at the limit, and counts the ops, preds and changes
//! each chunk declares by summing run lengths, in time linear in the bytes it is given. Bytes
//! that pass can then be parsed by automerge with the work bounded by the [`IntakeLimits`].
//!
//! Formats read here (automerge's binary format, version 1): a chunk is magic, checksum, type,
//! LEB128 length, body. A change body is deps, actor, seq, start op, time, message, other
//! actors, op column metadata, op column data, extra bytes; a compressed change is a deflated
//! change body; a document body is actors, heads, change column metadata, op column metadata,
//! change column data, op column data, head indices. Column metadata is a count of
//! `(spec, length)` pairs; a spec is `id << 4 | deflate << 3 | type`.

use super::super::case::chunks::{ChunkKind, split};

/// The bounds on one push's automerge bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntakeLimits {
    /// Most bytes one chunk may take once inflated.
    pub max_chunk_bytes: u64,
    /// Most bytes a whole push may take once inflated.
    pub max_push_bytes: u64,
    /// Most ops (and most preds or successors) one chunk may declare.
    pub max_chunk_ops: u64,
    /// Most ops a whole push may declare.
    pub max_push_ops: u64,
    /// Most changes a whole push may hold.
    pub max_push_changes: u64,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        IntakeLimits {
            max_chunk_bytes: 4 << 20,
            max_push_bytes: 32 << 20,
            max_chunk_ops: 50_000,
            max_push_ops: 200_000,
            max_push_changes: 20_000,
        }
    }
}

/// What a push's chunks add up to so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Inflated bytes.
    pub bytes: u64,
    /// Ops declared.
    pub ops: u64,
    /// Changes held.
    pub changes: u64,
}

/// Why pushed bytes are refused before decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// A limit is crossed; names the limit (as the server's configuration calls it).
    #[error("over the limit `{limit}` ({max}): the push declares more")]
    OverLimit {
        /// The limit's configuration name.
        limit: &'static str,
        /// Its value.
        max: u64,
    },
    /// The bytes are not well-formed automerge chunks.
    #[error("damaged automerge bytes: {0}")]
    Malformed(String),
}

const DEFLATE: u64 = 1 << 3;
const TYPE_GROUP: u64 = 0;
const TYPE_ACTOR: u64 = 1;
const TYPE_INTEGER: u64 = 2;
/// Op columns: `action` (id 4, integer); preds (change, id 7) or successors (document, id 8).
const ACTION: u64 = 4 << 4 | TYPE_INTEGER;
const CHANGE_PRED: u64 = 7 << 4 | TYPE_GROUP;
const DOC_SUCC: u64 = 8 << 4 | TYPE_GROUP;
/// Document change columns: the `actor` column (id 0) has one entry per change; `deps` (id 4).
const DOC_CHANGE_ACTOR: u64 = TYPE_ACTOR;
const DOC_CHANGE_DEPS: u64 = 4 << 4 | TYPE_GROUP;

/// Checks a pushed byte string (one outbox entry) against the limits and adds it to `tally`,
/// which carries the push's totals from entry to entry.
pub fn scan(bytes: &[u8], limits: &IntakeLimits, tally: &mut Tally) -> Result<(), IntakeError> {
    for (i, chunk) in split(bytes)
        .map_err(IntakeError::Malformed)?
        .into_iter()
        .enumerate()
    {
        let body = chunk_body(chunk.bytes).map_err(|e| malformed(i, e))?;
        let counts = match chunk.kind {
            ChunkKind::Change => {
                add_bytes(tally, body.len() as u64, limits)?;
                change_counts(body, limits).map_err(|e| e.at(i))?
            }
            ChunkKind::CompressedChange => {
                let inflated = inflate(body, limits, tally)?;
                change_counts(&inflated, limits).map_err(|e| e.at(i))?
            }
            ChunkKind::Document => document_counts(body, limits, tally).map_err(|e| e.at(i))?,
            ChunkKind::Bundle => {
                return Err(malformed(i, "bundle chunks are not accepted from devices"));
            }
        };
        tally.ops = tally.ops.saturating_add(counts.ops);
        tally.changes = tally.changes.saturating_add(counts.changes);
        if tally.ops > limits.max_push_ops {
            return Err(over("max_push_ops", limits.max_push_ops));
        }
        if tally.changes > limits.max_push_changes {
            return Err(over("max_push_changes", limits.max_push_changes));
        }
    }
    Ok(())
}

fn over(limit: &'static str, max: u64) -> IntakeError {
    IntakeError::OverLimit { limit, max }
}

fn malformed(chunk: usize, e: impl std::fmt::Display) -> IntakeError {
    IntakeError::Malformed(format!("chunk {chunk}: {e}"))
}

impl IntakeError {
    fn at(self, chunk: usize) -> IntakeError {
        match self {
            IntakeError::Malformed(m) => malformed(chunk, m),
            other => other,
        }
    }
}

fn add_bytes(tally: &mut Tally, n: u64, limits: &IntakeLimits) -> Result<(), IntakeError> {
    if n > limits.max_chunk_bytes {
        return Err(over("max_chunk_bytes", limits.max_chunk_bytes));
    }
    tally.bytes = tally.bytes.saturating_add(n);
    if tally.bytes > limits.max_push_bytes {
        return Err(over("max_push_bytes", limits.max_push_bytes));
    }
    Ok(())
}

/// Inflates into a buffer that stops at what the chunk and the push may still take.
fn inflate(data: &[u8], limits: &IntakeLimits, tally: &mut Tally) -> Result<Vec<u8>, IntakeError> {
    let room = limits
        .max_chunk_bytes
        .min(limits.max_push_bytes.saturating_sub(tally.bytes));
    let cap = usize::try_from(room).unwrap_or(usize::MAX);
    match miniz_oxide::inflate::decompress_to_vec_with_limit(data, cap) {
        Ok(out) => {
            add_bytes(tally, out.len() as u64, limits)?;
            Ok(out)
        }
        Err(e) if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
            if room < limits.max_chunk_bytes {
                Err(over("max_push_bytes", limits.max_push_bytes))
            } else {
                Err(over("max_chunk_bytes", limits.max_chunk_bytes))
            }
        }
        Err(e) => Err(IntakeError::Malformed(format!(
            "deflated data does not inflate: {:?}",
            e.status
        ))),
    }
}

/// What one chunk declares.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    ops: u64,
    changes: u64,
}

/// The body of a chunk whose header [`split`] has already checked.
fn chunk_body(chunk: &[u8]) -> Result<&[u8], String> {
    let mut r = Reader::new(chunk.get(9..).ok_or("truncated header")?);
    let len = r.uleb()?;
    r.take(len)
}

fn change_counts(body: &[u8], limits: &IntakeLimits) -> Result<Counts, IntakeError> {
    let m = |e: String| IntakeError::Malformed(e);
    let mut r = Reader::new(body);
    let deps = r.uleb().map_err(m)?;
    r.take(deps.saturating_mul(32)).map_err(m)?;
    r.bytes().map_err(m)?; // actor
    r.uleb().map_err(m)?; // seq
    r.uleb().map_err(m)?; // start op
    r.uleb().map_err(m)?; // time (signed; the same length)
    r.bytes().map_err(m)?; // message
    let others = r.uleb().map_err(m)?;
    for _ in 0..others {
        r.bytes().map_err(m)?;
    }
    let columns = r.columns().map_err(m)?;
    let mut ops = 0;
    for (spec, data) in columns.layout(&mut r).map_err(m)? {
        if spec & DEFLATE != 0 {
            return Err(m("a change may not hold deflated columns".into()));
        }
        match spec {
            ACTION => ops = rle_count(data, limits.max_chunk_ops, false)?,
            CHANGE_PRED => {
                rle_count(data, limits.max_chunk_ops, true)?;
            }
            _ => {}
        }
    }
    Ok(Counts { ops, changes: 1 })
}

fn document_counts(
    body: &[u8],
    limits: &IntakeLimits,
    tally: &mut Tally,
) -> Result<Counts, IntakeError> {
    let m = |e: String| IntakeError::Malformed(e);
    add_bytes(tally, body.len() as u64, limits)?;
    let mut r = Reader::new(body);
    let actors = r.uleb().map_err(m)?;
    for _ in 0..actors {
        r.bytes().map_err(m)?;
    }
    let heads = r.uleb().map_err(m)?;
    r.take(heads.saturating_mul(32)).map_err(m)?;
    let change_cols = r.columns().map_err(m)?;
    let op_cols = r.columns().map_err(m)?;
    let change_data = change_cols.layout(&mut r).map_err(m)?;
    let op_data = op_cols.layout(&mut r).map_err(m)?;
    let mut counts = Counts::default();
    for (spec, data) in change_data {
        let plain = column_data(spec, data, limits, tally)?;
        match spec & !DEFLATE {
            DOC_CHANGE_ACTOR => {
                counts.changes = rle_count(&plain, limits.max_push_changes, false)?;
            }
            DOC_CHANGE_DEPS => {
                rle_count(&plain, limits.max_push_changes, true)?;
            }
            _ => {}
        }
    }
    for (spec, data) in op_data {
        let plain = column_data(spec, data, limits, tally)?;
        match spec & !DEFLATE {
            ACTION => counts.ops = rle_count(&plain, limits.max_chunk_ops, false)?,
            DOC_SUCC => {
                rle_count(&plain, limits.max_chunk_ops, true)?;
            }
            _ => {}
        }
    }
    Ok(counts)
}

/// A column's bytes, inflated (within the limits) when its spec says it is deflated.
fn column_data<'a>(
    spec: u64,
    data: &'a [u8],
    limits: &IntakeLimits,
    tally: &mut Tally,
) -> Result<std::borrow::Cow<'a, [u8]>, IntakeError> {
    if spec & DEFLATE == 0 {
        Ok(std::borrow::Cow::Borrowed(data))
    } else {
        Ok(std::borrow::Cow::Owned(inflate(data, limits, tally)?))
    }
}

/// The number of entries of a run-length-encoded unsigned column (`sum` false), or the sum of
/// its values (`sum` true), refused past `max`. Runs are a signed count: positive, one value
/// repeated; negative, that many literal values; zero, an unsigned count of nulls.
fn rle_count(data: &[u8], max: u64, sum: bool) -> Result<u64, IntakeError> {
    let limit = if sum {
        "max_chunk_preds"
    } else {
        "max_chunk_ops"
    };
    let mut r = Reader::new(data);
    let mut total: u64 = 0;
    let add = |total: &mut u64, n: u64| -> Result<(), IntakeError> {
        *total = total.saturating_add(n);
        if *total > max {
            Err(over(limit, max))
        } else {
            Ok(())
        }
    };
    while !r.is_empty() {
        let count = r.sleb().map_err(IntakeError::Malformed)?;
        if count > 0 {
            let value = r.uleb().map_err(IntakeError::Malformed)?;
            let n = count.unsigned_abs();
            add(&mut total, if sum { value.saturating_mul(n) } else { n })?;
        } else if count < 0 {
            for _ in 0..count.unsigned_abs() {
                let value = r.uleb().map_err(IntakeError::Malformed)?;
                add(&mut total, if sum { value } else { 1 })?;
            }
        } else {
            let nulls = r.uleb().map_err(IntakeError::Malformed)?;
            if !sum {
                add(&mut total, nulls)?;
            }
        }
    }
    Ok(total)
}

/// Column metadata: `(spec, length)` pairs in the order the data follows.
struct Columns(Vec<(u64, u64)>);

impl Columns {
    /// Splits the column data that follows into one slice per column.
    fn layout<'a>(&self, r: &mut Reader<'a>) -> Result<Vec<(u64, &'a [u8])>, String> {
        self.0
            .iter()
            .map(|&(spec, len)| Ok((spec, r.take(len)?)))
            .collect()
    }
}

/// A cursor over bytes that never reads past their end.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], String> {
        let n = usize::try_from(n).map_err(|_| "length out of range".to_string())?;
        if n > self.bytes.len() {
            return Err("truncated".into());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn uleb(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for i in 0..10 {
            let b = *self.bytes.get(i).ok_or("truncated number")?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                self.bytes = &self.bytes[i + 1..];
                return Ok(value);
            }
        }
        Err("number too long".into())
    }

    fn sleb(&mut self) -> Result<i64, String> {
        let mut value = 0i64;
        for i in 0..10 {
            let b = *self.bytes.get(i).ok_or("truncated number")?;
            value |= i64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if i < 9 && b & 0x40 != 0 {
                    value |= -1i64 << (7 * (i + 1));
                }
                self.bytes = &self.bytes[i + 1..];
                return Ok(value);
            }
        }
        Err("number too long".into())
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.uleb()?;
        self.take(n)
    }

    fn columns(&mut self) -> Result<Columns, String> {
        let n = self.uleb()?;
        // Each pair takes at least two bytes: a count beyond that is damage, not a request to
        // reserve memory.
        if n > self.bytes.len() as u64 / 2 {
            return Err("more columns than bytes".into());
        }
        (0..n)
            .map(|_| Ok((self.uleb()?, self.uleb()?)))
            .collect::<Result<Vec<_>, String>>()
            .map(Columns)
    }
}

#[cfg(test)]
#[path = "intake_tests.rs"]
mod tests;
