//! `admin export` against a real server on SQLite and on PostgreSQL: a small field day through
//! real devices, then an export while the server keeps serving. Every case, event, patrol and
//! photo the server holds is in the export, photo files match their hashes, every line parses,
//! the manifest's checksums match, a photo missing from the blob store is listed as missing,
//! and a non-empty output folder is refused.

use automerge::ActorId;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use xiangying_core::NewReport;
use xiangying_core::case::{CaseDoc, PhotoStage};
use xiangying_core::document::Document;
use xiangying_core::org::sample;
use xiangying_core::patrol::{PatrolDoc, PatrolPlace, TrackPoint};
use xiangying_core::sync::synced::SyncedDoc;
use xiangying_server::export::{self, CASES, MANIFEST, PATROLS, PHOTOS};
use xiangying_server::state::Limits;
use xiangying_server::storage::{CaseMeta, NewChange, StoredCase, with_tx};
use xiangying_tests::{Field, jpeg, pg_url, sample_org};

fn report(description: &str) -> NewReport {
    NewReport {
        category: sample::MANHOLE.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: description.into(),
    }
}

/// A field day: reports with photos, a forward and an escalation, a report settled on the
/// spot with an after photo, and a patrol with a companion and a track.
fn field_day(f: &mut Field) {
    for p in ["psc1", "gw1", "cc1", "center", "official"] {
        f.enrol(p);
    }
    let psc1 = f.dev("psc1");
    let a = psc1
        .report_with_photos(
            &report("井盖缺失"),
            &[&jpeg(1, 320, 240), &jpeg(2, 320, 240)],
        )
        .unwrap();
    psc1.forward(&a, "请网格员处理").unwrap();
    f.settle();
    let gw1 = f.dev("gw1");
    gw1.accept(&a).unwrap();
    gw1.escalate(&a, "需要社区协调").unwrap();
    let b = gw1.report(&report("垃圾堆放")).unwrap();
    let after = gw1
        .attach_photo(&b, &jpeg(3, 320, 240), PhotoStage::After)
        .unwrap();
    gw1.handle_on_spot(&b, "已清理", std::slice::from_ref(&after.hash))
        .unwrap();
    let p = gw1.start_patrol(PatrolPlace::Grid("g1".into())).unwrap();
    gw1.add_companion(&p, "official").unwrap();
    let start = gw1.patrol(&p).unwrap().facts.started_at;
    let fixes: Vec<TrackPoint> = (0..30)
        .map(|i| TrackPoint {
            at: start + 1 + i * 5_000,
            lon: sample::IN_G1.lon + 0.00001 * i as f64,
            lat: sample::IN_G1.lat,
            accuracy_m: 5.0,
        })
        .collect();
    gw1.record_track(&p, &fixes).unwrap();
    gw1.end_patrol(&p).unwrap();
    f.settle();
    f.dev("official").confirm_accompaniment(&p).unwrap();
    f.settle();
}

/// What the server holds: per document id, its kind, event count and photo files.
#[derive(Debug, Default)]
struct Truth {
    cases: BTreeMap<String, usize>,
    patrols: BTreeMap<String, usize>,
    photo_files: BTreeSet<String>,
}

fn truth(f: &Field) -> Truth {
    let state = f.state();
    let rows: Vec<StoredCase> = with_tx(state.storage.as_ref(), |tx| {
        tx.cases_after(&"".into(), 10_000)
    })
    .unwrap();
    let actor = ActorId::random();
    let mut t = Truth::default();
    for r in rows {
        let doc = SyncedDoc::load(&r.row.snapshot, &actor).unwrap();
        if let Some(d) = doc.downcast_ref::<CaseDoc>() {
            t.cases
                .insert(r.case_id.into_string(), d.events().unwrap().len());
            for p in d.photos().unwrap() {
                t.photo_files.insert(p.hash);
                t.photo_files.insert(p.thumb);
            }
        } else {
            let d = doc.downcast_ref::<PatrolDoc>().unwrap();
            t.patrols
                .insert(r.case_id.into_string(), d.events().unwrap().len());
        }
    }
    t
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", path.display())))
        .collect()
}

