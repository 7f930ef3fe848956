//! The HTTP side of the device's sync: requests with timeouts, retries with backoff on network
//! failures and server errors, and the mapping of answers to [`Error`]s.

use crate::error::{Error, Result};
use crate::sync::photo_batch::{BatchFile, BatchOutcome, PhotoBatchAnswer};
use crate::sync::refusal::Refusal;
use crate::sync::tls::{self, TlsOptions};
use crate::sync::version::{self, Protocol};
use crate::sync::wire::{self, SyncRequest, SyncResponse};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use std::time::Duration;

/// Attempts per request before giving up (the first try included).
const ATTEMPTS: u32 = 6;
/// Chunk size of photo uploads.
pub const UPLOAD_CHUNK: usize = 256 * 1024;
/// The largest file a device sends in a batch with others (`POST /v1/photos`, decision 0059):
/// thumbnails are a few tens of kilobytes, photos several hundred.
pub const BATCH_FILE_MAX: usize = 64 * 1024;
/// The most bytes of files one batch carries: one chunk's worth, so that a batch cut off on
/// a weak link costs no more than a cut-off chunk.
pub const BATCH_BYTES: usize = UPLOAD_CHUNK;
/// The most uploads a device has in flight at once, whatever the server allows (decision
/// 0061): a second upload hides the round trip and the server's disk syncs between two files;
/// more would only split a weak link's bandwidth and the phone's memory further.
pub const MAX_UPLOADS_AT_ONCE: usize = 2;

/// [`crate::sync::photo_batch::PhotoBatch`] over borrowed files: the same postcard bytes
/// (a sequence of files), without cloning the files first.
#[derive(serde::Serialize)]
struct BatchRef<'a> {
    files: &'a [BatchFile],
}

/// A connection to one sync server.
#[derive(Debug, Clone)]
pub struct SyncClient {
    http: Client,
    base: String,
    /// The store epoch the last sync answer named, refusals included.
    last_epoch: std::sync::Arc<std::sync::Mutex<Option<String>>>,
    /// False once the server answered a batch of photos as an unknown route (a server older
    /// than decision 0059): files then go one by one for as long as this client lives.
    takes_batches: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// How many uploads to have in flight: 1 until an upload's answer says the server allows
    /// more ([`version::IN_FLIGHT_HEADER`], decision 0061), never above
    /// [`MAX_UPLOADS_AT_ONCE`].
    uploads_at_once: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

pub use crate::sync::version::{
    EPOCH_HEADER, LAST_ERROR_HEADER, OUTBOX_HEADER, PHOTOS_UNREADABLE_HEADER, REDELIVERY_HEADER,
};

/// What a device tells the server about itself with a sync (decision 0041).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceReport {
    /// Changes waiting in the outbox when the request left.
    pub outbox: Option<u64>,
    /// The stable code of the last sync's failure ([`Error::sync_code`]); `None` after a
    /// success.
    pub last_error: Option<String>,
    /// Photo files the last successful sync set aside, their copy on this
    /// device being missing or damaged (decision 0062); sent only when there were some.
    pub photos_unreadable: u64,
}

/// One sync round trip's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncAnswer {
    /// The decoded response.
    pub response: SyncResponse,
    /// Request body bytes sent.
    pub sent: u64,
    /// Response body bytes received.
    pub received: u64,
    /// The server store's epoch, when the server names it.
    pub epoch: Option<String>,
}

/// What enrolment returns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Enrolled {
    /// The new device id.
    pub device_id: String,
    /// The person the code was for.
    pub person: String,
}

/// The published roster and catalogue.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct OrgDoc {
    /// Version.
    pub version: u64,
    /// Roster JSON.
    pub roster: Box<serde_json::value::RawValue>,
    /// Catalogue JSON.
    pub catalogue: Box<serde_json::value::RawValue>,
}

/// A failed request's error: [`Error::Tls`] when TLS refused the server's certificate (not
/// retried: [`next_attempt`] retries network errors only), else [`Error::Network`].
fn network(e: reqwest::Error) -> Error {
    tls::request_error(e)
}

