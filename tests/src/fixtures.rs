//! Compatibility fixtures: bytes written by one build, committed under
//! `tests/fixtures/compat/gen<N>/`, that every later build must still read.
//!
//! [`write_generation`] runs a scripted street day through real devices and a real server and
//! writes what that build produced: case and patrol documents in every state (with what they
//! fold to), single changes, push and feed bodies, a device store and a server data folder
//! (SQLite) and database dump (PostgreSQL). A generation is written once, by the build it
//! records, and never edited: a change that stops a later build from reading one adds a new
//! generation beside it (docs/decisions/0020-compatibility-rules.md).

use crate::{Field, drop_schema, post_sync, sample_org, token_of};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use xiangying_core::case::{CaseDoc, PhotoStage};
use xiangying_core::document::Document;
use xiangying_core::org::sample;
use xiangying_core::patrol::{PatrolDoc, PatrolPlace, TrackPoint, fold_patrol_doc};
use xiangying_core::sync::synced::SyncedDoc;
use xiangying_core::sync::wire::{self, PushedChange, SyncRequest, SyncResponse};
use xiangying_core::{NewReport, NewRequest};
use xiangying_server::state::Limits;

/// The folder holding every generation.
pub fn compat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/compat")
}

/// Every generation folder, oldest first.
pub fn generations() -> Vec<PathBuf> {
    let mut gens: Vec<_> = std::fs::read_dir(compat_dir())
        .expect("fixtures/compat")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    gens.sort();
    assert!(!gens.is_empty(), "no fixture generation");
    gens
}

/// The people of the scripted day.
pub const PEOPLE: [&str; 12] = [
    "center", "cc1", "cc2", "gw1", "gw3", "psc1", "official", "police1", "vol1", "res1", "inf1",
    "msc1",
];

/// What a case document folds to, as the fixture records it.
pub fn case_summary(doc: &CaseDoc) -> Value {
    let facts = doc.facts().expect("facts");
    let events = doc.events().expect("events");
    let state = xiangying_core::case::fold(&facts, &events);
    json!({
        "case_id": facts.id,
        "number": doc.number(),
        "category": facts.category,
        "reporter": facts.reporter,
        "grid": facts.grid,
        "status": state.status.as_str(),
        "level": state.level.as_str(),
        "assignee": serde_json::to_value(&state.assignee).expect("assignee"),
        "handled_on_spot": state.handled_on_spot,
        "duplicate_of": state.duplicate_of,
        "reworks": state.reworks,
        "extensions": state.extensions,
        "events": events.iter().map(|e| json!({
            "id": e.id,
            "by": e.by.person(),
            "type": serde_json::to_value(&e.action).expect("action")["type"].clone(),
        })).collect::<Vec<_>>(),
        "photos": doc.photos().expect("photos").iter().map(|p| p.hash.clone()).collect::<Vec<_>>(),
    })
}

/// What a patrol document folds to, as the fixture records it.
pub fn patrol_summary(doc: &PatrolDoc) -> Value {
    let (facts, state) = fold_patrol_doc(doc).expect("fold");
    json!({
        "patrol_id": facts.id,
        "walker": facts.walker.person,
        "community": facts.community,
        "ended": state.ended_at.is_some(),
        "voided": state.voided.is_some(),
        "companions": state.companions.iter().map(|c| serde_json::to_value(c).expect("companion")).collect::<Vec<_>>(),
        "points": state.points,
        "events": doc.events().expect("events").iter().map(|e| json!({
            "id": e.id,
            "type": serde_json::to_value(&e.action).expect("action")["type"].clone(),
        })).collect::<Vec<_>>(),
    })
}

fn report(at: xiangying_core::org::Point, what: &str) -> NewReport {
    NewReport {
        category: sample::MANHOLE.into(),
        location: at,
        grid: None,
        segment: None,
        description: what.into(),
    }
}

fn photo(seed: u8) -> Vec<u8> {
    crate::world::tiny_photo(usize::from(seed))
}

