//! Sessions for the desk: who is at the desk ([`DeskUser`]), the session cookie, the CSRF
//! token every form carries ([`check_csrf`]) and the same-origin check every desk form post
//! passes ([`same_origin`]); decision 0039.
//!
//! A session is a random 32-byte token in the [`SESSION_COOKIE`] cookie; the store keeps only
//! its SHA-256. The session's CSRF token is derived from the token (a SHA-256 under a label
//! of its own), so it is never stored either and dies with the session. A session ends when
//! it is unused for `desk.session_idle_minutes`, `desk.session_max_hours` after sign-in, at
//! sign-out, and when its person leaves the roster or no longer works at a desk.

use super::Shared;
use super::error::DeskError;
use super::password::works_at_desk;
use crate::error::ServerError;
use crate::state::DeskSettings;
use crate::storage::{DeskAuthTx, DeskSessionRow, Storage, with_tx};
use crate::throttle::ClientIp;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use xiangying_model::case::Claim;
use xiangying_model::ids::PersonId;
use xiangying_model::org::Roster;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "xy_desk_session";

/// A session is written back as used at most this often, ms (so a page's every request does
/// not write to the store); the idle timeout is that much less exact.
const TOUCH_EVERY_MS: i64 = 60_000;

/// The longest `User-Agent` kept with a session, in characters.
const MAX_USER_AGENT_CHARS: usize = 120;

/// The person signed in at the desk, with the roster their request is judged against.
#[derive(Debug, Clone)]
pub struct DeskUser {
    /// Their roster id.
    pub person: PersonId,
    /// Their name, from the roster.
    pub name: String,
    /// Their role and scope now, from the roster: what their desk actions are authored as.
    pub claim: Claim,
    /// This session's CSRF token, carried by every form ([`super::layout::csrf_field`]).
    pub csrf: String,
    /// The published roster at the time of the request.
    pub roster: Arc<Roster>,
}

impl DeskUser {
    /// The person's role, in Chinese.
    pub fn role_label(&self) -> &'static str {
        self.claim.role.label_zh()
    }
}

/// Refuses a form post whose `_csrf` field is not this session's token.
pub fn check_csrf(user: &DeskUser, token: &str) -> Result<(), DeskError> {
    if !token.is_empty() && constant_time_eq(token.as_bytes(), user.csrf.as_bytes()) {
        Ok(())
    } else {
        Err(DeskError::Csrf)
    }
}

/// Compares two byte strings in time that depends on their lengths only.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The SHA-256 of a session or link token, hex: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The CSRF token of the session whose cookie holds `token`.
pub fn csrf_of(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"xiangying desk csrf\0");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

