//! Map datums at the boundary (decision 0031): every position that comes in says its datum
//! and is converted to WGS-84 here, before the core routes or stores it; every position that
//! goes out is converted to the datum the app's map asks for ([`XiangyingDevice::set_map_datum`])
//! by ONE function, [`map_point`], and says its datum. The conversions themselves are the
//! model's (`xiangying_core::org::datum`).

use crate::device::XiangyingDevice;
use crate::error::{ApiError, ApiResult};
use crate::types::GeoPoint;
use std::sync::atomic::{AtomicU8, Ordering};
use xiangying_core::org::Point;
use xiangying_core::org::datum as core_datum;

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
/// datum `datum` (the device's map datum, [`XiangyingDevice::map_datum`]), saying its datum.
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
    pub(crate) fn get(&self) -> Datum {
        Datum::from_code(self.0.load(Ordering::Relaxed))
    }

    fn set(&self, d: Datum) {
        self.0.store(d.code(), Ordering::Relaxed);
    }
}

/// The camera API's record of one photo, handed over beside its bytes. It wins over the
/// bytes' EXIF, which a platform re-encode (iOS `UIImage`, a HEIC converted to JPEG) drops:
/// read it from the camera API before any re-encode (Android CameraX + `ExifInterface`
/// `TAG_DATETIME_ORIGINAL` / `getLatLong`, or the location at capture time; iOS
/// `PHAsset.creationDate` / `location`, or `AVCapturePhoto.metadata`).
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct PhotoCapture {
    /// When the photo was taken, ms since the Unix epoch.
    #[uniffi(default = None)]
    pub taken_at_ms: Option<i64>,
    /// Where it was taken, in the datum it says (EXIF and Core Location: WGS-84; an AMap
    /// location: GCJ-02).
    #[uniffi(default = None)]
    pub place: Option<GeoPoint>,
}

/// A photo as the camera gave it: JPEG, PNG or WebP bytes (HEIC converted by the platform
/// first) and, when the app has it, the camera's record of time and place.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CameraPhoto {
    /// The encoded photo.
    pub bytes: Vec<u8>,
    /// What the camera API said; winning over the EXIF.
    #[uniffi(default = None)]
    pub capture: Option<PhotoCapture>,
}

/// The latest plausible capture time: the year 9999 (as `now_ms` elsewhere).
const MAX_TIME_MS: i64 = 253_402_300_799_999;

impl PhotoCapture {
    /// The core's record: the place in WGS-84, both fields checked (`InvalidInput` with field
    /// `taken_at_ms` or `place`).
    pub(crate) fn to_core(self) -> ApiResult<xiangying_core::photo::Capture> {
        if let Some(t) = self.taken_at_ms
            && !(0..=MAX_TIME_MS).contains(&t)
        {
            return Err(ApiError::InvalidInput {
                field: "taken_at_ms".into(),
                problem: format!("{t} is not a time between 1970 and 9999 in ms"),
            });
        }
        let place = match self.place {
            None => None,
            Some(g) => {
                let p = g.to_wgs84();
                if !p.is_valid() {
                    return Err(ApiError::InvalidInput {
                        field: "place".into(),
                        problem: format!("({}, {}) is not a position", g.lon, g.lat),
                    });
                }
                Some(p)
            }
        };
        Ok(xiangying_core::photo::Capture {
            taken_at: self.taken_at_ms,
            place,
        })
    }
}

/// The core's record of an optional capture (none: the EXIF alone speaks).
pub(crate) fn capture_of(c: Option<PhotoCapture>) -> ApiResult<xiangying_core::photo::Capture> {
    c.map_or(
        Ok(xiangying_core::photo::Capture::default()),
        PhotoCapture::to_core,
    )
}

#[uniffi::export]
impl XiangyingDevice {
    /// Sets the datum of the app's map: every position this object returns from now on
    /// (a case's location, a photo's place, a patrol's track) is converted to it and says so.
    /// WGS-84 until set; the Kotlin and Swift `open` pass it (`mapDatum`). Positions given
    /// to this object say their own datum, whatever this one is.
    pub fn set_map_datum(&self, datum: Datum) {
        self.map_datum.set(datum);
    }

    /// The datum positions are returned in ([`XiangyingDevice::set_map_datum`]).
    pub fn map_datum(&self) -> Datum {
        self.map_datum.get()
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

    #[test]
    fn a_capture_is_checked() {
        let bad_place = PhotoCapture {
            taken_at_ms: None,
            place: Some(GeoPoint {
                lon: f64::NAN,
                lat: 0.0,
                datum: Datum::Gcj02,
            }),
        };
        assert!(matches!(
            bad_place.to_core(),
            Err(ApiError::InvalidInput { field, .. }) if field == "place"
        ));
        let bad_time = PhotoCapture {
            taken_at_ms: Some(-1),
            place: None,
        };
        assert!(matches!(
            bad_time.to_core(),
            Err(ApiError::InvalidInput { field, .. }) if field == "taken_at_ms"
        ));
        assert_eq!(
            capture_of(None).unwrap(),
            xiangying_core::photo::Capture::default()
        );
    }
}
