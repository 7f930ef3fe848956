//! Patrols through the façade: who may walk where, recording a track in batches with bad
//! fixes refused whole, the buffer packed into chunks, companions, the end, a 2-hour track's
//! size, the weekly accompaniment count, and patrols reaching other devices.

use crate::Error;
use crate::case::{Author, Outcome};
use crate::patrol::{PatrolAction, PatrolPlace, TrackPoint};
use crate::testkit::{HOUR, T0, World};

fn fixes(n: usize, start: i64) -> Vec<TrackPoint> {
    (0..n)
        .map(|i| TrackPoint {
            at: start + i as i64 * 5_000,
            lon: 0.0005 + 0.00004 * (i as f64 * 0.3).sin(),
            lat: 0.0005 + 0.00003 * i as f64 / 100.0,
            accuracy_m: 5.0,
        })
        .collect()
}

fn grid(g: &str) -> PatrolPlace {
    PatrolPlace::Grid(g.into())
}

#[test]
fn people_patrol_their_own_grid_or_segment_one_patrol_at_a_time() {
    let w = World::new(&["gw1", "psc1", "cc1", "official"]);
    assert!(matches!(
        w.dev("gw1").start_patrol(grid("g2")),
        Err(Error::NotAllowed { .. })
    ));
    assert!(matches!(
        w.dev("gw1").start_patrol(PatrolPlace::Segment("s1".into())),
        Err(Error::NotAllowed { .. })
    ));
    assert!(w.dev("cc1").start_patrol(grid("g1")).is_err());
    assert!(w.dev("official").start_patrol(grid("g1")).is_err());
    let p = w.dev("gw1").start_patrol(grid("g1")).unwrap();
    let second = w.dev("gw1").start_patrol(grid("g1")).unwrap_err();
    assert!(second.to_string().contains("still under way"), "{second}");
    assert_eq!(w.dev("gw1").active_patrol().unwrap().unwrap().id, p);
    w.dev("gw1").end_patrol(&p).unwrap();
    assert!(w.dev("gw1").active_patrol().unwrap().is_none());
    assert!(w.dev("gw1").start_patrol(grid("g1")).is_ok());
    let s = w
        .dev("psc1")
        .start_patrol(PatrolPlace::Segment("s1".into()))
        .unwrap();
    assert_eq!(w.dev("psc1").patrol(&s).unwrap().facts.community, "c1");
}

#[test]
fn fixes_are_buffered_packed_in_chunks_and_a_bad_batch_stores_nothing() {
    let w = World::new(&["gw1"]);
    let d = w.dev("gw1");
    let p = d.start_patrol(grid("g1")).unwrap();
    let pts = fixes(300, T0 + 1_000);
    assert_eq!(d.record_track(&p, &pts[..50]).unwrap(), 50);
    // A batch with one bad fix is refused whole, naming it.
    let mut bad = pts[50..60].to_vec();
    bad[4].lat = 123.0;
    let e = d.record_track(&p, &bad).unwrap_err();
    assert!(e.to_string().contains("track point #4"), "{e}");
    let mut back = pts[50..60].to_vec();
    back[0].at = pts[10].at;
    assert!(d.record_track(&p, &back).is_err());
    assert_eq!(d.patrol(&p).unwrap().track.len(), 50);
    // The 120th fix packs the buffer into the document.
    assert_eq!(d.record_track(&p, &pts[50..130]).unwrap(), 0);
    let v = d.patrol(&p).unwrap();
    assert_eq!(v.state.points, 130);
    assert_eq!(v.track.len(), 130);
    assert_eq!(d.record_track(&p, &pts[130..200]).unwrap(), 70);
    assert_eq!(d.patrol(&p).unwrap().state.points, 130);
    // Ending packs the rest.
    let v = d.end_patrol(&p).unwrap();
    assert_eq!(v.state.points, 200);
    assert_eq!(v.track, d.patrol(&p).unwrap().track);
    for (a, b) in pts.iter().zip(&v.track) {
        assert_eq!(a.at, b.at);
        assert!((a.lon - b.lon).abs() < 1e-6 && (a.lat - b.lat).abs() < 1e-6);
    }
    assert!(v.state.distance_m > 0.0);
    assert!(matches!(
        d.record_track(&p, &fixes(1, T0 + 10 * HOUR)),
        Err(Error::NotAllowed { .. })
    ));
    assert!(matches!(d.end_patrol(&p), Err(Error::NotAllowed { .. })));
}

