//! The flows of `docs/DOMAIN.md` through the façade, each person on their own device, syncing
//! by exchanging documents.

use crate::case::{Assignee, Outcome, Status};
use crate::org::{Level, Point, sample};
use crate::testkit::{HOUR, World};
use crate::{Error, NewReport, NewRequest};

fn report(category: &str) -> NewReport {
    NewReport {
        category: category.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: "井盖缺失，行人易绊倒".into(),
    }
}

fn not_allowed<T: std::fmt::Debug>(r: crate::Result<T>) -> String {
    match r {
        Err(Error::NotAllowed { reason, .. }) => reason.to_string(),
        other => panic!("expected NotAllowed, got {other:?}"),
    }
}

const EVERYONE: &[&str] = &[
    "center", "cc1", "cc2", "gw1", "gw2", "gw3", "inf1", "psc1", "msc1", "official", "police1",
    "enf1", "vol1", "vol2", "vol3", "res1",
];

#[test]
fn street_chief_handles_on_the_spot_with_an_after_photo() {
    let w = World::new(&["psc1"]);
    let d = w.dev("psc1");
    let id = d.report(&report(sample::LITTER)).unwrap();
    let v = d.case(&id).unwrap();
    assert_eq!(v.state.status, Status::Reported);
    assert_eq!(v.facts.segment.as_deref(), Some("s1"));
    assert_eq!(v.facts.grid, "g1");
    let why = not_allowed(d.handle_on_spot(&id, "清理完毕", &[]));
    assert!(why.contains("after photo"), "{why}");
    let s = d
        .handle_on_spot(&id, "清理完毕", &["ab".repeat(32)])
        .unwrap();
    assert_eq!(s.status, Status::Closed);
    assert!(s.handled_on_spot);
    assert_eq!(d.by_status(Status::Closed, 10).unwrap().len(), 1);
}

#[test]
fn street_chief_forwards_to_the_grid_worker_who_resolves_and_the_chief_verifies() {
    let w = World::new(&["psc1", "gw1", "cc1"]);
    let id = w.dev("psc1").report(&report(sample::MANHOLE)).unwrap();
    let s = w.dev("psc1").forward(&id, "需要更换井盖").unwrap();
    assert_eq!(s.status, Status::Forwarded);
    assert_eq!(s.assignee, Some(Assignee::Person("gw1".into())));
    w.sync_all();
    let inbox = w.dev("gw1").inbox(10).unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].id, id);
    assert_eq!(w.dev("gw1").accept(&id).unwrap().status, Status::InProgress);
    let s = w
        .dev("gw1")
        .resolve(&id, "已更换", &["cd".repeat(32)])
        .unwrap();
    assert_eq!(s.status, Status::Resolved);
    // The handler cannot verify their own work.
    assert!(not_allowed(w.dev("gw1").verify(&id, "")).contains("never the handler"));
    w.sync_all();
    assert_eq!(w.dev("psc1").inbox(10).unwrap()[0].id, id);
    assert_eq!(
        w.dev("psc1").verify(&id, "确认").unwrap().status,
        Status::Verified
    );
    assert_eq!(w.dev("psc1").close(&id, "").unwrap().status, Status::Closed);
    w.sync_all();
    for p in ["psc1", "gw1", "cc1"] {
        assert_eq!(w.dev(p).case(&id).unwrap().state.status, Status::Closed);
    }
}

#[test]
fn an_informants_report_goes_straight_to_the_grid_worker() {
    let w = World::new(&["inf1", "gw1"]);
    let id = w.dev("inf1").report(&report(sample::LITTER)).unwrap();
    let v = w.dev("inf1").case(&id).unwrap();
    assert_eq!(v.state.status, Status::Forwarded);
    assert_eq!(v.state.assignee, Some(Assignee::Person("gw1".into())));
    w.sync_all();
    assert_eq!(w.dev("gw1").inbox(10).unwrap().len(), 1);
}

