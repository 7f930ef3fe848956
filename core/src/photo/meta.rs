//! What the photo's EXIF says: orientation, capture time and GPS position.
//!
//! The EXIF block is read with `kamadak-exif` from whatever the decoder found (JPEG APP1,
//! PNG eXIf, WebP EXIF). Anything missing or malformed is simply absent from the result:
//! a photo without metadata is still a photo.

use super::SourceFormat;
use chrono::{NaiveDate, NaiveDateTime};
use exif::{Field, In, Reader, Tag, Value};
use serde::{Deserialize, Serialize};

/// When the photo was taken, as the camera recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureTime {
    /// The wall-clock time the camera wrote (EXIF `DateTimeOriginal`, with
    /// `SubSecTimeOriginal` when present), in the camera's local time zone.
    pub local: NaiveDateTime,
    /// The camera's UTC offset in minutes east (`OffsetTimeOriginal`, EXIF 2.31+), when
    /// the camera wrote one. Without it `local` is only a local time of unknown zone.
    pub offset_minutes: Option<i16>,
    /// Seconds since the Unix epoch, only when the offset is known (so the instant is
    /// unambiguous).
    pub unix_seconds: Option<i64>,
}

/// A WGS-84 position, from the EXIF GPS block.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpsPosition {
    /// Latitude in degrees, north positive.
    pub lat: f64,
    /// Longitude in degrees, east positive.
    pub lon: f64,
}

/// What the pipeline learnt about the source photo. The output files carry none of it:
/// the case keeps what it needs from here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoMeta {
    /// The encoding of the input.
    pub format: SourceFormat,
    /// Width of the source as it should be seen (after the EXIF orientation is applied).
    pub original_width: u32,
    /// Height of the source as it should be seen (after the EXIF orientation is applied).
    pub original_height: u32,
    /// The EXIF orientation found (1–8; 1 when there was none or it was invalid).
    pub orientation: u16,
    /// When the photo was taken, if the metadata says.
    pub captured_at: Option<CaptureTime>,
    /// Where the photo was taken, if the metadata says.
    pub gps: Option<GpsPosition>,
}

/// The parts of the EXIF block the pipeline uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ExifInfo {
    /// EXIF orientation, 1–8 (1 when absent or invalid).
    pub orientation: u16,
    /// `DateTimeOriginal` (or `DateTimeDigitized`) with offset and sub-seconds.
    pub captured_at: Option<CaptureTime>,
    /// The GPS position in signed degrees.
    pub gps: Option<GpsPosition>,
}

/// Parses a TIFF-structured EXIF block (with or without the `Exif\0\0` prefix).
pub(crate) fn read_exif(raw: Option<Vec<u8>>) -> ExifInfo {
    let none = ExifInfo {
        orientation: 1,
        ..ExifInfo::default()
    };
    let Some(mut raw) = raw else {
        return none;
    };
    if raw.starts_with(b"Exif\0\0") {
        raw.drain(..6);
    }
    let Ok(exif) = Reader::new().read_raw(raw) else {
        return none;
    };
    let field = |tag| exif.get_field(tag, In::PRIMARY);
    let orientation = field(Tag::Orientation)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|o| u16::try_from(o).ok())
        .filter(|o| (1..=8).contains(o))
        .unwrap_or(1);
    let captured_at = capture_time(
        field(Tag::DateTimeOriginal),
        field(Tag::SubSecTimeOriginal),
        field(Tag::OffsetTimeOriginal),
    )
    .or_else(|| {
        capture_time(
            field(Tag::DateTimeDigitized),
            field(Tag::SubSecTimeDigitized),
            field(Tag::OffsetTimeDigitized),
        )
    });
    let gps = gps_position(
        field(Tag::GPSLatitude),
        field(Tag::GPSLatitudeRef),
        field(Tag::GPSLongitude),
        field(Tag::GPSLongitudeRef),
    );
    ExifInfo {
        orientation,
        captured_at,
        gps,
    }
}

fn first_ascii(f: Option<&Field>) -> Option<&[u8]> {
    match &f?.value {
        Value::Ascii(v) => v.first().map(Vec::as_slice),
        _ => None,
    }
}

