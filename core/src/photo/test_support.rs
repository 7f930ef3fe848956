//! Test helpers: images the tests make themselves, hand-built EXIF (APP1) segments,
//! hand-crafted headers, and ICC profiles (RGB colour spaces from their published
//! primaries, a tiny CMYK one) with images that carry them. Compiled for tests only.

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use std::io::Cursor;

/// A `w`×`h` image of one colour.
pub fn solid(w: u32, h: u32, rgb: [u8; 3]) -> RgbImage {
    RgbImage::from_pixel(w, h, Rgb(rgb))
}

/// Red used for the top-left marker.
pub const RED: [u8; 3] = [220, 20, 20];
/// Green used for the top-right marker.
pub const GREEN: [u8; 3] = [20, 200, 20];
/// Grey background.
pub const GREY: [u8; 3] = [128, 128, 128];

/// An upright, asymmetric test picture: grey, with a red block in the top-left corner and
/// a green block in the top-right corner (each a quarter of the width, a quarter of the
/// height). Any of the eight flips/rotations moves those two blocks somewhere else.
pub fn marker_image(w: u32, h: u32) -> RgbImage {
    let mut img = solid(w, h, GREY);
    for y in 0..h / 4 {
        for x in 0..w / 4 {
            img.put_pixel(x, y, Rgb(RED));
            img.put_pixel(w - 1 - x, y, Rgb(GREEN));
        }
    }
    img
}

/// Which of red, green or grey `px` is closest to (JPEG round trips blur colours a bit).
pub fn classify(px: [u8; 3]) -> &'static str {
    let dist = |c: [u8; 3]| -> i32 {
        (0..3)
            .map(|i| (i32::from(px[i]) - i32::from(c[i])).pow(2))
            .sum()
    };
    [("red", RED), ("green", GREEN), ("grey", GREY)]
        .into_iter()
        .min_by_key(|(_, c)| dist(*c))
        .map(|(n, _)| n)
        .unwrap_or("none")
}

/// Decodes any encoded image back to RGB8 with the `image` crate (independent of the
/// pipeline's own decoders).
pub fn decode_rgb(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes).unwrap().to_rgb8()
}

/// Encodes with the `image` crate's PNG encoder.
pub fn encode_png(img: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

/// Encodes with the `image` crate's WebP encoder (lossless).
pub fn encode_webp(img: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::WebP)
        .unwrap();
    out
}

/// A baseline JPEG from the `image` crate's encoder.
pub fn jpeg_rgb(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    out
}

/// A progressive JPEG, from the `jpeg-encoder` crate.
pub fn jpeg_progressive(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    enc.set_progressive(true);
    enc.encode(
        img.as_raw(),
        img.width() as u16,
        img.height() as u16,
        jpeg_encoder::ColorType::Rgb,
    )
    .unwrap();
    out
}

/// A four-channel CMYK JPEG (Adobe APP14 marker, inverted as Photoshop writes it), from
/// the `jpeg-encoder` crate. `cmyk` holds ink amounts, 0 = no ink.
pub fn jpeg_cmyk(cmyk: &[u8], w: u16, h: u16) -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 95)
        .encode(cmyk, w, h, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    out
}

/// The EXIF fields a test wants in its photo.
#[derive(Default, Clone)]
pub struct ExifSpec {
    /// Orientation tag (1–8).
    pub orientation: Option<u16>,
    /// DateTimeOriginal, "YYYY:MM:DD HH:MM:SS".
    pub date_time_original: Option<&'static str>,
    /// OffsetTimeOriginal, "+08:00".
    pub offset_time_original: Option<&'static str>,
    /// Signed latitude and longitude in degrees.
    pub gps: Option<(f64, f64)>,
    /// Write the TIFF little-endian ("II") instead of big-endian ("MM").
    pub little_endian: bool,
}

struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    value: Vec<u8>,
}

const ASCII: u16 = 2;
const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;
const BYTE: u16 = 1;

fn ifd_size(entries: &[Entry]) -> u32 {
    let data: usize = entries
        .iter()
        .filter(|e| e.value.len() > 4)
        .map(|e| e.value.len().next_multiple_of(2))
        .sum();
    (2 + 12 * entries.len() + 4 + data) as u32
}

