//! Decoding JPEG, PNG and WebP into an 8-bit [`Raster`], plus the raw EXIF block.
//!
//! JPEG goes through `jpeg-decoder`, which can scale during the inverse DCT (1/2, 1/4,
//! 1/8): a 12 MP photo meant for a 1,920-pixel output is decoded straight to 2,000×1,500,
//! which costs less time and a quarter of the memory of a full decode. JPEG features that
//! crate does not support (arithmetic coding, for example) fall back to the `image` crate's
//! decoder (zune-jpeg) at full size. PNG and WebP use the `image` crate.
//!
//! Alpha is composited over white (a transparent screenshot would otherwise turn black),
//! 16-bit samples are reduced to 8 bits and CMYK becomes sRGB (through its embedded profile
//! when it has a usable one, see [`super::colour`]). The embedded ICC profile of an RGB
//! picture is returned for the pipeline to apply after resizing.

use super::colour::{self, Outcome};
use super::limits::{Header, SourceFormat};
use super::raster::Raster;
use super::{PhotoError, PhotoOptions};
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};
use std::io::Cursor;

/// A decoded picture (possibly already reduced by DCT scaling) and its EXIF block.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// The pixels, at full size or at the reduced JPEG scale.
    pub raster: Raster,
    /// The TIFF-structured EXIF block, if the file had one.
    pub exif: Option<Vec<u8>>,
    /// The embedded ICC profile of an RGB picture, still to be applied.
    pub icc: Option<Vec<u8>>,
    /// Set when colour was already converted while decoding (CMYK).
    pub colour: Option<Outcome>,
}

/// Decodes `input` (already checked by [`super::limits::check`]); `want` is the size the
/// caller will resize to, so a JPEG may be decoded at a reduced scale no smaller than it.
pub(crate) fn decode(
    input: &[u8],
    header: &Header,
    want: (u32, u32),
    opts: &PhotoOptions,
) -> Result<Decoded, PhotoError> {
    match header.format {
        SourceFormat::Jpeg => {
            check_jpeg_complete(input)?;
            match decode_jpeg(input, header, want, opts) {
                Err(JpegFailure::Unsupported) => decode_with_image(input, ImageFormat::Jpeg, opts),
                Err(JpegFailure::Fatal(e)) => Err(e),
                Ok(d) => Ok(d),
            }
        }
        SourceFormat::Png => decode_with_image(input, ImageFormat::Png, opts),
        SourceFormat::WebP => decode_with_image(input, ImageFormat::WebP, opts),
    }
}

/// A JPEG whose image data is cut short decodes "successfully" in lenient decoders (the
/// missing part is grey). Refuse it instead: after the first scan header there must be an
/// end-of-image marker. (`FF D9` cannot occur inside entropy-coded data, where every
/// `FF` byte is followed by `00` or a restart marker.)
fn check_jpeg_complete(b: &[u8]) -> Result<(), PhotoError> {
    let mut pos = 2;
    while pos + 3 < b.len() && b[pos] == 0xFF {
        let marker = b[pos + 1];
        if marker == 0xDA {
            // Phones often append data after EOI, so search from the end.
            if b[pos..].windows(2).rev().any(|w| w == [0xFF, 0xD9]) {
                return Ok(());
            }
            break;
        }
        if marker == 0xFF {
            pos += 1; // fill byte
            continue;
        }
        let len = usize::from(u16::from_be_bytes([b[pos + 2], b[pos + 3]]));
        pos += 2 + len;
    }
    Err(PhotoError::Corrupt(
        "JPEG is truncated (no end-of-image marker after its image data)".into(),
    ))
}

enum JpegFailure {
    /// A JPEG feature `jpeg-decoder` lacks: try the other decoder.
    Unsupported,
    Fatal(PhotoError),
}

