//! The anchors' street day in this project's terms, for the benchmarks that compare with
//! PouchDB and automerge-repo (`benches/street_day.rs`, `scripts/bench-anchors`) and the scale
//! curves (`benches/scale_curve.rs`): a street of `n` grids with one grid worker each (device
//! `i` is the grid worker of grid `i`, as the anchors' device `i` writes grid `G-i`), and the
//! day each of them records offline: 30 reports, each raised, then given a note as a separate
//! edit, and every third escalated to the community (2.33 edits a report), with a description
//! of 100 to 140 CJK characters from a phrase vocabulary, as the anchors' generator writes.
//! docs/BENCHMARKS.md ("Against PouchDB and automerge-repo") describes the mapping.

use xiangying_core::org::{Grid, Point, Roster, Scope, zhenxing};
use xiangying_core::photo::{Encoded, ProcessedPhoto};
use xiangying_core::{Device, NewReport};

/// The grid's edge, in degrees (about 220 m north–south).
const EDGE_DEG: f64 = 0.002;
/// Grids per row of the synthetic street.
const COLUMNS: usize = 40;
/// The category every report of the day is in (a damaged manhole cover).
pub const CATEGORY: &str = "010101";

/// The id of grid `i` (1-based) of the synthetic street: `G-0017`.
pub fn grid_id(i: usize) -> String {
    format!("G-{i:04}")
}

/// The grid worker of grid `i`: `gw-0017`.
pub fn worker_id(i: usize) -> String {
    format!("gw-{i:04}")
}

/// The roster and catalogue (JSON) of a street of `grids` square grids, one grid worker
/// each, over the Zhenxing street's communities, roads, departments and staff (its own grids
/// and the people placed in them are replaced).
pub fn street(grids: usize) -> (String, String) {
    let mut roster = zhenxing::roster();
    let communities: Vec<String> = roster.communities.iter().map(|c| c.id.clone()).collect();
    assert!(
        grids >= communities.len(),
        "a street of at least {} grids (one a community)",
        communities.len()
    );
    roster.grids = (1..=grids)
        .map(|i| Grid {
            id: grid_id(i),
            name: format!("网格{i}"),
            community: communities[(i - 1) * communities.len() / grids].clone(),
            polygon: square(i),
        })
        .collect();
    roster.people.retain(|p| !matches!(p.scope, Scope::Grid(_)));
    let template = roster
        .people
        .iter()
        .find(|p| p.role == xiangying_core::org::Role::CommunityChief)
        .cloned()
        .expect("Zhenxing has community chiefs");
    for i in 1..=grids {
        let mut p = template.clone();
        p.id = worker_id(i);
        p.name = format!("网格员{i}");
        p.phone = format!("139{i:08}");
        p.role = xiangying_core::org::Role::GridWorker;
        p.scope = Scope::Grid(grid_id(i));
        roster.people.push(p);
    }
    // Serialised and read back: the index is rebuilt and every rule of the roster checked.
    let json = serde_json::to_string(&roster).expect("roster");
    Roster::from_json("street day roster", &json).expect("the synthetic street is valid");
    (
        json,
        serde_json::to_string(&zhenxing::catalogue()).expect("catalogue"),
    )
}

/// The south-west corner of grid `i`.
fn corner(i: usize) -> Point {
    let (row, col) = ((i - 1) / COLUMNS, (i - 1) % COLUMNS);
    Point {
        lon: zhenxing::CENTRE.lon + col as f64 * EDGE_DEG,
        lat: zhenxing::CENTRE.lat + row as f64 * EDGE_DEG,
    }
}

/// Grid `i`'s square, counter-clockwise from its south-west corner.
fn square(i: usize) -> Vec<Point> {
    let c = corner(i);
    let e = EDGE_DEG;
    vec![
        c,
        Point {
            lon: c.lon + e,
            lat: c.lat,
        },
        Point {
            lon: c.lon + e,
            lat: c.lat + e,
        },
        Point {
            lon: c.lon,
            lat: c.lat + e,
        },
    ]
}

/// A point well inside grid `i`, moved a little by `n` so that reports do not pile up.
pub fn inside(i: usize, n: usize) -> Point {
    let c = corner(i);
    let step = EDGE_DEG / 64.0;
    Point {
        lon: c.lon + EDGE_DEG / 4.0 + (n % 32) as f64 * step,
        lat: c.lat + EDGE_DEG / 4.0 + (n / 32 % 32) as f64 * step,
    }
}

/// The phrases descriptions are built from (street-side problems, as a grid worker writes
/// them).
const PHRASES: [&str; 16] = [
    "路口东侧井盖松动",
    "车辆经过时有明显响声",
    "附近居民多次反映",
    "夜间照明不足存在安全隐患",
    "人行道砖块破损翘起",
    "雨后积水影响通行",
    "店铺门前杂物堆放占道",
    "垃圾桶满溢未及时清运",
    "共享单车乱停乱放",
    "绿化带内有建筑垃圾",
    "墙面小广告较多",
    "施工围挡倾斜需加固",
    "楼道内电动车充电",
    "早高峰时段拥堵严重",
    "已现场提醒相关人员",
    "请相关部门尽快处理",
];

