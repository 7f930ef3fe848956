//! Accepting connections within limits: a cap on open connections, a deadline for a request's
//! headers (which also closes idle keep-alive connections), and a graceful stop.
//!
//! `axum::serve` has no header deadline and no connection cap: a thousand idle sockets used up
//! the process's file descriptors. This loop serves HTTP/1.1 with hyper directly. A connection
//! beyond [`Limits::max_connections`] is answered `503` with `Retry-After` and closed at once, so
//! an honest device learns when to come back instead of hanging. Each request also carries the
//! client's address as axum's [`ConnectInfo`], for rate limits and audit lines.
//!
//! With a [`TlsAcceptor`] (the server's own HTTPS, decision 0030) each connection's TLS
//! handshake runs on the connection's own task, under the same deadline as a request's headers:
//! a client that opens a connection and never finishes its handshake (a slow-loris handshake)
//! holds its connection slot no longer than one that never sends its headers.

use crate::state::Limits;
use crate::tls::TlsAcceptor;
use axum::Router;
use axum::extract::connect_info::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Seconds an over-capacity client is told to wait.
const RETRY_AFTER_SECS: u64 = 5;

/// How long a stop waits for requests in flight before closing their connections.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` resolves, within `limits`; `epoch` is the
/// store's epoch, sent on the answer to a connection refused for being over the cap. With
/// `tls`, every connection is HTTPS.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    epoch: &str,
    tls: Option<TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Some(warning) = descriptor_shortfall(limits.max_connections, open_files_limit()) {
        tracing::warn!("{warning}");
    }
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let header_timeout = Duration::from_secs(limits.header_timeout_secs);
    let graceful = GracefulShutdown::new();
    // Even a refused connection's answer carries the store's epoch (see `api`).
    let epoch: Arc<str> = Arc::from(epoch);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(64 * 1024);
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors or similar: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers leave at once: a photo streamed in pieces would otherwise wait for the
        // client's delayed acknowledgement (40 ms a download, measured in issue 18).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, %remote, "TCP_NODELAY not set");
        }
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream, epoch.clone(), tls.clone()));
            continue;
        };
        let service = TowerToHyperService::new(router.clone().map_request(
            move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(remote));
                req
            },
        ));
        match &tls {
            None => {
                let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, %remote, "connection ended");
                    }
                    drop(permit);
                });
            }
            Some(acceptor) => {
                let handshake = acceptor.accept(stream);
                let http = http.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let stream = match tokio::time::timeout(header_timeout, handshake).await {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %remote, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%remote, "TLS handshake past the header deadline");
                            return;
                        }
                    };
                    let conn = http.serve_connection(TokioIo::new(stream), service);
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(error = %e, %remote, "connection ended");
                    }
                    drop(permit);
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(STOP_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the grace period; stopping anyway");
    }
    Ok(())
}

/// File descriptors the process needs besides its connections (store, photo files, the
/// listener, the runtime).
const SPARE_DESCRIPTORS: u64 = 256;

/// The process's soft limit on open files, read from `/proc/self/limits` (Linux; `None`
/// elsewhere or when unlimited).
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files(&text)
}

/// The soft "Max open files" value of a `/proc/<pid>/limits` text.
fn parse_open_files(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A warning for the operator when `max_connections` cannot be reached within the process's
/// open-files limit: connections past it would fail to be accepted instead of being answered
/// 503 with `Retry-After`.
fn descriptor_shortfall(max_connections: usize, limit: Option<u64>) -> Option<String> {
    let limit = limit?;
    let needed = (max_connections as u64).saturating_add(SPARE_DESCRIPTORS);
    (limit < needed).then(|| {
        format!(
            "max_connections is {max_connections} but this process may open only {limit} files \
             (about {needed} needed): raise the limit (systemd LimitNOFILE=, ulimit -n) or \
             lower max_connections"
        )
    })
}

/// How long the answer to a connection over the cap may take, a TLS handshake included.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(2);

/// Answers a connection over the cap with 503 (over TLS with `tls`) and closes it.
async fn refuse(stream: tokio::net::TcpStream, epoch: Arc<str>, tls: Option<TlsAcceptor>) {
    let answer = async {
        match tls {
            None => write_refusal(stream, &epoch).await,
            Some(acceptor) => write_refusal(acceptor.accept(stream).await?, &epoch).await,
        }
    };
    let _ = tokio::time::timeout(REFUSAL_DEADLINE, answer).await;
}

/// Writes the over-capacity answer and shuts the stream down.
async fn write_refusal(mut stream: impl AsyncWrite + Unpin, epoch: &str) -> std::io::Result<()> {
    let body = format!(
        "{{\"error\":\"the server has as many connections as it may; try again in {RETRY_AFTER_SECS} s\",\"code\":\"overloaded\"}}"
    );
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: {RETRY_AFTER_SECS}\r\n{}: {epoch}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        crate::api::EPOCH_HEADER,
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_descriptor_limit_below_the_connection_cap_is_named() {
        let text = "Limit                     Soft Limit           Hard Limit           Units\n\
                    Max open files            1024                 524288               files\n";
        assert_eq!(parse_open_files(text), Some(1024));
        let warning = descriptor_shortfall(10_000, Some(1024)).unwrap();
        assert!(warning.contains("max_connections is 10000"), "{warning}");
        assert!(warning.contains("only 1024"), "{warning}");
        assert_eq!(descriptor_shortfall(10_000, Some(65_536)), None);
        assert_eq!(descriptor_shortfall(10_000, None), None);
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_files(unlimited), None);
    }
}
