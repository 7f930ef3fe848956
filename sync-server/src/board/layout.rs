//! Lays a notice board out on A4 portrait pages, as a display list both the rasteriser and the
//! PDF writer draw from, so the image and the PDF show the same page.
//!
//! Units are PDF points (1/72 inch), origin top left, y down. Every segment starts a page:
//! a red band with the street's title, the segment's name, patrol range, road and community,
//! then a table of its responsible people (role, name, phone, duties). Text wraps inside its
//! column (between any two Chinese characters, never inside a run of Latin letters or digits
//! unless it is wider than the column, never before closing punctuation). Rows that do not fit
//! go on a continuation page with the header repeated; a row taller than a whole page is split
//! between lines. Nothing is drawn outside the page's margins.

use super::font::BoardFont;
use xiangying_model::report::{NoticeBoard, SegmentBoard};

/// A4 width, points.
pub const PAGE_W: f32 = 595.276;
/// A4 height, points.
pub const PAGE_H: f32 = 841.89;
/// The margin on every side, points (about 12 mm).
pub const MARGIN: f32 = 34.0;

const PAD: f32 = 16.0;
const BAND_H: f32 = 62.0;
const TITLE_SIZE: f32 = 26.0;
const NAME_SIZE: f32 = 19.0;
const INFO_SIZE: f32 = 11.5;
const BODY_SIZE: f32 = 11.0;
const LINE: f32 = 1.45;
const CELL_PAD_X: f32 = 6.0;
const CELL_PAD_Y: f32 = 5.0;
const FOOTER_H: f32 = 30.0;
const FOOT_SIZE: f32 = 8.5;
/// Header lines (segment name, patrol range) kept at most, so a runaway name cannot push the
/// table off the page.
const MAX_HEAD_LINES: usize = 3;
/// Column shares of the table's width: role, name, phone, duties.
const COLUMNS: [f32; 4] = [0.25, 0.14, 0.20, 0.41];
const HEADINGS: [&str; 4] = ["职责", "姓名", "联系电话", "职责内容"];

/// The slogan printed at the foot of every page.
pub const SLOGAN: &str = "网格化管理有呼必应 · 精细化治理一呼百应 · 社会化治理全民响应";

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// The board's red.
pub const RED: Rgb = Rgb(0xb7, 0x1c, 0x1c);
const INK: Rgb = Rgb(0x11, 0x11, 0x11);
const GREY: Rgb = Rgb(0x55, 0x55, 0x55);
const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);
const PINK: Rgb = Rgb(0xf6, 0xe6, 0xe6);

/// One glyph of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Glyph {
    /// The face's glyph id.
    pub id: u16,
    /// Offset from the run's start, points.
    pub x: f32,
    /// The character it draws (for the PDF's text extraction).
    pub ch: char,
}

/// A line of text at one size and colour.
#[derive(Debug, Clone, PartialEq)]
pub struct TextRun {
    /// Left end, points.
    pub x: f32,
    /// Baseline, points from the top.
    pub baseline: f32,
    /// Font size (the em), points.
    pub size: f32,
    /// Fill colour.
    pub color: Rgb,
    /// Drawn heavier (the font has one weight; strokes are thickened).
    pub bold: bool,
    /// The glyphs, positioned by their advances.
    pub glyphs: Vec<Glyph>,
    /// Total advance, points.
    pub width: f32,
    /// The text.
    pub text: String,
}

/// One thing drawn on a page.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A filled rectangle.
    Fill {
        /// Left, points.
        x: f32,
        /// Top, points.
        y: f32,
        /// Width, points.
        w: f32,
        /// Height, points.
        h: f32,
        /// Colour.
        color: Rgb,
    },
    /// A straight line (only horizontal and vertical ones are made).
    Line {
        /// Start x, points.
        x0: f32,
        /// Start y, points.
        y0: f32,
        /// End x, points.
        x1: f32,
        /// End y, points.
        y1: f32,
        /// Stroke width, points.
        width: f32,
        /// Colour.
        color: Rgb,
    },
    /// Text.
    Text(TextRun),
}

