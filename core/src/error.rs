//! The crate's error type: one enum whose variants an app can act on.

use xiangying_model::case::Denied;
use xiangying_model::sync::refusal::Refusal;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A roster or catalogue file is invalid.
    #[error(transparent)]
    Org(#[from] crate::org::OrgError),
    /// The action is not allowed for this person on this case now; nothing was written.
    #[error("cannot {action}: {reason}")]
    NotAllowed {
        /// The action tried, e.g. `escalate`.
        action: String,
        /// Why not: a typed refusal with a stable code, read in English (`Display`) or in
        /// Chinese ([`Denied::zh`]).
        reason: Denied,
    },
    /// Something named does not exist.
    #[error("{what} {id:?} not found")]
    NotFound {
        /// What kind of thing, e.g. `case`, `person`, `category`.
        what: &'static str,
        /// The id asked for.
        id: String,
    },
    /// An input is invalid; nothing was written.
    #[error("invalid {field}: {problem}")]
    InvalidInput {
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// One case's stored document cannot be read; every other case still reads.
    #[error("case {case_id} is corrupt: {reason}")]
    CorruptCase {
        /// The case.
        case_id: String,
        /// What failed.
        reason: String,
    },
    /// A photo was refused (too large, corrupt, unsupported); nothing was stored.
    #[error("photo rejected: {0}")]
    Photo(#[from] crate::photo::PhotoError),
    /// The server could not be reached, or the connection broke; retrying later is safe.
    #[error("network: {0}")]
    Network(String),
    /// The server's certificate was refused (decision 0030): an issuer this device does not
    /// trust, a chain without any of the enrolment's pins, a certificate out of its validity
    /// period or for another name. Retrying cannot help until the server's certificate or the
    /// device's TLS options change; nothing was sent.
    #[error("TLS refused ({}): {detail}", failure.code())]
    Tls {
        /// Which check failed.
        failure: TlsFailure,
        /// What the TLS library said.
        detail: String,
    },
    /// The server does not accept this device's token (revoked, or never enrolled).
    #[error("unauthorised: {0}")]
    Unauthorised(String),
    /// The server refused the request and said why.
    #[error("the server refused ({status}, {code}): {message}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The server's stable name for the refusal (`over_limit`, `tampering`, `forbidden`,
        /// `quarantined`, `bad_request`, …; empty when the server gave none): a
        /// [`Refusal`] code, read typed with [`Error::refusal`].
        code: String,
        /// The server's words.
        message: String,
        /// How long the server asked the device to wait before trying again (its
        /// `Retry-After`, in seconds), when it said.
        retry_after: Option<std::time::Duration>,
    },
    /// The server no longer answers this app's protocol version: the app must be upgraded.
    /// Nothing was lost; the outbox waits for the upgraded app.
    #[error("upgrade required: {0}")]
    UpgradeRequired(String),
    /// The server is older than this app's protocol version: the server must be upgraded
    /// (the operator's task). Nothing was lost; syncing works again once it is.
    #[error("the server is too old for this app: {0}")]
    ServerTooOld(String),
    /// The work was cancelled; what was done before stays done and the next run carries on.
    #[error("cancelled: {0}")]
    Cancelled(String),
    /// The device has no identity or no roster yet.
    #[error("this device is not set up: {0}")]
    NotSetUp(&'static str),
    /// The store was written by a newer version of the app.
    #[error("the store has schema version {found}, newer than this app's {supported}")]
    SchemaTooNew {
        /// The version found on disk.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// SQLite failed.
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// How long the server asked the device to wait before trying again, when it said
    /// (`Retry-After` on a 503 or 429).
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::Rejected { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Why the server refused, for the errors that are a server's answer: the code the server
    /// sent ([`Refusal::read`]: a code this build does not know is [`Refusal::Unknown`]), or,
    /// from a server that sent none, the reason its HTTP status stands for
    /// ([`Refusal::from_status`]). `None` for every error that is not a server's refusal.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Error::Rejected { status, code, .. } if code.is_empty() => {
                Some(Refusal::from_status(*status))
            }
            Error::Rejected { code, .. } => Some(Refusal::read(code)),
            Error::Unauthorised(_) => Some(Refusal::Unauthorised),
            Error::UpgradeRequired(_) => Some(Refusal::UpgradeRequired),
            Error::ServerTooOld(_) => Some(Refusal::ServerTooOld),
            Error::Org(_)
            | Error::NotAllowed { .. }
            | Error::NotFound { .. }
            | Error::InvalidInput { .. }
            | Error::CorruptCase { .. }
            | Error::Photo(_)
            | Error::Network(_)
            | Error::Tls { .. }
            | Error::Cancelled(_)
            | Error::NotSetUp(_)
            | Error::SchemaTooNew { .. }
            | Error::Storage(_)
            | Error::Io { .. } => None,
        }
    }
}

impl Error {
    /// A short stable code for this error as a sync failure, reported to the server in the
    /// next sync's `xiangying-last-error` header (decision 0041): the refusal's code for a
    /// server's answer, `tls_*` for a refused certificate, else the kind of failure. Never
    /// personal data (no ids, no messages).
    pub fn sync_code(&self) -> &'static str {
        if let Some(refusal) = self.refusal() {
            return match refusal {
                Refusal::Unknown => "refused",
                known => known.code(),
            };
        }
        match self {
            Error::Tls { failure, .. } => failure.code(),
            Error::Network(_) => "network",
            Error::Cancelled(_) => "cancelled",
            Error::NotSetUp(_) => "not_set_up",
            Error::Storage(_) | Error::SchemaTooNew { .. } | Error::Io { .. } => "device_storage",
            Error::CorruptCase { .. } => "corrupt_case",
            Error::Photo(_) => "photo",
            Error::Org(_) => "roster",
            _ => "other",
        }
    }
}

