//! The server's metrics: the process-wide `metrics` recorder, rendered in the Prometheus text
//! format at `GET /metrics` (decision 0035).
//!
//! Code anywhere in the server emits with the `metrics` macros (`counter!`, `gauge!`,
//! `histogram!`) under the names below; [`install`] sets up the recorder once per process (a
//! second call, e.g. a second server in one test process, gets the same handle), with the
//! histogram buckets and the `# HELP` text of every metric. Emitting before it runs is a
//! no-op. Every name starts with `xiangying_` and carries its unit; every label takes values
//! from a small fixed set (route templates, methods, status codes, refusal codes, phases),
//! never an id, a hash or a person's data.
//!
//! This module also holds the helpers the request path uses: [`track_http`] (the middleware
//! that counts and times every request by its route template), [`Phase`] (times one phase of
//! a sync), [`InFlight`] (a gauge up while a guard lives) and [`counted_body`] (counts the
//! bytes of a response body as they are handed to the connection).

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Requests answered, by route template, method and status.
pub const HTTP_REQUESTS: &str = "xiangying_http_requests_total";
/// Time to answer a request (to the response's head), by route template, method and status.
pub const HTTP_DURATION: &str = "xiangying_http_request_duration_seconds";
/// Time of one phase of a sync, by phase.
pub const SYNC_PHASE: &str = "xiangying_sync_phase_duration_seconds";
/// Pushed changes, by outcome (accepted|refused) and reason (a refusal's stable code).
pub const CHANGES: &str = "xiangying_changes_total";
/// Sync body bytes, by direction (in|out).
pub const SYNC_BYTES: &str = "xiangying_sync_bytes_total";
/// Time of one store transaction, by backend (sqlite|postgres).
pub const STORE_TRANSACTION: &str = "xiangying_store_transaction_duration_seconds";
/// Connections of the PostgreSQL pool, by state (idle|in_use) (the PostgreSQL part emits it).
pub const STORE_POOL_CONNECTIONS: &str = "xiangying_store_pool_connections";
/// The PostgreSQL pool's size (the PostgreSQL part emits it).
pub const STORE_POOL_SIZE_MAX: &str = "xiangying_store_pool_size_max";
/// Time waited for a pooled connection (the PostgreSQL part emits it).
pub const STORE_POOL_WAIT: &str = "xiangying_store_pool_wait_seconds";
/// Store transactions retried, by reason (the PostgreSQL part emits it).
pub const STORE_RETRIES: &str = "xiangying_store_retries_total";
/// Photo bytes, by direction (in: uploaded chunks stored; out: download bytes sent).
pub const PHOTO_BYTES: &str = "xiangying_photo_bytes_total";
/// Photo files removed by the sweep, by kind (partial|orphan) (the photos part emits it).
pub const PHOTO_SWEEP_REMOVED: &str = "xiangying_photo_sweep_removed_total";
/// Requests waiting on the wake-up channel now.
pub const WAITING_DEVICES: &str = "xiangying_waiting_devices";
/// Looks at the store by waits on the wake-up channel.
pub const WAIT_CHECKS: &str = "xiangying_wait_checks_total";
/// Store work handed to the blocking threads and not finished (queued or running).
pub const BLOCKING_TASKS: &str = "xiangying_blocking_tasks_in_flight";
/// Sync and photo requests being served now (against `max_inflight`).
pub const HEAVY_IN_FLIGHT: &str = "xiangying_heavy_requests_in_flight";
/// The configured `max_inflight`.
pub const HEAVY_LIMIT: &str = "xiangying_heavy_requests_limit";
/// Devices quarantined for tampering.
pub const QUARANTINED: &str = "xiangying_devices_quarantined_total";
/// 1, labelled with this build's version.
pub const BUILD_INFO: &str = "xiangying_build_info";

/// Buckets of request latency, seconds: 1 ms to 10 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets of sync phases and store transactions, seconds: 0.1 ms to 5 s (most are short; a
/// phase is part of a request).
pub const PHASE_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
/// Buckets of waits for a pooled connection, seconds: 0.1 ms to 30 s (the longest
/// `pool_wait_secs` an operator is likely to set).
pub const POOL_WAIT_BUCKETS: &[f64] = &[
    0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often the recorder folds recorded histogram samples into its buckets when nobody
/// scrapes (a scrape does it too), so an unscraped server does not keep every sample.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls return the same handle) and
/// describes every metric. When another recorder was installed first (not by this module),
/// the handle renders nothing and a warning is logged.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = buckets().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "metrics buckets refused: histograms render as summaries");
            PrometheusBuilder::new()
        });
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if let Err(e) = metrics::set_global_recorder(recorder) {
            tracing::warn!(error = %e, "another metrics recorder is installed: /metrics stays empty");
        }
        describe();
        gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no metrics upkeep thread: histograms fold at scrapes only");
        }
        handle
    })
}

