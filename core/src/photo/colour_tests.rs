//! End-to-end tests of colour management (issue 20): real encoded files (PNG iCCP, JPEG
//! APP2, Adobe CMYK JPEG, EXIF-only Adobe RGB) carrying Display P3, Adobe RGB (1998), a
//! gamma-1.8 Generic-RGB-like and a CMYK profile go through [`process`], and the output's
//! colours are compared (CIE76 ΔE) with references computed here from the published
//! primaries, without any colour-management library. Declared by `pipeline.rs` (these tests
//! run the whole pipeline, which `colour` itself must not import).

use crate::photo::PhotoWarning;
use crate::photo::colour::MAX_ICC_BYTES;
use crate::photo::test_support::*;
use crate::photo::{PhotoOptions, process};
use image::{Rgb, RgbImage};

/// Row-major 3×3 matrix.
type M3 = [[f64; 3]; 3];

fn mul(a: &M3, v: [f64; 3]) -> [f64; 3] {
    a.map(|r| r[0] * v[0] + r[1] * v[1] + r[2] * v[2])
}

fn invert(m: &M3) -> M3 {
    let [[a, b, c], [d, e, f], [g, h, i]] = *m;
    let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    [
        [(e * i - f * h), (c * h - b * i), (b * f - c * e)],
        [(f * g - d * i), (a * i - c * g), (c * d - a * f)],
        [(d * h - e * g), (b * g - a * h), (a * e - b * d)],
    ]
    .map(|r| r.map(|v| v / det))
}

/// RGB → XYZ from primaries and white (the textbook derivation, e.g. SMPTE RP 177).
fn rgb_to_xyz(space: &RgbSpace) -> M3 {
    let xyz = |(x, y): (f64, f64)| [x / y, 1.0, (1.0 - x - y) / y];
    let p = space.primaries.map(xyz);
    let m = [
        [p[0][0], p[1][0], p[2][0]],
        [p[0][1], p[1][1], p[2][1]],
        [p[0][2], p[1][2], p[2][2]],
    ];
    let s = mul(&invert(&m), xyz(D65));
    m.map(|r| [r[0] * s[0], r[1] * s[1], r[2] * s[2]])
}

fn decode_curve(space: &RgbSpace, v: u8) -> f64 {
    match space.gamma {
        Some(g) => (f64::from(v) / 255.0).powf(g),
        None => srgb_to_linear(v),
    }
}

fn encode_srgb(l: f64) -> f64 {
    let l = l.clamp(0.0, 1.0);
    255.0
        * if l <= 0.003_130_8 {
            l * 12.92
        } else {
            1.055 * l.powf(1.0 / 2.4) - 0.055
        }
}

/// The sRGB value (unrounded, clipped) of `rgb` in `space`: the independent reference.
fn reference(space: &RgbSpace, rgb: [u8; 3]) -> [f64; 3] {
    let lin = rgb.map(|v| decode_curve(space, v));
    let xyz = mul(&rgb_to_xyz(space), lin);
    mul(&invert(&rgb_to_xyz(&SRGB)), xyz).map(encode_srgb)
}

