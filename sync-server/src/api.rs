//! The HTTP API.
//!
//! | route | what |
//! |---|---|
//! | `GET /health` | `{"status":"ok"}` once the storage answers |
//! | `GET /metrics` | the server's metrics ([`crate::metrics`]) in the Prometheus text format, for `Authorization: Bearer <metrics_token>` (or, with no token configured, loopback clients only) |
//! | `POST /v1/enrol` | JSON `{code, token, device_name}` → `{device_id, person}`; a bad code is 401, an expired one 410, too many failures 429 |
//! | `GET /v1/org` | the roster as the caller's role sees it, and the catalogue: `{version, roster, catalogue}` |
//! | `POST /v1/sync` | postcard [`SyncRequest`] → [`SyncResponse`] |
//! | `GET /v1/wait?cursor=N` | the wake-up channel ([`crate::wake`]): `200` when something new is in the caller's scope after `N`, `204` after the heartbeat |
//! | `HEAD /v1/photos/{hash}` | 200 when the server holds the file and this device may read it, else 404 with this device's own `Upload-Offset` |
//! | `PATCH /v1/photos/{hash}` | a chunk at `Upload-Offset` of a file of `Upload-Length` bytes, into this device's own upload |
//! | `POST /v1/photos` | postcard [`PhotoBatch`] of small files sent whole → [`PhotoBatchAnswer`], one outcome a file (decision 0059) |
//! | `GET /v1/photos/{hash}` | the file, streamed, for devices that may read it (see [`crate::photo_access`]) |
//!
//! Every `/v1` request is first checked for its protocol version ([`crate::protocol`]: 426
//! outside the majors this server answers, 400 for a malformed header), before the token and
//! before the body. Every `/v1` route but enrolment needs `Authorization: Bearer <token>`; an unknown or revoked
//! token gets 401 and nothing else. The token is checked from the headers before any of the
//! body is read, so an unauthenticated client cannot make the server buffer anything.
//!
//! Around the routes (docs/SECURITY.md has the figures): a deadline on every request, body
//! included; a cap on the bodies (a `Content-Length` over it is refused before reading); per device, a few requests in flight at once (more get 429;
//! waits on the wake-up channel are counted apart, decision 0061, and every upload's answer
//! names the allowance in [`IN_FLIGHT_HEADER`]);
//! for the heavy routes (sync, photos) a cap on requests served at once across all devices,
//! beyond which the answer is 503 with `Retry-After` rather than a queue.
//!
//! Every answer (success, error, timeout, `/health`, an unknown route) carries the store's
//! epoch in [`EPOCH_HEADER`]: the outermost layer adds it. A device that sees it change knows
//! the server was restored (docs/OPERATIONS.md).

use crate::auth;
use crate::blobs::BlobStatus;
use crate::device_status;
use crate::error::ServerError;
use crate::metrics::{self as m, InFlight, Phase};
use crate::photo_access;
use crate::photo_intake;
use crate::state::{AppState, Metrics};
use crate::storage::{DeviceRow, SyncReport, Tx, with_tx};
use crate::sync::{self, Ctx};
use crate::tasks::blocking;
use crate::throttle::ClientIp;
use crate::waiting::{Waited, wait_for_news};
use axum::body::{Body, Bytes};
use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Extension, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use xiangying_model::ids::PhotoHash;
use xiangying_model::org::Roster;
use xiangying_model::sync::photo_batch::{MAX_BATCH_FILES, PhotoBatch, PhotoBatchAnswer};
use xiangying_model::sync::version::Protocol;
use xiangying_model::sync::wire::{self, SyncRequest, SyncResponse};

type Shared = Arc<AppState>;

/// The response header holding the store's epoch (see [`crate::storage::meta`]).
pub use xiangying_model::sync::version::EPOCH_HEADER;

/// Seconds a client is told to wait when the heavy routes are full.
const OVERLOADED_RETRY_SECS: u64 = 2;

