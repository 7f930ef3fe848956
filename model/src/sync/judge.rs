//! Judging a device's push against the server's copy of a case: the checks that make the
//! event history append-only and every event signed by the person who pushed it.
//!
//! The server applies a device's changes to a copy of its document. The pushed ops must only
//! append to the `events` and `photos` lists ([`super::append_only`]); the new elements are
//! then found by element id (not by comparing contents, which cannot see a reordering) and must
//! be signed by the pushing person. Anything else, or raising a new case as somebody else, is
//! tampering: refused outright (see `docs/ARCHITECTURE.md`, "Sharp edges"). Every step is
//! linear in the size of the document and the push.
//! A device whose protocol says it writes a newer layout ([`Judging::newer`]) may add what
//! this build cannot judge: scalars under root keys it does not know and events of action
//! types it does not know (still appended, still signed by the pusher). From any other device
//! both are tampering, as is a new document of a newer layout.
//! Whether each new event was *allowed* is not judged here: the fold does that, and the server
//! voids events whose claim its roster does not back.
//!
//! The recorded deadline is a fact like the others: it never changes. The server does not
//! recompute it with its own calendar (the device may hold an older catalogue, and refusing an
//! honest change would leave it unable to sync); it only refuses a new case whose deadline
//! is before the case was raised, which no honest device writes.

use super::append_only::check_appends;
pub use super::tamper::Tamper;
use super::version::LAYOUT;
use crate::case::{Action, Author, CaseDoc, DocError, Event, Facts, PhotoRef};
use crate::document::Document;
use automerge::{AutoCommit, ChangeHash, ObjId, ROOT, ReadDoc, Value};
use std::collections::HashSet;

/// The root keys a case document may hold.
pub const ROOT_KEYS: &[&str] = &[
    "id",
    "layout",
    "kind",
    "category",
    "category_name",
    "limit_hours",
    "clock",
    "reporter",
    "created_at",
    "deadline",
    "lon",
    "lat",
    "grid",
    "community",
    "segment",
    "description",
    "number",
    "photos",
    "events",
];

/// How a push is judged: who pushed it and what the server lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judging<'a> {
    /// The person the pushing device belongs to.
    pub pusher: &'a str,
    /// The device's protocol says it writes a newer layout than this build knows: what this
    /// build cannot judge (scalars under unknown root keys, events of unknown action types) is
    /// let through; everything it knows is judged as always.
    pub newer: bool,
    /// The device re-delivers what a restored server lost: events, photos and cases by other
    /// persons pass (still append-only, ids unique), and so does content this build cannot
    /// judge (the server itself once accepted it).
    pub redelivery: bool,
}

impl<'a> Judging<'a> {
    /// An ordinary push by `pusher`'s device of this layout or an older one.
    pub fn device(pusher: &'a str) -> Judging<'a> {
        Judging {
            pusher,
            newer: false,
            redelivery: false,
        }
    }

    /// True when content this build cannot judge may pass.
    pub fn lets_unknown_through(&self) -> bool {
        self.newer || self.redelivery
    }
}

/// What an accepted push adds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Additions {
    /// New events, in document order.
    pub events: Vec<Event>,
    /// New photo references.
    pub photos: Vec<PhotoRef>,
}

/// Compares the document after a push with the server's copy before it (`None` for a case the
/// server has not seen) and returns what the push added, or why it is tampering.
pub fn judge(
    mut before: Option<&mut CaseDoc>,
    after: &mut CaseDoc,
    judging: &Judging<'_>,
) -> Result<Additions, Tamper> {
    let malformed = |e: DocError| Tamper::Malformed(e.to_string());
    let log = judge_log(before.as_deref_mut(), after, judging)?;
    let photos = match before {
        None => after.photos().map_err(malformed)?,
        Some(b) => after.new_photos(b).map_err(malformed)?,
    };
    for p in &photos {
        if p.added_by != judging.pusher && !judging.redelivery {
            return Err(Tamper::Forged {
                event: format!("photo {}", p.hash),
                claimed: p.added_by.clone(),
                pusher: judging.pusher.to_string(),
            });
        }
    }
    Ok(Additions {
        events: log.new,
        photos,
    })
}

