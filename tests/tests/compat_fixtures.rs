//! Every committed fixture generation still reads with this build: documents load and fold to
//! what the writing build recorded, single changes apply, push and feed bodies decode, and a
//! device store of that build opens and syncs its unsynced work.
//!
//! Writing a new generation (only when a change stops a build from reading the old ones, or a
//! new layout is introduced; never over an existing one):
//! `XY_WRITE_FIXTURES=<n> cargo test -p xiangying-tests --test compat_fixtures -- --ignored`
//! (with `XY_PG_URL` set for the PostgreSQL dump).

use serde_json::Value;
use std::path::Path;
use xiangying_core::case::CaseDoc;
use xiangying_core::document::Document;
use xiangying_core::patrol::PatrolDoc;
use xiangying_core::sync::wire::{self, SyncRequest, SyncResponse};
use xiangying_tests::fixtures::{case_summary, copy_dir, generations, patrol_summary, read_json};

/// The files of `dir` with extension `ext`.
fn files(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The document layout a generation's build wrote (generations after these record it in
/// their README.json).
fn layout_of(generation: &Path) -> Option<u64> {
    match generation.file_name()?.to_str()? {
        "gen1" => Some(1),
        "gen2" => Some(2),
        _ => None,
    }
}

fn actor() -> automerge::ActorId {
    automerge::ActorId::random()
}

#[test]
fn every_case_document_reads_and_folds_as_its_build_recorded() {
    let mut n = 0;
    for g in generations() {
        for file in files(&g.join("cases"), "automerge") {
            let bytes = std::fs::read(&file).expect("read");
            let doc = CaseDoc::load(&bytes, &actor())
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let want = read_json(&file.with_extension("json"));
            assert_eq!(case_summary(&doc), want, "{}", file.display());
            if let Some(layout) = layout_of(&g) {
                assert_eq!(doc.layout().expect("layout"), layout, "{}", file.display());
            }
            n += 1;
        }
    }
    assert!(n >= 10, "only {n} case documents");
}

#[test]
fn every_patrol_document_reads_and_folds_as_its_build_recorded() {
    let mut n = 0;
    for g in generations() {
        for file in files(&g.join("patrols"), "automerge") {
            let bytes = std::fs::read(&file).expect("read");
            let doc = PatrolDoc::load(&bytes, &actor())
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let want = read_json(&file.with_extension("json"));
            assert_eq!(patrol_summary(&doc), want, "{}", file.display());
            n += 1;
        }
    }
    assert!(n >= 3, "only {n} patrol documents");
}

#[test]
fn every_single_change_applies_to_its_base() {
    for g in generations() {
        let dir = g.join("changes");
        let base = std::fs::read(dir.join("a-base.automerge")).expect("base");
        let change = std::fs::read(dir.join("a-note.change")).expect("change");
        let mut doc = CaseDoc::load(&base, &actor()).expect("load");
        doc.apply(&change).expect("apply");
        assert_eq!(
            case_summary(&doc),
            read_json(&dir.join("a-note.json")),
            "{}",
            g.display()
        );
        // Applying the same change again changes nothing.
        doc.apply(&change).expect("apply twice");
        assert_eq!(case_summary(&doc), read_json(&dir.join("a-note.json")));
    }
}

#[test]
fn push_and_feed_bodies_decode_as_recorded() {
    for g in generations() {
        let dir = g.join("wire");
        let want = read_json(&dir.join("push.json"));
        let req: SyncRequest =
            wire::decode(&std::fs::read(dir.join("push-request.postcard")).expect("read"))
                .expect("request decodes");
        let r = &want["request"];
        assert_eq!(req.push.len() as u64, r["entries"].as_u64().expect("n"));
        let seqs: Vec<Value> = req.push.iter().map(|p| p.seq.into()).collect();
        assert_eq!(Value::from(seqs), r["seqs"]);
        let cases: Vec<Value> = req
            .push
            .iter()
            .map(|p| p.case_id.to_string().into())
            .collect();
        assert_eq!(Value::from(cases), r["cases"]);
        assert_eq!(Value::from(req.cursor), r["cursor"]);
        assert_eq!(Value::from(req.max_feed_bytes), r["max_feed_bytes"]);
        assert_eq!(Value::from(req.org_version), r["org_version"]);

        let resp: SyncResponse =
            wire::decode(&std::fs::read(dir.join("push-response.postcard")).expect("read"))
                .expect("response decodes");
        let r = &want["response"];
        assert_eq!(Value::from(resp.acked_through), r["acked_through"]);
        assert_eq!(resp.feed.len() as u64, r["items"].as_u64().expect("n"));
        let whole: Vec<Value> = resp.feed.iter().map(|i| i.whole.into()).collect();
        assert_eq!(Value::from(whole), r["whole"]);
        assert_eq!(Value::from(resp.cursor), r["cursor"]);
        assert_eq!(Value::from(resp.more), r["more"]);
        // Every fed document loads; every fed run of changes is whole automerge chunks.
        for item in &resp.feed {
            if item.whole {
                xiangying_core::sync::synced::SyncedDoc::load(&item.bytes, &actor())
                    .expect("fed document loads");
            } else {
                xiangying_core::case::chunks::check(&item.bytes).expect("fed changes parse");
            }
        }
    }
}

/// Writes the next generation; see the file's doc for the command.
#[test]
#[ignore = "writes a new fixture generation; run by hand"]
fn write_fixture_generation() {
    let Ok(n) = std::env::var("XY_WRITE_FIXTURES") else {
        panic!("set XY_WRITE_FIXTURES=<generation number>");
    };
    let n: u32 = n.parse().expect("a generation number");
    let url = std::env::var("XY_PG_URL").ok();
    let pg_dump =
        std::env::var("XY_PG_DUMP").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin/pg_dump".into());
    xiangying_tests::fixtures::write_generation(
        n,
        url.as_deref().map(|u| (u, Path::new(pg_dump.as_str()))),
    );
}

#[test]
fn a_device_store_of_every_generation_opens_and_syncs_its_unsynced_work() {
    use std::sync::Arc;
    use xiangying_server::blobs::BlobStore;
    use xiangying_server::state::{AppState, Limits};
    use xiangying_server::storage::sqlite::SqliteStorage;
    for g in generations() {
        let tmp = tempfile::tempdir().expect("tmp");
        let data = tmp.path().join("server");
        copy_dir(&g.join("server-sqlite"), &data);
        let limits = Limits::default();
        let state = Arc::new(AppState::new(
            Arc::new(SqliteStorage::open(&data).expect("open the server fixture")),
            BlobStore::new(data.join("photos"), limits.max_photo),
            limits,
        ));
        let server =
            xiangying_server::spawn(state, "127.0.0.1:0".parse().expect("addr")).expect("spawn");

        let manifest = read_json(&g.join("device-gw1/manifest.json"));
        let dir = tmp.path().join("gw1");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::copy(g.join("device-gw1/xiangying.db"), dir.join("xiangying.db"))
            .expect("copy store");
        let d = xiangying_core::Device::open(&dir).expect("the store opens and migrates");
        for e in std::fs::read_dir(g.join("device-gw1/photos")).expect("photos") {
            let bytes = std::fs::read(e.expect("entry").path()).expect("read");
            d.photo_files().put_bytes(&bytes).expect("put photo");
        }
        assert_eq!(d.me().expect("person").person, manifest["person"]);
        let mut held: Vec<String> = d
            .all_cases(1000)
            .expect("cases")
            .into_iter()
            .map(|c| c.id)
            .collect();
        held.sort();
        let mut want: Vec<String> = manifest["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|v| v.as_str().expect("id").to_string())
            .collect();
        want.sort();
        assert_eq!(held, want);
        for c in &want {
            d.case(c).expect("every case reads");
        }
        for p in manifest["patrols"].as_array().expect("patrols") {
            d.patrol(p.as_str().expect("id"))
                .expect("every patrol reads");
        }
        let outbox = manifest["outbox"].as_array().expect("outbox").len() as u64;
        assert_eq!(d.outbox_len().expect("outbox"), outbox);

        d.set_server_url(&server.url()).expect("new address");
        let r = d.sync_now(&|_| {}).expect("the old store syncs");
        assert_eq!(r.pushed, outbox);
        assert_eq!(
            r.photos_uploaded,
            manifest["pending_uploads"].as_u64().expect("n")
        );
        let unsynced = manifest["unsynced_case"].as_str().expect("id");
        assert!(
            d.case(unsynced).expect("case").number.is_some(),
            "the server numbered the case raised offline"
        );
        assert_eq!(d.outbox_len().expect("outbox"), 0);
    }
}