/// The router, with its limits.
pub fn router(state: Shared) -> Router {
    let limits = &state.limits;
    let sync_limit = limits.max_sync_body;
    let photo_limit = usize::try_from(limits.max_photo).unwrap_or(usize::MAX);
    let timeout = Duration::from_secs(limits.request_timeout_secs);
    m::install();
    metrics::gauge!(m::HEAVY_LIMIT).set(limits.max_inflight as f64);
    // Sync and photos share one pool of requests served at once (one semaphore for every
    // route the layer wraps); a full pool sheds at once.
    let shed = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
            ServerError::Overloaded(OVERLOADED_RETRY_SECS)
        }))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::new(limits.max_inflight))
        .layer(middleware::from_fn(m::track_heavy));
    // A `Content-Length` over the limit is refused before reading; a body without one is cut
    // off at the limit. Either way the answer is a `too_large` refusal with its code.
    let sync_route = Router::new()
        .route("/v1/sync", post(sync_handler))
        .layer(DefaultBodyLimit::max(sync_limit))
        .layer(RequestBodyLimitLayer::new(sync_limit))
        .layer(middleware::map_response(coded_too_large("max_sync_body")));
    let photo_routes = Router::new()
        .route(
            "/v1/photos/{hash}",
            get(photo_get).head(photo_head).patch(photo_patch),
        )
        .route("/v1/photos", post(photo_batch))
        .layer(DefaultBodyLimit::max(photo_limit))
        .layer(RequestBodyLimitLayer::new(photo_limit))
        .layer(middleware::map_response(coded_too_large("max_photo")));
    let heavy = sync_route.merge(photo_routes).layer(shed);
    let devices = Router::new()
        .route("/v1/org", get(org))
        .route(WAIT_ROUTE, get(wait))
        .merge(heavy)
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    // The protocol check wraps every `/v1` route, outside authentication.
    let v1 = Router::new()
        .route("/v1/enrol", post(enrol))
        .merge(devices)
        .route_layer(middleware::from_fn(crate::protocol::check));
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .merge(v1)
        .merge(crate::desk::routes())
        // Desk form posts from another origin are refused before any handler (decision 0039).
        .layer(middleware::from_fn(crate::desk::session::same_origin))
        .layer(RequestBodyTimeoutLayer::new(timeout))
        .layer(middleware::from_fn_with_state(state.clone(), deadline))
        .layer(middleware::map_response(stamp_epoch(&state.epoch)))
        // Every request counted and timed by its route template (a layer on the router wraps
        // each route, so the template is known; the fallback is "unmatched").
        .layer(middleware::from_fn(m::track_http))
        // Outermost: every request gets an id of the server's own (one a client sent is
        // dropped first), logged with the request (method, path, status, time; no bodies,
        // no query strings) and returned in `x-request-id`, which a device's error then names.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::map_request(drop_client_request_id))
        .with_state(state)
}

/// The log span of one request: its method, path (without the query) and id.
fn request_span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), id)
}

/// The request id header (`x-request-id`).
const REQUEST_ID: &str = "x-request-id";

/// Drops a request id the client sent: ids are the server's, unique, and safe to log.
async fn drop_client_request_id(mut req: Request) -> Request {
    req.headers_mut().remove(REQUEST_ID);
    req
}

/// The wake-up channel's route.
const WAIT_ROUTE: &str = "/v1/wait";

/// The deadline of every request, body included: [`Limits::request_timeout_secs`], and for a
/// wait on the wake-up channel its heartbeat on top. Past it the answer is `408`.
///
/// [`Limits::request_timeout_secs`]: crate::state::Limits::request_timeout_secs
async fn deadline(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let limits = &state.limits;
    let mut secs = limits.request_timeout_secs;
    if req.uri().path() == WAIT_ROUTE {
        secs = secs.saturating_add(limits.wait_secs);
    }
    // The deadline is looked at before the request, so that when both end in the same tick
    // (a body arriving too slowly also fails the body's own timeout) the answer is 408.
    tokio::select! {
        biased;
        () = tokio::time::sleep(Duration::from_secs(secs)) => StatusCode::REQUEST_TIMEOUT.into_response(),
        resp = next.run(req) => resp,
    }
}

/// Turns the body limit layer's plain-text 413 into the `too_large` refusal with its code
/// (decision 0025), naming the limit; the status stays 413.
fn coded_too_large(
    limit: &'static str,
) -> impl Fn(Response) -> std::future::Ready<Response> + Clone + Send + Sync + 'static {
    move |res: Response| {
        let json = res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        std::future::ready(if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !json {
            ServerError::TooLarge(format!("the body is larger than the limit {limit} allows"))
                .into_response()
        } else {
            res
        })
    }
}

/// The outermost layer: the store's epoch on every answer.
fn stamp_epoch(
    epoch: &str,
) -> impl Fn(Response) -> std::future::Ready<Response> + Clone + Send + Sync + 'static {
    // An epoch is a UUID; anything else (never written by this build) is sent as "invalid".
    let value = HeaderValue::from_str(epoch).unwrap_or(HeaderValue::from_static("invalid"));
    move |mut res: Response| {
        res.headers_mut().insert(EPOCH_HEADER, value.clone());
        std::future::ready(res)
    }
}

