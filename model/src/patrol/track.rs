//! Patrol tracks: the phone's location fixes, packed compactly.
//!
//! A track is stored as chunks of points. Each chunk is one immutable byte string in the patrol
//! document (see [`super::doc`]), written when enough points have gathered (or the patrol ends,
//! or the device syncs), so a two-hour patrol with a fix every 5 s is about a dozen automerge
//! changes, not 1,440.
//!
//! Chunk format (version 1), postcard-encoded, so every integer is a (zigzag) varint:
//! `version: u8`, then `t0: i64` (ms since the epoch), `lon0, lat0: i32` (micro-degrees), then
//! per further point the deltas `dt: u32` (ms, never negative), `dlon, dlat: i32`, and for
//! every point `accuracy: u16` (metres, rounded, capped). Deltas between fixes 5 s apart at
//! walking pace take one or two bytes each, so a point costs about 6 bytes. Coordinates are
//! kept to 1e-6° (about 0.1 m), well inside any phone's accuracy.

use crate::org::{Point, distance_m};
use serde::{Deserialize, Serialize};

/// The chunk format this build writes and reads.
pub const CHUNK_VERSION: u8 = 1;

/// Most points one chunk may hold (a day at one fix a second).
pub const MAX_CHUNK_POINTS: usize = 86_400;

const MICRO: f64 = 1_000_000.0;

/// One location fix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    /// When the fix was taken, device clock, ms since the epoch.
    pub at: i64,
    /// Longitude (WGS-84 degrees).
    pub lon: f64,
    /// Latitude (WGS-84 degrees).
    pub lat: f64,
    /// Horizontal accuracy the phone reported, metres (0 when unknown).
    pub accuracy_m: f64,
}

impl TrackPoint {
    /// The fix's position.
    pub fn point(&self) -> Point {
        Point::new(self.lon, self.lat)
    }
}

/// Why a chunk could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// Not a postcard encoding of the chunk layout.
    #[error("the track chunk is damaged: {0}")]
    Damaged(String),
    /// Written by a newer build.
    #[error("the track chunk has format version {0}, this build reads version {CHUNK_VERSION}")]
    Version(u8),
    /// The column lengths disagree.
    #[error("the track chunk's columns have different lengths")]
    Columns,
    /// Too many points, or times that overflow.
    #[error("the track chunk is out of range: {0}")]
    Range(&'static str),
}

#[derive(Serialize, Deserialize)]
struct ChunkV1 {
    version: u8,
    t0: i64,
    lon0: i32,
    lat0: i32,
    dt: Vec<u32>,
    dlon: Vec<i32>,
    dlat: Vec<i32>,
    accuracy: Vec<u16>,
}

fn micro(deg: f64) -> i32 {
    // Valid coordinates (|deg| ≤ 180) fit in an i32 of micro-degrees.
    (deg * MICRO).round() as i32
}

/// Packs points (in time order, already checked by [`check_points`]) into one chunk.
pub fn encode_chunk(points: &[TrackPoint]) -> Result<Vec<u8>, ChunkError> {
    if points.len() > MAX_CHUNK_POINTS {
        return Err(ChunkError::Range("too many points"));
    }
    let mut c = ChunkV1 {
        version: CHUNK_VERSION,
        t0: 0,
        lon0: 0,
        lat0: 0,
        dt: Vec::with_capacity(points.len().saturating_sub(1)),
        dlon: Vec::with_capacity(points.len().saturating_sub(1)),
        dlat: Vec::with_capacity(points.len().saturating_sub(1)),
        accuracy: Vec::with_capacity(points.len()),
    };
    let mut prev: Option<(i64, i32, i32)> = None;
    for p in points {
        let (lon, lat) = (micro(p.lon), micro(p.lat));
        match prev {
            None => {
                c.t0 = p.at;
                c.lon0 = lon;
                c.lat0 = lat;
            }
            Some((t, x, y)) => {
                c.dt.push(u32::try_from(p.at.saturating_sub(t)).unwrap_or(u32::MAX));
                c.dlon.push(lon.wrapping_sub(x));
                c.dlat.push(lat.wrapping_sub(y));
            }
        }
        c.accuracy
            .push(p.accuracy_m.clamp(0.0, f64::from(u16::MAX)).round() as u16);
        prev = Some((p.at, lon, lat));
    }
    crate::codec::encode(&c).map_err(|e| ChunkError::Damaged(e.to_string()))
}