impl Item {
    /// The area the item covers: (left, top, right, bottom), points. For text, the line box
    /// from ascent to descent.
    pub fn bounds(&self, font: &BoardFont) -> (f32, f32, f32, f32) {
        match self {
            Item::Fill { x, y, w, h, .. } => (*x, *y, x + w, y + h),
            Item::Line {
                x0,
                y0,
                x1,
                y1,
                width,
                ..
            } => {
                // Butt ends: the width spreads across the line, not past its ends.
                let half = width / 2.0;
                let (hx, hy) = if (y0 - y1).abs() < f32::EPSILON {
                    (0.0, half)
                } else {
                    (half, 0.0)
                };
                (
                    x0.min(*x1) - hx,
                    y0.min(*y1) - hy,
                    x0.max(*x1) + hx,
                    y0.max(*y1) + hy,
                )
            }
            Item::Text(t) => (
                t.x,
                t.baseline - font.ascent() * t.size,
                t.x + t.width,
                t.baseline - font.descent() * t.size,
            ),
        }
    }
}

/// One A4 page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The segment the page shows.
    pub segment: String,
    /// What is drawn, in painting order.
    pub items: Vec<Item>,
}

/// A laid-out board.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document's title: the street's name and 街长公示栏.
    pub title: String,
    /// The pages, in segment order.
    pub pages: Vec<Page>,
}

/// A line of wrapped text.
struct Wrapped {
    text: String,
    width_em: f32,
}

/// Closing punctuation: never starts a line.
fn closing(c: char) -> bool {
    "，。、；：？！）》」』】〕”’…·,.;:!?)]}%".contains(c)
}

/// Opening punctuation: never ends a line.
fn opening(c: char) -> bool {
    "（《「『【〔“‘([{".contains(c)
}

/// Characters kept together in a run (Latin words, numbers, phone numbers).
fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-+_@./#".contains(c)
}

/// Splits text into units that are never broken (unless wider than a line): a Chinese
/// character with the punctuation that must stay beside it, a Latin word or number, a space.
fn units(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending_open = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let c = if c.is_whitespace() && c != '\u{3000}' {
            ' '
        } else {
            c
        };
        if c == ' ' {
            if !pending_open.is_empty() {
                out.push(std::mem::take(&mut pending_open));
            }
            out.push(" ".into());
            continue;
        }
        if opening(c) {
            pending_open.push(c);
            continue;
        }
        if closing(c) {
            match out.last_mut() {
                Some(last) if pending_open.is_empty() && last != " " => last.push(c),
                _ => {
                    pending_open.push(c);
                    out.push(std::mem::take(&mut pending_open));
                }
            }
            continue;
        }
        let mut unit = std::mem::take(&mut pending_open);
        unit.push(c);
        if word_char(c) {
            while let Some(&n) = chars.peek() {
                if !word_char(n) {
                    break;
                }
                unit.push(n);
                chars.next();
            }
        }
        out.push(unit);
    }
    if !pending_open.is_empty() {
        out.push(pending_open);
    }
    out
}

/// Wraps `text` into lines no wider than `max_em` ems.
fn wrap(font: &BoardFont, text: &str, max_em: f32) -> Vec<Wrapped> {
    let mut lines: Vec<Wrapped> = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0.0f32;
    let flush = |lines: &mut Vec<Wrapped>, cur: &mut String, cur_w: &mut f32| {
        let trimmed = cur.trim_end();
        if !trimmed.is_empty() {
            lines.push(Wrapped {
                text: trimmed.to_string(),
                width_em: font.width(trimmed, 1.0),
            });
        }
        cur.clear();
        *cur_w = 0.0;
    };
    for unit in units(text) {
        if unit == " " && cur.is_empty() {
            continue;
        }
        let w = font.width(&unit, 1.0);
        if cur_w + w <= max_em || cur.trim_end().is_empty() && w <= max_em {
            cur.push_str(&unit);
            cur_w += w;
            continue;
        }
        if w <= max_em {
            flush(&mut lines, &mut cur, &mut cur_w);
            if unit != " " {
                cur.push_str(&unit);
                cur_w = w;
            }
            continue;
        }
        // Wider than a line on its own: break it between characters.
        for c in unit.chars() {
            let cw = font.width(c.encode_utf8(&mut [0; 4]), 1.0);
            if cur_w + cw > max_em && !cur.is_empty() {
                // Closing punctuation takes the character before it to the new line.
                let carry = if closing(c) && cur.chars().count() > 1 {
                    cur.pop()
                } else {
                    None
                };
                flush(&mut lines, &mut cur, &mut cur_w);
                if let Some(p) = carry {
                    cur.push(p);
                    cur_w = font.width(p.encode_utf8(&mut [0; 4]), 1.0);
                }
            }
            cur.push(c);
            cur_w += cw;
        }
    }
    flush(&mut lines, &mut cur, &mut cur_w);
    if lines.is_empty() {
        lines.push(Wrapped {
            text: String::new(),
            width_em: 0.0,
        });
    }
    lines
}

