//! What an upload's quota check costs as a device's photos pile up (decision 0053): the
//! device's uploaded bytes read from its running total (`device_photo_bytes`, migration 7),
//! against the sum over every photo it ever sent, as the check read it before, on the same
//! SQLite store: the store's method, transaction included, against the old sum as a bare
//! query (which favours the old one). One device with 100 and with 10,000 recorded photos (a
//! year of twenty-odd a day), beside 20 other devices with as many each.
//!
//! `cargo bench -p xiangying-server --bench photo_quota`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use xiangying_model::ids::{DeviceId, PersonId, PhotoHash};
use xiangying_server::storage::sqlite::{DB_FILE, SqliteStorage};
use xiangying_server::storage::with_tx;

/// A store where 21 devices each recorded `n` photos of 250 KB.
fn store(n: usize) -> (tempfile::TempDir, SqliteStorage) {
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(dir.path()).unwrap();
    for d in 0..21 {
        let device = DeviceId::from(format!("dev-{d:02}"));
        let person = PersonId::from(format!("gw{d}"));
        with_tx(&storage, |tx| {
            for i in 0..n {
                let hash = PhotoHash::from(format!("{d:02}{i:062x}"));
                tx.add_photo_uploader(&hash, &device, &person, 250_000, i as i64)?;
            }
            Ok(())
        })
        .unwrap();
    }
    (dir, storage)
}

fn quota(c: &mut Criterion) {
    let mut g = c.benchmark_group("an upload's quota check");
    for n in [100usize, 10_000] {
        let (dir, storage) = store(n);
        let device = DeviceId::from("dev-07");
        g.bench_with_input(BenchmarkId::new("running total", n), &n, |b, _| {
            b.iter(|| with_tx(&storage, |tx| tx.device_photo_bytes(black_box(&device))).unwrap())
        });
        let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        let mut sum = conn
            .prepare("SELECT COALESCE(SUM(bytes), 0) FROM photo_uploaders WHERE device = ?1")
            .unwrap();
        g.bench_with_input(
            BenchmarkId::new("sum over its photos (before)", n),
            &n,
            |b, _| {
                b.iter(|| {
                    sum.query_row([black_box("dev-07")], |r| r.get::<_, i64>(0))
                        .unwrap()
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, quota);
criterion_main!(benches);
