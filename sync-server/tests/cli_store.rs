//! The real binary's store commands, as an operator runs them: `admin migrate` (a folder
//! without a store refused, a store up to date), `admin backup` and `admin restore` (a new epoch; a damaged backup and a
//! used output folder refused with a clear message), and a store newer than the binary refused
//! by every command, untouched.

use std::path::Path;

mod common;
use common::{failed, ok, publish_sample, server};
use xiangying_server::storage::migrations::LATEST;

fn epoch(data: &Path) -> String {
    rusqlite::Connection::open(data.join("server.db"))
        .unwrap()
        .query_row(
            "SELECT value FROM server_meta WHERE key = 'epoch'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn migrate_backup_and_restore_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A folder without a store is refused (a mistyped --data), and nothing is made in it.
    let e = failed(&server(&data, &["admin", "migrate"]));
    assert!(
        e.contains("no Xiangying store") && e.contains("admin setup"),
        "{e}"
    );
    assert!(!data.join("server.db").exists());
    publish_sample(&data);
    let out = ok(&server(&data, &["admin", "migrate"]));
    assert_eq!(out.trim(), format!("schema version {LATEST} (up to date)"));
    let before = epoch(&data);

    let backup = dir.path().join("backup");
    let out = ok(&server(
        &data,
        &["admin", "backup", "--out", backup.to_str().unwrap()],
    ));
    assert!(out.contains("backed up sqlite store"), "{out}");
    assert!(out.contains(&before), "{out}");
    let e = failed(&server(
        &data,
        &["admin", "backup", "--out", backup.to_str().unwrap()],
    ));
    assert!(e.contains("not empty"), "{e}");

    // A damaged copy is refused, naming the file; the store keeps its epoch.
    let damaged = dir.path().join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    for name in ["manifest.json", "server.db"] {
        std::fs::copy(backup.join(name), damaged.join(name)).unwrap();
    }
    let db = damaged.join("server.db");
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[200] ^= 0x55;
    std::fs::write(&db, bytes).unwrap();
    let e = failed(&server(
        &data,
        &["admin", "restore", "--from", damaged.to_str().unwrap()],
    ));
    assert!(e.contains("server.db") && e.contains("damaged"), "{e}");
    assert_eq!(epoch(&data), before);

    let out = ok(&server(
        &data,
        &["admin", "restore", "--from", backup.to_str().unwrap()],
    ));
    let after = epoch(&data);
    assert_ne!(after, before);
    assert!(out.contains(&format!("new epoch {after}")), "{out}");
    assert!(out.contains("before-restore-"), "{out}");
    // The operator sees the store's version, epoch and restore at a glance.
    let status = ok(&server(&data, &["admin", "status"]));
    assert!(
        status.contains(&format!("schema version {LATEST}")),
        "{status}"
    );
    assert!(status.contains(&format!("epoch {after}")), "{status}");
    assert!(status.contains("restored 20"), "{status}");

    // A machine that lost everything: the backup restores into an empty data folder.
    let fresh = dir.path().join("fresh");
    ok(&server(
        &fresh,
        &["admin", "restore", "--from", backup.to_str().unwrap()],
    ));
    assert_ne!(epoch(&fresh), before);
    let id = |d: &Path| -> String {
        rusqlite::Connection::open(d.join("server.db"))
            .unwrap()
            .query_row(
                "SELECT value FROM server_meta WHERE key = 'store_id'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(id(&fresh), id(&data));
    let out = ok(&server(&fresh, &["admin", "migrate"]));
    assert!(out.contains("up to date"), "{out}");
}

#[test]
fn every_command_refuses_a_newer_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    publish_sample(&data);
    let newer = LATEST + 3;
    rusqlite::Connection::open(data.join("server.db"))
        .unwrap()
        .execute(
            "INSERT INTO schema_migrations VALUES (?1, 'later', 0)",
            [newer],
        )
        .unwrap();
    for args in [
        &["admin", "migrate"][..],
        &["admin", "status"][..],
        &[
            "admin",
            "backup",
            "--out",
            dir.path().join("b").to_str().unwrap(),
        ][..],
    ] {
        let e = failed(&server(&data, args));
        assert!(
            e.contains(&format!("schema version {newer}")) && e.contains(&format!("({LATEST})")),
            "{args:?}: {e}"
        );
    }
}
