//! The TLS records that cross the boundary (decision 0030): the options an enrolment gives
//! ([`TlsOptions`]) and why a server's certificate was refused ([`TlsFailure`], carried by
//! `ApiError::TlsRefused`).

use xiangying_core::sync::tls::{TlsFailure as CoreTlsFailure, TlsOptions as CoreTlsOptions};

/// How this device checks the server's certificate, given at enrolment and kept with it for
/// every later request (sync, photos, the wake-up wait, the sync engine). Without it the
/// device trusts the Mozilla roots bundled with the core, the same on both phones.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct TlsOptions {
    /// A private certificate authority to trust besides the bundled roots: one or more PEM
    /// `-----BEGIN CERTIFICATE-----` blocks (government networks, 政务外网, run their own).
    #[uniffi(default = None)]
    pub private_ca_pem: Option<String>,
    /// Certificate pins in OkHttp's form, `sha256/<base64>`: the SHA-256 of a certificate's
    /// SubjectPublicKeyInfo. When any are given, the server's chain must also hold one of
    /// them (on the server's certificate, an intermediate or the trust anchor). Pin the CA or
    /// a backup key too, so that a renewed server certificate still connects.
    #[uniffi(default)]
    pub pins: Vec<String>,
}

impl From<TlsOptions> for CoreTlsOptions {
    fn from(o: TlsOptions) -> CoreTlsOptions {
        CoreTlsOptions {
            private_ca_pem: o.private_ca_pem,
            pins: o.pins,
        }
    }
}

/// Which check of the server's certificate failed (`ApiError::TlsRefused`). Retrying does not
/// help until the server's certificate or the enrolment's TLS options change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TlsFailure {
    /// The certificate leads to no authority this device trusts: a wrong or missing private
    /// CA, or someone in the middle (code `tls_unknown_issuer`).
    UnknownIssuer,
    /// The certificate verified, but no certificate in its chain has one of the pins
    /// (`tls_pin_mismatch`).
    PinMismatch,
    /// A certificate has expired or is not valid yet: check the phone's clock
    /// (`tls_expired`).
    Expired,
    /// The certificate is not for the host in the server URL (`tls_name_mismatch`).
    NameMismatch,
    /// Any other refusal of the certificate or of the handshake's terms (`tls_other`).
    Other,
}

impl From<CoreTlsFailure> for TlsFailure {
    fn from(f: CoreTlsFailure) -> TlsFailure {
        match f {
            CoreTlsFailure::UnknownIssuer => TlsFailure::UnknownIssuer,
            CoreTlsFailure::PinMismatch => TlsFailure::PinMismatch,
            CoreTlsFailure::Expired => TlsFailure::Expired,
            CoreTlsFailure::NameMismatch => TlsFailure::NameMismatch,
            CoreTlsFailure::Other => TlsFailure::Other,
        }
    }
}