fn decode_jpeg(
    input: &[u8],
    header: &Header,
    want: (u32, u32),
    opts: &PhotoOptions,
) -> Result<Decoded, JpegFailure> {
    use jpeg_decoder::{Error, PixelFormat};
    let fail = |e: Error| match e {
        Error::Unsupported(_) => JpegFailure::Unsupported,
        Error::Io(e) => JpegFailure::Fatal(PhotoError::Corrupt(format!("JPEG: {e}"))),
        Error::Format(m) => JpegFailure::Fatal(PhotoError::Corrupt(format!("JPEG: {m}"))),
        other => JpegFailure::Fatal(PhotoError::Corrupt(format!("JPEG: {other}"))),
    };
    let mut dec = jpeg_decoder::Decoder::new(input);
    // A second guard behind the header check: never hold more than 4 bytes per allowed pixel.
    dec.set_max_decoding_buffer_size(
        usize::try_from(opts.max_pixels.saturating_mul(4)).unwrap_or(usize::MAX),
    );
    dec.read_info().map_err(fail)?;
    if want != (header.width, header.height) {
        // Picks the smallest of 1/8, 1/4, 1/2, 1 that stays at least as large as `want`.
        let w = u16::try_from(want.0).unwrap_or(u16::MAX);
        let h = u16::try_from(want.1).unwrap_or(u16::MAX);
        dec.scale(w, h).map_err(fail)?;
    }
    let pixels = dec.decode().map_err(fail)?;
    let exif = dec.exif_data().map(<[u8]>::to_vec);
    let mut icc = dec.icc_profile();
    let mut colour = None;
    let info = dec.info().ok_or_else(|| {
        JpegFailure::Fatal(PhotoError::Corrupt("JPEG without a frame header".into()))
    })?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let (gray, data) = match info.pixel_format {
        PixelFormat::RGB24 => (false, pixels),
        PixelFormat::L8 => (true, pixels),
        // 16-bit lossless JPEG: keep the high byte (native order from the decoder).
        PixelFormat::L16 => (
            true,
            pixels
                .chunks_exact(2)
                .map(|p| (u16::from_ne_bytes([p[0], p[1]]) >> 8) as u8)
                .collect(),
        ),
        // The decoder yields ink amounts (0 = no ink, Adobe's inversion undone), which is
        // what a CMYK profile expects.
        PixelFormat::CMYK32 => {
            let (rgb, outcome) = colour::cmyk_to_srgb(&pixels, icc.take().as_deref());
            colour = Some(outcome);
            (false, rgb)
        }
    };
    let expected = width as usize * height as usize * if gray { 1 } else { 3 };
    if data.len() != expected {
        return Err(JpegFailure::Fatal(PhotoError::Corrupt(format!(
            "JPEG decoder returned {} bytes for {width}x{height}",
            data.len()
        ))));
    }
    Ok(Decoded {
        raster: Raster {
            width,
            height,
            gray,
            data,
        },
        exif,
        icc,
        colour,
    })
}

fn image_error(e: ImageError, opts: &PhotoOptions, dims: (u32, u32)) -> PhotoError {
    match e {
        ImageError::Limits(_) => PhotoError::TooManyPixels {
            width: dims.0,
            height: dims.1,
            limit: opts.max_pixels,
        },
        ImageError::Unsupported(u) => PhotoError::UnsupportedFormat(u.to_string()),
        ImageError::IoError(e) => PhotoError::Corrupt(format!("truncated or unreadable: {e}")),
        other => PhotoError::Corrupt(other.to_string()),
    }
}

