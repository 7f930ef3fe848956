//! `admin backup` and `admin restore` on both backends, with a real server on loopback: a
//! backup taken while a device keeps pushing reports with photos, then the server stopped and
//! the backup restored: the restarted server serves the backed-up state (every case and photo
//! from before the backup, nothing that was not committed) under a new epoch, with the same
//! store id. A damaged, incomplete, newer or foreign backup is refused, naming the problem,
//! and the live store is left exactly as it was.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use xiangying_core::org::sample;
use xiangying_core::{Device, NewReport};
use xiangying_server::api::EPOCH_HEADER;
use xiangying_server::backup::{self, Location, PgLocation};
use xiangying_server::blobs::BlobStore;
use xiangying_server::state::{AppState, Limits};
use xiangying_server::storage::postgres::PostgresStorage;
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::{Storage, with_tx};
use xiangying_server::{Running, admin, spawn};
use xiangying_tests::world::tiny_photo;
use xiangying_tests::{drop_schema, pg_url, sample_org};

fn report(n: usize) -> NewReport {
    NewReport {
        category: sample::MANHOLE.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: format!("井盖缺失 {n}"),
    }
}

/// A store location under test, and its temp folder.
struct Site {
    loc: Location,
    root: tempfile::TempDir,
}

impl Site {
    fn sqlite() -> Site {
        let root = tempfile::tempdir().unwrap();
        Site {
            loc: Location {
                data: root.path().join("server"),
                postgres: None,
            },
            root,
        }
    }

    fn postgres(schema: &str) -> Site {
        let url = pg_url();
        drop_schema(&url, schema);
        let root = tempfile::tempdir().unwrap();
        Site {
            loc: Location {
                data: root.path().join("server"),
                postgres: Some(PgLocation {
                    url,
                    schema: Some(schema.into()),
                }),
            },
            root,
        }
    }

    fn storage(&self) -> Arc<dyn Storage> {
        match &self.loc.postgres {
            None => Arc::new(SqliteStorage::open(&self.loc.data).unwrap()),
            Some(pg) => Arc::new(
                PostgresStorage::connect_with_schema(&pg.url, pg.schema.as_deref().unwrap())
                    .unwrap(),
            ),
        }
    }

    fn start(&self) -> Running {
        let storage = self.storage();
        if with_tx(storage.as_ref(), |tx| tx.org_version()).unwrap() == 0 {
            let (roster, catalogue) = sample_org();
            admin::publish(storage.as_ref(), &roster, &catalogue).unwrap();
        }
        let state = Arc::new(AppState::new(
            storage,
            BlobStore::new(self.loc.data.join("photos"), 1 << 24),
            Limits::default(),
        ));
        spawn(state, "127.0.0.1:0".parse().unwrap()).unwrap()
    }

    fn device(&self, server: &Running, person: &str) -> Device {
        let code = admin::issue_code(server.state.storage.as_ref(), person).unwrap();
        let d = Device::open(&self.root.path().join("devices").join(person)).unwrap();
        d.enrol(&server.url(), &code, person).unwrap();
        d
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(pg) = &self.loc.postgres {
            let mut c = postgres::Client::connect(&pg.url, postgres::NoTls).unwrap();
            let schema = pg.schema.as_deref().unwrap();
            for r in c
                .query(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 || '%'",
                    &[&schema],
                )
                .unwrap()
            {
                let name: String = r.get(0);
                let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"));
            }
        }
    }
}

/// The case ids the server holds.
fn case_ids(storage: &dyn Storage) -> BTreeSet<String> {
    with_tx(storage, |tx| tx.ranking_rows())
        .unwrap()
        .into_iter()
        .map(|r| r.case_id.into_string())
        .collect()
}

fn photo_files(data: &Path) -> BTreeSet<String> {
    BlobStore::new(data.join("photos"), 1 << 24)
        .complete_hashes()
        .unwrap()
        .into_iter()
        .collect()
}

