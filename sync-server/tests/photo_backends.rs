//! One suite of photo-storage tests run against both backends (decision 0037): the folder and
//! an S3-compatible bucket (`XY_S3_URL`, a fresh bucket per test; without it the S3 half
//! fails unless `XY_SKIP_S3=1`). Every test takes a [`Fixture`]; the `conformance!` macro runs
//! it once per backend.
//!
//! Resumable uploads at offsets, a wrong offset, a hash mismatch, the size limits, the
//! per-device partial bytes the quota counts, two devices uploading the same file at once, a
//! download, a partial upload never downloadable, the expiry sweep, the orphan sweep with its
//! grace period, and an upload begun on one server instance and finished on another (through
//! the real HTTP server: `photo_http.rs`).

mod photo_common;

use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use xiangying_model::ids::{DeviceId, PhotoHash};
use xiangying_server::blobs::{BlobStatus, BlobStore, Chunk};
use xiangying_server::error::ServerError;
use xiangying_server::photo_sweep::{self, SweepPolicy};
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::{CaseMeta, Storage, with_tx};

const DAY: Duration = Duration::from_secs(86_400);
const MAX: u64 = 1 << 20;

/// A store on one backend, the means to open a second server instance on the same files, and
/// a SQLite store for the orphan sweep.
struct Fixture {
    store: BlobStore,
    second: Box<dyn Fn() -> BlobStore>,
    storage: Arc<dyn Storage>,
    _dir: tempfile::TempDir,
}

fn folder(_test: &str) -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("photos");
    let r2 = root.clone();
    Some(Fixture {
        store: BlobStore::new(root, MAX),
        second: Box::new(move || BlobStore::new(r2.clone(), MAX)),
        storage: Arc::new(SqliteStorage::open(dir.path()).unwrap()),
        _dir: dir,
    })
}

fn s3(test: &str) -> Option<Fixture> {
    let url = photo_common::s3_url()?;
    let bucket = photo_common::unique_bucket(test);
    photo_common::create_bucket(&url, &bucket);
    let dir = tempfile::tempdir().unwrap();
    let (u2, b2) = (url.clone(), bucket.clone());
    Some(Fixture {
        store: photo_common::s3_store(&url, &bucket, MAX),
        second: Box::new(move || photo_common::s3_store(&u2, &b2, MAX)),
        storage: Arc::new(SqliteStorage::open(dir.path()).unwrap()),
        _dir: dir,
    })
}

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod folder_backend {
            $(#[test]
            fn $test() {
                if let Some(f) = super::folder(stringify!($test)) {
                    super::$test(&f);
                }
            })*
        }
        mod s3_backend {
            $(#[test]
            fn $test() {
                if let Some(f) = super::s3(stringify!($test)) {
                    super::$test(&f);
                }
            })*
        }
    };
}

conformance!(
    resumable_upload_at_offsets,
    a_wrong_offset_is_refused_naming_the_right_one,
    a_hash_mismatch_is_refused_and_nothing_is_stored,
    size_limits_hold,
    partial_bytes_count_per_device_for_the_quota,
    two_devices_upload_the_same_file_at_once,
    a_whole_file_downloads_as_read_and_as_a_stream,
    a_partial_upload_is_never_downloadable,
    a_failed_record_keeps_the_file_out,
    expired_partial_uploads_are_swept,
    orphans_are_swept_after_the_grace_period_and_referenced_files_never,
    an_upload_begun_on_one_instance_finishes_on_another,
);

fn dev(id: &str) -> DeviceId {
    DeviceId::from(id)
}

fn photo(seed: u8, len: usize) -> (Vec<u8>, PhotoHash) {
    let data: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    let hash = PhotoHash::from(hex::encode(Sha256::digest(&data)));
    (data, hash)
}

fn ck(offset: usize, total: usize, bytes: &[u8]) -> Chunk<'_> {
    Chunk {
        offset: offset as u64,
        total: total as u64,
        bytes,
    }
}

