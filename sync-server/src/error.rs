//! The server's error type and how each error is answered over HTTP.
//!
//! 4xx answers carry a descriptive `{"error": …}` body. 5xx answers never carry internal
//! detail (paths, SQL, backend messages): they are `{"error":"internal error","id":"<uuid>"}`,
//! and the details are logged at error level with the same id, so an operator can find them.

use axum::http::{StatusCode, header};
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
            ServerError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServerError::Expired(_) => StatusCode::GONE,
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
        if let ServerError::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            let body = serde_json::json!({ "error": self.to_string() });
            return (
                status,
                [(header::RETRY_AFTER, retry_after_secs.max(&1).to_string())],
                axum::Json(body),
            )
                .into_response();
        }
        // Storage and internal errors may name paths or SQL: the client gets an id only.
        if matches!(self, ServerError::Storage(_) | ServerError::Internal(_)) {
            let id = uuid::Uuid::now_v7().to_string();
            tracing::error!(error_id = %id, error = %self, "request failed");
            let body = serde_json::json!({ "error": "internal error", "id": id });
            return (status, axum::Json(body)).into_response();
        }
        let body = serde_json::json!({ "error": self.to_string() });
        (status, axum::Json(body)).into_response()
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
        let resp = ServerError::Storage("no such table: secret_tbl at /srv/data/server.db".into())
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
