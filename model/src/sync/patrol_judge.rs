//! Judging a device's push to a patrol against the server's copy: only the walker writes a
//! patrol, its facts never change, and its track chunks and log entries are only appended.
//! The one exception: a companion named in an accompaniment entry appends their own
//! confirmation of it, and nothing else ([`companion_entries`]).
//! The counterpart of [`super::judge`] for cases; the same [`Tamper`] reasons, and the same
//! op-level append-only rule ([`super::append_only`]) for the `track` and `log` lists.

use super::judge::{Entry, Judged, Judging, Tamper, judge_log};
use crate::case::Author;
use crate::document::DocError;
use crate::patrol::track::decode_chunk;
use crate::patrol::{PatrolAction, PatrolDoc, PatrolEvent, PatrolFacts};
use automerge::ObjId;
use std::collections::HashMap;

/// The root keys a patrol document may hold.
pub const PATROL_ROOT_KEYS: &[&str] = &[
    "id",
    "layout",
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
    mut before: Option<&mut PatrolDoc>,
    after: &mut PatrolDoc,
    judging: &Judging<'_>,
) -> Result<PatrolAdditions, Tamper> {
    let pusher = judging.pusher;
    let malformed = |e: crate::case::DocError| Tamper::Malformed(e.to_string());
    let log = judge_log(before.as_deref_mut(), after, judging)?;
    let chunks: Vec<(usize, Vec<u8>)> = match before {
        None => after
            .chunks()
            .map_err(malformed)?
            .into_iter()
            .enumerate()
            .collect(),
        Some(b) => after.new_chunks(b).map_err(malformed)?,
    };
    let facts = log.facts;
    if !judging.redelivery {
        companion_entries(&facts, &log.old, &log.new, pusher)?;
    }
    if facts.walker.person != pusher && !chunks.is_empty() && !judging.redelivery {
        return Err(not_walker(
            &facts,
            format!("track chunk {}", chunks[0].0),
            pusher,
        ));
    }
    for (i, c) in &chunks {
        decode_chunk(c).map_err(|_| Tamper::TrackChanged(*i))?;
    }
    Ok(PatrolAdditions {
        events: log.new,
        chunks: chunks.len(),
    })
}

impl Judged for PatrolDoc {
    const ROOT_KEYS: &'static [&'static str] = PATROL_ROOT_KEYS;
    type Facts = PatrolFacts;
    type Entry = PatrolEvent;

    fn judged_facts(&self) -> Result<PatrolFacts, DocError> {
        self.facts()
    }

    fn changed_fact(a: &PatrolFacts, b: &PatrolFacts) -> Option<&'static str> {
        changed_fact(a, b)
    }

    /// Only the walker starts a patrol; a companion may append to one the server holds.
    fn check_new(&self, facts: &PatrolFacts, judging: &Judging<'_>) -> Result<(), Tamper> {
        if facts.walker.person != judging.pusher && !judging.redelivery {
            return Err(Tamper::ForgedReporter {
                reporter: facts.walker.person.clone(),
                pusher: judging.pusher.to_string(),
            });
        }
        Ok(())
    }

    fn judged_lists(&self) -> Vec<(&'static str, ObjId)> {
        self.lists().to_vec()
    }

    fn log(&self) -> Result<Vec<PatrolEvent>, DocError> {
        self.events()
    }

    fn new_log(&self, before: &PatrolDoc) -> Result<Vec<PatrolEvent>, DocError> {
        self.new_events(before)
    }
}