/// What a sync push delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// This device's own unsynced changes, as always.
    Ordinary,
    /// After a server restore, everything the device holds, re-delivered (decision 0021).
    Redelivery,
}

/// The id the server gave a request (its `x-request-id` answer header, also in the server's
/// request log), when it is a short printable token: a refusal's message ends with it, so a
/// user's screenshot or bug report leads the operator to the server's log line.
fn request_id(resp: &Response) -> Option<String> {
    let id = resp.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?;
    (!id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| id.to_string())
}

/// The answer header naming the server's id for a request.
const REQUEST_ID_HEADER: &str = "x-request-id";

/// The error a refused request stands for, from the body's `code` ([`Refusal`], decision
/// 0025) when present and the status otherwise; [`Error::refusal`] reads it back typed. The
/// message ends with the server's request id when it gave one.
fn refused(
    status: StatusCode,
    retry_after: Option<Duration>,
    request_id: Option<String>,
    body: String,
) -> Error {
    let json = serde_json::from_str::<serde_json::Value>(&body).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|v| v.get(k).and_then(|e| e.as_str()).map(String::from))
    };
    let code = field("code").unwrap_or_default();
    let mut message = field("error").unwrap_or(body);
    if let Some(id) = request_id {
        message = format!("{message} (request {id})");
    }
    let refusal = (!code.is_empty()).then(|| Refusal::read(&code));
    match (status, refusal) {
        (StatusCode::UPGRADE_REQUIRED, Some(Refusal::UpgradeRequired)) => {
            Error::UpgradeRequired(message)
        }
        (StatusCode::UPGRADE_REQUIRED, Some(Refusal::ServerTooOld)) => Error::ServerTooOld(message),
        (StatusCode::UNAUTHORIZED, _) => {
            Error::Unauthorised("the server does not accept this device's token".into())
        }
        _ => Error::Rejected {
            status: status.as_u16(),
            code,
            message,
            retry_after,
        },
    }
}

/// The most time one request spends waiting out the server's `Retry-After` by itself; a
/// refusal asking for more is handed back (the sync engine then waits for it between syncs,
/// showing why).
const INLINE_RETRY_AFTER_BUDGET: Duration = Duration::from_secs(10);

/// How long to wait before a request's next attempt after `e`, or `None` when `e` is not
/// worth an immediate retry. Network errors, 5xx and 429 (this device has too many requests
/// in flight) are; a `Retry-After` is honoured, spread over once more its length so that the
/// devices refused together do not come back together, within the remaining `budget`; without
/// one, a random wait up to `cap` (full jitter).
fn next_attempt(e: &Error, cap: Duration, budget: &mut Duration) -> Option<Duration> {
    match e {
        Error::Network(_) => Some(full_jitter(cap)),
        Error::Rejected {
            status: 429 | 500..=599,
            retry_after,
            ..
        } => match retry_after {
            None => Some(full_jitter(cap)),
            Some(after) => {
                let wait = spread(*after);
                *budget = budget.checked_sub(wait)?;
                Some(wait)
            }
        },
        _ => None,
    }
}

/// A random wait between zero and `cap`.
pub(crate) fn full_jitter(cap: Duration) -> Duration {
    let millis = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::random_range(0..=millis))
}

/// A random wait between `after` and twice `after`: at least what the server asked for, and
/// spread so that the devices it refused at the same moment do not all return together.
pub(crate) fn spread(after: Duration) -> Duration {
    after + full_jitter(after)
}

