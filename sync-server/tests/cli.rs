//! The admin CLI's notice-board export, run as a user would: the real `xiangying-server`
//! binary publishes the Zhenxing roster into a temporary data folder and writes the board as
//! HTML, PDF and PNG; bad extensions and missing fonts fail with clear messages.
//!
//! PDF and PNG need a CJK font from the well-known system paths (`scripts/test` installs
//! `fonts-wqy-microhei`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use xiangying_core::org::zhenxing;

fn server(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xiangying-server"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("XIANGYING_POSTGRES")
        .env_remove("XIANGYING_FONT")
        .env("XIANGYING_LOG", "warn")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "should have failed");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A data folder with the Zhenxing roster and catalogue published.
fn street() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/zhenxing");
    let roster = root.join("roster.json");
    let catalogue = root.join("catalogue.json");
    ok(&server(
        &data,
        &[
            "admin",
            "setup",
            "--roster",
            roster.to_str().unwrap(),
            "--catalogue",
            catalogue.to_str().unwrap(),
        ],
    ));
    (dir, data)
}

#[test]
fn admin_notice_board_writes_html_pdf_and_png() {
    let (dir, data) = street();
    let out = |name: &str| dir.path().join(name);
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();

    let html = out("board.html");
    ok(&server(
        &data,
        &["admin", "notice-board", "--out", &s(&html)],
    ));
    let text = std::fs::read_to_string(&html).unwrap();
    assert_eq!(
        text.matches("<section class=\"board\"").count(),
        zhenxing::SEGMENTS
    );

    let pdf = out("board.pdf");
    let said = ok(&server(
        &data,
        &["admin", "notice-board", "--out", &s(&pdf)],
    ));
    assert!(said.contains("board.pdf"), "{said}");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-1."));
    assert!(String::from_utf8_lossy(&bytes[bytes.len() - 32..]).contains("%%EOF"));
    let pdf_text = String::from_utf8_lossy(&bytes);
    assert!(pdf_text.contains(&format!("/Count {}", zhenxing::SEGMENTS)));

    // One segment: one page, written under the name given.
    let png = out("board.png");
    let seg = zhenxing::ids::segment(1);
    ok(&server(
        &data,
        &[
            "admin",
            "notice-board",
            "--out",
            &s(&png),
            "--segment",
            &seg,
        ],
    ));
    let img = image::open(&png).unwrap();
    assert_eq!((img.width(), img.height()), (1240, 1754));

    // Several pages at a low resolution: numbered files beside the name.
    let pages = out("few.png");
    let said = ok(&server(
        &data,
        &["admin", "notice-board", "--out", &s(&pages), "--dpi", "72"],
    ));
    assert_eq!(said.lines().count(), zhenxing::SEGMENTS, "{said}");
    let first = image::open(out("few-01.png")).unwrap();
    assert_eq!((first.width(), first.height()), (595, 842));
    assert!(out(&format!("few-{}.png", zhenxing::SEGMENTS)).is_file());
    assert!(!pages.exists());

    // --format wins over the extension.
    let odd = out("board.print");
    ok(&server(
        &data,
        &[
            "admin",
            "notice-board",
            "--out",
            &s(&odd),
            "--format",
            "pdf",
            "--segment",
            &seg,
        ],
    ));
    assert!(std::fs::read(&odd).unwrap().starts_with(b"%PDF-"));
}

#[test]
fn admin_notice_board_explains_what_is_wrong() {
    let (dir, data) = street();
    let s = |p: PathBuf| p.to_str().unwrap().to_string();

    let err = failed(&server(
        &data,
        &[
            "admin",
            "notice-board",
            "--out",
            &s(dir.path().join("board.txt")),
        ],
    ));
    assert!(err.contains("board.txt") && err.contains(".pdf"), "{err}");

    let err = failed(&server(
        &data,
        &[
            "admin",
            "notice-board",
            "--out",
            &s(dir.path().join("board.pdf")),
            "--font",
            "/nonexistent/fonts/NotoSansCJK-Regular.ttc",
        ],
    ));
    assert!(
        err.contains("/nonexistent/fonts/NotoSansCJK-Regular.ttc"),
        "{err}"
    );
    assert!(!dir.path().join("board.pdf").exists());

    let err = failed(&server(
        &data,
        &[
            "admin",
            "notice-board",
            "--out",
            &s(dir.path().join("board.pdf")),
            "--segment",
            "no-such-segment",
        ],
    ));
    assert!(err.contains("no-such-segment"), "{err}");
}

/// `xiangying-server demo` as a newcomer runs it, kept small: a field day of two grids through
/// real HTTP, every device checked against the server, patrols included.
#[test]
fn the_demo_runs_a_small_field_day_with_patrols() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&server(
        dir.path(),
        &[
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--grids",
            "2",
            "--reports",
            "1",
            "--no-serve",
        ],
    ));
    assert!(out.contains(" 2 patrols"), "{out}");
    assert!(out.contains("byte-identical"), "{out}");

    // The accompaniment count of the demo's week: one of the two grid workers had the
    // official along.
    let data = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("demo-"))
        })
        .expect("the demo's data folder")
        .join("server");
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d")
        .to_string();
    let table = ok(&server(
        &data,
        &["admin", "accompaniments", "--week", &today],
    ));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 1 + zhenxing::GRIDS, "{table}");
    let walked: Vec<&&str> = lines[1..].iter().filter(|l| l.contains("\t1\t")).collect();
    assert_eq!(walked.len(), 2, "{table}");
}