#[test]
fn escalation_from_grid_to_community_to_street_to_a_department() {
    let w = World::new(&["gw1", "cc1", "center", "police1", "enf1"]);
    let id = w.dev("gw1").report(&report(sample::STALL)).unwrap();
    assert_eq!(
        w.dev("gw1").case(&id).unwrap().state.status,
        Status::InProgress
    );
    let s = w.dev("gw1").escalate(&id, "商户拒不整改").unwrap();
    assert_eq!((s.status, s.level), (Status::Escalated, Level::Community));
    w.sync_all();
    assert_eq!(w.dev("cc1").inbox(10).unwrap().len(), 1);
    // The grid worker no longer holds it.
    assert!(not_allowed(w.dev("gw1").escalate(&id, "again")).contains("does not hold"));
    w.dev("cc1").accept(&id).unwrap();
    let s = w.dev("cc1").escalate(&id, "需要执法").unwrap();
    assert_eq!(
        (s.status, s.level, s.assignee),
        (Status::Escalated, Level::Street, Some(Assignee::Center))
    );
    w.sync_all();
    assert_eq!(w.dev("center").inbox(10).unwrap().len(), 1);
    let why = not_allowed(w.dev("center").escalate(&id, "x"));
    assert!(why.contains("dispatches"), "{why}");
    let s = w
        .dev("center")
        .dispatch(&id, &["enforcement".into()], "请处理")
        .unwrap();
    assert_eq!((s.status, s.level), (Status::Dispatched, Level::Street));
    w.sync_all();
    assert_eq!(w.dev("enf1").inbox(10).unwrap().len(), 1);
    assert!(w.dev("police1").inbox(10).unwrap().is_empty());
    assert!(not_allowed(w.dev("police1").accept(&id)).contains("does not hold"));
    w.dev("enf1").accept(&id).unwrap();
    w.dev("enf1").resolve(&id, "已取缔", &[]).unwrap();
    w.sync_all();
    w.dev("gw1").verify(&id, "现场已恢复").unwrap();
    w.sync_all();
    assert_eq!(
        w.dev("center").close(&id, "").unwrap().status,
        Status::Closed
    );
}

#[test]
fn joint_enforcement_takes_several_departments() {
    let w = World::new(&["center", "police1", "enf1"]);
    let id = w.dev("center").report(&report(sample::STALL)).unwrap();
    let v = w.dev("center").case(&id).unwrap();
    assert_eq!(
        (v.state.level, v.state.status),
        (Level::Street, Status::InProgress)
    );
    let why = match w.dev("center").dispatch(&id, &["fire".into()], "") {
        Err(Error::NotFound { what, id }) => format!("{what} {id}"),
        other => panic!("{other:?}"),
    };
    assert_eq!(why, "department fire");
    let s = w
        .dev("center")
        .dispatch(&id, &["police".into(), "enforcement".into()], "联合执法")
        .unwrap();
    assert_eq!(s.level, Level::JointEnforcement);
    w.sync_all();
    assert_eq!(w.dev("police1").inbox(10).unwrap().len(), 1);
    assert_eq!(w.dev("enf1").inbox(10).unwrap().len(), 1);
    w.dev("police1").resolve(&id, "联合整治完成", &[]).unwrap();
}

#[test]
fn rework_sends_the_case_back_to_the_handler() {
    let w = World::new(&["psc1", "gw1"]);
    let id = w.dev("psc1").report(&report(sample::MANHOLE)).unwrap();
    w.dev("psc1").forward(&id, "").unwrap();
    w.sync_all();
    w.dev("gw1").resolve(&id, "已处理", &[]).unwrap();
    w.sync_all();
    let s = w.dev("psc1").rework(&id, "井盖仍松动").unwrap();
    assert_eq!((s.status, s.reworks), (Status::InProgress, 1));
    assert_eq!(s.assignee, Some(Assignee::Person("gw1".into())));
    assert!(not_allowed(w.dev("psc1").rework(&id, "x")).contains("in_progress"));
    w.sync_all();
    w.dev("gw1")
        .resolve(&id, "已加固", &["ee".repeat(32)])
        .unwrap();
    w.sync_all();
    w.dev("psc1").verify(&id, "").unwrap();
    assert_eq!(w.dev("psc1").close(&id, "").unwrap().status, Status::Closed);
}

