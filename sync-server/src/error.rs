//! The server's error type and how each error is answered over HTTP.
//!
//! 4xx answers carry a descriptive `{"error": …, "code": …}` body, `code` being the stable
//! code of the model's [`Refusal`] (decision 0025; a 401 carries no body at all). 5xx answers
//! never carry internal detail (paths, SQL, backend messages): they are
//! `{"error":"internal error","code":"internal","id":"<uuid>"}`,
//! and the details (with the whole source chain: a storage error keeps its driver's error) are
//! logged at error level with the same id, so an operator can find them.

mod storage;

pub use storage::{StorageError, chain};

use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use xiangying_model::sync::refusal::Refusal;

/// Everything that can go wrong while serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// No valid token: answered 401 with an empty body, nothing else.
    #[error("unauthorised")]
    Unauthorised,
    /// The device was quarantined for tampering.
    #[error("this device is quarantined: {0}")]
    Quarantined(String),
    /// A push tried to rewrite history or forge an author; the device gets quarantined.
    #[error("case {case_id}: {reason}")]
    Tamper {
        /// The case.
        case_id: String,
        /// What the push did.
        reason: String,
    },
    /// The device's protocol version is older than any this server answers: the app must be
    /// upgraded. Answered 426.
    #[error("upgrade required: {0}")]
    UpgradeRequired(String),
    /// The device's protocol version is newer than any this server answers: the server must be
    /// upgraded. Answered 426.
    #[error("server too old: {0}")]
    ServerTooOld(String),
    /// The device may not do this (e.g. write to a case outside its person's scope).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The request is malformed.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// The body is larger than allowed.
    #[error("too large: {0}")]
    TooLarge(String),
    /// A push crosses one of the configured limits (named as in the configuration file).
    #[error("over the limit `{limit}` ({max})")]
    OverLimit {
        /// The limit's configuration key.
        limit: &'static str,
        /// Its value.
        max: u64,
    },
    /// The server is serving as much as it may; try again after the given seconds.
    #[error("the server is busy; try again in {0} s")]
    Overloaded(u64),
    /// This device already has as many requests in flight as it may; try again shortly.
    #[error("this device already has requests in flight; try again in {0} s")]
    DeviceBusy(u64),
    /// Not found (or not visible to this device).
    #[error("not found")]
    NotFound,
    /// The request conflicts with what the server holds (e.g. an upload offset).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many attempts: answered 429 with `Retry-After`.
    #[error("{what}; try again in {retry_after_secs} s")]
    TooManyRequests {
        /// What was limited, naming the limit.
        what: String,
        /// Seconds until the next attempt may succeed.
        retry_after_secs: u64,
    },
    /// Something that has expired (an enrolment code): answered 410.
    #[error("{0}")]
    Expired(String),
    /// The server has no roster yet.
    #[error("the server has no roster yet: run `xiangying-server admin setup`")]
    NoOrg,
    /// The storage failed; the driver's error, if any, is kept as the source.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// Anything else.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for ServerError {
    fn from(e: rusqlite::Error) -> Self {
        ServerError::Storage(StorageError::Sqlite(e))
    }
}

impl From<postgres::Error> for ServerError {
    fn from(e: postgres::Error) -> Self {
        ServerError::Storage(StorageError::Postgres(e))
    }
}

/// A body the server would not read whole (over the route's size limit, or broken off) is a
/// refusal like any other, with its code, instead of axum's plain-text answer; the status is
/// the same (413 or 400).
impl From<BytesRejection> for ServerError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServerError::TooLarge(format!(
                "the body is larger than this route takes ({})",
                r.body_text()
            ))
        } else {
            ServerError::BadRequest(r.body_text())
        }
    }
}

impl ServerError {
    /// A store in a state the server cannot serve from, or a request it cannot hold.
    pub fn storage_state(message: impl Into<String>) -> Self {
        ServerError::Storage(StorageError::State(message.into()))
    }
}

impl ServerError {
    /// Why the server refuses, as the model's [`Refusal`]: its stable code is sent as `code`
    /// beside the message, so that a device can act on it whatever the wording, and it fixes
    /// the HTTP status (decision 0025).
    pub fn refusal(&self) -> Refusal {
        match self {
            ServerError::Unauthorised => Refusal::Unauthorised,
            ServerError::Quarantined(_) => Refusal::Quarantined,
            ServerError::Tamper { .. } => Refusal::Tampering,
            ServerError::Forbidden(_) => Refusal::Forbidden,
            ServerError::BadRequest(_) => Refusal::BadRequest,
            ServerError::UpgradeRequired(_) => Refusal::UpgradeRequired,
            ServerError::ServerTooOld(_) => Refusal::ServerTooOld,
            ServerError::TooLarge(_) => Refusal::TooLarge,
            ServerError::OverLimit { .. } => Refusal::OverLimit,
            ServerError::Overloaded(_) => Refusal::Overloaded,
            ServerError::DeviceBusy(_) => Refusal::DeviceBusy,
            ServerError::TooManyRequests { .. } => Refusal::TooManyRequests,
            ServerError::Expired(_) => Refusal::Expired,
            ServerError::NotFound => Refusal::NotFound,
            ServerError::Conflict(_) => Refusal::Conflict,
            ServerError::NoOrg => Refusal::NoOrg,
            ServerError::Storage(_) | ServerError::Internal(_) => Refusal::Internal,
        }
    }

    /// The HTTP status this error is answered with (the refusal's).
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.refusal().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The refusal's stable, machine-readable code, sent as `code` beside the message.
    pub fn code(&self) -> &'static str {
        self.refusal().code()
    }

    /// Seconds a client should wait before trying again, for the answers that say so.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ServerError::Overloaded(s) | ServerError::DeviceBusy(s) => Some(*s),
            ServerError::TooManyRequests {
                retry_after_secs, ..
            } => Some((*retry_after_secs).max(1)),
            ServerError::NoOrg => Some(60),
            _ => None,
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status == StatusCode::UNAUTHORIZED {
            return status.into_response();
        }
        // Storage and internal errors may name paths or SQL: the client gets an id only.
        if matches!(self, ServerError::Storage(_) | ServerError::Internal(_)) {
            let id = uuid::Uuid::now_v7().to_string();
            tracing::error!(error_id = %id, error = %chain(&self), "request failed");
            let body =
                serde_json::json!({ "error": "internal error", "code": self.code(), "id": id });
            return (status, axum::Json(body)).into_response();
        }
        let mut body = serde_json::json!({ "error": self.to_string(), "code": self.code() });
        if let ServerError::OverLimit { limit, max } = &self {
            body["limit"] = serde_json::json!(limit);
            body["max"] = serde_json::json!(max);
        }
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after() {
            resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(resp: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn server_errors_answer_an_id_and_no_detail() {
        let resp = ServerError::storage_state("no such table: secret_tbl at /srv/data/server.db")
            .into_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let v = body(resp).await;
        assert_eq!(v["error"], "internal error");
        assert_eq!(v["id"].as_str().unwrap().len(), 36);
        assert!(!v.to_string().contains("secret_tbl"));
        assert!(!v.to_string().contains("/srv"));
    }

    #[tokio::test]
    async fn client_errors_stay_descriptive_and_429_says_when() {
        let v =
            body(ServerError::BadRequest("missing upload-offset header".into()).into_response())
                .await;
        assert!(v["error"].as_str().unwrap().contains("upload-offset"));
        let resp = ServerError::TooManyRequests {
            what: "too many enrolment attempts".into(),
            retry_after_secs: 7,
        }
        .into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "7");
    }
}
