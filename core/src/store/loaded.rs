//! Documents kept loaded between uses (decision 0055): the last documents the device read or
//! wrote, held as automerge documents so that the next change to one of them (the server's
//! case number arriving a minute after the report was raised, the chief's next action) does not
//! load it from its snapshot and changes again.
//!
//! A kept document must always be what loading it from the store would give. Every write to a
//! document drops or replaces its copy once the write has committed, under the store's writer
//! lock, and counts one write. A document read at one count and changed by the caller is kept
//! after its write only when the count has not moved since the read: no other write could then
//! have changed the stored document in between. A whole new document is what its write stores,
//! so it is always kept. Anything else is dropped, which only costs a load later.
//!
//! Another process may open the same store (or a test a second store on the same file). Its
//! commits are seen in SQLite's `PRAGMA data_version` on the writer connection, which moves only
//! when another connection commits: the store looks at it before trusting a kept copy and after
//! each of its own writes, and forgets every kept document when it moved.

use super::{DocBytes, DocWrite};
use automerge::AutoCommit;
use hashlink::LruCache;

/// How many documents stay loaded: a grid worker's day of reports and some. Each is bounded
/// by the document limits the server enforces; the least recently used goes first.
pub const KEPT: usize = 64;

/// The store's count of document writes when a document was read: a document changed from
/// that read is kept loaded after its write only if no write came between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadAt(u64);

/// A document as its write leaves it, to keep loaded once the write commits.
#[derive(Clone, Copy)]
pub struct Keep<'a> {
    /// The document, with the write's bytes applied.
    pub doc: &'a AutoCommit,
    /// When it was read, before the write's bytes changed it; `None` for a document made here
    /// or received whole, whose write stores exactly it.
    pub read_at: Option<ReadAt>,
}

impl std::fmt::Debug for Keep<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keep")
            .field("read_at", &self.read_at)
            .finish_non_exhaustive()
    }
}

/// The kept documents and the write count.
pub(super) struct Loaded {
    docs: LruCache<String, AutoCommit>,
    writes: u64,
    /// The writer connection's `PRAGMA data_version` when last looked at.
    others: i64,
}

impl Loaded {
    /// Nothing kept yet; at most `capacity` documents later. `version` is the writer
    /// connection's `PRAGMA data_version` now.
    pub(super) fn new(capacity: usize, version: i64) -> Loaded {
        Loaded {
            docs: LruCache::new(capacity),
            writes: 0,
            others: version,
        }
    }

    /// Takes note of the writer connection's `PRAGMA data_version`: when it moved, another
    /// connection committed, and every kept document is forgotten (and the count moves, so no
    /// document read before is kept after its write). Returns whether it had moved.
    pub(super) fn observe(&mut self, version: i64) -> bool {
        if version == self.others {
            return false;
        }
        self.others = version;
        self.docs.clear();
        self.writes += 1;
        true
    }

    /// A copy of the kept document `id`, if any, and the count to read at.
    pub(super) fn get(&mut self, id: &str) -> (Option<AutoCommit>, ReadAt) {
        (self.docs.get(id).cloned(), ReadAt(self.writes))
    }

    /// Keeps a document just loaded from the store, unless a write came since the count
    /// `at` was taken (the load may then hold a state already replaced).
    pub(super) fn keep_read(&mut self, id: &str, doc: &AutoCommit, at: ReadAt) {
        if at.0 == self.writes {
            self.docs.insert(id.to_string(), doc.clone());
        }
    }