impl Judged for CaseDoc {
    const ROOT_KEYS: &'static [&'static str] = ROOT_KEYS;
    type Facts = Facts;
    type Entry = Event;

    fn judged_facts(&self) -> Result<Facts, DocError> {
        self.facts()
    }

    fn changed_fact(a: &Facts, b: &Facts) -> Option<&'static str> {
        changed_fact(a, b)
    }

    fn check_new(&self, facts: &Facts, judging: &Judging<'_>) -> Result<(), Tamper> {
        if facts.reporter != judging.pusher && !judging.redelivery {
            return Err(Tamper::ForgedReporter {
                reporter: facts.reporter.clone(),
                pusher: judging.pusher.to_string(),
            });
        }
        if self.number().is_some() && !judging.redelivery {
            return Err(Tamper::FactChanged("number"));
        }
        if facts.deadline.is_some_and(|d| d < facts.created_at) {
            return Err(Tamper::Malformed(
                "the deadline is before the case was raised".into(),
            ));
        }
        Ok(())
    }

    fn check_held(&self, before: &CaseDoc) -> Result<(), Tamper> {
        if before.number() != self.number() {
            return Err(Tamper::FactChanged("number"));
        }
        Ok(())
    }

    fn judged_lists(&self) -> Vec<(&'static str, ObjId)> {
        self.lists().to_vec()
    }

    fn log(&self) -> Result<Vec<Event>, DocError> {
        self.events()
    }

    fn new_log(&self, before: &CaseDoc) -> Result<Vec<Event>, DocError> {
        self.new_events(before)
    }
}

