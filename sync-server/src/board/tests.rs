//! Tests of the notice board's print output: the font search and its errors, wrapping and
//! pagination (nothing drawn outside the page, however many people), the PNG pages (size,
//! text drawn) and the PDF (structure, page count, embedded font, Unicode map).
//!
//! They need a CJK font from the well-known system paths: `scripts/test` installs
//! `fonts-wqy-microhei`.

use super::export::{Format, only_segment, png_page_paths};
use super::font::{BoardFont, DEFAULT_FONT_PATHS, default_paths};
use super::layout::{self, Document, Item, MARGIN, PAGE_H, PAGE_W};
use super::raster::page_size_px;
use super::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use xiangying_model::org::{sample, zhenxing};
use xiangying_model::report::{NoticeBoard, NoticeEntry, SegmentBoard};

fn font() -> &'static BoardFont {
    static FONT: OnceLock<BoardFont> = OnceLock::new();
    FONT.get_or_init(|| {
        BoardFont::find(None).unwrap_or_else(|e| {
            panic!("{e}\n(scripts/test installs fonts-wqy-microhei for these tests)")
        })
    })
}

fn sample_board() -> NoticeBoard {
    NoticeBoard::of(&sample::roster().unwrap())
}

fn zhenxing_board() -> NoticeBoard {
    NoticeBoard::of(&zhenxing::roster())
}

/// Every item of every page lies inside the page's margins.
fn assert_inside(doc: &Document) {
    let eps = 0.01;
    for (n, page) in doc.pages.iter().enumerate() {
        for item in &page.items {
            let (l, t, r, b) = item.bounds(font());
            assert!(
                l >= MARGIN - eps && r <= PAGE_W - MARGIN + eps,
                "page {n}: {item:?} sticks out sideways ({l}..{r})"
            );
            assert!(
                t >= MARGIN - eps && b <= PAGE_H - MARGIN + eps,
                "page {n}: {item:?} sticks out vertically ({t}..{b})"
            );
        }
    }
}

