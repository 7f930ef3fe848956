//! Colour management: pixels described by an embedded ICC profile (or by the EXIF colour
//! space) are converted to sRGB with `moxcms` before the outputs, which carry no profile, are
//! written. Without it a Display P3 or Adobe RGB photo loses saturation and an Apple "Generic
//! RGB" (gamma 1.8) one comes out dark.
//!
//! The profile is hostile input: it is refused above [`MAX_ICC_BYTES`], parsed with bounded
//! look-up tables, and any failure leaves the pixels as they are (taken as sRGB) with a
//! [`PhotoWarning`], never a refused photo. A profile that behaves like sRGB is detected by
//! probing the transform and skipped, so ordinary photos pay only for parsing it.

use super::PhotoWarning;
use super::meta::ExifColourSpace;
use super::raster::Raster;
use moxcms::{
    ColorProfile, DataColorSpace, Layout, ParsingOptions, ProfileText, RenderingIntent,
    Transform8BitExecutor, TransformOptions,
};
use std::sync::Arc;

/// The largest ICC profile accepted, in bytes. Camera and phone profiles are a few
/// kilobytes; large press (CMYK) profiles are 1–3 MB.
pub(crate) const MAX_ICC_BYTES: usize = 4 * 1024 * 1024;

/// The largest colour look-up table grid accepted (lut8/lut16 tags), in grid points
/// (moxcms's own default is ten million): 33⁴, the finest CMYK press profiles'. The table's
/// bytes must also fit in the profile, so [`MAX_ICC_BYTES`] bounds every table's memory.
const MAX_CLUT_ENTRIES: usize = 33 * 33 * 33 * 33;

/// Rows converted per step, through a small scratch buffer (the whole raster is never
/// copied).
const ROWS_PER_STEP: usize = 32;

/// What the colour stage did: the name of the colour space converted from (none when the
/// pixels were already sRGB or nothing was said) and a warning when a profile was unusable.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Outcome {
    /// The source colour space's name, when pixels were converted.
    pub converted_from: Option<String>,
    /// Why the described colour space could not be applied.
    pub warning: Option<PhotoWarning>,
}

impl Outcome {
    fn unusable(reason: impl Into<String>) -> Self {
        Outcome {
            converted_from: None,
            warning: Some(PhotoWarning::ColourProfileUnusable {
                reason: reason.into(),
            }),
        }
    }
}

/// Parses an ICC profile with the pipeline's bounds.
fn parse(icc: &[u8]) -> Result<ColorProfile, String> {
    if icc.len() > MAX_ICC_BYTES {
        return Err(format!(
            "profile is {} bytes, more than {MAX_ICC_BYTES}",
            icc.len()
        ));
    }
    let options = ParsingOptions {
        max_profile_size: MAX_ICC_BYTES + 1,
        max_allowed_clut_size: MAX_CLUT_ENTRIES,
        ..ParsingOptions::default()
    };
    ColorProfile::new_from_slice_with_options(icc, options)
        .map_err(|e| format!("profile cannot be parsed: {e}"))
}

/// The profile's description, or a generic name.
fn name_of(profile: &ColorProfile) -> String {
    let text = match &profile.description {
        Some(ProfileText::PlainString(s)) => Some(s.clone()),
        Some(ProfileText::Localizable(v)) => v.first().map(|l| l.value.clone()),
        Some(ProfileText::Description(d)) => Some(d.ascii_string.clone()),
        None => None,
    };
    let text: String = text
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    if text.trim().is_empty() {
        "embedded ICC profile".into()
    } else {
        text.trim().to_string()
    }
}

/// A transform from `profile` (pixels in `layout`) to sRGB RGB: perceptual first (the one
/// intent every LUT profile must carry; matrix profiles ignore the intent), then relative
/// colorimetric.
fn transform_to_srgb(
    profile: &ColorProfile,
    layout: Layout,
) -> Result<Arc<Transform8BitExecutor>, String> {
    let srgb = ColorProfile::new_srgb();
    let make = |rendering_intent| {
        profile.create_transform_8bit(
            layout,
            &srgb,
            Layout::Rgb,
            TransformOptions {
                rendering_intent,
                ..TransformOptions::default()
            },
        )
    };
    make(RenderingIntent::Perceptual)
        .or_else(|_| make(RenderingIntent::RelativeColorimetric))
        .map_err(|e| format!("no transform to sRGB: {e}"))
}

/// True when `t` leaves every probe colour (cube corners, greys, mid tones) within one code
/// value: the source is sRGB in all but name.
fn behaves_like_srgb(t: &Arc<Transform8BitExecutor>) -> bool {
    let levels = [0u8, 64, 128, 192, 255];
    let mut probe = Vec::with_capacity(levels.len().pow(3) * 3);
    for r in levels {
        for g in levels {
            for b in levels {
                probe.extend([r, g, b]);
            }
        }
    }
    let mut out = vec![0u8; probe.len()];
    t.transform(&probe, &mut out).is_ok()
        && probe.iter().zip(&out).all(|(a, b)| a.abs_diff(*b) <= 1)
}

