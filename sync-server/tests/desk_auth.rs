//! Desk sign-in through the real HTTP server on 127.0.0.1 (SQLite): the sign-in form and its
//! cookie, refusals that read the same for a wrong password and an unknown person, lockout,
//! sessions that end (idle, too old, signed out, everywhere), forged form posts, one-time
//! links and the `next` redirect (decision 0039).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use xiangying_model::org::sample;
use xiangying_server::blobs::BlobStore;
use xiangying_server::desk::login::{LOGIN_COOKIE, issue_link, link_path};
use xiangying_server::desk::password::set_password;
use xiangying_server::desk::session::{SESSION_COOKIE, csrf_of, open_session, token_hash};
use xiangying_server::state::{AppState, DeskSettings, Limits};
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::{Storage, with_tx};
use xiangying_server::{Running, admin};

const PASSWORD: &str = "zhongxin-2024";
const HOUR: i64 = 3_600_000;

/// A server over the sample street, `center` with a desk password.
struct Desk {
    _dir: tempfile::TempDir,
    storage: Arc<dyn Storage>,
    server: Running,
}

fn desk_with(settings: DeskSettings) -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(dir.path()).unwrap());
    admin::publish(
        storage.as_ref(),
        &sample::roster_json().unwrap(),
        &sample::catalogue_json().unwrap(),
    )
    .unwrap();
    set_password(storage.as_ref(), "center", PASSWORD, now()).unwrap();
    let limits = Limits {
        desk: settings,
        ..Limits::default()
    };
    let state = AppState::new(
        storage.clone(),
        BlobStore::new(dir.path().join("photos"), 1 << 20),
        limits,
    );
    let server = xiangying_server::spawn(Arc::new(state), "127.0.0.1:0".parse().unwrap()).unwrap();
    Desk {
        _dir: dir,
        storage,
        server,
    }
}

fn desk() -> Desk {
    desk_with(DeskSettings::default())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// An answer: status, head (as sent), body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(": ")?;
            k.eq_ignore_ascii_case(name).then(|| v.to_string())
        })
    }

    /// The `Set-Cookie` line for a cookie, as sent (original case).
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.raw_head_lines()
            .into_iter()
            .filter_map(|l| {
                let (k, v) = l.split_once(": ")?;
                k.eq_ignore_ascii_case("set-cookie").then(|| v.to_string())
            })
            .find(|v| v.starts_with(&format!("{name}=")))
    }

    fn raw_head_lines(&self) -> Vec<String> {
        self.head.lines().map(str::to_string).collect()
    }

    /// A cookie's value as set.
    fn cookie_value(&self, name: &str) -> Option<String> {
        let c = self.set_cookie(name)?;
        let v = c.split(';').next()?.split_once('=')?.1.to_string();
        Some(v)
    }
}

