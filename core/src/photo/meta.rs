//! What the photo's EXIF says: orientation, capture time and GPS position.
//!
//! The EXIF block is read with `kamadak-exif` from whatever the decoder found (JPEG APP1,
//! PNG eXIf, WebP EXIF), leniently: a damaged block keeps what could be read, the way Pillow,
//! libvips and exiftool read it. Anything missing or malformed is absent from the result and,
//! when it was there but could not be read, named in a [`PhotoWarning`]: a photo without
//! metadata is still a photo, but never silently.

use super::{PhotoWarning, SourceFormat};
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
    /// The name of the colour space the pixels were converted from to sRGB (the embedded
    /// profile's description, or "Adobe RGB (1998)" from the EXIF colour space); `None` when
    /// they were sRGB already or said nothing. (Absent in JSON written before it existed.)
    #[serde(default)]
    pub converted_from: Option<String>,
    /// What could not be read or applied (damaged EXIF, an unusable colour profile). Empty
    /// for an ordinary photo. (Absent in JSON written before it existed.)
    #[serde(default)]
    pub warnings: Vec<PhotoWarning>,
}

/// The colour space the EXIF block names, for a file without an embedded ICC profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ExifColourSpace {
    /// sRGB, or nothing said (the pixels are taken as sRGB).
    #[default]
    Srgb,
    /// Adobe RGB (1998), as DCF marks it: `ColorSpace` 0xFFFF (uncalibrated) with the
    /// interoperability index "R03".
    AdobeRgb,
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
    /// The colour space named by `ColorSpace` and the interoperability index.
    pub colour_space: ExifColourSpace,
    /// What could not be read.
    pub warnings: Vec<PhotoWarning>,
}

/// Reader complaints that lose nothing: piexif (a widely used writer) gives its sub-IFDs no
/// "next IFD" field, so the reader takes the first bytes after the entries for one.
fn is_harmless(e: &exif::Error) -> bool {
    matches!(
        e,
        exif::Error::InvalidFormat("Unexpected next IFD" | "Truncated next IFD offset")
    )
}

