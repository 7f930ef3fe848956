//! [`process`]: the pure pipeline from input bytes to a [`ProcessedPhoto`].

use super::raster::{self, Raster};
use super::{PhotoError, PhotoMeta, PhotoOptions, ProcessedPhoto};
use super::{colour, decode, encode, limits, meta, orient};
use fast_image_resize::Resizer;

/// Turns a JPEG, PNG or WebP photo into an upright, metadata-free JPEG whose long edge is
/// at most `opts.max_edge`, a thumbnail of at most `opts.thumb_edge`, and the metadata
/// read from the source (capture time, GPS, size, orientation).
///
/// HEIC/HEIF is refused with [`PhotoError::UnsupportedFormat`]: the phone's platform
/// decodes it (to JPEG) before calling this. Small images are never upscaled. Oversized
/// inputs are refused from their size or header before decoding; truncated or damaged
/// ones give [`PhotoError::Corrupt`]. The result is deterministic: the same input and
/// options give the same bytes and hashes. Runs on the calling thread (the JPEG decoder
/// may use one helper thread per colour component).
pub fn process(input: &[u8], opts: &PhotoOptions) -> Result<ProcessedPhoto, PhotoError> {
    let header = limits::check(input, opts)?;
    let want = raster::fit(header.width, header.height, opts.max_edge);
    let decoded = decode::decode(input, &header, want, opts)?;
    let mut exif = meta::read_exif(decoded.exif);

    let mut resizer = Resizer::new();
    let mut stored: Raster = if (decoded.raster.width, decoded.raster.height) == want {
        decoded.raster
    } else {
        let resized = raster::resize(&decoded.raster, want.0, want.1, &mut resizer)?;
        drop(decoded.raster);
        resized
    };
    // Colour is converted on the resized raster (at most `max_edge` on the long edge): the
    // cheapest place, and resampling in the source space instead of sRGB changes nothing
    // visible at this scale. CMYK was already converted by the decoder.
    let colour = match decoded.colour {
        Some(done) => done,
        None => colour::to_srgb(&mut stored, decoded.icc.as_deref(), exif.colour_space),
    };
    exif.warnings.extend(colour.warning);
    let upright = orient::apply(stored, exif.orientation);
    let photo = encode::encode_jpeg(&upright, opts.quality, opts.max_photo_bytes)?;

    let (tw, th) = raster::fit(upright.width, upright.height, opts.thumb_edge);
    let thumb = raster::resize(&upright, tw, th, &mut resizer)?;
    drop(upright);
    let thumbnail = encode::encode_jpeg(&thumb, opts.thumb_quality, opts.max_thumb_bytes)?;

    let swap = exif.orientation >= 5;
    let (original_width, original_height) = if swap {
        (header.height, header.width)
    } else {
        (header.width, header.height)
    };
    Ok(ProcessedPhoto {
        photo,
        thumbnail,
        meta: PhotoMeta {
            format: header.format,
            original_width,
            original_height,
            orientation: exif.orientation,
            captured_at: exif.captured_at,
            gps: exif.gps,
            converted_from: colour.converted_from,
            warnings: exif.warnings,
        },
    })
}

