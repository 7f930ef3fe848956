//! Positions at the boundary and their datums (decision 0031): [`GeoPoint`] says its
//! [`Datum`]; every position that comes in is converted to WGS-84 here
//! ([`GeoPoint::to_wgs84`]), before the core routes or stores it; every position that goes out
//! is converted to the datum the app's map asks for (kept by the device object, see
//! `XiangyingDevice::set_map_datum`) by ONE function, [`map_point`], and says its datum. The
//! conversions themselves are the model's (`xiangying_core::org::datum`).

use std::sync::atomic::{AtomicU8, Ordering};
use xiangying_core::org::Point;
use xiangying_core::org::datum as core_datum;

/// A position in degrees, in the datum it says. Positions given to the API are converted to
/// WGS-84 from their `datum`; positions the API returns are in the device's map datum
/// ([`crate::XiangyingDevice::set_map_datum`]) and say so.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct GeoPoint {
    /// Longitude, degrees east.
    pub lon: f64,
    /// Latitude, degrees north.
    pub lat: f64,
    /// The datum of `lon` and `lat`: WGS-84 (GPS), GCJ-02 (AMap, Tencent) or BD-09 (Baidu).
    pub datum: Datum,
}

/// The datum (坐标系) a position is expressed in. Chinese map SDKs do not use GPS
/// coordinates: give each position in the datum its source uses, and the core converts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Datum {
    /// WGS-84: GPS; Android `LocationManager` and the fused location provider, iOS Core
    /// Location (`CLLocation`), EXIF GPS tags, maps outside China (OpenStreetMap, Google Maps
    /// outside China). What the core stores.
    Wgs84,
    /// GCJ-02 (国测局, "Mars coordinates"): AMap (高德) and Tencent (腾讯) maps and their
    /// location SDKs, Apple MapKit's map display (taps, annotations) inside China.
    Gcj02,
    /// BD-09 (百度): Baidu maps and the Baidu location SDK in its default `bd09ll`.
    Bd09,
}

impl From<Datum> for core_datum::Datum {
    fn from(d: Datum) -> core_datum::Datum {
        match d {
            Datum::Wgs84 => core_datum::Datum::Wgs84,
            Datum::Gcj02 => core_datum::Datum::Gcj02,
            Datum::Bd09 => core_datum::Datum::Bd09,
        }
    }
}

impl Datum {
    fn code(self) -> u8 {
        match self {
            Datum::Wgs84 => 0,
            Datum::Gcj02 => 1,
            Datum::Bd09 => 2,
        }
    }

    fn from_code(c: u8) -> Datum {
        match c {
            1 => Datum::Gcj02,
            2 => Datum::Bd09,
            _ => Datum::Wgs84,
        }
    }
}

impl GeoPoint {
    /// This position in WGS-84, what the core routes and stores: converted from the datum it
    /// says it is in (unchanged outside China, and when not a position: the core refuses it).
    pub(crate) fn to_wgs84(self) -> Point {
        core_datum::Datum::from(self.datum).to_wgs84(Point {
            lon: self.lon,
            lat: self.lat,
        })
    }
}

/// THE conversion of every outgoing position: `p` (WGS-84, as the core holds it) in the
/// datum `datum` (the device's map datum, `XiangyingDevice::map_datum`), saying its datum.
/// Every record the bindings return with a position goes through here.
pub fn map_point(p: Point, datum: Datum) -> GeoPoint {
    let q = core_datum::Datum::from(datum).from_wgs84(p);
    GeoPoint {
        lon: q.lon,
        lat: q.lat,
        datum,
    }
}

/// The datum the app's map asks for, kept by the device object (WGS-84 until set).
#[derive(Debug, Default)]
pub(crate) struct MapDatum(AtomicU8);

impl MapDatum {
    /// The map datum now.
    pub(crate) fn get(&self) -> Datum {
        Datum::from_code(self.0.load(Ordering::Relaxed))
    }

    /// Sets the map datum.
    pub(crate) fn set(&self, d: Datum) {
        self.0.store(d.code(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incoming_and_outgoing_points_convert_both_ways() {
        // Tiananmen (wandergis/coordtransform's README pair, see the model's tests).
        let wgs = Point::new(116.404, 39.915);
        let gcj = map_point(wgs, Datum::Gcj02);
        assert_eq!(gcj.datum, Datum::Gcj02);
        assert!((gcj.lon - 116.41024449916938).abs() < 1e-12, "{gcj:?}");
        assert!((gcj.lat - 39.91640428150164).abs() < 1e-12, "{gcj:?}");
        for d in [Datum::Wgs84, Datum::Gcj02, Datum::Bd09] {
            // Within a centimetre through GCJ-02 (the iterated inverse), within half a metre
            // through BD-09 (Baidu's closed-form inverse leaves about 0.15 m).
            let back = map_point(wgs, d).to_wgs84();
            let tolerance = if d == Datum::Bd09 { 0.5 } else { 0.01 };
            let off = xiangying_core::org::distance_m(back, wgs);
            assert!(off < tolerance, "{d:?} {back:?} {off} m");
        }
        let out = map_point(Point::new(0.05, 0.05), Datum::Bd09);
        assert_eq!((out.lon, out.lat), (0.05, 0.05), "outside China: unchanged");
    }
}
