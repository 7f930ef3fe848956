//! Live updates for open desk pages: `GET /desk/live?cursor=N` is a long poll on the same
//! wake-up channel phones wait on ([`crate::wake`]). Without a cursor it answers the feed's
//! position at once; with one it answers as soon as the feed holds a change after it that the
//! signed-in person may read (`changed: true` and the new position), or after
//! [`LIVE_WAIT_SECS`] with `changed: false`. The page's script then reloads the page's main
//! region (`assets/desk.js`).

use super::Shared;
use super::session::DeskUser;
use crate::error::ServerError;
use crate::storage::with_tx;
use crate::tasks::blocking;
use crate::waiting::{Waited, wait_for_news};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The longest a live poll waits before answering "nothing new" (well under proxies' idle
/// timeouts and the server's request deadline).
pub const LIVE_WAIT_SECS: u64 = 25;

/// The live route.
pub fn routes() -> Router<Shared> {
    Router::new().route("/desk/live", get(live))
}

#[derive(Debug, Deserialize)]
struct LiveQuery {
    cursor: Option<u64>,
}

/// The answer: where the feed stands, and whether something the person may read changed.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Live {
    /// The position to wait after next time.
    pub cursor: u64,
    /// Whether the page should reload.
    pub changed: bool,
}

async fn live(
    State(state): State<Shared>,
    user: DeskUser,
    Query(q): Query<LiveQuery>,
) -> Result<Response, ServerError> {
    let position = |state: Shared| async move {
        blocking(move || with_tx(state.storage.as_ref(), |tx| tx.max_position())).await
    };
    let answer = match q.cursor {
        None => Live {
            cursor: position(state.clone()).await?,
            changed: false,
        },
        Some(cursor) => {
            let secs = LIVE_WAIT_SECS
                .min(state.limits.wait_secs)
                .min(state.limits.request_timeout_secs.saturating_sub(1))
                .max(1);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
            match wait_for_news(&state, user.person.clone(), cursor, deadline).await? {
                Waited::News => Live {
                    cursor: position(state.clone()).await?,
                    changed: true,
                },
                Waited::Nothing | Waited::Stopping => Live {
                    cursor,
                    changed: false,
                },
            }
        }
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(answer)).into_response())
}
