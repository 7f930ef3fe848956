//! The real `xiangying-server` binary and the photo clean-up: `admin sweep-photos` with and
//! without `--dry-run` on the folder backend and on an S3 bucket (`XY_S3_URL`; without it the
//! S3 half fails unless `XY_SKIP_S3=1`), backup and restore with the S3 backend, and the clean-up
//! schedule that `serve` runs, stopping with it.

mod common;
mod photo_common;

use common::ok;
use sha2::{Digest, Sha256};
use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use xiangying_server::blobs::BlobStore;
use xiangying_server::photo_sweep::{self, SweepPolicy};
use xiangying_server::state::{AppState, Limits};
use xiangying_server::storage::sqlite::SqliteStorage;

/// Runs the binary with `--config config --data data` and `args`.
fn with_config(config: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xiangying-server"))
        .arg("--config")
        .arg(config)
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("XIANGYING_POSTGRES")
        .env_remove("XIANGYING_CONFIG")
        .env("XIANGYING_LOG", "warn")
        .output()
        .unwrap()
}

/// Writes a file stored 30 days ago.
fn old_file(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(30 * 86_400))
        .unwrap();
}

fn hash_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[test]
fn sweep_photos_counts_in_a_dry_run_and_removes_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::publish_sample(&data);
    let orphan = hash_of(b"orphan photo");
    let photo = data.join("photos").join(&orphan[..2]).join(&orphan);
    old_file(&photo, b"orphan photo");
    let partial = data.join("photos/partial/dev-a").join(hash_of(b"x"));
    old_file(&partial, b"half");
    let config = dir.path().join("xy.toml");
    fs::write(&config, "[photos]\norphan_grace_days = 7\n").unwrap();
    let out = ok(&with_config(
        &config,
        &data,
        &["admin", "sweep-photos", "--dry-run"],
    ));
    assert_eq!(
        out.trim(),
        "would remove: expired partial uploads: 1 (4 bytes); orphaned photos: 1 (12 bytes)"
    );
    assert!(photo.exists() && partial.exists());
    // A longer grace period keeps the 30-day-old file.
    fs::write(&config, "[photos]\norphan_grace_days = 60\n").unwrap();
    let out = ok(&with_config(&config, &data, &["admin", "sweep-photos"]));
    assert_eq!(
        out.trim(),
        "removed: expired partial uploads: 1 (4 bytes); orphaned photos: 0 (0 bytes)"
    );
    assert!(photo.exists() && !partial.exists());
    fs::write(&config, "[photos]\norphan_grace_days = 7\n").unwrap();
    let out = ok(&with_config(&config, &data, &["admin", "sweep-photos"]));
    assert!(out.contains("orphaned photos: 1 (12 bytes)"), "{out}");
    assert!(!photo.exists());
}

