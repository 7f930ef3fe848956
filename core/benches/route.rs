//! Routing benchmark: one location to its grid, road segment and responsible people among the
//! 64 grids and 42 segments of the Zhenxing example, with a [`Router`] built once; and, for
//! comparison, the roster's linear lookups (`grid_at` + `segment_near`) and building a router.
//!
//! `cargo bench -p xiangying-core --bench route`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use xiangying_core::org::{DEFAULT_SEGMENT_RADIUS_M, Point, Router, polygon_centroid, zhenxing};

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

criterion_group!(benches, route);
criterion_main!(benches);
