//! Plane geometry on longitude/latitude points: just enough for grids and segments.
//!
//! A street is about a kilometre across, so distances use the equirectangular approximation
//! (longitude scaled by the cosine of the latitude) on a sphere of the Earth's mean radius. At
//! this scale its error is far below a phone's GPS error.

use super::{RoadSegment, Roster};
use serde::{Deserialize, Serialize};

/// The Earth's mean radius in metres (IUGG), used for every distance here.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS-84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Longitude, degrees east.
    pub lon: f64,
    /// Latitude, degrees north.
    pub lat: f64,
}

impl Point {
    /// A point from longitude and latitude in degrees.
    pub fn new(lon: f64, lat: f64) -> Point {
        Point { lon, lat }
    }

    /// True when both coordinates are finite and within ±180° / ±90°.
    pub fn is_valid(self) -> bool {
        self.lon.is_finite()
            && self.lat.is_finite()
            && (-180.0..=180.0).contains(&self.lon)
            && (-90.0..=90.0).contains(&self.lat)
    }
}

/// True when `p` lies inside the ring `polygon` or on its boundary (even-odd rule).
pub fn point_in_polygon(p: Point, polygon: &[Point]) -> bool {
    let n = polygon.len();
    if n < 3 {
        return false;
    }
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[j]);
        if on_segment(p, a, b) {
            return true;
        }
        if (a.lat > p.lat) != (b.lat > p.lat) {
            let x = (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon;
            if p.lon < x {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

fn on_segment(p: Point, a: Point, b: Point) -> bool {
    let cross = (b.lon - a.lon) * (p.lat - a.lat) - (b.lat - a.lat) * (p.lon - a.lon);
    cross.abs() < 1e-12
        && p.lon >= a.lon.min(b.lon)
        && p.lon <= a.lon.max(b.lon)
        && p.lat >= a.lat.min(b.lat)
        && p.lat <= a.lat.max(b.lat)
}

/// Metres per degree of latitude (and of longitude at the equator).
fn metres_per_degree() -> f64 {
    EARTH_RADIUS_M.to_radians()
}

/// `q` in metres east and north of `origin`, on the plane tangent at `origin`.
fn to_local(origin: Point, q: Point) -> (f64, f64) {
    let k = metres_per_degree();
    let x = (q.lon - origin.lon) * k * origin.lat.to_radians().cos();
    let y = (q.lat - origin.lat) * k;
    (x, y)
}

/// The distance in metres between two points (equirectangular, at their mean latitude).
pub fn distance_m(a: Point, b: Point) -> f64 {
    let k = metres_per_degree();
    let mean_lat = ((a.lat + b.lat) / 2.0).to_radians();
    let x = (b.lon - a.lon) * k * mean_lat.cos();
    let y = (b.lat - a.lat) * k;
    x.hypot(y)
}

/// The distance in metres from `p` to the nearest point of `polyline`: to a vertex, or to the
/// foot of the perpendicular on a piece. A single point is a polyline of length zero; an empty
/// polyline is infinitely far away.
pub fn distance_to_polyline_m(p: Point, polyline: &[Point]) -> f64 {
    match polyline {
        [] => f64::INFINITY,
        [only] => distance_m(p, *only),
        _ => polyline
            .windows(2)
            .map(|w| distance_to_piece_m(p, w[0], w[1]))
            .fold(f64::INFINITY, f64::min),
    }
}

/// The distance in metres from `p` to the straight piece `a`–`b`, on the plane tangent at `p`.
fn distance_to_piece_m(p: Point, a: Point, b: Point) -> f64 {
    let (ax, ay) = to_local(p, a);
    let (bx, by) = to_local(p, b);
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (ax + t * dx).hypot(ay + t * dy)
}

/// The area in square metres enclosed by the ring `polygon` (shoelace formula on the plane
/// tangent at its first point); zero for fewer than three points.
pub fn polygon_area_m2(polygon: &[Point]) -> f64 {
    let Some(&origin) = polygon.first() else {
        return 0.0;
    };
    if polygon.len() < 3 {
        return 0.0;
    }
    let local: Vec<(f64, f64)> = polygon.iter().map(|&q| to_local(origin, q)).collect();
    let mut twice = 0.0;
    for (i, &(x1, y1)) in local.iter().enumerate() {
        let (x2, y2) = local[(i + 1) % local.len()];
        twice += x1 * y2 - x2 * y1;
    }
    (twice / 2.0).abs()
}

/// The length in metres of a polyline.
pub fn polyline_length_m(polyline: &[Point]) -> f64 {
    polyline.windows(2).map(|w| distance_m(w[0], w[1])).sum()
}

/// The centroid of the area enclosed by the ring `polygon`, or `None` when it encloses no area.
/// For a convex grid (every grid of the Zhenxing example) it lies inside the grid.
pub fn polygon_centroid(polygon: &[Point]) -> Option<Point> {
    let &origin = polygon.first()?;
    let n = polygon.len();
    let (mut twice_area, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[(i + 1) % n]);
        let (x1, y1) = (a.lon - origin.lon, a.lat - origin.lat);
        let (x2, y2) = (b.lon - origin.lon, b.lat - origin.lat);
        let cross = x1 * y2 - x2 * y1;
        twice_area += cross;
        cx += (x1 + x2) * cross;
        cy += (y1 + y2) * cross;
    }
    if twice_area == 0.0 || !twice_area.is_finite() {
        return None;
    }
    Some(Point {
        lon: origin.lon + cx / (3.0 * twice_area),
        lat: origin.lat + cy / (3.0 * twice_area),
    })
}

impl Roster {
    /// The road segment nearest to `p` if it lies within `max_m` metres, with its distance in
    /// metres. On a tie (a crossing of two roads, a point where two segments of one road meet)
    /// the segment listed first wins.
    pub fn segment_near(&self, p: Point, max_m: f64) -> Option<(&RoadSegment, f64)> {
        let mut best: Option<(&RoadSegment, f64)> = None;
        for s in &self.segments {
            let d = distance_to_polyline_m(p, &s.polyline);
            if d <= max_m && best.is_none_or(|(_, b)| d < b) {
                best = Some((s, d));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sq() -> Vec<Point> {
        [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
            .iter()
            .map(|&(lon, lat)| Point { lon, lat })
            .collect()
    }

    #[test]
    fn inside_outside_and_border() {
        assert!(point_in_polygon(Point { lon: 0.5, lat: 0.5 }, &sq()));
        assert!(!point_in_polygon(Point { lon: 1.5, lat: 0.5 }, &sq()));
        assert!(point_in_polygon(Point { lon: 1.0, lat: 0.5 }, &sq()));
    }

    #[test]
    fn corners_count_as_inside_and_degenerate_rings_contain_nothing() {
        for &q in &sq() {
            assert!(point_in_polygon(q, &sq()), "{q:?}");
        }
        assert!(!point_in_polygon(Point::new(0.0, 0.0), &sq()[..2]));
        assert!(!point_in_polygon(Point::new(0.0, 0.0), &[]));
        // Just outside the border, on the far side of the ray.
        assert!(!point_in_polygon(Point::new(-1e-9, 0.5), &sq()));
    }

    #[test]
    fn distance_matches_known_lengths() {
        let a = Point::new(122.05, 41.12);
        // One degree of latitude is about 111.2 km on the mean sphere.
        let north = Point::new(122.05, 42.12);
        assert!((distance_m(a, north) - 111_195.0).abs() < 1.0);
        // A degree of longitude shrinks with the cosine of the latitude.
        let east = Point::new(122.06, 41.12);
        let expected = 1_111.95 * 41.12_f64.to_radians().cos();
        assert!((distance_m(a, east) - expected).abs() < 0.01);
        assert_eq!(distance_m(a, a), 0.0);
        assert!((distance_m(a, east) - distance_m(east, a)).abs() < 1e-9);
    }

    #[test]
    fn polyline_distance_to_middle_end_and_beyond() {
        let a = Point::new(122.05, 41.12);
        let b = Point::new(122.06, 41.12);
        let line = [a, b];
        // On the line: zero.
        assert!(distance_to_polyline_m(Point::new(122.055, 41.12), &line) < 1e-6);
        // At an end: zero.
        assert!(distance_to_polyline_m(b, &line) < 1e-9);
        // Beside the middle: the perpendicular distance.
        let beside = Point::new(122.055, 41.1201);
        let d = distance_to_polyline_m(beside, &line);
        assert!((d - 11.1195).abs() < 0.01, "{d}");
        // Beyond an end: the distance to that end, not to the line's extension.
        let beyond = Point::new(122.061, 41.1201);
        let d = distance_to_polyline_m(beyond, &line);
        assert!((d - distance_m(beyond, b)).abs() < 0.01, "{d}");
        assert!(d > 11.12);
        // Degenerate polylines.
        assert_eq!(distance_to_polyline_m(a, &[]), f64::INFINITY);
        assert!((distance_to_polyline_m(beside, &[b]) - distance_m(beside, b)).abs() < 1e-9);
    }

    #[test]
    fn area_length_and_centroid() {
        // A 100 m × 100 m square near Panjin.
        let k = metres_per_degree();
        let dlat = 100.0 / k;
        let dlon = 100.0 / (k * 41.12_f64.to_radians().cos());
        let (lon, lat) = (122.05, 41.12);
        let square = [
            Point::new(lon, lat),
            Point::new(lon + dlon, lat),
            Point::new(lon + dlon, lat + dlat),
            Point::new(lon, lat + dlat),
        ];
        assert!((polygon_area_m2(&square) - 10_000.0).abs() < 1.0);
        assert!((polyline_length_m(&square) - 300.0).abs() < 0.1);
        let c = polygon_centroid(&square);
        assert!(c.is_some_and(|c| (c.lon - (lon + dlon / 2.0)).abs() < 1e-12
            && (c.lat - (lat + dlat / 2.0)).abs() < 1e-12));
        assert_eq!(polygon_area_m2(&square[..2]), 0.0);
        assert!(polygon_centroid(&square[..2]).is_none());
        assert!(polygon_centroid(&[]).is_none());
    }

    #[test]
    fn validity_of_points() {
        assert!(Point::new(122.05, 41.12).is_valid());
        assert!(!Point::new(f64::NAN, 41.12).is_valid());
        assert!(!Point::new(122.05, f64::INFINITY).is_valid());
        assert!(!Point::new(181.0, 41.12).is_valid());
        assert!(!Point::new(122.05, -90.5).is_valid());
    }
}