#[cfg(test)]
#[path = "colour_tests.rs"]
mod colour_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::SourceFormat;
    use crate::photo::test_support::*;
    use image::imageops::{flip_horizontal, flip_vertical, rotate90, rotate180, rotate270};
    use image::{DynamicImage, ImageBuffer, Luma, LumaA, Rgb, RgbImage, Rgba};
    use proptest::prelude::*;

    fn opts() -> PhotoOptions {
        PhotoOptions::default()
    }

    /// The stored image a camera would write for `upright` with EXIF `orientation`
    /// (built with the `image` crate's own flips and rotations).
    fn stored_for(upright: &RgbImage, orientation: u16) -> RgbImage {
        match orientation {
            2 => flip_horizontal(upright),
            3 => rotate180(upright),
            4 => flip_vertical(upright),
            5 => rotate270(&flip_horizontal(upright)),
            6 => rotate270(upright),
            7 => rotate90(&flip_horizontal(upright)),
            8 => rotate90(upright),
            _ => upright.clone(),
        }
    }

    /// Asserts the JPEG is upright: red top-left, green top-right, grey bottom.
    fn assert_upright(jpeg: &[u8], w: u32, h: u32, what: &str) {
        let img = decode_rgb(jpeg);
        assert_eq!(img.dimensions(), (w, h), "{what}: dimensions");
        let at = |fx: u32, fy: u32| classify(img.get_pixel(w * fx / 8, h * fy / 8).0);
        assert_eq!(at(1, 1), "red", "{what}: top-left");
        assert_eq!(at(7, 1), "green", "{what}: top-right");
        assert_eq!(at(1, 7), "grey", "{what}: bottom-left");
        assert_eq!(at(7, 7), "grey", "{what}: bottom-right");
    }

    fn no_metadata(jpeg: &[u8]) {
        for m in jpeg_markers(jpeg) {
            assert!(
                matches!(m, 0xD8 | 0xE0 | 0xDB | 0xC0 | 0xC4 | 0xDA | 0xD9),
                "unexpected marker {m:02X} in output"
            );
        }
        assert!(!contains(jpeg, b"Exif\0\0"));
        assert!(!contains(jpeg, &[0xFF, 0xE1]));
        assert!(!contains(jpeg, b"ICC_PROFILE"));
        assert!(!contains(jpeg, b"http://ns.adobe.com"));
    }

    #[test]
    fn all_eight_orientations_come_out_upright() {
        // Small (no resize) and large (DCT-scaled decode at 1/4, then resize).
        for (w, h, max_edge, out_w, out_h) in [(80, 48, 1920, 80, 48), (800, 480, 200, 200, 120)] {
            let upright = marker_image(w, h);
            for o in 1..=8u16 {
                let stored = stored_for(&upright, o);
                let jpg = splice_exif(
                    &jpeg_rgb(&stored, 95),
                    &exif_tiff(&ExifSpec {
                        orientation: Some(o),
                        little_endian: o % 2 == 0,
                        ..ExifSpec::default()
                    }),
                );
                let o_opts = PhotoOptions { max_edge, ..opts() };
                let p = process(&jpg, &o_opts).unwrap();
                let what = format!("{w}x{h} orientation {o}");
                assert_upright(&p.photo.bytes, out_w, out_h, &what);
                assert_eq!(p.meta.orientation, o, "{what}");
                assert_eq!(
                    (p.meta.original_width, p.meta.original_height),
                    (w, h),
                    "{what}"
                );
                no_metadata(&p.photo.bytes);
                no_metadata(&p.thumbnail.bytes);
            }
        }
    }

    #[test]
    fn metadata_is_read_into_meta_and_kept_out_of_the_files() {
        let (lat, lon) = (39.908_722, 116.397_499);
        let tiff = exif_tiff(&ExifSpec {
            orientation: Some(1),
            date_time_original: Some("2025:03:09 14:05:59"),
            offset_time_original: Some("+08:00"),
            gps: Some((lat, lon)),
            little_endian: false,
        });
        let base = jpeg_rgb(&marker_image(640, 480), 90);
        let input = splice_xmp_and_icc(&splice_exif(&base, &tiff));
        assert!(contains(&input, b"Exif\0\0") && contains(&input, b"SECRET-XMP-TEXT"));
        let p = process(&input, &opts()).unwrap();

        let t = p.meta.captured_at.as_ref().unwrap();
        assert_eq!(t.local.to_string(), "2025-03-09 14:05:59");
        assert_eq!(t.offset_minutes, Some(480));
        assert_eq!(t.unix_seconds, Some(1_741_500_359));
        let g = p.meta.gps.unwrap();
        assert!(
            (g.lat - lat).abs() < 1e-6 && (g.lon - lon).abs() < 1e-6,
            "{g:?}"
        );
        assert_eq!(p.meta.format, SourceFormat::Jpeg);

        // The GPS seconds as the input stored them (big-endian rationals over 10,000).
        let secs = |deg: f64| {
            let m = (deg.fract() * 60.0).fract() * 60.0;
            let mut v = ((m * 10_000.0).round() as u32).to_be_bytes().to_vec();
            v.extend(10_000u32.to_be_bytes());
            v
        };
        assert!(contains(&input, &secs(lat)) && contains(&input, &secs(lon)));
        for out in [&p.photo.bytes, &p.thumbnail.bytes] {
            no_metadata(out);
            for needle in [
                &secs(lat)[..],
                &secs(lon)[..],
                b"2025:03:09",
                b"XiangyingTestCam",
                b"SECRET",
            ] {
                assert!(!contains(out, needle), "output leaks {needle:?}");
            }
        }
    }

    #[test]
    fn the_issues_piexif_photo_comes_out_upright_with_place_and_time() {
        // JFIF APP0, then a big-endian EXIF block written by piexif (orientation 6, GPS,
        // DateTimeOriginal): the strict EXIF reader lost all of it (issue 20).
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/photo/exif/piexif_be.jpg"
        );
        let jpeg = std::fs::read(path).unwrap();
        assert_eq!(jpeg_markers(&jpeg)[1..3], [0xE0, 0xE1]);
        let p = process(&jpeg, &opts()).unwrap();
        assert_eq!(p.meta.orientation, 6);
        assert_eq!((p.photo.width, p.photo.height), (8, 16), "upright");
        let g = p.meta.gps.unwrap();
        assert!((g.lat - 31.217_935_5).abs() < 1e-7 && (g.lon - 121.469_410_139).abs() < 1e-7);
        let t = p.meta.captured_at.unwrap();
        assert_eq!(t.local.to_string(), "2025-06-01 09:15:42");
        assert_eq!(p.meta.warnings, []);
        no_metadata(&p.photo.bytes);
    }

    #[test]
    fn progressive_jpeg() {
        let jpg = jpeg_progressive(&marker_image(120, 90), 90);
        assert!(
            jpeg_markers(&jpg).contains(&0xC2),
            "the test input must be progressive"
        );
        let p = process(&jpg, &opts()).unwrap();
        assert_upright(&p.photo.bytes, 120, 90, "progressive");
    }

    #[test]
    fn cmyk_jpeg() {
        // Top half red ink (M+Y), bottom half no ink (white).
        let (w, h) = (64u16, 32u16);
        let mut cmyk = Vec::new();
        for y in 0..h {
            for _ in 0..w {
                cmyk.extend(if y < h / 2 {
                    [0, 255, 255, 0]
                } else {
                    [0, 0, 0, 0]
                });
            }
        }
        let jpg = jpeg_cmyk(&cmyk, w, h);
        assert!(
            contains(&jpg, b"Adobe"),
            "the test input must be an Adobe CMYK JPEG"
        );
        let p = process(&jpg, &opts()).unwrap();
        let img = decode_rgb(&p.photo.bytes);
        let top = img.get_pixel(32, 4).0;
        let bottom = img.get_pixel(32, 28).0;
        assert!(top[0] > 200 && top[1] < 60 && top[2] < 60, "top {top:?}");
        assert!(bottom.iter().all(|&c| c > 235), "bottom {bottom:?}");
    }

    #[test]
    fn grayscale_png_stays_grey() {
        let img = ImageBuffer::from_fn(50, 40, |x, _| Luma([(x * 5) as u8]));
        let png = encode_png(&DynamicImage::ImageLuma8(img));
        let p = process(&png, &opts()).unwrap();
        assert_eq!(p.meta.format, SourceFormat::Png);
        let out = image::load_from_memory(&p.photo.bytes).unwrap();
        assert_eq!(out.color(), image::ColorType::L8);
        assert_eq!((out.width(), out.height()), (50, 40));
    }

    #[test]
    fn sixteen_bit_png() {
        let img = ImageBuffer::from_fn(60, 40, |x, _| {
            if x < 30 {
                Rgb([65535u16, 0, 0])
            } else {
                Rgb([0, 0, 65535])
            }
        });
        let png = encode_png(&DynamicImage::ImageRgb16(img));
        let p = process(&png, &opts()).unwrap();
        let out = decode_rgb(&p.photo.bytes);
        let (l, r) = (out.get_pixel(10, 20).0, out.get_pixel(50, 20).0);
        assert!(l[0] > 220 && l[2] < 40, "left {l:?}");
        assert!(r[2] > 220 && r[0] < 40, "right {r:?}");
        // 16-bit grey with alpha too.
        let ga = ImageBuffer::from_fn(20, 20, |_, _| LumaA([30000u16, 65535]));
        assert!(process(&encode_png(&DynamicImage::ImageLumaA16(ga)), &opts()).is_ok());
    }

    #[test]
    fn alpha_png_is_composited_over_white() {
        let img = ImageBuffer::from_fn(40, 40, |x, _| {
            if x < 20 {
                Rgba([0u8, 0, 200, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        });
        let p = process(&encode_png(&DynamicImage::ImageRgba8(img)), &opts()).unwrap();
        let out = decode_rgb(&p.photo.bytes);
        let opaque = out.get_pixel(5, 20).0;
        let clear = out.get_pixel(35, 20).0;
        assert!(opaque[2] > 170 && opaque[0] < 40, "opaque {opaque:?}");
        assert!(
            clear.iter().all(|&c| c > 240),
            "transparent must be white: {clear:?}"
        );
    }

    #[test]
    fn webp_lossless() {
        let webp = encode_webp(&DynamicImage::ImageRgb8(marker_image(96, 64)));
        let p = process(&webp, &opts()).unwrap();
        assert_eq!(p.meta.format, SourceFormat::WebP);
        assert_upright(&p.photo.bytes, 96, 64, "webp");
        assert!(matches!(
            process(&webp[..webp.len() / 2], &opts()),
            Err(PhotoError::Corrupt(_))
        ));
    }

    #[test]
    fn one_pixel_image() {
        let p = process(&jpeg_rgb(&solid(1, 1, [200, 10, 10]), 90), &opts()).unwrap();
        assert_eq!((p.photo.width, p.photo.height), (1, 1));
        assert_eq!((p.thumbnail.width, p.thumbnail.height), (1, 1));
        let png = encode_png(&DynamicImage::ImageRgb8(solid(1, 1, [1, 2, 3])));
        let p = process(&png, &opts()).unwrap();
        assert_eq!(decode_rgb(&p.photo.bytes).dimensions(), (1, 1));
    }

    #[test]
    fn panorama_keeps_its_aspect() {
        let pano = ImageBuffer::from_fn(8000, 500, |x, y| Rgb([(x / 32) as u8, (y / 2) as u8, 90]));
        let p = process(&jpeg_rgb(&pano, 85), &opts()).unwrap();
        assert_eq!((p.photo.width, p.photo.height), (1920, 120));
        assert_eq!((p.thumbnail.width, p.thumbnail.height), (320, 20));
        assert_eq!(decode_rgb(&p.photo.bytes).dimensions(), (1920, 120));
        assert_eq!(decode_rgb(&p.thumbnail.bytes).dimensions(), (320, 20));
    }

    #[test]
    fn small_images_are_never_upscaled() {
        let p = process(&jpeg_rgb(&marker_image(300, 200), 90), &opts()).unwrap();
        assert_eq!((p.photo.width, p.photo.height), (300, 200));
        assert_eq!((p.thumbnail.width, p.thumbnail.height), (300, 200));
    }

    #[test]
    fn photo_sized_input_meets_the_size_budgets() {
        // A photo-like 2,400 × 1,800: gradients, edges and noise.
        let mut s = 7u32;
        let img = ImageBuffer::from_fn(2400, 1800, |x, y| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let n = (s % 24) as i32 - 12;
            let edge = if (x / 150 + y / 110) % 3 == 0 { 60 } else { 0 };
            let c = |v: i32| (v + n).clamp(0, 255) as u8;
            Rgb([
                c((x / 12) as i32 + edge),
                c((y / 9) as i32),
                c(((x + y) / 20) as i32 - edge),
            ])
        });
        let p = process(&jpeg_rgb(&img, 92), &opts()).unwrap();
        assert_eq!((p.photo.width, p.photo.height), (1920, 1440));
        assert_eq!((p.thumbnail.width, p.thumbnail.height), (320, 240));
        assert!(
            p.photo.bytes.len() <= 400_000,
            "photo {} bytes",
            p.photo.bytes.len()
        );
        assert!(
            p.thumbnail.bytes.len() <= 15_000,
            "thumb {} bytes",
            p.thumbnail.bytes.len()
        );
        // Deterministic: same input, same names.
        let again = process(&jpeg_rgb(&img, 92), &opts()).unwrap();
        assert_eq!(again.photo.sha256, p.photo.sha256);
        assert_eq!(again.thumbnail.sha256, p.thumbnail.sha256);
    }

    #[test]
    fn truncated_and_random_inputs_are_typed_errors() {
        let jpg = jpeg_rgb(&marker_image(200, 100), 90);
        let png = encode_png(&DynamicImage::ImageRgb8(marker_image(200, 100)));
        for (name, cut) in [
            ("jpeg", &jpg[..jpg.len() * 2 / 3]),
            ("png", &png[..png.len() * 2 / 3]),
        ] {
            assert!(
                matches!(process(cut, &opts()), Err(PhotoError::Corrupt(_))),
                "{name}"
            );
        }
        let mut s = 99u32;
        let noise: Vec<u8> = (0..5000)
            .map(|_| {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (s >> 16) as u8
            })
            .collect();
        assert!(matches!(
            process(&noise, &opts()),
            Err(PhotoError::UnsupportedFormat(_))
        ));
        let mut fake_jpeg = vec![0xFF, 0xD8, 0xFF];
        fake_jpeg.extend(&noise);
        assert!(matches!(
            process(&fake_jpeg, &opts()),
            Err(PhotoError::Corrupt(_))
        ));
    }

    #[test]
    fn a_header_claiming_ten_gigapixels_is_refused() {
        let bomb = huge_png_header(100_000, 100_000);
        assert!(matches!(
            process(&bomb, &opts()),
            Err(PhotoError::TooManyPixels {
                width: 100_000,
                height: 100_000,
                limit: 100_000_000
            })
        ));
        // Within max_pixels but over the decode budget: refused by the decoder's limits.
        let tight = PhotoOptions {
            max_decoded_bytes: 1000,
            ..opts()
        };
        let png = encode_png(&DynamicImage::ImageRgb8(solid(100, 100, [1, 2, 3])));
        assert!(matches!(
            process(&png, &tight),
            Err(PhotoError::TooManyPixels { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Damaged files never panic and never produce output with metadata.
        #[test]
        fn damaged_inputs_never_panic(
            which in 0usize..4,
            edits in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..8),
        ) {
            let upright = marker_image(48, 32);
            let mut bytes = match which {
                0 => jpeg_rgb(&upright, 90),
                1 => jpeg_progressive(&upright, 90),
                2 => encode_png(&DynamicImage::ImageRgb8(upright)),
                _ => encode_webp(&DynamicImage::ImageRgb8(upright)),
            };
            for (at, v) in edits {
                let i = usize::from(at) % bytes.len();
                bytes[i] = v;
            }
            if let Ok(p) = process(&bytes, &opts()) {
                no_metadata(&p.photo.bytes);
                prop_assert!(p.photo.width.max(p.photo.height) <= 1920);
                prop_assert!(p.thumbnail.width.max(p.thumbnail.height) <= 320);
            }
        }
    }
}