fn decode_with_image(
    input: &[u8],
    format: ImageFormat,
    opts: &PhotoOptions,
) -> Result<Decoded, PhotoError> {
    let mut reader = ImageReader::with_format(Cursor::new(input), format);
    let mut limits = image::Limits::default();
    // At most 8 bytes (16-bit RGBA) per allowed pixel, and never more than the caller allows.
    limits.max_alloc = Some(
        opts.max_pixels
            .saturating_mul(8)
            .min(opts.max_decoded_bytes),
    );
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| image_error(e, opts, (0, 0)))?;
    let dims = decoder.dimensions();
    if decoder.total_bytes() > opts.max_decoded_bytes {
        return Err(PhotoError::TooManyPixels {
            width: dims.0,
            height: dims.1,
            limit: opts.max_pixels,
        });
    }
    // Metadata problems must not lose the photo.
    let exif = decoder.exif_metadata().ok().flatten();
    let icc = decoder.icc_profile().ok().flatten();
    let img = DynamicImage::from_decoder(decoder).map_err(|e| image_error(e, opts, dims))?;
    Ok(Decoded {
        raster: to_raster(img),
        exif,
        icc,
        colour: None,
    })
}

/// Flattens any `image` colour type to 8-bit grey or RGB, compositing alpha over white.
fn to_raster(img: DynamicImage) -> Raster {
    let (width, height) = (img.width(), img.height());
    let color = img.color();
    let over_white = |v: u8, a: u8| -> u8 {
        ((u16::from(v) * u16::from(a) + 255 * (255 - u16::from(a)) + 127) / 255) as u8
    };
    let (gray, data) = match (color.has_color(), color.has_alpha()) {
        (false, false) => (true, img.into_luma8().into_raw()),
        (false, true) => (
            true,
            img.into_luma_alpha8()
                .into_raw()
                .chunks_exact(2)
                .map(|p| over_white(p[0], p[1]))
                .collect(),
        ),
        (true, false) => (false, img.into_rgb8().into_raw()),
        (true, true) => (
            false,
            img.into_rgba8()
                .into_raw()
                .chunks_exact(4)
                .flat_map(|p| {
                    [
                        over_white(p[0], p[3]),
                        over_white(p[1], p[3]),
                        over_white(p[2], p[3]),
                    ]
                })
                .collect(),
        ),
    };
    Raster {
        width,
        height,
        gray,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::limits;
    use crate::photo::test_support::{jpeg_progressive, jpeg_rgb, marker_image, solid};

    fn run(input: &[u8], want_edge: u32) -> Result<Decoded, PhotoError> {
        let opts = PhotoOptions::default();
        let header = limits::check(input, &opts)?;
        let want = super::super::raster::fit(header.width, header.height, want_edge);
        decode(input, &header, want, &opts)
    }

    #[test]
    fn large_jpeg_is_decoded_at_reduced_scale() {
        let jpg = jpeg_rgb(&marker_image(1000, 600), 90);
        let d = run(&jpg, 240).unwrap();
        // 1/4 scale (250×150) is the smallest not below 240×144.
        assert_eq!((d.raster.width, d.raster.height), (250, 150));
        let d = run(&jpg, 2000).unwrap();
        assert_eq!((d.raster.width, d.raster.height), (1000, 600));
    }

    #[test]
    fn progressive_jpeg_decodes() {
        let jpg = jpeg_progressive(&marker_image(64, 48), 90);
        let d = run(&jpg, 1920).unwrap();
        assert_eq!(
            (d.raster.width, d.raster.height, d.raster.gray),
            (64, 48, false)
        );
    }

    #[test]
    fn truncated_jpeg_is_refused() {
        let jpg = jpeg_rgb(&solid(200, 100, [1, 100, 200]), 90);
        for cut in [jpg.len() - 2, jpg.len() / 2, 300] {
            match run(&jpg[..cut], 1920) {
                Err(PhotoError::Corrupt(_)) => {}
                other => panic!("cut at {cut}: expected Corrupt, got {other:?}"),
            }
        }
    }

    #[test]
    fn trailing_bytes_after_eoi_are_fine() {
        let mut jpg = jpeg_rgb(&solid(20, 10, [1, 100, 200]), 90);
        jpg.extend(b"vendor trailer with bytes \xFF\x00\x12");
        assert!(run(&jpg, 1920).is_ok());
    }
}
