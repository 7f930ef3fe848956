//! Map datums (坐标系) and the conversions between them: WGS-84 (GPS, what the roster's
//! geometry, documents and routing use), GCJ-02 (国测局, "Mars" coordinates: AMap/高德,
//! Tencent/腾讯, the system location of Chinese Android builds) and BD-09 (百度, Baidu's further
//! shift of GCJ-02).
//!
//! GCJ-02 is a published obfuscation of WGS-84 whose forward formula is known (the one every
//! widely used converter carries, e.g. googollee/eviltransform, wandergis/coordtransform); it
//! has no closed inverse, so [`gcj02_to_wgs84`] iterates the forward transform until it
//! reproduces the input to under a millimetre. BD-09 is a closed-form twist of GCJ-02 both
//! ways. Points outside [`in_china`]'s box are the same in every datum (the map SDKs do not
//! shift them). Pure functions, no IO (decision 0031).

use super::geo::Point;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// The datum a position is expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Datum {
    /// WGS-84: GPS, Android `LocationManager` and the fused provider, iOS Core Location,
    /// EXIF GPS tags, and everything this system stores.
    Wgs84,
    /// GCJ-02: AMap (高德), Tencent (腾讯) maps and their location SDKs, Apple's MapKit map
    /// display inside China.
    Gcj02,
    /// BD-09: Baidu (百度) maps and its location SDK (`bd09ll`).
    Bd09,
}

impl Datum {
    /// Every datum.
    pub const ALL: [Datum; 3] = [Datum::Wgs84, Datum::Gcj02, Datum::Bd09];

    /// The stable identifier (`wgs84`, `gcj02`, `bd09`).
    pub fn as_str(self) -> &'static str {
        match self {
            Datum::Wgs84 => "wgs84",
            Datum::Gcj02 => "gcj02",
            Datum::Bd09 => "bd09",
        }
    }

    /// `p`, expressed in this datum, converted to WGS-84.
    pub fn to_wgs84(self, p: Point) -> Point {
        convert(p, self, Datum::Wgs84)
    }

    /// `p`, in WGS-84, converted to this datum.
    pub fn from_wgs84(self, p: Point) -> Point {
        convert(p, Datum::Wgs84, self)
    }
}

/// The box outside which no datum shifts a point: longitude 72.004–137.8347° E, latitude
/// 0.8293–55.8271° N, the bounds the reference converters use (see decision 0031 for why a
/// box and not China's outline). A non-finite coordinate is outside.
pub fn in_china(p: Point) -> bool {
    (72.004..=137.8347).contains(&p.lon) && (0.8293..=55.8271).contains(&p.lat)
}

/// Converts `p` from datum `from` to datum `to`. Unchanged when the datums are equal or `p`
/// lies outside [`in_china`]'s box (judged on `p` as given).
pub fn convert(p: Point, from: Datum, to: Datum) -> Point {
    if from == to || !in_china(p) {
        return p;
    }
    let gcj = match from {
        Datum::Wgs84 => wgs84_to_gcj02(p),
        Datum::Gcj02 => p,
        Datum::Bd09 => bd09_to_gcj02(p),
    };
    match to {
        Datum::Wgs84 => gcj02_to_wgs84(gcj),
        Datum::Gcj02 => gcj,
        Datum::Bd09 => gcj02_to_bd09(gcj),
    }
}

/// Semi-major axis of the Krasovsky 1940 ellipsoid the GCJ-02 formula uses, metres.
const KRASOVSKY_A: f64 = 6_378_245.0;
/// Its first eccentricity squared (0.00669342162296594323 in the reference implementations,
/// which is this same f64).
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;

fn shift_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn shift_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// The GCJ-02 obfuscation of a WGS-84 point (no box check: see [`convert`]).
pub fn wgs84_to_gcj02(p: Point) -> Point {
    let x = p.lon - 105.0;
    let y = p.lat - 35.0;
    let rad_lat = p.lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat = shift_lat(x, y) * 180.0
        / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let d_lon = shift_lon(x, y) * 180.0 / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * PI);
    Point {
        lon: p.lon + d_lon,
        lat: p.lat + d_lat,
    }
}

