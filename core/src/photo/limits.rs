//! The guards that run before any pixel is decoded: input size, format sniffing and the
//! pixel count read straight from the file header.
//!
//! The header is parsed here by hand (a few bytes for each format) so that a file that
//! announces 100,000 × 100,000 pixels is refused at once, even when the rest of the file
//! is missing, and without asking any decoder to allocate.

use super::{PhotoError, PhotoOptions};
use serde::{Deserialize, Serialize};

/// The encodings the pipeline accepts.
///
/// HEIC/HEIF (the iPhone default) is not among them: the phone's platform decodes it (for
/// example to JPEG) before the bytes reach the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// JPEG (baseline or progressive; YCbCr, grayscale or CMYK).
    Jpeg,
    /// PNG (any bit depth, with or without alpha).
    Png,
    /// WebP (lossy or lossless).
    WebP,
}

/// What the header says: the format and the stored (not yet oriented) dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// The encoding recognised from the magic bytes.
    pub format: SourceFormat,
    /// Stored width in pixels.
    pub width: u32,
    /// Stored height in pixels.
    pub height: u32,
}

/// Checks the size of `input`, recognises its format and reads its dimensions from the
/// header, refusing anything over the limits of `opts`. Decodes no pixel.
pub(crate) fn check(input: &[u8], opts: &PhotoOptions) -> Result<Header, PhotoError> {
    if input.len() > opts.max_input_bytes {
        return Err(PhotoError::TooLarge {
            bytes: input.len(),
            limit: opts.max_input_bytes,
        });
    }
    let format = sniff(input)?;
    let (width, height) = match format {
        SourceFormat::Jpeg => jpeg_dimensions(input)?,
        SourceFormat::Png => png_dimensions(input)?,
        SourceFormat::WebP => webp_dimensions(input)?,
    };
    if width == 0 || height == 0 {
        return Err(PhotoError::Corrupt(format!(
            "header announces an empty image ({width}x{height})"
        )));
    }
    if u64::from(width) * u64::from(height) > opts.max_pixels {
        return Err(PhotoError::TooManyPixels {
            width,
            height,
            limit: opts.max_pixels,
        });
    }
    Ok(Header {
        format,
        width,
        height,
    })
}

/// Recognises the format from the magic bytes; names the usual suspects when refusing.
fn sniff(input: &[u8]) -> Result<SourceFormat, PhotoError> {
    const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if input.is_empty() {
        return Err(PhotoError::Corrupt("empty input".into()));
    }
    if input.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(SourceFormat::Jpeg);
    }
    if input.starts_with(PNG_SIGNATURE) {
        return Ok(SourceFormat::Png);
    }
    if input.len() >= 12 && &input[0..4] == b"RIFF" && &input[8..12] == b"WEBP" {
        return Ok(SourceFormat::WebP);
    }
    let name = if input.len() >= 12 && &input[4..8] == b"ftyp" {
        match &input[8..12] {
            b"avif" | b"avis" => "AVIF",
            _ => "HEIC/HEIF (the phone's platform must convert it to JPEG first)",
        }
    } else if input.starts_with(b"GIF8") {
        "GIF"
    } else if input.starts_with(b"BM") {
        "BMP"
    } else if input.starts_with(b"II*\0") || input.starts_with(b"MM\0*") {
        "TIFF"
    } else {
        "unrecognised bytes (not JPEG, PNG or WebP)"
    };
    Err(PhotoError::UnsupportedFormat(name.into()))
}

fn truncated(what: &str) -> PhotoError {
    PhotoError::Corrupt(format!("truncated {what} header"))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        0,
    ]))
}

fn png_dimensions(b: &[u8]) -> Result<(u32, u32), PhotoError> {
    // Signature (8), then the IHDR chunk: length (4), type (4), width (4), height (4).
    let ihdr = b.get(8..24).ok_or_else(|| truncated("PNG"))?;
    if &ihdr[4..8] != b"IHDR" {
        return Err(PhotoError::Corrupt("PNG does not start with IHDR".into()));
    }
    let width = u32::from_be_bytes([ihdr[8], ihdr[9], ihdr[10], ihdr[11]]);
    let height = u32::from_be_bytes([ihdr[12], ihdr[13], ihdr[14], ihdr[15]]);
    Ok((width, height))
}

/// Walks the JPEG marker segments up to the first frame header (SOFn).
fn jpeg_dimensions(b: &[u8]) -> Result<(u32, u32), PhotoError> {
    let mut pos = 2; // after SOI
    loop {
        // Markers are 0xFF followed by a code; extra 0xFF fill bytes are allowed.
        if *b.get(pos).ok_or_else(|| truncated("JPEG"))? != 0xFF {
            return Err(PhotoError::Corrupt(format!(
                "JPEG marker expected at byte {pos}"
            )));
        }
        while b.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *b.get(pos).ok_or_else(|| truncated("JPEG"))?;
        pos += 1;
        match marker {
            // Standalone markers carry no length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD8..=0xDA => {
                return Err(PhotoError::Corrupt(
                    "JPEG has no frame header before its image data".into(),
                ));
            }
            // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                // length (2), precision (1), height (2), width (2)
                let height = be16(b, pos + 3).ok_or_else(|| truncated("JPEG"))?;
                let width = be16(b, pos + 5).ok_or_else(|| truncated("JPEG"))?;
                return Ok((u32::from(width), u32::from(height)));
            }
            _ => {
                let len = be16(b, pos).ok_or_else(|| truncated("JPEG"))?;
                if len < 2 {
                    return Err(PhotoError::Corrupt("JPEG segment length below 2".into()));
                }
                pos += usize::from(len);
            }
        }
    }
}

