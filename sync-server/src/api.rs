//! The HTTP API.
//!
//! | route | what |
//! |---|---|
//! | `GET /health` | `{"status":"ok"}` once the storage answers |
//! | `GET /metrics` | counters in the Prometheus text format |
//! | `POST /v1/enrol` | JSON `{code, token, device_name}` → `{device_id, person}`; a bad code is 401 |
//! | `GET /v1/org` | the roster as the caller's role sees it, and the catalogue: `{version, roster, catalogue}` |
//! | `POST /v1/sync` | postcard [`SyncRequest`] → [`SyncResponse`] |
//! | `HEAD /v1/photos/{hash}` | 200 when the server holds the file, else 404 with `Upload-Offset` |
//! | `PATCH /v1/photos/{hash}` | a chunk at `Upload-Offset` of a file of `Upload-Length` bytes |
//! | `GET /v1/photos/{hash}` | the file, for devices that may see a case referencing it |
//!
//! Every `/v1` route but enrolment needs `Authorization: Bearer <token>`; an unknown or revoked
//! token gets 401 and nothing else.

use crate::auth;
use crate::blobs::BlobStatus;
use crate::error::ServerError;
use crate::state::{AppState, Metrics};
use crate::storage::{DeviceRow, Tx, with_tx};
use crate::sync::{self, Ctx};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use xiangying_core::org::Roster;
use xiangying_core::sync::scope::may_see;
use xiangying_core::sync::wire::{self, SyncRequest, SyncResponse};

type Shared = Arc<AppState>;

/// The router, with its body limits.
pub fn router(state: Shared) -> Router {
    let sync_limit = state.limits.max_sync_body;
    let photo_limit = usize::try_from(state.limits.max_photo).unwrap_or(usize::MAX);
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/enrol", post(enrol))
        .route("/v1/org", get(org))
        .route(
            "/v1/sync",
            post(sync_handler).layer(DefaultBodyLimit::max(sync_limit)),
        )
        .route(
            "/v1/photos/{hash}",
            get(photo_get)
                .head(photo_head)
                .patch(photo_patch)
                .layer(DefaultBodyLimit::max(photo_limit)),
        )
        .with_state(state)
}

/// Runs storage work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServerError> + Send + 'static,
) -> Result<T, ServerError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServerError::Internal(format!("worker: {e}")))?
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn bearer(headers: &HeaderMap) -> Result<String, ServerError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or(ServerError::Unauthorised)
}

async fn health(State(state): State<Shared>) -> Result<Json<serde_json::Value>, ServerError> {
    let st = state.clone();
    blocking(move || with_tx(st.storage.as_ref(), |tx| tx.org_version())).await?;
    Ok(Json(
        serde_json::json!({ "status": "ok", "storage": state.storage.kind(), "instance": state.instance }),
    ))
}

async fn metrics(State(state): State<Shared>) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let m: &Metrics = &state.metrics;
    format!(
        "xiangying_syncs_total {}\nxiangying_pushed_changes_total {}\nxiangying_sync_bytes_in_total {}\nxiangying_sync_bytes_out_total {}\nxiangying_photo_bytes_in_total {}\nxiangying_tampering_total {}\n",
        m.syncs.load(Relaxed),
        m.pushed.load(Relaxed),
        m.bytes_in.load(Relaxed),
        m.bytes_out.load(Relaxed),
        m.photo_bytes_in.load(Relaxed),
        m.tampering.load(Relaxed),
    )
}

/// The body of `POST /v1/enrol`.
#[derive(Debug, Deserialize)]
pub struct EnrolRequest {
    /// The one-time code the administrator issued.
    pub code: String,
    /// The bearer token the device made for itself (at least 32 random hex digits).
    pub token: String,
    /// A name for the device.
    #[serde(default)]
    pub device_name: String,
}

/// The answer to an enrolment.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// The new device's id.
    pub device_id: String,
    /// The person the code was issued for.
    pub person: String,
}

async fn enrol(
    State(state): State<Shared>,
    Json(req): Json<EnrolRequest>,
) -> Result<Json<EnrolResponse>, ServerError> {
    let st = state.clone();
    let done = blocking(move || {
        with_tx(st.storage.as_ref(), |tx| {
            auth::enrol(tx, &req.code, &req.token, &req.device_name, now())
        })
    })
    .await?;
    let device = done.ok_or(ServerError::Unauthorised)?;
    tracing::info!(device = %device.id, person = %device.person, "enrolled");
    Ok(Json(EnrolResponse {
        device_id: device.id,
        person: device.person,
    }))
}

