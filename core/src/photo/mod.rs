//! Photos attached to cases: from whatever the phone's camera produced to two small,
//! upright, metadata-free JPEG files named by their SHA-256.
//!
//! [`process`] is pure (bytes in, bytes out): it accepts JPEG, PNG and WebP. **HEIC/HEIF is
//! not decoded here**: the phone's platform (Android `ImageDecoder`, iOS `UIImage`) converts
//! it to JPEG before handing the bytes to the core. The pipeline
//!
//! 1. refuses inputs over [`PhotoOptions::max_input_bytes`] and, from the header alone,
//!    images over [`PhotoOptions::max_pixels`] (a 100,000 × 100,000 PNG is refused before
//!    anything is allocated);
//! 2. decodes (a large JPEG directly at 1/2, 1/4 or 1/8 scale through DCT scaling);
//! 3. reads the EXIF orientation, capture time and GPS position into [`PhotoMeta`],
//!    leniently (a damaged block keeps what could be read; what was lost is a
//!    [`PhotoWarning`]);
//! 4. resizes so the long edge is at most [`PhotoOptions::max_edge`] (never upscaling),
//!    converts the colours to sRGB from the embedded ICC profile or the EXIF colour space
//!    (an unusable profile is a warning, never a refusal), applies the orientation (all
//!    eight), and encodes a JPEG; then a thumbnail of at most [`PhotoOptions::thumb_edge`];
//! 5. writes no metadata at all into the outputs: no EXIF (so no GPS), XMP, ICC or comment
//!    (the pixels are sRGB, which is what a JPEG without a profile means).
//!
//! [`PhotoFiles`] stores the outputs content-addressed and atomically, separately from the
//! pure processing.

mod capture;
mod colour;
mod decode;
mod encode;
mod error;
mod files;
mod limits;
mod meta;
mod orient;
mod pipeline;
mod raster;
#[cfg(test)]
pub(crate) mod test_support;
mod warning;

pub(crate) use capture::place_or;
pub use capture::{CameraPhoto, Capture, exif_place};
pub use encode::{Encoded, sha256_hex};
pub use error::PhotoError;
pub use files::{PhotoFiles, StoredFile, StoredPhoto, is_sha256_hex};
pub use limits::SourceFormat;
pub use meta::{CaptureTime, GpsPosition, PhotoMeta};
pub use pipeline::process;
pub use warning::PhotoWarning;

use serde::{Deserialize, Serialize};

/// Limits and output settings of the pipeline. [`Default`] suits phone photos.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoOptions {
    /// Largest input accepted, in bytes. Default 40 MiB: a 200 MP phone JPEG is ~30 MB.
    pub max_input_bytes: usize,
    /// Largest image accepted, in pixels (width × height, from the header). Default
    /// 100,000,000 (100 MP): every common phone mode up to 100 MP; 108 and 200 MP
    /// full-resolution modes are refused (the app should photograph at the default binned
    /// resolution, 12–50 MP).
    pub max_pixels: u64,
    /// Largest buffer a PNG or WebP decoder may fill, in bytes. Default 512 MiB. (A large
    /// JPEG is decoded at reduced scale and needs far less.)
    pub max_decoded_bytes: u64,
    /// Long edge of the photo, in pixels. Default 1,920.
    pub max_edge: u32,
    /// Long edge of the thumbnail, in pixels. Default 320.
    pub thumb_edge: u32,
    /// JPEG quality of the photo (1–100). Default 80.
    pub quality: u8,
    /// JPEG quality of the thumbnail (1–100). Default 70.
    pub thumb_quality: u8,
    /// Byte budget of the photo: when the JPEG is larger, it is re-encoded at lower quality
    /// (down to 40). Default 400,000; `None` to keep `quality` whatever the size.
    pub max_photo_bytes: Option<usize>,
    /// Byte budget of the thumbnail, as for the photo. Default 15,000.
    pub max_thumb_bytes: Option<usize>,
}

impl Default for PhotoOptions {
    fn default() -> Self {
        PhotoOptions {
            max_input_bytes: 40 * 1024 * 1024,
            max_pixels: 100_000_000,
            max_decoded_bytes: 512 * 1024 * 1024,
            max_edge: 1920,
            thumb_edge: 320,
            quality: 80,
            thumb_quality: 70,
            max_photo_bytes: Some(400_000),
            max_thumb_bytes: Some(15_000),
        }
    }
}

/// The result of [`process`]: two JPEG files and what the source's metadata said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessedPhoto {
    /// The photo, long edge at most [`PhotoOptions::max_edge`].
    pub photo: Encoded,
    /// The thumbnail, long edge at most [`PhotoOptions::thumb_edge`].
    pub thumbnail: Encoded,
    /// Capture time, position, original size and orientation of the source.
    pub meta: PhotoMeta,
}
