//! Patrols through a real server: a two-hour track synced in a few kilobytes, patrols reaching
//! exactly the devices whose scope holds them, the same patrol figures on the server and on a
//! device, the weekly accompaniment count, tampering with a patrol refused, and a walker's
//! stale claim voiding the patrol rather than refusing it.

use automerge::{ReadDoc, ScalarValue, transaction::Transactable};
use xiangying_core::org::{Scope, sample};
use xiangying_core::patrol::{PatrolPlace, TrackPoint};
use xiangying_core::report::UnitKind;
use xiangying_server::{admin, reports};
use xiangying_tests::{Field, hand_change, push_raw, sample_org};

const HOUR: i64 = 3_600_000;

fn fixes(n: usize, start: i64) -> Vec<TrackPoint> {
    (0..n)
        .map(|i| TrackPoint {
            at: start + i as i64 * 5_000,
            lon: sample::IN_G1.lon + 0.00004 * (i as f64 * 0.3).sin(),
            lat: sample::IN_G1.lat + 0.00003 * (i as f64 * 0.1).cos(),
            accuracy_m: 5.0,
        })
        .collect()
}

/// gw1 walks g1 for two hours with the official; psc1 walks s1 with gw1 and police1.
fn two_patrols(f: &Field) -> (String, String) {
    let gw1 = f.dev("gw1");
    let p = gw1.start_patrol(PatrolPlace::Grid("g1".into())).unwrap();
    gw1.add_companion(&p, "official").unwrap();
    let start = gw1.patrol(&p).unwrap().facts.started_at;
    for batch in fixes(1_440, start + 1).chunks(12) {
        gw1.record_track(&p, batch).unwrap();
    }
    gw1.end_patrol(&p).unwrap();
    let psc1 = f.dev("psc1");
    let s = psc1
        .start_patrol(PatrolPlace::Segment("s1".into()))
        .unwrap();
    psc1.add_companion(&s, "gw1").unwrap();
    psc1.add_companion(&s, "police1").unwrap();
    psc1.end_patrol(&s).unwrap();
    (p, s)
}

#[test]
fn patrols_sync_compactly_to_their_scope_and_count_the_same_everywhere() {
    let mut f = Field::new(sample_org());
    for p in [
        "gw1", "gw3", "psc1", "cc1", "cc2", "center", "official", "police1",
    ] {
        f.enrol(p);
    }
    let (p, s) = two_patrols(&f);
    let pushed = f.dev("gw1").sync_now(&|_| {}).unwrap();
    assert!(
        pushed.change_bytes_sent <= 30_000,
        "a two-hour track pushed {} change bytes",
        pushed.change_bytes_sent
    );
    assert!(
        pushed.bytes_sent <= 31_000,
        "{} bytes on the wire",
        pushed.bytes_sent
    );
    f.settle();
    // Each companion confirms from their own device; only confirmed accompaniments count.
    f.dev("official").confirm_accompaniment(&p).unwrap();
    f.dev("gw1").confirm_accompaniment(&s).unwrap();
    f.dev("police1").confirm_accompaniment(&s).unwrap();
    f.settle();

    let held = |who: &str| -> Vec<String> {
        let mut ids: Vec<String> = f
            .dev(who)
            .patrols(10)
            .unwrap()
            .into_iter()
            .map(|x| x.id)
            .collect();
        ids.sort();
        ids
    };
    let mut both = vec![p.clone(), s.clone()];
    both.sort();
    assert_eq!(held("cc1"), both, "the community chief of c1");
    assert_eq!(held("center"), both);
    assert_eq!(held("gw1"), both, "gw1 walked along on s1");
    assert_eq!(
        held("police1"),
        vec![s.clone()],
        "police1 walked along on s1"
    );
    assert!(held("cc2").is_empty() && held("gw3").is_empty());
    for who in ["cc1", "center", "official"] {
        assert_eq!(
            f.dev(who).canonical_case(&p).unwrap(),
            f.dev("gw1").canonical_case(&p).unwrap(),
            "{who}"
        );
    }
    assert_eq!(f.dev("center").patrol(&p).unwrap().track.len(), 1_440);

    // The server and the centre's device give the same figures.
    let now = f.dev("center").now();
    let (from, to) = (now - 24 * HOUR, now + 24 * HOUR);
    let state = f.state();
    let server = reports::rankings(state.storage.as_ref(), from, to).unwrap();
    let device = f.dev("center").rankings(from, to).unwrap();
    assert_eq!(server, device);
    let unit = |k: UnitKind, id: &str| {
        server
            .by(k)
            .iter()
            .find(|u| u.unit == id)
            .unwrap_or_else(|| panic!("{id}"))
            .figures
    };
    assert_eq!(
        (
            unit(UnitKind::Grid, "g1").patrols,
            unit(UnitKind::Grid, "g1").accompanied
        ),
        (1, 1)
    );
    assert_eq!(unit(UnitKind::Community, "c1").patrols, 2);
    assert_eq!(unit(UnitKind::Person, "gw1").accompaniments, 1);
    assert_eq!(unit(UnitKind::Department, "police").accompaniments, 1);
    assert_eq!(unit(UnitKind::Person, "official").accompaniments, 1);

    let week = reports::accompaniments(state.storage.as_ref(), now).unwrap();
    let gw1 = week.iter().find(|r| r.person == "gw1").unwrap();
    // The official confirmed from their own device; one accompaniment is short of the rule.
    assert_eq!(
        (gw1.patrols, gw1.official, gw1.official_unconfirmed),
        (1, 1, 0)
    );
    assert!(!gw1.meets_rule);
    assert_eq!(week.len(), 3, "every grid worker of the roster");
    assert_eq!(f.dev("center").weekly_accompaniments(now).unwrap(), week);
}