/// How close the inverse must reproduce the GCJ-02 input, degrees (1e-8° ≈ 1.1 mm).
const INVERSE_TOLERANCE_DEG: f64 = 1e-8;
/// Iterations of the inverse; it gains about two orders of magnitude per step, so four or
/// five reach the tolerance anywhere in the box.
const INVERSE_MAX_STEPS: usize = 30;

/// The WGS-84 point whose GCJ-02 obfuscation is `p`, found by fixed-point iteration of the
/// forward transform (each step moves the estimate by the remaining error) until the forward
/// transform reproduces `p` within about a millimetre. No box check: see [`convert`].
pub fn gcj02_to_wgs84(p: Point) -> Point {
    let mut w = p;
    for _ in 0..INVERSE_MAX_STEPS {
        let g = wgs84_to_gcj02(w);
        let (d_lon, d_lat) = (g.lon - p.lon, g.lat - p.lat);
        if !(d_lon.abs() >= INVERSE_TOLERANCE_DEG || d_lat.abs() >= INVERSE_TOLERANCE_DEG) {
            break;
        }
        w = Point {
            lon: w.lon - d_lon,
            lat: w.lat - d_lat,
        };
    }
    w
}

/// Baidu's constant: π × 3000 / 180.
const X_PI: f64 = PI * 3000.0 / 180.0;

/// BD-09 from GCJ-02 (closed form).
pub fn gcj02_to_bd09(p: Point) -> Point {
    let (x, y) = (p.lon, p.lat);
    let z = (x * x + y * y).sqrt() + 0.000_02 * (y * X_PI).sin();
    let theta = y.atan2(x) + 0.000_003 * (x * X_PI).cos();
    Point {
        lon: z * theta.cos() + 0.0065,
        lat: z * theta.sin() + 0.006,
    }
}