/// Whether a token has the form this server hands out (64 lowercase hex digits); anything
/// else is not looked up.
pub fn well_formed_token(token: &str) -> bool {
    token.len() == 64
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Opens a session for a person who works at a desk and returns its cookie value (for the
/// sign-in page, one-time links, tests and the demo).
pub fn open_session(
    storage: &dyn Storage,
    person: &str,
    now_ms: i64,
) -> Result<String, ServerError> {
    let roster = crate::reports::roster(storage)?;
    super::password::desk_person(&roster, person)?;
    with_tx(storage, |tx| {
        open_session_in(tx, &PersonId::from(person), now_ms, None)
    })
}

/// Stores a new session for `person` (already judged) and returns its token.
pub(crate) fn open_session_in(
    tx: &mut dyn DeskAuthTx,
    person: &PersonId,
    now: i64,
    user_agent: Option<&str>,
) -> Result<String, ServerError> {
    let token = crate::auth::new_token();
    let user_agent = user_agent.map(|ua| {
        crate::printable::printable(ua)
            .chars()
            .take(MAX_USER_AGENT_CHARS)
            .collect()
    });
    tx.insert_desk_session(
        &token_hash(&token),
        &DeskSessionRow {
            person: person.clone(),
            created_at: now,
            last_seen: now,
            user_agent,
        },
    )?;
    Ok(token)
}

/// The signed-in person of the session whose cookie holds `token`, at `now`, or `None`: an
/// unknown session; one idle or open too long (ended now); one whose person left the roster
/// or no longer works at a desk (every session of theirs ended now). A live session is
/// marked used (at most once per minute).
pub fn resolve(
    tx: &mut dyn DeskAuthTx,
    roster: &Arc<Roster>,
    token: &str,
    now: i64,
    settings: &DeskSettings,
) -> Result<Option<DeskUser>, ServerError> {
    if !well_formed_token(token) {
        return Ok(None);
    }
    let hash = token_hash(token);
    let Some(row) = tx.desk_session(&hash)? else {
        return Ok(None);
    };
    let idle = now.saturating_sub(row.last_seen) > settings.idle_ms();
    let old = now.saturating_sub(row.created_at) > settings.max_ms();
    if idle || old {
        tx.delete_desk_session(&hash)?;
        return Ok(None);
    }
    let claim = xiangying_model::sync::kind::claim_of(roster, row.person.as_str());
    let Some(claim) = claim.filter(|c| works_at_desk(c.role)) else {
        tx.delete_desk_sessions_of(&row.person)?;
        return Ok(None);
    };
    if now.saturating_sub(row.last_seen) >= TOUCH_EVERY_MS {
        tx.touch_desk_session(&hash, now)?;
    }
    let name = roster
        .person(row.person.as_str())
        .map(|p| p.name.clone())
        .unwrap_or_default();
    Ok(Some(DeskUser {
        person: row.person,
        name,
        claim,
        csrf: csrf_of(token),
        roster: roster.clone(),
    }))
}

/// A cookie's value from a request's `Cookie` headers (the first of that name).
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v.trim())
        })
}

/// Whether cookies get `Secure`: always, except for plain requests from this very machine
/// that name it (a loopback peer *and* a loopback `Host`), the operator trying the desk at
/// `http://127.0.0.1:8470`. A reverse proxy on the same machine passes the public host name
/// in `Host`, so its browsers get `Secure` cookies; no forwarding header is trusted.
pub fn secure_cookies(client: ClientIp, headers: &HeaderMap) -> bool {
    !(client.is_loopback() && host_of(headers).is_some_and(|h| is_loopback_host(&h.0)))
}

/// The host (lower case, no brackets) and port of the `Host` header.
fn host_of(headers: &HeaderMap) -> Option<(String, Option<u16>)> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    split_authority(host)
}

/// Splits `host[:port]` (or `[v6]:port`) into a lower-case host and a port.
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let a = authority.trim().to_ascii_lowercase();
    if a.is_empty() || a.contains(['/', '@', ' ']) {
        return None;
    }
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (h.to_string(), port)
    } else {
        match a.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.parse().ok()?)),
            None => (a.clone(), None),
        }
    };
    Some((host, port))
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ClientIp(Some(ip)).is_loopback())
}

