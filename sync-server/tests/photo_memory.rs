//! A photo download of 8 MB holds less than 1 MB in the server's memory, from the folder and
//! from an S3-compatible bucket (`XY_S3_URL`; without it the S3 half fails unless
//! `XY_SKIP_S3=1`): the real server on 127.0.0.1, a client reading slowly, and a counting
//! global allocator in this test binary that tracks the peak of live bytes above the level
//! before the request.

mod photo_common;

use sha2::{Digest, Sha256};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use xiangying_model::ids::PhotoHash;
use xiangying_model::org::sample;
use xiangying_server::blobs::{BlobStore, Chunk};
use xiangying_server::state::{AppState, Limits};
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::{Storage, with_tx};
use xiangying_server::{admin, auth};

/// Counts live heap bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::SeqCst) + n;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counters only add
// and subtract the sizes asked for.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as given.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as given.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The two tests share the counters: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const PHOTO_BYTES: usize = 8 << 20;
const LIMIT: usize = 1 << 20;

/// Serves `blobs` on loopback with one enrolled device that uploaded an 8 MB photo; downloads
/// it reading 16 KiB at a time, slowly; returns the peak of live bytes above the level before
/// the request.
fn peak_during_download(blobs: BlobStore) -> usize {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(dir.path()).unwrap());
    admin::publish(
        storage.as_ref(),
        &sample::roster_json().unwrap(),
        &sample::catalogue_json().unwrap(),
    )
    .unwrap();
    let code = admin::issue_code(storage.as_ref(), "cc1").unwrap();
    let token = "t".repeat(40);
    let device = with_tx(storage.as_ref(), |tx| {
        auth::enrol(tx, &code, &token, "phone", 1, i64::MAX)
    })
    .unwrap();
    let auth::Enrolment::Enrolled(device) = device else {
        panic!("not enrolled: {device:?}");
    };
    let data: Vec<u8> = (0..PHOTO_BYTES)
        .map(|i| (i as u8).wrapping_mul(7) ^ (i >> 13) as u8)
        .collect();
    let hash = PhotoHash::from(hex::encode(Sha256::digest(&data)));
    blobs
        .append(
            &device.id,
            &hash,
            Chunk {
                offset: 0,
                total: PHOTO_BYTES as u64,
                bytes: &data,
            },
            Duration::from_secs(3600),
            || {
                with_tx(storage.as_ref(), |tx| {
                    tx.add_photo_uploader(&hash, &device.id, &device.person, PHOTO_BYTES as u64, 1)
                })
            },
        )
        .unwrap();
    drop(data);
    let state = Arc::new(AppState::new(storage, blobs, Limits::default()));
    let server = xiangying_server::spawn(state, "127.0.0.1:0".parse().unwrap()).unwrap();

    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    let request = format!(
        "GET /v1/photos/{hash} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Connection: close\r\n\r\n",
        server.addr,
        hash = hash.as_str()
    );
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    s.write_all(request.as_bytes()).unwrap();
    // The head, byte by byte up to the blank line (no allocation while reading).
    let mut head = [0u8; 4096];
    let mut n = 0;
    while !head[..n].ends_with(b"\r\n\r\n") {
        assert!(n < head.len(), "head too long");
        s.read_exact(&mut head[n..n + 1]).unwrap();
        n += 1;
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head[..n])
    );
    let mut hasher = Sha256::new();
    let mut got = 0;
    let mut buf = [0u8; 16 << 10];
    loop {
        let k = s.read(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        hasher.update(&buf[..k]);
        got += k;
        // A slow reader: the server has every chance to run ahead and buffer.
        std::thread::sleep(Duration::from_millis(1));
    }
    let peak = PEAK.load(Ordering::SeqCst).saturating_sub(base);
    assert_eq!(got, PHOTO_BYTES);
    assert_eq!(hex::encode(hasher.finalize()), hash.as_str());
    server.stop();
    peak
}

#[test]
fn an_8_mb_download_from_the_folder_holds_under_1_mb() {
    let dir = tempfile::tempdir().unwrap();
    let peak = peak_during_download(BlobStore::new(dir.path().join("photos"), 16 << 20));
    println!("folder: peak {peak} bytes above the level before the download");
    assert!(peak < LIMIT, "the download held {peak} bytes");
}

#[test]
fn an_8_mb_download_from_s3_holds_under_1_mb() {
    let Some(url) = photo_common::s3_url() else {
        return;
    };
    let bucket = photo_common::unique_bucket("memory");
    photo_common::create_bucket(&url, &bucket);
    let peak = peak_during_download(photo_common::s3_store(&url, &bucket, 16 << 20));
    println!("s3: peak {peak} bytes above the level before the download");
    assert!(peak < LIMIT, "the download held {peak} bytes");
}
