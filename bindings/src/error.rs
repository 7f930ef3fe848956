//! The one public error of the bindings, [`ApiError`]: every variant is something an app can
//! act on (show the reason, ask for input, re-enrol, retry later). The core's richer
//! [`xiangying_core::Error`] is mapped onto it here and nowhere else.
//!
//! Fields that carry free text are called `detail`, not `message`: Kotlin exceptions already
//! have a `message` property, and uniffi 0.32 would generate a clashing one.

use crate::codes::ErrorCode;
use crate::tls_types::TlsFailure;
use xiangying_core::Error as CoreError;
use xiangying_core::photo::PhotoError;

/// What went wrong, in a form an app can act on. In Kotlin this is the sealed class
/// `ApiException` (one subclass per variant); in Swift the enum `ApiError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum ApiError {
    /// This person may not do this to this case now; nothing was written. Show `reason`
    /// (English) or `reason_zh` (Chinese); branch on `code`, one per refusal of the rules.
    #[error("cannot {action}: {reason}")]
    NotAllowed {
        /// The action tried, e.g. `escalate`.
        action: String,
        /// Why not, in English words a user can read.
        reason: String,
        /// Which refusal ([`ErrorCode`]'s rule codes, e.g. `NotHolder`; `NotAllowed` when
        /// the reason was read back from stored words).
        code: ErrorCode,
        /// Why not, in Simplified Chinese.
        reason_zh: String,
    },
    /// Something named does not exist on this device (a case, person, category, grid, …).
    #[error("{what} {id:?} not found")]
    NotFound {
        /// What kind of thing, e.g. `case`, `person`, `category`.
        what: String,
        /// The id asked for.
        id: String,
    },
    /// An input is invalid (including a roster or catalogue file); nothing was written.
    /// Point the user at `field`.
    #[error("invalid {field}: {problem}")]
    InvalidInput {
        /// The field at fault.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The device store failed (disk full, a file that cannot be written, a store written by
    /// a newer app version). Retrying later may help; the data already stored is safe.
    #[error("storage: {detail}")]
    Storage {
        /// What failed.
        detail: String,
    },
    /// The server could not be reached or the connection broke (after the core's retries
    /// with backoff). Nothing is lost: retry later; the next sync carries on where this one
    /// stopped.
    #[error("network: {detail}")]
    Network {
        /// What failed.
        detail: String,
    },
    /// The server's certificate was refused (decision 0030): `failure` says which check
    /// failed. Nothing was sent, and retrying will not help until the server's certificate or
    /// the enrolment's TLS options (`TlsOptions`: the private CA, the pins) change; show it to
    /// the user as a security problem, not as "offline".
    #[error("TLS refused ({failure:?}): {detail}")]
    TlsRefused {
        /// Which check failed.
        failure: TlsFailure,
        /// What the TLS library said.
        detail: String,
    },
    /// The server refused this device (token revoked, or never enrolled), or refused an
    /// enrolment code (unknown, revoked or already used): enrol again with a new code.
    #[error("unauthorised: {detail}")]
    Unauthorised {
        /// What the server said.
        detail: String,
    },
    /// A photo could not be taken in (not JPEG, PNG or WebP, damaged, too large, too many
    /// pixels); nothing was written. HEIC must be converted to JPEG by the platform first.
    #[error("photo rejected: {reason}")]
    PhotoRejected {
        /// Why, in words a user can read.
        reason: String,
        /// Which problem: `PhotoTooLarge`, `PhotoTooManyPixels`, `PhotoUnsupportedFormat`,
        /// `PhotoHeic`, `PhotoCorrupt` or `PhotoEncode`.
        code: ErrorCode,
    },
    /// The server answered but refused the request (HTTP `status`): 403 a write outside this
    /// person's scope or a tampered change, 404 a photo or case the server does not show
    /// this device, 400 a malformed request, 409 a conflict, 413 too large. Retrying the
    /// same request will not help; show `detail` (the server's words) and report it.
    #[error("the server refused ({status}): {detail}")]
    ServerRejected {
        /// The HTTP status.
        status: u16,
        /// The server's stable name for the refusal, to act on whatever the wording:
        /// `over_limit` (a push crosses a limit the server names in `detail`), `tampering`,
        /// `quarantined`, `forbidden`, `bad_request`, `not_found`, `conflict`, `too_large`,
        /// `overloaded`, `device_busy`, `too_many_requests`, `expired`, `no_org`, `internal`
        /// (the table in decision 0025: codes are never renamed or reused, new ones may come,
        /// so treat a code you do not know by `status`); empty from a server that sent none.
        code: String,
        /// What the server said.
        detail: String,
    },
    /// The caller cancelled the work (a [`crate::CancelToken`] or, in Kotlin, the coroutine).
    /// What finished before stays: a sync cancelled part-way keeps what it pushed and pulled,
    /// and the next sync carries on.
    #[error("cancelled: {detail}")]
    Cancelled {
        /// What was done before the work stopped.
        detail: String,
    },
    /// The server no longer answers this app's protocol version: the app must be upgraded
    /// (ask the user to update it). Nothing is lost: the outbox waits for the new version.
    #[error("upgrade required: {detail}")]
    UpgradeRequired {
        /// What the server said.
        detail: String,
    },
    /// The server is older than this app's protocol version: the server must be upgraded
    /// (tell the user to contact the operator; retrying later is fine). Nothing is lost.
    #[error("the server is too old for this app: {detail}")]
    ServerTooOld {
        /// What the server said.
        detail: String,
    },
    /// One case's stored document cannot be read; every other case still works.
    #[error("case {case_id} is corrupt: {reason}")]
    CorruptCase {
        /// The case.
        case_id: String,
        /// What failed.
        reason: String,
    },
    /// The device has no roster or no enrolled person yet: run the set-up first.
    #[error("this device is not set up: {detail}")]
    NotSetUp {
        /// What is missing.
        detail: String,
    },
    // TlsRefused { failure, detail } (another part of issue 15) goes here; its codes are
    // reserved in `ErrorCode` and mapped in `ApiError::code` and the messages (`messages.rs`).
    /// A condition this version of the bindings does not map yet, or a bug. Show `detail`
    /// and report it.
    #[error("internal error: {detail}")]
    Internal {
        /// What happened.
        detail: String,
    },
}