/// Converts an RGB raster to sRGB in place, from the embedded ICC profile `icc` or, when
/// there is none, from the EXIF colour space. Grey rasters are left alone (a grey profile's
/// tone curve differs from sRGB's by a few code values at most).
pub(crate) fn to_srgb(raster: &mut Raster, icc: Option<&[u8]>, exif: ExifColourSpace) -> Outcome {
    if raster.gray {
        return Outcome::default();
    }
    let profile = match (icc, exif) {
        (Some(icc), _) => match parse(icc) {
            Ok(p) if p.color_space == DataColorSpace::Rgb => p,
            Ok(p) => {
                return Outcome::unusable(format!("a {:?} profile on RGB pixels", p.color_space));
            }
            Err(reason) => return Outcome::unusable(reason),
        },
        (None, ExifColourSpace::AdobeRgb) => {
            let mut p = ColorProfile::new_adobe_rgb();
            p.description = Some(ProfileText::PlainString(
                "Adobe RGB (1998), from the EXIF colour space".into(),
            ));
            p
        }
        (None, ExifColourSpace::Srgb) => return Outcome::default(),
    };
    let transform = match transform_to_srgb(&profile, Layout::Rgb) {
        Ok(t) => t,
        Err(reason) => return Outcome::unusable(reason),
    };
    if behaves_like_srgb(&transform) {
        return Outcome::default();
    }
    let row = raster.width as usize * 3;
    let mut scratch = vec![0u8; row * ROWS_PER_STEP];
    for chunk in raster.data.chunks_mut(row * ROWS_PER_STEP) {
        let out = &mut scratch[..chunk.len()];
        if let Err(e) = transform.transform(chunk, out) {
            // Cannot happen for whole RGB rows; if it does, the rest stays as it was.
            return Outcome::unusable(format!("transform failed: {e}"));
        }
        chunk.copy_from_slice(out);
    }
    Outcome {
        converted_from: Some(name_of(&profile)),
        warning: None,
    }
}

/// CMYK ink amounts (4 bytes a pixel, 0 = no ink) to sRGB, through the embedded CMYK
/// profile when there is a usable one, else naively (`(1 − ink) × (1 − black)`), which is
/// what the pipeline did before colour management and what most viewers do without one.
pub(crate) fn cmyk_to_srgb(cmyk: &[u8], icc: Option<&[u8]>) -> (Vec<u8>, Outcome) {
    let naive = |outcome: Outcome| {
        let rgb = cmyk
            .chunks_exact(4)
            .flat_map(|p| {
                let k = 255 - u16::from(p[3]);
                [0, 1, 2].map(|i| ((255 - u16::from(p[i])) * k / 255) as u8)
            })
            .collect();
        (rgb, outcome)
    };
    let Some(icc) = icc else {
        return naive(Outcome::default());
    };
    let profile = match parse(icc) {
        Ok(p) if p.color_space == DataColorSpace::Cmyk => p,
        Ok(p) => {
            return naive(Outcome::unusable(format!(
                "a {:?} profile on CMYK pixels",
                p.color_space
            )));
        }
        Err(reason) => return naive(Outcome::unusable(reason)),
    };
    let transform = match transform_to_srgb(&profile, Layout::Rgba) {
        Ok(t) => t,
        Err(reason) => return naive(Outcome::unusable(reason)),
    };
    let pixels = cmyk.len() / 4;
    let mut rgb = vec![0u8; pixels * 3];
    if let Err(e) = transform.transform(&cmyk[..pixels * 4], &mut rgb) {
        return naive(Outcome::unusable(format!("transform failed: {e}")));
    }
    (
        rgb,
        Outcome {
            converted_from: Some(name_of(&profile)),
            warning: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::test_support::{DISPLAY_P3, SRGB, icc_cmyk_test, icc_for};

    fn raster(rgb: [u8; 3]) -> Raster {
        Raster {
            width: 40,
            height: 70,
            gray: false,
            data: rgb.repeat(40 * 70),
        }
    }

    #[test]
    fn a_p3_raster_is_converted_in_slices_to_the_last_row() {
        let mut r = raster([60, 170, 60]);
        let out = to_srgb(&mut r, Some(&icc_for(&DISPLAY_P3)), ExifColourSpace::Srgb);
        assert_eq!(out.converted_from.as_deref(), Some("Display P3"));
        // 70 rows: two full slices of 32 and a short one, all converted alike.
        let first = [r.data[0], r.data[1], r.data[2]];
        assert!(first[0] < 10 && first[2] < 45, "{first:?}");
        assert!(r.data.chunks(3).all(|p| p == first));
    }

    #[test]
    fn srgb_grey_and_untagged_rasters_are_untouched() {
        for (icc, exif) in [
            (Some(icc_for(&SRGB)), ExifColourSpace::Srgb),
            (None, ExifColourSpace::Srgb),
        ] {
            let mut r = raster([10, 200, 30]);
            assert_eq!(to_srgb(&mut r, icc.as_deref(), exif), Outcome::default());
            assert!(r.data.chunks(3).all(|p| p == [10, 200, 30]));
        }
        let mut grey = Raster {
            gray: true,
            data: vec![77; 40 * 70],
            ..raster([0, 0, 0])
        };
        let out = to_srgb(
            &mut grey,
            Some(&icc_for(&DISPLAY_P3)),
            ExifColourSpace::AdobeRgb,
        );
        assert_eq!(out, Outcome::default());
    }

    #[test]
    fn unusable_profiles_leave_the_pixels_with_a_warning() {
        for icc in [
            b"garbage".to_vec(),
            vec![0; MAX_ICC_BYTES + 1],
            icc_cmyk_test(),
        ] {
            let mut r = raster([10, 200, 30]);
            let out = to_srgb(&mut r, Some(&icc), ExifColourSpace::AdobeRgb);
            assert!(
                matches!(
                    out.warning,
                    Some(PhotoWarning::ColourProfileUnusable { .. })
                ),
                "{out:?}"
            );
            assert!(r.data.chunks(3).all(|p| p == [10, 200, 30]));
        }
    }

    #[test]
    fn cmyk_without_a_profile_is_converted_naively() {
        let (rgb, out) = cmyk_to_srgb(&[0, 255, 255, 0, 0, 0, 0, 255], None);
        assert_eq!(rgb, [255, 0, 0, 0, 0, 0]);
        assert_eq!(out, Outcome::default());
    }
}
