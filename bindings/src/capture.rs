//! The camera API's record of a photo at the boundary: [`PhotoCapture`] (time, place with its
//! datum) and [`CameraPhoto`] (bytes with their record), checked and turned into the core's
//! `photo::Capture` with the place in WGS-84 (decision 0031).

use crate::datum::GeoPoint;
use crate::error::{ApiError, ApiResult};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datum::Datum;

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
