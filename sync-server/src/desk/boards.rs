//! 公示栏: the street chiefs' notice boards of the published roster, one block per segment
//! (its range, community, and the people who answer for it with their phones and duties),
//! shown in the page (which prints a board a page) and downloaded as the PDF the admin CLI
//! writes ([`crate::board::render_pdf`]).
//!
//! The board is a pure function of the roster ([`NoticeBoard::of`]); the PDF needs a CJK font
//! from the server's system, loaded once per process ([`font`]).

use super::Shared;
use super::download;
use super::error::DeskError;
use super::layout::{self, Nav};
use super::session::DeskUser;
use crate::board::{self, BoardFont};
use crate::error::ServerError;
use crate::tasks::blocking;
use axum::Router;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use std::sync::OnceLock;
use xiangying_model::report::NoticeBoard;

/// The CJK font boards are drawn with, as `admin notice-board` finds it: the file named by
/// `XIANGYING_FONT`, else the first of the well-known system fonts; loaded once and kept (a
/// failure is not kept: installing a font fixes the next request).
pub fn font() -> Result<&'static BoardFont, ServerError> {
    static FONT: OnceLock<BoardFont> = OnceLock::new();
    if let Some(f) = FONT.get() {
        return Ok(f);
    }
    let explicit = std::env::var_os("XIANGYING_FONT").map(std::path::PathBuf::from);
    let loaded = BoardFont::find(explicit.as_deref())
        .map_err(|e| ServerError::Internal(format!("notice board PDF: {e}")))?;
    // Another request may have loaded it meanwhile: either copy will do.
    let _ = FONT.set(loaded);
    FONT.get()
        .ok_or_else(|| ServerError::Internal("notice board font not kept".into()))
}

/// The page's content under the heading: the downloads, then a block per segment.
pub fn body(board: &NoticeBoard) -> Markup {
    html! {
        p.downloads.no-print {
            a.button href="/desk/boards.pdf" download { "下载 PDF（A4，每个路段一页）" }
            " "
            button.secondary type="button" data-print { "打印本页" }
        }
        p.muted.no-print {
            (board.street) "街长公示栏，共 " (board.segments.len()) " 个路段。内容来自已发布的名册；名册更新后公示栏随之更新。"
        }
        @if board.segments.is_empty() {
            p.muted { "名册中没有路段" }
        }
        @for (i, seg) in board.segments.iter().enumerate() {
            section.board-sheet aria-labelledby={ "seg-" (i) } {
                h2 id={ "seg-" (i) } { (board.street) " · " (seg.name) " 街长公示栏" }
                dl.board-facts {
                    @if let Some(road) = &seg.road { dt { "道路" } dd { (road) } }
                    @if let Some(c) = &seg.community { dt { "所属社区" } dd { (c) } }
                    dt { "巡查路段长度" } dd { (seg.length_m) " 米" }
                }
                table.board {
                    caption { (seg.name) "责任人" }
                    thead {
                        tr {
                            th scope="col" { "职责" }
                            th scope="col" { "姓名" }
                            th scope="col" { "电话" }
                            th scope="col" { "工作内容" }
                        }
                    }
                    tbody {
                        @for p in &seg.people {
                            tr {
                                td { (p.role) }
                                th scope="row" { (p.name) }
                                td.phone { (p.phone) }
                                td { (p.duty) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The board as a PDF file name: `<street>街长公示栏.pdf`.
fn pdf_name(board: &NoticeBoard) -> String {
    format!("{}街长公示栏.pdf", board.street)
}

async fn page(user: DeskUser) -> Markup {
    let board = NoticeBoard::of(&user.roster);
    layout::page(&user, Nav::Boards, "公示栏", body(&board))
}

async fn pdf(user: DeskUser) -> Result<Response, DeskError> {
    let board = NoticeBoard::of(&user.roster);
    let name = pdf_name(&board);
    let bytes = blocking(move || {
        board::render_pdf(&board, font()?)
            .map_err(|e| ServerError::Internal(format!("notice board PDF: {e}")))
    })
    .await?;
    Ok(download::attachment(
        "application/pdf",
        "notice-board.pdf",
        &name,
        bytes,
    ))
}

/// The notice board page and its PDF.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/desk/boards", get(page))
        .route("/desk/boards.pdf", get(pdf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use xiangying_model::org::zhenxing;
    use xiangying_model::report::{NoticeEntry, SegmentBoard};

    #[test]
    fn every_segment_has_its_block_and_people() {
        let board = NoticeBoard::of(&zhenxing::roster());
        let html = body(&board).into_string();
        assert_eq!(
            html.matches("<section class=\"board-sheet\"").count(),
            zhenxing::SEGMENTS
        );
        let first = &board.segments[0].people[0];
        assert!(html.contains(&first.phone), "{html}");
        assert!(html.contains("href=\"/desk/boards.pdf\""));
    }

    #[test]
    fn hostile_names_are_escaped() {
        let board = NoticeBoard {
            street: "<b>街</b>".into(),
            segments: vec![SegmentBoard {
                segment: "s\"><script>".into(),
                name: "<script>alert(1)</script>".into(),
                road: Some("<img src=x onerror=alert(1)>".into()),
                community: None,
                length_m: 10,
                people: vec![NoticeEntry {
                    role: "<i>".into(),
                    person: "p".into(),
                    name: "\"><svg onload=alert(1)>".into(),
                    phone: "<a>".into(),
                    duty: "&".into(),
                }],
            }],
        };
        let html = body(&board).into_string();
        for bad in ["<script", "<img", "<svg", "<b>", "<i>", "<a>"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }

    #[test]
    fn the_pdf_is_a_pdf_named_in_chinese() {
        let board = NoticeBoard::of(&zhenxing::roster());
        let bytes = board::render_pdf(&board, font().unwrap()).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        assert_eq!(pdf_name(&board), format!("{}街长公示栏.pdf", board.street));
    }
}
