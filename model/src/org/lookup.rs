//! Lookups over the roster beyond single ids: who holds a place, what a community holds, which
//! grids a road segment runs along (for the street chiefs' notice boards, 街长公示栏).

use super::geo::{distance_m, point_in_polygon};
use super::{Grid, Person, Point, RoadSegment, Role, Roster, Scope};

/// The spacing of the sample points that [`Roster::grids_along`] tests, in metres.
const SAMPLE_STEP_M: f64 = 10.0;

impl Roster {
    /// Everybody whose scope is exactly `scope`, in roster order.
    pub fn people_in<'a>(&'a self, scope: &'a Scope) -> impl Iterator<Item = &'a Person> {
        self.people.iter().filter(move |p| &p.scope == scope)
    }

    /// Everybody who holds `role`, in roster order.
    pub fn people_with_role(&self, role: Role) -> impl Iterator<Item = &Person> {
        self.people.iter().filter(move |p| p.role == role)
    }

    /// The street chiefs (party-member and merchant) of a road segment, in roster order.
    pub fn street_chiefs_of(&self, segment: &str) -> Vec<&Person> {
        self.people
            .iter()
            .filter(|p| p.role.is_street_chief() && p.scope == Scope::Segment(segment.into()))
            .collect()
    }

    /// The grid informants of a grid, in roster order.
    pub fn informants_of(&self, grid: &str) -> Vec<&Person> {
        self.people
            .iter()
            .filter(|p| p.role == Role::GridInformant && p.scope == Scope::Grid(grid.into()))
            .collect()
    }

    /// The grids of a community, in roster order.
    pub fn grids_of<'a>(&'a self, community: &'a str) -> impl Iterator<Item = &'a Grid> {
        self.grids.iter().filter(move |g| g.community == community)
    }

    /// The road segments a community answers for, in roster order.
    pub fn segments_of<'a>(&'a self, community: &'a str) -> impl Iterator<Item = &'a RoadSegment> {
        self.segments
            .iter()
            .filter(move |s| s.community == community)
    }

    /// The community a grid belongs to.
    pub fn community_of_grid(&self, grid: &str) -> Option<&super::Community> {
        self.grid(grid).and_then(|g| self.community(&g.community))
    }

    /// The grids a road segment runs through or along, in roster order: those containing (or
    /// bordering) a point of the segment, sampled every 10 m, its two ends left out so that a
    /// segment ending at a crossing does not pick up the grids round the corner. A road on the
    /// border between two grids runs along both. These grids' workers accompany the segment's
    /// street chiefs and appear on its notice board.
    pub fn grids_along(&self, segment: &str) -> Vec<&Grid> {
        let Some(s) = self.segment(segment) else {
            return Vec::new();
        };
        let samples = sample_inside(&s.polyline);
        self.grids
            .iter()
            .filter(|g| samples.iter().any(|&p| point_in_polygon(p, &g.polygon)))
            .collect()
    }
}

/// Points along a polyline every [`SAMPLE_STEP_M`] or so, at the middles of equal pieces of each
/// part, so never at a vertex.
fn sample_inside(polyline: &[Point]) -> Vec<Point> {
    let mut out = Vec::new();
    for w in polyline.windows(2) {
        let (a, b) = (w[0], w[1]);
        let n = (distance_m(a, b) / SAMPLE_STEP_M).ceil().max(1.0);
        // `n` is at most the part's length over 10 m; a street's parts are far below 2^32.
        let pieces = n as u32;
        for k in 0..pieces {
            let t = (f64::from(k) + 0.5) / n;
            out.push(Point {
                lon: a.lon + (b.lon - a.lon) * t,
                lat: a.lat + (b.lat - a.lat) * t,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_avoid_the_ends_and_cover_the_part() {
        let a = Point::new(122.05, 41.12);
        let b = Point::new(122.051, 41.12);
        let samples = sample_inside(&[a, b]);
        let len = distance_m(a, b);
        assert_eq!(samples.len() as f64, (len / SAMPLE_STEP_M).ceil());
        assert!(samples.iter().all(|&p| p != a && p != b));
        let first = samples.first().copied().unwrap_or(a);
        assert!(distance_m(a, first) > 0.0 && distance_m(a, first) <= SAMPLE_STEP_M / 2.0);
        assert!(sample_inside(&[a]).is_empty());
    }
}