#[test]
fn companions_are_recorded_once_and_only_those_who_accompany() {
    let w = World::new(&["psc1", "gw1"]);
    let d = w.dev("psc1");
    let p = d.start_patrol(PatrolPlace::Segment("s1".into())).unwrap();
    d.add_companion(&p, "official").unwrap();
    d.add_companion(&p, "police1").unwrap();
    d.add_companion(&p, "gw1").unwrap();
    assert!(matches!(
        d.add_companion(&p, "official"),
        Err(Error::NotAllowed { .. })
    ));
    assert!(matches!(
        d.add_companion(&p, "vol1"),
        Err(Error::NotAllowed { .. })
    ));
    assert!(matches!(
        d.add_companion(&p, "nobody"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        w.dev("gw1").add_companion(&p, "official"),
        Err(Error::NotFound { .. })
    ));
    let v = d.patrol(&p).unwrap();
    assert_eq!(v.state.companions.len(), 3);
    assert!(v.state.history.iter().all(|(_, o)| *o == Outcome::Applied));
}

#[test]
fn a_two_hour_track_stays_small_in_the_store_and_the_outbox() {
    let w = World::new(&["gw1"]);
    let d = w.dev("gw1");
    let p = d.start_patrol(grid("g1")).unwrap();
    d.add_companion(&p, "official").unwrap();
    let pts = fixes(1_440, T0 + 1_000);
    for batch in pts.chunks(12) {
        d.record_track(&p, batch).unwrap();
    }
    w.advance(2 * HOUR);
    d.end_patrol(&p).unwrap();
    let outbox: usize = d
        .outbox(u32::MAX)
        .unwrap()
        .iter()
        .filter(|e| e.case_id == p)
        .map(|e| e.bytes.len())
        .sum();
    let whole = d.export_case(&p).unwrap().len();
    assert!(outbox <= 30_000, "{outbox} bytes to push");
    assert!(whole <= 30_000, "{whole} bytes stored");
    assert_eq!(d.patrol(&p).unwrap().state.points, 1_440);
}

#[test]
fn patrols_reach_other_devices_and_the_weekly_count_follows_the_rule() {
    let w = World::new(&["gw1", "gw2", "cc1", "center", "official"]);
    // T0 is Sunday 2026-11-29 16:00 in China: the week started Monday 2026-11-23.
    for i in 0..2 {
        let p = w.dev("gw1").start_patrol(grid("g1")).unwrap();
        w.dev("gw1").add_companion(&p, "official").unwrap();
        w.dev("gw1")
            .record_track(&p, &fixes(10, T0 + i * HOUR + 1_000))
            .unwrap();
        w.advance(HOUR);
        w.dev("gw1").end_patrol(&p).unwrap();
    }
    let p = w.dev("gw2").start_patrol(grid("g2")).unwrap();
    w.dev("gw2").add_companion(&p, "official").unwrap();
    w.advance(HOUR);
    w.dev("gw2").end_patrol(&p).unwrap();
    w.sync_all();
    // The official confirms gw1's two patrols, not gw2's.
    let awaiting = w.dev("official").accompaniments_awaiting_me().unwrap();
    assert_eq!(awaiting.len(), 3);
    for s in awaiting.iter().filter(|s| s.walker == "gw1") {
        w.dev("official").confirm_accompaniment(&s.id).unwrap();
    }
    w.sync_all();
    assert_eq!(w.dev("cc1").patrols(10).unwrap().len(), 3);
    let all = w.dev("gw1").patrols(10).unwrap();
    assert_eq!(all[0].walker, "gw2", "newest first");
    let gw1 = all[1].id.clone();
    assert_eq!(
        w.dev("cc1").canonical_case(&gw1).unwrap(),
        w.dev("gw1").canonical_case(&gw1).unwrap()
    );
    assert_eq!(w.dev("center").patrol(&gw1).unwrap().track.len(), 10);

    let week = w.dev("center").weekly_accompaniments(T0).unwrap();
    let row = |p: &str| week.iter().find(|r| r.person == p).unwrap().clone();
    assert_eq!(week.len(), 3, "every grid worker of the street");
    assert_eq!((row("gw1").official, row("gw1").meets_rule), (2, true));
    assert_eq!(row("gw1").patrol_ms, 2 * HOUR);
    assert_eq!(
        (row("gw2").official, row("gw2").official_unconfirmed),
        (0, 1)
    );
    assert!(!row("gw2").meets_rule);
    assert_eq!((row("gw3").patrols, row("gw3").meets_rule), (0, false));
    let mine = w.dev("gw2").weekly_accompaniments(T0).unwrap();
    assert_eq!(mine.len(), 1);
    let community = w.dev("cc1").weekly_accompaniments(T0).unwrap();
    assert_eq!(community.len(), 2, "gw1 and gw2 are in c1");
    // Next week starts empty.
    let next = w
        .dev("center")
        .weekly_accompaniments(T0 + 24 * HOUR)
        .unwrap();
    assert!(next.iter().all(|r| r.patrols == 0));
}

#[test]
fn only_the_walker_writes_a_patrol() {
    let w = World::new(&["gw1", "cc1"]);
    let p = w.dev("gw1").start_patrol(grid("g1")).unwrap();
    w.sync_all();
    assert!(matches!(
        w.dev("cc1").end_patrol(&p),
        Err(Error::NotAllowed { .. })
    ));
    assert!(matches!(
        w.dev("cc1").record_track(&p, &fixes(2, T0 + 1)),
        Err(Error::NotAllowed { .. })
    ));
    let v = w.dev("gw1").end_patrol(&p).unwrap();
    let (end, outcome) = v.state.history.last().unwrap();
    assert!(matches!(end.action, PatrolAction::Ended));
    assert!(matches!(end.by, Author::Person(_)));
    assert_eq!(*outcome, Outcome::Applied);
}

#[test]
fn only_the_named_companion_confirms_and_a_confirmation_reaches_the_walker() {
    let w = World::new(&["gw1", "official", "police1", "cc1"]);
    let p = w.dev("gw1").start_patrol(grid("g1")).unwrap();
    w.dev("gw1").add_companion(&p, "official").unwrap();
    w.sync_all();
    // The walker cannot confirm for the official, nor can anybody not named.
    for who in ["gw1", "police1", "cc1"] {
        assert!(
            matches!(
                w.dev(who).confirm_accompaniment(&p),
                Err(Error::NotAllowed { .. })
            ),
            "{who}"
        );
        assert!(w.dev(who).accompaniments_awaiting_me().unwrap().is_empty());
    }
    let awaiting = w.dev("official").accompaniments_awaiting_me().unwrap();
    assert_eq!(awaiting.iter().map(|s| &s.id).collect::<Vec<_>>(), [&p]);
    let v = w.dev("official").confirm_accompaniment(&p).unwrap();
    assert!(v.state.companions[0].is_confirmed());
    assert!(
        w.dev("official")
            .accompaniments_awaiting_me()
            .unwrap()
            .is_empty()
    );
    assert!(w.dev("official").confirm_accompaniment(&p).is_err(), "once");
    w.sync_all();
    let seen = w.dev("gw1").patrol(&p).unwrap();
    assert_eq!(seen.state.companions[0].confirmed_at, Some(T0));
    let (e, o) = seen.state.history.last().unwrap();
    assert!(matches!(e.action, PatrolAction::Confirmed { .. }));
    assert_eq!(*o, Outcome::Applied);
}