    /// After a write of `docs` committed (or failed, `committed` false): keeps each document
    /// the write says it leaves, when that is sure to be what the store now holds, and drops
    /// the others' copies. Called under the writer lock, before another write can start, with
    /// the writer connection's `PRAGMA data_version` after the write.
    pub(super) fn written(&mut self, docs: &[&DocWrite<'_>], committed: bool, version: i64) {
        let committed = committed && !self.observe(version);
        let now = ReadAt(self.writes);
        for w in docs {
            let keep = w
                .keep
                .filter(|k| committed && (w.kind == DocBytes::Whole || k.read_at == Some(now)));
            match keep {
                Some(k) => {
                    self.docs.insert(w.id.to_string(), k.doc.clone());
                }
                None => {
                    self.docs.remove(w.id);
                }
            }
        }
        self.writes += 1;
    }

    /// Drops the copy of a document rewritten in place (compaction) and counts a write.
    pub(super) fn rewritten(&mut self, id: &str) {
        self.docs.remove(id);
        self.writes += 1;
    }

    /// How many documents are kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.docs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Origin;
    use automerge::{ROOT, ReadDoc, transaction::Transactable};

    fn doc(v: i64) -> AutoCommit {
        let mut d = AutoCommit::new();
        d.put(ROOT, "v", v).unwrap();
        d.commit();
        d
    }

    fn value(d: &AutoCommit) -> i64 {
        d.get(ROOT, "v").unwrap().unwrap().0.as_i64().unwrap()
    }

    fn write<'a>(id: &'a str, kind: DocBytes, keep: Option<Keep<'a>>) -> DocWrite<'a> {
        DocWrite {
            id,
            bytes: &[],
            kind,
            origin: Origin::Local,
            now: 0,
            keep,
        }
    }

    #[test]
    fn a_document_changed_from_a_read_is_kept_only_when_no_write_came_between() {
        let mut loaded = Loaded::new(4, 0);
        let (none, at) = loaded.get("a");
        assert!(none.is_none());
        let (a1, a2) = (doc(1), doc(2));
        loaded.keep_read("a", &a1, at);
        let (hit, at) = loaded.get("a");
        assert_eq!(value(&hit.unwrap()), 1);
        // Another device's write to the same document lands first: its copy is dropped, and
        // the change made from the older read is not kept either.
        let other = write("a", DocBytes::Changes, None);
        loaded.written(&[&other], true, 0);
        assert!(loaded.get("a").0.is_none());
        let late = Keep {
            doc: &a2,
            read_at: Some(at),
        };
        loaded.written(&[&write("a", DocBytes::Changes, Some(late))], true, 0);
        assert!(loaded.get("a").0.is_none());
        // Read again, changed and written with nothing in between: kept.
        let (_, at) = loaded.get("a");
        let fresh = Keep {
            doc: &a2,
            read_at: Some(at),
        };
        loaded.written(&[&write("a", DocBytes::Changes, Some(fresh))], true, 0);
        assert_eq!(value(&loaded.get("a").0.unwrap()), 2);
    }

    #[test]
    fn a_failed_write_drops_the_copy_and_a_whole_new_document_is_kept() {
        let mut loaded = Loaded::new(4, 0);
        let (_, at) = loaded.get("a");
        loaded.keep_read("a", &doc(1), at);
        let changed = doc(2);
        let keep = Keep {
            doc: &changed,
            read_at: Some(at),
        };
        loaded.written(&[&write("a", DocBytes::Changes, Some(keep))], false, 0);
        assert!(loaded.get("a").0.is_none(), "the write rolled back");
        let new = doc(3);
        let whole = Keep {
            doc: &new,
            read_at: None,
        };
        loaded.written(&[&write("b", DocBytes::Whole, Some(whole))], true, 0);
        assert_eq!(value(&loaded.get("b").0.unwrap()), 3);
    }

    #[test]
    fn a_load_that_raced_a_write_is_not_kept() {
        let mut loaded = Loaded::new(4, 0);
        let (_, at) = loaded.get("a");
        // A write commits between taking the count and reading the store.
        loaded.written(&[&write("a", DocBytes::Changes, None)], true, 0);
        loaded.keep_read("a", &doc(1), at);
        assert!(loaded.get("a").0.is_none());
    }

    #[test]
    fn a_commit_by_another_connection_forgets_every_copy() {
        let mut loaded = Loaded::new(4, 7);
        let (_, at) = loaded.get("a");
        loaded.keep_read("a", &doc(1), at);
        assert!(!loaded.observe(7), "nothing committed elsewhere");
        assert!(loaded.get("a").0.is_some());
        assert!(loaded.observe(8));
        assert!(loaded.get("a").0.is_none());
        // A change made from a read before the other commit is not kept after its write.
        let (_, at) = loaded.get("b");
        loaded.keep_read("b", &doc(1), at);
        let changed = doc(2);
        let keep = Keep {
            doc: &changed,
            read_at: Some(at),
        };
        loaded.written(&[&write("b", DocBytes::Changes, Some(keep))], true, 9);
        assert!(loaded.get("b").0.is_none());
    }

    #[test]
    fn the_least_recently_used_document_goes_first() {
        let mut loaded = Loaded::new(2, 0);
        for (id, v) in [("a", 1), ("b", 2)] {
            let (_, at) = loaded.get(id);
            loaded.keep_read(id, &doc(v), at);
        }
        assert!(loaded.get("a").0.is_some(), "a used again");
        let (_, at) = loaded.get("c");
        loaded.keep_read("c", &doc(3), at);
        assert_eq!(loaded.len(), 2);
        assert!(loaded.get("b").0.is_none(), "b was the least recently used");
        loaded.rewritten("a");
        assert!(loaded.get("a").0.is_none());
    }
}
