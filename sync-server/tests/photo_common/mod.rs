//! Shared by the photo-backend suites: the S3 test server (`XY_S3_URL`, started by
//! `scripts/s3`), a fresh bucket per test, and stores over either backend.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU32, Ordering};
use xiangying_server::blobs::{BackendKind, BlobStore, PhotosConfig};

/// The S3 test server's URL, or `None` when the S3 half is explicitly skipped. Like the
/// PostgreSQL suites: without `XY_S3_URL` the S3 half fails unless `XY_SKIP_S3=1`.
pub fn s3_url() -> Option<String> {
    match std::env::var("XY_S3_URL") {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_owned()),
        _ if std::env::var("XY_SKIP_S3").as_deref() == Ok("1") => None,
        _ => panic!(
            "XY_S3_URL is not set: the S3 photo-storage tests need an S3-compatible server. Run \
             `export XY_S3_URL=\"$(bash scripts/s3 | tail -n 1)\"` first, or set XY_SKIP_S3=1 \
             to skip them knowingly."
        ),
    }
}

/// A bucket name no other test uses.
pub fn unique_bucket(test: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let mut name: String = format!(
        "xy-{}-{}-{}-{}",
        test.replace('_', "-"),
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    );
    name.truncate(63);
    name.trim_end_matches('-').to_owned()
}

/// Creates `bucket` on the S3 test server (a plain `PUT /<bucket>`; the test server does not
/// check signatures). Panics, naming the URL, when the server does not answer.
pub fn create_bucket(url: &str, bucket: &str) {
    let host = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("XY_S3_URL={url}: the test server is plain http://"));
    let mut s = std::net::TcpStream::connect(host)
        .unwrap_or_else(|e| panic!("XY_S3_URL={url} does not answer: {e}"));
    write!(
        s,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer)
        .unwrap_or_else(|e| panic!("XY_S3_URL={url}: {e}"));
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "creating bucket {bucket} at {url}: {answer}"
    );
}

/// The `[photos]` table of a server on `bucket` at `url`.
pub fn s3_config(url: &str, bucket: &str) -> PhotosConfig {
    PhotosConfig {
        backend: BackendKind::S3,
        bucket: Some(bucket.to_owned()),
        endpoint: Some(url.to_owned()),
        region: Some("us-east-1".into()),
        prefix: Some("photos/".into()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        allow_http: true,
        ..PhotosConfig::default()
    }
}

/// A store on `bucket` at `url` (a new one per call: a second server instance).
pub fn s3_store(url: &str, bucket: &str, max_bytes: u64) -> BlobStore {
    BlobStore::open_configured(
        &s3_config(url, bucket),
        std::path::Path::new("/nonexistent"),
        max_bytes,
    )
    .unwrap()
}