fn capture_time(
    datetime: Option<&Field>,
    subsec: Option<&Field>,
    offset: Option<&Field>,
) -> Option<CaptureTime> {
    let mut dt = exif::DateTime::from_ascii(first_ascii(datetime)?).ok()?;
    if let Some(s) = first_ascii(subsec) {
        // A malformed sub-second field only loses the sub-seconds.
        let _ = dt.parse_subsec(s);
    }
    if let Some(o) = first_ascii(offset) {
        let _ = dt.parse_offset(o);
    }
    let local = NaiveDate::from_ymd_opt(i32::from(dt.year), dt.month.into(), dt.day.into())?
        .and_hms_nano_opt(
            dt.hour.into(),
            dt.minute.into(),
            dt.second.into(),
            dt.nanosecond.unwrap_or(0),
        )?;
    let offset_minutes = dt.offset.filter(|m| m.abs() <= 18 * 60);
    let unix_seconds = offset_minutes.map(|m| local.and_utc().timestamp() - i64::from(m) * 60);
    Some(CaptureTime {
        local,
        offset_minutes,
        unix_seconds,
    })
}

fn degrees(f: Option<&Field>) -> Option<f64> {
    let Value::Rational(parts) = &f?.value else {
        return None;
    };
    let mut total = 0.0;
    for (part, unit) in parts.iter().zip([1.0, 60.0, 3600.0]) {
        if part.denom == 0 {
            return None;
        }
        total += part.to_f64() / unit;
    }
    (!parts.is_empty() && total.is_finite()).then_some(total)
}

fn gps_position(
    lat: Option<&Field>,
    lat_ref: Option<&Field>,
    lon: Option<&Field>,
    lon_ref: Option<&Field>,
) -> Option<GpsPosition> {
    let sign = |r: Option<&Field>, pos: u8, neg: u8| match first_ascii(r)?.first()? {
        c if c.eq_ignore_ascii_case(&pos) => Some(1.0),
        c if c.eq_ignore_ascii_case(&neg) => Some(-1.0),
        _ => None,
    };
    let lat = degrees(lat)? * sign(lat_ref, b'N', b'S')?;
    let lon = degrees(lon)? * sign(lon_ref, b'E', b'W')?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
        .then_some(GpsPosition { lat, lon })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::test_support::{ExifSpec, exif_tiff};

    #[test]
    fn reads_time_with_offset_and_signed_gps() {
        for little_endian in [false, true] {
            let tiff = exif_tiff(&ExifSpec {
                orientation: Some(6),
                date_time_original: Some("2024:05:01 08:30:15"),
                offset_time_original: Some("+08:00"),
                gps: Some((-33.8688, 151.2093)),
                little_endian,
            });
            let info = read_exif(Some(tiff));
            assert_eq!(info.orientation, 6);
            let t = info.captured_at.unwrap();
            assert_eq!(t.local.to_string(), "2024-05-01 08:30:15");
            assert_eq!(t.offset_minutes, Some(480));
            // 2024-05-01T00:30:15Z
            assert_eq!(t.unix_seconds, Some(1_714_523_415));
            let g = info.gps.unwrap();
            assert!((g.lat - -33.8688).abs() < 1e-6, "{g:?}");
            assert!((g.lon - 151.2093).abs() < 1e-6, "{g:?}");
        }
    }

    #[test]
    fn west_and_north_and_no_offset() {
        let tiff = exif_tiff(&ExifSpec {
            date_time_original: Some("2023:12:31 23:59:59"),
            gps: Some((40.7128, -74.006)),
            ..ExifSpec::default()
        });
        let info = read_exif(Some(tiff));
        let t = info.captured_at.unwrap();
        assert_eq!(t.offset_minutes, None);
        assert_eq!(t.unix_seconds, None, "no offset, no instant");
        let g = info.gps.unwrap();
        assert!(g.lat > 40.7 && g.lon < -74.0);
        assert_eq!(info.orientation, 1);
    }

    #[test]
    fn missing_garbage_or_invalid_exif_gives_defaults() {
        assert_eq!(read_exif(None).orientation, 1);
        assert_eq!(read_exif(Some(b"not a tiff".to_vec())).orientation, 1);
        let tiff = exif_tiff(&ExifSpec {
            orientation: Some(9),
            date_time_original: Some("2024:13:45 99:00:00"),
            ..ExifSpec::default()
        });
        let info = read_exif(Some(tiff));
        assert_eq!(
            info,
            ExifInfo {
                orientation: 1,
                ..ExifInfo::default()
            }
        );
    }

    #[test]
    fn accepts_the_exif_prefix() {
        let mut raw = b"Exif\0\0".to_vec();
        raw.extend(exif_tiff(&ExifSpec {
            orientation: Some(3),
            ..ExifSpec::default()
        }));
        assert_eq!(read_exif(Some(raw)).orientation, 3);
    }
}
