//! The street centre's desk (街道网格化管理中心工作台): a web application served by the server
//! itself under `/desk/`, in Simplified Chinese, for the people who work at a desk (centre
//! staff, street officials, department staff, community chiefs).
//!
//! Pages are rendered on the server ([`maud`]) with a little JavaScript; every asset is
//! embedded in the binary ([`layout`]), so the desk works on a closed government network.
//! Every action on a case goes through the same rules and push judgement as a phone's
//! ([`actions`]), authored as the signed-in person.
//!
//! - [`session`]: sign-in, sessions, CSRF, the signed-in person ([`session::DeskUser`]);
//! - [`layout`]: the page shell, navigation and the embedded assets;
//! - [`error`]: error pages;
//! - [`actions`]: desk actions on cases, through the push judgement;
//! - one module per page.

pub mod actions;
pub mod case_page;
pub mod error;
pub mod layout;
pub mod live;
pub mod session;
pub mod time;

use crate::error::ServerError;
use crate::state::AppState;
use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use std::sync::Arc;
use xiangying_model::org::{Catalogue, Roster};

/// Shorthand for the router's state.
pub type Shared = Arc<AppState>;

/// Where the desk lives.
pub const BASE: &str = "/desk";

/// The published catalogue (categories, time limits, the working calendar).
pub fn catalogue(tx: &mut dyn crate::storage::Tx) -> Result<Catalogue, ServerError> {
    let org = tx.org()?.ok_or(ServerError::NoOrg)?;
    Catalogue::from_json("catalogue", &org.catalogue)
        .map_err(|e| ServerError::Internal(format!("published catalogue: {e}")))
}

/// The desk's routes, merged into the server's router. `/` sends a browser to the desk.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/desk/") }))
        .merge(layout::routes())
        .merge(session::routes())
        .merge(case_page::routes())
        .merge(live::routes())
}

/// The server clock, ms since the epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The case a person names in a form (its number, or its id), as a case id.
pub fn resolve_case_ref(
    _state: &AppState,
    _user: &session::DeskUser,
    text: &str,
) -> Result<String, ServerError> {
    let text = text.trim();
    if uuid::Uuid::parse_str(text).is_ok() {
        return Ok(text.to_string());
    }
    Err(ServerError::BadRequest(format!("没有编号为 {text} 的案件")))
}

/// A small map of the case's place (the map module draws it).
pub fn place_map(_roster: &Roster, point: Option<(f64, f64)>, _grid: &str) -> maud::Markup {
    maud::html! {
        @if let Some((lat, lon)) = point { p.muted { (format!("{lat:.6}, {lon:.6}")) } }
    }
}
