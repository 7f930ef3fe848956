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
            ServerError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServerError::NotFound => StatusCode::NOT_FOUND,
            ServerError::Conflict(_) => StatusCode::CONFLICT,
            ServerError::NoOrg => StatusCode::SERVICE_UNAVAILABLE,
            ServerError::Storage(_) | ServerError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
        let body = serde_json::json!({ "error": self.to_string() });
        (status, axum::Json(body)).into_response()
    }
}