fn write_ifd(out: &mut Vec<u8>, entries: &[Entry], at: u32, le: bool) {
    let u16b = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let u32b = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    assert_eq!(out.len() as u32, at);
    out.extend(u16b(entries.len() as u16));
    let mut data_at = at + 2 + 12 * entries.len() as u32 + 4;
    let mut data = Vec::new();
    for e in entries {
        out.extend(u16b(e.tag));
        out.extend(u16b(e.kind));
        out.extend(u32b(e.count));
        if e.value.len() <= 4 {
            let mut v = e.value.clone();
            v.resize(4, 0);
            out.extend(v);
        } else {
            out.extend(u32b(data_at));
            data.extend(&e.value);
            if e.value.len() % 2 == 1 {
                data.push(0);
            }
            data_at += e.value.len().next_multiple_of(2) as u32;
        }
    }
    out.extend(u32b(0)); // no next IFD
    out.extend(data);
}

/// A TIFF-structured EXIF blob (what follows `Exif\0\0` in APP1), built by hand.
pub fn exif_tiff(spec: &ExifSpec) -> Vec<u8> {
    let le = spec.little_endian;
    let u16b = |v: u16| (if le { v.to_le_bytes() } else { v.to_be_bytes() }).to_vec();
    let u32b = |v: u32| (if le { v.to_le_bytes() } else { v.to_be_bytes() }).to_vec();
    let ascii = |tag: u16, s: &str| {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        Entry {
            tag,
            kind: ASCII,
            count: v.len() as u32,
            value: v,
        }
    };
    let dms = |deg: f64| -> Vec<u8> {
        let a = deg.abs();
        let d = a.floor();
        let m = ((a - d) * 60.0).floor();
        let s = ((a - d) * 60.0 - m) * 60.0;
        let mut v = Vec::new();
        for (num, den) in [
            (d as u32, 1),
            (m as u32, 1),
            ((s * 10_000.0).round() as u32, 10_000),
        ] {
            v.extend(u32b(num));
            v.extend(u32b(den));
        }
        v
    };

    let mut exif_ifd = Vec::new();
    if let Some(dt) = spec.date_time_original {
        exif_ifd.push(ascii(0x9003, dt));
    }
    if let Some(off) = spec.offset_time_original {
        exif_ifd.push(ascii(0x9011, off));
    }
    let mut gps_ifd = Vec::new();
    if let Some((lat, lon)) = spec.gps {
        gps_ifd.push(Entry {
            tag: 0x0000,
            kind: BYTE,
            count: 4,
            value: vec![2, 3, 0, 0],
        });
        gps_ifd.push(ascii(0x0001, if lat < 0.0 { "S" } else { "N" }));
        gps_ifd.push(Entry {
            tag: 0x0002,
            kind: RATIONAL,
            count: 3,
            value: dms(lat),
        });
        gps_ifd.push(ascii(0x0003, if lon < 0.0 { "W" } else { "E" }));
        gps_ifd.push(Entry {
            tag: 0x0004,
            kind: RATIONAL,
            count: 3,
            value: dms(lon),
        });
    }

    // IFD0: make, orientation, pointers to the Exif and GPS IFDs (values patched below).
    let mut ifd0 = vec![ascii(0x010F, "XiangyingTestCam")];
    if let Some(o) = spec.orientation {
        ifd0.push(Entry {
            tag: 0x0112,
            kind: SHORT,
            count: 1,
            value: u16b(o),
        });
    }
    if !exif_ifd.is_empty() {
        ifd0.push(Entry {
            tag: 0x8769,
            kind: LONG,
            count: 1,
            value: u32b(0),
        });
    }
    if !gps_ifd.is_empty() {
        ifd0.push(Entry {
            tag: 0x8825,
            kind: LONG,
            count: 1,
            value: u32b(0),
        });
    }
    let exif_at = 8 + ifd_size(&ifd0);
    let gps_at = exif_at
        + if exif_ifd.is_empty() {
            0
        } else {
            ifd_size(&exif_ifd)
        };
    for e in &mut ifd0 {
        match e.tag {
            0x8769 => e.value = u32b(exif_at),
            0x8825 => e.value = u32b(gps_at),
            _ => {}
        }
    }

    let mut out = if le { b"II".to_vec() } else { b"MM".to_vec() };
    out.extend(u16b(42));
    out.extend(u32b(8));
    write_ifd(&mut out, &ifd0, 8, le);
    if !exif_ifd.is_empty() {
        write_ifd(&mut out, &exif_ifd, exif_at, le);
    }
    if !gps_ifd.is_empty() {
        write_ifd(&mut out, &gps_ifd, gps_at, le);
    }
    out
}

