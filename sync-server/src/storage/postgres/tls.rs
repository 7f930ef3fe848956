//! TLS to PostgreSQL with rustls on `ring`, following libpq's `sslmode` and `sslrootcert`
//! (docs/decisions/0036-postgres-pool-and-tls.md).
//!
//! The `postgres` crate's URL parser knows only `sslmode=disable|prefer|require` and no
//! `sslrootcert`, and verifies nothing itself: [`split`] takes both parameters out of the URL
//! (URL or `key=value` form) and [`TlsSettings::connector`] makes the rustls set-up that
//! applies them:
//!
//! | `sslmode` | encrypted | certificate chain checked | host name checked |
//! |---|---|---|---|
//! | `disable` | no | – | – |
//! | `prefer` (default) | when the server offers it | only with `sslrootcert` | no |
//! | `require` | yes | only with `sslrootcert` (then like `verify-ca`) | no |
//! | `verify-ca` | yes | yes | no |
//! | `verify-full` | yes | yes | yes |
//!
//! The chain is checked against the certificates in `sslrootcert` (a PEM file); without it
//! (or with `sslrootcert=system`), against the Mozilla roots bundled in the server
//! (`webpki-roots`) — libpq would read `~/.postgresql/root.crt` instead.

use crate::error::ServerError;
use crate::storage::Result;
use ::postgres::Config;
use ::postgres::config::SslMode as DriverSslMode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, else plain.
    Prefer,
    /// TLS, the certificate unchecked (unless `sslrootcert` is given).
    Require,
    /// TLS, the certificate chained to a trusted root; any host name.
    VerifyCa,
    /// TLS, the certificate chained to a trusted root and naming the host.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(url_error(format!(
                    "sslmode={other} is not a TLS mode this server knows: use disable, prefer, \
                     require, verify-ca or verify-full"
                )));
            }
        })
    }
}

/// Where the trusted roots come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file of CA certificates (`sslrootcert=/path`).
    File(PathBuf),
    /// The Mozilla roots bundled in the server (`sslrootcert=system`, or none given).
    Bundled,
}

/// The TLS settings taken out of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The mode (default `prefer`, as libpq).
    pub mode: SslMode,
    /// `sslrootcert`, if given.
    pub root_cert: Option<RootCert>,
}

fn url_error(message: String) -> ServerError {
    ServerError::storage_state(format!("PostgreSQL URL: {message}"))
}

/// Parses `url` (URL or `key=value` form) with `sslmode` and `sslrootcert` taken out and
/// interpreted here; everything else is the `postgres` crate's.
pub fn split(url: &str) -> Result<(Config, TlsSettings)> {
    let (rest, params) = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        take_from_url(url)
    } else {
        take_from_key_values(url)
    };
    let mut settings = TlsSettings {
        mode: SslMode::Prefer,
        root_cert: None,
    };
    for (key, value) in params {
        match key.as_str() {
            "sslmode" => settings.mode = SslMode::parse(&value)?,
            _ if value.is_empty() => {
                return Err(url_error("sslrootcert is empty".into()));
            }
            _ if value == "system" => settings.root_cert = Some(RootCert::Bundled),
            _ => settings.root_cert = Some(RootCert::File(PathBuf::from(value))),
        }
    }
    let mut config: Config = rest
        .parse()
        .map_err(|e| ServerError::from(crate::error::StorageError::driver("PostgreSQL URL", e)))?;
    config.ssl_mode(match settings.mode {
        SslMode::Disable => DriverSslMode::Disable,
        SslMode::Prefer => DriverSslMode::Prefer,
        _ => DriverSslMode::Require,
    });
    Ok((config, settings))
}

/// The parameters this module interprets.
const OURS: [&str; 2] = ["sslmode", "sslrootcert"];

/// `postgres://…?a=b&sslmode=…`: the URL without our parameters, and ours (decoded).
fn take_from_url(url: &str) -> (String, Vec<(String, String)>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), Vec::new());
    };
    let mut kept = Vec::new();
    let mut ours = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(k);
        if OURS.contains(&key.as_str()) {
            ours.push((key, percent_decode(v)));
        } else {
            kept.push(pair);
        }
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (rest, ours)
}

/// Decodes `%XX` escapes (and leaves a broken one as it is).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `host=… sslmode=… sslrootcert='…'`: the text without our pairs, and ours (unquoted).
fn take_from_key_values(text: &str) -> (String, Vec<(String, String)>) {
    let mut rest = String::with_capacity(text.len());
    let mut ours = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if chars.get(i) == Some(&'=') {
            i += 1;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            let quoted = chars.get(i) == Some(&'\'');
            if quoted {
                i += 1;
            }
            while i < chars.len() {
                match chars[i] {
                    '\\' if i + 1 < chars.len() => {
                        value.push(chars[i + 1]);
                        i += 2;
                        continue;
                    }
                    '\'' if quoted => {
                        i += 1;
                        break;
                    }
                    c if !quoted && c.is_whitespace() => break,
                    c => value.push(c),
                }
                i += 1;
            }
        }
        if OURS.contains(&key.as_str()) {
            ours.push((key, value));
        } else {
            rest.extend(&chars[start..i]);
        }
        let ws = i;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        rest.extend(&chars[ws..i]);
        if i == start {
            // Not a pair at all (a stray `=`): keep it for the driver to refuse.
            rest.push(chars[i]);
            i += 1;
        }
    }
    (rest, ours)
}