/// Checks an export folder against what the server holds; returns the photo lines by hash.
fn check_export(out: &Path, t: &Truth) -> BTreeMap<String, serde_json::Value> {
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join(MANIFEST)).unwrap()).unwrap();
    assert_eq!(manifest["format"], "xiangying-export");
    assert_eq!(manifest["version"], export::FORMAT_VERSION);
    assert_eq!(manifest["street"]["id"], "sample");
    // Every listed file matches its size and checksum; the data files are all listed.
    let mut listed = BTreeSet::new();
    for file in manifest["files"].as_array().unwrap() {
        let name = file["path"].as_str().unwrap();
        let bytes = fs::read(out.join(name)).unwrap();
        assert_eq!(file["bytes"], bytes.len() as u64, "{name}");
        assert_eq!(file["sha256"], sha256_hex(&bytes), "{name}");
        listed.insert(name.to_string());
    }
    for name in [CASES, PATROLS, PHOTOS, "roster.json", "catalogue.json"] {
        assert!(listed.contains(name), "{name} not in the manifest");
    }

    let cases = lines(&out.join(CASES));
    let got: BTreeMap<String, usize> = cases
        .iter()
        .map(|c| {
            assert!(c.get("error").is_none(), "{c}");
            let events = c["events"].as_array().unwrap();
            for e in events {
                for key in ["id", "at", "by", "type", "payload", "outcome"] {
                    assert!(e.get(key).is_some(), "event without {key}: {e}");
                }
            }
            assert!(c["number"].as_str().unwrap().starts_with("YL-"), "{c}");
            assert!(c["facts"]["category"].is_string());
            assert!(c["state"]["status"].is_string());
            (c["id"].as_str().unwrap().to_string(), events.len())
        })
        .collect();
    assert_eq!(got, t.cases);
    let patrols = lines(&out.join(PATROLS));
    let got: BTreeMap<String, usize> = patrols
        .iter()
        .map(|p| {
            assert!(p.get("error").is_none(), "{p}");
            (
                p["id"].as_str().unwrap().to_string(),
                p["events"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(got, t.patrols);
    assert_eq!(manifest["counts"]["cases"], t.cases.len() as u64);
    assert_eq!(manifest["counts"]["patrols"], t.patrols.len() as u64);
    assert_eq!(
        manifest["counts"]["case_events"],
        t.cases.values().sum::<usize>() as u64
    );
    assert_eq!(manifest["counts"]["unreadable"], 0);

    let photos: BTreeMap<String, serde_json::Value> = lines(&out.join(PHOTOS))
        .into_iter()
        .map(|p| (p["sha256"].as_str().unwrap().to_string(), p))
        .collect();
    assert_eq!(
        photos.keys().cloned().collect::<BTreeSet<_>>(),
        t.photo_files
    );
    // The manifest lists every written photo file too.
    let written: BTreeSet<String> = photos
        .values()
        .filter_map(|p| p["file"].as_str().map(str::to_string))
        .collect();
    let listed_photos: BTreeSet<String> = listed
        .iter()
        .filter(|n| n.starts_with("photos/"))
        .cloned()
        .collect();
    assert_eq!(listed_photos, written);
    for (hash, p) in &photos {
        assert!(!p["cases"].as_array().unwrap().is_empty(), "{p}");
        assert!(p["uses"][0]["added_by"].is_string(), "{p}");
        if p["missing"] == true {
            assert!(!out.join("photos").join(hash).exists());
            continue;
        }
        let bytes = fs::read(out.join(p["file"].as_str().unwrap())).unwrap();
        assert_eq!(&sha256_hex(&bytes), hash);
        assert_eq!(p["bytes"], bytes.len() as u64);
        assert!(!p["uploaded_by"].as_array().unwrap().is_empty(), "{p}");
    }
    // Nothing but the listed files, the manifest and the photo files.
    let mut names: Vec<String> = fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            CASES,
            "catalogue.json",
            MANIFEST,
            PATROLS,
            "photos",
            PHOTOS,
            "roster.json"
        ]
    );
    photos
}

fn export_everything(mut f: Field) {
    field_day(&mut f);
    let t = truth(&f);
    assert_eq!((t.cases.len(), t.patrols.len()), (2, 1));
    assert_eq!(t.photo_files.len(), 6);
    let state = f.state();
    let dir = tempfile::tempdir().unwrap();

    // While the server serves, and a device keeps reporting and syncing.
    let out = dir.path().join("export");
    let m = std::thread::scope(|s| {
        let busy = s.spawn(|| {
            for i in 0..3 {
                f.dev("psc1")
                    .report(&report(&format!("路灯不亮 {i}")))
                    .unwrap();
                f.dev("psc1").sync_now(&|_| {}).unwrap();
            }
        });
        let m = export::export(state.storage.as_ref(), &state.blobs, &out).unwrap();
        busy.join().unwrap();
        m
    });
    // Those cases may or may not have made it into the export: check against a quiet server.
    assert!((2..=5).contains(&m.counts.cases), "{:?}", m.counts);
    let t = truth(&f);
    let quiet = dir.path().join("quiet");
    let m = export::export(state.storage.as_ref(), &state.blobs, &quiet).unwrap();
    assert_eq!(m.counts.photos_written, 6);
    check_export(&quiet, &t);

    // A non-empty folder is refused and left as it was.
    let before = fs::read(quiet.join(MANIFEST)).unwrap();
    let e = export::export(state.storage.as_ref(), &state.blobs, &quiet).unwrap_err();
    assert!(e.to_string().contains("not empty"), "{e}");
    assert_eq!(fs::read(quiet.join(MANIFEST)).unwrap(), before);

    // A photo gone from the blob store is listed as missing, not an error.
    let gone = t.photo_files.iter().next().unwrap().clone();
    fs::remove_file(state.blobs.root().join(&gone[..2]).join(&gone)).unwrap();
    let again = dir.path().join("again");
    let m = export::export(state.storage.as_ref(), &state.blobs, &again).unwrap();
    assert_eq!(m.counts.photos_missing, 1);
    assert_eq!(m.counts.photos_written, 5);
    let photos = check_export(&again, &t);
    assert_eq!(photos[&gone]["missing"], true);
    assert!(photos[&gone].get("file").is_none());

    // A damaged snapshot and an event of an unknown action type do not stop the export.
    let (first, events) = t.cases.iter().next().map(|(k, v)| (k.clone(), *v)).unwrap();
    let snapshot = with_tx(state.storage.as_ref(), |tx| tx.case(&first.as_str().into()))
        .unwrap()
        .unwrap()
        .snapshot;
    store_raw(&f, &first, &with_unknown_action(&snapshot));
    store_raw(&f, "zz-damaged", b"not an automerge document");
    let damaged = dir.path().join("damaged");
    let m = export::export(state.storage.as_ref(), &state.blobs, &damaged).unwrap();
    assert_eq!(m.counts.cases, t.cases.len() as u64 + 1);
    assert_eq!(m.counts.patrols, t.patrols.len() as u64);
    let cases: BTreeMap<String, serde_json::Value> = lines(&damaged.join(CASES))
        .into_iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c))
        .collect();
    assert!(cases["zz-damaged"]["error"].is_string());
    let c = &cases[&first];
    assert!(
        c["error"].is_string() || c["events"].as_array().unwrap().len() == events + 1,
        "{c}"
    );
    let unreadable = cases.values().filter(|c| c.get("error").is_some()).count();
    assert_eq!(m.counts.unreadable, unreadable as u64);
    // Every photo is still listed, the damaged case's too.
    assert_eq!(m.counts.photos, t.photo_files.len() as u64);
    assert_eq!(m.counts.photos_written, 5);
}

