//! Attacks on who vouches for a patrol (三陪同, issue 11 finding 8) and on the roster a device
//! downloads (finding 9), against the real server on 127.0.0.1 with real device stores.
//!
//! Accompaniments: a walker naming an official proves nothing until the official confirms from
//! their own device; a third person's confirmation and a walker's forged one are refused as
//! tampering, and the honest devices keep syncing.
//!
//! Roster: `GET /v1/org` gives each role its view (a resident: no phone numbers, no staff list
//! beyond the people routing names), computed per request from the published roster; a
//! person removed from the roster by a publish has their devices revoked (401).

use automerge::ActorId;
use xiangying_core::case::{Claim, Status};
use xiangying_core::document::Document;
use xiangying_core::org::{Role, Roster, Scope, sample};
use xiangying_core::patrol::{PatrolAction, PatrolDoc, PatrolEvent, PatrolPlace};
use xiangying_core::{NewReport, NewRequest};
use xiangying_server::{admin, reports};
use xiangying_tests::attack::assert_healthy;
use xiangying_tests::{Field, pg_url, post_sync, push_raw, sample_org, token_of};

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
    assert_healthy(&f);
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
    assert_healthy(&f);
    let row = server_row(&f, "gw1");
    assert_eq!((row.official, row.official_unconfirmed), (0, 1));
}

/// `GET /v1/org` with `person`'s token: the status and, on 200, the roster view.
fn org_of(f: &Field, person: &str) -> (u16, Option<Roster>) {
    let resp = xiangying_tests::http()
        .get(format!("{}/v1/org", f.server.url()))
        .bearer_auth(token_of(f, person))
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    if status != 200 {
        return (status, None);
    }
    let body: serde_json::Value = resp.json().unwrap();
    let roster = Roster::from_json("view", &body["roster"].to_string()).unwrap();
    (status, Some(roster))
}

fn people(r: &Roster) -> Vec<&str> {
    r.people.iter().map(|p| p.id.as_str()).collect()
}

fn with_phone(r: &Roster) -> Vec<&str> {
    r.people
        .iter()
        .filter(|p| !p.phone.is_empty())
        .map(|p| p.id.as_str())
        .collect()
}

#[test]
fn a_residents_roster_has_no_phone_numbers_and_not_the_staff_list_and_still_works() {
    let mut f = Field::new(sample_org());
    for p in ["res1", "vol1", "cc1", "center"] {
        f.enrol(p);
    }
    let full = f.dev_roster();
    for who in ["res1", "vol1"] {
        let (status, view) = org_of(&f, who);
        assert_eq!(status, 200);
        let view = view.unwrap();
        assert!(
            with_phone(&view).is_empty(),
            "{who}: {:?}",
            with_phone(&view)
        );
        let listed = people(&view);
        for staff in ["center", "official", "police1", "enf1", "inf1"] {
            assert!(!listed.contains(&staff), "{who} sees {staff}");
        }
        assert!(
            listed.len() < full.people.len() / 2 + 2,
            "{who}: {listed:?}"
        );
        // Every place, for routing.
        assert_eq!(view.grids, full.grids);
        assert_eq!(view.segments, full.segments);
    }
    // The device installed its view at enrolment: no phone number on the phone either.
    let installed = f.dev("res1").roster().unwrap();
    assert!(with_phone(&installed).is_empty());
    assert!(installed.person("official").is_none());
    // And still works: a request is routed to the community chief, who receives it.
    let r = f
        .dev("res1")
        .request(&NewRequest {
            category: sample::HELP.into(),
            location: sample::IN_G1,
            grid: None,
            description: "求助".into(),
        })
        .unwrap();
    f.settle();
    assert_eq!(f.dev("cc1").inbox(10).unwrap()[0].id, r);
    assert_healthy(&f);
    // The centre still gets everybody with their phone numbers.
    let centre = org_of(&f, "center").1.unwrap();
    assert_eq!(people(&centre), people(&full));
    assert_eq!(with_phone(&centre).len(), full.people.len());
}

#[test]
fn a_grid_worker_and_a_street_chief_still_route_forward_and_pick_companions() {
    let mut f = Field::new(sample_org());
    for p in ["psc1", "gw1", "cc1"] {
        f.enrol(p);
    }
    let gw1 = org_of(&f, "gw1").1.unwrap();
    assert!(
        people(&gw1).contains(&"res1"),
        "the residents of their grid"
    );
    assert!(
        !people(&gw1).contains(&"vol1"),
        "not the community's volunteers"
    );
    assert!(gw1.person("official").is_some_and(|p| !p.phone.is_empty()));
    // The street chief routes a report to g1 and forwards it to its grid worker.
    let (id, route) = f
        .dev("psc1")
        .report_routed(&NewReport {
            category: sample::MANHOLE.into(),
            location: sample::IN_G1,
            grid: None,
            segment: None,
            description: "井盖缺失".into(),
        })
        .unwrap();
    assert_eq!(route.grid, "g1");
    f.dev("psc1").forward(&id, "请网格员处理").unwrap();
    f.settle();
    assert_eq!(f.dev("gw1").inbox(10).unwrap()[0].id, id);
    f.dev("gw1").accept(&id).unwrap();
    f.dev("gw1").escalate(&id, "需要社区协调").unwrap();
    f.settle();
    assert_eq!(
        f.dev("cc1").case(&id).unwrap().state.status,
        Status::Escalated
    );
    // Companions are picked from the view: an official on the grid worker's patrol, the grid
    // worker on the street chief's.
    let p = f
        .dev("gw1")
        .start_patrol(PatrolPlace::Grid("g1".into()))
        .unwrap();
    f.dev("gw1").add_companion(&p, "official").unwrap();
    let s = f
        .dev("psc1")
        .start_patrol(PatrolPlace::Segment("s1".into()))
        .unwrap();
    f.dev("psc1").add_companion(&s, "gw1").unwrap();
    f.dev("psc1").add_companion(&s, "police1").unwrap();
    f.settle();
}

