//! Plane geometry on longitude/latitude points: just enough for grids and segments.

use serde::{Deserialize, Serialize};

/// A WGS-84 position in degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Longitude, degrees east.
    pub lon: f64,
    /// Latitude, degrees north.
    pub lat: f64,
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
}