/// CIELAB (D65 white) of an sRGB colour given as 0–255 floats.
fn lab(rgb: [f64; 3]) -> [f64; 3] {
    let lin = rgb.map(|v| {
        let v = v / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    });
    let xyz = mul(&rgb_to_xyz(&SRGB), lin);
    let w = mul(&rgb_to_xyz(&SRGB), [1.0; 3]);
    let f = |t: f64| {
        if t > (6.0f64 / 29.0).powi(3) {
            t.cbrt()
        } else {
            t / (3.0 * (6.0f64 / 29.0).powi(2)) + 4.0 / 29.0
        }
    };
    let [fx, fy, fz] = [0, 1, 2].map(|i| f(xyz[i] / w[i]));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIE76 colour difference.
fn delta_e(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (la, lb) = (lab(a), lab(b));
    (0..3).map(|i| (la[i] - lb[i]).powi(2)).sum::<f64>().sqrt()
}

/// Patch colours of the test vectors: pure red, a green, skin, sky, a dark and a mid grey.
const PATCHES: [[u8; 3]; 6] = [
    [255, 0, 0],
    [60, 170, 60],
    [225, 170, 140],
    [90, 140, 210],
    [40, 40, 40],
    [128, 128, 128],
];

/// 192×128 image of six flat 64×64 patches.
fn patches() -> RgbImage {
    RgbImage::from_fn(
        192,
        128,
        |x, y| Rgb(PATCHES[(y / 64 * 3 + x / 64) as usize]),
    )
}

fn centre(img: &RgbImage, i: usize) -> [f64; 3] {
    let (x, y) = ((i % 3) as u32 * 64 + 32, (i / 3) as u32 * 64 + 32);
    img.get_pixel(x, y).0.map(f64::from)
}

#[test]
fn profiled_vectors_come_out_within_delta_e_2_of_the_reference() {
    for space in [DISPLAY_P3, ADOBE_RGB, GENERIC_RGB_18] {
        let icc = icc_for(&space);
        for (container, input) in [
            ("PNG iCCP", png_with_icc(&patches(), &icc)),
            ("JPEG APP2", jpeg_with_icc(&patches(), &icc, 100)),
        ] {
            // The vectors discriminate: left unconverted, some patch is far off.
            let worst = PATCHES
                .iter()
                .map(|rgb| delta_e(rgb.map(f64::from), reference(&space, *rgb)))
                .fold(0.0, f64::max);
            assert!(
                worst > 5.0,
                "{}: unconverted ΔE only {worst:.2}",
                space.name
            );
            let p = process(&input, &PhotoOptions::default()).unwrap();
            assert_eq!(p.meta.converted_from.as_deref(), Some(space.name));
            assert_eq!(p.meta.warnings, []);
            let out = decode_rgb(&p.photo.bytes);
            for (i, rgb) in PATCHES.iter().enumerate() {
                let want = reference(&space, *rgb);
                let got = centre(&out, i);
                let de = delta_e(got, want);
                println!(
                    "{} {container} {rgb:?}: got {got:?} want {want:.1?} ΔE76 {de:.2}",
                    space.name
                );
                assert!(
                    de < 2.0,
                    "{} {container} {rgb:?}: {got:?} against {want:?}, ΔE {de:.2}",
                    space.name
                );
            }
        }
    }
}

#[test]
fn display_p3_red_is_as_saturated_as_srgb_allows() {
    let icc = icc_for(&DISPLAY_P3);
    let input = png_with_icc(&solid(64, 64, [255, 0, 0]), &icc);
    let p = process(&input, &PhotoOptions::default()).unwrap();
    let px = decode_rgb(&p.photo.bytes).get_pixel(32, 32).0;
    assert!(px[0] >= 250 && px[1] <= 8 && px[2] <= 8, "{px:?}");
    // Without the conversion the same red would have been kept as (255, 0, 0) too, but
    // every less saturated P3 colour moves: the skin patch gets redder, for one.
    let skin = reference(&DISPLAY_P3, [225, 170, 140]);
    assert!(skin[0] > 235.0 && skin[1] < 170.0, "{skin:?}");
}

#[test]
fn adobe_rgb_named_only_by_exif_is_converted() {
    let jpeg = splice_exif(
        &jpeg_rgb(&patches(), 100),
        &exif_tiff_colour_space(false, 0xFFFF, "R03"),
    );
    let p = process(&jpeg, &PhotoOptions::default()).unwrap();
    assert!(p.meta.converted_from.unwrap().starts_with("Adobe RGB"));
    let out = decode_rgb(&p.photo.bytes);
    for (i, rgb) in PATCHES.iter().enumerate() {
        let de = delta_e(centre(&out, i), reference(&ADOBE_RGB, *rgb));
        assert!(de < 2.0, "{rgb:?}: ΔE {de:.2}");
    }
}

#[test]
fn srgb_profiles_and_untagged_photos_are_left_alone() {
    let plain = png_with_icc(&patches(), &icc_for(&SRGB));
    let p = process(&plain, &PhotoOptions::default()).unwrap();
    assert_eq!((p.meta.converted_from, p.meta.warnings), (None, vec![]));
    let untagged = encode_png(&image::DynamicImage::ImageRgb8(patches()));
    let q = process(&untagged, &PhotoOptions::default()).unwrap();
    // Same pixels, so the same bytes.
    assert_eq!(p.photo.sha256, q.photo.sha256);
}

#[test]
fn cmyk_through_its_profile() {
    let icc = icc_cmyk_test();
    let (w, h) = (64u16, 64u16);
    // Four 32×32 quadrants: no ink, cyan, magenta + yellow, black.
    let inks = [
        [0u8, 0, 0, 0],
        [255, 0, 0, 0],
        [0, 255, 255, 0],
        [0, 0, 0, 255],
    ];
    let corner = [0usize, 1, 6, 8];
    let mut cmyk = Vec::new();
    for y in 0..h {
        for x in 0..w {
            cmyk.extend(inks[usize::from(y / 32) * 2 + usize::from(x / 32)]);
        }
    }
    let jpeg = jpeg_cmyk_with_icc(&cmyk, w, h, &icc);
    let p = process(&jpeg, &PhotoOptions::default()).unwrap();
    assert_eq!(
        p.meta.converted_from.as_deref(),
        Some("Xiangying test CMYK")
    );
    assert_eq!(p.meta.warnings, []);
    let out = decode_rgb(&p.photo.bytes);
    for (q, c) in corner.iter().enumerate() {
        let got = out
            .get_pixel(q as u32 % 2 * 32 + 16, q as u32 / 2 * 32 + 16)
            .0;
        let want = CMYK_CORNERS[*c].map(f64::from);
        let de = delta_e(got.map(f64::from), want);
        println!("CMYK quadrant {q}: got {got:?} want {want:?} ΔE76 {de:.2}");
        assert!(
            de < 2.0,
            "quadrant {q}: {got:?} against {want:?}, ΔE {de:.2}"
        );
    }
}

#[test]
fn garbage_truncated_or_huge_profiles_give_a_warning_not_a_refusal() {
    let good = icc_for(&DISPLAY_P3);
    let mut flipped = good.clone();
    for b in flipped.iter_mut().skip(128).step_by(7) {
        *b ^= 0xA5;
    }
    let huge = {
        let mut v = good.clone();
        v.resize(MAX_ICC_BYTES + 1, 0);
        v
    };
    for (what, icc) in [
        (
            "garbage",
            b"this is not an ICC profile at all, just text".to_vec(),
        ),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("flipped", flipped),
        ("huge", huge),
        ("CMYK on RGB", icc_cmyk_test()),
    ] {
        for input in [
            png_with_icc(&patches(), &icc),
            jpeg_with_icc(&patches(), &icc, 95),
        ] {
            let p = process(&input, &PhotoOptions::default())
                .unwrap_or_else(|e| panic!("{what}: refused: {e}"));
            match &p.meta.warnings[..] {
                [PhotoWarning::ColourProfileUnusable { .. }] => {}
                // Flipped bytes may still parse into some profile: converted or not,
                // never a panic.
                [] if what == "flipped" => {}
                other => panic!("{what}: {other:?}"),
            }
        }
    }
    // A CMYK JPEG with a broken profile is converted naively, with the warning.
    let jpeg = jpeg_cmyk_with_icc(&[0, 255, 255, 0].repeat(16 * 16), 16, 16, b"junk profile");
    let p = process(&jpeg, &PhotoOptions::default()).unwrap();
    assert!(matches!(
        &p.meta.warnings[..],
        [PhotoWarning::ColourProfileUnusable { .. }]
    ));
    let px = decode_rgb(&p.photo.bytes).get_pixel(8, 8).0;
    assert!(px[0] > 200 && px[1] < 60 && px[2] < 60, "{px:?}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 48,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Damaged profiles (RGB in a PNG, CMYK in a JPEG) never panic and never refuse the
    /// photo: converted, or left as sRGB with a warning. (3,000 cases run once, 48 in CI.)
    #[test]
    fn damaged_profiles_never_panic_or_refuse(
        cmyk in proptest::prelude::any::<bool>(),
        edits in proptest::collection::vec(
            (proptest::prelude::any::<u16>(), proptest::prelude::any::<u8>()),
            1..16,
        ),
    ) {
        let mut icc = if cmyk { icc_cmyk_test() } else { icc_for(&DISPLAY_P3) };
        for (at, v) in edits {
            let i = usize::from(at) % icc.len();
            icc[i] = v;
        }
        let input = if cmyk {
            jpeg_cmyk_with_icc(&[0, 255, 255, 0].repeat(16 * 16), 16, 16, &icc)
        } else {
            png_with_icc(&solid(16, 16, [200, 30, 30]), &icc)
        };
        let p = process(&input, &PhotoOptions::default());
        proptest::prop_assert!(p.is_ok(), "{:?}", p.err());
    }
}
