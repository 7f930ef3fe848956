//! Writes laid-out pages as a PDF with real text.
//!
//! The font is subset to the glyphs the board uses (`subsetter`) and embedded once as a
//! Type 0 font with Identity-H encoding over a CID font: a TrueType face as `CIDFontType2`
//! (`FontFile2`, CID = new glyph id), a CFF face such as Noto Sans CJK as `CIDFontType0` (its
//! bare CFF program as `FontFile3`/`CIDFontType0C`). A `ToUnicode` map makes the Chinese text
//! searchable and copyable; the `W` array holds the same advances the layout used, so the
//! viewer places every glyph where the layout did. Streams are deflated.

use super::BoardError;
use super::font::BoardFont;
use super::layout::{Document, Item, PAGE_H, PAGE_W, Rgb};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, TextRenderingMode};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::collections::HashMap;
use subsetter::GlyphRemapper;

const FONT_NAME: Name<'static> = Name(b"F1");

fn identity() -> SystemInfo<'static> {
    SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// The glyphs a document uses, renumbered for the subset, with their text and advances.
struct Glyphs {
    remapper: GlyphRemapper,
    /// New id → the character it was drawn for.
    chars: HashMap<u16, char>,
}

fn collect(doc: &Document) -> Glyphs {
    let mut remapper = GlyphRemapper::new();
    let mut chars = HashMap::new();
    for page in &doc.pages {
        for item in &page.items {
            if let Item::Text(run) = item {
                for g in &run.glyphs {
                    let new = remapper.remap(g.id);
                    chars.entry(new).or_insert(g.ch);
                }
            }
        }
    }
    Glyphs { remapper, chars }
}

/// A subset tag (six capitals) from the glyph set, as PDF asks of subset font names.
fn subset_tag(glyphs: &GlyphRemapper) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for g in glyphs.remapped_gids() {
        h ^= u64::from(g);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..6)
        .map(|i| char::from(b'A' + ((h >> (i * 5)) % 26) as u8))
        .collect()
}

fn base_font_name(font: &BoardFont, glyphs: &GlyphRemapper) -> String {
    let ps: String = font
        .postscript_name()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let ps = if ps.is_empty() {
        "XiangyingCJK".to_string()
    } else {
        ps
    };
    format!("{}+{ps}", subset_tag(glyphs))
}

fn set_fill(c: &mut Content, color: Rgb) {
    c.set_fill_rgb(
        f32::from(color.0) / 255.0,
        f32::from(color.1) / 255.0,
        f32::from(color.2) / 255.0,
    );
}

fn set_stroke(c: &mut Content, color: Rgb) {
    c.set_stroke_rgb(
        f32::from(color.0) / 255.0,
        f32::from(color.1) / 255.0,
        f32::from(color.2) / 255.0,
    );
}

/// The content stream of one page, y flipped to PDF's bottom-left origin.
fn content(items: &[Item], glyphs: &GlyphRemapper) -> Vec<u8> {
    let mut c = Content::new();
    for item in items {
        match item {
            Item::Fill { x, y, w, h, color } => {
                set_fill(&mut c, *color);
                c.rect(*x, PAGE_H - y - h, *w, *h).fill_nonzero();
            }
            Item::Line {
                x0,
                y0,
                x1,
                y1,
                width,
                color,
            } => {
                set_stroke(&mut c, *color);
                c.set_line_width(*width)
                    .move_to(*x0, PAGE_H - y0)
                    .line_to(*x1, PAGE_H - y1)
                    .stroke();
            }
            Item::Text(run) => {
                let mut bytes = Vec::with_capacity(run.glyphs.len() * 2);
                for g in &run.glyphs {
                    let cid = glyphs.get(g.id).unwrap_or(0);
                    bytes.extend_from_slice(&cid.to_be_bytes());
                }
                set_fill(&mut c, run.color);
                c.begin_text();
                if run.bold {
                    set_stroke(&mut c, run.color);
                    c.set_line_width(run.size * 0.035)
                        .set_text_rendering_mode(TextRenderingMode::FillStroke);
                } else {
                    c.set_text_rendering_mode(TextRenderingMode::Fill);
                }
                c.set_font(FONT_NAME, run.size)
                    .next_line(run.x, PAGE_H - run.baseline)
                    .show(Str(&bytes))
                    .end_text();
            }
        }
    }
    c.finish().into_vec()
}

