//! A server restored from an older backup loses nothing a device still holds: a field day, a
//! backup taken while serving, more field days, a restore of that backup, and one more sync
//! round; the server ends with every case, event and photo any device held, every device ends
//! identical to the server, and no sync is refused (docs/decisions/0021).

use std::collections::BTreeSet;
use xiangying_core::case::CaseDoc;
use xiangying_core::document::Document;
use xiangying_server::backup;
use xiangying_server::state::Limits;
use xiangying_server::storage::{FeedScope, with_tx};
use xiangying_tests::world::{self, Ledger, PEOPLE, Rng};
use xiangying_tests::{Field, drop_schema, pg_url, push_raw_with, sample_org, server_counts};

/// `steps` random steps by random people (each may sync on its own, as people do).
fn work(f: &Field, rng: &mut Rng, ledger: &mut Ledger, steps: usize) {
    for _ in 0..steps {
        let who = PEOPLE[rng.below(PEOPLE.len())];
        world::step(f.dev(who), rng, ledger, false);
    }
}

/// What the server holds: each document's event ids, and the photo files present.
fn server_holdings(f: &Field) -> (std::collections::BTreeMap<String, BTreeSet<String>>, u64) {
    let state = f.state();
    let actor = automerge::ActorId::random();
    let mut docs = std::collections::BTreeMap::new();
    with_tx(state.storage.as_ref(), |tx| {
        for (id, _) in tx.feed_cases(FeedScope::All, 0, u64::MAX >> 1, u32::MAX)? {
            let row = tx.case(&id)?.expect("row");
            let events = match CaseDoc::load(&row.snapshot, &actor) {
                Ok(doc) => doc
                    .events()
                    .expect("events")
                    .into_iter()
                    .map(|e| e.id)
                    .collect(),
                Err(_) => BTreeSet::new(),
            };
            docs.insert(id.into_string(), events);
        }
        Ok(())
    })
    .expect("read server");
    let (_, changes, _) = server_counts(f);
    (docs, changes)
}

fn restore_loses_nothing_a_device_holds(postgres: Option<(String, String)>) {
    let mut f = Field::with_backend(sample_org(), postgres, Limits::default());
    for p in PEOPLE {
        f.enrol(p);
    }
    let mut rng = Rng::new(0x5e570e);
    let mut ledger = Ledger::default();

    // Day one, then a backup while the server serves.
    work(&f, &mut rng, &mut ledger, 150);
    f.settle();
    let backup_dir = f.root.path().join("backup");
    backup::backup(&f.store_location(), &backup_dir).expect("backup while serving");
    let (at_backup, _) = server_holdings(&f);

    // Two more days; some of the last work stays on the phones.
    work(&f, &mut rng, &mut ledger, 300);
    f.settle();
    work(&f, &mut rng, &mut ledger, 40);
    let (before_restore, changes_before) = server_holdings(&f);
    assert!(
        before_restore.len() > at_backup.len(),
        "the later days raised cases the backup does not hold"
    );

    // Restore the backup: the server goes back to day one, under a new epoch.
    let epoch_before = f.state().epoch.clone();
    f.restart_after(|f| {
        backup::restore(&f.store_location(), &backup_dir).expect("restore");
    });
    assert_ne!(f.state().epoch, epoch_before, "a restore gives a new epoch");
    let (restored, changes_restored) = server_holdings(&f);
    assert_eq!(
        restored.keys().collect::<Vec<_>>(),
        at_backup.keys().collect::<Vec<_>>()
    );
    assert!(changes_restored < changes_before);

    // One more sync round: every device finds out, re-delivers, pulls again. No refusal.
    let (mut round_trips, mut sent, mut pushed, mut uploaded) = (0, 0, 0, 0);
    for p in PEOPLE {
        let r = f
            .dev(p)
            .sync_now(&|_| {})
            .unwrap_or_else(|e| panic!("{p}'s first sync after the restore: {e}"));
        assert!(r.server_restored, "{p} noticed the restore");
        round_trips += r.round_trips;
        sent += r.bytes_sent;
        pushed += r.pushed;
        uploaded += r.photos_uploaded;
    }
    eprintln!(
        "restore: {} documents at the backup, {} before the restore; the round after it: \
         {} devices, {round_trips} round trips, {pushed} outbox entries ({sent} bytes) pushed, \
         {uploaded} photo files uploaded",
        at_backup.len(),
        before_restore.len(),
        PEOPLE.len()
    );
    // The server now holds every document, event and photo any device holds.
    let (after, _) = server_holdings(&f);
    let state = f.state();
    for p in PEOPLE {
        let d = f.dev(p);
        for c in d.all_cases(u32::MAX).expect("list") {
            let held = after
                .get(&c.id)
                .unwrap_or_else(|| panic!("{p}'s case {} is missing on the server", c.id));
            let v = d.case(&c.id).expect("case");
            for e in &v.state.history {
                assert!(
                    held.contains(&e.event.id),
                    "event {} of {}",
                    e.event.id,
                    c.id
                );
            }
            for photo in &v.photos {
                if d.photo_files().contains(&photo.hash) {
                    assert!(
                        state.blobs.read(&photo.hash).is_ok(),
                        "{p}'s photo {} is missing on the server",
                        photo.hash
                    );
                }
            }
        }
        for s in d.patrols(u32::MAX).expect("patrols") {
            assert!(after.contains_key(&s.id), "{p}'s patrol {}", s.id);
        }
        assert!(
            !d.redelivering().expect("flag"),
            "{p} finished re-delivering"
        );
    }
    for id in before_restore.keys() {
        assert!(after.contains_key(id), "case {id} came back");
    }

    // Everyone pulls what the others brought back: identical to the server, nothing lost,
    // nothing twice.
    world::settle_and_check(&f, &ledger);
    // Work goes on as usual afterwards.
    work(&f, &mut rng, &mut ledger, 60);
    world::settle_and_check(&f, &ledger);
}

