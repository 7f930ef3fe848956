//! Attacks on who vouches for a patrol (三陪同, issue 11 finding 8) and on the roster a device
//! downloads (finding 9), against the real server on 127.0.0.1 with real device stores.
//!
//! Accompaniments: a walker naming an official proves nothing until the official confirms from
//! their own device; a third person's confirmation and a walker's forged one are refused as
//! tampering, and the honest devices keep syncing.

use automerge::ActorId;
use xiangying_core::case::Claim;
use xiangying_core::org::{Role, Scope};
use xiangying_core::patrol::{PatrolAction, PatrolDoc, PatrolEvent, PatrolPlace};
use xiangying_server::reports;
use xiangying_tests::{Field, push_raw, sample_org};

fn claim(person: &str, role: Role, scope: Scope) -> Claim {
    Claim {
        person: person.into(),
        role,
        scope,
    }
}

fn official() -> Claim {
    claim("official", Role::StreetOfficial, Scope::Street)
}

/// gw1 walks g1 naming the official; returns the patrol id and its accompaniment entry id.
fn walk_with_official(f: &Field) -> (String, String) {
    let gw1 = f.dev("gw1");
    let p = gw1.start_patrol(PatrolPlace::Grid("g1".into())).unwrap();
    let v = gw1.add_companion(&p, "official").unwrap();
    gw1.end_patrol(&p).unwrap();
    (p, v.state.companions[0].event.clone())
}

/// A hand-made change appending `entry` to `holder`'s copy of patrol `p`.
fn appended_entry(f: &Field, holder: &str, p: &str, entry: &PatrolEvent) -> Vec<u8> {
    let bytes = f.dev(holder).export_case(p).unwrap();
    let mut doc = PatrolDoc::load(&bytes, &ActorId::random()).unwrap();
    doc.append_event(entry).unwrap()
}

fn confirmation(by: Claim, accompaniment: &str) -> PatrolEvent {
    PatrolEvent::new(
        1,
        by,
        PatrolAction::Confirmed {
            accompaniment: accompaniment.into(),
        },
    )
}

fn server_row(f: &Field, person: &str) -> xiangying_core::patrol::weekly::WeeklyAccompaniment {
    let now = f.dev("gw1").now();
    reports::accompaniments(f.state().storage.as_ref(), now)
        .unwrap()
        .into_iter()
        .find(|r| r.person == person)
        .unwrap()
}