/// Keeps at most `max` lines, ending the last kept one with an ellipsis when some are cut.
fn cap_lines(font: &BoardFont, mut lines: Vec<Wrapped>, max: usize, max_em: f32) -> Vec<Wrapped> {
    if lines.len() <= max {
        return lines;
    }
    lines.truncate(max);
    if let Some(last) = lines.last_mut() {
        let mut t = last.text.clone();
        while !t.is_empty() && font.width(&t, 1.0) + font.width("…", 1.0) > max_em {
            t.pop();
        }
        t.push('…');
        last.width_em = font.width(&t, 1.0);
        last.text = t;
    }
    lines
}

/// A text run of `text` with its left end at `x`.
fn run(
    font: &BoardFont,
    text: &str,
    x: f32,
    baseline: f32,
    size: f32,
    color: Rgb,
    bold: bool,
) -> TextRun {
    let mut glyphs = Vec::with_capacity(text.len() / 2);
    let mut pen = 0.0;
    for ch in text.chars() {
        let id = font.glyph(ch);
        glyphs.push(Glyph { id, x: pen, ch });
        pen += font.advance(id) * size;
    }
    TextRun {
        x,
        baseline,
        size,
        color,
        bold,
        glyphs,
        width: pen,
        text: text.to_string(),
    }
}

/// The baseline of a line of `size` text centred in a line box of `height` starting at `top`.
fn baseline_in(font: &BoardFont, top: f32, height: f32, size: f32) -> f32 {
    let ink = (font.ascent() - font.descent()) * size;
    top + (height - ink) / 2.0 + font.ascent() * size
}

/// One table row: each cell's wrapped lines.
struct Row {
    cells: [Vec<String>; 4],
}

impl Row {
    fn lines(&self) -> usize {
        self.cells.iter().map(Vec::len).max().unwrap_or(1).max(1)
    }
}

/// Lays pages out.
struct Layout<'a> {
    font: &'a BoardFont,
    title: String,
    pages: Vec<Page>,
}

/// Content box: left, right, top, bottom of what may be drawn inside the frame.
const LEFT: f32 = MARGIN + PAD;
const RIGHT: f32 = PAGE_W - MARGIN - PAD;
const BODY_BOTTOM: f32 = PAGE_H - MARGIN - FOOTER_H;

/// The left edge of table column `i`, points.
pub(crate) fn col_x(i: usize) -> f32 {
    let w = RIGHT - LEFT;
    LEFT + COLUMNS[..i].iter().sum::<f32>() * w
}

fn col_w(i: usize) -> f32 {
    COLUMNS[i] * (RIGHT - LEFT)
}

