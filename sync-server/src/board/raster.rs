//! Draws laid-out pages into RGB images and encodes them as PNG.
//!
//! Glyph outlines are rasterised with anti-aliasing by `ab_glyph` and kept in a cache keyed by
//! glyph, pixel size and quarter-pixel horizontal offset, since a board repeats the same few
//! hundred characters on every page. Boxes and rules are snapped to whole pixels.

use super::BoardError;
use super::font::BoardFont;
use super::layout::{Item, PAGE_H, PAGE_W, Page, Rgb, TextRun};
use ab_glyph::{Font, GlyphId, PxScale, point};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ImageEncoder, RgbImage};
use std::collections::HashMap;

/// The size in pixels of an A4 page at `dpi`.
pub fn page_size_px(dpi: u32) -> (u32, u32) {
    let px = |pt: f32| (pt / 72.0 * dpi as f32).round().max(1.0) as u32;
    (px(PAGE_W), px(PAGE_H))
}

/// A glyph's coverage, relative to the whole pixel left of its pen position and its baseline.
struct Coverage {
    left: i32,
    top: i32,
    w: u32,
    h: u32,
    alpha: Vec<u8>,
}

/// Quarter-pixel steps of the pen's horizontal position.
const SUBPIXEL: f32 = 4.0;

/// Draws pages at one resolution with one font, caching glyph rasters across pages.
pub struct Rasteriser<'a> {
    font: &'a BoardFont,
    scale: f32,
    size: (u32, u32),
    cache: HashMap<(u16, u32, u8, bool), Option<Coverage>>,
}