#[test]
fn extensions_move_the_deadline_and_only_supervisors_extend() {
    let w = World::new(&["gw1", "cc1", "cc2"]);
    let id = w.dev("gw1").report(&report(sample::LITTER)).unwrap();
    w.advance(5 * HOUR);
    assert_eq!(w.dev("gw1").overdue(10).unwrap().len(), 1);
    assert!(
        w.dev("gw1")
            .case(&id)
            .unwrap()
            .state
            .is_overdue(w.dev("gw1").now())
    );
    assert!(not_allowed(w.dev("gw1").extend(&id, 24, "x")).contains("community grid chief"));
    w.sync_all();
    assert!(not_allowed(w.dev("cc2").extend(&id, 24, "x")).contains("community grid chief"));
    let s = w.dev("cc1").extend(&id, 24, "等待配件").unwrap();
    assert_eq!(s.extensions, 1);
    assert!(w.dev("cc1").overdue(10).unwrap().is_empty());
    assert!(not_allowed(w.dev("cc1").extend(&id, 0, "x")).contains("1 to 720"));
}

#[test]
fn a_reporter_voids_only_before_anyone_accepted() {
    let w = World::new(&["psc1", "msc1", "gw1", "center"]);
    let a = w.dev("psc1").report(&report(sample::LITTER)).unwrap();
    assert!(not_allowed(w.dev("psc1").void(&a, "")).contains("reason"));
    assert_eq!(
        w.dev("psc1").void(&a, "误报").unwrap().status,
        Status::Voided
    );
    let b = w.dev("msc1").report(&report(sample::LITTER)).unwrap();
    w.dev("msc1").forward(&b, "").unwrap();
    w.sync_all();
    w.dev("gw1").accept(&b).unwrap();
    w.sync_all();
    assert!(not_allowed(w.dev("msc1").void(&b, "误报")).contains("only the centre"));
    assert_eq!(
        w.dev("center").void(&b, "重复").unwrap().status,
        Status::Voided
    );
    // Nothing more happens to a voided case, but notes are still welcome.
    assert!(not_allowed(w.dev("center").close(&b, "")).contains("voided"));
    w.dev("center").note(&b, "已告知上报人").unwrap();
}

#[test]
fn a_duplicate_points_at_the_case_that_carries_on() {
    let w = World::new(&["gw1", "psc1"]);
    let a = w.dev("gw1").report(&report(sample::MANHOLE)).unwrap();
    let b = w.dev("psc1").report(&report(sample::MANHOLE)).unwrap();
    w.sync_all();
    assert!(matches!(
        w.dev("gw1").mark_duplicate(&b, "nope"),
        Err(Error::NotFound { what: "case", .. })
    ));
    assert!(not_allowed(w.dev("gw1").mark_duplicate(&b, &b)).contains("itself"));
    let s = w.dev("gw1").mark_duplicate(&b, &a).unwrap();
    assert_eq!(
        (s.status, s.duplicate_of.as_deref()),
        (Status::Duplicate, Some(a.as_str()))
    );
    assert!(not_allowed(w.dev("psc1").mark_duplicate(&a, &b)).contains("only the grid worker"));
}

#[test]
fn notes_need_involvement() {
    let w = World::new(&["gw1", "gw3", "cc1"]);
    let id = w.dev("gw1").report(&report(sample::DISPUTE)).unwrap();
    w.sync_all();
    assert!(not_allowed(w.dev("gw3").note(&id, "看看")).contains("not involved"));
    w.dev("cc1").note(&id, "周一调解").unwrap();
    assert!(not_allowed(w.dev("cc1").note(&id, "  ")).contains("text"));
}

