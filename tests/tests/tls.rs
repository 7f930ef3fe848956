//! HTTPS end to end (decision 0030): the server's own TLS listener with a certificate from a
//! private certificate authority made at test time (rcgen; nothing committed that expires),
//! and real devices enrolled over it. A device given the private CA enrols, syncs reports with
//! photos and waits for news over HTTPS, and keeps its TLS options across a reopen; a wrong CA
//! is refused as `UnknownIssuer` (at enrolment, and by an enrolled device sent to an impostor)
//! once, without retries, with nothing stored changed, and the sync engine waits with the
//! failure's code instead of calling it offline; a pin on the chain is accepted and a pin on
//! no certificate of it refused; a certificate for another name is refused as `NameMismatch`;
//! bad PEM and malformed pins are refused before anything is stored; and a client that never
//! finishes its handshake is cut off at the header deadline.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xiangying_core::org::sample;
use xiangying_core::sync::tls::{TlsFailure, TlsOptions, pin_of_certificate};
use xiangying_core::{
    Device, EngineConfig, EngineState, EngineStatus, Error, NewReport, SyncEngine,
};
use xiangying_server::state::Limits;
use xiangying_server::{Running, admin, spawn_with_tls, tls::acceptor};
use xiangying_tests::counting_proxy::CountingProxy;
use xiangying_tests::{Field, closed_by_server, jpeg, sample_org};

/// A certificate authority made for one test.
struct Ca {
    pem: String,
    der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
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

    /// A server certificate for 127.0.0.1 (the address the servers listen on): DER, PEM and
    /// its key.
    fn server_cert(&self) -> (Vec<u8>, String, KeyPair) {
        let params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.der().to_vec(), cert.pem(), key)
    }

    /// The device's options trusting this CA, with `pins`.
    fn options(&self, pins: &[String]) -> TlsOptions {
        TlsOptions {
            private_ca_pem: Some(self.pem.clone()),
            pins: pins.to_vec(),
        }
    }
}

/// An HTTPS listener over the field's server state (the same store as its plain listener),
/// with a certificate from `ca` read from PEM files as `serve --tls-cert --tls-key` reads
/// them; returns it and the certificate (DER).
fn https(f: &Field, ca: &Ca) -> (Running, Vec<u8>) {
    let (cert, pem, key) = ca.server_cert();
    let dir = tempfile::tempdir_in(f.root.path()).unwrap().keep();
    let (cert_pem, key_pem) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_pem, pem).unwrap();
    std::fs::write(&key_pem, key.serialize_pem()).unwrap();
    let acceptor = acceptor(&cert_pem, &key_pem).unwrap();
    let running = spawn_with_tls(f.state(), "127.0.0.1:0".parse().unwrap(), Some(acceptor))
        .expect("https server");
    assert!(running.url().starts_with("https://"));
    (running, cert)
}

fn limits() -> Limits {
    Limits {
        header_timeout_secs: 1,
        ..Limits::default()
    }
}

/// A device for `person` enrolled at `url` under `tls`, in its own folder under the field's.
fn enrol(f: &Field, person: &str, url: &str, tls: &TlsOptions) -> Result<Device, Error> {
    let dir = f.root.path().join("tls-devices").join(person);
    let d = Device::open(&dir).expect("open device");
    let code = admin::issue_code(f.server.state.storage.as_ref(), person).expect("code");
    d.enrol_with_tls(url, &code, &format!("{person}'s phone"), tls)
        .map(|_| d)
}

fn report(d: &Device, words: &str) -> String {
    d.report(&NewReport {
        category: sample::MANHOLE.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: words.into(),
    })
    .unwrap()
}

fn tls_failure(e: &Error) -> Option<TlsFailure> {
    match e {
        Error::Tls { failure, .. } => Some(*failure),
        _ => None,
    }
}

#[test]
fn a_device_trusting_the_private_ca_enrols_syncs_and_keeps_its_options() {
    let f = Field::with_backend(sample_org(), None, limits());
    let ca = Ca::new("政务外网 测试 CA");
    let (server, _) = https(&f, &ca);
    let chief = enrol(&f, "psc1", &server.url(), &ca.options(&[])).expect("enrol over HTTPS");
    let worker = enrol(&f, "gw1", &server.url(), &ca.options(&[])).expect("enrol over HTTPS");
    assert_eq!(chief.tls_options().unwrap(), ca.options(&[]));

    let before = jpeg(3, 200, 150);
    let id = chief
        .report_with_photos(
            &NewReport {
                category: sample::MANHOLE.into(),
                location: sample::IN_G1,
                grid: None,
                segment: None,
                description: "井盖缺失".into(),
            },
            &[&before],
        )
        .unwrap();
    chief.forward(&id, "请网格员处理").unwrap();
    let pushed = chief.sync_now(&|_| {}).unwrap();
    assert_eq!(pushed.pushed, 2);
    assert_eq!(pushed.photos_uploaded, 2);

    // The wake-up channel, the feed and a photo download, all over HTTPS.
    assert!(worker.wait_for_news().unwrap(), "news for the grid worker");
    worker.sync_now(&|_| {}).unwrap();
    let hash = worker.case(&id).unwrap().photos[0].hash.clone();
    assert_eq!(
        worker.fetch_photo(&hash).unwrap(),
        chief.photo(&hash).unwrap()
    );

    // The options are stored with the enrolment: a reopened store still trusts the CA.
    let dir = f.root.path().join("tls-devices").join("psc1");
    drop(chief);
    let reopened = Device::open(&dir).unwrap();
    report(&reopened, "路灯不亮");
    assert_eq!(reopened.sync_now(&|_| {}).unwrap().pushed, 1);
}