impl Layout<'_> {
    fn line_h(size: f32) -> f32 {
        size * LINE
    }

    /// Starts a page for `seg`: frame, band, title, segment heading, and for the first page
    /// the patrol range, road and community. Returns the y where the table starts.
    fn start_page(&mut self, seg: &SegmentBoard, continued: bool) -> f32 {
        let font = self.font;
        let mut items = vec![Item::Fill {
            x: MARGIN,
            y: MARGIN,
            w: PAGE_W - 2.0 * MARGIN,
            h: BAND_H,
            color: RED,
        }];
        items.extend(frame(
            MARGIN,
            MARGIN,
            PAGE_W - MARGIN,
            PAGE_H - MARGIN,
            2.5,
            RED,
        ));
        // Title, shrunk to fit a long street name.
        let room = RIGHT - LEFT;
        let natural = font.width(&self.title, TITLE_SIZE);
        let size = if natural > room {
            TITLE_SIZE * room / natural
        } else {
            TITLE_SIZE
        };
        let w = font.width(&self.title, size);
        let base = baseline_in(font, MARGIN, BAND_H, size);
        items.push(Item::Text(run(
            font,
            &self.title,
            (PAGE_W - w) / 2.0,
            base,
            size,
            WHITE,
            true,
        )));

        let mut y = MARGIN + BAND_H + 14.0;
        let name = if continued {
            format!("{}（续）", seg.name)
        } else {
            seg.name.clone()
        };
        let lh = Self::line_h(NAME_SIZE) * 0.9;
        let room_em = room / NAME_SIZE;
        for l in cap_lines(font, wrap(font, &name, room_em), MAX_HEAD_LINES, room_em) {
            let b = baseline_in(font, y, lh, NAME_SIZE);
            items.push(Item::Text(run(
                font, &l.text, LEFT, b, NAME_SIZE, RED, true,
            )));
            y += lh;
        }
        y += 4.0;
        if !continued {
            let mut info = vec![format!(
                "巡查范围：{}，全长约 {} 米",
                seg.name, seg.length_m
            )];
            let mut place = Vec::new();
            if let Some(r) = &seg.road {
                place.push(format!("所在道路：{r}"));
            }
            if let Some(c) = &seg.community {
                place.push(format!("责任社区：{c}"));
            }
            if !place.is_empty() {
                info.push(place.join("　　"));
            }
            let lh = Self::line_h(INFO_SIZE);
            let room_em = room / INFO_SIZE;
            for text in info {
                for l in cap_lines(font, wrap(font, &text, room_em), MAX_HEAD_LINES, room_em) {
                    let b = baseline_in(font, y, lh, INFO_SIZE);
                    items.push(Item::Text(run(
                        font, &l.text, LEFT, b, INFO_SIZE, INK, false,
                    )));
                    y += lh;
                }
            }
        }
        y += 8.0;
        self.pages.push(Page {
            segment: seg.segment.clone(),
            items,
        });
        y
    }

    fn push(&mut self, item: Item) {
        if let Some(p) = self.pages.last_mut() {
            p.items.push(item);
        }
    }

    /// Draws one row's cells (`lines` lines) at `top`, with an optional background.
    fn draw_row(&mut self, cells: &[Vec<String>; 4], top: f32, h: f32, header: bool) {
        if header {
            self.push(Item::Fill {
                x: LEFT,
                y: top,
                w: RIGHT - LEFT,
                h,
                color: PINK,
            });
        }
        let lh = Self::line_h(BODY_SIZE);
        for (i, cell) in cells.iter().enumerate() {
            for (k, text) in cell.iter().enumerate() {
                let b = baseline_in(self.font, top + CELL_PAD_Y + k as f32 * lh, lh, BODY_SIZE);
                let color = if header { RED } else { INK };
                let r = run(
                    self.font,
                    text,
                    col_x(i) + CELL_PAD_X,
                    b,
                    BODY_SIZE,
                    color,
                    header,
                );
                self.push(Item::Text(r));
            }
        }
    }

    /// Closes the table part on the current page: outer frame, row rules, column rules.
    fn rule_table(&mut self, top: f32, rows: &[f32], bottom: f32) {
        for &y in rows {
            self.push(hline(LEFT, RIGHT, y, 0.6, GREY));
        }
        for i in 1..4 {
            self.push(vline(col_x(i), top, bottom, 0.6, GREY));
        }
        for item in frame(LEFT, top, RIGHT, bottom, 0.9, GREY) {
            self.push(item);
        }
    }

    fn header_cells() -> [Vec<String>; 4] {
        HEADINGS.map(|h| vec![h.to_string()])
    }

    /// Places the table header at `y`; returns the y below it.
    fn table_header(&mut self, y: f32) -> f32 {
        let h = Self::line_h(BODY_SIZE) + 2.0 * CELL_PAD_Y;
        self.draw_row(&Self::header_cells(), y, h, true);
        y + h
    }

    fn segment(&mut self, seg: &SegmentBoard) {
        let font = self.font;
        let mut y = self.start_page(seg, false);
        if seg.people.is_empty() {
            let lh = Self::line_h(INFO_SIZE);
            let b = baseline_in(font, y, lh, INFO_SIZE);
            self.push(Item::Text(run(
                font,
                "暂无责任人",
                LEFT,
                b,
                INFO_SIZE,
                GREY,
                false,
            )));
            return;
        }
        let wrap_cell = |i: usize, text: &str| -> Vec<String> {
            let room = (col_w(i) - 2.0 * CELL_PAD_X) / BODY_SIZE;
            wrap(font, text, room).into_iter().map(|l| l.text).collect()
        };
        let mut queue: std::collections::VecDeque<Row> = seg
            .people
            .iter()
            .map(|e| Row {
                cells: [
                    wrap_cell(0, &e.role),
                    wrap_cell(1, &e.name),
                    wrap_cell(2, &e.phone),
                    wrap_cell(3, &e.duty),
                ],
            })
            .collect();
        let lh = Self::line_h(BODY_SIZE);
        let mut top = y;
        y = self.table_header(y);
        let mut rules = vec![y];
        let mut placed = 0usize;
        let mut continued = false;
        while let Some(row) = queue.pop_front() {
            let h = row.lines() as f32 * lh + 2.0 * CELL_PAD_Y;
            if y + h <= BODY_BOTTOM {
                self.draw_row(&row.cells, y, h, false);
                y += h;
                rules.push(y);
                placed += 1;
                continue;
            }
            let fit = ((BODY_BOTTOM - y - 2.0 * CELL_PAD_Y) / lh).floor();
            if placed > 0 || (fit < 1.0 && !continued) {
                // Start a continuation page and try the row again there.
                rules.pop();
                self.rule_table(top, &rules, y);
                top = self.start_page(seg, true);
                y = self.table_header(top);
                rules = vec![y];
                placed = 0;
                continued = true;
                queue.push_front(row);
                continue;
            }
            // Taller than a whole page: split it between lines.
            // A continuation page has the most room a page gives: at least one line fits.
            let k = (fit.max(1.0)) as usize;
            let mut head: [Vec<String>; 4] = Default::default();
            let mut tail: [Vec<String>; 4] = Default::default();
            for (i, cell) in row.cells.into_iter().enumerate() {
                let cut = k.min(cell.len());
                let mut cell = cell;
                tail[i] = cell.split_off(cut);
                head[i] = cell;
            }
            queue.push_front(Row { cells: tail });
            queue.push_front(Row { cells: head });
        }
        rules.pop();
        self.rule_table(top, &rules, y);
    }

    /// Adds the footer (slogan and page number) to every page.
    fn footers(&mut self) {
        let font = self.font;
        let n = self.pages.len();
        for (i, page) in self.pages.iter_mut().enumerate() {
            let top = PAGE_H - MARGIN - FOOTER_H;
            page.items.push(hline(LEFT, RIGHT, top + 4.0, 0.5, RED));
            let b = baseline_in(font, top + 6.0, FOOTER_H - 8.0, FOOT_SIZE);
            let slogan_w = font.width(SLOGAN, FOOT_SIZE);
            page.items.push(Item::Text(run(
                font, SLOGAN, LEFT, b, FOOT_SIZE, GREY, false,
            )));
            let number = format!("第 {} / {} 页", i + 1, n);
            let w = font.width(&number, FOOT_SIZE);
            if LEFT + slogan_w + 12.0 <= RIGHT - w {
                page.items.push(Item::Text(run(
                    font,
                    &number,
                    RIGHT - w,
                    b,
                    FOOT_SIZE,
                    GREY,
                    false,
                )));
            }
        }
    }
}

