//! The server's error type and how each error is answered over HTTP.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

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
    /// The server has no roster yet.
    #[error("the server has no roster yet: run `xiangying-server admin setup`")]
    NoOrg,
    /// The storage failed.
    #[error("storage: {0}")]
    Storage(String),
    /// Anything else.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for ServerError {
    fn from(e: rusqlite::Error) -> Self {
        ServerError::Storage(e.to_string())
    }
}

impl From<postgres::Error> for ServerError {
    fn from(e: postgres::Error) -> Self {
        ServerError::Storage(e.to_string())
    }
}

impl ServerError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ServerError::Unauthorised => StatusCode::UNAUTHORIZED,
            ServerError::Quarantined(_)
            | ServerError::Tamper { .. }
            | ServerError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServerError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServerError::TooLarge(_) | ServerError::OverLimit { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ServerError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServerError::DeviceBusy(_) => StatusCode::TOO_MANY_REQUESTS,
            ServerError::NotFound => StatusCode::NOT_FOUND,
            ServerError::Conflict(_) => StatusCode::CONFLICT,
            ServerError::NoOrg => StatusCode::SERVICE_UNAVAILABLE,
            ServerError::Storage(_) | ServerError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable, machine-readable name for the error, sent as `code` beside the message so that
    /// a device can act on it whatever the wording.
    pub fn code(&self) -> &'static str {
        match self {
            ServerError::Unauthorised => "unauthorised",
            ServerError::Quarantined(_) => "quarantined",
            ServerError::Tamper { .. } => "tampering",
            ServerError::Forbidden(_) => "forbidden",
            ServerError::BadRequest(_) => "bad_request",
            ServerError::TooLarge(_) => "too_large",
            ServerError::OverLimit { .. } => "over_limit",
            ServerError::Overloaded(_) => "overloaded",
            ServerError::DeviceBusy(_) => "device_busy",
            ServerError::NotFound => "not_found",
            ServerError::Conflict(_) => "conflict",
            ServerError::NoOrg => "no_org",
            ServerError::Storage(_) | ServerError::Internal(_) => "internal",
        }
    }

    /// Seconds a client should wait before trying again, for the answers that say so.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ServerError::Overloaded(s) | ServerError::DeviceBusy(s) => Some(*s),
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
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut body = serde_json::json!({ "error": self.to_string(), "code": self.code() });
        if let ServerError::OverLimit { limit, max } = &self {
            body["limit"] = serde_json::json!(limit);
            body["max"] = serde_json::json!(max);
        }
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after() {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}