#[test]
fn a_resident_request_is_dispatched_and_one_volunteer_claims_it() {
    let w = World::new(&["res1", "cc1", "vol1", "vol2", "vol3"]);
    let id = w
        .dev("res1")
        .request(&NewRequest {
            category: sample::HELP.into(),
            location: sample::IN_G1,
            grid: None,
            description: "独居老人需要代买药品".into(),
        })
        .unwrap();
    let v = w.dev("res1").case(&id).unwrap();
    assert_eq!(
        (v.state.status, v.state.level),
        (Status::Requested, Level::Community)
    );
    w.sync_all();
    assert_eq!(w.dev("cc1").inbox(10).unwrap().len(), 1);
    w.dev("cc1")
        .dispatch_to_volunteers(&id, "请志愿者接单")
        .unwrap();
    w.sync_all();
    assert_eq!(w.dev("vol1").inbox(10).unwrap().len(), 1);
    assert!(w.dev("vol3").inbox(10).unwrap().is_empty());
    assert!(not_allowed(w.dev("vol3").claim_request(&id)).contains("volunteer of this community"));
    w.dev("vol1").claim_request(&id).unwrap();
    w.sync_all();
    assert_eq!(
        not_allowed(w.dev("vol2").claim_request(&id)),
        "already taken by vol1"
    );
    w.dev("vol1").resolve(&id, "药已送到", &[]).unwrap();
    w.sync_all();
    w.dev("res1").verify(&id, "谢谢").unwrap();
    assert_eq!(w.dev("res1").close(&id, "").unwrap().status, Status::Closed);
}

#[test]
fn who_may_raise_what() {
    let w = World::new(EVERYONE);
    for p in EVERYONE {
        let d = w.dev(p);
        let problem = d.report(&report(sample::MANHOLE));
        let may = !matches!(
            *p,
            "vol1" | "vol2" | "vol3" | "res1" | "gw2" | "gw3" | "cc2"
        );
        assert_eq!(
            problem.is_ok(),
            may,
            "{p} raising a problem in g1: {problem:?}"
        );
        let request = d.request(&NewRequest {
            category: sample::HELP.into(),
            location: sample::IN_G1,
            grid: None,
            description: "求助".into(),
        });
        let may = matches!(*p, "res1" | "gw1" | "cc1");
        assert_eq!(
            request.is_ok(),
            may,
            "{p} raising a request in g1: {request:?}"
        );
    }
}

#[test]
fn bad_input_names_the_field_and_writes_nothing() {
    let w = World::new(&["gw1"]);
    let d = w.dev("gw1");
    let mut r = report("nope");
    assert!(matches!(
        d.report(&r),
        Err(Error::NotFound {
            what: "category",
            ..
        })
    ));
    r.category = sample::LITTER.into();
    r.description = "   ".into();
    assert!(matches!(
        d.report(&r),
        Err(Error::InvalidInput {
            field: "description",
            ..
        })
    ));
    r.description = "x".into();
    r.location = Point {
        lon: f64::NAN,
        lat: 0.0,
    };
    assert!(matches!(
        d.report(&r),
        Err(Error::InvalidInput {
            field: "location",
            ..
        })
    ));
    r.location = sample::IN_G1;
    r.grid = Some("g9".into());
    assert!(matches!(
        d.report(&r),
        Err(Error::NotFound { what: "grid", .. })
    ));
    assert_eq!(d.outbox_len().unwrap(), 0);
    assert!(d.all_cases(10).unwrap().is_empty());
}

#[test]
fn a_refused_action_writes_nothing() {
    let w = World::new(&["gw1"]);
    let d = w.dev("gw1");
    let id = d.report(&report(sample::LITTER)).unwrap();
    let before = (d.outbox_len().unwrap(), d.export_case(&id).unwrap());
    assert!(d.close(&id, "").is_err());
    assert!(d.verify(&id, "").is_err());
    assert_eq!(
        (d.outbox_len().unwrap(), d.export_case(&id).unwrap()),
        before
    );
}

#[test]
fn the_store_survives_a_reopen_with_identity_and_cases() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let d = crate::Device::open(dir.path()).unwrap();
        d.install_org(
            &sample::roster_json().unwrap(),
            &sample::catalogue_json().unwrap(),
        )
        .unwrap();
        d.set_person("gw1").unwrap();
        d.report(&report(sample::LITTER)).unwrap()
    };
    let d = crate::Device::open(dir.path()).unwrap();
    assert_eq!(d.me().unwrap().person, "gw1");
    assert_eq!(d.inbox(10).unwrap()[0].id, id);
    assert_eq!(d.outbox_len().unwrap(), 1);
}

