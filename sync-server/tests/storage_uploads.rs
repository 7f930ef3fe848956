//! The storage methods for enrolment codes and photo uploaders (issue 11, findings 5 to 7), on
//! SQLite and on PostgreSQL (`XY_PG_URL`, a fresh schema per test), and an existing SQLite data
//! folder opened again keeps its codes and gains the new table.

use std::sync::Arc;
use xiangying_model::ids::PhotoHash;
use xiangying_server::storage::postgres::PostgresStorage;
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::{CodeRow, PhotoUploader, Storage, with_tx};

fn pg(schema: &str) -> Arc<dyn Storage> {
    let url = std::env::var("XY_PG_URL")
        .expect("XY_PG_URL is not set: export XY_PG_URL=$(bash scripts/postgres | tail -n 1)");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .unwrap();
    Arc::new(PostgresStorage::connect_with_schema(&url, schema).unwrap())
}

fn codes_and_uploaders(s: &dyn Storage) {
    with_tx(s, |t| t.insert_code("h1", &"alice".into(), 10)).unwrap();
    let row = |h: &'static str| with_tx(s, move |t| t.code(h)).unwrap();
    assert_eq!(
        row("h1"),
        Some(CodeRow {
            person: "alice".into(),
            created_at: 10,
            used_at: None
        })
    );
    assert_eq!(row("nope"), None);
    with_tx(s, |t| t.take_code("h1", 20)).unwrap();
    assert_eq!(row("h1").unwrap().used_at, Some(20));

    let h: PhotoHash = "ab".repeat(32).into();
    with_tx(s, |t| {
        t.add_photo_uploader(&h, &"dev-b".into(), &"bob".into(), 300, 1)?;
        t.add_photo_uploader(&h, &"dev-a".into(), &"alice".into(), 300, 2)?;
        // A repeat changes nothing (and does not count twice).
        t.add_photo_uploader(&h, &"dev-a".into(), &"alice".into(), 300, 3)?;
        t.add_photo_uploader(
            &"cd".repeat(32).into(),
            &"dev-a".into(),
            &"alice".into(),
            1000,
            4,
        )
    })
    .unwrap();
    assert_eq!(
        with_tx(s, |t| t.photo_uploaders(&h)).unwrap(),
        vec![
            PhotoUploader {
                device: "dev-a".into(),
                person: "alice".into()
            },
            PhotoUploader {
                device: "dev-b".into(),
                person: "bob".into()
            },
        ]
    );
    assert!(
        with_tx(s, |t| t.photo_uploaders(&"ef".repeat(32).into()))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        with_tx(s, |t| t.device_photo_bytes(&"dev-a".into())).unwrap(),
        1300
    );
    assert_eq!(
        with_tx(s, |t| t.device_photo_bytes(&"dev-z".into())).unwrap(),
        0
    );
}

#[test]
fn codes_and_uploaders_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    codes_and_uploaders(&SqliteStorage::open(dir.path()).unwrap());
}

#[test]
fn codes_and_uploaders_postgres() {
    codes_and_uploaders(&*pg("storage_uploads"));
}

#[test]
fn an_existing_data_folder_keeps_its_codes() {
    let dir = tempfile::tempdir().unwrap();
    {
        // A data folder as the earlier server left it: no photo_uploaders table.
        let conn = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE codes (code_hash TEXT PRIMARY KEY, person TEXT NOT NULL,
                created_at INTEGER NOT NULL, used_at INTEGER);
             INSERT INTO codes VALUES ('old', 'alice', 5, NULL);",
        )
        .unwrap();
    }
    let s = SqliteStorage::open(dir.path()).unwrap();
    assert_eq!(
        with_tx(&s, |t| t.code("old")).unwrap().unwrap().created_at,
        5
    );
    assert_eq!(
        with_tx(&s, |t| t.device_photo_bytes(&"dev-a".into())).unwrap(),
        0
    );
}