fn hline(x0: f32, x1: f32, y: f32, width: f32, color: Rgb) -> Item {
    Item::Line {
        x0,
        y0: y,
        x1,
        y1: y,
        width,
        color,
    }
}

fn vline(x: f32, y0: f32, y1: f32, width: f32, color: Rgb) -> Item {
    Item::Line {
        x0: x,
        y0,
        x1: x,
        y1,
        width,
        color,
    }
}

/// A rectangle's outline, its strokes inside (left, top, right, bottom).
fn frame(l: f32, t: f32, r: f32, b: f32, width: f32, color: Rgb) -> [Item; 4] {
    let h = width / 2.0;
    [
        hline(l, r, t + h, width, color),
        hline(l, r, b - h, width, color),
        vline(l + h, t, b, width, color),
        vline(r - h, t, b, width, color),
    ]
}

/// Lays out the whole board: one page per segment, more where its people do not fit.
pub fn layout(board: &NoticeBoard, font: &BoardFont) -> Document {
    let title = format!("{}街长公示栏", board.street);
    let mut l = Layout {
        font,
        title: title.clone(),
        pages: Vec::new(),
    };
    for seg in &board.segments {
        l.segment(seg);
    }
    l.footers();
    Document {
        title,
        pages: l.pages,
    }
}

/// Wrapping, for the tests.
#[cfg(test)]
pub(crate) mod tests_api {
    use super::BoardFont;

    /// `text` wrapped into lines of at most `max_em` ems.
    pub(crate) fn wrap(font: &BoardFont, text: &str, max_em: f32) -> Vec<String> {
        super::wrap(font, text, max_em)
            .into_iter()
            .map(|l| l.text)
            .collect()
    }
}
