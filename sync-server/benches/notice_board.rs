//! Notice board export benchmark: the Zhenxing street's board (42 segments, one A4 page each)
//! rendered to PNG pages at 150 dpi (layout, rasterising, PNG encoding) and to one PDF (layout,
//! font subsetting, content streams, deflate). The font is the one `admin notice-board` would
//! find (`XIANGYING_FONT`, else the first of the well-known system paths) and is loaded once
//! outside the timed loop; the bench prints which.
//!
//! `cargo bench -p xiangying-server --bench notice_board`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::PathBuf;
use xiangying_model::org::zhenxing;
use xiangying_model::report::NoticeBoard;
use xiangying_server::board::{BoardFont, DEFAULT_DPI, render_pdf, render_png};

fn bench(c: &mut Criterion) {
    let board = NoticeBoard::of(&zhenxing::roster());
    let explicit = std::env::var_os("XIANGYING_FONT").map(PathBuf::from);
    let font = BoardFont::find(explicit.as_deref()).unwrap();
    let pdf = render_pdf(&board, &font).unwrap();
    let pngs = render_png(&board, &font, DEFAULT_DPI).unwrap();
    println!(
        "font {} ({}); PDF {} pages, {} bytes; PNG {} pages, {} bytes in all",
        font.family(),
        font.source(),
        zhenxing::SEGMENTS,
        pdf.len(),
        pngs.len(),
        pngs.iter().map(Vec::len).sum::<usize>()
    );

    let mut g = c.benchmark_group("notice_board");
    g.sample_size(10);
    g.bench_function("zhenxing_42_pages_png_150dpi", |b| {
        b.iter(|| black_box(render_png(&board, &font, DEFAULT_DPI).unwrap()))
    });
    g.bench_function("zhenxing_42_pages_pdf", |b| {
        b.iter(|| black_box(render_pdf(&board, &font).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