/// A builder with the bucket boundaries of every histogram.
fn buckets() -> Result<PrometheusBuilder, BuildError> {
    let sets: [(&str, &[f64]); 4] = [
        (HTTP_DURATION, LATENCY_BUCKETS),
        (SYNC_PHASE, PHASE_BUCKETS),
        (STORE_TRANSACTION, PHASE_BUCKETS),
        (STORE_POOL_WAIT, POOL_WAIT_BUCKETS),
    ];
    let mut builder = PrometheusBuilder::new();
    for (name, values) in sets {
        builder = builder.set_buckets_for_metric(Matcher::Full(name.into()), values)?;
    }
    Ok(builder)
}

/// The `# HELP` text (with its unit) of every metric the server emits.
fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        Unit::Count,
        "HTTP requests answered, by route template (\"unmatched\" for no route), method and status code."
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Seconds from a request's arrival to its response's head, by route template, method and status code (a wait on /v1/wait lasts up to the heartbeat)."
    );
    describe_histogram!(
        SYNC_PHASE,
        Unit::Seconds,
        "Seconds spent in one phase of a sync (decode, check, push, pull, encode)."
    );
    describe_counter!(
        CHANGES,
        Unit::Count,
        "Pushed changes, by outcome (accepted or refused) and reason (the refusal's stable code; \"none\" when accepted)."
    );
    describe_counter!(
        SYNC_BYTES,
        Unit::Bytes,
        "Bytes of sync request bodies (in) and sync response bodies (out)."
    );
    describe_histogram!(
        STORE_TRANSACTION,
        Unit::Seconds,
        "Seconds one store transaction took, connection wait and retries included, by backend (sqlite or postgres)."
    );
    describe_gauge!(
        STORE_POOL_CONNECTIONS,
        Unit::Count,
        "PostgreSQL pool connections, by state (idle or in_use)."
    );
    describe_gauge!(
        STORE_POOL_SIZE_MAX,
        Unit::Count,
        "The most connections the PostgreSQL pool opens."
    );
    describe_histogram!(
        STORE_POOL_WAIT,
        Unit::Seconds,
        "Seconds a transaction waited for a PostgreSQL pool connection."
    );
    describe_counter!(
        STORE_RETRIES,
        Unit::Count,
        "Store transactions retried, by reason (serialization, deadlock or connection)."
    );
    describe_counter!(
        PHOTO_BYTES,
        Unit::Bytes,
        "Photo bytes: uploaded chunks stored (in) and download bytes sent (out)."
    );
    describe_counter!(
        PHOTO_SWEEP_REMOVED,
        Unit::Count,
        "Photo files removed by the clean-up, by kind (partial upload or orphan)."
    );
    describe_gauge!(
        WAITING_DEVICES,
        Unit::Count,
        "Requests waiting on the wake-up channel (/v1/wait) now."
    );
    describe_counter!(
        WAIT_CHECKS,
        Unit::Count,
        "Store look-ups by waits on the wake-up channel (one when a wait starts, one per ring that may concern it)."
    );
    describe_gauge!(
        BLOCKING_TASKS,
        Unit::Count,
        "Store and file work handed to the blocking threads and not yet finished (queued or running)."
    );
    describe_gauge!(
        HEAVY_IN_FLIGHT,
        Unit::Count,
        "Sync and photo requests being served now; at the limit, more are answered 503."
    );
    describe_gauge!(
        HEAVY_LIMIT,
        Unit::Count,
        "The most sync and photo requests served at once (max_inflight)."
    );
    describe_counter!(
        QUARANTINED,
        Unit::Count,
        "Devices quarantined because a push was tampering."
    );
    describe_gauge!(
        BUILD_INFO,
        Unit::Count,
        "Always 1; the version label is this server's build."
    );
}

/// The text for `GET /metrics`: the current figures in the Prometheus text format.
pub fn render() -> String {
    let handle = install();
    // The gauge is read when scraped: the wake-up channel knows it at any moment.
    handle.render()
}

/// The route label of a request: its matched template, or "unmatched".
fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string())
}