/// Parses a TIFF-structured EXIF block (with or without the `Exif\0\0` prefix), leniently:
/// a damaged block keeps every field that could be read (kamadak-exif's `continue_on_error`
/// mode), and each field falls back on its own (orientation to 1, the original time to the
/// digitised time, a damaged GPS block to none). What was lost is a warning.
pub(crate) fn read_exif(raw: Option<Vec<u8>>) -> ExifInfo {
    let mut info = ExifInfo {
        orientation: 1,
        ..ExifInfo::default()
    };
    let Some(mut raw) = raw else {
        return info;
    };
    if raw.starts_with(b"Exif\0\0") {
        raw.drain(..6);
    }
    let exif = match Reader::new().continue_on_error(true).read_raw(raw) {
        Ok(exif) => exif,
        Err(e) => {
            let mut errors = Vec::new();
            match e.distill_partial_result(|v| errors = v) {
                Ok(exif) => {
                    let mut lost: Vec<String> = Vec::new();
                    for e in errors.iter().filter(|e| !is_harmless(e)) {
                        let text = e.to_string();
                        if !lost.contains(&text) {
                            lost.push(text);
                        }
                    }
                    if !lost.is_empty() {
                        info.warnings
                            .push(PhotoWarning::ExifDamaged { errors: lost });
                    }
                    exif
                }
                Err(e) => {
                    info.warnings.push(PhotoWarning::ExifUnreadable {
                        reason: e.to_string(),
                    });
                    return info;
                }
            }
        }
    };
    let field = |tag| exif.get_field(tag, In::PRIMARY);
    let mut invalid = |field: &str, reason: String| {
        info.warnings.push(PhotoWarning::ExifFieldInvalid {
            field: field.into(),
            reason,
        })
    };

    let orientation = match field(Tag::Orientation).map(|f| f.value.get_uint(0)) {
        None => 1,
        Some(Some(o @ 1..=8)) => o as u16,
        Some(Some(o)) => {
            invalid("orientation", format!("value {o} is not 1-8"));
            1
        }
        Some(None) => {
            invalid("orientation", "no numeric value".into());
            1
        }
    };

    let original = field(Tag::DateTimeOriginal);
    let digitized = field(Tag::DateTimeDigitized);
    let captured_at = capture_time(
        original,
        field(Tag::SubSecTimeOriginal),
        field(Tag::OffsetTimeOriginal),
    )
    .or_else(|| {
        capture_time(
            digitized,
            field(Tag::SubSecTimeDigitized),
            field(Tag::OffsetTimeDigitized),
        )
    });
    if captured_at.is_none() && (original.is_some() || digitized.is_some()) {
        // The value is hostile text: show at most 40 printable characters of it.
        let shown: String = original
            .or(digitized)
            .map(|f| f.display_value().to_string())
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(40)
            .collect();
        invalid(
            "capture time",
            format!("{shown} is not a valid date and time"),
        );
    }

    let gps_tags = [
        Tag::GPSLatitude,
        Tag::GPSLatitudeRef,
        Tag::GPSLongitude,
        Tag::GPSLongitudeRef,
    ];
    let gps = gps_position(
        field(Tag::GPSLatitude),
        field(Tag::GPSLatitudeRef),
        field(Tag::GPSLongitude),
        field(Tag::GPSLongitudeRef),
    );
    if gps.is_none() && gps_tags.iter().any(|&t| field(t).is_some()) {
        let missing: Vec<String> = gps_tags
            .iter()
            .filter(|&&t| field(t).is_none())
            .map(ToString::to_string)
            .collect();
        invalid(
            "GPS position",
            if missing.is_empty() {
                "latitude or longitude is malformed or out of range".into()
            } else {
                format!("{} missing", missing.join(", "))
            },
        );
    }

    let uncalibrated = field(Tag::ColorSpace).and_then(|f| f.value.get_uint(0)) == Some(0xFFFF);
    let r03 = first_ascii(exif.get_field(Tag::InteroperabilityIndex, In::PRIMARY))
        .is_some_and(|v| v.starts_with(b"R03"));
    if uncalibrated && r03 {
        info.colour_space = ExifColourSpace::AdobeRgb;
    }

    info.orientation = orientation;
    info.captured_at = captured_at;
    info.gps = gps;
    info
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
    use crate::photo::test_support::{ExifSpec, exif_tiff, exif_tiff_colour_space};

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
    fn missing_garbage_or_invalid_exif_gives_defaults_and_warnings() {
        let none = read_exif(None);
        assert_eq!((none.orientation, none.warnings.len()), (1, 0));
        let garbage = read_exif(Some(b"not a tiff".to_vec()));
        assert_eq!(garbage.orientation, 1);
        assert!(
            matches!(&garbage.warnings[..], [PhotoWarning::ExifUnreadable { .. }]),
            "{:?}",
            garbage.warnings
        );
        let tiff = exif_tiff(&ExifSpec {
            orientation: Some(9),
            date_time_original: Some("2024:13:45 99:00:00"),
            ..ExifSpec::default()
        });
        let info = read_exif(Some(tiff));
        assert_eq!(
            (info.orientation, &info.captured_at, &info.gps),
            (1, &None, &None)
        );
        let fields: Vec<&str> = info
            .warnings
            .iter()
            .map(|w| match w {
                PhotoWarning::ExifFieldInvalid { field, .. } => field.as_str(),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(fields, ["orientation", "capture time"]);
    }

    #[test]
    fn an_ordinary_block_gives_no_warning() {
        let tiff = exif_tiff(&ExifSpec {
            orientation: Some(6),
            date_time_original: Some("2024:05:01 08:30:15"),
            gps: Some((1.0, 2.0)),
            ..ExifSpec::default()
        });
        assert_eq!(read_exif(Some(tiff)).warnings, []);
    }

    /// What Pillow reads from one vector (`core/tests/fixtures/photo/exif/expected.json`,
    /// written by `make_exif_vectors.py`).
    #[derive(serde::Deserialize)]
    struct PillowReads {
        orientation: Option<u16>,
        lat: Option<f64>,
        lon: Option<f64>,
        date_time_original: Option<String>,
    }

    fn vectors_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/photo/exif")
    }

    #[test]
    fn every_vector_yields_what_pillow_reads() {
        let dir = vectors_dir();
        let expected: std::collections::BTreeMap<String, PillowReads> =
            serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
        assert!(expected.len() >= 16, "{} vectors", expected.len());
        for (name, want) in &expected {
            let jpeg = std::fs::read(dir.join(format!("{name}.jpg"))).unwrap();
            let m = read_exif(Some(app1_of(&jpeg)));
            assert_eq!(m.orientation, want.orientation.unwrap_or(1), "{name}");
            match (m.gps, want.lat, want.lon) {
                (Some(g), Some(lat), Some(lon)) => assert!(
                    (g.lat - lat).abs() < 1e-7 && (g.lon - lon).abs() < 1e-7,
                    "{name}: {g:?} against Pillow's {lat}, {lon}"
                ),
                (None, None, None) => {}
                (got, lat, lon) => panic!("{name}: {got:?} against Pillow's {lat:?}, {lon:?}"),
            }
            let local = m
                .captured_at
                .as_ref()
                .map(|t| t.local.format("%Y:%m:%d %H:%M:%S").to_string());
            assert_eq!(local, want.date_time_original, "{name}");
            // Whatever Pillow could not read is a warning here, never silence.
            if want.lat.is_none() || want.orientation.is_none() {
                assert!(!m.warnings.is_empty(), "{name}: no warning");
            }
        }
    }

    /// The EXIF block of a JPEG, as the pipeline's JPEG decoder finds it.
    fn app1_of(jpeg: &[u8]) -> Vec<u8> {
        let mut dec = jpeg_decoder::Decoder::new(jpeg);
        dec.decode().unwrap();
        dec.exif_data().unwrap().to_vec()
    }

    #[test]
    fn the_strict_reader_loses_the_issues_piexif_block() {
        // The defect behind issue 20, kept as evidence that the vector exercises it.
        let jpeg = std::fs::read(vectors_dir().join("piexif_be.jpg")).unwrap();
        let raw = app1_of(&jpeg);
        assert!(raw.starts_with(b"MM"), "big-endian block");
        assert!(Reader::new().read_raw(raw.clone()).is_err());
        let info = read_exif(Some(raw));
        assert_eq!(info.orientation, 6);
        assert!(info.gps.is_some() && info.captured_at.is_some());
        assert_eq!(info.warnings, [], "nothing was lost");
    }

    #[test]
    fn adobe_rgb_is_recognised_from_colour_space_and_interop_index() {
        for (le, colour_space, index, want) in [
            (false, 0xFFFF, "R03", ExifColourSpace::AdobeRgb),
            (true, 0xFFFF, "R03", ExifColourSpace::AdobeRgb),
            (false, 1, "R98", ExifColourSpace::Srgb),
            (false, 0xFFFF, "R98", ExifColourSpace::Srgb),
        ] {
            let tiff = exif_tiff_colour_space(le, colour_space, index);
            let info = read_exif(Some(tiff));
            assert_eq!(info.colour_space, want, "{colour_space:#x} {index}");
            assert_eq!(info.warnings, []);
        }
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