/// A `Set-Cookie` value: `HttpOnly; SameSite=Strict`, at `path`, `Secure` when asked; with a
/// lifetime in seconds, or `None` for a browser-session cookie.
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    secure: bool,
    max_age: Option<i64>,
) -> String {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if let Some(secs) = max_age {
        c.push_str(&format!("; Max-Age={secs}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// The session cookie for `token`.
pub fn session_cookie(token: &str, secure: bool) -> String {
    set_cookie(SESSION_COOKIE, token, "/desk", secure, None)
}

/// The session cookie, emptied and expired (sign-out).
pub fn clear_session_cookie(secure: bool) -> String {
    set_cookie(SESSION_COOKIE, "", "/desk", secure, Some(0))
}

/// Why a request has no [`DeskUser`]: a page is sent to the sign-in page, anything else is
/// refused.
#[derive(Debug)]
pub struct SignInFirst {
    /// The address asked for, to come back to after signing in.
    next: String,
}

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        let next = urlencode(&self.next);
        Redirect::to(&format!("/desk/login?next={next}")).into_response()
    }
}

/// Percent-encodes everything but unreserved characters.
pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl FromRequestParts<Shared> for DeskUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Response> {
        let reading = parts.method == Method::GET || parts.method == Method::HEAD;
        let signed_out = || {
            if reading {
                SignInFirst {
                    next: parts
                        .uri
                        .path_and_query()
                        .map(|p| p.as_str().to_string())
                        .unwrap_or_else(|| "/desk/".to_string()),
                }
                .into_response()
            } else {
                DeskError::Forbidden("尚未登录或登录已过期，请重新登录后再试".into())
                    .into_response()
            }
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string) else {
            return Err(signed_out());
        };
        let st = state.clone();
        let now = chrono::Utc::now().timestamp_millis();
        let found = crate::tasks::blocking(move || {
            with_tx(st.storage.as_ref(), |tx| {
                let roster = st.roster(tx)?;
                resolve(tx, &roster, &token, now, &st.limits.desk)
            })
        })
        .await;
        match found {
            Ok(Some(user)) => Ok(user),
            Ok(None) | Err(ServerError::NoOrg) => Err(signed_out()),
            Err(e) => Err(DeskError::from(e).into_response()),
        }
    }
}

/// A layer over the whole router: a `POST` under `/desk` whose `Origin` (or, without one, its
/// `Referer`) is another origin than the request's own `Host` is refused 403 before any
/// handler runs. A request with neither header (not a browser's form) passes on to the CSRF
/// token check.
pub async fn same_origin(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let desk = path == super::BASE || path.starts_with("/desk/");
    if desk && req.method() == Method::POST && !origin_matches(req.headers(), req.uri()) {
        tracing::warn!(path, "desk form post from another origin refused");
        return DeskError::Csrf.into_response();
    }
    next.run(req).await
}

/// Whether the request's `Origin` (else `Referer`) names the request's own host and port.
fn origin_matches(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER));
    let Some(source) = source else {
        return true;
    };
    let own =
        host_of(headers).or_else(|| uri.authority().and_then(|a| split_authority(a.as_str())));
    let (Some(own), Some(theirs)) = (own, source.to_str().ok().and_then(origin_authority)) else {
        return false;
    };
    without_default_port(own) == without_default_port(theirs)
}

/// The host and port of an origin or URL (`scheme://authority[/...]`); `None` for `null` and
/// anything else.
fn origin_authority(url: &str) -> Option<(String, Option<u16>)> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    split_authority(authority)
}

