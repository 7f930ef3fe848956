//! Photo uploads through the real HTTP server on 127.0.0.1, on both backends (the folder, and
//! an S3 bucket at `XY_S3_URL`; without it the S3 half fails unless `XY_SKIP_S3=1`): an upload
//! begun on one server instance is resumed on another sharing the same store and photos (the
//! offset `HEAD` reports comes from the shared files), the finished photo downloads from
//! either, and the per-device quota and `max_photo` are answered with 413.

mod photo_common;

use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use xiangying_model::ids::PhotoHash;
use xiangying_model::org::sample;
use xiangying_server::blobs::BlobStore;
use xiangying_server::state::{AppState, Limits};
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::{CaseMeta, NewChange, Storage, with_tx};
use xiangying_server::{Running, admin, auth};

/// Sends one request; returns the status, the head and the body.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&answer[..split]).to_lowercase();
    let status = head[9..12].parse().unwrap();
    (status, head, answer[split + 4..].to_vec())
}

fn offset_of(head: &str) -> Option<u64> {
    head.lines()
        .find_map(|l| l.strip_prefix("upload-offset: "))
        .map(|v| v.trim().parse().unwrap())
}

/// A store with the sample street, the centre's device enrolled, and a case citing `hashes`.
fn street(dir: &std::path::Path, hashes: &[PhotoHash]) -> (Arc<dyn Storage>, String) {
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(dir).unwrap());
    admin::publish(
        storage.as_ref(),
        &sample::roster_json().unwrap(),
        &sample::catalogue_json().unwrap(),
    )
    .unwrap();
    let code = admin::issue_code(storage.as_ref(), "center").unwrap();
    let token = "c".repeat(40);
    let enrolled = with_tx(storage.as_ref(), |tx| {
        auth::enrol(tx, &code, &token, "phone", 1, i64::MAX)
    })
    .unwrap();
    assert!(matches!(enrolled, auth::Enrolment::Enrolled(_)));
    with_tx(storage.as_ref(), |t| {
        let first = t.allocate_positions(1)?;
        t.save_case(
            &CaseMeta {
                case_id: "case-1".into(),
                number: None,
                status: "open".into(),
                level: "grid".into(),
                grid: "g1".into(),
                community: "c1".into(),
                reporter: "center".into(),
                category: sample::LITTER.into(),
                created_at: 1,
                received_at: 2,
                ranking: None,
            },
            b"snapshot",
            &[NewChange {
                bytes: b"change".to_vec(),
                device: None,
            }],
            first,
            &["community:c1".parse().unwrap()],
            hashes,
        )
    })
    .unwrap();
    (storage, token)
}

fn serve(storage: &Arc<dyn Storage>, blobs: BlobStore, limits: &Limits) -> Running {
    let state = Arc::new(AppState::new(storage.clone(), blobs, limits.clone()));
    xiangying_server::spawn(state, "127.0.0.1:0".parse().unwrap()).unwrap()
}

fn photo(seed: u8, len: usize) -> (Vec<u8>, PhotoHash) {
    let data: Vec<u8> = (0..len).map(|i| (i as u8) ^ seed).collect();
    let hash = PhotoHash::from(hex::encode(Sha256::digest(&data)));
    (data, hash)
}

/// The whole story on one backend; `blobs` opens the photos of one more server instance.
fn resume_on_a_second_instance(blobs: &dyn Fn() -> BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let (data, hash) = photo(1, 600_000);
    let (big, big_hash) = photo(2, 3000);
    let (storage, token) = street(dir.path(), &[hash.clone(), big_hash.clone()]);
    let limits = Limits {
        max_photo: 700_000,
        device_photo_quota_bytes: 602_000,
        ..Limits::default()
    };
    let a = serve(&storage, blobs(), &limits);
    let b = serve(&storage, blobs(), &limits);
    let path = format!("/v1/photos/{}", hash.as_str());
    let patch = |server: &Running, path: &str, offset: usize, total: usize, bytes: &[u8]| {
        request(
            server.addr,
            "PATCH",
            path,
            &token,
            &[
                ("Upload-Offset", offset.to_string()),
                ("Upload-Length", total.to_string()),
            ],
            bytes,
        )
    };
    let (status, head, _) = request(a.addr, "HEAD", &path, &token, &[], b"");
    assert_eq!((status, offset_of(&head)), (404, Some(0)));
    let (status, head, _) = patch(&a, &path, 0, 600_000, &data[..250_000]);
    assert_eq!((status, offset_of(&head)), (202, Some(250_000)), "{head}");
    // The second instance knows where the upload stands, and refuses a wrong offset.
    let (status, head, _) = request(b.addr, "HEAD", &path, &token, &[], b"");
    assert_eq!((status, offset_of(&head)), (404, Some(250_000)));
    let (status, _, body) = patch(&b, &path, 100_000, 600_000, &data[100_000..200_000]);
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    let (status, _, _) = patch(&b, &path, 250_000, 600_000, &data[250_000..500_000]);
    assert_eq!(status, 202);
    let (status, _, _) = patch(&a, &path, 500_000, 600_000, &data[500_000..]);
    assert_eq!(status, 201);
    for server in [&a, &b] {
        let (status, _, body) = request(server.addr, "GET", &path, &token, &[], b"");
        assert_eq!(status, 200);
        assert!(body == data, "the download differs");
    }
    // Over the quota: 600,000 bytes of the stored photo plus 3,000 of another.
    let big_path = format!("/v1/photos/{}", big_hash.as_str());
    let (status, _, body) = patch(&a, &big_path, 0, 3000, &big);
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("quota"));
    // Over max_photo.
    let (status, _, body) = patch(&b, &big_path, 0, 800_000, &big);
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("max_photo"));
}

#[test]
fn an_upload_resumes_on_a_second_instance_over_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("photos");
    resume_on_a_second_instance(&|| BlobStore::new(root.clone(), 700_000));
}

#[test]
fn an_upload_resumes_on_a_second_instance_over_s3() {
    let Some(url) = photo_common::s3_url() else {
        return;
    };
    let bucket = photo_common::unique_bucket("http");
    photo_common::create_bucket(&url, &bucket);
    resume_on_a_second_instance(&|| photo_common::s3_store(&url, &bucket, 700_000));
}