/// `YYYY-MM-DD` of `ms` in China time (days to civil date, H. Hinnant's algorithm).
fn china_date(ms: i64) -> String {
    let z = (ms + 8 * 3_600_000).div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[test]
fn an_official_who_never_confirms_counts_as_unconfirmed_and_confirming_counts_everywhere() {
    let mut f = Field::new(sample_org());
    for p in ["gw1", "official", "center"] {
        f.enrol(p);
    }
    let (a, _) = walk_with_official(&f);
    let (b, _) = walk_with_official(&f);
    f.settle();
    // Named twice, confirmed never: the rule is not met, on the server and on every device.
    let row = server_row(&f, "gw1");
    assert_eq!(
        (
            row.patrols,
            row.official,
            row.official_unconfirmed,
            row.meets_rule
        ),
        (2, 0, 2, false)
    );
    let now = f.dev("gw1").now();
    let server_week = reports::accompaniments(f.state().storage.as_ref(), now).unwrap();
    assert_eq!(
        f.dev("center").weekly_accompaniments(now).unwrap(),
        server_week
    );
    assert_eq!(
        f.dev("gw1").weekly_accompaniments(now).unwrap(),
        vec![row.clone()]
    );

    // The patrols reached the official's device, which lists them to confirm.
    let mut awaiting: Vec<String> = f
        .dev("official")
        .accompaniments_awaiting_me()
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    awaiting.sort();
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(awaiting, both);
    f.dev("official").confirm_accompaniment(&a).unwrap();
    f.settle();
    let row = server_row(&f, "gw1");
    assert_eq!(
        (row.official, row.official_unconfirmed, row.meets_rule),
        (1, 1, false)
    );
    f.dev("official").confirm_accompaniment(&b).unwrap();
    f.settle();
    let row = server_row(&f, "gw1");
    assert_eq!(
        (row.official, row.official_unconfirmed, row.meets_rule),
        (2, 0, true)
    );
    // The same on every device: the walker, the official and the centre.
    let server_week = reports::accompaniments(f.state().storage.as_ref(), now).unwrap();
    assert_eq!(
        f.dev("center").weekly_accompaniments(now).unwrap(),
        server_week
    );
    assert_eq!(f.dev("gw1").weekly_accompaniments(now).unwrap(), vec![row]);
    for who in ["gw1", "official", "center"] {
        let v = f.dev(who).patrol(&a).unwrap();
        assert!(v.state.companions[0].is_confirmed(), "{who}");
    }
    assert!(
        f.dev("official")
            .accompaniments_awaiting_me()
            .unwrap()
            .is_empty()
    );
    // The admin table shows the confirmed column.
    let table =
        reports::accompaniments_table(f.state().storage.as_ref(), &china_date(now)).unwrap();
    assert!(table.contains("已确认"), "{table}");
    let gw1_line = table.lines().find(|l| l.starts_with("gw1\t")).unwrap();
    assert!(gw1_line.ends_with("\t2\t0\t0\t0\t是"), "{gw1_line}");
}

#[test]
fn a_third_person_confirming_is_refused_as_tampering() {
    let mut f = Field::new(sample_org());
    for p in ["gw1", "official", "cc1"] {
        f.enrol(p);
    }
    let (p, with) = walk_with_official(&f);
    f.settle();
    // cc1 sees the patrol (its community) and signs a confirmation of the official's
    // accompaniment as themself.
    let cc1 = claim("cc1", Role::CommunityChief, Scope::Community("c1".into()));
    let forged = appended_entry(&f, "cc1", &p, &confirmation(cc1.clone(), &with));
    let (status, body) = push_raw(&f, "cc1", &p, forged);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("device belongs to cc1"), "{body}");
    assert!(body.contains("official, the companion"), "{body}");
    // Signing as the official instead: refused too.
    let as_official = appended_entry(&f, "cc1", &p, &confirmation(official(), &with));
    let (status, body) = push_raw(&f, "cc1", &p, as_official);
    assert_eq!(status, 403, "{body}");
    // Nothing changed: still unconfirmed; the official then confirms as usual.
    assert_eq!(server_row(&f, "gw1").official_unconfirmed, 1);
    f.dev("official").confirm_accompaniment(&p).unwrap();
    f.dev("official").sync_now(&|_| {}).unwrap();
    f.dev("gw1").sync_now(&|_| {}).unwrap();
    assert_eq!(server_row(&f, "gw1").official, 1);
    assert!(f.dev("gw1").patrol(&p).unwrap().state.companions[0].is_confirmed());
}

#[test]
fn the_walker_forging_the_officials_confirmation_is_refused_as_tampering() {
    let mut f = Field::new(sample_org());
    for p in ["gw1", "official"] {
        f.enrol(p);
    }
    let (p, with) = walk_with_official(&f);
    f.settle();
    // Signed as the official, pushed by the walker.
    let forged = appended_entry(&f, "gw1", &p, &confirmation(official(), &with));
    let (status, body) = push_raw(&f, "gw1", &p, forged);
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("claims to be by official") && body.contains("device belongs to gw1"),
        "{body}"
    );
    // Signed as the walker: a walker does not confirm their own companions.
    let gw1 = claim("gw1", Role::GridWorker, Scope::Grid("g1".into()));
    let own = appended_entry(&f, "gw1", &p, &confirmation(gw1, &with));
    let (status, body) = push_raw(&f, "gw1", &p, own);
    assert_eq!(status, 403, "{body}");
    // The official may confirm but not write anything else: ending the patrol is refused.
    let ended = appended_entry(
        &f,
        "official",
        &p,
        &PatrolEvent::new(1, official(), PatrolAction::Ended),
    );
    let (status, body) = push_raw(&f, "official", &p, ended);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("gw1, the walker"), "{body}");
    let row = server_row(&f, "gw1");
    assert_eq!((row.official, row.official_unconfirmed), (0, 1));
}