impl From<PhotoError> for ApiError {
    fn from(e: PhotoError) -> ApiError {
        let rejected = |code: ErrorCode, e: &PhotoError| ApiError::PhotoRejected {
            reason: e.to_string(),
            code,
        };
        match e {
            PhotoError::TooLarge { .. } => rejected(ErrorCode::PhotoTooLarge, &e),
            PhotoError::TooManyPixels { .. } => rejected(ErrorCode::PhotoTooManyPixels, &e),
            PhotoError::UnsupportedFormat(ref what) if what.starts_with("HEIC") => {
                rejected(ErrorCode::PhotoHeic, &e)
            }
            PhotoError::UnsupportedFormat(_) => rejected(ErrorCode::PhotoUnsupportedFormat, &e),
            PhotoError::Corrupt(_) => rejected(ErrorCode::PhotoCorrupt, &e),
            PhotoError::Encode(_) => rejected(ErrorCode::PhotoEncode, &e),
            PhotoError::BadHash(h) => ApiError::InvalidInput {
                field: "hash".to_string(),
                problem: format!("{h:?} is not a SHA-256 hex digest"),
            },
            PhotoError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ApiError::NotFound {
                    what: "photo".to_string(),
                    id: e.to_string(),
                }
            }
            e @ (PhotoError::HashMismatch { .. } | PhotoError::Io { .. }) => ApiError::Storage {
                detail: e.to_string(),
            },
        }
    }
}

impl From<CoreError> for ApiError {
    // The core will grow error variants; until this layer maps them they arrive as
    // `Internal`, so the fallback arm must stay even while it is unreachable.
    #[allow(unreachable_patterns)]
    fn from(e: CoreError) -> ApiError {
        match e {
            CoreError::NotAllowed { action, reason } => ApiError::NotAllowed {
                action,
                code: ErrorCode::from(&reason),
                reason_zh: reason.zh(),
                reason: reason.to_string(),
            },
            CoreError::NotFound { what, id } => ApiError::NotFound {
                what: what.to_string(),
                id,
            },
            CoreError::InvalidInput { field, problem } => ApiError::InvalidInput {
                field: field.to_string(),
                problem,
            },
            CoreError::Org(e) => ApiError::InvalidInput {
                field: "org".to_string(),
                problem: e.to_string(),
            },
            CoreError::CorruptCase { case_id, reason } => ApiError::CorruptCase { case_id, reason },
            CoreError::Photo(e) => e.into(),
            CoreError::Network(detail) => ApiError::Network { detail },
            CoreError::Tls { failure, detail } => ApiError::TlsRefused {
                failure: failure.into(),
                detail,
            },
            CoreError::Unauthorised(detail) => ApiError::Unauthorised { detail },
            CoreError::Rejected {
                status,
                code,
                message,
                ..
            } => ApiError::ServerRejected {
                status,
                code,
                detail: message,
            },
            CoreError::NotSetUp(what) => ApiError::NotSetUp {
                detail: what.to_string(),
            },
            CoreError::Cancelled(detail) => ApiError::Cancelled { detail },
            CoreError::UpgradeRequired(detail) => ApiError::UpgradeRequired { detail },
            CoreError::ServerTooOld(detail) => ApiError::ServerTooOld { detail },
            e @ (CoreError::SchemaTooNew { .. } | CoreError::Storage(_) | CoreError::Io { .. }) => {
                ApiError::Storage {
                    detail: e.to_string(),
                }
            }
            e => ApiError::Internal {
                detail: e.to_string(),
            },
        }
    }
}

