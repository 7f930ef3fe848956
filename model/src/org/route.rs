//! Routing by place: from a location to the grid, the road segment and the people who answer
//! for them (grid worker, community grid chief, street chiefs), offline and in microseconds.
//!
//! A [`Router`] is built once from a [`Roster`]: it copies each grid's ring (closed), each
//! segment's polyline and the people who answer for them, and lays a uniform cell index over
//! the street so that a lookup tests only the two or three grids and segments whose bounding
//! boxes touch the location's cell.
//!
//! Rules, the same as [`Roster::grid_at`] and [`Roster::segment_near`]:
//! - a point on a border shared by two grids (or on a corner shared by four) belongs to the grid
//!   listed first in the roster;
//! - the segment is the nearest within the router's radius (default
//!   [`DEFAULT_SEGMENT_RADIUS_M`]), the radius itself included; on a tie (a crossing, the point
//!   where two segments of one road meet) the segment listed first wins;
//! - a location outside every grid is still routed: it is flagged `outside_street`, and goes to
//!   the grid whose boundary is nearest (ties to the one listed first), with that distance.

use super::geo::{EARTH_RADIUS_M, distance_to_polyline_m, point_in_polygon};
use super::{Point, Roster};

/// The default distance within which a location is taken to be on a road segment, in metres.
pub const DEFAULT_SEGMENT_RADIUS_M: f64 = 30.0;

/// Slack added to bounding boxes, in degrees (about 0.1 mm), so that floating-point rounding at
/// a cell's edge never drops a candidate.
const EPS_DEG: f64 = 1e-9;

/// Upper bound of cells per side of the index.
const MAX_CELLS_PER_SIDE: usize = 64;

/// Where a location falls and who answers for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The grid containing the location (or, outside the street, the nearest grid).
    pub grid: String,
    /// The community of that grid.
    pub community: String,
    /// The nearest road segment within the router's radius, if any.
    pub segment: Option<String>,
    /// The distance to that segment in metres.
    pub segment_distance_m: Option<f64>,
    /// The grid worker of the grid (person id).
    pub grid_worker: Option<String>,
    /// The community grid chief of the community (person id).
    pub community_chief: Option<String>,
    /// The street chiefs of the segment (person ids, roster order); empty without a segment.
    pub street_chiefs: Vec<String>,
    /// True when the location lies outside every grid of the street.
    pub outside_street: bool,
    /// How far outside the street the location lies, in metres (0 inside): the distance to the
    /// boundary of the grid chosen.
    pub distance_to_street_m: f64,
}

/// An axis-aligned box in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BBox {
    min_lon: f64,
    min_lat: f64,
    max_lon: f64,
    max_lat: f64,
}

impl BBox {
    fn of(points: &[Point]) -> Option<BBox> {
        let first = points.first()?;
        let mut b = BBox {
            min_lon: first.lon,
            min_lat: first.lat,
            max_lon: first.lon,
            max_lat: first.lat,
        };
        for p in points {
            b.min_lon = b.min_lon.min(p.lon);
            b.min_lat = b.min_lat.min(p.lat);
            b.max_lon = b.max_lon.max(p.lon);
            b.max_lat = b.max_lat.max(p.lat);
        }
        Some(b)
    }

    fn grow(self, dlon: f64, dlat: f64) -> BBox {
        BBox {
            min_lon: self.min_lon - dlon,
            min_lat: self.min_lat - dlat,
            max_lon: self.max_lon + dlon,
            max_lat: self.max_lat + dlat,
        }
    }

    fn union(self, o: BBox) -> BBox {
        BBox {
            min_lon: self.min_lon.min(o.min_lon),
            min_lat: self.min_lat.min(o.min_lat),
            max_lon: self.max_lon.max(o.max_lon),
            max_lat: self.max_lat.max(o.max_lat),
        }
    }

    fn contains(&self, p: Point) -> bool {
        p.lon >= self.min_lon
            && p.lon <= self.max_lon
            && p.lat >= self.min_lat
            && p.lat <= self.max_lat
    }
}

#[derive(Debug, Clone)]
struct GridEntry {
    id: String,
    community: String,
    grid_worker: Option<String>,
    community_chief: Option<String>,
    polygon: Vec<Point>,
    /// The polygon with its first point repeated at the end.
    ring: Vec<Point>,
    bbox: BBox,
}