fn webp_dimensions(b: &[u8]) -> Result<(u32, u32), PhotoError> {
    // RIFF header (12), then the first chunk: fourcc (4), size (4), data from byte 20.
    let fourcc = b.get(12..16).ok_or_else(|| truncated("WebP"))?;
    let dims = match fourcc {
        b"VP8X" => {
            // flags (1), reserved (3), canvas width - 1 (3), canvas height - 1 (3)
            le24(b, 24).zip(le24(b, 27)).map(|(w, h)| (w + 1, h + 1))
        }
        b"VP8L" => {
            // signature 0x2F, then 14 bits width - 1 and 14 bits height - 1
            if b.get(20) != Some(&0x2F) {
                return Err(PhotoError::Corrupt("bad VP8L signature".into()));
            }
            b.get(21..25).map(|s| {
                let bits = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
                ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            })
        }
        b"VP8 " => {
            // frame tag (3), start code 9D 01 2A (3), width (2), height (2); 14 bits each
            if b.get(23..26).is_some_and(|c| c != [0x9D, 0x01, 0x2A]) {
                return Err(PhotoError::Corrupt("bad VP8 start code".into()));
            }
            le16(b, 26)
                .zip(le16(b, 28))
                .map(|(w, h)| (u32::from(w & 0x3FFF), u32::from(h & 0x3FFF)))
        }
        other => {
            return Err(PhotoError::Corrupt(format!(
                "unexpected first WebP chunk {:?}",
                String::from_utf8_lossy(other)
            )));
        }
    };
    dims.ok_or_else(|| truncated("WebP"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::test_support::{encode_png, huge_png_header, jpeg_rgb, solid};

    fn opts() -> PhotoOptions {
        PhotoOptions::default()
    }

    #[test]
    fn reads_png_and_jpeg_dimensions_from_the_header() {
        let png = encode_png(&image::DynamicImage::ImageRgb8(solid(37, 21, [1, 2, 3])));
        let h = check(&png, &opts()).unwrap();
        assert_eq!((h.format, h.width, h.height), (SourceFormat::Png, 37, 21));
        let jpg = jpeg_rgb(&solid(50, 13, [9, 9, 9]), 90);
        let h = check(&jpg, &opts()).unwrap();
        assert_eq!((h.format, h.width, h.height), (SourceFormat::Jpeg, 50, 13));
    }

    #[test]
    fn reads_webp_dimensions_from_the_header() {
        let img = image::DynamicImage::ImageRgba8(image::RgbaImage::new(301, 7));
        let mut webp = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut webp),
            image::ImageFormat::WebP,
        )
        .unwrap();
        let h = check(&webp, &opts()).unwrap();
        assert_eq!((h.format, h.width, h.height), (SourceFormat::WebP, 301, 7));
    }

    #[test]
    fn refuses_a_huge_png_from_its_ihdr_alone() {
        let png = huge_png_header(100_000, 100_000);
        match check(&png, &opts()) {
            Err(PhotoError::TooManyPixels {
                width: 100_000,
                height: 100_000,
                ..
            }) => {}
            other => panic!("expected TooManyPixels, got {other:?}"),
        }
    }

    #[test]
    fn refuses_oversized_input_before_looking_at_it() {
        let o = PhotoOptions {
            max_input_bytes: 10,
            ..PhotoOptions::default()
        };
        assert!(matches!(
            check(&[0u8; 11], &o),
            Err(PhotoError::TooLarge {
                bytes: 11,
                limit: 10
            })
        ));
    }

    #[test]
    fn names_unsupported_formats() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        match check(heic, &opts()) {
            Err(PhotoError::UnsupportedFormat(name)) => assert!(name.contains("HEIC")),
            other => panic!("expected UnsupportedFormat, got {other:?}"),
        }
        assert!(matches!(
            check(b"GIF89a....", &opts()),
            Err(PhotoError::UnsupportedFormat(_))
        ));
        assert!(matches!(check(b"", &opts()), Err(PhotoError::Corrupt(_))));
    }

    #[test]
    fn a_jpeg_cut_inside_its_headers_is_corrupt() {
        let jpg = jpeg_rgb(&solid(50, 13, [9, 9, 9]), 90);
        assert!(matches!(
            check(&jpg[..20], &opts()),
            Err(PhotoError::Corrupt(_))
        ));
    }
}