/// GCJ-02 from BD-09 (closed form; reproduces [`gcj02_to_bd09`]'s input to a few
/// centimetres).
pub fn bd09_to_gcj02(p: Point) -> Point {
    let (x, y) = (p.lon - 0.0065, p.lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.000_02 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000_003 * (x * X_PI).cos();
    Point {
        lon: z * theta.cos(),
        lat: z * theta.sin(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::distance_m;
    use proptest::prelude::*;

    fn pt(lon: f64, lat: f64) -> Point {
        Point { lon, lat }
    }

    fn close(a: Point, b: Point, deg: f64) -> bool {
        (a.lon - b.lon).abs() < deg && (a.lat - b.lat).abs() < deg
    }

    /// Tiananmen, Beijing (116.404, 39.915) through every closed conversion. The expected
    /// numbers are those printed in the README of wandergis/coordtransform (the converter most
    /// Chinese web maps copy): wgs84togcj02, gcj02tobd09 and bd09togcj02 of that point. We
    /// agree to 1e-12° (float noise only).
    #[test]
    fn tiananmen_matches_coordtransform() {
        let p = pt(116.404, 39.915);
        let gcj = wgs84_to_gcj02(p);
        assert!(
            close(gcj, pt(116.41024449916938, 39.91640428150164), 1e-12),
            "{gcj:?}"
        );
        let bd = gcj02_to_bd09(p);
        assert!(
            close(bd, pt(116.41036949371029, 39.92133699351021), 1e-12),
            "{bd:?}"
        );
        let back = bd09_to_gcj02(p);
        assert!(
            close(back, pt(116.39762729119315, 39.90865673957631), 1e-12),
            "{back:?}"
        );
        // And the chain WGS-84 → BD-09 that README prints as wgs84_to_bd09.
        let chain = convert(p, Datum::Wgs84, Datum::Bd09);
        assert!(
            close(chain, pt(116.41662724378733, 39.922699552216216), 1e-12),
            "{chain:?}"
        );
    }

    /// The inverse is the exact one, not coordtransform's one-step approximation: from the
    /// GCJ-02 of Tiananmen we come back to (116.404, 39.915) within a centimetre; and from
    /// (116.404, 39.915) taken as GCJ-02 we land away from the README's one-step
    /// gcj02towgs84 answer (116.39775550083061, 39.91359571849836) by about 6 cm, the error
    /// that shortcut leaves here (it grows where the shift varies faster), while our answer
    /// maps forward onto the input within a centimetre.
    #[test]
    fn inverse_reaches_the_centimetre() {
        let back = gcj02_to_wgs84(pt(116.41024449916938, 39.91640428150164));
        assert!(distance_m(back, pt(116.404, 39.915)) < 0.01, "{back:?}");
        let input = pt(116.404, 39.915);
        let exact = gcj02_to_wgs84(input);
        let one_step = pt(116.39775550083061, 39.91359571849836);
        assert!(distance_m(wgs84_to_gcj02(exact), input) < 0.01);
        assert!(distance_m(wgs84_to_gcj02(one_step), input) > 0.05);
        let apart = distance_m(exact, one_step);
        assert!((0.05..0.08).contains(&apart), "{apart}");
    }

    /// googollee/eviltransform's test vectors (go/transform_test.go: Shanghai, Shenzhen,
    /// Beijing), WGS-84 → GCJ-02 to 1e-9°, and back within a centimetre (eviltransform's own
    /// exact inverse is tested to 0.5 m).
    #[test]
    fn eviltransform_vectors() {
        let cases = [
            (
                pt(121.5272106, 31.1774276),
                pt(121.531541859215, 31.17530398364597),
            ),
            (
                pt(113.912316, 22.543847),
                pt(113.9171764808363, 22.540796131694766),
            ),
            (
                pt(116.377817, 39.911954),
                pt(116.38404722455657, 39.91334545536069),
            ),
        ];
        for (wgs, gcj) in cases {
            let got = convert(wgs, Datum::Wgs84, Datum::Gcj02);
            assert!(close(got, gcj, 1e-9), "{wgs:?} → {got:?}, want {gcj:?}");
            let back = convert(gcj, Datum::Gcj02, Datum::Wgs84);
            assert!(distance_m(back, wgs) < 0.01, "{gcj:?} → {back:?}");
        }
    }

    #[test]
    fn points_outside_china_are_unchanged() {
        for p in [
            pt(-0.1246, 51.5007),  // London
            pt(139.7455, 35.6586), // Tokyo: east of the box
            pt(0.05, 0.05),        // the sample street of the tests
            pt(100.5, 0.5),        // south of the box (Sumatra)
            pt(f64::NAN, 39.9),
        ] {
            for from in Datum::ALL {
                for to in Datum::ALL {
                    let got = convert(p, from, to);
                    assert!(
                        got.lon.to_bits() == p.lon.to_bits()
                            && got.lat.to_bits() == p.lat.to_bits(),
                        "{p:?} {from:?}→{to:?} gave {got:?}"
                    );
                }
            }
        }
        assert!(in_china(pt(122.05, 41.12)));
        assert!(!in_china(pt(137.9, 41.0)));
    }

    #[test]
    fn panjin_shift_is_hundreds_of_metres() {
        // The Zhenxing street (near Panjin): the shift a map tap carries, which moves it
        // several grids (a grid is about 100 m) when not converted.
        let wgs = pt(122.05, 41.12);
        let gcj = Datum::Gcj02.from_wgs84(wgs);
        let bd = Datum::Bd09.from_wgs84(wgs);
        let d_gcj = distance_m(wgs, gcj);
        let d_bd = distance_m(wgs, bd);
        assert!((300.0..900.0).contains(&d_gcj), "{d_gcj}");
        assert!((900.0..2000.0).contains(&d_bd), "{d_bd}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Every pair of datums round-trips within a metre anywhere in the box (the exact
        /// GCJ-02 inverse to a centimetre).
        #[test]
        fn round_trips_within_a_metre(
            lon in 72.1f64..137.7,
            lat in 0.9f64..55.7,
            from in 0usize..3,
            to in 0usize..3,
        ) {
            let p = pt(lon, lat);
            let (from, to) = (Datum::ALL[from], Datum::ALL[to]);
            let there = convert(p, from, to);
            let back = convert(there, to, from);
            prop_assert!(distance_m(p, back) < 1.0, "{p:?} {from:?}→{to:?}→ {back:?}");
            let gcj = wgs84_to_gcj02(p);
            prop_assert!(distance_m(gcj02_to_wgs84(gcj), p) < 0.01);
        }
    }
}