#[test]
fn sweep_photos_backup_and_restore_on_a_bucket() {
    let Some(url) = photo_common::s3_url() else {
        return;
    };
    let bucket = photo_common::unique_bucket("cli");
    photo_common::create_bucket(&url, &bucket);
    let store = photo_common::s3_store(&url, &bucket, 1 << 20);
    let bytes = b"a young photo".to_vec();
    let hash = hash_of(&bytes);
    store
        .append(
            &"dev-a".into(),
            &hash.clone().into(),
            xiangying_server::blobs::Chunk {
                offset: 0,
                total: bytes.len() as u64,
                bytes: &bytes,
            },
            Duration::from_secs(3600),
            || Ok(()),
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::publish_sample(&data);
    let config = dir.path().join("xy.toml");
    fs::write(
        &config,
        format!(
            "[photos]\nbackend = \"s3\"\nbucket = \"{bucket}\"\nendpoint = \"{url}\"\n\
             prefix = \"photos/\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\n\
             allow_http = true\n"
        ),
    )
    .unwrap();
    let out = ok(&with_config(
        &config,
        &data,
        &["admin", "sweep-photos", "--dry-run"],
    ));
    // Unreferenced, but younger than the grace period: kept.
    assert_eq!(
        out.trim(),
        "would remove: expired partial uploads: 0 (0 bytes); orphaned photos: 0 (0 bytes)"
    );
    assert!(store.is_complete(&hash).unwrap());
    // Backup streams the bucket's photos into the backup folder ...
    let backup = dir.path().join("backup");
    ok(&with_config(&config, &data, &["admin", "migrate"]));
    let out = ok(&with_config(
        &config,
        &data,
        &["admin", "backup", "--out", backup.to_str().unwrap()],
    ));
    assert!(out.contains("2 files"), "{out}");
    let copied = backup.join("photos").join(&hash[..2]).join(&hash);
    assert_eq!(fs::read(&copied).unwrap(), bytes);
    let manifest = fs::read_to_string(backup.join("manifest.json")).unwrap();
    assert!(
        manifest.contains(&format!("photos/{}/{hash}", &hash[..2])),
        "{manifest}"
    );
    // ... and a restore puts them into the bucket it is configured with, leaving the data
    // folder without photos.
    let other = photo_common::unique_bucket("cli-restore");
    photo_common::create_bucket(&url, &other);
    fs::write(
        &config,
        fs::read_to_string(&config).unwrap().replace(
            &format!("bucket = \"{bucket}\""),
            &format!("bucket = \"{other}\""),
        ),
    )
    .unwrap();
    ok(&with_config(
        &config,
        &data,
        &["admin", "restore", "--from", backup.to_str().unwrap()],
    ));
    let restored = photo_common::s3_store(&url, &other, 1 << 20);
    assert_eq!(restored.read(&hash).unwrap(), bytes);
    assert!(!data.join("photos").exists());
    // A partial upload was never left behind by the restore.
    assert_eq!(restored.device_partial_bytes(&"restore".into()).unwrap(), 0);
}

#[test]
fn the_scheduled_clean_up_runs_and_stops_with_its_server() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::new(dir.path().join("photos"), 1 << 20);
    let orphan = hash_of(b"orphan photo");
    let photo = dir.path().join("photos").join(&orphan[..2]).join(&orphan);
    old_file(&photo, b"orphan photo");
    let state = Arc::new(AppState::new(
        Arc::new(SqliteStorage::open(dir.path()).unwrap()),
        blobs,
        Limits::default(),
    ));
    let policy = SweepPolicy {
        partial_ttl: Duration::from_secs(3600),
        orphan_grace: Duration::from_secs(86_400),
        dry_run: false,
    };
    xiangying_server::metrics::install();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let sweeper = rt.spawn(photo_sweep::run_every(
        state,
        policy,
        Duration::from_millis(20),
        async move {
            let _ = stopped.await;
        },
    ));
    // Waits for the condition: the orphan is gone.
    while photo.exists() {
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.send(()).unwrap();
    rt.block_on(sweeper).unwrap();
    let text = xiangying_server::metrics::render();
    assert!(
        text.contains("xiangying_photo_sweep_removed_total{kind=\"orphan\"} 1"),
        "{text}"
    );
}

/// Runs `serve` with `photos` as the `[photos]` table, waits for `/health`, stops it with
/// SIGTERM and checks that it ends cleanly (the clean-up schedule stops with the server).
fn serve_and_stop(photos: &str) {
    let dir = tempfile::tempdir().unwrap();
    common::publish_sample(&dir.path().join("data"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = dir.path().join("xiangying.toml");
    fs::write(
        &cfg,
        format!(
            "data = {:?}\nlisten = \"127.0.0.1:{port}\"\n[photos]\nsweep_every_minutes = 1\n{photos}",
            dir.path().join("data").display().to_string()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_xiangying-server"))
        .args(["--config", cfg.to_str().unwrap(), "serve"])
        .env_remove("XIANGYING_POSTGRES")
        .env_remove("XIANGYING_DATA")
        .env_remove("XIANGYING_LISTEN")
        .env("XIANGYING_LOG", "warn")
        .spawn()
        .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    common::wait_until("serve answers /health", || {
        assert!(child.try_wait().unwrap().is_none(), "serve ended early");
        common::http_get(addr, "/health", "") == Some(200)
    });
    common::sigterm(&child);
    assert!(child.wait().unwrap().success());
}

#[test]
fn serve_with_the_folder_stops_cleanly_with_its_clean_up() {
    serve_and_stop("");
}

#[test]
fn serve_with_a_bucket_stops_cleanly_with_its_clean_up() {
    let Some(url) = photo_common::s3_url() else {
        return;
    };
    let bucket = photo_common::unique_bucket("serve");
    photo_common::create_bucket(&url, &bucket);
    serve_and_stop(&format!(
        "backend = \"s3\"\nbucket = \"{bucket}\"\nendpoint = \"{url}\"\n\
         access_key_id = \"test\"\nsecret_access_key = \"test\"\nallow_http = true\n"
    ));
}