/// A description of 100 to 140 CJK characters for report `n` of device `seed`.
pub fn description(seed: usize, n: usize) -> String {
    let mut state = (seed as u64)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add((n as u64 + 1).wrapping_mul(1_442_695_040_888_963_407));
    let target = 100 + (state >> 33) as usize % 41;
    let mut out = String::new();
    while out.chars().count() < target {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        out.push_str(PHRASES[(state >> 40) as usize % PHRASES.len()]);
        out.push('，');
    }
    out.chars().take(target - 1).chain(['。']).collect()
}

/// Records grid worker `i`'s day on `d`, offline: `reports` reports, each raised (with the
/// photos `photos(n)` gives, already processed), given a note, and every third escalated.
pub fn record_day(
    d: &Device,
    i: usize,
    reports: usize,
    photos: &dyn Fn(usize) -> Vec<ProcessedPhoto>,
) {
    for n in 0..reports {
        let id = d
            .report_with_processed_photos_for_tests(
                &NewReport {
                    category: CATEGORY.to_string(),
                    location: inside(i, n),
                    grid: None,
                    segment: None,
                    description: description(i, n),
                },
                &photos(n),
            )
            .expect("report");
        d.note(&id, "已到现场查看，正在联系处理").expect("note");
        if n % 3 == 2 {
            d.escalate(&id, "需社区协调处理").expect("escalate");
        }
    }
}

/// Distinct photos of one size, made without encoding each: a real photo and thumbnail from
/// the photo pipeline, and copies of them that differ by a JPEG comment segment naming their
/// device, report and place, so every file has its own hash as every camera photo does.
pub struct PhotoMaker {
    base: ProcessedPhoto,
}

impl PhotoMaker {
    /// A maker whose photos are about `bytes` long (the thumbnails a few KiB): the pipeline's
    /// output for a noise image of the size that gives it.
    pub fn new(bytes: usize) -> PhotoMaker {
        use xiangying_core::photo::{PhotoOptions, process};
        // Noise comes out of the pipeline at about half a byte a pixel; two corrections
        // bring the size within a few per cent of the target.
        let mut pixels = bytes as f64 * 2.0;
        let mut base = None;
        for _ in 0..3 {
            let width = (pixels * 4.0 / 3.0).sqrt().max(8.0) as u32;
            let height = width * 3 / 4;
            let mut img = image::RgbImage::new(width, height);
            let mut state = 0x2545_f491_u32;
            for p in img.pixels_mut() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let b = state.to_le_bytes();
                *p = image::Rgb([b[0], b[1], b[2]]);
            }
            let mut camera = std::io::Cursor::new(Vec::new());
            image::DynamicImage::ImageRgb8(img)
                .write_to(&mut camera, image::ImageFormat::Jpeg)
                .expect("encode");
            let p = process(camera.get_ref(), &PhotoOptions::default()).expect("process");
            pixels *= bytes as f64 / p.photo.bytes.len() as f64;
            base = Some(p);
        }
        PhotoMaker {
            base: base.expect("made"),
        }
    }

    /// Photo `k` of report `n` of device `i`.
    pub fn photo(&self, i: usize, n: usize, k: usize) -> ProcessedPhoto {
        let tag = format!("xiangying bench photo {i}/{n}/{k}");
        let mut p = self.base.clone();
        p.photo = tagged(&self.base.photo, &tag);
        p.thumbnail = tagged(&self.base.thumbnail, &tag);
        p
    }
}

/// `file` with a comment segment holding `tag` right after its start-of-image marker.
fn tagged(file: &Encoded, tag: &str) -> Encoded {
    use sha2::{Digest, Sha256};
    let mut bytes = Vec::with_capacity(file.bytes.len() + tag.len() + 4);
    bytes.extend_from_slice(&file.bytes[..2]);
    bytes.extend_from_slice(&[0xFF, 0xFE]);
    bytes.extend_from_slice(&((tag.len() + 2) as u16).to_be_bytes());
    bytes.extend_from_slice(tag.as_bytes());
    bytes.extend_from_slice(&file.bytes[2..]);
    let sha256 = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Encoded {
        bytes,
        sha256,
        ..file.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_have_the_anchors_length() {
        for n in 0..50 {
            let len = description(17, n).chars().count();
            assert!((100..=140).contains(&len), "{len}");
        }
        assert_ne!(description(1, 1), description(1, 2));
    }

    #[test]
    fn made_photos_are_distinct_jpegs_of_the_asked_size() {
        let maker = PhotoMaker::new(60_000);
        let (a, b) = (maker.photo(1, 1, 0), maker.photo(1, 1, 1));
        assert_ne!(a.photo.sha256, b.photo.sha256);
        assert_ne!(a.thumbnail.sha256, b.thumbnail.sha256);
        let len = a.photo.bytes.len();
        assert!((54_000..66_000).contains(&len), "{len}");
        let decoded = image::load_from_memory(&a.photo.bytes).unwrap();
        assert_eq!(decoded.width(), a.photo.width);
    }

    #[test]
    fn a_street_of_two_thousand_grids_is_valid() {
        let (roster, _) = street(2_000);
        let r = Roster::from_json("t", &roster).unwrap();
        assert_eq!(r.grids.len(), 2_000);
        assert_eq!(
            r.people
                .iter()
                .filter(|p| p.role == xiangying_core::org::Role::GridWorker)
                .count(),
            2_000
        );
    }

    #[test]
    fn smoke_sized_streets_are_valid() {
        for grids in [12, 20, 30, 100, 150] {
            let (roster, _) = street(grids);
            let r = Roster::from_json("t", &roster).unwrap();
            assert_eq!(r.grids.len(), grids);
        }
    }
}
