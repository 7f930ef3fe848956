//! HTTPS on the server's own listener, for small deployments and the tests (decision 0030):
//! a certificate chain and its private key from PEM files, served with rustls on `ring` (the
//! same provider as the devices). Most deployments terminate TLS at a reverse proxy and do not
//! use this (docs/OPERATIONS.md).

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// The acceptor [`crate::listen::serve`] wraps each connection in.
pub type TlsAcceptor = tokio_rustls::TlsAcceptor;

/// An acceptor from a PEM certificate chain (the server's certificate first, then any
/// intermediates) and a PEM private key (PKCS#8, PKCS#1 or SEC1). Errors name the file and
/// what is wrong with it.
pub fn acceptor(cert_pem: &Path, key_pem: &Path) -> Result<TlsAcceptor, String> {
    let read = |path: &Path| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let cert_bytes = read(cert_pem)?;
    let key_bytes = read(key_pem)?;
    let chain = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", cert_pem.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "{}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            cert_pem.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_bytes)
        .map_err(|e| format!("{}: no PEM private key: {e}", key_pem.display()))?;
    acceptor_from(chain, key)
        .map_err(|e| format!("{} and {}: {e}", cert_pem.display(), key_pem.display()))
}

/// An acceptor from a DER certificate chain and key (what [`acceptor`] reads from files).
pub fn acceptor_from(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<TlsAcceptor, String> {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| format!("the certificate and key do not make a server identity: {e}"))?;
    // The server speaks HTTP/1.1 only (listen.rs).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_and_key_load_and_bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        acceptor(&cert_path, &key_path).unwrap();

        let e = acceptor(&key_path, &key_path).err().unwrap();
        assert!(e.contains("key.pem: holds no PEM certificate"), "{e}");
        let e = acceptor(&cert_path, &cert_path).err().unwrap();
        assert!(e.contains("cert.pem: no PEM private key"), "{e}");
        let e = acceptor(&dir.path().join("missing.pem"), &key_path)
            .err()
            .unwrap();
        assert!(e.contains("missing.pem"), "{e}");
        // A key that is not the certificate's.
        let other = rcgen::KeyPair::generate().unwrap();
        std::fs::write(&key_path, other.serialize_pem()).unwrap();
        let e = acceptor(&cert_path, &key_path).err().unwrap();
        assert!(e.contains("do not make a server identity"), "{e}");
    }
}