impl ApiError {
    /// The error's stable code: the rule's refusal, the photo's problem, the server's
    /// refusal code, else the variant's own code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::NotAllowed { code, .. } | ApiError::PhotoRejected { code, .. } => *code,
            ApiError::NotFound { .. } => ErrorCode::NotFound,
            ApiError::InvalidInput { .. } => ErrorCode::InvalidInput,
            ApiError::Storage { .. } => ErrorCode::Storage,
            ApiError::Network { .. } => ErrorCode::Network,
            ApiError::Unauthorised { .. } => ErrorCode::Unauthorised,
            ApiError::ServerRejected { code, .. } => ErrorCode::of_server(code),
            ApiError::Cancelled { .. } => ErrorCode::Cancelled,
            ApiError::UpgradeRequired { .. } => ErrorCode::UpgradeRequired,
            ApiError::ServerTooOld { .. } => ErrorCode::ServerTooOld,
            ApiError::CorruptCase { .. } => ErrorCode::CorruptCase,
            ApiError::NotSetUp { .. } => ErrorCode::NotSetUp,
            ApiError::Internal { .. } => ErrorCode::Internal,
            ApiError::TlsRefused { failure, .. } => match failure {
                TlsFailure::UnknownIssuer => ErrorCode::TlsUnknownIssuer,
                TlsFailure::PinMismatch => ErrorCode::TlsPinMismatch,
                TlsFailure::Expired => ErrorCode::TlsExpired,
                TlsFailure::NameMismatch => ErrorCode::TlsNameMismatch,
                TlsFailure::Other => ErrorCode::TlsOther,
            },
        }
    }
}

/// The stable code of an error (in Kotlin `ApiException.code`, in Swift `ApiError.code`).
#[uniffi::export]
pub fn api_error_code(error: ApiError) -> ErrorCode {
    error.code()
}

/// Shorthand for results of exported functions.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_actionable_variants() {
        let e: ApiError = CoreError::UpgradeRequired("protocol 0.9".into()).into();
        assert!(matches!(e, ApiError::UpgradeRequired { detail } if detail == "protocol 0.9"));
        let e: ApiError = CoreError::ServerTooOld("protocol 2.0".into()).into();
        assert!(matches!(e, ApiError::ServerTooOld { detail } if detail == "protocol 2.0"));
        let e: ApiError = CoreError::NotSetUp("no roster has been installed").into();
        assert_eq!(
            e,
            ApiError::NotSetUp {
                detail: "no roster has been installed".into()
            }
        );
        let e: ApiError = CoreError::SchemaTooNew {
            found: 9,
            supported: 1,
        }
        .into();
        assert!(matches!(e, ApiError::Storage { .. }), "{e:?}");
        let e: ApiError = CoreError::Io {
            path: "/x".into(),
            source: std::io::Error::other("disk full"),
        }
        .into();
        assert!(matches!(e, ApiError::Storage { detail } if detail.contains("disk full")));
    }

    #[test]
    fn photo_and_sync_errors_map_to_their_variants() {
        let e: ApiError = CoreError::Photo(PhotoError::Corrupt("truncated".into())).into();
        assert!(
            matches!(&e, ApiError::PhotoRejected { reason, code: ErrorCode::PhotoCorrupt } if reason.contains("truncated"))
        );
        let e: ApiError = CoreError::Photo(PhotoError::BadHash("x".into())).into();
        assert!(matches!(e, ApiError::InvalidInput { field, .. } if field == "hash"));
        let e: ApiError = CoreError::Photo(PhotoError::Io {
            path: "/p/ab".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        })
        .into();
        assert!(matches!(e, ApiError::NotFound { what, .. } if what == "photo"));
        let e: ApiError = CoreError::Photo(PhotoError::HashMismatch {
            hash: "a".into(),
            actual: "b".into(),
        })
        .into();
        assert!(matches!(e, ApiError::Storage { .. }), "{e:?}");
        let e: ApiError = CoreError::Network("refused".into()).into();
        assert_eq!(
            e,
            ApiError::Network {
                detail: "refused".into()
            }
        );
        let e: ApiError = CoreError::Tls {
            failure: xiangying_core::sync::tls::TlsFailure::PinMismatch,
            detail: "no pin".into(),
        }
        .into();
        assert_eq!(
            e,
            ApiError::TlsRefused {
                failure: TlsFailure::PinMismatch,
                detail: "no pin".into()
            }
        );
        let e: ApiError = CoreError::Unauthorised("revoked".into()).into();
        assert!(matches!(e, ApiError::Unauthorised { .. }));
        let e: ApiError = CoreError::Rejected {
            status: 403,
            code: "forbidden".into(),
            message: "outside scope".into(),
            retry_after: None,
        }
        .into();
        assert_eq!(
            e,
            ApiError::ServerRejected {
                status: 403,
                code: "forbidden".into(),
                detail: "outside scope".into()
            }
        );
    }
}