/// The method label: the standard methods by name, anything else "other" (a client may send
/// any token as a method).
fn method_of(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The middleware that counts and times every request by route template, method and status.
/// Added with `Router::layer`, so the route is known ([`MatchedPath`]).
pub async fn track_http(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = route_of(&req);
    let method = method_of(req.method());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    let labels = [
        ("route", route),
        ("method", method.to_string()),
        ("status", status),
    ];
    counter!(HTTP_REQUESTS, &labels).increment(1);
    histogram!(HTTP_DURATION, &labels).record(started.elapsed().as_secs_f64());
    resp
}

/// Times one phase of a sync: recorded when dropped.
#[derive(Debug)]
pub struct Phase {
    name: &'static str,
    started: Instant,
}

impl Phase {
    /// Starts timing the phase `name` (decode, check, push, pull, encode).
    pub fn start(name: &'static str) -> Phase {
        Phase {
            name,
            started: Instant::now(),
        }
    }
}

impl Drop for Phase {
    fn drop(&mut self) {
        histogram!(SYNC_PHASE, "phase" => self.name).record(self.started.elapsed().as_secs_f64());
    }
}

/// Counts `n` pushed changes accepted.
pub fn changes_accepted(n: u64) {
    counter!(CHANGES, "outcome" => "accepted", "reason" => "none").increment(n);
}

/// Counts `n` pushed changes refused, for the refusal with stable code `reason`.
pub fn changes_refused(n: u64, reason: &'static str) {
    counter!(CHANGES, "outcome" => "refused", "reason" => reason).increment(n);
}

/// Times one store transaction on `backend`.
pub fn store_transaction(backend: &'static str, took: Duration) {
    histogram!(STORE_TRANSACTION, "backend" => backend).record(took.as_secs_f64());
}

/// Adds `n` photo bytes in `direction` (in|out).
pub fn photo_bytes(direction: &'static str, n: u64) {
    counter!(PHOTO_BYTES, "direction" => direction).increment(n);
}

/// Adds `n` sync body bytes in `direction` (in|out).
pub fn sync_bytes(direction: &'static str, n: u64) {
    counter!(SYNC_BYTES, "direction" => direction).increment(n);
}

/// A gauge that is one higher while this guard lives.
#[derive(Debug)]
pub struct InFlight(&'static str);

impl InFlight {
    /// Raises the gauge `name` until the guard is dropped.
    pub fn enter(name: &'static str) -> InFlight {
        gauge!(name).increment(1.0);
        InFlight(name)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        gauge!(self.0).decrement(1.0);
    }
}

/// The middleware that keeps [`HEAVY_IN_FLIGHT`] for the requests it wraps.
pub async fn track_heavy(req: Request, next: Next) -> Response {
    let _in = InFlight::enter(HEAVY_IN_FLIGHT);
    next.run(req).await
}

/// `body`, adding the bytes of each data frame to [`PHOTO_BYTES`] `{direction="out"}` as it is
/// handed to the connection (a download broken off counts what was sent).
pub fn counted_body(body: Body) -> Body {
    Body::new(Counted { inner: body })
}

/// A body that counts its data bytes as they are polled.
struct Counted {
    inner: Body,
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            photo_bytes("out", data.len() as u64);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_is_idempotent_and_renders_help_and_type() {
        let a = install() as *const PrometheusHandle;
        let b = install() as *const PrometheusHandle;
        assert_eq!(a, b);
        changes_refused(2, "tampering");
        let text = render();
        assert!(text.contains("# HELP xiangying_changes_total "), "{text}");
        assert!(
            text.contains("# TYPE xiangying_changes_total counter"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "xiangying_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
    }

    #[test]
    fn latency_is_a_histogram_with_its_buckets() {
        install();
        histogram!(HTTP_DURATION, "route" => "/t", "method" => "GET", "status" => "200")
            .record(0.003);
        let text = render();
        assert!(
            text.contains("# TYPE xiangying_http_request_duration_seconds histogram"),
            "{text}"
        );
        assert!(
            text.contains(
                "xiangying_http_request_duration_seconds_bucket{route=\"/t\",method=\"GET\",status=\"200\",le=\"0.005\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "xiangying_http_request_duration_seconds_bucket{route=\"/t\",method=\"GET\",status=\"200\",le=\"0.0025\"} 0"
            ),
            "{text}"
        );
    }

    #[test]
    fn odd_methods_are_one_label() {
        assert_eq!(method_of(&Method::GET), "GET");
        assert_eq!(method_of(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