/// Stores a snapshot as it is, as a damaged or newer store would hold it.
fn store_raw(f: &Field, id: &str, snapshot: &[u8]) {
    let state = f.state();
    with_tx(state.storage.as_ref(), |tx| {
        let first = tx.allocate_positions(1)?;
        tx.save_case(
            &CaseMeta {
                case_id: id.into(),
                number: None,
                status: "reported".into(),
                level: "grid".into(),
                grid: "g1".into(),
                community: "c1".into(),
                reporter: "gw1".into(),
                category: sample::MANHOLE.into(),
                created_at: 0,
                received_at: 0,
                ranking: None,
            },
            snapshot,
            &[NewChange {
                bytes: snapshot.to_vec(),
                device: None,
            }],
            first,
            &[],
            &[],
        )
    })
    .unwrap();
}

/// The document with an event of an action type no build knows appended.
fn with_unknown_action(snapshot: &[u8]) -> Vec<u8> {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ReadDoc, Value};
    let mut doc = automerge::AutoCommit::load(snapshot).unwrap();
    let events = match doc.get(automerge::ROOT, "events").unwrap() {
        Some((Value::Object(ObjType::List), obj)) => obj,
        _ => panic!("no events list"),
    };
    let at = doc.length(&events);
    let raw = serde_json::json!({
        "id": "0190f000-0000-7000-8000-0000000000ff",
        "at": 1,
        "by": {"kind": "person", "person": "gw1", "role": "grid_worker",
               "scope": {"kind": "grid", "id": "g1"}},
        "action": {"type": "teleported", "to": "moon"},
    });
    doc.insert(&events, at, raw.to_string()).unwrap();
    doc.save()
}

#[test]
fn an_export_holds_every_case_event_patrol_and_photo_on_sqlite() {
    export_everything(Field::new(sample_org()));
}

#[test]
fn an_export_holds_every_case_event_patrol_and_photo_on_postgres() {
    export_everything(Field::with_backend(
        sample_org(),
        Some((pg_url(), "export_e2e".into())),
        Limits::default(),
    ));
}

/// The page query on PostgreSQL: every stored document once, in id order, whatever the page.
#[test]
fn stored_documents_page_in_id_order_on_postgres() {
    let mut f = Field::with_backend(
        sample_org(),
        Some((pg_url(), "export_pages".into())),
        Limits::default(),
    );
    f.enrol("gw1");
    for i in 0..7 {
        f.dev("gw1").report(&report(&format!("第{i}件"))).unwrap();
    }
    f.sync_all();
    let state = f.state();
    let all: Vec<String> = with_tx(state.storage.as_ref(), |tx| tx.cases_after(&"".into(), 100))
        .unwrap()
        .into_iter()
        .map(|c| c.case_id.into_string())
        .collect();
    assert_eq!(all.len(), 7);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    for limit in [1, 3, 7] {
        let mut got = Vec::new();
        let mut after = String::new();
        loop {
            let page = with_tx(state.storage.as_ref(), |tx| {
                tx.cases_after(&after.as_str().into(), limit)
            })
            .unwrap();
            let Some(last) = page.last() else { break };
            after = last.case_id.to_string();
            got.extend(page.into_iter().map(|c| c.case_id.into_string()));
        }
        assert_eq!(got, all, "limit {limit}");
    }
}