/// The `Retry-After` of an answer, in its seconds form (the one this project's server sends;
/// an HTTP date is not read).
fn retry_after(resp: &Response) -> Option<Duration> {
    let value = resp.headers().get(reqwest::header::RETRY_AFTER)?;
    let secs: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

/// Runs `op`, retrying what [`next_attempt`] says is worth it, at most [`ATTEMPTS`] times in
/// all, with exponential backoff (full jitter) between attempts.
fn retry<T>(mut op: impl FnMut() -> Result<T>) -> Result<T> {
    let mut cap = Duration::from_millis(100);
    let mut budget = INLINE_RETRY_AFTER_BUDGET;
    let mut attempt = 1;
    loop {
        match op() {
            Err(e) if attempt < ATTEMPTS => match next_attempt(&e, cap, &mut budget) {
                Some(wait) => {
                    log::warn!(
                        target: crate::logs::HTTP,
                        "attempt {attempt} of {ATTEMPTS} failed ({}); retrying in {} ms",
                        retry_reason(&e),
                        wait.as_millis()
                    );
                    std::thread::sleep(wait);
                    cap = (cap * 2).min(Duration::from_secs(5));
                    attempt += 1;
                }
                None => return Err(e),
            },
            other => return other,
        }
    }
}

/// Why a request is retried, for the log: the server's status and code, or the network
/// error's kind (never a body, never a token).
fn retry_reason(e: &Error) -> String {
    match e {
        Error::Rejected { status, code, .. } => format!("the server answered {status} {code}"),
        other => other.to_string(),
    }
}

fn ok(resp: Response) -> Result<Response> {
    let status = resp.status();
    if status.is_success() {
        Ok(resp)
    } else {
        let wait = retry_after(&resp);
        let id = request_id(&resp);
        let body = resp.text().unwrap_or_default();
        Err(refused(status, wait, id, body))
    }
}

impl SyncClient {
    /// A client for the server at `base` (e.g. `https://sync.example/`), for an app that
    /// gives no version of its own, speaking this build's protocol.
    pub fn new(base: &str) -> Result<SyncClient> {
        SyncClient::with_identity(base, version::DEFAULT_APP_VERSION, "", version::CURRENT)
    }

    /// A client whose every request says `protocol`, the app version `app` and the core's
    /// version (in the protocol and client headers and in the User-Agent), and the `platform`
    /// the app runs on (e.g. `Android 14`; empty when unknown) in the User-Agent, trusting the
    /// bundled roots only. A platform that cannot go in a header ([`version::check_platform`])
    /// is `InvalidInput` (`platform`).
    pub fn with_identity(
        base: &str,
        app: &str,
        platform: &str,
        protocol: Protocol,
    ) -> Result<SyncClient> {
        SyncClient::with_tls(base, app, platform, protocol, &TlsOptions::default())
    }

    /// [`SyncClient::with_identity`] under the TLS options of an enrolment (a private CA,
    /// pins; decision 0030): [`Error::InvalidInput`] when they do not parse.
    pub fn with_tls(
        base: &str,
        app: &str,
        platform: &str,
        protocol: Protocol,
        tls: &TlsOptions,
    ) -> Result<SyncClient> {
        let platform =
            version::check_platform(platform).map_err(|problem| Error::InvalidInput {
                field: "platform",
                problem,
            })?;
        let mut headers = reqwest::header::HeaderMap::new();
        let value = |v: String| {
            reqwest::header::HeaderValue::from_str(&v).map_err(|e| Error::InvalidInput {
                field: "app_version",
                problem: e.to_string(),
            })
        };
        headers.insert(version::PROTOCOL_HEADER, value(protocol.to_string())?);
        headers.insert(version::CLIENT_HEADER, value(version::client_header(app))?);
        let http = Client::builder()
            .tls_backend_preconfigured(tls::client_config(tls)?)
            .user_agent(version::user_agent(app, &platform, protocol))
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(network)?;
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::InvalidInput {
                field: "server_url",
                problem: format!("{base:?} is not an http(s) URL"),
            });
        }
        Ok(SyncClient {
            http,
            base,
            last_epoch: Default::default(),
            takes_batches: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)),
            uploads_at_once: std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(1)),
        })
    }

    /// The store epoch the last sync answer named, a refusal's included: a device whose push
    /// was refused because the server lost what it depends on learns of the restore here.
    pub fn last_epoch(&self) -> Option<String> {
        self.last_epoch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Registers the device's own `token` with an enrolment code. Retrying with the same
    /// token after a lost answer finds the device the first attempt made.
    pub fn enrol(&self, code: &str, token: &str, device_name: &str) -> Result<Enrolled> {
        let body = serde_json::json!({ "code": code, "token": token, "device_name": device_name });
        retry(|| {
            let resp = self
                .http
                .post(format!("{}/v1/enrol", self.base))
                .json(&body)
                .send()
                .map_err(network)?;
            if resp.status() == StatusCode::UNAUTHORIZED {
                return Err(Error::Unauthorised(
                    "the enrolment code is unknown or already used".into(),
                ));
            }
            ok(resp)?.json::<Enrolled>().map_err(network)
        })
    }

    /// The published roster and catalogue.
    pub fn org(&self, token: &str) -> Result<OrgDoc> {
        retry(|| {
            ok(self
                .http
                .get(format!("{}/v1/org", self.base))
                .bearer_auth(token)
                .send()
                .map_err(network)?)?
            .json::<OrgDoc>()
            .map_err(network)
        })
    }

    /// Waits on the server's wake-up channel: true as soon as the feed holds something after
    /// `cursor` for this device, false when the server's heartbeat passed with nothing (ask
    /// again). One attempt, no retries: the caller decides when to wait again.
    pub fn wait(&self, token: &str, cursor: u64) -> Result<bool> {
        let resp = self
            .http
            .get(format!("{}/v1/wait?cursor={cursor}", self.base))
            .bearer_auth(token)
            .timeout(Duration::from_secs(version::MAX_WAIT_SECS + 30))
            .send()
            .map_err(network)?;
        Ok(ok(resp)?.status() == StatusCode::OK)
    }

    /// One sync round trip. [`Delivery::Redelivery`] marks a push that brings back, after a
    /// server restore, documents the server may have lost (other people's changes included).
    pub fn sync(&self, token: &str, req: &SyncRequest, delivery: Delivery) -> Result<SyncAnswer> {
        self.sync_reporting(token, req, delivery, &DeviceReport::default())
    }

    /// [`SyncClient::sync`], telling the server the device's outbox length and last sync
    /// failure in the [`OUTBOX_HEADER`] and [`LAST_ERROR_HEADER`] headers (decision 0041), and
    /// the photo files it cannot send in [`PHOTOS_UNREADABLE_HEADER`] when there are any
    /// (decision 0062): the desk shows them on its devices page. A code that is not a stable
    /// one is left out.
    pub fn sync_reporting(
        &self,
        token: &str,
        req: &SyncRequest,
        delivery: Delivery,
        report: &DeviceReport,
    ) -> Result<SyncAnswer> {
        // Shared, not copied, by every attempt's request.
        let body = bytes::Bytes::from(wire::encode(req).map_err(|e| Error::InvalidInput {
            field: "sync request",
            problem: e.to_string(),
        })?);
        retry(|| {
            let mut request = self
                .http
                .post(format!("{}/v1/sync", self.base))
                .bearer_auth(token)
                .header("content-type", "application/x-xiangying-sync");
            if delivery == Delivery::Redelivery {
                request = request.header(REDELIVERY_HEADER, "1");
            }
            if let Some(n) = report.outbox {
                request = request.header(OUTBOX_HEADER, n.min(version::MAX_OUTBOX_REPORT));
            }
            if let Some(code) = report
                .last_error
                .as_deref()
                .and_then(version::check_error_code)
            {
                request = request.header(LAST_ERROR_HEADER, code);
            }
            if report.photos_unreadable > 0 {
                let n = report.photos_unreadable.min(version::MAX_OUTBOX_REPORT);
                request = request.header(PHOTOS_UNREADABLE_HEADER, n);
            }
            let resp = request.body(body.clone()).send().map_err(network)?;
            let epoch = resp
                .headers()
                .get(EPOCH_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if epoch.is_some() {
                *self.last_epoch.lock().unwrap_or_else(|e| e.into_inner()) = epoch.clone();
            }
            let bytes = ok(resp)?.bytes().map_err(network)?;
            let parsed: SyncResponse = wire::decode(&bytes)
                .map_err(|e| Error::Network(format!("garbled sync response: {e}")))?;
            Ok(SyncAnswer {
                response: parsed,
                sent: body.len() as u64,
                received: bytes.len() as u64,
                epoch,
            })
        })
    }

    /// How many bytes of a photo the server holds: `None` when it holds it whole.
    pub fn upload_offset(&self, token: &str, hash: &str) -> Result<Option<u64>> {
        retry(|| {
            let resp = self
                .http
                .head(format!("{}/v1/photos/{hash}", self.base))
                .bearer_auth(token)
                .send()
                .map_err(network)?;
            match resp.status() {
                StatusCode::OK => Ok(None),
                StatusCode::NOT_FOUND => match resp.headers().get("upload-offset") {
                    Some(v) => Ok(Some(
                        v.to_str().ok().and_then(|s| s.parse().ok()).unwrap_or(0),
                    )),
                    None => Err(Error::Rejected {
                        status: 404,
                        code: "not_found".into(),
                        message: format!("the server knows no case with photo {hash}"),
                        retry_after: None,
                    }),
                },
                s => Err(refused(
                    s,
                    retry_after(&resp),
                    request_id(&resp),
                    String::new(),
                )),
            }
        })
    }

    /// Uploads `bytes` chunk by chunk; returns bytes sent. The first chunk goes without
    /// asking, and each answer says where the server stands (done, or the offset it holds),
    /// so a file of one chunk costs one request. When the server holds a different offset
    /// (an upload cut off earlier, or a file it already has) it refuses the chunk with 409,
    /// and the client asks where it stands and goes on from there
    /// (docs/decisions/0046-photo-upload-requests.md).
    pub fn upload(&self, token: &str, hash: &str, bytes: &[u8]) -> Result<u64> {
        /// Where the server stands after a chunk.
        enum Stands {
            Whole,
            At(Option<u64>),
        }
        /// Times the server may say it holds no more than before before the upload gives up.
        const MAX_ASKS: u32 = 3;
        let mut sent = 0u64;
        let mut offset = 0u64;
        let mut asked = 0u32;
        loop {
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let end = (start + UPLOAD_CHUNK).min(bytes.len());
            // Copied once; every attempt's request shares the copy.
            let chunk = bytes::Bytes::copy_from_slice(&bytes[start..end]);
            let result = retry(|| {
                let resp = self
                    .http
                    .patch(format!("{}/v1/photos/{hash}", self.base))
                    .bearer_auth(token)
                    .header("upload-offset", offset.to_string())
                    .header("upload-length", bytes.len().to_string())
                    .body(chunk.clone())
                    .send()
                    .map_err(network)?;
                let resp = ok(resp)?;
                self.note_allowance(&resp);
                Ok(match resp.status() {
                    StatusCode::ACCEPTED => Stands::At(
                        resp.headers()
                            .get("upload-offset")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<u64>().ok()),
                    ),
                    _ => Stands::Whole,
                })
            });
            let next = match result {
                Ok(stands) => {
                    sent += chunk.len() as u64;
                    stands
                }
                // The server holds another offset: ask which below.
                Err(Error::Rejected { status: 409, .. }) => Stands::At(None),
                Err(e) => return Err(e),
            };
            offset = match next {
                Stands::Whole => return Ok(sent),
                Stands::At(Some(n)) if n > offset => n,
                // No offset given, or no progress: ask where the server stands.
                Stands::At(_) => match self.upload_offset(token, hash)? {
                    None => return Ok(sent),
                    Some(n) if n > offset => n,
                    Some(n) if asked < MAX_ASKS => {
                        asked += 1;
                        n
                    }
                    Some(n) => {
                        return Err(Error::Network(format!(
                            "the upload of photo {hash} makes no progress at byte {n}"
                        )));
                    }
                },
            };
        }
    }

    /// How many uploads the device may have in flight at once: what the last upload's answer
    /// allowed (at least 1, at most [`MAX_UPLOADS_AT_ONCE`]); 1 before any answer, and for as
    /// long as the server says nothing (a server older than decision 0061 counts the wake-up
    /// channel among the device's two requests).
    pub fn uploads_at_once(&self) -> usize {
        self.uploads_at_once
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Notes the allowance an upload's answer names ([`version::IN_FLIGHT_HEADER`]); a
    /// missing or unreadable value leaves what is known.
    fn note_allowance(&self, resp: &Response) {
        let allowed = resp
            .headers()
            .get(version::IN_FLIGHT_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok());
        if let Some(n) = allowed {
            self.uploads_at_once.store(
                n.clamp(1, MAX_UPLOADS_AT_ONCE),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
    }

    /// Whether a batch of small files is worth trying: true until the server answered one as
    /// an unknown route.
    pub fn takes_batches(&self) -> bool {
        self.takes_batches
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sends small files whole in one request (`POST /v1/photos`, decision 0059); returns one
    /// outcome a file, in order, or `None` when the server has no such route (a server older
    /// than the batch: send the files one by one with [`SyncClient::upload`]). A refused file
    /// is an outcome, not an error; an answer with a different count of outcomes is an error.
    pub fn upload_batch(
        &self,
        token: &str,
        files: &[BatchFile],
    ) -> Result<Option<Vec<BatchOutcome>>> {
        if files.is_empty() {
            return Ok(Some(Vec::new()));
        }
        // The batch is encoded from borrowed files: the bytes are copied once, into the body,
        // which every attempt's request shares.
        let body = bytes::Bytes::from(wire::encode(&BatchRef { files }).map_err(|e| {
            Error::InvalidInput {
                field: "photo batch",
                problem: e.to_string(),
            }
        })?);
        let answer = retry(|| {
            let resp = self
                .http
                .post(format!("{}/v1/photos", self.base))
                .bearer_auth(token)
                .header("content-type", "application/x-xiangying-photos")
                .body(body.clone())
                .send()
                .map_err(network)?;
            if matches!(
                resp.status(),
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ) {
                return Ok(None);
            }
            let resp = ok(resp)?;
            self.note_allowance(&resp);
            let bytes = resp.bytes().map_err(network)?;
            let answer: PhotoBatchAnswer = wire::decode(&bytes)
                .map_err(|e| Error::Network(format!("a photo batch's answer did not read: {e}")))?;
            Ok(Some(answer.outcomes))
        })?;
        match answer {
            None => {
                self.takes_batches
                    .store(false, std::sync::atomic::Ordering::Relaxed);
                Ok(None)
            }
            Some(outcomes) if outcomes.len() != files.len() => Err(Error::Network(format!(
                "the server answered {} outcomes for a batch of {} photo files",
                outcomes.len(),
                files.len()
            ))),
            Some(outcomes) => Ok(Some(outcomes)),
        }
    }

    /// Downloads a photo or thumbnail by hash.
    pub fn download(&self, token: &str, hash: &str) -> Result<Vec<u8>> {
        retry(|| {
            Ok(ok(self
                .http
                .get(format!("{}/v1/photos/{hash}", self.base))
                .bearer_auth(token)
                .send()
                .map_err(network)?)?
            .bytes()
            .map_err(network)?
            .to_vec())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::time::Instant;

    /// A one-request HTTP server on 127.0.0.1 that answers `answer` and hands back the
    /// request head it read.
    fn one_shot(body: &'static str) -> (String, std::thread::JoinHandle<String>) {
        let answer = format!(
            "HTTP/1.1 426 Upgrade Required\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = Vec::new();
            let mut byte = [0u8; 1];
            while !buf.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
                buf.push(byte[0]);
            }
            s.write_all(answer.as_bytes()).unwrap();
            String::from_utf8_lossy(&buf).to_ascii_lowercase()
        });
        (url, handle)
    }

    #[test]
    fn a_refusal_is_read_from_its_code_and_else_from_its_status() {
        let read = |status: u16, body: &str| {
            refused(
                StatusCode::from_u16(status).unwrap(),
                None,
                None,
                body.to_string(),
            )
        };
        // With a code: the code, whatever the status's general reason.
        let e = read(
            403,
            r#"{"error":"this device is quarantined: x","code":"quarantined"}"#,
        );
        assert_eq!(e.refusal(), Some(Refusal::Quarantined));
        assert!(matches!(&e, Error::Rejected { status: 403, code, .. } if code == "quarantined"));
        let e = read(
            413,
            r#"{"error":"over","code":"over_limit","limit":"l","max":1}"#,
        );
        assert_eq!(e.refusal(), Some(Refusal::OverLimit));
        // A code this build does not know: the catch-all, the code text kept.
        let e = read(403, r#"{"error":"no","code":"time_travel"}"#);
        assert_eq!(e.refusal(), Some(Refusal::Unknown));
        assert!(matches!(&e, Error::Rejected { code, .. } if code == "time_travel"));
        // Without one (an older server): the status, as before.
        let e = read(403, r#"{"error":"forbidden: outside scope"}"#);
        assert!(
            matches!(&e, Error::Rejected { status: 403, code, message, .. }
            if code.is_empty() && message == "forbidden: outside scope")
        );
        assert_eq!(e.refusal(), Some(Refusal::Forbidden));
        assert_eq!(read(404, "").refusal(), Some(Refusal::NotFound));
        let e = read(401, "");
        assert!(matches!(e, Error::Unauthorised(_)));
        assert_eq!(e.refusal(), Some(Refusal::Unauthorised));
        // A 426 without a code does not say which side is old.
        let e = read(426, "upgrade");
        assert!(matches!(e, Error::Rejected { status: 426, .. }), "{e:?}");
        assert_eq!(read(426, TOO_OLD).refusal(), Some(Refusal::ServerTooOld));
        assert_eq!(Error::Network("down".into()).refusal(), None);
    }

    /// An HTTP server on 127.0.0.1 that answers the given heads (status line and headers,
    /// an empty JSON body added) in order, one per connection, and hands back when each
    /// request arrived.
    fn scripted(heads: Vec<&'static str>) -> (String, std::thread::JoinHandle<Vec<Instant>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut arrivals = Vec::new();
            for head in heads {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = Vec::new();
                let mut byte = [0u8; 1];
                while !buf.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
                    buf.push(byte[0]);
                }
                arrivals.push(Instant::now());
                let body = r#"{"error":"busy","code":"overloaded"}"#;
                let answer = format!(
                    "{head}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                s.write_all(answer.as_bytes()).unwrap();
            }
            arrivals
        });
        (url, handle)
    }

    #[test]
    fn a_short_retry_after_is_waited_out_and_a_long_one_handed_back() {
        // Told to come back in 1 s: the next attempt is not sooner (and, spread, at most 2 s
        // later plus the time to answer).
        let (url, server) = scripted(vec![
            "HTTP/1.1 503 Service Unavailable\r\nretry-after: 1",
            "HTTP/1.1 404 Not Found",
        ]);
        let client = SyncClient::new(&url).unwrap();
        let e = client.org("t").unwrap_err();
        assert!(matches!(e, Error::Rejected { status: 404, .. }), "{e:?}");
        let arrivals = server.join().unwrap();
        assert_eq!(arrivals.len(), 2);
        assert!(arrivals[1] - arrivals[0] >= Duration::from_secs(1));
        // Told 30 s: more than a request waits by itself; the refusal says so at once.
        let (url, server) = scripted(vec!["HTTP/1.1 503 Service Unavailable\r\nretry-after: 30"]);
        let e = SyncClient::new(&url).unwrap().org("t").unwrap_err();
        assert!(
            matches!(e, Error::Rejected { status: 503, retry_after: Some(d), .. } if d == Duration::from_secs(30)),
            "{e:?}"
        );
        assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
        assert_eq!(server.join().unwrap().len(), 1);
    }

    #[test]
    fn retries_spread_and_stay_within_their_budget() {
        let overloaded = |secs| Error::Rejected {
            status: 503,
            code: "overloaded".into(),
            message: String::new(),
            retry_after: Some(Duration::from_secs(secs)),
        };
        let cap = Duration::from_millis(100);
        let mut budget = Duration::from_secs(10);
        let wait = next_attempt(&overloaded(2), cap, &mut budget).unwrap();
        assert!((Duration::from_secs(2)..=Duration::from_secs(4)).contains(&wait));
        assert_eq!(budget, Duration::from_secs(10) - wait);
        // Waits spread over the whole range, so a crowd refused together comes back apart.
        let waits: Vec<Duration> = (0..200).map(|_| spread(Duration::from_secs(2))).collect();
        assert!(waits.iter().any(|w| *w < Duration::from_millis(2_500)));
        assert!(waits.iter().any(|w| *w > Duration::from_millis(3_500)));
        let mut little = Duration::from_secs(1);
        assert_eq!(next_attempt(&overloaded(2), cap, &mut little), None);
        assert!(next_attempt(&Error::Network("reset".into()), cap, &mut budget).unwrap() <= cap);
        let forbidden = Error::Rejected {
            status: 403,
            code: "forbidden".into(),
            message: String::new(),
            retry_after: None,
        };
        assert_eq!(next_attempt(&forbidden, cap, &mut budget), None);
    }

    const UPGRADE: &str = r#"{"code":"upgrade_required","error":"too old!!"}"#;
    const TOO_OLD: &str = r#"{"code":"server_too_old","error":"old srv"}"#;

    #[test]
    fn every_request_says_its_versions_and_426_is_named() {
        let (url, server) = one_shot(UPGRADE);
        let client =
            SyncClient::with_identity(&url, "2.3.0", "Android 14", version::CURRENT).unwrap();
        let err = client.org("t").unwrap_err();
        assert!(
            matches!(&err, Error::UpgradeRequired(m) if m == "too old!!"),
            "{err:?}"
        );
        let head = server.join().unwrap();
        assert!(head.contains("\r\nxiangying-protocol: 1.2\r\n"), "{head}");
        assert!(
            head.contains(&format!(
                "\r\nxiangying-client: app=2.3.0; core={}\r\n",
                version::CORE_VERSION
            )),
            "{head}"
        );
        assert!(
            head.contains(&format!(
                "\r\nuser-agent: xiangying/2.3.0 core/{} protocol/1.2 (android 14)\r\n",
                version::CORE_VERSION
            )),
            "{head}"
        );

        let (url, server) = one_shot(TOO_OLD);
        let client = SyncClient::new(&url).unwrap();
        let req = SyncRequest {
            push: vec![],
            cursor: 0,
            max_feed_bytes: 1,
            org_version: 0,
        };
        assert!(matches!(
            client.sync("t", &req, Delivery::Ordinary),
            Err(Error::ServerTooOld(m)) if m == "old srv"
        ));
        assert!(server.join().unwrap().contains("app=dev;"));
    }

    /// A server older than photo batches (decision 0059): one request read whole (head and
    /// body) and answered 404 with nothing, as a router without the route answers.
    fn without_batches() -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            let mut body = vec![0u8; len];
            s.read_exact(&mut body).unwrap();
            s.write_all(
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .unwrap();
            head
        });
        (url, handle)
    }

    #[test]
    fn a_server_without_batches_is_told_apart_and_remembered() {
        use crate::sync::photo_batch::BatchFile;
        let (url, server) = without_batches();
        let client = SyncClient::new(&url).unwrap();
        assert!(client.takes_batches());
        let files = vec![BatchFile {
            hash: "ab".repeat(32),
            bytes: vec![1; 100],
        }];
        assert_eq!(client.upload_batch("t", &files).unwrap(), None);
        assert!(
            server
                .join()
                .unwrap()
                .starts_with("post /v1/photos http/1.1")
        );
        // The clone a device keeps shares what was learnt.
        assert!(!client.clone().takes_batches());
    }
}