/// Unpacks one chunk.
pub fn decode_chunk(bytes: &[u8]) -> Result<Vec<TrackPoint>, ChunkError> {
    match bytes.first() {
        Some(&CHUNK_VERSION) => {}
        Some(&v) => return Err(ChunkError::Version(v)),
        None => return Err(ChunkError::Damaged("empty".into())),
    }
    let c: ChunkV1 = crate::codec::decode(bytes).map_err(|e| ChunkError::Damaged(e.to_string()))?;
    let n = c.accuracy.len();
    if n == 0 {
        return if c.dt.is_empty() && c.dlon.is_empty() && c.dlat.is_empty() {
            Ok(Vec::new())
        } else {
            Err(ChunkError::Columns)
        };
    }
    if c.dt.len() != n - 1 || c.dlon.len() != n - 1 || c.dlat.len() != n - 1 {
        return Err(ChunkError::Columns);
    }
    if n > MAX_CHUNK_POINTS {
        return Err(ChunkError::Range("too many points"));
    }
    let mut out = Vec::with_capacity(n);
    let (mut t, mut x, mut y) = (c.t0, c.lon0, c.lat0);
    for i in 0..n {
        if i > 0 {
            t = t
                .checked_add(i64::from(c.dt[i - 1]))
                .ok_or(ChunkError::Range("time overflows"))?;
            x = x.wrapping_add(c.dlon[i - 1]);
            y = y.wrapping_add(c.dlat[i - 1]);
        }
        out.push(TrackPoint {
            at: t,
            lon: f64::from(x) / MICRO,
            lat: f64::from(y) / MICRO,
            accuracy_m: f64::from(c.accuracy[i]),
        });
    }
    Ok(out)
}

/// What is wrong with a batch of fixes, naming the first bad one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("track point #{index}: {problem}")]
pub struct PointError {
    /// Its position in the batch.
    pub index: usize,
    /// What is wrong.
    pub problem: String,
}

/// Checks a batch of fixes before it is stored: valid coordinates, a finite non-negative
/// accuracy, times not before `not_before` and never going back, and no gap wider than a chunk
/// can hold.
pub fn check_points(points: &[TrackPoint], not_before: i64) -> Result<(), PointError> {
    let mut last = not_before;
    for (index, p) in points.iter().enumerate() {
        let bad = |problem: String| PointError { index, problem };
        if !p.point().is_valid() {
            return Err(bad(format!(
                "({}, {}) is not a valid longitude/latitude",
                p.lon, p.lat
            )));
        }
        if !p.accuracy_m.is_finite() || p.accuracy_m < 0.0 {
            return Err(bad(format!("accuracy {} is not a distance", p.accuracy_m)));
        }
        if p.at < last {
            return Err(bad(format!(
                "taken at {} ms, before the previous fix or the patrol's start ({last} ms)",
                p.at
            )));
        }
        if index > 0 && p.at.saturating_sub(last) > i64::from(u32::MAX) {
            return Err(bad("more than 49 days after the previous fix".into()));
        }
        last = p.at;
    }
    Ok(())
}