/// Checks the bearer token from the headers, before any of the body is read, and takes one of
/// the device's request slots (a wait: one of its wait slots) for as long as the request
/// lasts. The handler finds the device as an `Extension<DeviceRow>`.
async fn authenticate(
    State(state): State<Shared>,
    mut req: Request,
    next: Next,
) -> Result<Response, ServerError> {
    let token = bearer(req.headers())?;
    let st = state.clone();
    // Last seen for the desk (decision 0041); a sync records it with the device's report.
    let touch = req.uri().path() != "/v1/sync";
    let device = blocking(move || {
        with_tx(st.storage.as_ref(), |tx| {
            let device = auth::device_for(tx, &token)?;
            if touch {
                tx.touch_device(&device.id, now(), device_status::TOUCH_STEP_MS)?;
            }
            Ok(device)
        })
    })
    .await?;
    // The wake-up channel has slots of its own (decision 0061): a device that waits keeps
    // every one of its slots for syncs and uploads.
    let slots = if req.uri().path() == WAIT_ROUTE {
        &state.wait_slots
    } else {
        &state.device_slots
    };
    let _slot = slots
        .take(device.id.as_str())
        .ok_or(ServerError::DeviceBusy(1))?;
    req.extensions_mut().insert(device);
    Ok(next.run(req).await)
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

/// `GET /ready`, for a load balancer: 200 while this instance takes traffic (its store
/// answers; its migrations ran before it began serving), 503 once it is stopping (a SIGTERM
/// or SIGINT: the requests in flight finish, new ones should go elsewhere) or while its store
/// does not answer. `/health` says the store answers, stopping or not.
async fn ready(State(state): State<Shared>) -> Response {
    let unavailable = |why: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": why, "instance": state.instance })),
        )
            .into_response()
    };
    if state.wake.is_closed() {
        return unavailable("stopping");
    }
    let st = state.clone();
    // A store that does not answer soon is as good as down for a load balancer, whose probe
    // gives up after a few seconds: the pool's own wait (up to `pool_wait_secs`) is too long.
    let ping = blocking(move || st.storage.ping());
    match tokio::time::timeout(READY_DEADLINE, ping).await {
        Ok(Ok(())) => Json(serde_json::json!({
            "status": "ready",
            "instance": state.instance,
            "schema": state.storage.migrated().to,
        }))
        .into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the store does not answer");
            unavailable("store unreachable")
        }
        Err(_) => {
            tracing::warn!("not ready: the store did not answer within {READY_DEADLINE:?}");
            unavailable("store unreachable")
        }
    }
}

/// How long `/ready` waits for the store before answering 503.
const READY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

async fn health(State(state): State<Shared>) -> Result<Json<serde_json::Value>, ServerError> {
    let st = state.clone();
    blocking(move || st.storage.ping()).await?;
    Ok(Json(
        serde_json::json!({ "status": "ok", "storage": state.storage.kind(), "instance": state.instance }),
    ))
}

/// Whether a `/metrics` request may be answered: with the configured token, or from a
/// loopback address when none is configured.
fn metrics_allowed(state: &AppState, client: ClientIp, headers: &HeaderMap) -> bool {
    match &state.metrics_token {
        Some(expected) => bearer(headers).is_ok_and(|t| {
            use sha2::Digest;
            // Compare digests, so the time taken says nothing about the token.
            sha2::Sha256::digest(t.as_bytes()) == sha2::Sha256::digest(expected.as_bytes())
        }),
        None => client.is_loopback(),
    }
}

