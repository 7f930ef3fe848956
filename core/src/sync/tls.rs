//! TLS for the device's requests (decision 0030): the `rustls` configuration the sync client
//! hands to reqwest, on the `ring` provider so that the core builds with only the NDK's and
//! Xcode's toolchains (no aws-lc, no cmake).
//!
//! Trust is the same on every phone, with no platform set-up: the Mozilla roots bundled with
//! the core (`webpki-roots`), plus an optional private certificate authority given at
//! enrolment ([`TlsOptions::private_ca_pem`], one or more PEM certificates: government
//! networks run their own CA). Optional pins ([`TlsOptions::pins`], `sha256/<base64>` of a
//! SubjectPublicKeyInfo, as OkHttp writes them) narrow that further: a chain is accepted only
//! when some certificate on the verified path, end entity to trust anchor, has one of them.
//!
//! A refused certificate becomes [`Error::Tls`] with a [`TlsFailure`] ([`failure_of`] finds
//! the rustls error under reqwest's), which the client does not retry.

pub use crate::error::TlsFailure;
use crate::error::{Error, Result};
use base64::Engine;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The prefix of a pin: the hash is SHA-256, as in OkHttp's `CertificatePinner`.
const PIN_PREFIX: &str = "sha256/";

/// The TLS options an enrolment gives, kept with it in the device store and used by every
/// later request. The default trusts the bundled roots and pins nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TlsOptions {
    /// A private certificate authority (one or more PEM `CERTIFICATE` blocks) trusted besides
    /// the bundled Mozilla roots.
    #[serde(default)]
    pub private_ca_pem: Option<String>,
    /// Pins, each `sha256/<base64 of the SHA-256 of a SubjectPublicKeyInfo>`; when any are
    /// given, a chain must hold one of them (on any certificate of the verified path).
    #[serde(default)]
    pub pins: Vec<String>,
}

/// The options, checked and parsed.
struct Trust {
    /// The private CA's certificates as trust anchors.
    anchors: Vec<TrustAnchor<'static>>,
    /// The pins' hashes.
    pins: Vec<[u8; 32]>,
}

impl TlsOptions {
    /// Checks the options without using them: [`Error::InvalidInput`] naming the field
    /// (`private_ca_pem`, `pins`) when the PEM holds no certificate or one that does not
    /// parse, or a pin is not `sha256/` and the base64 of 32 bytes.
    pub fn check(&self) -> Result<()> {
        self.parse().map(|_| ())
    }

