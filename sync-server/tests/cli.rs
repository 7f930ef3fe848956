//! The real `xiangying-server` binary, run as an operator would: the notice-board export (the
//! Zhenxing roster published into a temporary data folder, the board written as HTML, PDF and
//! PNG; bad extensions and missing fonts fail with clear messages), the configuration file (the data folder and listen address it
//! sets, flags winning over it, typos named), the street export (a used folder refused), and
//! a data folder without a store refused by `serve` and the admin commands.
//!
//! PDF and PNG need a CJK font from the well-known system paths (`scripts/test` installs
//! `fonts-wqy-microhei`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{failed, ok, server};
use xiangying_model::org::zhenxing;

/// A data folder with the Zhenxing roster and catalogue published.
fn street() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/zhenxing");
    let roster = root.join("roster.json");
    let catalogue = root.join("catalogue.json");
    ok(&common::setup(&data, &roster, &catalogue, &[]));
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

#[test]
fn admin_export_writes_the_street_and_refuses_a_used_folder() {
    let (dir, data) = street();
    let export = dir.path().join("export");
    let out = ok(&server(
        &data,
        &["admin", "export", "--out", export.to_str().unwrap()],
    ));
    assert!(out.starts_with("exported 0 cases"), "{out}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(export.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["street"]["id"], "zhenxing");
    assert_eq!(manifest["store"]["backend"], "sqlite");
    let published = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/zhenxing/roster.json");
    assert_eq!(
        std::fs::read(export.join("roster.json")).unwrap(),
        std::fs::read(published).unwrap()
    );
    // A second export into the same folder is refused and changes nothing.
    let before = std::fs::read(export.join("manifest.json")).unwrap();
    let err = failed(&server(
        &data,
        &["admin", "export", "--out", export.to_str().unwrap()],
    ));
    assert!(err.contains("is not empty"), "{err}");
    assert_eq!(std::fs::read(export.join("manifest.json")).unwrap(), before);
}

/// Runs the binary with only the given arguments (no `--data`), as an operator with a
/// configuration file would.
fn bare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xiangying-server"))
        .args(args)
        .env_remove("XIANGYING_POSTGRES")
        .env_remove("XIANGYING_DATA")
        .env_remove("XIANGYING_CONFIG")
        .env("XIANGYING_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn a_configuration_file_sets_the_data_folder_and_flags_win_over_it() {
    let (dir, data) = street();
    let cfg = dir.path().join("xiangying.toml");
    std::fs::write(
        &cfg,
        format!(
            "data = {:?}\nlisten = \"127.0.0.1:0\"\n[limits]\nmax_photo = 2000000\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let status = ok(&bare(&["--config", cfg, "admin", "status"]));
    assert!(status.contains("storage sqlite"), "{status}");
    assert!(status.contains("roster version 1"), "{status}");
    // A flag wins over the file: another data folder, which holds no store, is refused by
    // name.
    let other = dir.path().join("other");
    let other = other.to_str().unwrap();
    let err = failed(&bare(&[
        "--config", cfg, "--data", other, "admin", "status",
    ]));
    assert!(
        err.contains(&format!("no Xiangying store in {other}")),
        "{err}"
    );

    // A typo is an error naming the file and the key; nothing runs.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "dta = \"/tmp\"\n").unwrap();
    let err = failed(&bare(&[
        "--config",
        bad.to_str().unwrap(),
        "admin",
        "status",
    ]));
    assert!(err.contains("bad.toml") && err.contains("dta"), "{err}");
}

#[test]
fn serve_listens_where_the_configuration_file_says() {
    use std::io::{Read, Write};
    let (dir, data) = street();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = dir.path().join("xiangying.toml");
    std::fs::write(
        &cfg,
        format!(
            "data = {:?}\nlisten = \"127.0.0.1:{port}\"\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_xiangying-server"))
        .args(["--config", cfg.to_str().unwrap(), "serve"])
        .env_remove("XIANGYING_POSTGRES")
        .env_remove("XIANGYING_DATA")
        .env_remove("XIANGYING_LISTEN")
        .env("XIANGYING_LOG", "warn")
        .spawn()
        .unwrap();
    let mut answer = String::new();
    for _ in 0..200 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            s.read_to_string(&mut answer).unwrap();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn serve_and_admin_commands_refuse_a_folder_without_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for args in [
        &["serve", "--listen", "127.0.0.1:0"][..],
        &["admin", "status"][..],
        &["admin", "issue-code", "gw-g01"][..],
        &[
            "admin",
            "rankings",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
        ][..],
        &["admin", "migrate"][..],
    ] {
        let err = failed(&server(&empty, args));
        assert!(
            err.contains(&format!("no Xiangying store in {}", empty.display()))
                && err.contains("admin setup"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "nothing is made in the folder"
    );
    // A mistyped folder is not created.
    let typo = dir.path().join("xiangying-dta");
    failed(&server(&typo, &["serve", "--listen", "127.0.0.1:0"]));
    assert!(!typo.exists());
}
