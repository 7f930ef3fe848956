//! The files the admin CLI writes for a notice board: the format told by the output file's
//! extension (or chosen), the font found only when a format needs one, PNG pages numbered
//! beside the named file when there is more than one.

use super::font::BoardFont;
use super::{BoardError, render_pdf, render_png};
use std::path::{Path, PathBuf};
use xiangying_model::report::NoticeBoard;

/// An output format of the notice board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One self-contained HTML page (`.html`, `.htm`); needs no font.
    Html,
    /// One PDF document, one A4 page per segment (`.pdf`).
    Pdf,
    /// One PNG image per A4 page (`.png`).
    Png,
}

impl Format {
    /// The format named `name` (`html`, `pdf`, `png`, any case).
    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "html" | "htm" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            "png" => Some(Format::Png),
            _ => None,
        }
    }

    /// The format `path`'s extension names, or an error saying which extensions are known.
    pub fn of_path(path: &Path) -> Result<Format, BoardError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        Format::parse(ext).ok_or_else(|| {
            BoardError::Format(format!(
                "cannot tell the format of {}: name it .html, .pdf or .png, or pass --format html|pdf|png",
                path.display()
            ))
        })
    }
}

/// The file names of `pages` PNG pages for `out`: `out` itself for one page, else
/// `stem-01.png`, `stem-02.png`, … beside it (as many digits as the last number needs).
pub fn png_page_paths(out: &Path, pages: usize) -> Vec<PathBuf> {
    if pages == 1 {
        return vec![out.to_path_buf()];
    }
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "board".into());
    let ext = out
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "png".into());
    let digits = pages.to_string().len().max(2);
    (1..=pages)
        .map(|i| out.with_file_name(format!("{stem}-{i:0digits$}.{ext}")))
        .collect()
}

/// Keeps only segment `id` of the board.
pub fn only_segment(board: &NoticeBoard, id: &str) -> Result<NoticeBoard, BoardError> {
    let segments: Vec<_> = board
        .segments
        .iter()
        .filter(|s| s.segment == id)
        .cloned()
        .collect();
    if segments.is_empty() {
        return Err(BoardError::UnknownSegment(id.to_string()));
    }
    Ok(NoticeBoard {
        street: board.street.clone(),
        segments,
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BoardError> {
    std::fs::write(path, bytes).map_err(|source| BoardError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `board` to `out` in `format` (by default the one `out`'s extension names), with the
/// font at `font` or else the first of the well-known system fonts (PDF and PNG only), PNG at
/// `dpi`. Returns the files written.
pub fn write_board(
    board: &NoticeBoard,
    out: &Path,
    format: Option<Format>,
    font: Option<&Path>,
    dpi: u32,
) -> Result<Vec<PathBuf>, BoardError> {
    let format = match format {
        Some(f) => f,
        None => Format::of_path(out)?,
    };
    match format {
        Format::Html => {
            write_file(out, board.html().as_bytes())?;
            Ok(vec![out.to_path_buf()])
        }
        Format::Pdf => {
            let font = BoardFont::find(font)?;
            write_file(out, &render_pdf(board, &font)?)?;
            Ok(vec![out.to_path_buf()])
        }
        Format::Png => {
            let font = BoardFont::find(font)?;
            let pages = render_png(board, &font, dpi)?;
            let paths = png_page_paths(out, pages.len());
            for (path, png) in paths.iter().zip(&pages) {
                write_file(path, png)?;
            }
            Ok(paths)
        }
    }
}