/// Checks the confirmations among the new entries (all signed by the pusher, as
/// [`appended`] made sure): each names an accompaniment entry of this log that names the
/// pusher. When the pusher is not the walker, confirmations are all they may append.
fn companion_entries(
    facts: &PatrolFacts,
    old: &[PatrolEvent],
    new: &[PatrolEvent],
    pusher: &str,
) -> Result<(), Tamper> {
    // Accompaniment entry id → the person it names (one pass, so the check stays linear).
    let accompaniments: HashMap<&str, &str> = old
        .iter()
        .chain(new)
        .filter_map(|a| {
            if let PatrolAction::Accompanied { companion } = &a.action {
                Some((a.id.as_str(), companion.person.as_str()))
            } else {
                None
            }
        })
        .collect();
    for e in new {
        match &e.action {
            PatrolAction::Confirmed { accompaniment } => {
                let named = accompaniments.get(accompaniment.as_str()).copied();
                if named != Some(pusher) {
                    return Err(Tamper::Forged {
                        event: e.id.clone(),
                        claimed: match named {
                            Some(p) => {
                                format!("{p}, the companion accompaniment {accompaniment} names")
                            }
                            None => format!(
                                "the companion of accompaniment {accompaniment}, which this patrol does not have"
                            ),
                        },
                        pusher: pusher.to_string(),
                    });
                }
            }
            // Every other entry is the walker's to write.
            PatrolAction::Accompanied { .. }
            | PatrolAction::Ended
            | PatrolAction::ServerVoid { .. }
            | PatrolAction::Unknown { .. } => {
                if facts.walker.person != pusher {
                    return Err(not_walker(facts, e.id.clone(), pusher));
                }
            }
        }
    }
    Ok(())
}

/// A write only the walker may make, pushed by somebody else.
fn not_walker(facts: &PatrolFacts, what: String, pusher: &str) -> Tamper {
    Tamper::Forged {
        event: what,
        claimed: format!("{}, the walker", facts.walker.person),
        pusher: pusher.to_string(),
    }
}

impl Entry for PatrolEvent {
    fn entry_id(&self) -> &str {
        &self.id
    }
    fn author(&self) -> &Author {
        &self.by
    }
    fn unknown_type(&self) -> Option<&str> {
        if let PatrolAction::Unknown { type_name, .. } = &self.action {
            Some(type_name)
        } else {
            None
        }
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
    use crate::document::Document;
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
        assert!(judge_patrol(None, &mut doc, &Judging::device("gw1")).is_ok());
        assert!(matches!(
            judge_patrol(None, &mut doc, &Judging::device("gw2")),
            Err(Tamper::ForgedReporter { .. })
        ));
        let mut after = fork(&mut doc);
        after.append_track(&[point(2), point(3)]).unwrap();
        after
            .append_event(&PatrolEvent::new(4, walker(), PatrolAction::Ended))
            .unwrap();
        let added = judge_patrol(Some(&mut doc), &mut after, &Judging::device("gw1")).unwrap();
        assert_eq!((added.events.len(), added.chunks), (1, 1));
        assert!(judge_patrol(Some(&mut doc), &mut after, &Judging::device("gw2")).is_err());

        let mut forged = fork(&mut doc);
        let mut other = walker();
        other.person = "gw2".into();
        forged
            .append_event(&PatrolEvent::new(4, other, PatrolAction::Ended))
            .unwrap();
        assert!(matches!(
            judge_patrol(Some(&mut doc), &mut forged, &Judging::device("gw1")),
            Err(Tamper::Forged { .. })
        ));
    }

    fn person(p: &str, role: Role, scope: Scope) -> Claim {
        Claim {
            person: p.into(),
            role,
            scope,
        }
    }

    #[test]
    fn the_named_companion_appends_only_their_confirmation() {
        let official = person("o1", Role::StreetOfficial, Scope::Street);
        let other = person("o2", Role::StreetOfficial, Scope::Street);
        let mut doc = new_patrol();
        let with = PatrolEvent::new(
            2,
            walker(),
            PatrolAction::Accompanied {
                companion: official.clone(),
            },
        );
        doc.append_event(&with).unwrap();
        let confirm = |by: Claim| {
            PatrolEvent::new(
                3,
                by,
                PatrolAction::Confirmed {
                    accompaniment: with.id.clone(),
                },
            )
        };
        let saved = doc.save();
        let pushed = |e: &PatrolEvent| {
            let mut after = PatrolDoc::load(&saved, &ActorId::random()).unwrap();
            after.append_event(e).unwrap();
            after
        };

        let ok = judge_patrol(
            Some(&mut doc),
            &mut pushed(&confirm(official.clone())),
            &Judging::device("o1"),
        )
        .unwrap();
        assert_eq!((ok.events.len(), ok.chunks), (1, 0));
        // A third person, the walker for themself, or the walker signing as the official.
        for (e, pusher) in [
            (confirm(other.clone()), "o2"),
            (confirm(walker()), "gw1"),
            (confirm(official.clone()), "gw1"),
        ] {
            assert!(
                matches!(
                    judge_patrol(Some(&mut doc), &mut pushed(&e), &Judging::device(pusher)),
                    Err(Tamper::Forged { .. })
                ),
                "{pusher}"
            );
        }
        // The companion writes nothing else: no other entry, no track, no new patrol.
        let ended = PatrolEvent::new(3, official.clone(), PatrolAction::Ended);
        let err =
            judge_patrol(Some(&mut doc), &mut pushed(&ended), &Judging::device("o1")).unwrap_err();
        assert!(err.to_string().contains("gw1, the walker"), "{err}");
        let mut tracked = pushed(&confirm(official));
        tracked.append_track(&[point(4)]).unwrap();
        assert!(matches!(
            judge_patrol(Some(&mut doc), &mut tracked, &Judging::device("o1")),
            Err(Tamper::Forged { .. })
        ));
        assert!(matches!(
            judge_patrol(None, &mut doc, &Judging::device("o1")),
            Err(Tamper::ForgedReporter { .. })
        ));
    }