#[test]
fn applying_the_same_bytes_twice_changes_nothing() {
    let w = World::new(&["gw1", "cc1"]);
    let id = w.dev("gw1").report(&report(sample::LITTER)).unwrap();
    w.dev("gw1").note(&id, "a").unwrap();
    let bytes = w.dev("gw1").export_case(&id).unwrap();
    w.dev("cc1").apply_remote(&id, &bytes).unwrap();
    let once = w.dev("cc1").export_case(&id).unwrap();
    w.dev("cc1").apply_remote(&id, &bytes).unwrap();
    assert_eq!(w.dev("cc1").export_case(&id).unwrap(), once);
    assert!(matches!(
        w.dev("cc1").apply_remote("other-id", &bytes),
        Err(Error::InvalidInput {
            field: "case_id",
            ..
        })
    ));
    assert!(matches!(
        w.dev("cc1").apply_remote(&id, b"garbage"),
        Err(Error::InvalidInput { field: "bytes", .. })
    ));
    assert_eq!(w.dev("cc1").export_case(&id).unwrap(), once);
}

#[test]
fn conflicting_offline_escalation_and_rework_resolve_alike_everywhere() {
    let w = World::new(&["psc1", "msc1", "gw1", "cc1"]);
    let id = w.dev("psc1").report(&report(sample::MANHOLE)).unwrap();
    w.dev("psc1").forward(&id, "").unwrap();
    w.sync_all();
    w.dev("gw1").resolve(&id, "已处理", &[]).unwrap();
    w.sync_all();
    // Offline at once: the reporter verifies and closes; the community chief sends it back.
    w.dev("psc1").verify(&id, "").unwrap();
    w.dev("psc1").close(&id, "").unwrap();
    w.dev("cc1").rework(&id, "不合格").unwrap();
    w.sync_all();
    let views: Vec<_> = ["psc1", "msc1", "gw1", "cc1"]
        .iter()
        .map(|p| w.dev(p).case(&id).unwrap())
        .collect();
    for v in &views[1..] {
        assert_eq!(v.state, views[0].state);
    }
    let rejected: Vec<_> = views[0]
        .state
        .history
        .iter()
        .filter(|e| matches!(e.outcome, Outcome::Rejected(_)))
        .collect();
    assert!(
        !rejected.is_empty(),
        "one side must lose: {:?}",
        views[0].state.history
    );
    // report, forward, resolve, verify, close, rework: all six are kept.
    assert_eq!(views[0].state.history.len(), 6, "no event is lost");
}

#[test]
fn a_corrupt_document_fails_alone() {
    let w = World::new(&["gw1"]);
    let d = w.dev("gw1");
    let a = d.report(&report(sample::LITTER)).unwrap();
    let b = d.report(&report(sample::MANHOLE)).unwrap();
    {
        let conn = rusqlite::Connection::open(d.dir().join("xiangying.db")).unwrap();
        conn.execute(
            "UPDATE docs SET snapshot = x'00112233' WHERE case_id = ?1",
            [&a],
        )
        .unwrap();
    }
    // Damage on disk is found by the next start: the running store keeps what it loaded last
    // (decision 0055), and only its own writes change the file.
    let d = crate::Device::open(d.dir()).unwrap();
    assert!(matches!(d.case(&a), Err(Error::CorruptCase { case_id, .. }) if case_id == a));
    assert!(matches!(d.note(&a, "x"), Err(Error::CorruptCase { .. })));
    assert_eq!(d.case(&b).unwrap().facts.id, b);
    assert_eq!(d.all_cases(10).unwrap().len(), 2);
    assert_eq!(d.compact().unwrap(), 0);
}

#[test]
fn compaction_keeps_every_event() {
    let w = World::new(&["gw1"]);
    let d = w.dev("gw1");
    let id = d.report(&report(sample::DISPUTE)).unwrap();
    for i in 0..40 {
        d.note(&id, &format!("第{i}次走访")).unwrap();
    }
    let before = d.case(&id).unwrap();
    assert_eq!(d.compact().unwrap(), 1);
    assert_eq!(d.case(&id).unwrap(), before);
    assert_eq!(before.state.history.len(), 41);
}

