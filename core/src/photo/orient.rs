//! Applying the EXIF orientation (all eight values) to a raster, so outputs are upright
//! and need no orientation tag.

use super::raster::Raster;

/// Returns the raster as it should be displayed for EXIF `orientation` (1–8):
///
/// | value | stored image must be… |
/// |---|---|
/// | 1 | left as is |
/// | 2 | mirrored horizontally |
/// | 3 | rotated 180° |
/// | 4 | mirrored vertically |
/// | 5 | transposed (mirrored along the main diagonal) |
/// | 6 | rotated 90° clockwise |
/// | 7 | transversed (mirrored along the anti-diagonal) |
/// | 8 | rotated 90° counter-clockwise |
///
/// Any other value is treated as 1.
pub(crate) fn apply(src: Raster, orientation: u16) -> Raster {
    if !(2..=8).contains(&orientation) {
        return src;
    }
    let swap = orientation >= 5;
    let (width, height) = if swap {
        (src.height, src.width)
    } else {
        (src.width, src.height)
    };
    let data = if src.gray {
        remap::<1>(&src, orientation)
    } else {
        remap::<3>(&src, orientation)
    };
    Raster {
        width,
        height,
        gray: src.gray,
        data,
    }
}

/// Output pixels are visited in square tiles so that the column-wise reads of a rotation
/// stay in cache.
const TILE: usize = 32;

fn remap<const C: usize>(src: &Raster, orientation: u16) -> Vec<u8> {
    let (w, h) = (src.width as usize, src.height as usize);
    let (ow, oh) = if orientation >= 5 { (h, w) } else { (w, h) };
    let mut out = vec![0u8; src.data.len()];
    for ty in (0..oh).step_by(TILE) {
        for tx in (0..ow).step_by(TILE) {
            for y in ty..(ty + TILE).min(oh) {
                for x in tx..(tx + TILE).min(ow) {
                    // Where the output pixel (x, y) comes from in the stored image.
                    let (sx, sy) = match orientation {
                        2 => (w - 1 - x, y),
                        3 => (w - 1 - x, h - 1 - y),
                        4 => (x, h - 1 - y),
                        5 => (y, x),
                        6 => (y, h - 1 - x),
                        7 => (w - 1 - y, h - 1 - x),
                        8 => (w - 1 - y, x),
                        _ => (x, y),
                    };
                    let at = (sy * w + sx) * C;
                    let to = (y * ow + x) * C;
                    out[to..to + C].copy_from_slice(&src.data[at..at + C]);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3×2 grey raster with distinct values:
    /// ```text
    /// 1 2 3
    /// 4 5 6
    /// ```
    fn sample() -> Raster {
        Raster {
            width: 3,
            height: 2,
            gray: true,
            data: vec![1, 2, 3, 4, 5, 6],
        }
    }

    #[test]
    fn all_eight_orientations_match_the_exif_definitions() {
        let cases: [(u16, u32, &[u8]); 8] = [
            (1, 3, &[1, 2, 3, 4, 5, 6]),
            (2, 3, &[3, 2, 1, 6, 5, 4]),
            (3, 3, &[6, 5, 4, 3, 2, 1]),
            (4, 3, &[4, 5, 6, 1, 2, 3]),
            (5, 2, &[1, 4, 2, 5, 3, 6]),
            (6, 2, &[4, 1, 5, 2, 6, 3]),
            (7, 2, &[6, 3, 5, 2, 4, 1]),
            (8, 2, &[3, 6, 2, 5, 1, 4]),
        ];
        for (o, width, expected) in cases {
            let out = apply(sample(), o);
            assert_eq!(out.width, width, "orientation {o}");
            assert_eq!(out.data, expected, "orientation {o}");
        }
        assert_eq!(apply(sample(), 0), sample());
        assert_eq!(apply(sample(), 42), sample());
    }
}