fn fixes(start: i64, n: usize) -> Vec<TrackPoint> {
    (0..n)
        .map(|i| TrackPoint {
            at: start + i as i64 * 5_000,
            lon: sample::IN_G1.lon + 0.00004 * (i as f64 * 0.3).sin(),
            lat: sample::IN_G1.lat + 0.00003 * (i as f64 * 0.1).cos(),
            accuracy_m: 5.0,
        })
        .collect()
}

/// Writes `bytes` to `dir/name`.
fn put(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

fn put_json(dir: &Path, name: &str, v: &Value) {
    put(
        dir,
        name,
        format!("{}\n", serde_json::to_string_pretty(v).expect("json")).as_bytes(),
    );
}

/// A consistent single-file copy of a SQLite database.
fn vacuum_into(db: &Path, out: &Path) {
    std::fs::create_dir_all(out.parent().expect("parent")).expect("mkdir");
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute("VACUUM INTO ?1", [out.to_str().expect("utf-8 path")])
        .expect("vacuum into");
}

/// Copies a folder recursively (fixtures are copied before they are opened, never opened in
/// place).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

/// The scripted day's ids.
struct Day {
    cases: Vec<(String, String)>,
    patrols: Vec<(String, String)>,
}

/// Runs the scripted street day on `f`, writing document snapshots into `out` as it goes
/// (when given).
fn street_day(f: &mut Field, out: Option<&Path>) -> Day {
    for p in PEOPLE {
        f.enrol(p);
    }
    let mut day = Day {
        cases: Vec::new(),
        patrols: Vec::new(),
    };
    let snap = |f: &Field, name: &str, id: &str, holder: &str, day: &mut Day| {
        f.settle();
        let bytes = f.dev(holder).export_case(id).expect("export");
        if let Some(out) = out {
            let doc = CaseDoc::load(&bytes, &automerge::ActorId::random()).expect("load");
            put(out, &format!("cases/{name}.automerge"), &bytes);
            put_json(out, &format!("cases/{name}.json"), &case_summary(&doc));
        }
        day.cases.push((name.to_string(), id.to_string()));
    };

    // A: the long way: report with a photo, forward, accept, escalate twice, dispatch,
    // resolve with evidence, rework, resolve again, verify, close.
    let a = f
        .dev("psc1")
        .report_with_photos(&report(sample::IN_G1, "井盖缺失"), &[&photo(1)])
        .expect("report");
    snap(f, "a01-reported", &a, "psc1", &mut day);
    f.dev("psc1").forward(&a, "请网格员处理").expect("forward");
    snap(f, "a02-forwarded", &a, "psc1", &mut day);
    f.dev("gw1").accept(&a).expect("accept");
    f.dev("gw1").note(&a, "已到现场").expect("note");
    snap(f, "a03-accepted", &a, "gw1", &mut day);
    f.dev("gw1").escalate(&a, "需要社区协调").expect("escalate");
    snap(f, "a04-escalated-community", &a, "gw1", &mut day);
    f.dev("cc1").accept(&a).expect("accept");
    f.dev("cc1").escalate(&a, "需要执法").expect("escalate");
    snap(f, "a05-escalated-street", &a, "cc1", &mut day);
    f.dev("center")
        .dispatch(&a, &["police".into()], "请派出所处置")
        .expect("dispatch");
    f.dev("center").extend(&a, 8, "等待配件").expect("extend");
    snap(f, "a06-dispatched-extended", &a, "center", &mut day);
    let evidence = f
        .dev("police1")
        .attach_photo(&a, &photo(2), PhotoStage::After)
        .expect("photo");
    f.dev("police1")
        .resolve(&a, "已更换井盖", std::slice::from_ref(&evidence.hash))
        .expect("resolve");
    snap(f, "a07-resolved", &a, "police1", &mut day);
    f.dev("center").rework(&a, "井盖未固定").expect("rework");
    f.settle();
    f.dev("police1")
        .resolve(&a, "已固定", &[evidence.hash])
        .expect("resolve");
    snap(f, "a08-reworked-resolved", &a, "police1", &mut day);
    f.dev("center").verify(&a, "核查无误").expect("verify");
    snap(f, "a09-verified", &a, "center", &mut day);
    f.dev("center").close(&a, "办结").expect("close");
    snap(f, "a10-closed", &a, "center", &mut day);

    // B: settled on the spot by a street chief, with after photos.
    let b = f
        .dev("psc1")
        .report_with_photos(&report(sample::IN_G1, "垃圾散落"), &[&photo(3)])
        .expect("report");
    let after = f
        .dev("psc1")
        .attach_photo(&b, &photo(4), PhotoStage::After)
        .expect("photo");
    f.dev("psc1")
        .handle_on_spot(&b, "已清理", &[after.hash])
        .expect("on the spot");
    snap(f, "b-handled-on-spot", &b, "psc1", &mut day);

    // C: withdrawn as a mistake; D: a duplicate of A.
    let c = f
        .dev("psc1")
        .report(&report(sample::IN_G1, "误报"))
        .expect("report");
    f.dev("psc1").void(&c, "误报").expect("void");
    snap(f, "c-voided", &c, "psc1", &mut day);
    let d = f
        .dev("psc1")
        .report(&report(sample::IN_G1, "井盖缺失（重复）"))
        .expect("report");
    f.dev("psc1").forward(&d, "").expect("forward");
    f.settle();
    f.dev("gw1").mark_duplicate(&d, &a).expect("duplicate");
    snap(f, "d-duplicate", &d, "gw1", &mut day);

    // R: a resident's request, dispatched to volunteers, claimed, resolved.
    let r = f
        .dev("res1")
        .request(&NewRequest {
            category: sample::HELP.into(),
            location: sample::IN_G1,
            grid: None,
            description: "老人需要帮忙取药".into(),
        })
        .expect("request");
    snap(f, "r01-requested", &r, "res1", &mut day);
    f.dev("cc1")
        .dispatch_to_volunteers(&r, "请志愿者帮忙")
        .expect("dispatch");
    snap(f, "r02-dispatched-to-volunteers", &r, "cc1", &mut day);
    f.dev("vol1").claim_request(&r).expect("claim");
    snap(f, "r03-claimed", &r, "vol1", &mut day);
    f.dev("vol1").resolve(&r, "已送药", &[]).expect("resolve");
    snap(f, "r04-resolved", &r, "vol1", &mut day);

    // Patrols: one walked with a confirmed companion and ended, one still walking.
    let psnap = |f: &Field, name: &str, id: &str, holder: &str, day: &mut Day| {
        f.settle();
        let bytes = f.dev(holder).export_case(id).expect("export");
        if let Some(out) = out {
            let doc = PatrolDoc::load(&bytes, &automerge::ActorId::random()).expect("load");
            put(out, &format!("patrols/{name}.automerge"), &bytes);
            put_json(out, &format!("patrols/{name}.json"), &patrol_summary(&doc));
        }
        day.patrols.push((name.to_string(), id.to_string()));
    };
    let gw1 = f.dev("gw1");
    let p = gw1
        .start_patrol(PatrolPlace::Grid("g1".into()))
        .expect("start");
    gw1.add_companion(&p, "official").expect("companion");
    let start = gw1.patrol(&p).expect("patrol").facts.started_at;
    for batch in fixes(start + 1, 120).chunks(12) {
        gw1.record_track(&p, batch).expect("track");
    }
    gw1.end_patrol(&p).expect("end");
    psnap(f, "p1-ended-unconfirmed", &p, "gw1", &mut day);
    f.dev("official")
        .confirm_accompaniment(&p)
        .expect("confirm");
    psnap(f, "p2-ended-confirmed", &p, "gw1", &mut day);
    let s = f
        .dev("psc1")
        .start_patrol(PatrolPlace::Segment("s1".into()))
        .expect("start");
    let s_start = f.dev("psc1").patrol(&s).expect("patrol").facts.started_at;
    f.dev("psc1")
        .record_track(&s, &fixes(s_start + 1, 24))
        .expect("track");
    psnap(f, "p3-walking", &s, "psc1", &mut day);
    day
}

/// Writes the next generation (`tests/fixtures/compat/gen<n>`), refusing to touch one that
/// exists. PostgreSQL at `pg` (a URL) gets the same day in the schema `compat_gen<n>`, dumped
/// with `pg_dump` (the binary at `pg_dump`).
pub fn write_generation(n: u32, pg: Option<(&str, &Path)>) {
    let out = compat_dir().join(format!("gen{n}"));
    assert!(
        !out.exists(),
        "{} exists: generations are never rewritten",
        out.display()
    );
    std::fs::create_dir_all(&out).expect("mkdir");

    // SQLite: the day with documents, then wire bodies and single changes, then the stores.
    let mut f = Field::new(sample_org());
    let day = street_day(&mut f, Some(&out));

    // A single change: gw1 notes on A offline; the base document and the change.
    let a = &day.cases[0].1;
    let base = f.dev("gw1").export_case(a).expect("export");
    f.dev("gw1").note(a, "补充说明").expect("note");
    let entry = f
        .dev("gw1")
        .outbox(10)
        .expect("outbox")
        .pop()
        .expect("entry");
    put(&out, "changes/a-base.automerge", &base);
    put(&out, "changes/a-note.change", &entry.bytes);
    let mut doc = CaseDoc::load(&base, &automerge::ActorId::random()).expect("load");
    doc.apply(&entry.bytes).expect("apply");
    put_json(&out, "changes/a-note.json", &case_summary(&doc));

    // Push and feed bodies: gw1's outbox pushed by hand, and cc2's first pull.
    let entries = f.dev("gw1").outbox(10).expect("outbox");
    let push = SyncRequest {
        push: entries
            .iter()
            .map(|e| PushedChange {
                seq: e.seq,
                case_id: uuid::Uuid::parse_str(&e.case_id).expect("uuid"),
                bytes: e.bytes.clone(),
            })
            .collect(),
        cursor: 0,
        max_feed_bytes: 64 << 10,
        org_version: 1,
    };
    let body = wire::encode(&push).expect("encode");
    let (status, answer) = post_sync(&f, Some(&token_of(&f, "gw1")), body.clone());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    put(&out, "wire/push-request.postcard", &body);
    put(&out, "wire/push-response.postcard", &answer);
    let resp: SyncResponse = wire::decode(&answer).expect("decode");
    put_json(
        &out,
        "wire/push.json",
        &json!({
            "request": {"entries": push.push.len(), "seqs": push.push.iter().map(|p| p.seq).collect::<Vec<_>>(),
                        "cases": push.push.iter().map(|p| p.case_id.to_string()).collect::<Vec<_>>(),
                        "cursor": push.cursor, "max_feed_bytes": push.max_feed_bytes, "org_version": push.org_version},
            "response": {"acked_through": resp.acked_through, "items": resp.feed.len(),
                         "cases": resp.feed.iter().map(|i| i.case_id.to_string()).collect::<Vec<_>>(),
                         "whole": resp.feed.iter().map(|i| i.whole).collect::<Vec<_>>(),
                         "cursor": resp.cursor, "more": resp.more, "org_version": resp.org_version},
        }),
    );
    f.sync_all();

    // A device store with work not yet synced: gw1 reports offline with a photo.
    let offline = f
        .dev("gw1")
        .report_with_photos(&report(sample::IN_G1, "路灯不亮"), &[&photo(5)])
        .expect("report");
    let gw1 = f.dev("gw1");
    let outbox = gw1.outbox(100).expect("outbox");
    vacuum_into(
        &f.dirs["gw1"].join("xiangying.db"),
        &out.join("device-gw1/xiangying.db"),
    );
    put_json(
        &out,
        "device-gw1/manifest.json",
        &json!({
            "person": "gw1",
            "device_id": gw1.device_id().expect("id"),
            "cases": gw1.all_cases(1000).expect("cases").iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
            "patrols": gw1.patrols(100).expect("patrols").iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
            "unsynced_case": offline,
            "outbox": outbox.iter().map(|e| e.seq).collect::<Vec<_>>(),
            "pending_uploads": gw1.pending_uploads(100).expect("uploads").len(),
        }),
    );
    let offline_photos: Vec<String> = gw1
        .case(&offline)
        .expect("case")
        .photos
        .iter()
        .flat_map(|p| [p.hash.clone(), p.thumb.clone()])
        .collect();
    for h in &offline_photos {
        put(
            &out,
            &format!("device-gw1/photos/{h}"),
            &gw1.photo(h).expect("photo"),
        );
    }

    // The server data folder.
    let server_dir = f.root.path().join("server");
    vacuum_into(
        &server_dir.join("server.db"),
        &out.join("server-sqlite/server.db"),
    );
    copy_dir(
        &server_dir.join("photos"),
        &out.join("server-sqlite/photos"),
    );
    put_json(
        &out,
        "server-sqlite/manifest.json",
        &server_manifest(&f, &day),
    );

    if let Some((url, pg_dump)) = pg {
        let schema = format!("compat_gen{n}");
        let mut g = Field::with_backend(
            sample_org(),
            Some((url.to_string(), schema.clone())),
            Limits::default(),
        );
        let day = street_day(&mut g, None);
        g.sync_all();
        put_json(&out, "server-postgres.json", &server_manifest(&g, &day));
        let dump = std::process::Command::new(pg_dump)
            .args([
                "--no-owner",
                "--no-privileges",
                "--inserts",
                "--schema",
                &schema,
                url,
            ])
            .output()
            .expect("pg_dump");
        assert!(
            dump.status.success(),
            "{}",
            String::from_utf8_lossy(&dump.stderr)
        );
        // Plain SQL any client can run: psql's meta-commands (`\restrict`) are dropped.
        let sql: String = String::from_utf8(dump.stdout)
            .expect("utf-8 dump")
            .lines()
            .filter(|l| !l.starts_with('\\'))
            .map(|l| format!("{l}\n"))
            .collect();
        put(&out, "server-postgres.sql", sql.as_bytes());
        copy_dir(
            &g.root.path().join("server/photos"),
            &out.join("server-postgres-photos"),
        );
        drop(g);
        drop_schema(url, &schema);
    }
    put_json(
        &out,
        "README.json",
        &json!({
            "generation": n,
            "written_by": written_by(),
            "never_edit": "bytes a later build must read; add a new generation instead",
        }),
    );
}

/// The build writing a generation: core version, protocol, document layout, store schema.
fn written_by() -> String {
    use xiangying_core::sync::version::{CORE_VERSION, CURRENT, LAYOUT};
    format!(
        "xiangying-core {CORE_VERSION} (protocol {}.{}, document layout {LAYOUT}, server schema {})",
        CURRENT.major,
        CURRENT.minor,
        xiangying_server::storage::migrations::LATEST
    )
}

/// What a server fixture holds: every device with its token, every case and patrol with its
/// summary, every photo, and the counts.
fn server_manifest(f: &Field, day: &Day) -> Value {
    let state = f.state();
    let (cases, changes, devices) = crate::server_counts(f);
    let mut docs = Vec::new();
    let mut photos = std::collections::BTreeSet::new();
    let ids: std::collections::BTreeSet<String> = day
        .cases
        .iter()
        .chain(&day.patrols)
        .map(|(_, id)| id.clone())
        .collect();
    for id in &ids {
        let row =
            xiangying_server::storage::with_tx(state.storage.as_ref(), |tx| tx.case(&id.into()))
                .expect("case")
                .expect("stored");
        let doc = SyncedDoc::load(&row.snapshot, &automerge::ActorId::random()).expect("load");
        if let Some(doc) = doc.downcast_ref::<CaseDoc>() {
            for p in doc.photos().expect("photos") {
                photos.insert(p.hash);
                photos.insert(p.thumb);
            }
            docs.push(case_summary(doc));
        } else {
            let doc = doc.downcast_ref::<PatrolDoc>().expect("a case or a patrol");
            docs.push(patrol_summary(doc));
        }
    }
    json!({
        "tokens": PEOPLE.iter().map(|p| (p.to_string(), json!(token_of(f, p)))).collect::<serde_json::Map<_, _>>(),
        "documents": docs,
        "photos": photos,
        "counts": {"cases": cases, "changes": changes, "devices": devices},
        "schema_version": state.storage.identity().schema_version,
    })
}

/// Reads a generation's JSON file.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("json")
}
