//! The automerge plumbing every document kind shares: loading received bytes without letting
//! an automerge panic through, the canonical save, reading root scalars and lists of JSON
//! entries, and finding the elements a push added.

use super::{DocError, RawChange};
use automerge::{
    AutoCommit, AutomergeError, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A document saved from its changes applied in a canonical order (dependencies first, ties
/// broken by hash): byte-identical on every replica holding the same changes.
pub(crate) fn canonical_save(doc: &mut AutoCommit) -> Result<Vec<u8>, DocError> {
    let changes = doc.get_changes(&[]);
    let known: HashSet<ChangeHash> = changes.iter().map(|c| c.hash()).collect();
    let mut waiting: HashMap<ChangeHash, usize> = HashMap::new();
    let mut dependents: HashMap<ChangeHash, Vec<ChangeHash>> = HashMap::new();
    let mut by_hash = HashMap::new();
    for c in changes {
        let deps: Vec<_> = c
            .deps()
            .iter()
            .filter(|d| known.contains(d))
            .copied()
            .collect();
        waiting.insert(c.hash(), deps.len());
        for d in deps {
            dependents.entry(d).or_default().push(c.hash());
        }
        by_hash.insert(c.hash(), c);
    }
    let mut ready: BTreeSet<ChangeHash> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(h, _)| *h)
        .collect();
    let mut ordered = Vec::with_capacity(by_hash.len());
    while let Some(h) = ready.pop_first() {
        for d in dependents.remove(&h).unwrap_or_default() {
            if let Some(n) = waiting.get_mut(&d) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(d);
                }
            }
        }
        if let Some(c) = by_hash.remove(&h) {
            ordered.push(c);
        }
    }
    let mut fresh = AutoCommit::new();
    fresh.apply_changes(ordered)?;
    Ok(fresh.save())
}

/// The changes of `doc` not reachable from `heads`, in causal order, with their actors; a
/// change not in `known` is encoded without deflating it (decision 0056).
pub(crate) fn changes_since(
    doc: &mut AutoCommit,
    heads: &[ChangeHash],
    known: &dyn Fn(&ChangeHash) -> Option<Vec<u8>>,
) -> Vec<RawChange> {
    doc.get_changes(heads)
        .into_iter()
        .map(|c| RawChange {
            actor: c.actor_id().clone(),
            bytes: known(&c.hash()).unwrap_or_else(|| c.raw_bytes().to_vec()),
        })
        .collect()
}

/// automerge's incremental load, with a panic inside automerge (found by fuzzing: automerge
/// 0.12 panics on some crafted changes that parse) turned into an error. After an error the
/// document may hold part of the bytes: callers drop it (the server works on a fork).
pub(crate) fn load_incremental(doc: &mut AutoCommit, bytes: &[u8]) -> Result<(), DocError> {
    no_panic(|| doc.load_incremental(bytes).map(drop))
}

/// [`load_incremental`] for bytes received from elsewhere, then the new changes read back once
/// (as the server does next): automerge 0.12 can take in crafted changes that it panics on
/// when reading them back (found by fuzzing). Panics are errors; after an error the document
/// may hold part of the bytes: callers drop it.
pub(crate) fn load_received(doc: &mut AutoCommit, bytes: &[u8]) -> Result<(), DocError> {
    let heads = doc.get_heads();
    no_panic(|| {
        doc.load_incremental(bytes)?;
        doc.get_changes(&heads);
        Ok(())
    })
}

fn no_panic(f: impl FnOnce() -> Result<(), AutomergeError>) -> Result<(), DocError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(loaded) => loaded.map_err(DocError::from),
        Err(_) => Err(DocError::Bytes(
            "automerge could not apply the changes".into(),
        )),
    }
}

/// Checks that received bytes are whole, valid automerge chunks ([`super::chunks::check`]).
pub fn check_bytes(bytes: &[u8]) -> Result<(), DocError> {
    super::chunks::check(bytes).map_err(DocError::Bytes)
}

/// A value as the JSON string a list entry or a JSON fact holds.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, DocError> {
    serde_json::to_string(value).map_err(|e| DocError::Encode(e.to_string()))
}

/// The id of the list under a root key, or [`DocError::Field`] naming the key.
pub fn list_id(doc: &AutoCommit, key: &'static str) -> Result<ObjId, DocError> {
    match doc.get(ROOT, key)? {
        Some((Value::Object(ObjType::List), id)) => Ok(id),
        _ => Err(DocError::Field(key)),
    }
}

/// The `layout` root key of a synced document: 1 when absent (first-wave documents), else a
/// positive integer.
pub fn layout_at(doc: &AutoCommit) -> Result<u64, DocError> {
    match doc.get(ROOT, "layout")? {
        None => Ok(1),
        Some((Value::Scalar(v), _)) => match v.as_ref() {
            ScalarValue::Uint(n) if *n >= 1 => Ok(*n),
            ScalarValue::Int(n) if *n >= 1 => Ok(n.unsigned_abs()),
            _ => Err(DocError::Field("layout")),
        },
        Some(_) => Err(DocError::Field("layout")),
    }
}

