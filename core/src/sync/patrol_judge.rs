//! Judging a device's push to a patrol against the server's copy: only the walker writes a
//! patrol, its facts never change, and its track chunks and log entries are only appended.
//! The counterpart of [`super::judge`] for cases; the same [`Tamper`] reasons, and the same
//! op-level append-only rule ([`super::append_only`]) for the `track` and `log` lists.

use super::judge::{Entry, Tamper, appended, only_appends};
use crate::case::Author;
use crate::patrol::track::decode_chunk;
use crate::patrol::{PatrolDoc, PatrolEvent, PatrolFacts};

/// The root keys a patrol document may hold.
pub const PATROL_ROOT_KEYS: &[&str] = &[
    "id",
    "kind",
    "walker",
    "place",
    "community",
    "started_at",
    "track",
    "log",
];

/// What an accepted push to a patrol adds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatrolAdditions {
    /// New log entries, in document order.
    pub events: Vec<PatrolEvent>,
    /// How many track chunks were added.
    pub chunks: usize,
}

/// Compares the patrol after a push with the server's copy before it (`None` when new) and
/// returns what the push added, or why it is tampering.
pub fn judge_patrol(
    before: Option<&mut PatrolDoc>,
    after: &mut PatrolDoc,
    pusher: &str,
) -> Result<PatrolAdditions, Tamper> {
    let malformed = |e: crate::case::DocError| Tamper::Malformed(e.to_string());
    for key in after.root_keys() {
        if !PATROL_ROOT_KEYS.contains(&key.as_str()) {
            return Err(Tamper::UnknownKey(key));
        }
    }
    let facts = after.facts().map_err(malformed)?;
    if facts.walker.person != pusher {
        return Err(Tamper::ForgedReporter {
            reporter: facts.walker.person,
            pusher: pusher.to_string(),
        });
    }
    let (old_events, events, chunks) = match before {
        None => {
            let chunks = after.chunks().map_err(malformed)?;
            (
                Vec::new(),
                after.events().map_err(malformed)?,
                chunks.into_iter().enumerate().collect(),
            )
        }
        Some(b) => {
            let old = b.facts().map_err(malformed)?;
            if let Some(field) = changed_fact(&old, &facts) {
                return Err(Tamper::FactChanged(field));
            }
            let heads = b.automerge_mut().get_heads();
            only_appends(after.automerge_mut(), &heads, &b.lists())?;
            (
                b.events().map_err(malformed)?,
                after.new_events(b).map_err(malformed)?,
                after.new_chunks(b).map_err(malformed)?,
            )
        }
    };
    let added = PatrolAdditions {
        events: appended(&old_events, events, pusher)?,
        chunks: chunks.len(),
    };
    for (i, c) in &chunks {
        decode_chunk(c).map_err(|_| Tamper::TrackChanged(*i))?;
    }
    Ok(added)
}

impl Entry for PatrolEvent {
    fn entry_id(&self) -> &str {
        &self.id
    }
    fn author(&self) -> &Author {
        &self.by
    }
}

fn changed_fact(a: &PatrolFacts, b: &PatrolFacts) -> Option<&'static str> {
    let checks: [(&'static str, bool); 5] = [
        ("id", a.id == b.id),
        ("walker", a.walker == b.walker),
        ("place", a.place == b.place),
        ("community", a.community == b.community),
        ("started_at", a.started_at == b.started_at),
    ];
    checks.iter().find(|(_, same)| !same).map(|(k, _)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Claim;
    use crate::org::{Role, Scope};
    use crate::patrol::{PatrolAction, PatrolPlace, TrackPoint};
    use automerge::{ActorId, ROOT, ScalarValue, transaction::Transactable};

    fn walker() -> Claim {
        Claim {
            person: "gw1".into(),
            role: Role::GridWorker,
            scope: Scope::Grid("g1".into()),
        }
    }

    fn new_patrol() -> PatrolDoc {
        let facts = PatrolFacts {
            id: "p1".into(),
            walker: walker(),
            place: PatrolPlace::Grid("g1".into()),
            community: "c1".into(),
            started_at: 1,
        };
        PatrolDoc::create(&ActorId::random(), &facts).unwrap()
    }

    fn fork(doc: &mut PatrolDoc) -> PatrolDoc {
        PatrolDoc::load(&doc.save(), &ActorId::random()).unwrap()
    }

    fn point(at: i64) -> TrackPoint {
        TrackPoint {
            at,
            lon: 121.0,
            lat: 31.0,
            accuracy_m: 5.0,
        }
    }

    #[test]
    fn the_walker_appends_and_nobody_else_writes() {
        let mut doc = new_patrol();
        assert!(judge_patrol(None, &mut doc, "gw1").is_ok());
        assert!(matches!(
            judge_patrol(None, &mut doc, "gw2"),
            Err(Tamper::ForgedReporter { .. })
        ));
        let mut after = fork(&mut doc);
        after.append_track(&[point(2), point(3)]).unwrap();
        after
            .append_event(&PatrolEvent::new(4, walker(), PatrolAction::Ended))
            .unwrap();
        let added = judge_patrol(Some(&mut doc), &mut after, "gw1").unwrap();
        assert_eq!((added.events.len(), added.chunks), (1, 1));
        assert!(judge_patrol(Some(&mut doc), &mut after, "gw2").is_err());

        let mut forged = fork(&mut doc);
        let mut other = walker();
        other.person = "gw2".into();
        forged
            .append_event(&PatrolEvent::new(4, other, PatrolAction::Ended))
            .unwrap();
        assert!(matches!(
            judge_patrol(Some(&mut doc), &mut forged, "gw1"),
            Err(Tamper::Forged { .. })
        ));
    }

    #[test]
    fn edited_chunks_damaged_chunks_and_changed_facts_are_tampering() {
        let mut doc = new_patrol();
        doc.append_track(&[point(2)]).unwrap();
        let mut edited = fork(&mut doc);
        let (raw, track, _) = edited.raw_mut();
        let track = track.clone();
        raw.put(&track, 0, ScalarValue::Bytes(vec![1, 0])).unwrap();
        raw.commit();
        assert!(matches!(
            judge_patrol(Some(&mut doc), &mut edited, "gw1"),
            Err(Tamper::NotAnAppend(_))
        ));

        let mut junk = fork(&mut doc);
        let (raw, track, _) = junk.raw_mut();
        let track = track.clone();
        raw.insert(&track, 1, ScalarValue::Bytes(vec![1, 200, 200]))
            .unwrap();
        raw.commit();
        assert!(matches!(
            judge_patrol(Some(&mut doc), &mut junk, "gw1"),
            Err(Tamper::TrackChanged(1))
        ));

        let mut moved = fork(&mut doc);
        moved.raw_mut().0.put(ROOT, "started_at", 99_i64).unwrap();
        assert_eq!(
            judge_patrol(Some(&mut doc), &mut moved, "gw1"),
            Err(Tamper::FactChanged("started_at"))
        );

        let mut keyed = fork(&mut doc);
        keyed.raw_mut().0.put(ROOT, "events", 1).unwrap();
        assert_eq!(
            judge_patrol(Some(&mut doc), &mut keyed, "gw1"),
            Err(Tamper::UnknownKey("events".into()))
        );
    }
}
