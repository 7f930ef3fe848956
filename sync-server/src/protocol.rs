//! The protocol check: every `/v1` request says its protocol version in the
//! `xiangying-protocol` header (none = a first-wave device, protocol 1.1). The server answers
//! the wire versions in [`SERVER_MAJORS`]; a device outside them gets 426 with a stable code
//! (`upgrade_required` or `server_too_old`) and a malformed header 400 naming the header, all
//! before the token is checked and before any of the body is read. The version found travels
//! to the handlers as an `Extension<Protocol>`; its layout decides what the judge lets through
//! (see `docs/decisions/0020-compatibility-rules.md`).

use crate::error::ServerError;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use xiangying_model::sync::version::{
    Admission, CLIENT_HEADER, PROTOCOL_HEADER, Protocol, SERVER_MAJORS, admit,
};

/// The middleware: admits the request's protocol version or answers why not.
pub async fn check(mut req: Request, next: Next) -> Result<Response, ServerError> {
    let protocol = admitted(req.headers())?;
    req.extensions_mut().insert(protocol);
    Ok(next.run(req).await)
}

/// The protocol version a request's headers say, if the server answers it.
pub fn admitted(headers: &axum::http::HeaderMap) -> Result<Protocol, ServerError> {
    let header = match headers.get(PROTOCOL_HEADER) {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            ServerError::BadRequest(format!(
                "the `{PROTOCOL_HEADER}` header is malformed: not visible ASCII"
            ))
        })?),
    };
    let client = || {
        headers
            .get(CLIENT_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string()
    };
    match admit(header, &SERVER_MAJORS).map_err(ServerError::BadRequest)? {
        Admission::Accepted(p) => Ok(p),
        Admission::UpgradeRequired(p) => {
            tracing::info!(protocol = %p, client = %client(), "refused: upgrade required");
            Err(ServerError::UpgradeRequired(format!(
                "this server answers protocol {} to {}.x; this app speaks {p}: upgrade the app",
                SERVER_MAJORS.start(),
                SERVER_MAJORS.end()
            )))
        }
        Admission::ServerTooOld(p) => {
            tracing::info!(protocol = %p, client = %client(), "refused: server too old");
            Err(ServerError::ServerTooOld(format!(
                "this server answers protocol {} to {}.x; this app speaks {p}: the server must be upgraded",
                SERVER_MAJORS.start(),
                SERVER_MAJORS.end()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue, StatusCode};

    fn with(v: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(PROTOCOL_HEADER, HeaderValue::from_bytes(v).unwrap());
        h
    }

    #[test]
    fn versions_are_admitted_refused_or_malformed() {
        assert_eq!(admitted(&HeaderMap::new()).unwrap().to_string(), "1.1");
        assert_eq!(admitted(&with(b"1.2")).unwrap().to_string(), "1.2");
        assert_eq!(admitted(&with(b"1.9")).unwrap().to_string(), "1.9");
        let e = admitted(&with(b"0.9")).unwrap_err();
        assert_eq!(
            (e.status(), e.code()),
            (StatusCode::UPGRADE_REQUIRED, "upgrade_required")
        );
        let e = admitted(&with(b"2.0")).unwrap_err();
        assert_eq!(
            (e.status(), e.code()),
            (StatusCode::UPGRADE_REQUIRED, "server_too_old")
        );
        for bad in [&b"1"[..], b"v1.2", b"1.2.3", b"\xff.1"] {
            let e = admitted(&with(bad)).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST);
            assert!(e.to_string().contains(PROTOCOL_HEADER), "{e}");
        }
    }
}
