//! Every case and patrol document of every committed fixture generation is judged by this
//! build as `docs/decisions/0020-compatibility-rules.md` says: it reads its layout (1 for
//! documents that record none), an honest append on top of it passes, content this build
//! does not know passes only from a device whose protocol says it writes a newer layout, and
//! the whole document re-delivered after a restore passes.

use std::path::{Path, PathBuf};
use xiangying_core::case::{Action, Author, CaseDoc, Event};
use xiangying_core::document::Document;
use xiangying_core::patrol::{PatrolAction, PatrolDoc, PatrolEvent};
use xiangying_core::sync::judge::{Judging, Tamper, judge};
use xiangying_core::sync::patrol_judge::judge_patrol;
use xiangying_core::sync::version::LAYOUT;
use xiangying_tests::fixtures::generations;

const NEXT_ACTION: &str = r#"{"type":"test_next_layout_check","score":7}"#;

/// The documents with extension `.automerge` in `kind` (`cases`, `patrols`) of every
/// generation.
fn documents(kind: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for g in generations() {
        if let Ok(dir) = std::fs::read_dir(g.join(kind)) {
            let mut files: Vec<_> = dir
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "automerge"))
                .collect();
            files.sort();
            out.extend(files);
        }
    }
    out
}

fn actor() -> automerge::ActorId {
    automerge::ActorId::random()
}

fn case(path: &Path) -> CaseDoc {
    CaseDoc::load(&std::fs::read(path).expect("read"), &actor())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn patrol(path: &Path) -> PatrolDoc {
    PatrolDoc::load(&std::fs::read(path).expect("read"), &actor())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_fixture_case_judges_by_the_compatibility_rules() {
    let files = documents("cases");
    assert!(files.len() >= 10, "only {} case documents", files.len());
    for file in files {
        let name = file.display().to_string();
        let mut stored = case(&file);
        let layout = stored.layout().expect(&name);
        assert!(
            (1..=u64::from(LAYOUT)).contains(&layout),
            "{name}: layout {layout}"
        );
        let first = stored.events().expect(&name).remove(0);
        let Author::Person(claim) = first.by.clone() else {
            panic!("{name}: the first event is not a person's");
        };
        let pusher = claim.person.clone();
        let device = Judging::device(&pusher);
        let newer = Judging {
            newer: true,
            ..device
        };

        // An honest append by the reporter passes.
        let mut honest = stored.fork(&actor()).expect(&name);
        honest
            .append_event(&Event::new(
                first.at + 1,
                claim.clone(),
                Action::Note {
                    text: "补充说明".into(),
                },
            ))
            .expect(&name);
        assert_eq!(
            judge(Some(&mut stored), &mut honest, &device)
                .expect(&name)
                .events
                .len(),
            1,
            "{name}"
        );

        // The next layout's action passes from a newer device only.
        let mut next = stored.fork(&actor()).expect(&name);
        next.append_event(&Event::new(
            first.at + 2,
            claim.clone(),
            serde_json::from_str(NEXT_ACTION).expect("action"),
        ))
        .expect(&name);
        assert!(
            matches!(
                judge(Some(&mut stored), &mut next, &device),
                Err(Tamper::UnknownAction { .. })
            ),
            "{name}"
        );
        judge(Some(&mut stored), &mut next, &newer).expect(&name);
        // … and reads and folds everywhere as "not understood", changing nothing.
        let facts = next.facts().expect(&name);
        let before = xiangying_core::case::fold(&facts, &stored.events().expect(&name));
        let after = xiangying_core::case::fold(&facts, &next.events().expect(&name));
        assert_eq!(
            (after.status, after.level, after.deadline, after.updated_at),
            (
                before.status,
                before.level,
                before.deadline,
                before.updated_at
            ),
            "{name}"
        );

        // The whole document re-delivered after a restore passes.
        let mut whole = stored.fork(&actor()).expect(&name);
        judge(
            None,
            &mut whole,
            &Judging {
                redelivery: true,
                ..Judging::device("somebody-else")
            },
        )
        .expect(&name);
    }
}

#[test]
fn every_fixture_patrol_judges_by_the_compatibility_rules() {
    let files = documents("patrols");
    assert!(files.len() >= 3, "only {} patrol documents", files.len());
    for file in files {
        let name = file.display().to_string();
        let mut stored = patrol(&file);
        let layout = stored.layout().expect(&name);
        assert!(
            (1..=u64::from(LAYOUT)).contains(&layout),
            "{name}: layout {layout}"
        );
        let walker = stored.facts().expect(&name).walker;
        let device = Judging::device(&walker.person);
        let newer = Judging {
            newer: true,
            ..device
        };
        let saved = stored.save();
        let mut next = PatrolDoc::load(&saved, &actor()).expect(&name);
        let action: PatrolAction = serde_json::from_str(NEXT_ACTION).expect("action");
        next.append_event(&PatrolEvent::new(
            stored.facts().expect(&name).started_at + 1,
            walker.clone(),
            action,
        ))
        .expect(&name);
        let mut copy = PatrolDoc::load(&next.save(), &actor()).expect(&name);
        assert!(
            matches!(
                judge_patrol(Some(&mut stored), &mut copy, &device),
                Err(Tamper::UnknownAction { .. })
            ),
            "{name}"
        );
        judge_patrol(Some(&mut stored), &mut next, &newer).expect(&name);
        let mut whole = PatrolDoc::load(&saved, &actor()).expect(&name);
        judge_patrol(
            None,
            &mut whole,
            &Judging {
                redelivery: true,
                ..Judging::device("somebody-else")
            },
        )
        .expect(&name);
    }
}
