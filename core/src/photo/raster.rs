//! The in-memory picture between decoder and encoder (8-bit grey or RGB), the size
//! arithmetic of "fit the long edge" and resampling with `fast_image_resize`.

use super::PhotoError;
use fast_image_resize as fr;

/// 8-bit pixels, rows top to bottom, no padding: 1 byte per pixel (grey) or 3 (RGB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Raster {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// One grey channel instead of three RGB channels.
    pub gray: bool,
    /// The pixels, `width * height` bytes (grey) or three times that (RGB).
    pub data: Vec<u8>,
}

impl Raster {
    fn pixel_type(&self) -> fr::PixelType {
        if self.gray {
            fr::PixelType::U8
        } else {
            fr::PixelType::U8x3
        }
    }
}

/// The size that fits `width`×`height` inside a `max_edge` square, keeping the aspect
/// ratio; never larger than the source (no upscaling) and never below 1 pixel.
pub(crate) fn fit(width: u32, height: u32, max_edge: u32) -> (u32, u32) {
    let long = width.max(height);
    let max_edge = max_edge.max(1);
    if long <= max_edge {
        return (width, height);
    }
    let scale = |side: u32| -> u32 {
        let s = (u64::from(side) * u64::from(max_edge) + u64::from(long) / 2) / u64::from(long);
        u32::try_from(s).unwrap_or(max_edge).clamp(1, max_edge)
    };
    (scale(width), scale(height))
}

/// Resamples `src` to exactly `width`×`height` (Lanczos-3 convolution, which also
/// low-pass filters when shrinking). Returns a copy of `src` when the size already matches.
pub(crate) fn resize(
    src: &Raster,
    width: u32,
    height: u32,
    resizer: &mut fr::Resizer,
) -> Result<Raster, PhotoError> {
    if (src.width, src.height) == (width, height) {
        return Ok(src.clone());
    }
    let err = |e: &dyn std::fmt::Display| PhotoError::Corrupt(format!("resize failed: {e}"));
    let view = fr::images::ImageRef::new(src.width, src.height, &src.data, src.pixel_type())
        .map_err(|e| err(&e))?;
    let mut dst = fr::images::Image::new(width, height, src.pixel_type());
    let opts =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    resizer
        .resize(&view, &mut dst, &opts)
        .map_err(|e| err(&e))?;
    Ok(Raster {
        width,
        height,
        gray: src.gray,
        data: dst.into_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_never_upscales() {
        assert_eq!(fit(4000, 3000, 1920), (1920, 1440));
        assert_eq!(fit(3000, 4000, 1920), (1440, 1920));
        assert_eq!(fit(8000, 500, 1920), (1920, 120));
        assert_eq!(fit(1000, 800, 1920), (1000, 800));
        assert_eq!(fit(1, 1, 320), (1, 1));
        assert_eq!(fit(100_000, 1, 320), (320, 1));
        assert_eq!(fit(1920, 1920, 1920), (1920, 1920));
    }

    #[test]
    fn resize_shrinks_and_keeps_flat_colour() {
        let src = Raster {
            width: 100,
            height: 50,
            gray: false,
            data: [10u8, 200, 30].repeat(100 * 50),
        };
        let out = resize(&src, 40, 20, &mut fr::Resizer::new()).unwrap();
        assert_eq!(
            (out.width, out.height, out.data.len()),
            (40, 20, 40 * 20 * 3)
        );
        assert!(out.data.chunks(3).all(|p| p == [10, 200, 30]));
    }
}
