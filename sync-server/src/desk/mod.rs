//! The street centre's desk (街道网格化管理中心工作台): a web application served by the server
//! itself under `/desk/`, in Simplified Chinese, for the people who work at a desk (centre
//! staff, street officials, department staff, community chiefs).
//!
//! Pages are rendered on the server ([`maud`]) with a little JavaScript; every asset is
//! embedded in the binary ([`layout`]), so the desk works on a closed government network.
//! Every action on a case goes through the same rules and push judgement as a phone's
//! ([`actions`]), authored as the signed-in person.
//!
//! - [`session`], [`login`], [`password`]: sessions, CSRF and the signed-in person
//!   ([`session::DeskUser`]); the sign-in pages; argon2id passwords and lockout (decision 0039);
//! - [`layout`], [`error`], [`time`]: the page shell, navigation and embedded assets; error
//!   pages; times in China time;
//! - [`actions`]: desk actions on cases, through the push judgement (decision 0044);
//! - [`index`]: the case index the lists, map and overview read (decision 0040);
//! - pages: [`overview`] (总览, with [`charts`]), [`map`] (地图, decision 0042), [`cases`]
//!   (案件) and [`case_page`], [`rankings`] (考核, with [`download`]), [`boards`] (公示栏),
//!   [`devices`] (设备, with [`enrol_qr`]; decision 0041), [`people`] (人员);
//! - [`live`]: live updates over the wake-up channel.

pub mod actions;
pub mod boards;
pub mod case_page;
pub mod cases;
pub mod charts;
pub mod devices;
pub mod download;
pub mod enrol_qr;
pub mod error;
pub mod index;
pub mod layout;
pub mod live;
pub mod login;
pub mod map;
pub mod overview;
pub mod password;
pub mod people;
pub mod rankings;
pub mod session;
pub mod time;

use crate::error::ServerError;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::response::{Redirect, Response};
use axum::routing::get;
use std::sync::Arc;
use xiangying_model::org::{Catalogue, Roster};

/// Shorthand for the router's state.
pub type Shared = Arc<AppState>;

/// Where the desk lives.
pub const BASE: &str = "/desk";

/// The largest form body the desk reads.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// The Content-Security-Policy of every desk response: only the desk's own scripts, styles,
/// images and forms; no framing. Inline style attributes are allowed (bars drawn by width);
/// inline scripts are not.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
base-uri 'none'; object-src 'none'";

/// Adds the desk's security headers to a response (without replacing one a handler set).
async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    res
}

/// The published catalogue (categories, time limits, the working calendar), if an org is
/// published (it was checked when it was published: a catalogue that no longer parses is an
/// internal error).
pub fn published_catalogue(
    tx: &mut dyn crate::storage::Tx,
) -> Result<Option<Catalogue>, ServerError> {
    let Some(org) = tx.org()? else {
        return Ok(None);
    };
    Catalogue::from_json("catalogue", &org.catalogue)
        .map(Some)
        .map_err(|e| ServerError::Internal(format!("published catalogue: {e}")))
}

/// The published catalogue; no org published is [`ServerError::NoOrg`].
pub fn catalogue(tx: &mut dyn crate::storage::Tx) -> Result<Catalogue, ServerError> {
    published_catalogue(tx)?.ok_or(ServerError::NoOrg)
}

/// The desk's routes, merged into the server's router. `/` sends a browser to the desk.
pub fn routes() -> Router<Shared> {
    let desk = Router::new()
        .merge(layout::routes())
        .merge(login::routes())
        .merge(case_page::routes())
        .merge(live::routes())
        .merge(devices::routes())
        .merge(people::routes())
        .merge(rankings::routes())
        .merge(boards::routes())
        .merge(cases::routes())
        .merge(overview::routes())
        .merge(map::routes())
        // Desk forms are small: a bigger body is refused before it is read.
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(middleware::map_response(security_headers));
    Router::new()
        .route("/", get(|| async { Redirect::to("/desk/") }))
        .merge(desk)
}

/// The server clock, ms since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The case a person names in a form (its number, or its id), as a case id; only a case the
/// person may see is found.
pub fn resolve_case_ref(
    state: &AppState,
    user: &session::DeskUser,
    text: &str,
) -> Result<String, ServerError> {
    let text = text.trim();
    if uuid::Uuid::parse_str(text).is_ok() {
        return Ok(text.to_string());
    }
    let not_found = || ServerError::BadRequest(format!("没有编号为 {text} 的案件"));
    if text.is_empty() || text.chars().count() > 64 {
        return Err(not_found());
    }
    let scope = crate::sync::scope_of(&user.roster, &user.person);
    let query = index::CaseQuery {
        number: Some(text.to_string()),
        ..index::CaseQuery::default()
    };
    let found = crate::storage::with_tx(state.storage.as_ref(), |tx| {
        index::list(tx, &scope, &query, now_ms())
    })?;
    found
        .rows
        .into_iter()
        .find(|c| c.number.as_deref() == Some(text))
        .map(|c| c.case_id)
        .ok_or_else(not_found)
}

/// A small map of the case's place: its grid, the neighbours faintly, and the pin.
pub fn place_map(roster: &Roster, point: Option<(f64, f64)>, grid: &str) -> maud::Markup {
    map::mini_map(roster, point, grid)
}