/// A TIFF-structured EXIF blob whose Exif IFD has `ColorSpace` = `colour_space` and an
/// Interop IFD with `InteroperabilityIndex` = `index` (3 characters, e.g. "R03"): how DCF
/// cameras mark Adobe RGB.
pub fn exif_tiff_colour_space(le: bool, colour_space: u16, index: &str) -> Vec<u8> {
    let u16b = |v: u16| (if le { v.to_le_bytes() } else { v.to_be_bytes() }).to_vec();
    let u32b = |v: u32| (if le { v.to_le_bytes() } else { v.to_be_bytes() }).to_vec();
    let pointer = |tag: u16, at: u32| Entry {
        tag,
        kind: LONG,
        count: 1,
        value: u32b(at),
    };
    let interop = vec![Entry {
        tag: 0x0001,
        kind: ASCII,
        count: 4,
        value: format!("{index}\0").into_bytes(),
    }];
    let ifd0_len = ifd_size(&[pointer(0x8769, 0)]);
    let exif_at = 8 + ifd0_len;
    let exif_len = ifd_size(&[pointer(0xA005, 0), pointer(0xA001, 0)]);
    let interop_at = exif_at + exif_len;
    let exif_ifd = vec![
        Entry {
            tag: 0xA001,
            kind: SHORT,
            count: 1,
            value: u16b(colour_space),
        },
        pointer(0xA005, interop_at),
    ];
    let mut out = if le { b"II".to_vec() } else { b"MM".to_vec() };
    out.extend(u16b(42));
    out.extend(u32b(8));
    write_ifd(&mut out, &[pointer(0x8769, exif_at)], 8, le);
    write_ifd(&mut out, &exif_ifd, exif_at, le);
    write_ifd(&mut out, &interop, interop_at, le);
    out
}

/// Inserts an APP1 `Exif\0\0` segment carrying `tiff` right after the JPEG's SOI marker.
pub fn splice_exif(jpeg: &[u8], tiff: &[u8]) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let len = (2 + 6 + tiff.len()) as u16;
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(len.to_be_bytes());
    out.extend(b"Exif\0\0");
    out.extend(tiff);
    out.extend(&jpeg[2..]);
    out
}

/// Inserts APP1 XMP and APP2 ICC segments (with tell-tale text) after SOI.
pub fn splice_xmp_and_icc(jpeg: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    let xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>SECRET-XMP-TEXT</x:xmpmeta>";
    out.extend([0xFF, 0xE1]);
    out.extend(((xmp.len() + 2) as u16).to_be_bytes());
    out.extend(xmp);
    let icc = b"ICC_PROFILE\0\x01\x01SECRET-ICC-TEXT";
    out.extend([0xFF, 0xE2]);
    out.extend(((icc.len() + 2) as u16).to_be_bytes());
    out.extend(icc);
    out.extend(&jpeg[2..]);
    out
}

/// CRC-32 (ISO-HDLC, as PNG uses it), bit by bit.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend(data);
    out.extend(&body);
    out.extend(crc32(&body).to_be_bytes());
}

/// A PNG that is only a signature, a valid IHDR announcing `w`×`h` RGBA8 pixels, a tiny
/// IDAT and IEND: the "decompression bomb" header.
pub fn huge_png_header(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]); // 8-bit RGBA, deflate, adaptive filter, no interlace
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// The marker codes of a JPEG's segments, in order, from SOI to EOI (entropy-coded data
/// is skipped; restart markers inside it are not listed).
pub fn jpeg_markers(b: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut pos = 0;
    while pos + 1 < b.len() {
        assert_eq!(b[pos], 0xFF, "marker expected at {pos}");
        let m = b[pos + 1];
        markers.push(m);
        pos += 2;
        match m {
            0xD8 => continue,
            0xD9 => break,
            _ => {
                let len = usize::from(u16::from_be_bytes([b[pos], b[pos + 1]]));
                pos += len;
                if m == 0xDA {
                    // skip entropy-coded data up to the next real marker
                    while pos + 1 < b.len()
                        && !(b[pos] == 0xFF
                            && b[pos + 1] != 0
                            && !(0xD0..=0xD7).contains(&b[pos + 1]))
                    {
                        pos += 1;
                    }
                }
            }
        }
    }
    markers
}