/// `GET /metrics`: the process's metrics in the Prometheus text format (version 0.0.4).
async fn metrics(
    State(state): State<Shared>,
    client: ClientIp,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    if !metrics_allowed(&state, client, &headers) {
        return Err(ServerError::Unauthorised);
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        m::render(),
    )
        .into_response())
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
    client: ClientIp,
    Json(req): Json<EnrolRequest>,
) -> Result<Json<EnrolResponse>, ServerError> {
    use auth::Enrolment;
    if let Err(e) = state.enrol_throttle.check(client) {
        tracing::warn!(target: "audit", outcome = "throttled", %client, "enrolment attempt");
        return Err(e);
    }
    let st = state.clone();
    let ttl_ms = i64::try_from(state.limits.code_ttl().as_millis()).unwrap_or(i64::MAX);
    let done = blocking(move || {
        with_tx(st.storage.as_ref(), |tx| {
            auth::enrol(tx, &req.code, &req.token, &req.device_name, now(), ttl_ms)
        })
    })
    .await;
    let failed = |outcome: &str, person: Option<&str>| {
        tracing::warn!(target: "audit", outcome, %client, person = person.unwrap_or("-"), "enrolment attempt");
        state.enrol_throttle.failed(client)
    };
    let device = match done {
        Ok(Enrolment::Enrolled(d)) => {
            tracing::info!(target: "audit", outcome = "enrolled", %client, person = %d.person, device = %d.id, "enrolment attempt");
            d
        }
        Ok(Enrolment::Again(d)) => {
            tracing::info!(target: "audit", outcome = "retried", %client, person = %d.person, device = %d.id, "enrolment attempt");
            d
        }
        Ok(Enrolment::Unknown) => {
            failed("unknown-code", None)?;
            return Err(ServerError::Unauthorised);
        }
        Ok(Enrolment::Expired { person, expired_at }) => {
            failed("expired-code", Some(person.as_str()))?;
            let at = chrono::DateTime::from_timestamp_millis(expired_at)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            return Err(ServerError::Expired(format!(
                "this enrolment code expired at {at}; ask the administrator for a new one"
            )));
        }
        Err(e @ ServerError::BadRequest(_)) => {
            failed("bad-request", None)?;
            return Err(e);
        }
        Err(e) => {
            tracing::warn!(target: "audit", outcome = "error", %client, "enrolment attempt");
            return Err(e);
        }
    };
    Ok(Json(EnrolResponse {
        device_id: device.id.into_string(),
        person: device.person.into_string(),
    }))
}

/// The roster as the caller's role sees it ([`Roster::view_for`]: places for everybody, people
/// and phone numbers by role), computed per request from the published roster, and the
/// catalogue. 401 for a person the roster no longer holds.
async fn org(
    State(state): State<Shared>,
    Extension(device): Extension<DeviceRow>,
) -> Result<Response, ServerError> {
    let st = state.clone();
    let (org, device) = blocking(move || {
        with_tx(st.storage.as_ref(), |tx| {
            Ok((tx.org()?.ok_or(ServerError::NoOrg)?, device.clone()))
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
        serde_json::to_string(&full.view_for(device.person.as_str()))
            .map_err(|e| ServerError::Internal(format!("roster view: {e}")))
    })
    .await?;
    let body = format!(
        "{{\"version\":{},\"roster\":{},\"catalogue\":{}}}",
        org.version, roster, org.catalogue
    );
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The request header a device sets on pushes that re-deliver documents after a restore.
pub use xiangying_model::sync::version::{IN_FLIGHT_HEADER, REDELIVERY_HEADER};

async fn sync_handler(
    State(state): State<Shared>,
    Extension(device): Extension<DeviceRow>,
    Extension(protocol): Extension<Protocol>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let report = device_status::report_from(&headers);
    let answer = sync_answer(&state, &device, protocol, &headers, body, &report).await;
    if let Err(e) = &answer
        && !matches!(e, ServerError::Storage(_) | ServerError::Internal(_))
    {
        let (st, code) = (state.clone(), e.code());
        let _ = blocking(move || {
            device_status::record_refused(&st, &device, &report, code);
            Ok(())
        })
        .await;
    }
    answer
}

/// The sync handler's work, its refusals recorded by [`sync_handler`].
async fn sync_answer(
    state: &Shared,
    device: &DeviceRow,
    protocol: Protocol,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    report: &SyncReport,
) -> Result<Response, ServerError> {
    let body = body?;
    // Other people's changes are taken back only within the window after a restore
    // (docs/decisions/0021-recovery-after-a-restore.md); elsewhere the header changes nothing.
    let redelivery = headers
        .get(REDELIVERY_HEADER)
        .is_some_and(|v| v.as_bytes() == b"1")
        && state.in_recovery(now());
    let decoding = Phase::start("decode");
    let req: SyncRequest = wire::decode(&body)
        .map_err(|e| ServerError::BadRequest(format!("not a sync request: {e}")))?;
    drop(decoding);
    m::sync_bytes("in", body.len() as u64);
    drop(body);
    let st = state.clone();
    let how = Pushing {
        layout: protocol.layout(),
        redelivery,
    };
    let (device, report) = (device.clone(), report.clone());
    let resp = blocking(move || sync_blocking(&st, &device, how, &req, &report)).await?;
    let encoding = Phase::start("encode");
    let bytes = wire::encode(&resp).map_err(|e| ServerError::Internal(e.to_string()))?;
    drop(encoding);
    m::sync_bytes("out", bytes.len() as u64);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-xiangying-sync"),
        )],
        bytes,
    )
        .into_response())
}

