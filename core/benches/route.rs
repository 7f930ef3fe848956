//! Routing benchmark: one location to its grid, road segment and responsible people among the
//! 64 grids and 42 segments of the Zhenxing example, with a [`Router`] built once; and, for
//! comparison, the roster's linear lookups (`grid_at` + `segment_near`) and building a router.
//!
//! The two index queries of the same feature run on a device store holding 5,000 open cases
//! of the sample street: duplicate suggestions near a location, and a weekly meeting list.
//!
//! `cargo bench -p xiangying-core --bench route`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use xiangying_core::org::{
    DEFAULT_SEGMENT_RADIUS_M, Point, Router, polygon_centroid, sample, zhenxing,
};
use xiangying_core::store::Period;
use xiangying_core::{Device, NewReport};

/// A fixed spread of locations: every grid's centroid, points on roads (grid borders), and a
/// few outside the street.
fn locations() -> Vec<Point> {
    let roster = zhenxing::roster();
    let mut out: Vec<Point> = roster
        .grids
        .iter()
        .filter_map(|g| polygon_centroid(&g.polygon))
        .collect();
    out.extend(
        roster
            .segments
            .iter()
            .filter_map(|s| s.polyline.first().copied()),
    );
    let c = zhenxing::CENTRE;
    out.extend([
        Point::new(c.lon + 0.01, c.lat),
        Point::new(c.lon, c.lat - 0.006),
        Point::new(c.lon - 0.0055, c.lat + 0.0045),
    ]);
    out
}

fn route(c: &mut Criterion) {
    let roster = zhenxing::roster();
    let router = Router::new(&roster);
    let points = locations();
    let mut i = 0;
    c.bench_function("route_one_location", |b| {
        b.iter(|| {
            i = (i + 1) % points.len();
            black_box(router.route(black_box(points[i])))
        })
    });
    let mut i = 0;
    c.bench_function("linear_grid_at_and_segment_near", |b| {
        b.iter(|| {
            i = (i + 1) % points.len();
            let p = black_box(points[i]);
            black_box((
                roster.grid_at(p).map(|g| g.id.len()),
                roster
                    .segment_near(p, DEFAULT_SEGMENT_RADIUS_M)
                    .map(|(s, _)| s.id.len()),
            ))
        })
    });
    c.bench_function("build_router", |b| {
        b.iter(|| black_box(Router::new(&roster)))
    });
}

/// A device holding `n` open reports of gw1 spread over a 2 km square in grid g1 (the sample
/// street lies at the equator: 0.018° is about 2 km), alternating two categories.
fn loaded_device(dir: &std::path::Path, n: usize) -> Device {
    let d = Device::open(dir).unwrap();
    d.install_org(
        &sample::roster_json().unwrap(),
        &sample::catalogue_json().unwrap(),
    )
    .unwrap();
    d.set_person("gw1").unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % 1_000_000) as f64 / 1_000_000.0
    };
    for i in 0..n {
        let location = Point::new(0.04 + 0.018 * next(), 0.04 + 0.018 * next());
        d.report(&NewReport {
            category: if i % 2 == 0 {
                sample::MANHOLE.into()
            } else {
                sample::LITTER.into()
            },
            location,
            grid: None,
            segment: None,
            description: format!("第{i}号问题"),
        })
        .unwrap();
    }
    d
}

fn queries(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let d = loaded_device(dir.path(), 5_000);
    let now = d.now();
    let at = Point::new(0.049, 0.049);
    let found = d
        .duplicate_candidates(sample::MANHOLE, at, now)
        .unwrap()
        .len();
    println!("duplicate_candidates among 5,000 cases finds {found}");
    c.bench_function("duplicate_candidates_5000_cases", |b| {
        b.iter(|| {
            black_box(
                d.duplicate_candidates(sample::MANHOLE, black_box(at), now)
                    .unwrap(),
            )
        })
    });
    let later = now + 8 * 86_400_000;
    c.bench_function("meeting_list_week_5000_cases", |b| {
        b.iter(|| black_box(d.meeting_list(Period::Week, later).unwrap()))
    });
}

criterion_group!(benches, route, queries);
criterion_main!(benches);