/// True when `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The published chromaticities of an RGB colour space (D65 white for all used here) and its
/// tone curve, for building test profiles and for computing reference colours independently
/// of any colour-management library.
#[derive(Clone, Copy, Debug)]
pub struct RgbSpace {
    /// Name written into the profile's description.
    pub name: &'static str,
    /// x, y of the red, green and blue primaries.
    pub primaries: [(f64, f64); 3],
    /// Pure gamma, or `None` for the sRGB piecewise curve.
    pub gamma: Option<f64>,
}

/// D65 white (x, y).
pub const D65: (f64, f64) = (0.3127, 0.3290);
/// sRGB (IEC 61966-2-1).
pub const SRGB: RgbSpace = RgbSpace {
    name: "sRGB",
    primaries: [(0.64, 0.33), (0.30, 0.60), (0.15, 0.06)],
    gamma: None,
};
/// Display P3 (DCI-P3 primaries, D65, the sRGB curve), as iPhones write it.
pub const DISPLAY_P3: RgbSpace = RgbSpace {
    name: "Display P3",
    primaries: [(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)],
    gamma: None,
};
/// Adobe RGB (1998): gamma 563/256.
pub const ADOBE_RGB: RgbSpace = RgbSpace {
    name: "Adobe RGB (1998)",
    primaries: [(0.64, 0.33), (0.21, 0.71), (0.15, 0.06)],
    gamma: Some(563.0 / 256.0),
};
/// Like Apple's "Generic RGB": Apple RGB (Trinitron) primaries, gamma 1.8.
pub const GENERIC_RGB_18: RgbSpace = RgbSpace {
    name: "Generic RGB-like (gamma 1.8)",
    primaries: [(0.625, 0.340), (0.280, 0.595), (0.155, 0.070)],
    gamma: Some(1.8),
};

/// An ICC profile (matrix/TRC) for `space`, encoded by moxcms.
pub fn icc_for(space: &RgbSpace) -> Vec<u8> {
    use moxcms::{Chromaticity, ColorPrimaries, ColorProfile, ProfileText, XyY};
    let c = |(x, y): (f64, f64)| Chromaticity {
        x: x as f32,
        y: y as f32,
    };
    let mut p = ColorProfile::new_srgb();
    p.update_rgb_colorimetry(
        XyY {
            x: D65.0,
            y: D65.1,
            yb: 1.0,
        },
        ColorPrimaries {
            red: c(space.primaries[0]),
            green: c(space.primaries[1]),
            blue: c(space.primaries[2]),
        },
    );
    if let Some(g) = space.gamma {
        let curve = moxcms::curve_from_gamma(g as f32);
        p.red_trc = Some(curve.clone());
        p.green_trc = Some(curve.clone());
        p.blue_trc = Some(curve);
    }
    p.cicp = None;
    p.description = Some(ProfileText::PlainString(space.name.into()));
    p.encode().unwrap()
}

/// The sRGB colours a test CMYK profile gives the 16 corners of its ink cube, indexed by
/// `c | m << 1 | y << 2 | k << 3` (each 0 or 1): paper is warm, inks are press-like, not the
/// naive `(1 − ink) × (1 − black)` colours.
pub const CMYK_CORNERS: [[u8; 3]; 16] = {
    let mut t = [[0u8; 3]; 16];
    t[0] = [242, 236, 222]; // paper
    t[1] = [0, 158, 224]; // cyan
    t[2] = [226, 0, 122]; // magenta
    t[3] = [46, 49, 146]; // cyan + magenta
    t[4] = [255, 236, 0]; // yellow
    t[5] = [0, 150, 64]; // cyan + yellow
    t[6] = [228, 32, 36]; // magenta + yellow (red)
    t[7] = [40, 36, 38]; // three inks
    let mut i = 8;
    while i < 16 {
        t[i] = [30, 28, 30]; // any ink with full black
        i += 1;
    }
    t
};

