//! Target `org`: roster and catalogue import, as the admin CLI reads files and a device reads
//! `GET /v1/org` (bytes as lossy UTF-8, then the JSON loaders with their checks).

use xiangying_core::org::{Catalogue, MEMORY, Roster};

/// Loads `data` as a roster and as a catalogue, and checks the catalogue against the roster
/// when both load (or against the sample roster).
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(crate::capped(data));
    let roster = Roster::from_json(MEMORY, &text);
    if let Ok(r) = &roster {
        let _ = r.problems(MEMORY);
    }
    if let Ok(c) = Catalogue::from_json(MEMORY, &text) {
        let _ = c.problems();
        if let Ok(r) = &roster {
            let _ = c.check_against(r);
        }
        if let Ok(sample) = xiangying_core::org::sample::roster() {
            let _ = c.check_against(&sample);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_samples_load_and_garbage_is_refused() {
        let roster = xiangying_core::org::sample::roster_json().unwrap();
        assert!(Roster::from_json(MEMORY, &roster).is_ok());
        run(roster.as_bytes());
        run(xiangying_core::org::sample::catalogue_json()
            .unwrap()
            .as_bytes());
        run(b"{\"people\": 5}");
        run(&[0xff, 0xfe]);
    }
}
