//! Sign-in and sessions for the desk: who is at the desk ([`DeskUser`]), and the CSRF check
//! every form post passes.
//!
//! CONTRACT (skeleton): the extractor below always sends the browser to the sign-in page; the
//! sign-in work replaces it with real sessions, keeping [`DeskUser`]'s fields and
//! [`check_csrf`]'s signature.

use super::Shared;
use super::error::DeskError;
use super::layout;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::html;
use std::sync::Arc;
use xiangying_model::case::Claim;
use xiangying_model::ids::PersonId;
use xiangying_model::org::Roster;

/// The person signed in at the desk, with the roster their request is judged against.
#[derive(Debug, Clone)]
pub struct DeskUser {
    /// Their roster id.
    pub person: PersonId,
    /// Their name, from the roster.
    pub name: String,
    /// Their role and scope now, from the roster: what their desk actions are authored as.
    pub claim: Claim,
    /// This session's CSRF token, carried by every form ([`layout::csrf_field`]).
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
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
fn urlencode(s: &str) -> String {
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
    type Rejection = SignInFirst;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &Shared,
    ) -> Result<Self, Self::Rejection> {
        Err(SignInFirst {
            next: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/desk/".to_string()),
        })
    }
}

/// The sign-in routes.
pub fn routes() -> Router<Shared> {
    Router::new().route(
        "/desk/login",
        get(|| async { layout::bare("登录", html! { h1 { "登录" } p { "尚未开放" } }) }),
    )
}

// TEMPORARY STUB (browser part): the sign-in part provides the real `SESSION_COOKIE` and
// `open_session`; the integrator keeps theirs and drops this block.

/// CONTRACT: the session cookie's name. STUB value.
pub const SESSION_COOKIE: &str = "xy_desk_session";

/// CONTRACT: opens a session for `person` and returns the cookie's value. STUB: returns a value
/// no session matches.
pub fn open_session(
    storage: &dyn crate::storage::Storage,
    person: &str,
    now_ms: i64,
) -> Result<String, crate::error::ServerError> {
    let _ = (storage, person, now_ms);
    Ok("stub".to_string())
}