/// The cursor a device waits after (`GET /v1/wait?cursor=N`).
#[derive(Debug, Deserialize)]
struct WaitQuery {
    cursor: u64,
}

/// The wake-up channel ([`crate::wake`]): `200` as soon as the feed holds something after the
/// cursor in the device's scope, `204` after the heartbeat with nothing.
async fn wait(
    State(state): State<Shared>,
    Extension(device): Extension<DeviceRow>,
    Query(q): Query<WaitQuery>,
) -> Result<Response, ServerError> {
    let _waiting = InFlight::enter(m::WAITING_DEVICES);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(state.limits.wait_secs);
    Ok(
        match wait_for_news(&state, device.person.clone(), q.cursor, deadline).await? {
            Waited::News => StatusCode::OK.into_response(),
            Waited::Nothing => StatusCode::NO_CONTENT.into_response(),
            Waited::Stopping => stopping(),
        },
    )
}

/// The answer to a wait while the server stops: nothing new, ask again (elsewhere, or once it
/// is back), on a new connection: this one closes, so the next wait does not go to a server
/// that no longer answers.
fn stopping() -> Response {
    (
        StatusCode::NO_CONTENT,
        [(header::CONNECTION, HeaderValue::from_static("close"))],
    )
        .into_response()
}

/// How a device's push is taken: its document layout, and whether it re-delivers.
#[derive(Debug, Clone, Copy)]
struct Pushing {
    layout: u32,
    redelivery: bool,
}