impl<'a> Rasteriser<'a> {
    /// A rasteriser for `font` at `dpi`.
    pub fn new(font: &'a BoardFont, dpi: u32) -> Rasteriser<'a> {
        Rasteriser {
            font,
            scale: dpi as f32 / 72.0,
            size: page_size_px(dpi),
            cache: HashMap::new(),
        }
    }

    /// Draws one page on white.
    pub fn page(&mut self, page: &Page) -> RgbImage {
        let (w, h) = self.size;
        let mut img = RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
        for item in &page.items {
            match item {
                Item::Fill { x, y, w, h, color } => {
                    self.fill(&mut img, *x, *y, x + w, y + h, *color);
                }
                Item::Line {
                    x0,
                    y0,
                    x1,
                    y1,
                    width,
                    color,
                } => {
                    // Only axis-aligned rules are laid out: a run of whole pixels, at least
                    // one, so every rule of one width comes out equally thick.
                    let thick = (width * self.scale).round().max(1.0);
                    let at =
                        |centre: f32| ((centre * self.scale - thick / 2.0).round()) / self.scale;
                    let t = thick / self.scale;
                    if (y0 - y1).abs() < f32::EPSILON {
                        self.fill(&mut img, *x0, at(*y0), *x1, at(*y0) + t, *color);
                    } else {
                        self.fill(&mut img, at(*x0), *y0, at(*x0) + t, *y1, *color);
                    }
                }
                Item::Text(run) => self.text(&mut img, run),
            }
        }
        img
    }

    fn fill(&self, img: &mut RgbImage, l: f32, t: f32, r: f32, b: f32, color: Rgb) {
        let (w, h) = (img.width() as i64, img.height() as i64);
        let px = |v: f32| (v * self.scale).round() as i64;
        let (l, r) = (px(l).clamp(0, w), px(r).clamp(0, w));
        let (t, b) = (px(t).clamp(0, h), px(b).clamp(0, h));
        let (l, r, t, b) = (l as u32, r as u32, t as u32, b as u32);
        let c = image::Rgb([color.0, color.1, color.2]);
        for y in t..b {
            for x in l..r {
                img.put_pixel(x, y, c);
            }
        }
    }

    fn text(&mut self, img: &mut RgbImage, run: &TextRun) {
        let size_px = run.size * self.scale;
        let size_key = (size_px * 64.0).round() as u32;
        let baseline = (run.baseline * self.scale).round() as i32;
        for g in &run.glyphs {
            let x = (run.x + g.x) * self.scale;
            let whole = x.floor();
            let frac = ((x - whole) * SUBPIXEL).floor() as u8;
            let key = (g.id, size_key, frac, run.bold);
            if !self.cache.contains_key(&key) {
                let cov = self.rasterise(g.id, size_px, f32::from(frac) / SUBPIXEL, run.bold);
                self.cache.insert(key, cov);
            }
            if let Some(Some(cov)) = self.cache.get(&key) {
                blend(img, cov, whole as i32, baseline, run.color);
            }
        }
    }

    /// The coverage of glyph `id` at `size_px` pixels per em, its pen `frac` of a pixel right
    /// of a whole pixel. Bold draws it twice, a fraction of a stroke apart.
    fn rasterise(&self, id: u16, size_px: f32, frac: f32, bold: bool) -> Option<Coverage> {
        let face = self.font.face();
        let upem = face.units_per_em().unwrap_or(1000.0);
        let scale = PxScale::from(size_px * face.height_unscaled() / upem);
        let offsets: &[f32] = if bold {
            &[0.0, (size_px * 0.035).max(0.5)]
        } else {
            &[0.0]
        };
        let outlines: Vec<_> = offsets
            .iter()
            .filter_map(|dx| {
                face.outline_glyph(
                    GlyphId(id).with_scale_and_position(scale, point(frac + dx, 0.0)),
                )
            })
            .collect();
        let first = outlines.first()?;
        let mut min = first.px_bounds().min;
        let mut max = first.px_bounds().max;
        for o in &outlines[1..] {
            let b = o.px_bounds();
            min.x = min.x.min(b.min.x);
            min.y = min.y.min(b.min.y);
            max.x = max.x.max(b.max.x);
            max.y = max.y.max(b.max.y);
        }
        let w = (max.x - min.x).ceil().max(0.0) as u32;
        let h = (max.y - min.y).ceil().max(0.0) as u32;
        let mut alpha = vec![0u8; (w * h) as usize];
        for o in &outlines {
            let b = o.px_bounds();
            let ox = (b.min.x - min.x) as u32;
            let oy = (b.min.y - min.y) as u32;
            o.draw(|x, y, c| {
                let (x, y) = (x + ox, y + oy);
                if x < w && y < h {
                    let i = (y * w + x) as usize;
                    let v = (c.clamp(0.0, 1.0) * 255.0).round() as u8;
                    alpha[i] = alpha[i].max(v);
                }
            });
        }
        Some(Coverage {
            left: min.x as i32,
            top: min.y as i32,
            w,
            h,
            alpha,
        })
    }
}

/// Paints `color` through `cov` placed at pen (`x`, `baseline`).
fn blend(img: &mut RgbImage, cov: &Coverage, x: i32, baseline: i32, color: Rgb) {
    let (iw, ih) = (img.width() as i32, img.height() as i32);
    for cy in 0..cov.h as i32 {
        let py = baseline + cov.top + cy;
        if py < 0 || py >= ih {
            continue;
        }
        for cx in 0..cov.w as i32 {
            let px = x + cov.left + cx;
            if px < 0 || px >= iw {
                continue;
            }
            let a = u32::from(cov.alpha[(cy * cov.w as i32 + cx) as usize]);
            if a == 0 {
                continue;
            }
            let p = img.get_pixel_mut(px as u32, py as u32);
            let mix = |bg: u8, fg: u8| {
                ((u32::from(bg) * (255 - a) + u32::from(fg) * a + 127) / 255) as u8
            };
            p.0 = [
                mix(p.0[0], color.0),
                mix(p.0[1], color.1),
                mix(p.0[2], color.2),
            ];
        }
    }
}

/// Encodes an image as PNG.
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>, BoardError> {
    let mut out = Vec::with_capacity(256 * 1024);
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| BoardError::Encode(e.to_string()))?;
    Ok(out)
}
