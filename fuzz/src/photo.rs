//! Target `photo`: the photo pipeline on whatever bytes a camera or a file picker hands over.
//!
//! The pipeline runs whole ([`xiangying_core::photo::process`]: size and header limits,
//! decode, EXIF, resize, orientation, JPEG encode, thumbnail) under [`options`]: the
//! project's own limit checks with smaller numbers, so that one input stays fast in a debug
//! build and the allocation cap of the fuzz binary catches a decoder that allocates beyond
//! the limits it was given.

use xiangying_core::photo::{PhotoOptions, process};

/// The pipeline's options in the target: the defaults with small limits.
pub fn options() -> PhotoOptions {
    PhotoOptions {
        max_input_bytes: crate::MAX_INPUT,
        max_pixels: 1 << 20,
        max_decoded_bytes: 16 << 20,
        max_edge: 256,
        thumb_edge: 64,
        ..PhotoOptions::default()
    }
}

/// Processes `data` as a photo; an accepted photo must come out within the limits, as JPEG.
pub fn run(data: &[u8]) {
    let opts = options();
    if let Ok(p) = process(crate::capped(data), &opts) {
        let long = |w: u32, h: u32| w.max(h);
        assert!(
            long(p.meta.original_width, p.meta.original_height) > 0,
            "a photo with no pixels was accepted: {:?}",
            p.meta
        );
        assert!(
            u64::from(p.meta.original_width) * u64::from(p.meta.original_height) <= opts.max_pixels,
            "a photo over the pixel limit was accepted: {:?}",
            p.meta
        );
        for (out, edge) in [(&p.photo, opts.max_edge), (&p.thumbnail, opts.thumb_edge)] {
            assert!(
                out.bytes.starts_with(&[0xFF, 0xD8]),
                "the output is not a JPEG"
            );
            assert!(
                long(out.width, out.height) <= edge,
                "an output of {}x{} is over the edge of {edge}",
                out.width,
                out.height
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_png_passes_and_garbage_is_refused() {
        let img = image::RgbImage::from_pixel(8, 6, image::Rgb([200, 10, 10]));
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert!(process(&png, &options()).is_ok());
        run(&png);
        run(b"\x89PNG\r\n\x1a\n");
        run(&[]);
    }
}
