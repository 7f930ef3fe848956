//! Upgrading a store written by an older build, on both backends: every generation's server
//! fixture (`tests/fixtures/compat/gen<N>/`: an SQLite data folder, and a `pg_dump` of a
//! PostgreSQL schema with its photo folder) is copied (the fixture itself is never touched),
//! today's server starts on the copy and migrates it to the latest schema, and then every
//! device token of the fixture's manifest is accepted, every case is served in the feed,
//! every photo is served whole, the counts match, and a device syncs.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use xiangying_core::document::Document;
use xiangying_core::sync::client::{Delivery, SyncClient};
use xiangying_core::sync::wire::SyncRequest;
use xiangying_server::blobs::BlobStore;
use xiangying_server::state::{AppState, Limits};
use xiangying_server::storage::migrations::LATEST;
use xiangying_server::storage::postgres::PostgresStorage;
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::{Storage, with_tx};
use xiangying_server::{Running, spawn};
use xiangying_tests::fixtures::{copy_dir, generations, read_json};
use xiangying_tests::{drop_schema, pg_url};

/// Serves an opened fixture store; `manifest` says which schema version its build wrote
/// (generation 1 predates versions: 0).
fn start(storage: Arc<dyn Storage>, data: &Path, manifest: &serde_json::Value) -> Running {
    let m = storage.migrated();
    let written = manifest["schema_version"].as_u64().unwrap_or(0) as u32;
    assert_eq!(
        (m.from, m.to),
        (written, LATEST),
        "an older build's store is migrated from the version its build wrote"
    );
    let limits = Limits::default();
    let state = Arc::new(AppState::new(
        storage,
        BlobStore::new(data.join("photos"), limits.max_photo),
        limits,
    ));
    spawn(state, "127.0.0.1:0".parse().expect("addr")).expect("spawn")
}

/// Everything the manifest lists is served by the upgraded server.
fn check_served(server: &Running, manifest: &Value) {
    let st = &server.state;
    let client = SyncClient::new(&server.url()).expect("client");
    let tokens = manifest["tokens"].as_object().expect("tokens");
    assert!(!tokens.is_empty());
    for (person, token) in tokens {
        client
            .org(token.as_str().expect("token"))
            .unwrap_or_else(|e| panic!("{person}'s token is refused after the upgrade: {e}"));
    }
    // The centre sees the whole street: its feed from 0 holds every case.
    let center = tokens["center"].as_str().expect("center token");
    let mut cursor = 0;
    let mut fed = BTreeSet::new();
    loop {
        let answer = client
            .sync(
                center,
                &SyncRequest {
                    push: vec![],
                    cursor,
                    max_feed_bytes: 1 << 20,
                    org_version: 0,
                },
                Delivery::Ordinary,
            )
            .expect("the centre syncs");
        assert_eq!(answer.epoch.as_deref(), Some(st.epoch.as_str()));
        fed.extend(answer.response.feed.iter().map(|i| i.case_id.to_string()));
        cursor = answer.response.cursor;
        if !answer.response.more {
            break;
        }
    }
    let docs = manifest["documents"].as_array().expect("documents");
    for d in docs {
        let (id, is_case) = match d["case_id"].as_str() {
            Some(id) => (id, true),
            None => (d["patrol_id"].as_str().expect("a case or a patrol"), false),
        };
        assert!(
            fed.contains(id),
            "document {id} is not served after the upgrade"
        );
        let row = with_tx(st.storage.as_ref(), |tx| tx.case(&id.into()))
            .expect("read")
            .expect("stored");
        if is_case {
            let doc =
                xiangying_core::case::CaseDoc::load(&row.snapshot, &automerge::ActorId::random())
                    .expect("loads");
            assert_eq!(
                xiangying_tests::fixtures::case_summary(&doc)["status"],
                d["status"],
                "case {id}"
            );
        }
    }
    for hash in manifest["photos"].as_array().expect("photos") {
        let hash = hash.as_str().expect("hash");
        let bytes = client
            .download(center, hash)
            .unwrap_or_else(|e| panic!("photo {hash} is not served: {e}"));
        assert_eq!(
            xiangying_core::photo::sha256_hex(&bytes),
            hash,
            "photo {hash} is served whole"
        );
    }
    let (cases, changes, devices) = with_tx(st.storage.as_ref(), |tx| tx.counts()).expect("counts");
    let c = &manifest["counts"];
    assert_eq!(
        (cases, changes, devices),
        (
            c["cases"].as_u64().expect("n"),
            c["changes"].as_u64().expect("n"),
            c["devices"].as_u64().expect("n")
        )
    );
}

#[test]
fn sqlite_data_folders_of_every_generation_upgrade_and_serve() {
    for g in generations() {
        let tmp = tempfile::tempdir().expect("tmp");
        let data = tmp.path().join("server");
        std::fs::create_dir_all(&data).expect("mkdir");
        std::fs::copy(
            g.join("server-sqlite/server.db"),
            data.join(xiangying_server::storage::sqlite::DB_FILE),
        )
        .expect("copy the database");
        copy_dir(&g.join("server-sqlite/photos"), &data.join("photos"));
        let storage = Arc::new(SqliteStorage::open(&data).expect("the old store opens"));
        let manifest = read_json(&g.join("server-sqlite/manifest.json"));
        let server = start(storage, &data, &manifest);
        check_served(&server, &manifest);

        // The fixture's device store syncs with it: `compat_fixtures.rs`.
        server.stop();
        // The fixture is untouched: nothing was written beside it.
        assert!(!g.join("server-sqlite/server.db-wal").exists());
    }
}

#[test]
fn postgres_dumps_of_every_generation_upgrade_and_serve() {
    let url = pg_url();
    for g in generations() {
        let n = g
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("gen"))
            .expect("gen<N>")
            .to_owned();
        let dump = std::fs::read_to_string(g.join("server-postgres.sql")).expect("dump");
        let schema = format!("xyt_upgrade_gen{n}");
        drop_schema(&url, &schema);
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        xiangying_server::backup::load_dump(&mut client, &dump, &format!("compat_gen{n}"), &schema)
            .expect("the dump loads into a schema of our own");
        drop(client);
        let tmp = tempfile::tempdir().expect("tmp");
        let data = tmp.path().join("server");
        copy_dir(&g.join("server-postgres-photos"), &data.join("photos"));
        let storage = Arc::new(
            PostgresStorage::connect_with_schema(&url, &schema).expect("the old schema opens"),
        );
        let manifest = read_json(&g.join("server-postgres.json"));
        let server = start(storage, &data, &manifest);
        check_served(&server, &manifest);
        // A device of the manifest pushes nothing and pulls its scope.
        let gw1 = manifest["tokens"]["gw1"].as_str().expect("gw1 token");
        let answer = SyncClient::new(&server.url())
            .expect("client")
            .sync(
                gw1,
                &SyncRequest {
                    push: vec![],
                    cursor: 0,
                    max_feed_bytes: 1 << 20,
                    org_version: 0,
                },
                Delivery::Ordinary,
            )
            .expect("gw1 syncs");
        assert!(!answer.response.feed.is_empty());
        server.stop();
        drop_schema(&url, &schema);
    }
}