/// A document judged by the rules every kind shares: root keys of its layout, facts that never
/// change, a layout that never changes, lists only ever appended to, and a log of entries each
/// signed by the pusher. A kind adds its own checks through [`Judged::check_new`] and
/// [`Judged::check_held`], and after [`judge_log`] for its other lists.
pub trait Judged: Document {
    /// The root keys the kind's layout may hold.
    const ROOT_KEYS: &'static [&'static str];
    /// The facts, written once.
    type Facts;
    /// An entry of the log.
    type Entry: Entry;
    /// Reads the facts.
    fn judged_facts(&self) -> Result<Self::Facts, DocError>;
    /// The first fact that differs between `a` and `b`, if any.
    fn changed_fact(a: &Self::Facts, b: &Self::Facts) -> Option<&'static str>;
    /// The kind's checks of a document new to the server, made before its entries are.
    fn check_new(&self, facts: &Self::Facts, judging: &Judging<'_>) -> Result<(), Tamper>;
    /// The kind's checks of a push to a document the server holds, besides the facts.
    fn check_held(&self, _before: &Self) -> Result<(), Tamper> {
        Ok(())
    }
    /// The lists that are only ever appended to, by key.
    fn judged_lists(&self) -> Vec<(&'static str, ObjId)>;
    /// The whole log.
    fn log(&self) -> Result<Vec<Self::Entry>, DocError>;
    /// The entries of the log that `before` does not have, in document order.
    fn new_log(&self, before: &Self) -> Result<Vec<Self::Entry>, DocError>;
}

/// What the shared rules found in a push: the facts, the log as the server held it and the
/// entries the push added (ids unique, signed by the pusher, known actions or let through).
#[derive(Debug)]
pub struct JudgedLog<D: Judged> {
    /// The document's facts.
    pub facts: D::Facts,
    /// The log before the push (empty for a new document).
    pub old: Vec<D::Entry>,
    /// The entries the push added.
    pub new: Vec<D::Entry>,
}

/// Judges a push by the rules every kind shares ([`Judged`]); linear in the document and the
/// push.
pub fn judge_log<D: Judged>(
    before: Option<&mut D>,
    after: &mut D,
    judging: &Judging<'_>,
) -> Result<JudgedLog<D>, Tamper> {
    let malformed = |e: DocError| Tamper::Malformed(e.to_string());
    root_keys(
        before.as_deref().map(Document::automerge),
        after.automerge(),
        D::ROOT_KEYS,
        judging,
    )?;
    let facts = after.judged_facts().map_err(malformed)?;
    let layout = after.layout().map_err(malformed)?;
    let (old, new) = match before {
        None => {
            new_layout(layout, judging)?;
            after.check_new(&facts, judging)?;
            (Vec::new(), after.log().map_err(malformed)?)
        }
        Some(b) => {
            let old = b.judged_facts().map_err(malformed)?;
            if let Some(field) = D::changed_fact(&old, &facts) {
                return Err(Tamper::FactChanged(field));
            }
            if b.layout().map_err(malformed)? != layout {
                return Err(Tamper::FactChanged("layout"));
            }
            after.check_held(b)?;
            let heads = b.heads();
            let lists = b.judged_lists();
            only_appends(after.automerge_mut(), &heads, &lists, D::ROOT_KEYS, judging)?;
            (
                b.log().map_err(malformed)?,
                after.new_log(b).map_err(malformed)?,
            )
        }
    };
    for e in &new {
        if let Some(type_name) = e.unknown_type() {
            unknown_action(e.entry_id(), type_name, judging)?;
        }
    }
    let new = appended(&old, new, judging)?;
    Ok(JudgedLog { facts, old, new })
}

/// Checks the root keys of a synced document after a push: the layout's `known` keys, keys
/// the server's copy already held (a newer device put them; the op check keeps them
/// untouched), and, when the judging lets unknown content through, scalars under keys this
/// build does not know.
pub fn root_keys(
    before: Option<&AutoCommit>,
    after: &AutoCommit,
    known: &[&str],
    judging: &Judging<'_>,
) -> Result<(), Tamper> {
    for key in after.keys(ROOT) {
        if known.contains(&key.as_str())
            || before.is_some_and(|b| matches!(b.get(ROOT, &key), Ok(Some(_))))
        {
            continue;
        }
        if !judging.lets_unknown_through() {
            return Err(Tamper::UnknownKey(key));
        }
        if !matches!(after.get(ROOT, &key), Ok(Some((Value::Scalar(_), _)))) {
            return Err(Tamper::UnknownObject(key));
        }
    }
    Ok(())
}

/// Checks the layout a new document records against what the pushing device says it writes.
pub fn new_layout(layout: u64, judging: &Judging<'_>) -> Result<(), Tamper> {
    if layout > u64::from(LAYOUT) && !judging.lets_unknown_through() {
        Err(Tamper::NewerLayout(layout))
    } else {
        Ok(())
    }
}

/// An entry of an action type this build does not know: let through only for a device that
/// writes a newer layout (or a re-delivery).
pub fn unknown_action(event: &str, type_name: &str, judging: &Judging<'_>) -> Result<(), Tamper> {
    if judging.lets_unknown_through() {
        Ok(())
    } else {
        Err(Tamper::UnknownAction {
            event: event.to_string(),
            type_name: type_name.to_string(),
        })
    }
}

/// Checks the changes a push added after `heads` against the append-only rule for `lists`.
/// With a judging that lets unknown content through, scalar puts under root keys outside
/// `known` pass too.
pub fn only_appends(
    doc: &mut AutoCommit,
    heads: &[ChangeHash],
    lists: &[(&'static str, ObjId)],
    known: &[&str],
    judging: &Judging<'_>,
) -> Result<(), Tamper> {
    let incoming = doc.get_changes(heads);
    let unknown_root = judging.lets_unknown_through().then_some(known);
    check_appends(doc, &incoming, lists, unknown_root)
}

/// A log entry as the append-only check reads it: its id, its author, and the type of an
/// action this build does not know.
pub trait Entry {
    /// The entry's id.
    fn entry_id(&self) -> &str;
    /// Who wrote it.
    fn author(&self) -> &Author;
    /// The `type` of the entry's action when this build does not know it.
    fn unknown_type(&self) -> Option<&str>;
}

impl Entry for Event {
    fn entry_id(&self) -> &str {
        &self.id
    }
    fn author(&self) -> &Author {
        &self.by
    }
    fn unknown_type(&self) -> Option<&str> {
        if let Action::Unknown { type_name, .. } = &self.action {
            Some(type_name)
        } else {
            None
        }
    }
}

/// Checks the entries a push added to a log: ids unique among the old and new entries, every
/// new one written by the pusher (by anybody, for a re-delivery). Returns the new ones.
pub fn appended<E: Entry>(old: &[E], new: Vec<E>, judging: &Judging<'_>) -> Result<Vec<E>, Tamper> {
    let pusher = judging.pusher;
    let mut ids: HashSet<&str> = old.iter().map(Entry::entry_id).collect();
    for e in &new {
        if !ids.insert(e.entry_id()) {
            return Err(Tamper::DuplicateEvent(e.entry_id().to_string()));
        }
        if judging.redelivery {
            continue;
        }
        let claimed = match e.author() {
            Author::Person(c) if c.person == pusher => continue,
            Author::Person(c) => c.person.clone(),
            Author::Server { .. } => "the server".to_string(),
        };
        return Err(Tamper::Forged {
            event: e.entry_id().to_string(),
            claimed,
            pusher: pusher.to_string(),
        });
    }
    Ok(new)
}

fn changed_fact(a: &Facts, b: &Facts) -> Option<&'static str> {
    let checks: [(&'static str, bool); 15] = [
        ("id", a.id == b.id),
        ("kind", a.kind == b.kind),
        ("category", a.category == b.category),
        ("category_name", a.category_name == b.category_name),
        ("limit_hours", a.limit_hours == b.limit_hours),
        ("clock", a.clock == b.clock),
        ("reporter", a.reporter == b.reporter),
        ("created_at", a.created_at == b.created_at),
        ("deadline", a.deadline == b.deadline),
        ("lon", a.location.lon.to_bits() == b.location.lon.to_bits()),
        ("lat", a.location.lat.to_bits() == b.location.lat.to_bits()),
        ("grid", a.grid == b.grid),
        ("community", a.community == b.community),
        ("segment", a.segment == b.segment),
        ("description", a.description == b.description),
    ];
    checks.iter().find(|(_, same)| !same).map(|(k, _)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Action, Claim};
    use crate::org::LimitClock;
    use crate::testkit::{g1_case, g1_claim};
    use automerge::{ActorId, ROOT, transaction::Transactable};

    fn claim(p: &str) -> Claim {
        g1_claim(p)
    }

    fn new_case() -> CaseDoc {
        new_case_with(None, None)
    }

    fn new_case_with(clock: Option<LimitClock>, deadline: Option<i64>) -> CaseDoc {
        g1_case(clock, deadline)
    }

    fn fork(doc: &mut CaseDoc) -> CaseDoc {
        CaseDoc::load(&doc.save(), &ActorId::random()).unwrap()
    }

    #[test]
    fn a_new_case_by_its_reporter_and_appended_events_pass() {
        let mut doc = new_case();
        assert_eq!(
            judge(None, &mut doc, &Judging::device("gw1"))
                .unwrap()
                .events
                .len(),
            1
        );
        assert!(matches!(
            judge(None, &mut doc, &Judging::device("gw2")),
            Err(Tamper::ForgedReporter { .. })
        ));
        let mut after = fork(&mut doc);
        after
            .append_event(&Event::new(2, claim("gw1"), Action::Accepted))
            .unwrap();
        let added = judge(Some(&mut doc), &mut after, &Judging::device("gw1")).unwrap();
        assert_eq!(added.events.len(), 1);
        assert!(matches!(
            judge(Some(&mut doc), &mut after, &Judging::device("gw2")),
            Err(Tamper::Forged { .. })
        ));
    }

    #[test]
    fn edits_deletions_new_keys_and_fact_changes_are_tampering() {
        let mut doc = new_case();
        let mut edited = fork(&mut doc);
        let (raw, events) = edited.raw_mut();
        let events = events.clone();
        raw.put(&events, 0, "{}").unwrap();
        raw.commit();
        assert!(judge(Some(&mut doc), &mut edited, &Judging::device("gw1")).is_err());

        let mut deleted = fork(&mut doc);
        let (raw, events) = deleted.raw_mut();
        let events = events.clone();
        raw.delete(&events, 0).unwrap();
        raw.commit();
        assert!(matches!(
            judge(Some(&mut doc), &mut deleted, &Judging::device("gw1")),
            Err(Tamper::NotAnAppend(_))
        ));

        let mut keyed = fork(&mut doc);
        keyed.raw_mut().0.put(ROOT, "evil", 1).unwrap();
        assert_eq!(
            judge(Some(&mut doc), &mut keyed, &Judging::device("gw1")),
            Err(Tamper::UnknownKey("evil".into()))
        );

        let mut moved = fork(&mut doc);
        moved.raw_mut().0.put(ROOT, "grid", "g2").unwrap();
        assert_eq!(
            judge(Some(&mut doc), &mut moved, &Judging::device("gw1")),
            Err(Tamper::FactChanged("grid"))
        );

        let mut numbered = fork(&mut doc);
        numbered.set_number("ZX-1").unwrap();
        assert_eq!(
            judge(Some(&mut doc), &mut numbered, &Judging::device("gw1")),
            Err(Tamper::FactChanged("number"))
        );
    }

    #[test]
    fn the_recorded_deadline_and_clock_never_change() {
        let mut doc = new_case_with(Some(LimitClock::Working), Some(100));
        assert!(judge(None, &mut doc, &Judging::device("gw1")).is_ok());
        let facts = doc.facts().unwrap();
        assert_eq!(
            (facts.clock, facts.deadline),
            (Some(LimitClock::Working), Some(100))
        );

        let mut later = fork(&mut doc);
        later.raw_mut().0.put(ROOT, "deadline", 200_i64).unwrap();
        assert_eq!(
            judge(Some(&mut doc), &mut later, &Judging::device("gw1")),
            Err(Tamper::FactChanged("deadline"))
        );
        let mut natural = fork(&mut doc);
        natural.raw_mut().0.put(ROOT, "clock", "natural").unwrap();
        assert_eq!(
            judge(Some(&mut doc), &mut natural, &Judging::device("gw1")),
            Err(Tamper::FactChanged("clock"))
        );
        let mut gone = fork(&mut doc);
        gone.raw_mut().0.delete(ROOT, "deadline").unwrap();
        assert_eq!(
            judge(Some(&mut doc), &mut gone, &Judging::device("gw1")),
            Err(Tamper::FactChanged("deadline"))
        );
        let mut odd = fork(&mut doc);
        odd.raw_mut().0.put(ROOT, "deadline", "soon").unwrap();
        assert!(matches!(
            judge(Some(&mut doc), &mut odd, &Judging::device("gw1")),
            Err(Tamper::Malformed(_))
        ));

        // A document made before deadlines were recorded may not gain one later.
        let mut old = new_case();
        let mut added = fork(&mut old);
        added.raw_mut().0.put(ROOT, "deadline", 200_i64).unwrap();
        assert_eq!(
            judge(Some(&mut old), &mut added, &Judging::device("gw1")),
            Err(Tamper::FactChanged("deadline"))
        );

        // No honest device raises a case due before it was raised.
        let mut early = new_case_with(Some(LimitClock::Working), Some(0));
        assert!(matches!(
            judge(None, &mut early, &Judging::device("gw1")),
            Err(Tamper::Malformed(_))
        ));
    }
}

// The op-level append-only rule ([`super::append_only`]), tested through [`judge`].
#[cfg(test)]
#[path = "append_only_tests.rs"]
mod append_only_tests;
