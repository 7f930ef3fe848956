//! The sign-in page (`GET/POST /desk/login`), sign-out (`POST /desk/logout`, and everywhere:
//! `POST /desk/logout-all`), the signed-in person's account page with both buttons
//! (`GET /desk/account`) and one-time sign-in links (`GET /desk/link/{token}`); decision
//! 0039.
//!
//! The sign-in form has no session to draw a CSRF token from, so it carries a nonce that must
//! match a short-lived cookie of its own (login CSRF: another site cannot sign a browser in
//! as someone else); the same-origin layer ([`super::session::same_origin`]) stands in front
//! too. `next` is followed only when it is a path under `/desk/` (open-redirect defence).

use super::Shared;
use super::error::DeskError;
use super::layout;
use super::password::{self, SignIn};
use super::session::{
    self, DeskUser, SESSION_COOKIE, check_csrf, clear_session_cookie, constant_time_eq, cookie,
    secure_cookies, session_cookie, set_cookie, token_hash, well_formed_token,
};
use crate::error::ServerError;
use crate::storage::{Storage, with_tx};
use crate::throttle::ClientIp;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use xiangying_model::ids::PersonId;

/// The sign-in form's nonce cookie.
pub const LOGIN_COOKIE: &str = "xy_desk_login";

/// How long a one-time sign-in link stays valid, ms (24 hours).
pub const LINK_TTL_MS: i64 = 24 * 3_600_000;

/// The largest sign-in or sign-out form body read, bytes.
const MAX_FORM_BYTES: usize = 8 * 1024;

/// The longest `next` followed, bytes.
const MAX_NEXT_BYTES: usize = 512;

/// Where a browser goes after signing in when `next` is missing or refused.
const HOME: &str = "/desk/";

/// The sign-in routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/desk/login", get(login_page).post(login_post))
        .route("/desk/logout", post(logout))
        .route("/desk/logout-all", post(logout_all))
        .route("/desk/account", get(account))
        .route("/desk/link/{token}", get(link))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
}

/// `next` when it is a path under `/desk/` (no scheme, no host, no `//`, no backslash, no
/// control characters, bounded), else `/desk/`.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(n) = next else {
        return HOME.to_string();
    };
    let ok = n.len() <= MAX_NEXT_BYTES
        && (n == "/desk" || n.starts_with("/desk/"))
        && !n.contains("//")
        && !n.contains('\\')
        && !n.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok { n.to_string() } else { HOME.to_string() }
}

/// The sign-in page: the form, with `error` above it and `login` kept in its field.
pub fn sign_in_page(nonce: &str, next: &str, login: &str, error: Option<&str>) -> Markup {
    layout::bare(
        "登录",
        html! {
            h1 { "响应工作台 · 登录" }
            @if let Some(e) = error {
                p.error-message #login-error role="alert" { (e) }
            }
            form method="post" action="/desk/login" {
                input type="hidden" name="_login" value=(nonce);
                input type="hidden" name="next" value=(next);
                label for="person" { "人员编号或手机号" }
                input #person type="text" name="person" value=(login) required
                    maxlength=(password::MAX_LOGIN_CHARS) autocomplete="username" autofocus;
                label for="password" { "密码" }
                input #password type="password" name="password" required
                    maxlength=(password::MAX_PASSWORD_BYTES) autocomplete="current-password";
                button type="submit" { "登录" }
            }
            p.muted { "忘记密码请联系街道网格化管理中心重置。" }
        },
    )
}

/// A sign-in page answer with `status`, a fresh nonce and its cookie.
fn sign_in_answer(
    status: StatusCode,
    secure: bool,
    next: &str,
    login: &str,
    error: Option<&str>,
) -> Response {
    let nonce = crate::auth::new_token();
    let cookie = set_cookie(LOGIN_COOKIE, &nonce, "/desk/login", secure, Some(3600));
    let mut r = (status, sign_in_page(&nonce, next, login, error)).into_response();
    append_cookie(&mut r, &cookie);
    no_store(&mut r);
    r
}

fn append_cookie(r: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Nothing about signing in is cached or framed by another site, nor leaks in a `Referer` to
/// another site. (Not `no-referrer`: under it browsers send `Origin: null` with the page's own
/// form posts, which the same-origin check must refuse.)
fn no_store(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// `303 See Other` to `to`, with cookies.
fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    for c in cookies {
        append_cookie(&mut r, c);
    }
    no_store(&mut r);
    r
}

/// The query of the sign-in page.
#[derive(Debug, serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
    client: ClientIp,
    headers: HeaderMap,
    query: Result<Query<NextQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let next = query.ok().and_then(|q| q.0.next);
    sign_in_answer(
        StatusCode::OK,
        secure_cookies(client, &headers),
        &safe_next(next.as_deref()),
        "",
        None,
    )
}

/// The sign-in form.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct LoginForm {
    person: String,
    password: String,
    #[serde(rename = "_login")]
    nonce: String,
    next: String,
}