/// The length of the walked line through the fixes, metres.
pub fn length_m(points: &[TrackPoint]) -> f64 {
    points
        .windows(2)
        .map(|w| distance_m(w[0].point(), w[1].point()))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-hour walk with a fix every 5 s, wandering about a grid.
    pub(crate) fn walk(n: usize, start: i64) -> Vec<TrackPoint> {
        let mut lon = 121.4737;
        let mut lat = 31.2304;
        (0..n)
            .map(|i| {
                let a = (i as f64 * 0.37).sin();
                lon += 0.00006 * a;
                lat += 0.00005 * (i as f64 * 0.21).cos();
                TrackPoint {
                    at: start + i as i64 * 5_000 + (i as i64 % 3) * 17,
                    lon,
                    lat,
                    accuracy_m: 4.0 + (i % 7) as f64,
                }
            })
            .collect()
    }

    #[test]
    fn a_chunk_round_trips_to_a_tenth_of_a_metre() {
        let pts = walk(500, 1_780_000_000_000);
        let back = decode_chunk(&encode_chunk(&pts).unwrap()).unwrap();
        assert_eq!(back.len(), pts.len());
        for (a, b) in pts.iter().zip(&back) {
            assert_eq!(a.at, b.at);
            assert!((a.lon - b.lon).abs() <= 0.5e-6 + 1e-12);
            assert!((a.lat - b.lat).abs() <= 0.5e-6 + 1e-12);
            assert_eq!(a.accuracy_m, b.accuracy_m);
        }
        assert!((length_m(&pts) - length_m(&back)).abs() < 1.0);
    }

    #[test]
    fn a_fix_costs_about_six_bytes() {
        let pts = walk(1_440, 1_780_000_000_000);
        let bytes = encode_chunk(&pts).unwrap().len();
        assert!(bytes < 1_440 * 7, "{bytes} bytes for 1,440 points");
    }

    #[test]
    fn empty_and_single_point_chunks_round_trip() {
        assert!(
            decode_chunk(&encode_chunk(&[]).unwrap())
                .unwrap()
                .is_empty()
        );
        let one = walk(1, 5);
        assert_eq!(decode_chunk(&encode_chunk(&one).unwrap()).unwrap().len(), 1);
    }

    #[test]
    fn damaged_and_foreign_chunks_are_refused() {
        let bytes = encode_chunk(&walk(50, 0)).unwrap();
        assert!(matches!(decode_chunk(&[]), Err(ChunkError::Damaged(_))));
        assert!(matches!(
            decode_chunk(&[9, 1, 2]),
            Err(ChunkError::Version(9))
        ));
        assert!(decode_chunk(&bytes[..bytes.len() / 2]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_chunk(&longer).is_err());
        let skewed = postcard::to_stdvec(&ChunkV1 {
            version: 1,
            t0: 0,
            lon0: 0,
            lat0: 0,
            dt: vec![1, 2],
            dlon: vec![1],
            dlat: vec![1, 2],
            accuracy: vec![1, 2, 3],
        })
        .unwrap();
        assert_eq!(decode_chunk(&skewed), Err(ChunkError::Columns));
    }

    #[test]
    fn bad_fixes_are_named() {
        let mut pts = walk(5, 1_000);
        assert!(check_points(&pts, 1_000).is_ok());
        pts[3].lat = 95.0;
        assert_eq!(check_points(&pts, 1_000).unwrap_err().index, 3);
        let mut pts = walk(5, 1_000);
        pts[2].at = pts[1].at - 1;
        let e = check_points(&pts, 1_000).unwrap_err();
        assert_eq!(e.index, 2);
        assert!(e.problem.contains("before the previous fix"), "{e}");
        assert_eq!(check_points(&walk(2, 500), 1_000).unwrap_err().index, 0);
        let mut pts = walk(2, 1_000);
        pts[1].accuracy_m = f64::NAN;
        assert_eq!(check_points(&pts, 1_000).unwrap_err().index, 1);
    }

    /// Found by the `track` fuzz target: a gap wider than an i64 overflowed the subtraction
    /// (a panic in debug builds, a wrapped, accepted gap in release builds).
    #[test]
    fn gaps_wider_than_an_i64_are_refused_not_overflowed() {
        let mut pts = walk(2, 1_000);
        assert!(check_points(&pts[..1], i64::MIN).is_ok());
        pts[0].at = -1;
        pts[1].at = i64::MAX;
        let e = check_points(&pts, i64::MIN).unwrap_err();
        assert_eq!(e.index, 1);
        assert!(e.problem.contains("49 days"), "{e}");
    }
}