    fn parse(&self) -> Result<Trust> {
        let anchors = match &self.private_ca_pem {
            None => Vec::new(),
            Some(pem) => private_anchors(pem)?,
        };
        let pins = self
            .pins
            .iter()
            .enumerate()
            .map(|(i, p)| {
                parse_pin(p)
                    .map_err(|problem| invalid("pins", format!("pin #{}: {problem}", i + 1)))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Trust { anchors, pins })
    }
}

fn invalid(field: &'static str, problem: String) -> Error {
    Error::InvalidInput { field, problem }
}

/// The trust anchors of a private CA's PEM text.
fn private_anchors(pem: &str) -> Result<Vec<TrustAnchor<'static>>> {
    let field = "private_ca_pem";
    let mut anchors = Vec::new();
    for (i, der) in CertificateDer::pem_slice_iter(pem.as_bytes()).enumerate() {
        let der = der.map_err(|e| invalid(field, format!("certificate #{}: {e}", i + 1)))?;
        let anchor = webpki::anchor_from_trusted_cert(&der).map_err(|e| {
            invalid(
                field,
                format!("certificate #{} is not an X.509 certificate: {e}", i + 1),
            )
        })?;
        anchors.push(anchor.to_owned());
    }
    if anchors.is_empty() {
        return Err(invalid(
            field,
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(anchors)
}

/// The hash of a `sha256/<base64>` pin.
fn parse_pin(pin: &str) -> std::result::Result<[u8; 32], String> {
    let b64 = pin
        .trim()
        .strip_prefix(PIN_PREFIX)
        .ok_or_else(|| format!("{pin:?} does not start with {PIN_PREFIX:?}"))?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| format!("{pin:?} is not base64 after {PIN_PREFIX:?}: {e}"))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{pin:?} holds {} bytes; a SHA-256 hash has 32", bytes.len()))
}

/// The pin of a DER SubjectPublicKeyInfo, `sha256/<base64>`: what to give as a pin for a
/// certificate (`openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl
/// dgst -sha256 -binary | base64` prints the same).
pub fn pin_of_spki(spki_der: &[u8]) -> String {
    format!(
        "{PIN_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(spki_der))
    )
}

/// The pin of a DER certificate's public key (see [`pin_of_spki`]).
pub fn pin_of_certificate(cert_der: &[u8]) -> Result<String> {
    let der = CertificateDer::from(cert_der);
    let cert = webpki::EndEntityCert::try_from(&der)
        .map_err(|e| invalid("certificate", format!("not an X.509 certificate: {e}")))?;
    Ok(pin_of_spki(cert.subject_public_key_info().as_ref()))
}

/// The rustls configuration for requests under `options`: TLS 1.2 and 1.3 on `ring`, the
/// bundled roots plus the private CA, the pins when any, HTTP/1.1 by ALPN.
pub fn client_config(options: &TlsOptions) -> Result<rustls::ClientConfig> {
    let trust = options.parse()?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    roots.roots.extend(trust.anchors);
    let roots = Arc::new(roots);
    let webpki = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
        .build()
        .map_err(|e| Error::Network(format!("cannot set up TLS: {e}")))?;
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Network(format!("cannot set up TLS: {e}")))?;
    let mut config = if trust.pins.is_empty() {
        builder.with_webpki_verifier(webpki).with_no_client_auth()
    } else {
        let pinned = Pinned {
            webpki,
            roots,
            algorithms: provider.signature_verification_algorithms,
            pins: trust.pins,
        };
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(pinned))
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The provider the configurations use, for code that builds its own (the server's listener
/// and the tests).
pub fn provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// No certificate on any verified path has one of the pins.
#[derive(Debug)]
struct PinMismatch;

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no certificate in the server's verified chain has one of this device's pins")
    }
}

impl std::error::Error for PinMismatch {}

/// The webpki verifier, then the pins: the chain must first verify as usual (issuer, validity,
/// name), and then some path from the end entity to a trust anchor must hold a pinned key.
#[derive(Debug)]
struct Pinned {
    webpki: Arc<WebPkiServerVerifier>,
    roots: Arc<RootCertStore>,
    algorithms: WebPkiSupportedAlgorithms,
    pins: Vec<[u8; 32]>,
}

impl Pinned {
    fn pinned(&self, spki: &[u8]) -> bool {
        let hash: [u8; 32] = Sha256::digest(spki).into();
        self.pins.contains(&hash)
    }
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let verified = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let mismatch = || {
            rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
                Arc::new(PinMismatch),
            )))
        };
        let cert = webpki::EndEntityCert::try_from(end_entity).map_err(|_| mismatch())?;
        // The path again, now with the pins as a condition on it: path building tries the
        // other paths (cross-signed intermediates) before giving up.
        let holds_a_pin = |path: &webpki::VerifiedPath<'_>| {
            let found = self.pinned(path.end_entity().subject_public_key_info().as_ref())
                || path
                    .intermediate_certificates()
                    .any(|c| self.pinned(c.subject_public_key_info().as_ref()))
                || self.pinned(webpki::spki_for_anchor(path.anchor()).as_ref());
            if found {
                Ok(())
            } else {
                Err(webpki::Error::UnknownIssuer)
            }
        };
        cert.verify_for_usage(
            self.algorithms.all,
            &self.roots.roots,
            intermediates,
            now,
            webpki::KeyUsage::server_auth(),
            None,
            Some(&holds_a_pin),
        )
        .map_err(|_| mismatch())?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// The TLS refusal under an error (reqwest's, hyper's, an I/O error's), if it is one: the