fn texts(page: &layout::Page) -> Vec<&str> {
    page.items
        .iter()
        .filter_map(|i| match i {
            Item::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect()
}

fn person(i: usize, duty: &str) -> NoticeEntry {
    NoticeEntry {
        role: format!("网格员（第{i}网格）"),
        person: format!("p{i}"),
        name: format!("张{i:03}"),
        phone: format!("139-{i:04}-0000"),
        duty: duty.into(),
    }
}

fn one_segment(people: Vec<NoticeEntry>) -> NoticeBoard {
    NoticeBoard {
        street: "振兴街道".into(),
        segments: vec![SegmentBoard {
            segment: "s1".into(),
            name: "兴隆大街一段".into(),
            road: Some("兴隆大街".into()),
            community: Some("兴隆社区".into()),
            length_m: 820,
            people,
        }],
    }
}

// ---------------------------------------------------------------- fonts

#[test]
fn a_missing_font_is_a_clear_error_naming_the_paths_tried() {
    let tried = vec![
        PathBuf::from("/nonexistent/a/NotoSansCJK-Regular.ttc"),
        PathBuf::from("/nonexistent/b/wqy-microhei.ttc"),
    ];
    let err = BoardFont::find_in(&tried).unwrap_err();
    assert!(matches!(err, BoardError::NoFont { .. }));
    let msg = err.to_string();
    for p in &tried {
        assert!(msg.contains(&p.display().to_string()), "{msg}");
    }
    assert!(
        msg.contains("fonts-noto-cjk") && msg.contains("--font"),
        "{msg}"
    );

    let err = BoardFont::find(Some(Path::new("/nonexistent/font.ttc"))).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/font.ttc"), "{err}");

    let err = BoardFont::from_bytes(b"not a font at all".to_vec(), "junk.ttf").unwrap_err();
    assert!(err.to_string().contains("junk.ttf"), "{err}");
    assert!(err.to_string().contains("not a TrueType"), "{err}");

    // The whole default list is named when nothing is found.
    let msg = BoardError::NoFont {
        tried: default_paths(),
    }
    .to_string();
    assert!(DEFAULT_FONT_PATHS.iter().all(|p| msg.contains(p)));
}

#[test]
fn a_font_without_chinese_glyphs_is_refused() {
    // DejaVu ships with the machine image; skip quietly where it is absent.
    let latin = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    if latin.is_file() {
        let err = BoardFont::load(latin).unwrap_err();
        assert!(err.to_string().contains("no Chinese glyphs"), "{err}");
    }
}

#[test]
fn every_installed_default_font_loads_and_prints() {
    let board = only_segment(&zhenxing_board(), "s01").unwrap();
    let mut found = 0;
    for path in default_paths().iter().filter(|p| p.is_file()) {
        let font = BoardFont::load(path).unwrap();
        found += 1;
        assert!(font.glyph('街') != 0, "{path:?}");
        if path.extension().is_some_and(|e| e == "ttc") {
            // A collection: a proportional Chinese face was picked, Simplified if there is one.
            assert!(!font.family().contains("Mono"), "{}", font.family());
        }
        if font.family().starts_with("Noto Sans CJK") {
            assert_eq!(font.family(), "Noto Sans CJK SC");
        }
        if path.ends_with("wqy-microhei.ttc") {
            assert_eq!((font.family(), font.index()), ("WenQuanYi Micro Hei", 0));
        }
        let pdf = render_pdf(&board, &font).unwrap();
        check_pdf(&pdf, 1);
        let pngs = render_png(&board, &font, 72).unwrap();
        assert_eq!(pngs.len(), 1);
    }
    assert!(
        found > 0,
        "no CJK font installed: {}",
        default_paths().len()
    );
}

// ---------------------------------------------------------------- layout

#[test]
fn wrapping_keeps_numbers_whole_and_punctuation_off_line_starts() {
    let f = font();
    let text = "营业时间巡查门前及路段，小事即时处置，电话 138-0000-0000，其余拍照转交网格员。";
    for width in [3.0, 5.0, 7.5, 11.0, 40.0] {
        let lines = super::layout::tests_api::wrap(f, text, width);
        let joined: String = lines.concat();
        assert_eq!(
            joined.replace(' ', ""),
            text.replace(' ', ""),
            "width {width}"
        );
        for l in &lines {
            assert!(f.width(l, 1.0) <= width + 1e-3, "{l:?} wider than {width}");
            let first = l.chars().next().unwrap();
            assert!(
                !"，。、；：）".contains(first),
                "{l:?} starts with punctuation"
            );
        }
        if width >= 11.0 {
            assert!(
                lines.iter().any(|l| l.contains("138-0000-0000")),
                "{lines:?}"
            );
        }
    }
}

#[test]
fn the_sample_board_is_one_page_with_everyone_on_it() {
    let board = sample_board();
    let doc = layout::layout(&board, font());
    assert_eq!(doc.pages.len(), 1);
    assert_eq!(page_count(&board, font()), 1);
    assert_inside(&doc);
    let on_page = texts(&doc.pages[0]).join("\n");
    assert!(on_page.contains("街长公示栏"));
    for e in &board.segments[0].people {
        assert!(on_page.contains(&e.name), "{} missing", e.name);
        assert!(on_page.contains(&e.phone), "{} missing", e.phone);
    }
}

#[test]
fn every_zhenxing_segment_fits_its_page() {
    let board = zhenxing_board();
    assert_eq!(board.segments.len(), zhenxing::SEGMENTS);
    let doc = layout::layout(&board, font());
    assert_eq!(doc.pages.len(), zhenxing::SEGMENTS, "one page per segment");
    assert_inside(&doc);
    for (seg, page) in board.segments.iter().zip(&doc.pages) {
        assert_eq!(page.segment, seg.segment);
        let on_page = texts(page).join("\n");
        assert!(on_page.contains(&seg.name));
        for e in &seg.people {
            assert!(
                on_page.contains(&e.name),
                "{}: {} missing",
                seg.segment,
                e.name
            );
            assert!(on_page.contains(&e.phone));
        }
    }
}

#[test]
fn many_people_go_on_continuation_pages() {
    let duty = "每日陪同街长巡查，受理转交问题，网格内处置或上报社区";
    let board = one_segment((1..=90).map(|i| person(i, duty)).collect());
    let doc = layout::layout(&board, font());
    assert!(doc.pages.len() >= 3, "{} pages", doc.pages.len());
    assert_inside(&doc);
    let mut seen = Vec::new();
    for (n, page) in doc.pages.iter().enumerate() {
        let t = texts(page);
        assert!(t.contains(&"联系电话"), "page {n} repeats the table header");
        if n > 0 {
            assert!(t.iter().any(|s| s.ends_with("（续）")), "page {n}");
        }
        seen.extend(
            t.iter()
                .filter(|s| s.starts_with('张'))
                .map(|s| s.to_string()),
        );
    }
    let expected: Vec<String> = (1..=90).map(|i| format!("张{i:03}")).collect();
    assert_eq!(seen, expected, "everyone once, in order");
}

#[test]
fn a_row_taller_than_a_page_is_split_between_lines() {
    let duty: String = "联合执法，陪同网格员和街长开展专项巡查。".repeat(120);
    let board = one_segment(vec![person(1, "短"), person(2, &duty), person(3, "短")]);
    let doc = layout::layout(&board, font());
    assert!(doc.pages.len() >= 2);
    assert_inside(&doc);
    // The long duty text comes out whole, across pages.
    let x = layout::col_x(3);
    let drawn: String = doc
        .pages
        .iter()
        .flat_map(|p| &p.items)
        .filter_map(|i| match i {
            Item::Text(t)
                if t.x > x
                    && t.text != "职责内容"
                    && t.text != "短"
                    && !t.text.starts_with("第 ") =>
            {
                Some(t.text.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(drawn, duty);
}

#[test]
fn long_names_and_empty_segments_stay_inside() {
    let mut board = one_segment(vec![NoticeEntry {
        role: "振兴街道综合行政执法大队第三中队城市管理与市容环境卫生专项整治组".into(),
        person: "x".into(),
        name: "阿卜杜热合曼·买买提依明".into(),
        phone: "0427-12345678 转 8001, 13800000000".into(),
        duty: "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ".repeat(3),
    }]);
    board.street = "辽宁省盘锦市兴隆台区振兴街道办事处网格化服务管理中心".repeat(2);
    board.segments[0].name =
        "兴隆大街（石油大街至惠宾大街段，含两侧人行道及商铺门前区域）".repeat(4);
    board.segments.push(SegmentBoard {
        segment: "s2".into(),
        name: "空路段".into(),
        road: None,
        community: None,
        length_m: 10,
        people: vec![],
    });
    let doc = layout::layout(&board, font());
    assert_eq!(doc.pages.len(), 2);
    assert_inside(&doc);
    assert!(texts(&doc.pages[1]).contains(&"暂无责任人"));
}

// ---------------------------------------------------------------- PNG

#[test]
fn png_pages_are_a4_at_150_dpi_with_text_drawn() {
    let pngs = render_png(&sample_board(), font(), DEFAULT_DPI).unwrap();
    assert_eq!(pngs.len(), 1);
    let img = image::load_from_memory(&pngs[0]).unwrap().to_rgb8();
    assert_eq!((img.width(), img.height()), (1240, 1754));
    assert_eq!(page_size_px(DEFAULT_DPI), (1240, 1754));
    let s = 150.0 / 72.0;
    let px = |pt: f32| (pt * s) as u32;
    // The title band is red; the title is white text on it.
    let band = layout::RED;
    let (mut red, mut light) = (0, 0);
    for y in px(MARGIN + 4.0)..px(MARGIN + 58.0) {
        for x in px(MARGIN + 4.0)..px(PAGE_W - MARGIN - 4.0) {
            let p = img.get_pixel(x, y).0;
            if p == [band.0, band.1, band.2] {
                red += 1;
            } else if p.iter().all(|&c| c > 200) {
                light += 1;
            }
        }
    }
    assert!(red > 20_000, "band drawn ({red} red pixels)");
    assert!(light > 2_000, "title text drawn ({light} light pixels)");
    // Below the band: dark text of the segment and the table on white.
    let dark = (px(MARGIN + 70.0)..px(400.0))
        .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 100))
        .count();
    assert!(dark > 5_000, "{dark} dark pixels");
    // The corner outside the frame stays white.
    assert_eq!(img.get_pixel(5, 5).0, [255, 255, 255]);
}

#[test]
fn png_resolution_is_bounded_and_scales_the_page() {
    assert!(render_png(&sample_board(), font(), 10).is_err());
    assert!(render_png(&sample_board(), font(), 5000).is_err());
    let pngs = render_png(&sample_board(), font(), 72).unwrap();
    let img = image::load_from_memory(&pngs[0]).unwrap();
    assert_eq!((img.width(), img.height()), (595, 842));
}

// ---------------------------------------------------------------- PDF

/// Finds `needle` in `hay` from `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The decompressed stream of object `id`.
fn stream_of(pdf: &[u8], offsets: &[usize], id: usize) -> Vec<u8> {
    let start = offsets[id];
    let s = find(pdf, b"stream\n", start).unwrap() + b"stream\n".len();
    let e = find(pdf, b"\nendstream", s).unwrap();
    miniz_oxide::inflate::decompress_to_vec_zlib(&pdf[s..e]).unwrap()
}

/// Checks the file structure (header, every xref entry pointing at its object, trailer,
/// `%%EOF`), the page count, the embedded font and its Unicode map. Returns the object
/// offsets by id.
fn check_pdf(pdf: &[u8], pages: usize) -> Vec<usize> {
    assert!(pdf.starts_with(b"%PDF-1."));
    let tail = String::from_utf8_lossy(&pdf[pdf.len() - 64..]).to_string();
    assert!(tail.trim_end().ends_with("%%EOF"), "{tail}");
    let sx = find(pdf, b"startxref\n", pdf.len() - 64).unwrap() + b"startxref\n".len();
    let xref: usize = String::from_utf8_lossy(&pdf[sx..])
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pdf[xref..].starts_with(b"xref\n0 "));
    let table = String::from_utf8_lossy(&pdf[xref..]).to_string();
    let mut lines = table.lines().skip(1);
    let header = lines.next().unwrap();
    let size: usize = header.split(' ').nth(1).unwrap().parse().unwrap();
    let mut offsets = vec![0usize; size];
    for (id, off) in offsets.iter_mut().enumerate() {
        let entry = lines.next().unwrap();
        assert_eq!(entry.trim_end().len(), 18, "{entry:?}");
        if entry.contains(" n") {
            *off = entry[..10].parse().unwrap();
            let obj = format!("{id} 0 obj");
            assert!(pdf[*off..].starts_with(obj.as_bytes()), "xref entry {id}");
        }
    }
    let trailer = &table[table.find("trailer").unwrap()..];
    assert!(trailer.contains(&format!("/Size {size}")), "{trailer}");
    assert!(trailer.contains("/Root 1 0 R"), "{trailer}");
    let text = String::from_utf8_lossy(pdf);
    let page_objects = text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count();
    assert_eq!(page_objects, pages, "page objects");
    assert!(text.contains(&format!("/Count {pages}")));
    assert!(text.contains("/FontFile2") || text.contains("/FontFile3"));
    assert!(text.contains("/Encoding /Identity-H") && text.contains("/ToUnicode"));
    // The Unicode map (object 7) maps glyphs back to the board's Chinese characters.
    let cmap = String::from_utf8_lossy(&stream_of(pdf, &offsets, 7)).to_string();
    for c in ['街', '长', '公', '示', '栏'] {
        let hex = format!("<{:04X}>", u32::from(c));
        assert!(
            cmap.contains(&hex),
            "{c} ({hex}) missing from the Unicode map"
        );
    }
    offsets
}

#[test]
fn the_zhenxing_pdf_has_one_page_per_segment_and_real_text() {
    let board = zhenxing_board();
    let pdf = render_pdf(&board, font()).unwrap();
    let offsets = check_pdf(&pdf, zhenxing::SEGMENTS);
    // Every page's content shows text in the embedded font.
    let text = String::from_utf8_lossy(&pdf).to_string();
    assert!(text.contains("/MediaBox [0 0 595.276 841.89]"));
    let first_content = 10; // catalog, tree, info, 5 font objects, then page 1 and its content
    let content = String::from_utf8_lossy(&stream_of(&pdf, &offsets, first_content)).to_string();
    assert!(
        content.contains("/F1 ") && content.contains("Tj"),
        "{content}"
    );
    // The subset keeps the file small: far below the font file.
    assert!(pdf.len() < 1_000_000, "{} bytes", pdf.len());
    assert!(pdf.len() < font().data().len() / 4);
}

#[test]
fn the_pdf_paginates_like_the_layout() {
    let duty = "每日陪同街长巡查，受理转交问题";
    let board = one_segment((1..=70).map(|i| person(i, duty)).collect());
    let pages = page_count(&board, font());
    assert!(pages >= 2);
    check_pdf(&render_pdf(&board, font()).unwrap(), pages);
    assert_eq!(render_png(&board, font(), 72).unwrap().len(), pages);
}

// ---------------------------------------------------------------- export

#[test]
fn formats_follow_the_extension() {
    assert_eq!(
        Format::of_path(Path::new("a/board.PDF")).unwrap(),
        Format::Pdf
    );
    assert_eq!(
        Format::of_path(Path::new("board.png")).unwrap(),
        Format::Png
    );
    assert_eq!(
        Format::of_path(Path::new("board.htm")).unwrap(),
        Format::Html
    );
    for bad in ["board.txt", "board"] {
        let err = Format::of_path(Path::new(bad)).unwrap_err().to_string();
        assert!(
            err.contains(bad) && err.contains(".pdf") && err.contains("--format"),
            "{err}"
        );
    }
    assert_eq!(
        png_page_paths(Path::new("/t/board.png"), 1),
        vec![PathBuf::from("/t/board.png")]
    );
    let many = png_page_paths(Path::new("/t/board.png"), 42);
    assert_eq!(many[0], PathBuf::from("/t/board-01.png"));
    assert_eq!(many[41], PathBuf::from("/t/board-42.png"));
    assert_eq!(
        png_page_paths(Path::new("x.png"), 120)[0],
        PathBuf::from("x-001.png")
    );
}

#[test]
fn write_board_writes_each_format() {
    let dir = tempfile::tempdir().unwrap();
    let board = sample_board();
    let html = dir.path().join("board.html");
    assert_eq!(
        write_board(&board, &html, None, None, DEFAULT_DPI).unwrap(),
        vec![html.clone()]
    );
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("街长公示栏")
    );

    let pdf = dir.path().join("board.pdf");
    write_board(&board, &pdf, None, None, DEFAULT_DPI).unwrap();
    check_pdf(&std::fs::read(&pdf).unwrap(), 1);

    let png = dir.path().join("board.png");
    let written = write_board(&board, &png, None, None, 100).unwrap();
    assert_eq!(written, vec![png.clone()]);
    let img = image::open(&png).unwrap();
    assert_eq!((img.width(), img.height()), page_size_px(100));

    // --format wins over the extension.
    let odd = dir.path().join("board.out");
    write_board(&board, &odd, Some(Format::Pdf), None, DEFAULT_DPI).unwrap();
    assert!(std::fs::read(&odd).unwrap().starts_with(b"%PDF-"));

    let err = write_board(&board, &dir.path().join("b.txt"), None, None, 150).unwrap_err();
    assert!(matches!(err, BoardError::Format(_)));
    let err = write_board(
        &board,
        &pdf,
        None,
        Some(Path::new("/nonexistent/font.ttc")),
        150,
    )
    .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/font.ttc"));
    assert!(matches!(
        only_segment(&board, "nope"),
        Err(BoardError::UnknownSegment(_))
    ));
}