fn sync_blocking(
    state: &AppState,
    device: &DeviceRow,
    how: Pushing,
    req: &SyncRequest,
    report: &SyncReport,
) -> Result<SyncResponse, ServerError> {
    let storage = state.storage.as_ref();
    let changes = req.push.len() as u64;
    let refused = |e: ServerError| {
        m::changes_refused(changes, e.code());
        e
    };
    // Every pushed byte is sized up and parsed before any lock is taken.
    let checking = Phase::start("check");
    let checked = sync::check_push(&state.limits, &req.push).map_err(refused)?;
    drop(checking);
    let pushing = Phase::start("push");
    let pushed = with_tx(storage, |tx| {
        let roster = state.roster(tx)?;
        let ctx = Ctx {
            roster: &roster,
            device,
            actor: &state.actor,
            instance: &state.instance,
            now: now(),
            layout: how.layout,
            redelivery: how.redelivery,
        };
        let pushed = sync::push(tx, &ctx, &checked)?;
        // What the device reported, with its push: one upsert (decision 0041).
        tx.record_sync(&device.id, ctx.now, report)?;
        Ok(pushed)
    });
    let pushed = match pushed {
        Err(ServerError::Tamper { case_id, reason }) => {
            let why = format!("case {case_id}: {reason}");
            tracing::warn!(device = %device.id, person = %device.person, %why, "tampering: device quarantined");
            metrics::counter!(m::QUARANTINED).increment(1);
            with_tx(storage, |tx| tx.quarantine_device(&device.id, &why))?;
            return Err(refused(ServerError::Tamper { case_id, reason }));
        }
        other => other.map_err(refused)?,
    };
    drop(pushing);
    m::changes_accepted(changes);
    if !pushed.keys.is_empty() {
        // Committed: whoever waits on the wake-up channel and may read one of these checks.
        state.wake.ring_for(pushed.keys);
    }
    let acked_through = pushed.max_seq;
    let _pulling = Phase::start("pull");
    let max_bytes = usize::try_from(req.max_feed_bytes)
        .unwrap_or(usize::MAX)
        .min(state.limits.max_feed_bytes);
    with_tx(storage, |tx| {
        let roster = state.roster(tx)?;
        let ctx = Ctx {
            roster: &roster,
            device,
            actor: &state.actor,
            instance: &state.instance,
            now: now(),
            layout: how.layout,
            redelivery: how.redelivery,
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

/// Whether the device may read the photo (see [`crate::photo_access`]).
fn may_see_photo(
    state: &AppState,
    tx: &mut dyn Tx,
    device: &DeviceRow,
    hash: &PhotoHash,
) -> Result<bool, ServerError> {
    photo_access::may_read(state, tx, device, hash)
}

/// Whether the device may read the photo (the hash checked first).
fn authorised_photo(
    state: &AppState,
    device: &DeviceRow,
    hash: &PhotoHash,
) -> Result<bool, ServerError> {
    with_tx(state.storage.as_ref(), |tx| {
        if !crate::blobs::valid_hash(hash.as_str()) {
            return Err(ServerError::BadRequest("not a SHA-256 hash".into()));
        }
        may_see_photo(state, tx, device, hash)
    })
}

async fn photo_head(
    State(state): State<Shared>,
    Extension(device): Extension<DeviceRow>,
    Path(hash): Path<PhotoHash>,
) -> Result<Response, ServerError> {
    let st = state.clone();
    let status = blocking(move || {
        let may_read = authorised_photo(&st, &device, &hash)?;
        if may_read && st.blobs.is_complete(hash.as_str())? {
            return Ok(BlobStatus::Complete);
        }
        let ttl = st.limits.partial_upload_ttl();
        Ok(BlobStatus::Partial(
            st.blobs.partial_len(&device.id, &hash, ttl)?,
        ))
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
    Extension(device): Extension<DeviceRow>,
    Path(hash): Path<PhotoHash>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let body = body?;
    let offset = header_u64(&headers, "upload-offset")?;
    let total = header_u64(&headers, "upload-length")?;
    let st = state.clone();
    let len = body.len() as u64;
    let status =
        blocking(move || photo_intake::receive(&st, &device, &hash, offset, total, &body)).await?;
    Metrics::add(&state.metrics.photo_bytes_in, len);
    m::photo_bytes("in", len);
    let mut res = match status {
        BlobStatus::Complete => StatusCode::CREATED.into_response(),
        BlobStatus::Partial(n) => {
            (StatusCode::ACCEPTED, [("upload-offset", n.to_string())]).into_response()
        }
    };
    tell_in_flight(&state, &mut res);
    Ok(res)
}

/// Tells a device on an upload's answer how many requests it may have in flight at once
/// besides its wake-up channel (decision 0061).
fn tell_in_flight(state: &AppState, res: &mut Response) {
    res.headers_mut().insert(
        IN_FLIGHT_HEADER,
        HeaderValue::from(state.limits.device_concurrency),
    );
}

/// `POST /v1/photos`: small files sent whole in one request, each checked and stored as a
/// `PATCH` of it alone would be, and answered on its own (decision 0059). A body that is not
/// a batch, or one of more than [`MAX_BATCH_FILES`] files, is refused before any file is
/// looked at; a refused file does not stop the others.
async fn photo_batch(
    State(state): State<Shared>,
    Extension(device): Extension<DeviceRow>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ServerError> {
    let body = body?;
    let len = body.len() as u64;
    let batch: PhotoBatch = wire::decode(&body)
        .map_err(|e| ServerError::BadRequest(format!("the body is not a photo batch: {e}")))?;
    drop(body);
    if batch.files.len() > MAX_BATCH_FILES {
        return Err(ServerError::BadRequest(format!(
            "a photo batch may carry at most {MAX_BATCH_FILES} files; this one has {}",
            batch.files.len()
        )));
    }
    let st = state.clone();
    let outcomes = blocking(move || photo_intake::receive_batch(&st, &device, batch.files)).await?;
    Metrics::add(&state.metrics.photo_bytes_in, len);
    m::photo_bytes("in", len);
    let bytes = wire::encode(&PhotoBatchAnswer { outcomes })
        .map_err(|e| ServerError::Internal(e.to_string()))?;
    let mut res = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-xiangying-photos"),
        )],
        bytes,
    )
        .into_response();
    tell_in_flight(&state, &mut res);
    Ok(res)
}

async fn photo_get(
    State(state): State<Shared>,
    Extension(device): Extension<DeviceRow>,
    Path(hash): Path<PhotoHash>,
) -> Result<Response, ServerError> {
    let st = state.clone();
    let blob = blocking(move || {
        let may_read = authorised_photo(&st, &device, &hash)?;
        if !may_read {
            return Err(ServerError::NotFound);
        }
        st.blobs.open(hash.as_str())
    })
    .await?;
    let len = blob.len;
    let stream = blob.into_stream();
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (header::CONTENT_LENGTH, HeaderValue::from(len)),
        ],
        m::counted_body(Body::from_stream(stream)),
    )
        .into_response())
}