/// The sample roster without `person`, as JSON.
fn roster_without(person: &str) -> String {
    let mut r = sample::roster().unwrap();
    r.people.retain(|p| p.id != person);
    serde_json::to_string(&r).unwrap()
}

fn removed_person_is_revoked(mut f: Field) {
    for p in ["police1", "gw1", "center"] {
        f.enrol(p);
    }
    f.settle();
    let token = token_of(&f, "police1");
    assert_eq!(org_of(&f, "police1").0, 200);
    let state = f.state();
    // A code issued before the removal and used after it.
    let code = admin::issue_code(state.storage.as_ref(), "police1").unwrap();
    admin::publish(
        state.storage.as_ref(),
        &roster_without("police1"),
        &sample_org().1,
    )
    .unwrap();
    // Every device of the removed person: 401 on every route, at once.
    assert_eq!(org_of(&f, "police1").0, 401);
    let empty = xiangying_core::sync::wire::encode(&xiangying_core::sync::wire::SyncRequest {
        push: Vec::new(),
        cursor: 0,
        max_feed_bytes: 1024,
        org_version: 0,
    })
    .unwrap();
    let (status, _) = post_sync(&f, Some(&token), empty);
    assert_eq!(status, 401);
    assert!(f.dev("police1").sync_now(&|_| {}).is_err());
    let devices = admin::devices(state.storage.as_ref()).unwrap();
    assert!(
        devices.iter().all(|d| d.revoked == (d.person == "police1")),
        "{devices:?}"
    );
    // The late code enrols a device that gets no roster (and so cannot set up).
    let late = "f".repeat(40);
    let client = xiangying_tests::http();
    let enrolled = client
        .post(format!("{}/v1/enrol", f.server.url()))
        .json(&serde_json::json!({"code": code, "token": late, "device_name": "late"}))
        .send()
        .unwrap();
    assert_eq!(enrolled.status().as_u16(), 200);
    let org = client
        .get(format!("{}/v1/org", f.server.url()))
        .bearer_auth(&late)
        .send()
        .unwrap();
    assert_eq!(org.status().as_u16(), 401);
    assert_healthy(&f);
    // The others keep syncing and take in the new roster.
    f.dev("gw1").sync_now(&|_| {}).unwrap();
    f.dev("center").sync_now(&|_| {}).unwrap();
    assert!(
        f.dev("center")
            .roster()
            .unwrap()
            .person("police1")
            .is_none()
    );
}

#[test]
fn a_person_removed_from_the_roster_has_their_devices_revoked_sqlite() {
    removed_person_is_revoked(Field::new(sample_org()));
}

#[test]
fn a_person_removed_from_the_roster_has_their_devices_revoked_postgres() {
    removed_person_is_revoked(Field::with_backend(
        sample_org(),
        Some((pg_url(), "attack_roster_revoke".into())),
        Default::default(),
    ));
}

#[test]
fn the_view_follows_the_published_roster_and_the_callers_role_per_request() {
    let mut f = Field::new(sample_org());
    for p in ["res1", "gw1"] {
        f.enrol(p);
    }
    assert!(with_phone(&org_of(&f, "res1").1.unwrap()).is_empty());
    // res1 becomes the grid's informant (staff) and gw1 changes number.
    let mut r = sample::roster().unwrap();
    for p in r.people.iter_mut() {
        match p.id.as_str() {
            "res1" => p.role = Role::GridInformant,
            "gw1" => p.phone = "139-1111-2222".into(),
            _ => {}
        }
    }
    let state = f.state();
    admin::publish(
        state.storage.as_ref(),
        &serde_json::to_string(&r).unwrap(),
        &sample_org().1,
    )
    .unwrap();
    let now_staff = org_of(&f, "res1").1.unwrap();
    assert!(now_staff.person("official").is_some());
    assert_eq!(now_staff.person("gw1").unwrap().phone, "139-1111-2222");
    assert!(now_staff.person("vol1").is_none(), "still no volunteers");
    f.settle();
    assert_eq!(
        f.dev("res1").roster().unwrap().person("gw1").unwrap().phone,
        "139-1111-2222"
    );
}
