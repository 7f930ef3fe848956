//! People search on the phone over the Zhenxing roster (1,676 people, the street centre's view):
//! what one keystroke costs, and what building the index costs once per roster install.
//!
//! - `search_keystroke`: `Device::directory()` (the cached view and index) and one search with
//!   a limit of 20, cycling through queries as a user types them: initials, pinyin prefixes,
//!   full pinyin, polyphonic readings, hanzi, a given name and a query that finds nobody;
//! - `search_one/<query>`: single queries, the dearest ones apart;
//! - `directory_build`: the view for a person and the pinyin index of every name in it (what a
//!   roster install or a change of person costs, once);
//! - `index_build`: the pinyin index alone.
//!
//! `cargo bench -p xiangying-core --bench roster`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use xiangying_core::Device;
use xiangying_core::org::{PeopleIndex, zhenxing};

const QUERIES: [&str; 14] = [
    "z",
    "zh",
    "zha",
    "zhang",
    "zhangc",
    "zhangchao",
    "zc",
    "zs",
    "ceng",
    "zeng",
    "曾",
    "张超",
    "chao",
    "xyz",
];

fn device() -> (tempfile::TempDir, Device) {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = Device::open(dir.path()).expect("open");
    let roster = serde_json::to_string(&zhenxing::roster()).expect("roster");
    let catalogue = serde_json::to_string(&zhenxing::catalogue()).expect("catalogue");
    d.install_org(&roster, &catalogue).expect("install");
    d.set_person(&zhenxing::ids::center(1)).expect("person");
    (dir, d)
}

fn search(c: &mut Criterion) {
    let (_dir, d) = device();
    assert_eq!(d.directory().expect("directory").people().len(), 1676);
    let mut i = 0;
    c.bench_function("search_keystroke", |b| {
        b.iter(|| {
            i = (i + 1) % QUERIES.len();
            let dir = d.directory().expect("directory");
            black_box(dir.search(black_box(QUERIES[i]), 20).len())
        })
    });
    for q in ["z", "zs", "zhangchao", "chao", "xyz"] {
        c.bench_function(&format!("search_one/{q}"), |b| {
            b.iter(|| {
                let dir = d.directory().expect("directory");
                black_box(dir.search(black_box(q), 20).len())
            })
        });
    }
    let roster = zhenxing::roster();
    c.bench_function("directory_build", |b| {
        b.iter(|| {
            let v = roster.view_for("center-01");
            black_box(PeopleIndex::new(&v).len())
        })
    });
    c.bench_function("index_build", |b| {
        b.iter(|| black_box(PeopleIndex::new(black_box(&roster)).len()))
    });
}

criterion_group!(benches, search);
criterion_main!(benches);