/// Appends a value to the end of a list as one change and returns the change's bytes.
pub fn append(
    doc: &mut AutoCommit,
    list: &ObjId,
    value: impl Into<ScalarValue>,
) -> Result<Vec<u8>, DocError> {
    let heads = doc.get_heads();
    let n = doc.length(list);
    automerge::transaction::Transactable::insert(doc, list, n, value)?;
    doc.commit();
    Ok(doc.save_after(&heads))
}

/// Puts a scalar under a root key as one change and returns its bytes.
#[cfg(any(test, feature = "test-hooks"))]
pub(crate) fn put_root_scalar(
    doc: &mut AutoCommit,
    key: &str,
    value: ScalarValue,
) -> Result<Vec<u8>, DocError> {
    let heads = doc.get_heads();
    automerge::transaction::Transactable::put(doc, ROOT, key, value)?;
    doc.commit();
    Ok(doc.save_after(&heads))
}

/// The root map's scalars, read in one pass: reading many keys one `get` at a time costs a
/// seek through the document's columns for each key, which showed in the server's push
/// profile (decision 0048).
pub struct RootScalars(HashMap<String, ScalarValue>);

impl RootScalars {
    /// Reads every root key's winning scalar (objects are left out).
    pub fn read(doc: &AutoCommit) -> RootScalars {
        RootScalars(
            doc.map_range(ROOT, ..)
                .filter_map(|item| match item.value.into_value() {
                    Value::Scalar(v) => Some((item.key.into_owned(), v.into_owned())),
                    Value::Object(_) => None,
                })
                .collect(),
        )
    }

    /// The scalar under `key`, as [`scalar_at`] reads it.
    pub fn scalar(&self, key: &str) -> Option<&ScalarValue> {
        self.0.get(key)
    }

    /// The string under `key`, as [`str_at`] reads it.
    pub fn str(&self, key: &str) -> Option<String> {
        as_string(self.0.get(key))
    }

    /// The float under `key`, if there is one.
    pub fn f64(&self, key: &str) -> Option<f64> {
        match self.0.get(key) {
            Some(ScalarValue::F64(f)) => Some(*f),
            _ => None,
        }
    }
}

/// The scalar under a root key, if there is one.
pub fn scalar_at(doc: &AutoCommit, key: &str) -> Option<ScalarValue> {
    match doc.get(ROOT, key) {
        Ok(Some((Value::Scalar(v), _))) => Some(v.into_owned()),
        _ => None,
    }
}

/// The string under a root key, if there is one.
pub fn str_at(doc: &AutoCommit, key: &str) -> Option<String> {
    as_string(scalar_at(doc, key).as_ref())
}

/// A scalar's text, when it is a string.
fn as_string(value: Option<&ScalarValue>) -> Option<String> {
    match value {
        Some(ScalarValue::Str(s)) => Some(s.to_string()),
        _ => None,
    }
}

/// Every entry of a list of JSON strings, parsed; `what` names the entries in errors.
pub fn entries<T: serde::de::DeserializeOwned>(
    doc: &AutoCommit,
    list: &ObjId,
    what: &'static str,
) -> Result<Vec<T>, DocError> {
    // One pass over the list: a `get` by index seeks from the list's start each time.
    doc.list_range(list, ..)
        .map(|item| parse_entry(Some(item.value.into_value()), item.index, what))
        .collect()
}

/// A list entry parsed from its JSON string (an entry that is not a string parses as empty
/// text, and fails); `index` and `what` name it in errors.
fn parse_entry<T: serde::de::DeserializeOwned>(
    value: Option<Value<'_>>,
    index: usize,
    what: &'static str,
) -> Result<T, DocError> {
    let text = match value {
        Some(Value::Scalar(v)) => as_string(Some(v.as_ref())).unwrap_or_default(),
        _ => String::new(),
    };
    serde_json::from_str(&text).map_err(|e| DocError::Entry {
        what,
        index,
        message: e.to_string(),
    })
}

/// The element at `index` of a list of JSON strings, parsed.
fn entry_at<T: serde::de::DeserializeOwned>(
    doc: &AutoCommit,
    list: &ObjId,
    index: usize,
    what: &'static str,
) -> Result<T, DocError> {
    parse_entry(doc.get(list, index)?.map(|(v, _)| v), index, what)
}

/// The ids of a list's elements (the ops that inserted them).
pub fn element_ids(doc: &AutoCommit, list: &ObjId) -> HashSet<ObjId> {
    doc.list_range(list, ..).map(|item| item.id()).collect()
}

/// The positions of a list's elements that are not among `known`, in document order.
pub fn new_positions(doc: &AutoCommit, list: &ObjId, known: &HashSet<ObjId>) -> Vec<usize> {
    doc.list_range(list, ..)
        .filter(|item| !known.contains(&item.id()))
        .map(|item| item.index)
        .collect()
}

/// The entries of a list of JSON strings that are not among `known`, in document order.
pub fn new_entries<T: serde::de::DeserializeOwned>(
    doc: &AutoCommit,
    list: &ObjId,
    known: &HashSet<ObjId>,
    what: &'static str,
) -> Result<Vec<T>, DocError> {
    new_positions(doc, list, known)
        .into_iter()
        .map(|index| entry_at(doc, list, index, what))
        .collect()
}