/// Drops a port of 80 or 443 (the default of either scheme: TLS is often ended at a proxy, so
/// the scheme of the browser's origin is not compared).
fn without_default_port((host, port): (String, Option<u16>)) -> (String, Option<u16>) {
    (host, port.filter(|p| *p != 80 && *p != 443))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;
    use axum::http::HeaderValue;
    use xiangying_model::org::sample;

    fn street() -> (tempfile::TempDir, SqliteStorage, Arc<Roster>) {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        crate::admin::publish(
            &storage,
            &sample::roster_json().unwrap(),
            &sample::catalogue_json().unwrap(),
        )
        .unwrap();
        (dir, storage, Arc::new(sample::roster().unwrap()))
    }

    fn resolve_at(
        s: &SqliteStorage,
        roster: &Arc<Roster>,
        token: &str,
        now: i64,
    ) -> Option<DeskUser> {
        with_tx(s, |tx| {
            resolve(tx, roster, token, now, &DeskSettings::default())
        })
        .unwrap()
    }

    const HOUR: i64 = 3_600_000;

    #[test]
    fn a_session_resolves_to_its_person_with_claim_and_csrf() {
        let (_d, s, roster) = street();
        let token = open_session(&s, "cc1", 1_000).unwrap();
        assert!(well_formed_token(&token));
        let user = resolve_at(&s, &roster, &token, 2_000).unwrap();
        assert_eq!(user.person.as_str(), "cc1");
        assert_eq!(user.claim.role, xiangying_model::org::Role::CommunityChief);
        assert_eq!(user.csrf, csrf_of(&token));
        assert_ne!(user.csrf, token);
        // Only the hash is stored.
        let stored = with_tx(&s, |tx| tx.desk_session(&token)).unwrap();
        assert_eq!(stored, None);
        assert!(resolve_at(&s, &roster, &"0".repeat(64), 2_000).is_none());
        assert!(resolve_at(&s, &roster, "short", 2_000).is_none());
        // Not for a role that does not work at a desk.
        assert!(open_session(&s, "gw1", 1_000).is_err());
    }

    #[test]
    fn an_idle_session_ends_and_so_does_an_old_one_however_used() {
        let (_d, s, roster) = street();
        let idle = open_session(&s, "center", 0).unwrap();
        assert!(
            resolve_at(&s, &roster, &idle, 2 * HOUR).is_some(),
            "120 minutes: still on"
        );
        let t = 2 * HOUR + 2 * HOUR + 1;
        assert!(
            resolve_at(&s, &roster, &idle, t).is_none(),
            "idle over 120 minutes"
        );
        assert!(
            resolve_at(&s, &roster, &idle, 2 * HOUR).is_none(),
            "ended for good"
        );
        let busy = open_session(&s, "center", 0).unwrap();
        let mut now = 0;
        while now < 12 * HOUR {
            now += HOUR;
            assert!(resolve_at(&s, &roster, &busy, now).is_some(), "at {now}");
        }
        assert!(resolve_at(&s, &roster, &busy, 12 * HOUR + 1).is_none());
    }

    #[test]
    fn a_person_who_no_longer_works_at_a_desk_loses_every_session() {
        let (_d, s, roster) = street();
        let a = open_session(&s, "cc2", 0).unwrap();
        let b = open_session(&s, "cc2", 0).unwrap();
        let mut changed = (*roster).clone();
        if let Some(p) = changed.people.iter_mut().find(|p| p.id == "cc2") {
            p.role = xiangying_model::org::Role::Volunteer;
        }
        let changed = Arc::new(changed);
        assert!(resolve_at(&s, &changed, &a, 10).is_none());
        assert!(
            resolve_at(&s, &roster, &b, 10).is_none(),
            "every session ended"
        );
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_unless_loopback_on_both_ends() {
        let c = session_cookie("abc", true);
        assert_eq!(
            c,
            "xy_desk_session=abc; Path=/desk; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(!session_cookie("abc", false).contains("Secure"));
        let mut h = HeaderMap::new();
        let lo = ClientIp(Some("127.0.0.1".parse().unwrap()));
        let far = ClientIp(Some("10.1.2.3".parse().unwrap()));
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8470"));
        assert!(!secure_cookies(lo, &h));
        assert!(secure_cookies(far, &h));
        h.insert(header::HOST, HeaderValue::from_static("[::1]:8470"));
        assert!(!secure_cookies(lo, &h));
        h.insert(header::HOST, HeaderValue::from_static("localhost"));
        assert!(!secure_cookies(lo, &h));
        // A proxy on this machine passing the public name: the browser is on HTTPS.
        h.insert(header::HOST, HeaderValue::from_static("desk.example.cn"));
        assert!(secure_cookies(lo, &h));
        assert!(secure_cookies(lo, &HeaderMap::new()));
    }

    #[test]
    fn origins_match_on_host_and_port_only() {
        let uri: axum::http::Uri = "/desk/logout".parse().unwrap();
        let check = |host: &str, origin: Option<&str>, referer: Option<&str>| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
            if let Some(o) = origin {
                h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
            }
            if let Some(r) = referer {
                h.insert(header::REFERER, HeaderValue::from_str(r).unwrap());
            }
            origin_matches(&h, &uri)
        };
        assert!(check(
            "desk.example.cn",
            Some("https://desk.example.cn"),
            None
        ));
        assert!(check(
            "desk.example.cn:443",
            Some("https://desk.example.cn"),
            None
        ));
        assert!(check("127.0.0.1:8470", Some("http://127.0.0.1:8470"), None));
        assert!(check("x:1", None, Some("http://x:1/desk/cases?a=1")));
        assert!(
            check("x:1", None, None),
            "no header: left to the CSRF token"
        );
        assert!(!check(
            "desk.example.cn",
            Some("https://evil.example"),
            None
        ));
        assert!(!check("desk.example.cn", Some("null"), None));
        assert!(!check(
            "127.0.0.1:8470",
            Some("http://127.0.0.1:8471"),
            None
        ));
        assert!(!check("x:1", None, Some("http://y:1/desk/")));
        assert!(!check("x", Some("https://x.evil"), None));
    }

    #[test]
    fn cookies_are_read_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; xy_desk_session=tok ; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "xy_desk"), None);
    }
}