#[derive(Debug, Clone)]
struct SegmentEntry {
    id: String,
    street_chiefs: Vec<String>,
    polyline: Vec<Point>,
    /// The polyline's box grown by the radius.
    bbox: BBox,
}

/// A uniform grid of cells over the street; each cell lists (in roster order) the grids and
/// segments whose boxes touch it.
#[derive(Debug, Clone)]
struct CellIndex {
    bbox: BBox,
    cols: usize,
    rows: usize,
    cell_w: f64,
    cell_h: f64,
    grids: Vec<Vec<u32>>,
    segments: Vec<Vec<u32>>,
}

impl CellIndex {
    fn new(bbox: BBox, per_side: usize) -> CellIndex {
        let per_side = per_side.clamp(1, MAX_CELLS_PER_SIDE);
        let w = bbox.max_lon - bbox.min_lon;
        let h = bbox.max_lat - bbox.min_lat;
        let cell_w = if w > 0.0 { w / per_side as f64 } else { 1.0 };
        let cell_h = if h > 0.0 { h / per_side as f64 } else { 1.0 };
        CellIndex {
            bbox,
            cols: per_side,
            rows: per_side,
            cell_w,
            cell_h,
            grids: vec![Vec::new(); per_side * per_side],
            segments: vec![Vec::new(); per_side * per_side],
        }
    }

    fn col(&self, lon: f64) -> usize {
        let c = ((lon - self.bbox.min_lon) / self.cell_w).floor();
        // Clamped into 0..cols, so the cast cannot truncate.
        (c.max(0.0) as usize).min(self.cols - 1)
    }

    fn row(&self, lat: f64) -> usize {
        let r = ((lat - self.bbox.min_lat) / self.cell_h).floor();
        (r.max(0.0) as usize).min(self.rows - 1)
    }

    /// The cells a box touches, row-major.
    fn cells_of(&self, b: BBox) -> Vec<usize> {
        let (c0, c1) = (self.col(b.min_lon - EPS_DEG), self.col(b.max_lon + EPS_DEG));
        let (r0, r1) = (self.row(b.min_lat - EPS_DEG), self.row(b.max_lat + EPS_DEG));
        let mut out = Vec::new();
        for r in r0..=r1 {
            for c in c0..=c1 {
                out.push(r * self.cols + c);
            }
        }
        out
    }

    /// The cell holding `p`, or `None` outside the index.
    fn cell_at(&self, p: Point) -> Option<usize> {
        if !self.bbox.contains(p) {
            return None;
        }
        Some(self.row(p.lat) * self.cols + self.col(p.lon))
    }
}

/// Routes locations among one roster's grids and segments. Build it once per roster copy with
/// [`Router::new`] (or [`Router::with_segment_radius`]); [`Router::route`] then takes
/// microseconds and allocates only the answer.
#[derive(Debug, Clone)]
pub struct Router {
    grids: Vec<GridEntry>,
    segments: Vec<SegmentEntry>,
    index: Option<CellIndex>,
    segment_radius_m: f64,
}

impl Router {
    /// A router over `roster` with the default segment radius ([`DEFAULT_SEGMENT_RADIUS_M`]).
    pub fn new(roster: &Roster) -> Router {
        Router::with_segment_radius(roster, DEFAULT_SEGMENT_RADIUS_M)
    }

