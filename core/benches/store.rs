//! Store benchmarks: raising a report (document + index + outbox in one transaction, on a real
//! file with WAL and `synchronous = FULL`), and opening a store that holds 10,000 cases and
//! listing the inbox.
//!
//! `cargo bench -p xiangying-core --bench store`. Besides criterion's figures it prints the
//! per-report latency distribution (p50, p99) and throughput over a run of 5,000 reports.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;
use xiangying_core::org::sample;
use xiangying_core::{Device, NewReport};

fn report(i: usize) -> NewReport {
    NewReport {
        category: if i.is_multiple_of(2) {
            sample::LITTER.into()
        } else {
            sample::MANHOLE.into()
        },
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: format!("第{i}号问题：井盖破损，需要更换"),
    }
}

fn device(dir: &Path, person: &str) -> Device {
    let d = Device::open(dir).unwrap();
    d.install_org(
        &sample::roster_json().unwrap(),
        &sample::catalogue_json().unwrap(),
    )
    .unwrap();
    d.set_person(person).unwrap();
    d
}

fn create_report(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let d = device(dir.path(), "gw1");
    let mut i = 0;
    c.bench_function("create_report", |b| {
        b.iter(|| {
            i += 1;
            black_box(d.report(&report(i)).unwrap())
        })
    });

    // Latency distribution and throughput over one long run.
    let dir = tempfile::tempdir().unwrap();
    let d = device(dir.path(), "gw1");
    let n = 5_000;
    let mut lat = Vec::with_capacity(n);
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        black_box(d.report(&report(i)).unwrap());
        lat.push(t.elapsed());
    }
    let total = start.elapsed();
    lat.sort();
    println!(
        "create_report x{n}: {:.0} reports/s, p50 {:?}, p99 {:?}, max {:?}",
        n as f64 / total.as_secs_f64(),
        lat[n / 2],
        lat[n * 99 / 100],
        lat[n - 1]
    );
}

fn open_and_inbox(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    {
        let d = device(dir.path(), "gw1");
        for i in 0..10_000 {
            d.report(&report(i)).unwrap();
        }
    }
    c.bench_function("open_10k_cases_and_list_inbox", |b| {
        b.iter(|| {
            let d = Device::open(dir.path()).unwrap();
            let inbox = d.inbox(50).unwrap();
            assert_eq!(inbox.len(), 50);
            black_box(inbox)
        })
    });
    let d = Device::open(dir.path()).unwrap();
    c.bench_function("inbox_of_10k_cases", |b| {
        b.iter(|| black_box(d.inbox(50).unwrap()))
    });
    c.bench_function("overdue_of_10k_cases", |b| {
        b.iter(|| black_box(d.overdue(50).unwrap()))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = create_report, open_and_inbox
}
criterion_main!(benches);
