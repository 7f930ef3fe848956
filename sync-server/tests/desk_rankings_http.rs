//! The desk's rankings and notice board pages and their downloads through the real HTTP server
//! on 127.0.0.1 (SQLite, the sample street), signed in with a real session: what a browser
//! gets (status, headers, the first bytes of each file) and that nothing is served without a
//! session.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use xiangying_model::org::sample;
use xiangying_server::blobs::BlobStore;
use xiangying_server::desk::session::{SESSION_COOKIE, open_session};
use xiangying_server::state::{AppState, Limits};
use xiangying_server::storage::Storage;
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::{Running, admin};

struct Desk {
    _dir: tempfile::TempDir,
    server: Running,
    session: String,
}

fn desk() -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(dir.path()).unwrap());
    admin::publish(
        storage.as_ref(),
        &sample::roster_json().unwrap(),
        &sample::catalogue_json().unwrap(),
    )
    .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let session = open_session(storage.as_ref(), "center", now).unwrap();
    let state = AppState::new(
        storage,
        BlobStore::new(dir.path().join("photos"), 1 << 20),
        Limits::default(),
    );
    let server = xiangying_server::spawn(Arc::new(state), "127.0.0.1:0".parse().unwrap()).unwrap();
    Desk {
        _dir: dir,
        server,
        session,
    }
}

/// Status, head and body bytes of a GET.
fn get(addr: SocketAddr, path: &str, cookie: Option<&str>) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    let cookie = cookie.map_or(String::new(), |c| {
        format!("Cookie: {SESSION_COOKIE}={c}\r\n")
    });
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let body = raw[split + 4..].to_vec();
    let status = head[9..12].parse().unwrap();
    (status, head, body)
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(": ")?;
        k.eq_ignore_ascii_case(name).then(|| v.to_string())
    })
}

#[test]
fn signed_in_the_pages_and_files_are_served() {
    let d = desk();
    let addr = d.server.addr;
    let s = Some(d.session.as_str());

    let (status, head, body) = get(addr, "/desk/rankings", s);
    assert_eq!(status, 200, "{head}");
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("考核排名"), "{page}");
    assert!(header(&head, "content-security-policy").is_some());

    let q = "from=2026-01-01&to=2026-01-31&by=community";
    let (status, head, body) = get(addr, &format!("/desk/rankings.csv?{q}"), s);
    assert_eq!(status, 200, "{head}");
    assert!(body.starts_with("\u{feff}排名,社区编号,名称".as_bytes()));
    let cd = header(&head, "content-disposition").unwrap();
    assert!(
        cd.starts_with("attachment;") && cd.contains("filename*=UTF-8''"),
        "{cd}"
    );

    let (status, head, body) = get(addr, &format!("/desk/rankings.xlsx?{q}"), s);
    assert_eq!(status, 200, "{head}");
    assert!(body.starts_with(b"PK\x03\x04"));

    let (status, head, body) = get(addr, "/desk/boards", s);
    assert_eq!(status, 200, "{head}");
    assert!(String::from_utf8(body).unwrap().contains("boards.pdf"));

    let (status, head, body) = get(addr, "/desk/boards.pdf", s);
    assert_eq!(status, 200, "{head}");
    assert!(body.starts_with(b"%PDF-"));
    assert_eq!(
        header(&head, "content-type").as_deref(),
        Some("application/pdf")
    );
}

#[test]
fn a_hostile_period_is_refused_in_chinese() {
    let d = desk();
    let s = Some(d.session.as_str());
    for (path, field) in [
        ("/desk/rankings?from=2026-02-01&to=2026-01-01", "from"),
        ("/desk/rankings.csv?from=2024-01-01&to=2026-01-01", "366"),
        ("/desk/rankings.xlsx?from=%3Cscript%3E", "开始日期"),
        ("/desk/rankings?by=everyone", "by"),
        ("/desk/rankings?from=%FF%FE", "开始日期"),
    ] {
        let (status, head, body) = get(d.server.addr, path, s);
        assert_eq!(status, 400, "{path}: {head}");
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains(field), "{path}: {body}");
        assert!(!body.contains("<script>"), "{path}: {body}");
        assert!(header(&head, "content-disposition").is_none());
    }
}

#[test]
fn nothing_is_served_without_a_session() {
    let d = desk();
    for path in [
        "/desk/rankings",
        "/desk/rankings.csv",
        "/desk/rankings.xlsx",
        "/desk/boards",
        "/desk/boards.pdf",
    ] {
        for cookie in [None, Some("forged")] {
            let (status, head, body) = get(d.server.addr, path, cookie);
            assert!((300..400).contains(&status), "{path}: {head}");
            assert!(
                header(&head, "location")
                    .unwrap()
                    .starts_with("/desk/login")
            );
            assert!(!body.starts_with(b"PK") && !body.starts_with(b"%PDF"));
        }
    }
}