    /// A router over `roster` that puts a location on a segment within `radius_m` metres
    /// (a negative or non-finite radius counts as zero).
    pub fn with_segment_radius(roster: &Roster, radius_m: f64) -> Router {
        let radius_m = if radius_m.is_finite() {
            radius_m.max(0.0)
        } else {
            0.0
        };
        let grids: Vec<GridEntry> = roster
            .grids
            .iter()
            .filter_map(|g| {
                let bbox = BBox::of(&g.polygon)?;
                let mut ring = g.polygon.clone();
                ring.push(g.polygon[0]);
                Some(GridEntry {
                    id: g.id.clone(),
                    community: g.community.clone(),
                    grid_worker: roster.grid_worker_of(&g.id).map(|p| p.id.clone()),
                    community_chief: roster
                        .community_chief_of(&g.community)
                        .map(|p| p.id.clone()),
                    polygon: g.polygon.clone(),
                    ring,
                    bbox,
                })
            })
            .collect();
        let k = EARTH_RADIUS_M.to_radians();
        let segments: Vec<SegmentEntry> = roster
            .segments
            .iter()
            .filter_map(|s| {
                let b = BBox::of(&s.polyline)?;
                // A point farther than the radius in latitude, or in longitude at the highest
                // latitude the box reaches, is farther than the radius: grow by that, plus 1 %.
                let dlat = radius_m / k * 1.01 + EPS_DEG;
                let max_lat = (b.min_lat.abs().max(b.max_lat.abs()) + dlat).min(89.9);
                let cos = max_lat.to_radians().cos().max(1e-6);
                let dlon = (radius_m / (k * cos) * 1.01 + EPS_DEG).min(360.0);
                Some(SegmentEntry {
                    id: s.id.clone(),
                    street_chiefs: roster
                        .street_chiefs_of(&s.id)
                        .into_iter()
                        .map(|p| p.id.clone())
                        .collect(),
                    polyline: s.polyline.clone(),
                    bbox: b.grow(dlon, dlat),
                })
            })
            .collect();
        let all = grids
            .iter()
            .map(|g| g.bbox)
            .chain(segments.iter().map(|s| s.bbox))
            .reduce(BBox::union);
        let index = all.map(|bbox| {
            // About two cells per grid along each side: most cells touch one to four grids.
            let per_side = ((grids.len() as f64).sqrt().ceil() as usize) * 2;
            let mut idx = CellIndex::new(bbox, per_side);
            for (i, g) in grids.iter().enumerate() {
                for c in idx.cells_of(g.bbox) {
                    idx.grids[c].push(i as u32);
                }
            }
            for (i, s) in segments.iter().enumerate() {
                for c in idx.cells_of(s.bbox) {
                    idx.segments[c].push(i as u32);
                }
            }
            idx
        });
        Router {
            grids,
            segments,
            index,
            segment_radius_m: radius_m,
        }
    }

    /// The radius within which a location is on a segment, in metres.
    pub fn segment_radius_m(&self) -> f64 {
        self.segment_radius_m
    }

    /// Routes a location: its grid (or the nearest one, flagged, outside the street), its
    /// segment, and the people who answer for them. `None` only when the roster has no grids.
    pub fn route(&self, p: Point) -> Option<Route> {
        let cell = self.index.as_ref().and_then(|idx| idx.cell_at(p));
        let inside = cell.and_then(|c| {
            let idx = self.index.as_ref()?;
            idx.grids[c]
                .iter()
                .map(|&i| &self.grids[i as usize])
                .find(|g| {
                    g.bbox.grow(EPS_DEG, EPS_DEG).contains(p) && point_in_polygon(p, &g.polygon)
                })
        });
        let (grid, outside, distance) = match inside {
            Some(g) => (g, false, 0.0),
            None => {
                let (g, d) = self.nearest_grid(p)?;
                (g, true, d)
            }
        };
        let segment = cell.and_then(|c| {
            let idx = self.index.as_ref()?;
            let mut best: Option<(&SegmentEntry, f64)> = None;
            for &i in &idx.segments[c] {
                let s = &self.segments[i as usize];
                if !s.bbox.contains(p) {
                    continue;
                }
                let d = distance_to_polyline_m(p, &s.polyline);
                if d <= self.segment_radius_m && best.is_none_or(|(_, b)| d < b) {
                    best = Some((s, d));
                }
            }
            best
        });
        Some(Route {
            grid: grid.id.clone(),
            community: grid.community.clone(),
            segment: segment.map(|(s, _)| s.id.clone()),
            segment_distance_m: segment.map(|(_, d)| d),
            grid_worker: grid.grid_worker.clone(),
            community_chief: grid.community_chief.clone(),
            street_chiefs: segment
                .map(|(s, _)| s.street_chiefs.clone())
                .unwrap_or_default(),
            outside_street: outside,
            distance_to_street_m: distance,
        })
    }

    /// The grid whose boundary is nearest to `p`, with that distance; ties to the first listed.
    fn nearest_grid(&self, p: Point) -> Option<(&GridEntry, f64)> {
        let mut best: Option<(&GridEntry, f64)> = None;
        for g in &self.grids {
            let d = distance_to_polyline_m(p, &g.ring);
            if best.is_none_or(|(_, b)| d < b) {
                best = Some((g, d));
            }
        }
        best
    }
}

#[cfg(test)]
#[path = "route_tests.rs"]
mod tests;