    #[test]
    fn a_walkers_append_concurrent_with_a_stored_confirmation_is_accepted() {
        // The walker keeps writing while the official's confirmation reaches the server: the
        // two appends are concurrent, and automerge may order the walker's new entries before
        // the stored confirmation. Neither is tampering.
        let official = person("o1", Role::StreetOfficial, Scope::Street);
        let mut doc = new_patrol();
        let with = PatrolEvent::new(
            2,
            walker(),
            PatrolAction::Accompanied {
                companion: official.clone(),
            },
        );
        doc.append_event(&with).unwrap();
        let base = doc.save();
        let mut server = PatrolDoc::load(&base, &ActorId::random()).unwrap();
        let mut companion = PatrolDoc::load(&base, &ActorId::random()).unwrap();
        let confirmed = companion
            .append_event(&PatrolEvent::new(
                3,
                official,
                PatrolAction::Confirmed {
                    accompaniment: with.id.clone(),
                },
            ))
            .unwrap();
        let mut walker_doc = PatrolDoc::load(&base, &ActorId::random()).unwrap();
        let mut walker_changes = Vec::new();
        for i in 0..3 {
            walker_changes.push(walker_doc.append_track(&[point(10 + i)]).unwrap());
        }
        walker_changes.push(
            walker_doc
                .append_event(&PatrolEvent::new(20, walker(), PatrolAction::Ended))
                .unwrap(),
        );
        server.apply(&confirmed).unwrap();
        let mut stored = PatrolDoc::load(&server.save(), &ActorId::random()).unwrap();
        for c in &walker_changes {
            stored.apply(c).unwrap();
        }
        // The walker's entry (made with a higher op counter) sorts before the stored
        // confirmation: the old log is not a prefix of the new one, yet nothing was edited,
        // moved or removed.
        let order: Vec<bool> = stored
            .events()
            .unwrap()
            .iter()
            .map(|e| matches!(e.action, PatrolAction::Confirmed { .. }))
            .collect();
        assert_eq!(order, [false, false, true]);
        let added = judge_patrol(Some(&mut server), &mut stored, &Judging::device("gw1")).unwrap();
        assert_eq!((added.events.len(), added.chunks), (1, 3));
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
            judge_patrol(Some(&mut doc), &mut edited, &Judging::device("gw1")),
            Err(Tamper::NotAnAppend(_))
        ));

        let mut junk = fork(&mut doc);
        let (raw, track, _) = junk.raw_mut();
        let track = track.clone();
        raw.insert(&track, 1, ScalarValue::Bytes(vec![1, 200, 200]))
            .unwrap();
        raw.commit();
        assert!(matches!(
            judge_patrol(Some(&mut doc), &mut junk, &Judging::device("gw1")),
            Err(Tamper::TrackChanged(1))
        ));

        let mut moved = fork(&mut doc);
        moved.raw_mut().0.put(ROOT, "started_at", 99_i64).unwrap();
        assert_eq!(
            judge_patrol(Some(&mut doc), &mut moved, &Judging::device("gw1")),
            Err(Tamper::FactChanged("started_at"))
        );

        let mut keyed = fork(&mut doc);
        keyed.raw_mut().0.put(ROOT, "events", 1).unwrap();
        assert_eq!(
            judge_patrol(Some(&mut doc), &mut keyed, &Judging::device("gw1")),
            Err(Tamper::UnknownKey("events".into()))
        );
    }
}
