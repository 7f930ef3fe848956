//! The street chiefs' notice boards (街长公示栏) as print output: PNG images and a PDF.
//!
//! The board itself ([`NoticeBoard`]: segments, people, phones, duties) and its HTML page come
//! from `xiangying_model::report::notice`; this module lays that board out on A4 portrait pages
//! with a CJK font and draws the pages twice from the same layout:
//!
//! - [`font`]: finding and loading the CJK font (a `.ttf`, `.otf` or a `.ttc` collection, whose
//!   Simplified Chinese face is picked), and measuring text with it;
//! - [`layout`]: one page per segment (continuation pages when its people do not fit), wrapped
//!   text, a display list of filled boxes, lines and positioned glyph runs in PDF points;
//! - [`raster`]: the display list rasterised to an RGB image and encoded as PNG;
//! - [`pdf`]: the display list as a PDF with real text (the font subset to the glyphs used,
//!   embedded as a CID font with a Unicode map, so the text can be searched and copied);
//! - [`export`]: the output format chosen by file extension, and the files the admin CLI
//!   writes.
//!
//! The server renders; devices keep the HTML page (see decision 0012).

pub mod export;
pub mod font;
pub mod layout;
pub mod pdf;
pub mod raster;

pub use export::{Format, write_board};
pub use font::{BoardFont, DEFAULT_FONT_PATHS};

use std::path::PathBuf;
use xiangying_model::report::NoticeBoard;

#[cfg(test)]
mod tests;

/// Everything that can go wrong while printing a board.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// No font was given and none of the well-known system paths holds one.
    #[error(
        "no Chinese font found; tried: {}. Install one (Debian: apt-get install fonts-noto-cjk, or the smaller fonts-wqy-microhei) or pass --font PATH",
        list_paths(.tried)
    )]
    NoFont {
        /// The paths looked at, in order.
        tried: Vec<PathBuf>,
    },
    /// The font file could not be read, is not a font, or has no Chinese glyphs.
    #[error("font {source_name}: {reason}")]
    Font {
        /// The file (or a description of the bytes) the font came from.
        source_name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The output format cannot be told or is not known.
    #[error("{0}")]
    Format(String),
    /// The board has no segment with this id.
    #[error("the notice board has no segment {0:?}")]
    UnknownSegment(String),
    /// Writing an output file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// Encoding an image or embedding the font failed.
    #[error("encoding the board: {0}")]
    Encode(String),
}

fn list_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Print resolution of the PNG pages, in dots per inch, unless asked otherwise.
pub const DEFAULT_DPI: u32 = 150;

/// The lowest and highest resolution accepted for PNG pages.
pub const DPI_RANGE: std::ops::RangeInclusive<u32> = 72..=600;

/// The number of A4 pages the board takes: one per segment, more for a segment whose people
/// do not fit on one page.
pub fn page_count(board: &NoticeBoard, font: &BoardFont) -> usize {
    layout::layout(board, font).pages.len()
}

/// The board as PNG images, one per A4 page, at `dpi` dots per inch (see [`DPI_RANGE`]).
pub fn render_png(
    board: &NoticeBoard,
    font: &BoardFont,
    dpi: u32,
) -> Result<Vec<Vec<u8>>, BoardError> {
    if !DPI_RANGE.contains(&dpi) {
        return Err(BoardError::Format(format!(
            "a resolution of {dpi} dpi is outside {}–{}",
            DPI_RANGE.start(),
            DPI_RANGE.end()
        )));
    }
    let doc = layout::layout(board, font);
    let mut raster = raster::Rasteriser::new(font, dpi);
    doc.pages
        .iter()
        .map(|p| raster::encode_png(&raster.page(p)))
        .collect()
}

/// The board as one PDF document, one A4 page per segment (more for a long one), with the
/// font subset and embedded.
pub fn render_pdf(board: &NoticeBoard, font: &BoardFont) -> Result<Vec<u8>, BoardError> {
    pdf::write(&layout::layout(board, font), font)
}