/// One HTTP/1.1 request on a new connection.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Answer {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head[9..12].parse().unwrap();
    Answer {
        status,
        head,
        body: String::from_utf8_lossy(&answer[split + 4..]).into_owned(),
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Desk {
    fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    fn origin(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The sign-in page's nonce (cookie and field hold the same).
    fn nonce(&self) -> String {
        let a = request(self.addr(), "GET", "/desk/login", &[], "");
        assert_eq!(a.status, 200);
        let nonce = a.cookie_value(LOGIN_COOKIE).unwrap();
        assert!(
            a.body
                .contains(&format!(r#"name="_login" value="{nonce}""#))
        );
        nonce
    }

    /// Posts the sign-in form with a fresh nonce.
    fn sign_in(&self, person: &str, password: &str, next: &str) -> Answer {
        let nonce = self.nonce();
        request(
            self.addr(),
            "POST",
            "/desk/login",
            &[
                ("Cookie", format!("{LOGIN_COOKIE}={nonce}")),
                ("Origin", self.origin()),
            ],
            &form(&[
                ("person", person),
                ("password", password),
                ("_login", &nonce),
                ("next", next),
            ]),
        )
    }

    fn get(&self, path: &str, session: &str) -> Answer {
        request(
            self.addr(),
            "GET",
            path,
            &[("Cookie", format!("{SESSION_COOKIE}={session}"))],
            "",
        )
    }

    fn post(&self, path: &str, session: &str, csrf: Option<&str>, origin: Option<&str>) -> Answer {
        let mut headers = vec![("Cookie", format!("{SESSION_COOKIE}={session}"))];
        if let Some(o) = origin {
            headers.push(("Origin", o.to_string()));
        }
        let body = csrf.map(|c| form(&[("_csrf", c)])).unwrap_or_default();
        request(self.addr(), "POST", path, &headers, &body)
    }

    fn signed_in(&self, session: &str) -> bool {
        let a = self.get("/desk/account", session);
        match a.status {
            200 => true,
            303 => false,
            other => panic!("account page answered {other}: {}", a.body),
        }
    }
}

/// The page's text with the per-answer nonce taken out.
fn without_nonce(body: &str) -> String {
    let re = body.find(r#"name="_login" value=""#).map(|i| i + 21);
    match re {
        Some(i) => format!("{}{}", &body[..i], &body[i + 64..]),
        None => body.to_string(),
    }
}

#[test]
fn the_right_password_signs_in_with_an_http_only_strict_cookie() {
    let d = desk();
    let a = d.sign_in("center", PASSWORD, "/desk/cases?status=open");
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(
        a.header("location").as_deref(),
        Some("/desk/cases?status=open")
    );
    let cookie = a.set_cookie(SESSION_COOKIE).unwrap();
    let token = a.cookie_value(SESSION_COOKIE).unwrap();
    assert_eq!(
        cookie,
        format!("{SESSION_COOKIE}={token}; Path=/desk; HttpOnly; SameSite=Strict"),
        "plain HTTP from this machine to a loopback name: no Secure"
    );
    // The nonce is spent with the sign-in.
    assert!(a.set_cookie(LOGIN_COOKIE).unwrap().contains("Max-Age=0"));
    let page = d.get("/desk/account", &token);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&csrf_of(&token)),
        "the forms carry the CSRF token"
    );
    assert!(
        !page.body.contains(&token),
        "never the session token itself"
    );
    // Only the token's hash is stored.
    let row = with_tx(d.storage.as_ref(), |tx| {
        tx.desk_session(&token_hash(&token))
    })
    .unwrap();
    assert_eq!(row.unwrap().person.as_str(), "center");

    // Through a proxy on this machine naming the public host: Secure.
    let host = "desk.example.cn".to_string();
    let get = request(
        d.addr(),
        "GET",
        "/desk/login",
        &[("Host", host.clone())],
        "",
    );
    assert!(get.set_cookie(LOGIN_COOKIE).unwrap().ends_with("; Secure"));
    let nonce = get.cookie_value(LOGIN_COOKIE).unwrap();
    let a = request(
        d.addr(),
        "POST",
        "/desk/login",
        &[
            ("Host", host),
            ("Origin", "https://desk.example.cn".into()),
            ("Cookie", format!("{LOGIN_COOKIE}={nonce}")),
        ],
        &form(&[
            ("person", "center"),
            ("password", PASSWORD),
            ("_login", &nonce),
        ]),
    );
    assert_eq!(a.status, 303, "{}", a.body);
    let cookie = a.set_cookie(SESSION_COOKIE).unwrap();
    assert!(
        cookie.ends_with("; HttpOnly; SameSite=Strict; Secure"),
        "{cookie}"
    );
}

#[test]
fn a_wrong_password_and_an_unknown_person_get_the_same_chinese_refusal() {
    let d = desk();
    let wrong = d.sign_in("center", "not-the-password", "/desk/");
    let unknown = d.sign_in("nobody", "not-the-password", "/desk/");
    let not_desk = d.sign_in("gw1", "not-the-password", "/desk/");
    for a in [&wrong, &unknown, &not_desk] {
        assert_eq!(a.status, 403);
        assert!(a.body.contains("登录名或密码不正确。"), "{}", a.body);
        assert!(a.set_cookie(SESSION_COOKIE).is_none());
    }
    // Word for word the same page, but for what was typed and the fresh nonce.
    let norm = |a: &Answer, typed: &str| without_nonce(&a.body).replace(typed, "TYPED");
    assert_eq!(norm(&wrong, "center"), norm(&unknown, "nobody"));
    assert_eq!(norm(&wrong, "center"), norm(&not_desk, "gw1"));
}

#[test]
fn five_failures_lock_even_the_right_password_out_with_the_wait_named() {
    let d = desk();
    for _ in 0..4 {
        let a = d.sign_in("center", "wrong-password", "/desk/");
        assert_eq!(a.status, 403);
        assert!(!a.body.contains("锁定"));
    }
    let a = d.sign_in("center", "wrong-password", "/desk/");
    assert!(a.body.contains("已暂时锁定，请 1 分钟后再试"), "{}", a.body);
    let a = d.sign_in("center", PASSWORD, "/desk/");
    assert_eq!(a.status, 403, "locked: the right password is refused too");
    assert!(a.body.contains("登录名或密码不正确。") && a.body.contains("分钟后再试"));
    assert!(a.set_cookie(SESSION_COOKIE).is_none());
}

#[test]
fn too_many_attempts_from_one_address_get_429() {
    let d = desk_with(DeskSettings {
        sign_in_per_minute: 2,
        ..DeskSettings::default()
    });
    d.sign_in("center", "wrong-password", "/desk/");
    d.sign_in("nobody", "wrong-password", "/desk/");
    let a = d.sign_in("center", PASSWORD, "/desk/");
    assert_eq!(a.status, 429);
    assert!(a.header("retry-after").is_some());
    assert!(a.body.contains("登录尝试过于频繁"), "{}", a.body);
}

#[test]
fn the_sign_in_form_needs_its_nonce_cookie() {
    let d = desk();
    let nonce = d.nonce();
    for cookie in [String::new(), format!("{LOGIN_COOKIE}={}", "f".repeat(64))] {
        let a = request(
            d.addr(),
            "POST",
            "/desk/login",
            &[("Cookie", cookie)],
            &form(&[
                ("person", "center"),
                ("password", PASSWORD),
                ("_login", &nonce),
            ]),
        );
        assert_eq!(a.status, 403);
        assert!(a.body.contains("登录页面已过期"), "{}", a.body);
        assert!(a.set_cookie(SESSION_COOKIE).is_none());
    }
    // From another site's page: refused before the form is read.
    let a = request(
        d.addr(),
        "POST",
        "/desk/login",
        &[
            ("Cookie", format!("{LOGIN_COOKIE}={nonce}")),
            ("Origin", "https://evil.example".into()),
        ],
        &form(&[
            ("person", "center"),
            ("password", PASSWORD),
            ("_login", &nonce),
        ]),
    );
    assert_eq!(a.status, 403);
    assert!(a.set_cookie(SESSION_COOKIE).is_none());
}

#[test]
fn next_never_leaves_the_desk() {
    let d = desk();
    for next in [
        "https://evil.example/",
        "//evil.example/desk/",
        "/\\evil.example",
    ] {
        let a = d.sign_in("center", PASSWORD, next);
        assert_eq!(a.status, 303);
        assert_eq!(a.header("location").as_deref(), Some("/desk/"), "{next}");
    }
    let page = request(
        d.addr(),
        "GET",
        "/desk/login?next=https%3A%2F%2Fevil.example",
        &[],
        "",
    );
    assert!(
        page.body.contains(r#"name="next" value="/desk/""#),
        "{}",
        page.body
    );
    // A page asked for without a session sends the browser to sign in, coming back after.
    let a = d.get("/desk/account?x=1", "");
    assert_eq!(a.status, 303);
    assert_eq!(
        a.header("location").as_deref(),
        Some("/desk/login?next=/desk/account%3Fx%3D1")
    );
}

#[test]
fn idle_and_old_sessions_are_sent_to_sign_in_and_refused_on_post() {
    let d = desk();
    let s = d.storage.as_ref();
    let fresh = open_session(s, "center", now()).unwrap();
    let idle = open_session(s, "center", now() - 2 * HOUR - 60_000).unwrap();
    let old = open_session(s, "center", now() - 12 * HOUR - 60_000).unwrap();
    // Used a moment ago, but opened over 12 hours ago.
    with_tx(s, |tx| tx.touch_desk_session(&token_hash(&old), now())).unwrap();
    assert!(d.signed_in(&fresh));
    for token in [&idle, &old] {
        let a = d.get("/desk/account", token);
        assert_eq!(a.status, 303);
        assert_eq!(
            a.header("location").as_deref(),
            Some("/desk/login?next=/desk/account")
        );
        let a = d.post("/desk/logout-all", token, Some(&csrf_of(token)), None);
        assert_eq!(a.status, 403);
        assert!(a.body.contains("重新登录"), "{}", a.body);
    }
    assert!(
        d.signed_in(&fresh),
        "refused posts of dead sessions changed nothing"
    );
}

#[test]
fn forged_posts_are_refused_and_change_nothing() {
    let d = desk();
    let token = open_session(d.storage.as_ref(), "center", now()).unwrap();
    let other = open_session(d.storage.as_ref(), "center", now()).unwrap();
    let own = d.origin();
    for (csrf, origin) in [
        (None, Some(own.as_str())),
        (Some("0".repeat(64)), Some(own.as_str())),
        (Some(csrf_of(&other)), Some(own.as_str())),
        (Some(csrf_of(&token)), Some("https://evil.example")),
        (Some(csrf_of(&token)), Some("null")),
    ] {
        for path in ["/desk/logout", "/desk/logout-all"] {
            let a = d.post(path, &token, csrf.as_deref(), origin);
            assert_eq!(a.status, 403, "{path} {csrf:?} {origin:?}");
            assert!(a.body.contains("表单已过期或来源不明"), "{}", a.body);
        }
    }
    assert!(
        d.signed_in(&token) && d.signed_in(&other),
        "nothing changed"
    );
    let a = d.post("/desk/logout", &token, Some(&csrf_of(&token)), Some(&own));
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location").as_deref(), Some("/desk/login"));
    assert!(a.set_cookie(SESSION_COOKIE).unwrap().contains("Max-Age=0"));
    assert!(!d.signed_in(&token));
    assert!(d.signed_in(&other), "signing out ends this session only");
}

#[test]
fn signing_out_everywhere_ends_every_session_of_the_person_only() {
    let d = desk();
    let a = d.sign_in("center", PASSWORD, "/desk/");
    let here = a.cookie_value(SESSION_COOKIE).unwrap();
    let there = open_session(d.storage.as_ref(), "center", now()).unwrap();
    let someone_else = open_session(d.storage.as_ref(), "cc1", now()).unwrap();
    let a = d.post(
        "/desk/logout-all",
        &here,
        Some(&csrf_of(&here)),
        Some(&d.origin()),
    );
    assert_eq!(a.status, 303);
    assert!(!d.signed_in(&here));
    assert!(!d.signed_in(&there));
    assert!(d.signed_in(&someone_else));
}

#[test]
fn a_one_time_link_signs_in_once_within_a_day() {
    let d = desk();
    let s = d.storage.as_ref();
    let token = issue_link(s, "official", now()).unwrap();
    let a = request(d.addr(), "GET", &link_path(&token), &[], "");
    assert_eq!(a.status, 200, "{}", a.body);
    let session = a.cookie_value(SESSION_COOKIE).unwrap();
    assert!(d.signed_in(&session));
    let again = request(d.addr(), "GET", &link_path(&token), &[], "");
    assert_eq!(again.status, 404);
    assert!(again.body.contains("登录链接无效、已使用或已过期"));
    assert!(again.set_cookie(SESSION_COOKIE).is_none());
    let stale = issue_link(s, "official", now() - 24 * HOUR - 60_000).unwrap();
    assert_eq!(
        request(d.addr(), "GET", &link_path(&stale), &[], "").status,
        404
    );
    assert_eq!(
        request(d.addr(), "GET", "/desk/link/nonsense", &[], "").status,
        404
    );
    assert!(
        issue_link(s, "gw1", now()).is_err(),
        "not for a role off the desk"
    );
}