#[test]
fn the_wrong_ca_is_refused_once_as_unknown_issuer_and_nothing_stored_changes() {
    let f = Field::with_backend(sample_org(), None, limits());
    let ours = Ca::new("our CA");
    let theirs = Ca::new("an impostor's CA");
    let (server, _) = https(&f, &ours);

    // Enrolment with the wrong CA: refused, and the device is not enrolled.
    let e = enrol(&f, "gw1", &server.url(), &theirs.options(&[]))
        .err()
        .unwrap();
    assert_eq!(tls_failure(&e), Some(TlsFailure::UnknownIssuer), "{e}");
    let dir = f.root.path().join("tls-devices").join("gw1");
    let refused = Device::open(&dir).unwrap();
    assert_eq!(refused.device_id().unwrap(), None);
    assert!(refused.me().is_none());
    // Nor does the bundled trust alone know a private CA.
    let e = enrol(&f, "gw2", &server.url(), &TlsOptions::default())
        .err()
        .unwrap();
    assert_eq!(tls_failure(&e), Some(TlsFailure::UnknownIssuer), "{e}");

    // An enrolled device sent to an impostor (another CA, behind a proxy that counts its
    // connections): refused on the first connection, not retried, nothing changed.
    let d = enrol(&f, "psc1", &server.url(), &ours.options(&[])).unwrap();
    d.sync_now(&|_| {}).unwrap();
    report(&d, "占道经营");
    let (impostor, _) = https(&f, &theirs);
    let proxy = CountingProxy::start(impostor.addr);
    let via_proxy = format!("https://{}", proxy.url().trim_start_matches("http://"));
    d.set_server_url(&via_proxy).unwrap();
    let outbox = d.outbox_len().unwrap();
    let cases = d.all_cases(100).unwrap();
    let e = d.sync_now(&|_| {}).unwrap_err();
    assert_eq!(tls_failure(&e), Some(TlsFailure::UnknownIssuer), "{e}");
    assert!(e.to_string().contains("tls_unknown_issuer"), "{e}");
    assert_eq!(
        proxy.counts().connections,
        1,
        "a refused certificate is not retried"
    );
    assert_eq!(d.outbox_len().unwrap(), outbox);
    assert_eq!(d.all_cases(100).unwrap(), cases);
    assert!(matches!(
        d.wait_for_news(),
        Err(Error::Tls {
            failure: TlsFailure::UnknownIssuer,
            ..
        })
    ));

    // The sync engine waits with the failure's code; it is not "offline".
    let seen: Arc<Mutex<Vec<EngineStatus>>> = Arc::default();
    let record = seen.clone();
    let d = Arc::new(d);
    let engine = SyncEngine::start(
        d.clone(),
        EngineConfig {
            debounce: Duration::from_millis(20),
            foreground_period: None,
            backoff_base: Duration::from_millis(50),
            backoff_max: Duration::from_millis(200),
            wait_for_news: false,
            start_in_foreground: false,
        },
        Box::new(move |s| record.lock().unwrap().push(s.clone())),
    )
    .unwrap();
    engine.sync_soon();
    eventually("the engine waits to retry with the TLS code", || {
        seen.lock().unwrap().iter().any(|s| {
            matches!(&s.state, EngineState::WaitingToRetry { code, .. } if *code == "tls_unknown_issuer")
        })
    });
    engine.stop();
    assert!(
        !seen
            .lock()
            .unwrap()
            .iter()
            .any(|s| matches!(s.state, EngineState::Offline { .. })),
        "a refused certificate is not offline"
    );
    // Back at the real server, the same device syncs what waited.
    d.set_server_url(&server.url()).unwrap();
    assert_eq!(d.sync_now(&|_| {}).unwrap().pushed, 1);
}

