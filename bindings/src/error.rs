//! The one public error of the bindings, [`ApiError`]: every variant is something an app can
//! act on (show the reason, ask for input, re-enrol, retry later). The core's richer
//! [`xiangying_core::Error`] is mapped onto it here and nowhere else.
//!
//! Fields that carry free text are called `detail`, not `message`: Kotlin exceptions already
//! have a `message` property, and uniffi 0.32 would generate a clashing one.

use xiangying_core::Error as CoreError;

/// What went wrong, in a form an app can act on. In Kotlin this is the sealed class
/// `ApiException` (one subclass per variant); in Swift the enum `ApiError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum ApiError {
    /// This person may not do this to this case now; nothing was written. Show `reason`.
    #[error("cannot {action}: {reason}")]
    NotAllowed {
        /// The action tried, e.g. `escalate`.
        action: String,
        /// Why not, in words a user can read.
        reason: String,
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
    /// The server could not be reached or the connection broke. Nothing is lost: retry later.
    /// Not produced yet: sync arrives with the sync server.
    #[error("network: {detail}")]
    Network {
        /// What failed.
        detail: String,
    },
    /// The server refused this device (token revoked or expired): enrol again.
    /// Not produced yet: enrolment arrives with the sync server.
    #[error("unauthorised: {detail}")]
    Unauthorized {
        /// What the server said.
        detail: String,
    },
    /// A photo could not be taken in (not an image, too small, damaged).
    /// Not produced yet: photo attachment arrives with the photo issue.
    #[error("photo rejected: {reason}")]
    PhotoRejected {
        /// Why, in words a user can read.
        reason: String,
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
    /// A condition this version of the bindings does not map yet, or a bug. Show `detail`
    /// and report it.
    #[error("internal error: {detail}")]
    Internal {
        /// What happened.
        detail: String,
    },
}

impl From<CoreError> for ApiError {
    // The core will grow error variants (photos, sync); until this layer maps them they
    // arrive as `Internal`, so the fallback arm must stay even while it is unreachable.
    #[allow(unreachable_patterns)]
    fn from(e: CoreError) -> ApiError {
        match e {
            CoreError::NotAllowed { action, reason } => ApiError::NotAllowed { action, reason },
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
            CoreError::NotSetUp(what) => ApiError::NotSetUp {
                detail: what.to_string(),
            },
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

/// Shorthand for results of exported functions.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_actionable_variants() {
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
}