/// Which check of the server's certificate failed (`Error::Tls`); defined here, below `sync`,
/// so that the error type needs nothing above it, and re-exported by `sync::tls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsFailure {
    /// The chain leads to no certificate authority this device trusts (the bundled Mozilla
    /// roots and the enrolment's private CA): a wrong or missing private CA, or someone in
    /// the middle.
    UnknownIssuer,
    /// The chain verified, but no certificate in it has one of the enrolment's pins.
    PinMismatch,
    /// A certificate is outside its validity period: expired, or not valid yet (check the
    /// phone's clock).
    Expired,
    /// The server's certificate is not for the host name (or IP address) in the server URL.
    NameMismatch,
    /// Any other refusal of the certificate or of the TLS handshake's terms.
    Other,
}

impl TlsFailure {
    /// The stable code of this failure, e.g. `tls_unknown_issuer` (never renamed or reused).
    pub fn code(self) -> &'static str {
        match self {
            TlsFailure::UnknownIssuer => "tls_unknown_issuer",
            TlsFailure::PinMismatch => "tls_pin_mismatch",
            TlsFailure::Expired => "tls_expired",
            TlsFailure::NameMismatch => "tls_name_mismatch",
            TlsFailure::Other => "tls_other",
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_failure_has_a_short_stable_code_without_its_message() {
        let rejected = |status, code: &str| Error::Rejected {
            status,
            code: code.into(),
            message: "person gw1 (13800001234) may not".into(),
            retry_after: None,
        };
        assert_eq!(rejected(413, "over_limit").sync_code(), "over_limit");
        assert_eq!(rejected(403, "").sync_code(), "forbidden");
        assert_eq!(rejected(418, "brand_new_code").sync_code(), "refused");
        assert_eq!(
            Error::Network("dns: xy.gov.cn".into()).sync_code(),
            "network"
        );
        assert_eq!(Error::Unauthorised("x".into()).sync_code(), "unauthorised");
        let tls = Error::Tls {
            failure: TlsFailure::PinMismatch,
            detail: "x".into(),
        };
        assert_eq!(tls.sync_code(), "tls_pin_mismatch");
        for e in [rejected(403, "forbidden"), Error::Network("x".into()), tls] {
            assert!(
                xiangying_model::sync::version::check_error_code(e.sync_code()).is_some(),
                "{e}"
            );
        }
    }
}