fn ok() -> Result<(), ServerError> {
    Ok(())
}

/// Uploads `data` whole in chunks of `step` bytes.
fn upload(store: &BlobStore, device: &str, hash: &PhotoHash, data: &[u8], step: usize) {
    let mut at = 0;
    while at < data.len() {
        let end = (at + step).min(data.len());
        let status = store
            .append(
                &dev(device),
                hash,
                ck(at, data.len(), &data[at..end]),
                DAY,
                ok,
            )
            .unwrap();
        if end == data.len() {
            assert_eq!(status, BlobStatus::Complete);
        } else {
            assert_eq!(status, BlobStatus::Partial(end as u64));
        }
        at = end;
    }
}

/// Waits (a condition, not a time) until the clock is past everything stored so far, so that
/// a time to live or grace period of 0 has passed for it.
fn wait_until_older_than_now(stored: SystemTime) {
    while SystemTime::now()
        .duration_since(stored)
        .is_ok_and(|age| age < Duration::from_secs(2))
    {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn resumable_upload_at_offsets(f: &Fixture) {
    let (data, hash) = photo(1, 10_000);
    let s = &f.store;
    assert!(!s.is_complete(hash.as_str()).unwrap());
    assert_eq!(s.partial_len(&dev("dev-a"), &hash, DAY).unwrap(), 0);
    assert_eq!(
        s.append(&dev("dev-a"), &hash, ck(0, 10_000, &data[..3000]), DAY, ok)
            .unwrap(),
        BlobStatus::Partial(3000)
    );
    assert_eq!(s.partial_len(&dev("dev-a"), &hash, DAY).unwrap(), 3000);
    assert_eq!(
        s.append(
            &dev("dev-a"),
            &hash,
            ck(3000, 10_000, &data[3000..7000]),
            DAY,
            ok
        )
        .unwrap(),
        BlobStatus::Partial(7000)
    );
    assert!(!s.is_complete(hash.as_str()).unwrap());
    assert_eq!(
        s.append(
            &dev("dev-a"),
            &hash,
            ck(7000, 10_000, &data[7000..]),
            DAY,
            ok
        )
        .unwrap(),
        BlobStatus::Complete
    );
    assert!(s.is_complete(hash.as_str()).unwrap());
    assert_eq!(s.read(hash.as_str()).unwrap(), data);
    assert_eq!(s.partial_len(&dev("dev-a"), &hash, DAY).unwrap(), 0);
    assert_eq!(s.device_partial_bytes(&dev("dev-a")).unwrap(), 0);
    assert_eq!(s.complete_hashes().unwrap(), vec![hash.as_str().to_owned()]);
}

fn a_wrong_offset_is_refused_naming_the_right_one(f: &Fixture) {
    let (data, hash) = photo(2, 100);
    let s = &f.store;
    s.append(&dev("dev-a"), &hash, ck(0, 100, &data[..40]), DAY, ok)
        .unwrap();
    for wrong in [0, 20, 41, 90] {
        let r = s.append(
            &dev("dev-a"),
            &hash,
            ck(wrong, 100, &data[wrong..]),
            DAY,
            ok,
        );
        assert!(
            matches!(&r, Err(ServerError::Conflict(m)) if m.contains("40")),
            "{wrong}: {r:?}"
        );
    }
    assert_eq!(s.partial_len(&dev("dev-a"), &hash, DAY).unwrap(), 40);
    // Resuming at the offset the server names works.
    assert_eq!(
        s.append(&dev("dev-a"), &hash, ck(40, 100, &data[40..]), DAY, ok)
            .unwrap(),
        BlobStatus::Complete
    );
}

fn a_hash_mismatch_is_refused_and_nothing_is_stored(f: &Fixture) {
    let (data, _) = photo(3, 6000);
    let (_, other) = photo(4, 6000);
    let s = &f.store;
    s.append(&dev("dev-a"), &other, ck(0, 6000, &data[..2500]), DAY, ok)
        .unwrap();
    let r = s.append(
        &dev("dev-a"),
        &other,
        ck(2500, 6000, &data[2500..]),
        DAY,
        ok,
    );
    assert!(
        matches!(&r, Err(ServerError::BadRequest(m)) if m.contains("do not match")),
        "{r:?}"
    );
    assert!(!s.is_complete(other.as_str()).unwrap());
    assert_eq!(s.partial_len(&dev("dev-a"), &other, DAY).unwrap(), 0);
    assert_eq!(s.device_partial_bytes(&dev("dev-a")).unwrap(), 0);
    assert!(s.complete_hashes().unwrap().is_empty());
    assert!(matches!(s.open(other.as_str()), Err(ServerError::NotFound)));
}

fn size_limits_hold(f: &Fixture) {
    let (data, hash) = photo(5, 100);
    let s = &f.store;
    let r = s.append(
        &dev("dev-a"),
        &hash,
        ck(0, MAX as usize + 1, &data),
        DAY,
        ok,
    );
    assert!(
        matches!(&r, Err(ServerError::TooLarge(m)) if m.contains("max_photo")),
        "{r:?}"
    );
    let r = s.append(&dev("dev-a"), &hash, ck(0, 50, &data), DAY, ok);
    assert!(
        matches!(&r, Err(ServerError::BadRequest(m)) if m.contains("past")),
        "{r:?}"
    );
    assert_eq!(s.partial_len(&dev("dev-a"), &hash, DAY).unwrap(), 0);
    assert!(s.is_complete("../../etc/passwd").is_err());
    assert!(s.partial_len(&dev("../x"), &hash, DAY).is_err());
    assert!(s.partial_len(&dev("a/b"), &hash, DAY).is_err());
}

fn partial_bytes_count_per_device_for_the_quota(f: &Fixture) {
    let (d1, h1) = photo(6, 1000);
    let (d2, h2) = photo(7, 1000);
    let s = &f.store;
    s.append(&dev("dev-a"), &h1, ck(0, 1000, &d1[..300]), DAY, ok)
        .unwrap();
    s.append(&dev("dev-a"), &h1, ck(300, 1000, &d1[300..400]), DAY, ok)
        .unwrap();
    s.append(&dev("dev-a"), &h2, ck(0, 1000, &d2[..250]), DAY, ok)
        .unwrap();
    s.append(&dev("dev-b"), &h2, ck(0, 1000, &d2[..10]), DAY, ok)
        .unwrap();
    assert_eq!(s.device_partial_bytes(&dev("dev-a")).unwrap(), 650);
    assert_eq!(s.device_partial_bytes(&dev("dev-b")).unwrap(), 10);
    assert_eq!(s.device_partial_bytes(&dev("dev-c")).unwrap(), 0);
    // A device id that is a prefix of another counts only its own.
    assert_eq!(s.device_partial_bytes(&dev("dev")).unwrap(), 0);
    upload(s, "dev-b", &h1, &d1, 1000);
    assert_eq!(s.device_partial_bytes(&dev("dev-b")).unwrap(), 10);
}

fn two_devices_upload_the_same_file_at_once(f: &Fixture) {
    let (data, hash) = photo(8, 20_000);
    let threads: Vec<_> = ["dev-a", "dev-b"]
        .into_iter()
        .map(|d| {
            let s = f.store.clone();
            let (data, hash) = (data.clone(), hash.clone());
            std::thread::spawn(move || upload(&s, d, &hash, &data, 3000))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(f.store.read(hash.as_str()).unwrap(), data);
    assert_eq!(f.store.complete_hashes().unwrap().len(), 1);
    for d in ["dev-a", "dev-b"] {
        assert_eq!(f.store.device_partial_bytes(&dev(d)).unwrap(), 0);
    }
}

fn a_whole_file_downloads_as_read_and_as_a_stream(f: &Fixture) {
    let (data, hash) = photo(9, 300_000);
    upload(&f.store, "dev-a", &hash, &data, 100_000);
    let mut blob = f.store.open(hash.as_str()).unwrap();
    assert_eq!(blob.len, 300_000);
    let mut got = Vec::new();
    let mut buf = [0u8; 7000];
    loop {
        let n = blob.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, data);
    let blob = f.store.open(hash.as_str()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let chunks: Vec<bytes::Bytes> = rt.block_on(async {
        use futures::TryStreamExt;
        blob.into_stream().try_collect().await.unwrap()
    });
    assert_eq!(chunks.concat(), data);
}

fn a_partial_upload_is_never_downloadable(f: &Fixture) {
    let (data, hash) = photo(10, 1000);
    f.store
        .append(&dev("dev-a"), &hash, ck(0, 1000, &data[..999]), DAY, ok)
        .unwrap();
    assert!(!f.store.is_complete(hash.as_str()).unwrap());
    assert!(matches!(
        f.store.open(hash.as_str()),
        Err(ServerError::NotFound)
    ));
    assert!(matches!(
        f.store.read(hash.as_str()),
        Err(ServerError::NotFound)
    ));
    assert!(f.store.complete_hashes().unwrap().is_empty());
}

fn a_failed_record_keeps_the_file_out(f: &Fixture) {
    let (data, hash) = photo(11, 500);
    let r = f
        .store
        .append(&dev("dev-a"), &hash, ck(0, 500, &data), DAY, || {
            Err(ServerError::storage_state("down"))
        });
    assert!(matches!(r, Err(ServerError::Storage(_))), "{r:?}");
    assert!(!f.store.is_complete(hash.as_str()).unwrap());
    assert_eq!(f.store.partial_len(&dev("dev-a"), &hash, DAY).unwrap(), 0);
    assert_eq!(f.store.device_partial_bytes(&dev("dev-a")).unwrap(), 0);
}

fn expired_partial_uploads_are_swept(f: &Fixture) {
    let (data, hash) = photo(12, 1000);
    let s = &f.store;
    s.append(&dev("dev-a"), &hash, ck(0, 1000, &data[..400]), DAY, ok)
        .unwrap();
    s.append(
        &dev("dev-a"),
        &hash,
        ck(400, 1000, &data[400..500]),
        DAY,
        ok,
    )
    .unwrap();
    s.append(&dev("dev-b"), &hash, ck(0, 1000, &data[..200]), DAY, ok)
        .unwrap();
    assert_eq!(s.sweep(DAY).unwrap(), 0);
    wait_until_older_than_now(SystemTime::now());
    // A dry run counts (two uploads, 700 bytes) and removes nothing.
    let dry = s.sweep_partials(Duration::ZERO, true).unwrap();
    assert_eq!((dry.count, dry.bytes), (2, 700));
    assert_eq!(s.partial_len(&dev("dev-a"), &hash, DAY).unwrap(), 500);
    // The asking device's own expired upload counts as 0 and is removed.
    assert_eq!(
        s.partial_len(&dev("dev-b"), &hash, Duration::ZERO).unwrap(),
        0
    );
    assert_eq!(s.device_partial_bytes(&dev("dev-b")).unwrap(), 0);
    let report = photo_sweep::sweep(
        f.storage.as_ref(),
        s,
        SweepPolicy {
            partial_ttl: Duration::ZERO,
            orphan_grace: DAY,
            dry_run: false,
        },
    )
    .unwrap();
    assert_eq!((report.partial.count, report.partial.bytes), (1, 500));
    assert_eq!(s.partial_len(&dev("dev-a"), &hash, DAY).unwrap(), 0);
    assert_eq!(s.device_partial_bytes(&dev("dev-a")).unwrap(), 0);
    // The upload starts again from 0.
    upload(s, "dev-a", &hash, &data, 600);
}

fn save_case_citing(storage: &dyn Storage, case_id: &str, hashes: &[&PhotoHash]) {
    with_tx(storage, |t| {
        let first = t.allocate_positions(1)?;
        t.save_case(
            &CaseMeta {
                case_id: case_id.into(),
                number: None,
                status: "open".into(),
                level: "grid".into(),
                grid: "g1".into(),
                community: "c1".into(),
                reporter: "p1".into(),
                category: "cat".into(),
                created_at: 1,
                received_at: 2,
                ranking: None,
            },
            b"snapshot",
            &[xiangying_server::storage::NewChange {
                bytes: b"change".to_vec(),
                device: None,
            }],
            first,
            &[],
            &hashes.iter().map(|h| (*h).clone()).collect::<Vec<_>>(),
        )
    })
    .unwrap();
}

fn orphans_are_swept_after_the_grace_period_and_referenced_files_never(f: &Fixture) {
    let (d1, cited) = photo(13, 2000);
    let (d2, orphan) = photo(14, 3000);
    upload(&f.store, "dev-a", &cited, &d1, 2000);
    upload(&f.store, "dev-a", &orphan, &d2, 2000);
    save_case_citing(f.storage.as_ref(), "case-1", &[&cited]);
    let policy = |grace, dry_run| SweepPolicy {
        partial_ttl: DAY,
        orphan_grace: grace,
        dry_run,
    };
    // Younger than the grace period: kept, referenced or not.
    let r = photo_sweep::sweep(f.storage.as_ref(), &f.store, policy(DAY, false)).unwrap();
    assert_eq!(r.orphan.count, 0);
    assert_eq!(f.store.complete_hashes().unwrap().len(), 2);
    wait_until_older_than_now(SystemTime::now());
    let r = photo_sweep::sweep(f.storage.as_ref(), &f.store, policy(Duration::ZERO, true)).unwrap();
    assert_eq!((r.orphan.count, r.orphan.bytes), (1, 3000));
    assert_eq!(
        f.store.complete_hashes().unwrap().len(),
        2,
        "a dry run removes nothing"
    );
    let r =
        photo_sweep::sweep(f.storage.as_ref(), &f.store, policy(Duration::ZERO, false)).unwrap();
    assert_eq!((r.orphan.count, r.orphan.bytes), (1, 3000));
    assert_eq!(
        f.store.complete_hashes().unwrap(),
        vec![cited.as_str().to_owned()]
    );
    assert_eq!(f.store.read(cited.as_str()).unwrap(), d1);
    assert!(!f.store.is_complete(orphan.as_str()).unwrap());
}

fn an_upload_begun_on_one_instance_finishes_on_another(f: &Fixture) {
    let (data, hash) = photo(15, 50_000);
    f.store
        .append(
            &dev("dev-a"),
            &hash,
            ck(0, 50_000, &data[..20_000]),
            DAY,
            ok,
        )
        .unwrap();
    let other = (f.second)();
    assert_eq!(
        other.partial_len(&dev("dev-a"), &hash, DAY).unwrap(),
        20_000
    );
    let r = other.append(&dev("dev-a"), &hash, ck(0, 50_000, &data), DAY, ok);
    assert!(
        matches!(&r, Err(ServerError::Conflict(m)) if m.contains("20000")),
        "{r:?}"
    );
    assert_eq!(
        other
            .append(
                &dev("dev-a"),
                &hash,
                ck(20_000, 50_000, &data[20_000..35_000]),
                DAY,
                ok
            )
            .unwrap(),
        BlobStatus::Partial(35_000)
    );
    // Back on the first instance, then done.
    assert_eq!(
        f.store.partial_len(&dev("dev-a"), &hash, DAY).unwrap(),
        35_000
    );
    assert_eq!(
        f.store
            .append(
                &dev("dev-a"),
                &hash,
                ck(35_000, 50_000, &data[35_000..]),
                DAY,
                ok
            )
            .unwrap(),
        BlobStatus::Complete
    );
    assert_eq!(other.read(hash.as_str()).unwrap(), data);
}
