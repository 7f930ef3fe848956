//! Target `track`: patrol track chunks, which the server decodes from every pushed patrol
//! (`patrol::track::decode_chunk`, through the patrol fold).

use xiangying_core::patrol::track::{MAX_CHUNK_POINTS, check_points, decode_chunk, encode_chunk};

/// Decodes `data` as a track chunk; decoded points must encode to a chunk that decodes to
/// the same points.
pub fn run(data: &[u8]) {
    let Ok(points) = decode_chunk(crate::capped(data)) else {
        return;
    };
    assert!(points.len() <= MAX_CHUNK_POINTS, "{} points", points.len());
    let _ = check_points(&points, i64::MIN);
    let _ = xiangying_core::patrol::track::length_m(&points);
    let again = encode_chunk(&points).map(|bytes| decode_chunk(&bytes));
    assert!(
        matches!(&again, Ok(Ok(p)) if *p == points),
        "decoded points do not survive encoding: {again:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use xiangying_core::patrol::track::TrackPoint;

    #[test]
    fn a_chunk_round_trips_and_garbage_is_refused() {
        let p = |at, lon| TrackPoint {
            at,
            lon,
            lat: 30.0,
            accuracy_m: 5.0,
        };
        run(&encode_chunk(&[p(1, 120.0), p(5001, 120.0001)]).unwrap());
        run(&[1, 0, 0]);
        run(&[9]);
        run(&[]);
    }
}