#[test]
fn writing_to_somebody_elses_patrol_or_editing_a_track_is_refused() {
    let mut f = Field::new(sample_org());
    for p in ["gw1", "psc1", "cc1"] {
        f.enrol(p);
    }
    let (p, _) = two_patrols(&f);
    f.settle();
    let extra = hand_change(&f, "cc1", &p, "track", |doc, track| {
        let n = doc.length(track);
        doc.insert(track, n, ScalarValue::Bytes(vec![1, 0]))
            .unwrap();
    });
    let (status, body) = push_raw(&f, "cc1", &p, extra);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("device belongs to cc1"), "{body}");

    let edited = hand_change(&f, "gw1", &p, "track", |doc, track| {
        doc.put(track, 0, ScalarValue::Bytes(vec![1, 0])).unwrap();
    });
    let (status, body) = push_raw(&f, "gw1", &p, edited);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("edits or deletes in `track`"), "{body}");
    // Nobody else is affected.
    f.dev("psc1").sync_now(&|_| {}).unwrap();
}

#[test]
fn a_walker_moved_while_offline_has_the_patrol_voided_not_refused() {
    let mut f = Field::new(sample_org());
    for p in ["gw1", "center"] {
        f.enrol(p);
    }
    let p = f
        .dev("gw1")
        .start_patrol(PatrolPlace::Grid("g1".into()))
        .unwrap();
    f.dev("gw1").add_companion(&p, "official").unwrap();
    f.dev("gw1").end_patrol(&p).unwrap();
    let mut roster = sample::roster().unwrap();
    for person in roster.people.iter_mut() {
        match person.id.as_str() {
            "gw1" => person.scope = Scope::Grid("g3".into()),
            "gw3" => person.scope = Scope::Grid("g1".into()),
            _ => {}
        }
    }
    let roster = serde_json::to_string(&roster).unwrap();
    let state = f.state();
    admin::publish(state.storage.as_ref(), &roster, &sample_org().1).unwrap();
    f.settle();
    let v = f.dev("gw1").patrol(&p).unwrap();
    assert!(
        v.state.voided.as_deref().is_some_and(|r| r.contains("g3")),
        "{:?}",
        v.state.voided
    );
    let now = f.dev("center").now();
    let week = reports::accompaniments(state.storage.as_ref(), now).unwrap();
    assert!(week.iter().all(|r| r.patrols == 0), "{week:?}");
    assert_eq!(
        f.dev("center").patrol(&p).unwrap().state.voided,
        v.state.voided
    );
}