async fn login_post(
    State(st): State<Shared>,
    client: ClientIp,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let secure = secure_cookies(client, &headers);
    let Ok(Form(form)) = form else {
        return sign_in_answer(
            StatusCode::BAD_REQUEST,
            secure,
            HOME,
            "",
            Some("登录表单无法识别，请重新填写。"),
        );
    };
    let next = safe_next(Some(&form.next));
    let login: String = form
        .person
        .trim()
        .chars()
        .take(password::MAX_LOGIN_CHARS)
        .collect();
    let nonce_ok = cookie(&headers, LOGIN_COOKIE).is_some_and(|c| {
        !form.nonce.is_empty() && constant_time_eq(c.as_bytes(), form.nonce.as_bytes())
    });
    if !nonce_ok {
        return sign_in_answer(
            StatusCode::FORBIDDEN,
            secure,
            &next,
            &login,
            Some("登录页面已过期或来源不明，请重新输入后再登录。"),
        );
    }
    if let Err(e) = st.desk_sign_in.attempt(client) {
        let secs = e.retry_after().unwrap_or(60);
        let mut r = sign_in_answer(
            StatusCode::TOO_MANY_REQUESTS,
            secure,
            &next,
            &login,
            Some(&format!("登录尝试过于频繁，请 {secs} 秒后再试。")),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    match sign_in(&st, &login, form.password, &headers).await {
        Ok(Ok(token)) => see_other(
            &next,
            &[
                session_cookie(&token, secure),
                set_cookie(LOGIN_COOKIE, "", "/desk/login", secure, Some(0)),
            ],
        ),
        Ok(Err(wait_ms)) => sign_in_answer(
            StatusCode::FORBIDDEN,
            secure,
            &next,
            &login,
            Some(&password::refusal_message(wait_ms)),
        ),
        Err(ServerError::NoOrg) => sign_in_answer(
            StatusCode::SERVICE_UNAVAILABLE,
            secure,
            &next,
            &login,
            Some("人员名册尚未发布，暂时无法登录。"),
        ),
        Err(e) => DeskError::from(e).into_response(),
    }
}

/// Judges a sign-in off the async threads, one hashing slot held: the new session's token,
/// or the refusal's wait.
async fn sign_in(
    st: &Shared,
    login: &str,
    password: String,
    headers: &HeaderMap,
) -> Result<Result<String, Option<i64>>, ServerError> {
    let _slot = st.desk_sign_in.hashing_slot().await?;
    let st = st.clone();
    let login = login.to_string();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    crate::tasks::blocking(move || {
        let storage = st.storage.as_ref();
        let roster = with_tx(storage, |tx| st.roster(tx))?;
        let now = chrono::Utc::now().timestamp_millis();
        match password::sign_in(storage, &roster, &login, &password, now)? {
            SignIn::Person(person) => {
                let settings = &st.limits.desk;
                with_tx(storage, |tx| {
                    tx.delete_stale_desk_sessions(
                        now.saturating_sub(settings.idle_ms()),
                        now.saturating_sub(settings.max_ms()),
                    )?;
                    session::open_session_in(tx, &person, now, user_agent.as_deref())
                })
                .map(Ok)
            }
            SignIn::Refused { wait_ms } => Ok(Err(wait_ms)),
        }
    })
    .await
}

/// A sign-out form: only its CSRF token.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct CsrfForm {
    #[serde(rename = "_csrf")]
    csrf: String,
}

/// Ends this session (or, `everywhere`, every session of the person) after the CSRF check.
async fn sign_out(
    st: Shared,
    user: DeskUser,
    client: ClientIp,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
    everywhere: bool,
) -> Result<Response, DeskError> {
    let token = form.map(|f| f.0.csrf).unwrap_or_default();
    check_csrf(&user, &token)?;
    let hash = cookie(&headers, SESSION_COOKIE).map(token_hash);
    let person = user.person.clone();
    crate::tasks::blocking(move || {
        with_tx(st.storage.as_ref(), |tx| {
            if everywhere {
                let n = tx.delete_desk_sessions_of(&person)?;
                tracing::info!(person = %person, sessions = n, "desk: signed out everywhere");
            } else if let Some(h) = &hash {
                tx.delete_desk_session(h)?;
            }
            Ok(())
        })
    })
    .await?;
    let secure = secure_cookies(client, &headers);
    Ok(see_other("/desk/login", &[clear_session_cookie(secure)]))
}

async fn logout(
    State(st): State<Shared>,
    user: DeskUser,
    client: ClientIp,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, DeskError> {
    sign_out(st, user, client, headers, form, false).await
}

async fn logout_all(
    State(st): State<Shared>,
    user: DeskUser,
    client: ClientIp,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, DeskError> {
    sign_out(st, user, client, headers, form, true).await
}

/// The account page: who is signed in, and the two ways to sign out.
pub fn account_page(user: &DeskUser) -> Markup {
    layout::bare(
        "账号",
        html! {
            h1 { "账号与登录" }
            dl {
                dt { "姓名" } dd #account-name { (user.name) }
                dt { "人员编号" } dd { (user.person.as_str()) }
                dt { "角色" } dd { (user.role_label()) }
            }
            form method="post" action="/desk/logout" {
                (layout::csrf_field(user))
                button type="submit" { "退出登录" }
            }
            form method="post" action="/desk/logout-all" {
                (layout::csrf_field(user))
                button.secondary type="submit" { "在所有浏览器上退出" }
            }
            p { a href=(HOME) { "返回工作台" } }
        },
    )
}

async fn account(user: DeskUser) -> Response {
    let mut r = account_page(&user).into_response();
    no_store(&mut r);
    r
}

/// Issues a one-time sign-in link for a person who works at a desk: returns its token (the
/// path is [`link_path`]); valid [`LINK_TTL_MS`], spent by its first use.
pub fn issue_link(storage: &dyn Storage, person: &str, now_ms: i64) -> Result<String, ServerError> {
    let roster = crate::reports::roster(storage)?;
    password::desk_person(&roster, person)?;
    let token = crate::auth::new_token();
    let id = PersonId::from(person);
    with_tx(storage, |tx| {
        tx.insert_desk_link(&token_hash(&token), &id, now_ms)
    })?;
    Ok(token)
}

/// The path of a sign-in link.
pub fn link_path(token: &str) -> String {
    format!("/desk/link/{token}")
}

async fn link(
    State(st): State<Shared>,
    client: ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let gone = || {
        let mut r =
            DeskError::NotFound("登录链接无效、已使用或已过期，请向管理员索取新的链接。".into())
                .into_response();
        no_store(&mut r);
        r
    };
    if let Err(e) = st.desk_sign_in.attempt(client) {
        return DeskError::from(e).into_response();
    }
    if !well_formed_token(&token) {
        return gone();
    }
    let hash = token_hash(&token);
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let st2 = st.clone();
    let opened = crate::tasks::blocking(move || {
        let now = chrono::Utc::now().timestamp_millis();
        with_tx(st2.storage.as_ref(), |tx| {
            let roster = st2.roster(tx)?;
            let Some(person) = tx.take_desk_link(&hash, now, now.saturating_sub(LINK_TTL_MS))?
            else {
                return Ok(None);
            };
            if password::desk_person(&roster, person.as_str()).is_err() {
                return Ok(None);
            }
            session::open_session_in(tx, &person, now, user_agent.as_deref()).map(Some)
        })
    })
    .await;
    match opened {
        Ok(Some(token)) => {
            // A page, not a redirect: a browser that followed the link from another site
            // would not send a SameSite=Strict cookie along a redirect; a navigation from this
            // page is same-site.
            let page = layout::bare(
                "已登录",
                html! {
                    meta http-equiv="refresh" content="0; url=/desk/";
                    h1 { "已登录" }
                    p { "正在进入工作台……" }
                    p { a href=(HOME) { "进入工作台" } }
                },
            );
            let mut r = page.into_response();
            append_cookie(
                &mut r,
                &session_cookie(&token, secure_cookies(client, &headers)),
            );
            no_store(&mut r);
            r
        }
        Ok(None) | Err(ServerError::NoOrg) => gone(),
        Err(e) => DeskError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_followed_only_under_the_desk() {
        assert_eq!(
            safe_next(Some("/desk/cases?status=open")),
            "/desk/cases?status=open"
        );
        assert_eq!(safe_next(Some("/desk")), "/desk");
        for bad in [
            "https://evil.example/desk/",
            "//evil.example/desk/",
            "/desk//evil.example",
            "/\\evil.example",
            "/desk/\\evil",
            "/deskevil",
            "/metrics",
            "javascript:alert(1)",
            "/desk/\r\nSet-Cookie: x=1",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/desk/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/desk/");
        assert_eq!(
            safe_next(Some(&format!("/desk/{}", "a".repeat(600)))),
            "/desk/"
        );
    }

    #[test]
    fn the_sign_in_page_labels_every_input_and_escapes_what_was_typed() {
        let page = sign_in_page(
            "n0nce",
            "/desk/map",
            "<b>x</b>",
            Some("登录名或密码不正确。"),
        )
        .into_string();
        assert!(page.contains(r#"<label for="person">"#), "{page}");
        assert!(page.contains(r#"<label for="password">"#));
        assert!(page.contains(r#"name="_login" value="n0nce""#));
        assert!(page.contains(r#"name="next" value="/desk/map""#));
        assert!(page.contains("&lt;b&gt;x&lt;/b&gt;") && !page.contains("<b>x</b>"));
        assert!(page.contains(r#"role="alert""#));
        assert!(page.contains(r#"<button type="submit">登录</button>"#));
    }
}
