//! What the camera API said about a photo, handed over beside its bytes: the capture time and
//! place the platform knew when the shutter fired. It wins over the bytes' EXIF, which a
//! platform re-encode (an iOS `UIImage`, a HEIC converted to JPEG) drops or an app may have
//! stripped; without it the EXIF is read as before.

use super::meta::{GpsPosition, read_exif};
use crate::org::Point;
use std::io::Cursor;

/// The camera's record of one photo. Positions are WGS-84: the caller converts a map SDK's
/// datum first (the bindings do, from the datum the position says it is in).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Capture {
    /// When the photo was taken, ms since the Unix epoch, as the camera API reported it.
    pub taken_at: Option<i64>,
    /// Where it was taken, WGS-84.
    pub place: Option<Point>,
}

/// A photo as the camera gave it: the encoded bytes and the camera's record.
#[derive(Debug, Clone, Copy)]
pub struct CameraPhoto<'a> {
    /// JPEG, PNG or WebP bytes.
    pub bytes: &'a [u8],
    /// What the camera API said; [`Capture::default`] when it said nothing.
    pub capture: Capture,
}

impl<'a> CameraPhoto<'a> {
    /// Bytes without a camera record (the EXIF alone speaks).
    pub fn bytes(bytes: &'a [u8]) -> CameraPhoto<'a> {
        CameraPhoto {
            bytes,
            capture: Capture::default(),
        }
    }

    /// Where the photo was taken: the camera's place, else the EXIF GPS position (WGS-84 by
    /// the EXIF standard), else none. Reads only the metadata segments, not the pixels.
    pub fn place(&self) -> Option<Point> {
        self.capture.place.or_else(|| exif_place(self.bytes))
    }
}

/// The GPS position of the EXIF block of `bytes` (JPEG, PNG, WebP, TIFF or HEIF container),
/// without decoding the image; none when absent, malformed or not an image.
pub fn exif_place(bytes: &[u8]) -> Option<Point> {
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .ok()?;
    read_exif(Some(exif.buf().to_vec()))
        .gps
        .map(|GpsPosition { lat, lon }| Point { lon, lat })
}

/// The capture record's place, else the place the processing found in the EXIF.
pub(crate) fn place_or(capture: &Capture, exif: Option<GpsPosition>) -> Option<Point> {
    capture
        .place
        .or(exif.map(|GpsPosition { lat, lon }| Point { lon, lat }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::test_support::{ExifSpec, exif_tiff, jpeg_rgb, solid, splice_exif};

    fn jpeg_with_exif(spec: &ExifSpec) -> Vec<u8> {
        splice_exif(
            &jpeg_rgb(&solid(16, 12, [90, 120, 200]), 90),
            &exif_tiff(spec),
        )
    }

    #[test]
    fn camera_place_wins_over_exif_and_exif_is_the_fallback() {
        let with_gps = jpeg_with_exif(&ExifSpec {
            gps: Some((41.12, 122.05)),
            ..ExifSpec::default()
        });
        let p = exif_place(&with_gps).unwrap();
        assert!(
            (p.lon - 122.05).abs() < 1e-6 && (p.lat - 41.12).abs() < 1e-6,
            "{p:?}"
        );
        assert_eq!(CameraPhoto::bytes(&with_gps).place(), Some(p));
        let camera = Point::new(121.0, 40.0);
        let photo = CameraPhoto {
            bytes: &with_gps,
            capture: Capture {
                taken_at: None,
                place: Some(camera),
            },
        };
        assert_eq!(photo.place(), Some(camera));
        let bare = jpeg_with_exif(&ExifSpec::default());
        assert_eq!(CameraPhoto::bytes(&bare).place(), None);
        assert_eq!(exif_place(b"not an image"), None);
    }
}