/// The PDF of a laid-out document, the font subset and embedded.
pub fn write(doc: &Document, font: &BoardFont) -> Result<Vec<u8>, BoardError> {
    let glyphs = collect(doc);
    let subset = subsetter::subset(font.data(), font.index(), &glyphs.remapper)
        .map_err(|e| BoardError::Encode(format!("subsetting the font {}: {e}", font.source())))?;
    // A CFF face is embedded as its bare CFF program; a TrueType face whole.
    let cff = ttf_parser::RawFace::parse(&subset, 0)
        .ok()
        .and_then(|f| f.table(ttf_parser::Tag::from_bytes(b"CFF ")))
        .map(<[u8]>::to_vec);
    let is_cff = cff.is_some();
    let font_program = deflate(cff.as_deref().unwrap_or(&subset));

    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog = alloc();
    let tree = alloc();
    let info = alloc();
    let type0 = alloc();
    let cid = alloc();
    let descriptor = alloc();
    let to_unicode = alloc();
    let program = alloc();
    let pages: Vec<(Ref, Ref)> = doc.pages.iter().map(|_| (alloc(), alloc())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree).lang(TextStr("zh-CN"));
    pdf.document_info(info)
        .title(TextStr(&doc.title))
        .creator(TextStr("Xiangying (响应) notice board"));
    let count =
        i32::try_from(pages.len()).map_err(|_| BoardError::Encode("too many pages".into()))?;
    pdf.pages(tree)
        .kids(pages.iter().map(|(p, _)| *p))
        .count(count);

    for (page, (page_ref, content_ref)) in doc.pages.iter().zip(&pages) {
        let mut p = pdf.page(*page_ref);
        p.parent(tree)
            .media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .contents(*content_ref);
        p.resources().fonts().pair(FONT_NAME, type0);
        p.finish();
        let data = deflate(&content(&page.items, &glyphs.remapper));
        pdf.stream(*content_ref, &data).filter(Filter::FlateDecode);
    }

    // The font: Type 0 over one CID font, its descriptor, program and Unicode map.
    let base = base_font_name(font, &glyphs.remapper);
    let type0_name = if is_cff {
        format!("{base}-Identity-H")
    } else {
        base.clone()
    };
    pdf.type0_font(type0)
        .base_font(Name(type0_name.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(to_unicode);

    let widths: Vec<f32> = glyphs
        .remapper
        .remapped_gids()
        .map(|old| font.advance(old) * 1000.0)
        .collect();
    let mut cid_font = pdf.cid_font(cid);
    cid_font
        .subtype(if is_cff {
            CidFontType::Type0
        } else {
            CidFontType::Type2
        })
        .base_font(Name(base.as_bytes()))
        .system_info(identity())
        .font_descriptor(descriptor)
        .default_width(0.0);
    if !is_cff {
        cid_font.cid_to_gid_map_predefined(Name(b"Identity"));
    }
    cid_font.widths().consecutive(0, widths);
    cid_font.finish();

    let [x0, y0, x1, y1] = font.bbox();
    let mut d = pdf.font_descriptor(descriptor);
    d.name(Name(base.as_bytes()))
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(
            x0 * 1000.0,
            y0 * 1000.0,
            x1 * 1000.0,
            y1 * 1000.0,
        ))
        .italic_angle(0.0)
        .ascent(font.ascent() * 1000.0)
        .descent(font.descent() * 1000.0)
        .cap_height(font.ascent() * 1000.0)
        .stem_v(80.0);
    if is_cff {
        d.font_file3(program);
    } else {
        d.font_file2(program);
    }
    d.finish();

    let mut map = pdf_writer::types::UnicodeCmap::new(Name(b"Xiangying-UCS"), identity());
    let mut by_cid: Vec<(&u16, &char)> = glyphs.chars.iter().collect();
    by_cid.sort();
    for (cid, ch) in by_cid {
        if *cid != 0 {
            map.pair(*cid, *ch);
        }
    }
    let map = deflate(&map.finish().into_vec());
    let mut cmap = pdf.cmap(to_unicode, &map);
    cmap.filter(Filter::FlateDecode);
    cmap.finish();

    let mut s = pdf.stream(program, &font_program);
    s.filter(Filter::FlateDecode);
    if is_cff {
        s.pair(Name(b"Subtype"), Name(b"CIDFontType0C"));
    }
    s.finish();

    Ok(pdf.finish())
}