impl TlsSettings {
    /// The connector for these settings: rustls on `ring`, with the certificate checks of
    /// the mode. Errors name `sslrootcert` and the file.
    pub fn connector(&self) -> Result<MakeRustlsConnect> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain_checked = matches!(self.mode, SslMode::VerifyCa | SslMode::VerifyFull)
            || (self.root_cert.is_some() && self.mode != SslMode::Disable);
        let verifier: Arc<dyn ServerCertVerifier> = if chain_checked {
            let roots = self.roots()?;
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| url_error(format!("sslrootcert: {e}")))?;
            if self.mode == SslMode::VerifyFull {
                webpki
            } else {
                Arc::new(AnyHostName(webpki))
            }
        } else {
            Arc::new(Unchecked(provider.clone()))
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ServerError::storage_state(format!("TLS to PostgreSQL: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn roots(&self) -> Result<RootCertStore> {
        let path = match &self.root_cert {
            None | Some(RootCert::Bundled) => {
                return Ok(RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                });
            }
            Some(RootCert::File(path)) => path,
        };
        let named = |what: String| url_error(format!("sslrootcert={}: {what}", path.display()));
        let bytes = std::fs::read(path).map_err(|e| named(e.to_string()))?;
        let certs = CertificateDer::pem_slice_iter(&bytes)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| named(e.to_string()))?;
        let mut roots = RootCertStore::empty();
        let (added, _ignored) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(named(
                "holds no usable PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
            ));
        }
        Ok(roots)
    }
}

/// `verify-ca` (and `require` with `sslrootcert`): the chain must reach a trusted root, the
/// host name is not checked (webpki checks the name last, after the chain).
#[derive(Debug)]
struct AnyHostName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` and `require` without `sslrootcert`: encrypted, the certificate not checked (as
/// libpq); the handshake's signatures still are.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> TlsSettings {
        split(url).unwrap().1
    }

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_of_both_url_forms() {
        let (config, s) =
            split("postgres://u:p@db:5433/x?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=a")
                .unwrap();
        assert_eq!(s.mode, SslMode::VerifyFull);
        assert_eq!(s.root_cert, Some(RootCert::File("/etc/ca.pem".into())));
        assert_eq!(config.get_application_name(), Some("a"));
        assert_eq!(config.get_ssl_mode(), DriverSslMode::Require);
        let (config, s) =
            split("host=db user=u sslmode = 'verify-ca' sslrootcert='/a b/ca.pem' dbname=x")
                .unwrap();
        assert_eq!(s.mode, SslMode::VerifyCa);
        assert_eq!(s.root_cert, Some(RootCert::File("/a b/ca.pem".into())));
        assert_eq!(config.get_dbname(), Some("x"));
        assert_eq!(config.get_user(), Some("u"));
        // The default is prefer, as libpq's; `system` means the bundled roots.
        assert_eq!(settings("postgres://u@db/x").mode, SslMode::Prefer);
        assert_eq!(
            split("postgres://u@db/x").unwrap().0.get_ssl_mode(),
            DriverSslMode::Prefer
        );
        assert_eq!(
            settings("postgres://u@db/x?sslrootcert=system").root_cert,
            Some(RootCert::Bundled)
        );
        assert_eq!(
            split("postgres://u@db/x?sslmode=disable")
                .unwrap()
                .0
                .get_ssl_mode(),
            DriverSslMode::Disable
        );
    }

    #[test]
    fn an_unknown_sslmode_or_a_bad_root_file_is_named() {
        for url in [
            "postgres://u@db/x?sslmode=verify_full",
            "host=db sslmode=allow",
        ] {
            let e = split(url).unwrap_err().to_string();
            assert!(e.contains("sslmode="), "{e}");
            assert!(e.contains("verify-full"), "{e}");
        }
        let e = split("postgres://u@db/x?sslrootcert=/nonexistent/ca.pem&sslmode=verify-ca")
            .unwrap()
            .1
            .connector()
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("sslrootcert=/nonexistent/ca.pem"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let e = TlsSettings {
            mode: SslMode::VerifyFull,
            root_cert: Some(RootCert::File(empty)),
        }
        .connector()
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("no usable PEM certificate"), "{e}");
        // Another unknown parameter is still the driver's to refuse.
        assert!(split("postgres://u@db/x?sslcolour=red").is_err());
    }
}