/// Linear-light value of an 8-bit sRGB code.
pub fn srgb_to_linear(v: u8) -> f64 {
    let v = f64::from(v) / 255.0;
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// A tiny CMYK output profile (lut16 A2B0, 2-point grid, XYZ connection space) mapping the
/// ink cube's corners to [`CMYK_CORNERS`], built field by field and encoded by moxcms.
pub fn icc_cmyk_test() -> Vec<u8> {
    use moxcms::{
        ColorProfile, DataColorSpace, LutDataType, LutStore, LutType, LutWarehouse, Matrix3d,
        ProfileClass, ProfileText,
    };
    let srgb_to_xyz_d50 = |rgb: [u8; 3]| -> [f64; 3] {
        let lin = rgb.map(srgb_to_linear);
        // sRGB to XYZ (D50, Bradford-adapted), as the ICC sRGB profile's colorants.
        let m = [
            [0.436_074_7, 0.385_064_9, 0.143_080_4],
            [0.222_504_5, 0.716_878_6, 0.060_616_9],
            [0.013_932_2, 0.097_104_5, 0.714_173_3],
        ];
        m.map(|row| row[0] * lin[0] + row[1] * lin[1] + row[2] * lin[2])
    };
    // CLUT order: first input (C) varies slowest.
    let mut clut = Vec::new();
    for c in 0..2usize {
        for m in 0..2usize {
            for y in 0..2usize {
                for k in 0..2usize {
                    let xyz = srgb_to_xyz_d50(CMYK_CORNERS[c | m << 1 | y << 2 | k << 3]);
                    clut.extend(xyz.map(|v| (v * 32768.0).round().clamp(0.0, 65535.0) as u16));
                }
            }
        }
    }
    let lut = LutDataType {
        num_input_channels: 4,
        num_output_channels: 3,
        num_clut_grid_points: 2,
        matrix: Matrix3d::IDENTITY,
        num_input_table_entries: 2,
        num_output_table_entries: 2,
        input_table: LutStore::Store16([0, 65535].repeat(4)),
        clut_table: LutStore::Store16(clut),
        output_table: LutStore::Store16([0, 65535].repeat(3)),
        lut_type: LutType::Lut16,
    };
    let mut p = ColorProfile::default();
    p.profile_class = ProfileClass::OutputDevice;
    p.color_space = DataColorSpace::Cmyk;
    p.pcs = DataColorSpace::Xyz;
    p.white_point = moxcms::WHITE_POINT_D50.to_xyzd();
    p.lut_a_to_b_perceptual = Some(LutWarehouse::Lut(lut.clone()));
    p.lut_a_to_b_colorimetric = Some(LutWarehouse::Lut(lut));
    p.description = Some(ProfileText::PlainString("Xiangying test CMYK".into()));
    p.encode().unwrap()
}

/// Writes `img` through `enc` with the ICC profile `icc` attached.
fn write_with_icc(mut enc: impl image::ImageEncoder, img: &RgbImage, icc: &[u8]) {
    enc.set_icc_profile(icc.to_vec()).unwrap();
    enc.write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
}

/// A PNG with an iCCP chunk carrying `icc`, from the `image` crate's encoder.
pub fn png_with_icc(img: &RgbImage, icc: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_with_icc(image::codecs::png::PngEncoder::new(&mut out), img, icc);
    out
}

/// A JPEG with APP2 ICC_PROFILE segments carrying `icc`, from the `image` crate's encoder.
pub fn jpeg_with_icc(img: &RgbImage, icc: &[u8], quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    write_with_icc(enc, img, icc);
    out
}

/// An Adobe CMYK JPEG (as [`jpeg_cmyk`]) carrying the ICC profile `icc`.
pub fn jpeg_cmyk_with_icc(cmyk: &[u8], w: u16, h: u16, icc: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 100);
    enc.add_icc_profile(icc).unwrap();
    enc.encode(cmyk, w, h, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    out
}