/// The roster as the caller's role sees it ([`Roster::view_for`]: places for everybody, people
/// and phone numbers by role), computed per request from the published roster, and the
/// catalogue. 401 for a person the roster no longer holds.
async fn org(State(state): State<Shared>, headers: HeaderMap) -> Result<Response, ServerError> {
    let token = bearer(&headers)?;
    let st = state.clone();
    let (org, device) = blocking(move || {
        with_tx(st.storage.as_ref(), |tx| {
            let device = auth::device_for(tx, &token)?;
            Ok((tx.org()?.ok_or(ServerError::NoOrg)?, device))
        })
    })
    .await?;
    let roster = blocking(move || {
        // Checked when it was published: only parsed here.
        let full: Roster = serde_json::from_str(&org.roster)
            .map_err(|e| ServerError::Internal(format!("stored roster: {e}")))?;
        // A person who left the roster gets nothing (publishing revoked their devices; this
        // also covers a device enrolled afterwards with a code issued before).
        if !full.people.iter().any(|p| p.id == device.person) {
            return Err(ServerError::Unauthorised);
        }
        serde_json::to_string(&full.view_for(&device.person))
            .map_err(|e| ServerError::Internal(format!("roster view: {e}")))
    })
    .await?;
    let body = format!(
        "{{\"version\":{},\"roster\":{},\"catalogue\":{}}}",
        org.version, roster, org.catalogue
    );
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn sync_handler(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ServerError> {
    let token = bearer(&headers)?;
    let req: SyncRequest = wire::decode(&body)
        .map_err(|e| ServerError::BadRequest(format!("not a sync request: {e}")))?;
    Metrics::add(&state.metrics.bytes_in, body.len() as u64);
    let st = state.clone();
    let resp = blocking(move || sync_blocking(&st, &token, &req)).await?;
    let bytes = wire::encode(&resp).map_err(|e| ServerError::Internal(e.to_string()))?;
    Metrics::add(&state.metrics.syncs, 1);
    Metrics::add(&state.metrics.bytes_out, bytes.len() as u64);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-xiangying-sync"),
        )],
        bytes,
    )
        .into_response())
}

fn sync_blocking(
    state: &AppState,
    token: &str,
    req: &SyncRequest,
) -> Result<SyncResponse, ServerError> {
    let storage = state.storage.as_ref();
    let device = with_tx(storage, |tx| auth::device_for(tx, token))?;
    let pushed = with_tx(storage, |tx| {
        let roster = state.roster(tx)?;
        let ctx = Ctx {
            roster: &roster,
            device: &device,
            actor: &state.actor,
            instance: &state.instance,
            now: now(),
        };
        sync::push(tx, &ctx, &req.push)
    });
    let acked_through = match pushed {
        Err(ServerError::Tamper { case_id, reason }) => {
            let why = format!("case {case_id}: {reason}");
            tracing::warn!(device = %device.id, person = %device.person, %why, "tampering: device quarantined");
            Metrics::add(&state.metrics.tampering, 1);
            with_tx(storage, |tx| tx.quarantine_device(&device.id, &why))?;
            return Err(ServerError::Tamper { case_id, reason });
        }
        other => other?,
    };
    Metrics::add(&state.metrics.pushed, req.push.len() as u64);
    let max_bytes = usize::try_from(req.max_feed_bytes)
        .unwrap_or(usize::MAX)
        .min(state.limits.max_feed_bytes);
    with_tx(storage, |tx| {
        let roster = state.roster(tx)?;
        let ctx = Ctx {
            roster: &roster,
            device: &device,
            actor: &state.actor,
            instance: &state.instance,
            now: now(),
        };
        let page = sync::pull(tx, &ctx, req.cursor, max_bytes, state.limits.max_feed_cases)?;
        Ok(SyncResponse {
            acked_through,
            feed: page.items,
            cursor: page.cursor,
            more: page.more,
            org_version: tx.org_version()?,
        })
    })
}

/// Whether the device may see some case that references the photo.
fn may_see_photo(
    state: &AppState,
    tx: &mut dyn Tx,
    device: &DeviceRow,
    hash: &str,
) -> Result<bool, ServerError> {
    let roster = state.roster(tx)?;
    let scope = sync::scope_of(&roster, &device.person);
    for case in tx.photo_cases(hash)? {
        if may_see(&scope, &tx.access(&case)?) {
            return Ok(true);
        }
    }
    Ok(false)
}

fn authorised_photo(state: &AppState, token: &str, hash: &str) -> Result<(), ServerError> {
    with_tx(state.storage.as_ref(), |tx| {
        let device = auth::device_for(tx, token)?;
        if may_see_photo(state, tx, &device, hash)? {
            Ok(())
        } else {
            Err(ServerError::NotFound)
        }
    })
}

async fn photo_head(
    State(state): State<Shared>,
    Path(hash): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let token = bearer(&headers)?;
    let st = state.clone();
    let status = blocking(move || {
        authorised_photo(&st, &token, &hash)?;
        st.blobs.status(&hash)
    })
    .await?;
    Ok(match status {
        BlobStatus::Complete => StatusCode::OK.into_response(),
        BlobStatus::Partial(n) => {
            (StatusCode::NOT_FOUND, [("upload-offset", n.to_string())]).into_response()
        }
    })
}

fn header_u64(headers: &HeaderMap, name: &str) -> Result<u64, ServerError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| ServerError::BadRequest(format!("missing or invalid {name} header")))
}

async fn photo_patch(
    State(state): State<Shared>,
    Path(hash): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ServerError> {
    let token = bearer(&headers)?;
    let offset = header_u64(&headers, "upload-offset")?;
    let total = header_u64(&headers, "upload-length")?;
    let st = state.clone();
    let len = body.len() as u64;
    let status = blocking(move || {
        authorised_photo(&st, &token, &hash)?;
        st.blobs.append(&hash, offset, total, &body)
    })
    .await?;
    Metrics::add(&state.metrics.photo_bytes_in, len);
    Ok(match status {
        BlobStatus::Complete => StatusCode::CREATED.into_response(),
        BlobStatus::Partial(n) => {
            (StatusCode::ACCEPTED, [("upload-offset", n.to_string())]).into_response()
        }
    })
}

async fn photo_get(
    State(state): State<Shared>,
    Path(hash): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let token = bearer(&headers)?;
    let st = state.clone();
    let bytes = blocking(move || {
        authorised_photo(&st, &token, &hash)?;
        st.blobs.read(&hash)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response())
}