#[test]
fn a_restore_to_an_older_backup_loses_nothing_a_device_holds_on_sqlite() {
    restore_loses_nothing_a_device_holds(None);
}

#[test]
fn a_restore_to_an_older_backup_loses_nothing_a_device_holds_on_postgres() {
    let url = pg_url();
    restore_loses_nothing_a_device_holds(Some((url.clone(), "restore_suite".into())));
    // The restore keeps the replaced schema aside (`restore_suite_before_<time>`): drop both.
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let rows = c
        .query(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'restore_suite%'",
            &[],
        )
        .expect("schemas");
    for r in rows {
        drop_schema(&url, r.get::<_, &str>(0));
    }
}

/// Pushes `bytes` for document `id` with `person`'s token, marked as a re-delivery or not.
fn push_marked(
    f: &Field,
    person: &str,
    id: &str,
    bytes: Vec<u8>,
    redelivery: bool,
) -> (u16, String) {
    let mark = [(xiangying_core::sync::client::REDELIVERY_HEADER, "1")];
    push_raw_with(f, person, id, bytes, if redelivery { &mark } else { &[] })
}

/// psc1 reports and syncs, gw1 pulls the case; psc1 then notes on it offline. Returns the field,
/// the case, and psc1's unsynced change (signed by psc1, with psc1's actor).
fn someone_elses_change() -> (Field, String, Vec<u8>) {
    let mut f = Field::new(sample_org());
    f.enrol("psc1");
    f.enrol("gw1");
    f.enrol("cc1");
    let id = f
        .dev("psc1")
        .report(&xiangying_core::NewReport {
            category: xiangying_core::org::sample::MANHOLE.into(),
            location: xiangying_core::org::sample::IN_G1,
            grid: None,
            segment: None,
            description: "井盖缺失".into(),
        })
        .expect("report");
    f.settle();
    f.dev("psc1").note(&id, "补充").expect("note");
    let change = f.dev("psc1").outbox(1).expect("outbox")[0].bytes.clone();
    (f, id, change)
}

#[test]
fn a_re_delivery_mark_outside_a_recovery_window_changes_nothing() {
    // A server never restored: another person's change is forgery, mark or not.
    let (f, id, change) = someone_elses_change();
    let before = server_holdings(&f);
    let (status, body) = push_marked(&f, "gw1", &id, change, true);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("tampering"), "{body}");
    assert_eq!(server_holdings(&f), before, "nothing stored changed");
}

#[test]
fn within_a_recovery_window_only_a_marked_push_may_bring_back_other_peoples_changes() {
    let (mut f, id, change) = someone_elses_change();
    let out = f.root.path().join("backup");
    backup::backup(&f.store_location(), &out).expect("backup");
    f.restart_after(|f| {
        backup::restore(&f.store_location(), &out).expect("restore");
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    assert!(f.state().in_recovery(now));
    // Unmarked: still forgery, even now.
    let (status, body) = push_marked(&f, "cc1", &id, change.clone(), false);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("tampering"), "{body}");
    // Marked, by another device in the window: taken back, still judged append-only.
    let (status, body) = push_marked(&f, "gw1", &id, change, true);
    assert_eq!(status, 200, "{body}");
    let state = f.state();
    let row = with_tx(state.storage.as_ref(), |tx| tx.case(&id.as_str().into()))
        .expect("read")
        .expect("case");
    let doc = CaseDoc::load(&row.snapshot, &automerge::ActorId::random()).expect("load");
    assert!(
        doc.events()
            .expect("events")
            .iter()
            .any(|e| e.by.person() == Some("psc1")
                && matches!(e.action, xiangying_core::case::Action::Note { .. })),
        "psc1's note is back"
    );
    // psc1's own actor was not claimed for gw1: psc1 syncs on as usual.
    f.dev("psc1").sync_now(&|_| {}).expect("psc1 syncs");
}