fn backup_while_pushing_then_restore(site: &Site) {
    let server = site.start();
    let first = site.device(&server, "psc1");
    for n in 0..3 {
        first
            .report_with_photos(&report(n), &[&tiny_photo(n)])
            .unwrap();
    }
    first.sync_now(&|_| {}).unwrap();
    let old = server.state.storage.identity().clone();
    let before_cases = case_ids(server.state.storage.as_ref());
    let before_photos = photo_files(&site.loc.data);
    // Each photo travels with its thumbnail.
    assert_eq!((before_cases.len(), before_photos.len()), (3, 6));

    // A writer keeps pushing reports with photos while the backup runs.
    let writer = site.device(&server, "gw1");
    let stop = Arc::new(AtomicBool::new(false));
    let (started_tx, started) = std::sync::mpsc::channel();
    let pusher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 100;
            while !stop.load(Ordering::SeqCst) || n < 104 {
                writer
                    .report_with_photos(&report(n), &[&tiny_photo(n)])
                    .unwrap();
                writer.sync_now(&|_| {}).unwrap();
                n += 1;
                let _ = started_tx.send(());
            }
            n - 100
        })
    };
    started.recv().unwrap();
    let out = site.dir("backup");
    let manifest = backup::backup(&site.loc, &out).unwrap();
    stop.store(true, Ordering::SeqCst);
    let pushed = pusher.join().unwrap();
    assert!(pushed >= 4);
    assert_eq!(manifest.epoch, old.epoch);
    assert_eq!(manifest.store_id, old.store_id);
    assert_eq!(manifest.backend, server.state.storage.kind());
    let after_cases = case_ids(server.state.storage.as_ref());
    assert_eq!(after_cases.len(), 3 + pushed);
    let token_device = server.state.storage.as_ref();
    let devices_before = with_tx(token_device, |tx| tx.devices()).unwrap();
    server.stop();

    // Restore with the server stopped.
    let restored = backup::restore(&site.loc, &out).unwrap();
    assert_ne!(restored.identity.epoch, old.epoch);
    assert_eq!(restored.identity.store_id, old.store_id);
    assert!(restored.identity.restored_at.is_some());

    let server = site.start();
    let st = server.state.clone();
    assert_eq!(st.epoch, restored.identity.epoch);
    assert_eq!(st.store_id, old.store_id);
    assert!(st.in_recovery(chrono_now()));
    // The backed-up state: everything from before the backup, only committed pushes after.
    let cases = case_ids(st.storage.as_ref());
    assert!(
        cases.is_superset(&before_cases),
        "cases lost by the restore"
    );
    assert!(cases.is_subset(&after_cases), "cases that never existed");
    let photos = photo_files(&site.loc.data);
    assert!(
        photos.is_superset(&before_photos),
        "photos lost by the restore"
    );
    assert_eq!(photos.len(), manifest.files.len() - 1);
    for id in &cases {
        let row = with_tx(st.storage.as_ref(), |tx| tx.case(&id.into()))
            .unwrap()
            .unwrap();
        automerge::AutoCommit::load(&row.snapshot).unwrap();
    }
    // Devices enrolled before the backup keep their tokens; answers carry the new epoch.
    let devices = with_tx(st.storage.as_ref(), |tx| tx.devices()).unwrap();
    assert_eq!(devices, devices_before);
    let resp = xiangying_tests::http()
        .get(format!("{}/health", server.url()))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()[EPOCH_HEADER].to_str().unwrap(),
        restored.identity.epoch
    );
    // The replaced store was kept aside, not deleted.
    assert!(restored.kept.contains("before"), "{}", restored.kept);
    server.stop();
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// What a refused restore must leave as it was: the identity, the cases and the photo files
/// (and, for SQLite, the database file's bytes).
fn live_state(site: &Site) -> (String, BTreeSet<String>, BTreeSet<String>, Option<Vec<u8>>) {
    let storage = site.storage();
    let id = storage.identity().epoch.clone();
    let cases = case_ids(storage.as_ref());
    drop(storage);
    let bytes = site
        .loc
        .postgres
        .is_none()
        .then(|| std::fs::read(site.loc.data.join("server.db")).unwrap());
    (id, cases, photo_files(&site.loc.data), bytes)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn damaged_backups_are_refused_untouched(site: &Site) {
    let server = site.start();
    let d = site.device(&server, "psc1");
    d.report_with_photos(&report(1), &[&tiny_photo(1)]).unwrap();
    d.sync_now(&|_| {}).unwrap();
    let good = site.dir("good");
    let manifest = backup::backup(&site.loc, &good).unwrap();
    d.report_with_photos(&report(2), &[&tiny_photo(2)]).unwrap();
    d.sync_now(&|_| {}).unwrap();
    server.stop();
    let live = live_state(site);
    let photo = manifest.files[1].path.clone();
    let db = manifest.files[0].path.clone();

    type Damage = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Damage, String)> = vec![
        (
            "flipped byte in a photo",
            Box::new({
                let photo = photo.clone();
                move |dir: &Path| {
                    let p = dir.join(&photo);
                    let mut b = std::fs::read(&p).unwrap();
                    b[10] ^= 0xff;
                    std::fs::write(p, b).unwrap();
                }
            }),
            photo.clone(),
        ),
        (
            "truncated database",
            Box::new({
                let db = db.clone();
                move |dir: &Path| {
                    let p = dir.join(&db);
                    let b = std::fs::read(&p).unwrap();
                    std::fs::write(p, &b[..b.len() / 2]).unwrap();
                }
            }),
            db.clone(),
        ),
        (
            "missing photo",
            Box::new({
                let photo = photo.clone();
                move |dir: &Path| std::fs::remove_file(dir.join(&photo)).unwrap()
            }),
            "missing".into(),
        ),
        (
            "missing manifest",
            Box::new(|dir: &Path| std::fs::remove_file(dir.join("manifest.json")).unwrap()),
            "manifest.json".into(),
        ),
        (
            "newer schema",
            Box::new(|dir: &Path| {
                let p = dir.join("manifest.json");
                let mut m: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                m["schema_version"] = 99.into();
                std::fs::write(p, serde_json::to_vec(&m).unwrap()).unwrap();
            }),
            "99".into(),
        ),
        (
            "other backend",
            Box::new(|dir: &Path| {
                let p = dir.join("manifest.json");
                let mut m: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                let other = if m["backend"] == "sqlite" {
                    "postgres"
                } else {
                    "sqlite"
                };
                m["backend"] = other.into();
                std::fs::write(p, serde_json::to_vec(&m).unwrap()).unwrap();
            }),
            "store and this server uses".into(),
        ),
        (
            "a path outside the folder",
            Box::new(|dir: &Path| {
                let p = dir.join("manifest.json");
                let mut m: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                m["files"][1]["path"] = "../../etc/passwd".into();
                std::fs::write(p, serde_json::to_vec(&m).unwrap()).unwrap();
            }),
            "bad path".into(),
        ),
    ];
    for (i, (what, damage, named)) in cases.into_iter().enumerate() {
        let dir = site.dir(&format!("damaged-{i}"));
        copy_dir(&good, &dir);
        damage(&dir);
        let e = backup::restore(&site.loc, &dir)
            .err()
            .unwrap_or_else(|| panic!("{what}: restored"))
            .to_string();
        assert!(e.contains(&named), "{what}: {e}");
        assert_eq!(live_state(site), live, "{what}: the live store changed");
    }
    // The undamaged backup still restores.
    backup::restore(&site.loc, &good).unwrap();
    assert_ne!(live_state(site).0, live.0);
}

#[test]
fn sqlite_backup_while_pushing_then_restore() {
    backup_while_pushing_then_restore(&Site::sqlite());
}

#[test]
fn postgres_backup_while_pushing_then_restore() {
    backup_while_pushing_then_restore(&Site::postgres("xyt_Backup_Push"));
}

#[test]
fn sqlite_damaged_backups_are_refused_untouched() {
    damaged_backups_are_refused_untouched(&Site::sqlite());
}

#[test]
fn postgres_damaged_backups_are_refused_untouched() {
    damaged_backups_are_refused_untouched(&Site::postgres("xyt_backup_damaged"));
}

#[test]
fn backing_up_into_a_folder_in_use_is_refused() {
    let site = Site::sqlite();
    drop(site.storage());
    let out = site.dir("used");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("x"), b"x").unwrap();
    let e = backup::backup(&site.loc, &out).unwrap_err().to_string();
    assert!(e.contains("not empty"), "{e}");
}