/// What a device holds of a case, as its running store gives it (from the copy kept loaded)
/// and as a store opened afresh on the same file reads it.
fn held_and_stored(d: &crate::Device, id: &str) -> (Vec<u8>, Vec<u8>) {
    let fresh = crate::Device::open(d.dir()).unwrap();
    (
        d.canonical_case(id).unwrap(),
        fresh.canonical_case(id).unwrap(),
    )
}

#[test]
fn a_case_kept_loaded_is_what_the_store_holds() {
    let w = World::new(&["psc1", "gw1"]);
    let id = w.dev("psc1").report(&report(sample::MANHOLE)).unwrap();
    w.dev("psc1").forward(&id, "需要更换井盖").unwrap();
    w.sync_all();
    w.dev("gw1").accept(&id).unwrap();
    w.dev("gw1").note(&id, "已到现场").unwrap();
    // psc1 takes in gw1's changes onto its kept copy, then acts on it again.
    w.sync_all();
    w.dev("psc1").note(&id, "请尽快处理").unwrap();
    w.sync_all();
    for p in ["psc1", "gw1"] {
        let (held, stored) = held_and_stored(w.dev(p), &id);
        assert_eq!(held, stored, "{p}'s kept copy differs from its store");
    }
    assert_eq!(
        held_and_stored(w.dev("psc1"), &id).0,
        held_and_stored(w.dev("gw1"), &id).0
    );
}

#[test]
fn notes_written_at_once_on_one_device_are_all_kept() {
    let w = World::new(&["gw1"]);
    let d = w.dev("gw1");
    let id = d.report(&report(sample::DISPUTE)).unwrap();
    std::thread::scope(|s| {
        for t in 0..2 {
            let id = &id;
            s.spawn(move || {
                for i in 0..20 {
                    d.note(id, &format!("{t}-{i}")).unwrap();
                }
            });
        }
    });
    // Each note was made from the case as last read: none lost, in the copy or in the store.
    assert_eq!(d.case(&id).unwrap().state.history.len(), 41);
    let (held, stored) = held_and_stored(d, &id);
    assert_eq!(held, stored);
}

#[test]
fn a_store_opened_twice_on_one_file_sees_the_other_writes() {
    // Another process (or a second store in this one) writes the same file: the copies this
    // store keeps loaded are forgotten when SQLite says another connection committed.
    let w = World::new(&["gw1"]);
    let a = w.dev("gw1");
    let id = a.report(&report(sample::DISPUTE)).unwrap();
    a.note(&id, "from a").unwrap();
    let b = crate::Device::open(a.dir()).unwrap();
    b.note(&id, "from b").unwrap();
    assert_eq!(
        a.case(&id).unwrap().state.history.len(),
        3,
        "a sees b's note"
    );
    // a's next change is made from the state holding b's: the case still loads everywhere.
    a.note(&id, "from a again").unwrap();
    assert_eq!(b.case(&id).unwrap().state.history.len(), 4);
    let (held, stored) = held_and_stored(a, &id);
    assert_eq!(held, stored);
}

#[test]
fn a_page_of_more_documents_than_are_kept_is_stored_whole() {
    let w = World::new(&["gw1", "cc1"]);
    let from = w.dev("gw1");
    let ids: Vec<String> = (0..crate::store::KEPT + 6)
        .map(|_| from.report(&report(sample::LITTER)).unwrap())
        .collect();
    let bytes: Vec<Vec<u8>> = ids.iter().map(|id| from.export_case(id).unwrap()).collect();
    let page: Vec<(&str, &[u8])> = ids
        .iter()
        .zip(&bytes)
        .map(|(id, b)| (id.as_str(), b.as_slice()))
        .collect();
    let to = w.dev("cc1");
    to.apply_remote_page(&page).unwrap();
    assert_eq!(to.all_cases(u32::MAX).unwrap().len(), ids.len());
    for id in [&ids[0], &ids[ids.len() - 1]] {
        let (held, stored) = held_and_stored(to, id);
        assert_eq!(held, stored);
        assert_eq!(held, from.canonical_case(id).unwrap());
    }
}