/// rustls error is found wherever it sits in the chain of sources. Certificate refusals and
/// handshakes on terms this device does not accept are; every other TLS trouble (a cut
/// connection mid-handshake, a garbled record) is not, and stays a network error.
pub fn failure_of(e: &(dyn std::error::Error + 'static)) -> Option<(TlsFailure, String)> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return classify(tls).map(|failure| (failure, tls.to_string()));
        }
        next = match err.downcast_ref::<std::io::Error>() {
            // `io::Error::source` skips the error it wraps (reqwest's connector wraps
            // tokio-rustls's I/O error in another): go into it instead.
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

/// The failure a rustls error stands for, when it is a refusal.
fn classify(e: &rustls::Error) -> Option<TlsFailure> {
    use CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => Some(match c {
            C::UnknownIssuer => TlsFailure::UnknownIssuer,
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => TlsFailure::Expired,
            C::NotValidForName | C::NotValidForNameContext { .. } => TlsFailure::NameMismatch,
            C::Other(other) if other.0.downcast_ref::<PinMismatch>().is_some() => {
                TlsFailure::PinMismatch
            }
            _ => TlsFailure::Other,
        }),
        rustls::Error::NoCertificatesPresented | rustls::Error::PeerIncompatible(_) => {
            Some(TlsFailure::Other)
        }
        _ => None,
    }
}

/// The error for a failed request: [`Error::Tls`] when TLS refused the server, else
/// [`Error::Network`].
pub(crate) fn request_error(e: reqwest::Error) -> Error {
    match failure_of(&e) {
        Some((failure, detail)) => Error::Tls { failure, detail },
        None => Error::Network(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use rustls::{ClientConnection, ServerConnection};

    /// A certificate authority made for one test.
    struct Ca {
        pem: String,
        der: Vec<u8>,
        issuer: Issuer<'static, KeyPair>,
    }

    fn ca(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `names` from `ca`, valid now unless `expired`.
    fn leaf(ca: &Ca, names: &[&str], expired: bool) -> (Vec<u8>, KeyPair) {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        if expired {
            params.not_before = rcgen::date_time_ymd(2001, 1, 1);
            params.not_after = rcgen::date_time_ymd(2002, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca.issuer).unwrap();
        (cert.der().to_vec(), key)
    }

    fn server_config(cert: Vec<u8>, key: &KeyPair) -> rustls::ServerConfig {
        rustls::ServerConfig::builder_with_provider(Arc::new(provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert)],
                rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
            )
            .unwrap()
    }

    /// A whole handshake in memory: the client's error, if any.
    fn handshake(
        client: rustls::ClientConfig,
        server: rustls::ServerConfig,
        name: &str,
    ) -> std::result::Result<(), rustls::Error> {
        let name = ServerName::try_from(name.to_string()).unwrap();
        let mut c = ClientConnection::new(Arc::new(client), name)?;
        let mut s = ServerConnection::new(Arc::new(server)).unwrap();
        for _ in 0..20 {
            let mut buf = Vec::new();
            while c.wants_write() {
                c.write_tls(&mut buf).unwrap();
            }
            if !buf.is_empty() {
                s.read_tls(&mut buf.as_slice()).unwrap();
                // The server's own complaint (an alert it is about to send) is not ours.
                let _ = s.process_new_packets();
            }
            let mut buf = Vec::new();
            while s.wants_write() {
                s.write_tls(&mut buf).unwrap();
            }
            if !buf.is_empty() {
                c.read_tls(&mut buf.as_slice()).unwrap();
                c.process_new_packets()?;
            }
            if !c.is_handshaking() {
                return Ok(());
            }
        }
        panic!("the handshake did not finish");
    }

    fn options(ca: Option<&Ca>, pins: &[String]) -> TlsOptions {
        TlsOptions {
            private_ca_pem: ca.map(|c| c.pem.clone()),
            pins: pins.to_vec(),
        }
    }

    /// The failure found under `e` wrapped as reqwest's connector wraps it: an I/O error in
    /// an I/O error.
    fn failure(e: rustls::Error) -> TlsFailure {
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        let outer = std::io::Error::other(io);
        failure_of(&outer).unwrap().0
    }

    #[test]
    fn a_private_ca_is_trusted_and_another_is_an_unknown_issuer() {
        let ours = ca("政务外网 CA");
        let theirs = ca("another CA");
        let (cert, key) = leaf(&ours, &["sync.example", "127.0.0.1"], false);
        let server = || server_config(cert.clone(), &key);
        let with_ours = client_config(&options(Some(&ours), &[])).unwrap();
        handshake(with_ours.clone(), server(), "sync.example").unwrap();
        handshake(with_ours.clone(), server(), "127.0.0.1").unwrap();
        let e = handshake(
            client_config(&options(Some(&theirs), &[])).unwrap(),
            server(),
            "sync.example",
        )
        .unwrap_err();
        assert_eq!(failure(e), TlsFailure::UnknownIssuer);
        // The bundled roots alone do not know a private CA.
        let e = handshake(
            client_config(&TlsOptions::default()).unwrap(),
            server(),
            "sync.example",
        )
        .unwrap_err();
        assert_eq!(failure(e), TlsFailure::UnknownIssuer);
        // Another name, an expired certificate.
        let e = handshake(with_ours.clone(), server(), "other.example").unwrap_err();
        assert_eq!(failure(e), TlsFailure::NameMismatch);
        let (old, old_key) = leaf(&ours, &["sync.example"], true);
        let e = handshake(with_ours, server_config(old, &old_key), "sync.example").unwrap_err();
        assert_eq!(failure(e), TlsFailure::Expired);
    }

    #[test]
    fn a_pin_on_the_leaf_or_the_ca_is_accepted_and_none_refused() {
        let ours = ca("pinned CA");
        let (cert, key) = leaf(&ours, &["sync.example"], false);
        let server = || server_config(cert.clone(), &key);
        let leaf_pin = pin_of_certificate(&cert).unwrap();
        let ca_pin = pin_of_certificate(&ours.der).unwrap();
        let other_pin = pin_of_certificate(&ca("other").der).unwrap();
        for pins in [
            vec![leaf_pin.clone()],
            vec![ca_pin.clone()],
            vec![other_pin.clone(), ca_pin],
        ] {
            let config = client_config(&options(Some(&ours), &pins)).unwrap();
            handshake(config, server(), "sync.example").unwrap();
        }
        let config =
            client_config(&options(Some(&ours), std::slice::from_ref(&other_pin))).unwrap();
        let e = handshake(config, server(), "sync.example").unwrap_err();
        assert_eq!(failure(e), TlsFailure::PinMismatch);
        // Pins never widen trust: a pinned key under an unknown issuer is still refused.
        let config = client_config(&options(None, &[leaf_pin])).unwrap();
        let e = handshake(config, server(), "sync.example").unwrap_err();
        assert_eq!(failure(e), TlsFailure::UnknownIssuer);
        // Nor do they skip the name check.
        let config =
            client_config(&options(Some(&ours), &[pin_of_certificate(&cert).unwrap()])).unwrap();
        let e = handshake(config, server(), "other.example").unwrap_err();
        assert_eq!(failure(e), TlsFailure::NameMismatch);
    }

    #[test]
    fn bad_pem_and_malformed_pins_name_their_field() {
        let field_of = |o: TlsOptions| match o.check() {
            Err(Error::InvalidInput { field, problem }) => (field, problem),
            other => panic!("{other:?}"),
        };
        let (f, p) = field_of(options(None, &[]).with_pem("not a certificate"));
        assert_eq!(f, "private_ca_pem");
        assert!(p.contains("no PEM certificate"), "{p}");
        let (f, _) = field_of(
            options(None, &[])
                .with_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        );
        assert_eq!(f, "private_ca_pem");
        let (f, _) = field_of(
            options(None, &[])
                .with_pem("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
        );
        assert_eq!(f, "private_ca_pem");
        for bad in [
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "sha1/AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "sha256/not base64!",
            "sha256/AAAA",
        ] {
            let (f, p) = field_of(options(
                None,
                &[
                    "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".into(),
                    bad.into(),
                ],
            ));
            assert_eq!(f, "pins");
            assert!(p.starts_with("pin #2: "), "{p}");
        }
        // Two CAs in one PEM, and a good pin, are fine.
        let two = format!("{}{}", ca("a").pem, ca("b").pem);
        let ok = options(
            None,
            &["sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".into()],
        )
        .with_pem(&two);
        ok.check().unwrap();
        assert_eq!(ok.parse().unwrap().anchors.len(), 2);
    }

    impl TlsOptions {
        fn with_pem(mut self, pem: &str) -> TlsOptions {
            self.private_ca_pem = Some(pem.to_string());
            self
        }
    }

    #[test]
    fn other_tls_trouble_is_not_a_refusal() {
        let garbled = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
        );
        assert_eq!(failure_of(&garbled), None);
        assert_eq!(failure_of(&std::io::Error::other("reset")), None);
        assert_eq!(
            failure(rustls::Error::InvalidCertificate(
                CertificateError::BadSignature
            )),
            TlsFailure::Other
        );
    }
}
