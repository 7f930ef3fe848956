//! The photo pipeline's error type.

use std::path::PathBuf;

/// Everything that can go wrong while processing or storing a photo.
///
/// Processing errors leave nothing behind: [`super::process`] is pure and the store writes
/// only finished, verified files.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// The input is larger than [`super::PhotoOptions::max_input_bytes`].
    #[error("photo is {bytes} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        bytes: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The header announces more pixels than [`super::PhotoOptions::max_pixels`] (or a side
    /// longer than the decoders accept); refused before any pixel is decoded.
    #[error("photo is {width}x{height} pixels, more than the limit of {limit} pixels")]
    TooManyPixels {
        /// Width announced by the header.
        width: u32,
        /// Height announced by the header.
        height: u32,
        /// The configured limit, in pixels.
        limit: u64,
    },
    /// The bytes are not JPEG, PNG or WebP (the text names what they look like, e.g. HEIC,
    /// which the phone's platform must decode first).
    #[error("unsupported image format: {0}")]
    UnsupportedFormat(String),
    /// The bytes look like a supported format but are truncated or damaged.
    #[error("corrupt image: {0}")]
    Corrupt(String),
    /// A hash given to the file store is not 64 lowercase hex digits.
    #[error("not a SHA-256 hex digest: {0:?}")]
    BadHash(String),
    /// A stored file's content no longer matches its name.
    #[error("stored file {hash} is damaged (its content hashes to {actual})")]
    HashMismatch {
        /// The name asked for.
        hash: String,
        /// The hash of what is on disk.
        actual: String,
    },
    /// The JPEG encoder failed (an internal limit such as a side over 65,535 pixels).
    #[error("could not encode JPEG: {0}")]
    Encode(String),
    /// A file-system operation of the store failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl PhotoError {
    /// Wraps an I/O error with the path it happened on.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PhotoError::Io {
            path: path.into(),
            source,
        }
    }
}