#[test]
fn a_pin_on_the_chain_is_accepted_and_a_pin_on_none_of_it_refused() {
    let f = Field::with_backend(sample_org(), None, limits());
    let ca = Ca::new("pinned CA");
    let (server, leaf) = https(&f, &ca);
    let leaf_pin = pin_of_certificate(&leaf).unwrap();
    let ca_pin = pin_of_certificate(&ca.der).unwrap();
    let other_pin = pin_of_certificate(&Ca::new("other").der).unwrap();

    let by_leaf = enrol(
        &f,
        "psc1",
        &server.url(),
        &ca.options(std::slice::from_ref(&leaf_pin)),
    )
    .expect("the server's own key pinned");
    report(&by_leaf, "路面塌陷");
    by_leaf.sync_now(&|_| {}).unwrap();
    enrol(
        &f,
        "gw1",
        &server.url(),
        &ca.options(&[other_pin.clone(), ca_pin.clone()]),
    )
    .expect("the CA's key pinned, with a backup pin");

    let e = enrol(
        &f,
        "gw2",
        &server.url(),
        &ca.options(std::slice::from_ref(&other_pin)),
    )
    .err()
    .unwrap();
    assert_eq!(tls_failure(&e), Some(TlsFailure::PinMismatch), "{e}");

    // The server's certificate renewed with a new key from the same CA: the device that
    // pinned the old key refuses it, nothing changed; one that pinned the CA goes on.
    let (renewed, _) = https(&f, &ca);
    by_leaf.set_server_url(&renewed.url()).unwrap();
    report(&by_leaf, "垃圾满溢");
    let e = by_leaf.sync_now(&|_| {}).unwrap_err();
    assert_eq!(tls_failure(&e), Some(TlsFailure::PinMismatch), "{e}");
    assert_eq!(by_leaf.outbox_len().unwrap(), 1);
    let by_ca = Device::open(&f.root.path().join("tls-devices").join("gw1")).unwrap();
    by_ca.set_server_url(&renewed.url()).unwrap();
    by_ca.sync_now(&|_| {}).unwrap();
}

#[test]
fn a_certificate_for_another_name_is_a_name_mismatch() {
    let f = Field::with_backend(sample_org(), None, limits());
    let ca = Ca::new("named CA");
    let (server, _) = https(&f, &ca);
    // The certificate names 127.0.0.1; `localhost` is the same server under another name.
    let by_name = server.url().replace("127.0.0.1", "localhost");
    let e = enrol(&f, "gw1", &by_name, &ca.options(&[])).err().unwrap();
    assert_eq!(tls_failure(&e), Some(TlsFailure::NameMismatch), "{e}");
}

#[test]
fn bad_pem_and_malformed_pins_are_refused_before_anything_is_stored() {
    let f = Field::with_backend(sample_org(), None, limits());
    let ca = Ca::new("CA");
    let (server, _) = https(&f, &ca);
    let cases = [
        (
            TlsOptions {
                private_ca_pem: Some(
                    "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".into(),
                ),
                pins: vec![],
            },
            "private_ca_pem",
        ),
        (
            TlsOptions {
                private_ca_pem: Some("a key, not a certificate".into()),
                pins: vec![],
            },
            "private_ca_pem",
        ),
        (ca.options(&["sha1/AAAA".into()]), "pins"),
        (ca.options(&["sha256/AAAA".into()]), "pins"),
    ];
    for ((tls, field), person) in cases.into_iter().zip(["gw1", "gw2", "gw3", "cc1"]) {
        let e = enrol(&f, person, &server.url(), &tls).err().unwrap();
        assert!(
            matches!(&e, Error::InvalidInput { field: got, .. } if *got == field),
            "{e:?}"
        );
        // Nothing stored: no token was made, no server or options kept.
        let dir = f.root.path().join("tls-devices").join(person);
        let conn = rusqlite::Connection::open(dir.join("xiangying.db")).unwrap();
        let rows: i64 = conn
            .query_row(
                "SELECT count(*) FROM meta WHERE key IN ('token', 'server_url', 'tls')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(rows, 0, "{field}: something was stored");
    }
}

#[test]
fn a_handshake_that_never_finishes_is_cut_off_at_the_header_deadline() {
    let f = Field::with_backend(sample_org(), None, limits());
    let ca = Ca::new("CA");
    let (server, _) = https(&f, &ca);
    // Silent, and with half a ClientHello: both are closed by the server.
    let mut silent = TcpStream::connect(server.addr).unwrap();
    let mut half = TcpStream::connect(server.addr).unwrap();
    half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])
        .unwrap();
    for s in [&mut silent, &mut half] {
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        assert!(closed_by_server(s), "a handshake kept its connection open");
    }
    // The server still serves.
    let d = enrol(&f, "gw1", &server.url(), &ca.options(&[])).unwrap();
    d.sync_now(&|_| {}).unwrap();
}

/// Waits until `done` holds, failing after a minute (a stuck engine, not a slow one).
fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
