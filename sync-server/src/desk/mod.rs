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
pub mod error;
pub mod index;
pub mod layout;
pub mod map;
pub mod session;

use crate::state::AppState;
use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use std::sync::Arc;

/// Shorthand for the router's state.
pub type Shared = Arc<AppState>;

/// Where the desk lives.
pub const BASE: &str = "/desk";

/// The desk's routes, merged into the server's router. `/` sends a browser to the desk.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/desk/") }))
        .merge(layout::routes())
        .merge(session::routes())
        .merge(map::routes())
}
