//! JPEG encoding of the outputs (with `jpeg-encoder`) and their SHA-256 names.
//!
//! The encoder is given bare pixels and writes only the segments a JPEG needs (SOI, the
//! JFIF APP0 header, quantisation and Huffman tables, frame and scan headers, EOI): no
//! EXIF, XMP, ICC or comment segment can reach an output.

use super::PhotoError;
use super::raster::Raster;
use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The lowest quality the byte budget may step down to.
const MIN_QUALITY: u8 = 40;
/// How much the quality drops per retry when an output is over its byte budget.
const QUALITY_STEP: u8 = 8;

/// One output file: a baseline JPEG without metadata, and its content hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encoded {
    /// The JPEG file's bytes (left out of serde output: store them with
    /// [`super::PhotoFiles`]).
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Width in pixels (upright).
    pub width: u32,
    /// Height in pixels (upright).
    pub height: u32,
    /// The quality the JPEG was finally encoded at (lower than asked when the byte budget
    /// forced a step down).
    pub quality: u8,
    /// Lowercase hex SHA-256 of `bytes`: the file's name in the store.
    pub sha256: String,
}

impl Encoded {
    /// Size of the file in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True for an empty file (never produced by the pipeline).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl std::fmt::Debug for Encoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoded")
            .field("bytes", &self.bytes.len())
            .field("width", &self.width)
            .field("height", &self.height)
            .field("quality", &self.quality)
            .field("sha256", &self.sha256)
            .finish()
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn encode_once(r: &Raster, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let too_big = || PhotoError::Encode(format!("{}x{} exceeds 65,535 pixels", r.width, r.height));
    let w = u16::try_from(r.width).map_err(|_| too_big())?;
    let h = u16::try_from(r.height).map_err(|_| too_big())?;
    let mut out = Vec::with_capacity(r.data.len() / 8);
    let mut enc = Encoder::new(&mut out, quality.clamp(1, 100));
    // Box-averaged chroma (as libjpeg does) rather than point sampling. Optimised Huffman
    // tables stay off: with them this encoder writes one scan per component, which is valid
    // JPEG but decoded wrongly by zune-jpeg (the `image` crate's JPEG decoder), and
    // interoperability matters more than ~10% of size.
    enc.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    let color = if r.gray {
        ColorType::Luma
    } else {
        ColorType::Rgb
    };
    enc.encode(&r.data, w, h, color)
        .map_err(|e| PhotoError::Encode(e.to_string()))?;
    Ok(out)
}

/// Encodes `r` at `quality`; when `max_bytes` is given and the file is larger, re-encodes
/// at lower qualities (down to 40) until it fits, keeping the last attempt if none does.
pub(crate) fn encode_jpeg(
    r: &Raster,
    quality: u8,
    max_bytes: Option<usize>,
) -> Result<Encoded, PhotoError> {
    let mut quality = quality.clamp(1, 100);
    let mut bytes = encode_once(r, quality)?;
    while let Some(limit) = max_bytes {
        if bytes.len() <= limit || quality <= MIN_QUALITY {
            break;
        }
        quality = quality.saturating_sub(QUALITY_STEP).max(MIN_QUALITY);
        bytes = encode_once(r, quality)?;
    }
    Ok(Encoded {
        sha256: sha256_hex(&bytes),
        width: r.width,
        height: r.height,
        quality,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::test_support::jpeg_markers;

    fn noisy(w: u32, h: u32) -> Raster {
        let mut s = 0x1234_5678u32;
        let data = (0..w * h * 3)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                s as u8
            })
            .collect();
        Raster {
            width: w,
            height: h,
            gray: false,
            data,
        }
    }

    #[test]
    fn hash_is_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn output_has_only_the_segments_a_jpeg_needs() {
        let e = encode_jpeg(&noisy(40, 30), 80, None).unwrap();
        let markers = jpeg_markers(&e.bytes);
        assert_eq!(markers.first(), Some(&0xD8));
        assert_eq!(markers.last(), Some(&0xD9));
        for m in markers {
            assert!(
                matches!(m, 0xD8 | 0xE0 | 0xDB | 0xC0 | 0xC4 | 0xDA | 0xD9),
                "unexpected marker {m:02X}"
            );
        }
        assert_eq!(e.sha256, sha256_hex(&e.bytes));
        assert_eq!(e.quality, 80);
    }

    #[test]
    fn byte_budget_steps_quality_down() {
        let r = noisy(200, 200);
        let free = encode_jpeg(&r, 90, None).unwrap();
        let budget = free.len() * 2 / 3;
        let capped = encode_jpeg(&r, 90, Some(budget)).unwrap();
        assert!(capped.quality < 90);
        assert!(capped.len() <= budget || capped.quality == MIN_QUALITY);
    }

    #[test]
    fn grey_raster_encodes_as_one_component() {
        let r = Raster {
            width: 8,
            height: 8,
            gray: true,
            data: vec![77; 64],
        };
        let e = encode_jpeg(&r, 80, None).unwrap();
        let img = image::load_from_memory(&e.bytes).unwrap();
        assert_eq!(img.color(), image::ColorType::L8);
    }
}
