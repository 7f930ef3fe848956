//! TLS to PostgreSQL as libpq's `sslmode` and `sslrootcert` say, against the local server of
//! `scripts/postgres` (`XY_PG_URL`), which runs with `ssl = on` and a certificate for
//! 127.0.0.1 and localhost signed by a private CA (`XY_PG_CA`). Which connections are
//! encrypted is read from the server's own `pg_stat_ssl`.
//!
//! Without `XY_PG_URL` these tests fail, unless `XY_SKIP_PG=1`, like the other PostgreSQL
//! suites. Without `XY_PG_CA` they use the one `/etc/postgresql/*/*/xiangying-ca.crt`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use xiangying_server::storage::Storage;
use xiangying_server::storage::postgres::{PostgresStorage, connect_client};

/// The server's URL and its CA, or `None` when the PostgreSQL tests are explicitly skipped.
fn server() -> Option<(String, PathBuf)> {
    let url = match std::env::var("XY_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("XY_SKIP_PG").as_deref() == Ok("1") => return None,
        _ => panic!(
            "XY_PG_URL is not set: the PostgreSQL tests need a server. Run \
             `out=\"$(bash scripts/postgres)\"; export XY_PG_URL=\"$(echo \"$out\" | tail -n 1)\" \
             XY_PG_CA=\"$(echo \"$out\" | sed -n 's/^XY_PG_CA=//p')\"` first, or set XY_SKIP_PG=1 \
             to skip them knowingly."
        ),
    };
    let ca = match std::env::var("XY_PG_CA") {
        Ok(ca) if !ca.is_empty() => PathBuf::from(ca),
        _ => local_ca().expect(
            "XY_PG_CA is not set and no /etc/postgresql/*/*/xiangying-ca.crt was found: \
             scripts/postgres prints XY_PG_CA=… on the line before the URL",
        ),
    };
    Some((url, ca))
}

/// The CA `scripts/postgres` keeps in the cluster's config folder, when there is exactly one.
fn local_ca() -> Option<PathBuf> {
    let mut found = Vec::new();
    for version in std::fs::read_dir("/etc/postgresql").ok()?.flatten() {
        for cluster in std::fs::read_dir(version.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let ca = cluster.path().join("xiangying-ca.crt");
            if ca.is_file() {
                found.push(ca);
            }
        }
    }
    (found.len() == 1).then(|| found.remove(0))
}

/// `url` with more query parameters.
fn with(url: &str, params: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{params}")
}

/// `url` with its host replaced by a name the certificate does not hold, the address kept.
fn misnamed(url: &str) -> String {
    let at = url.find('@').expect("the test URL has user@host") + 1;
    let end = at
        + url[at..]
            .find([':', '/'])
            .expect("the test URL has a port or a database");
    let host = &url[at..end];
    let renamed = format!(
        "{}not-in-the-certificate.invalid{}",
        &url[..at],
        &url[end..]
    );
    with(&renamed, &format!("hostaddr={host}"))
}

fn unique(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "xyt_{name}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether the connection made from `url` is encrypted, as the server sees it.
fn encrypted(url: &str) -> bool {
    let mut c = connect_client(url).unwrap_or_else(|e| panic!("connecting with {url}: {e}"));
    c.query_one(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        &[],
    )
    .unwrap()
    .get(0)
}

/// A store in a schema of its own, dropped with the value.
struct Store {
    storage: PostgresStorage,
    admin_url: String,
    schema: String,
}

impl Store {
    fn open(url: &str, admin_url: &str, name: &str) -> xiangying_server::storage::Result<Store> {
        let schema = unique(name);
        let storage = PostgresStorage::connect_with_schema(url, &schema)?;
        Ok(Store {
            storage,
            admin_url: admin_url.to_owned(),
            schema,
        })
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Ok(mut c) = connect_client(&self.admin_url) {
            let _ = c.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.schema
            ));
        }
    }
}

#[test]
fn verify_full_with_the_ca_runs_the_store_over_tls() {
    let Some((url, ca)) = server() else { return };
    let app = unique("app");
    let tls = with(
        &url,
        &format!(
            "sslmode=verify-full&sslrootcert={}&application_name={app}",
            ca.display()
        ),
    );
    let store = Store::open(&tls, &url, "vfull").unwrap();
    // The store works: its identity was read in a transaction, and one more runs.
    assert_eq!(store.storage.schema_name().unwrap(), store.schema);
    let id = store.storage.identity().store_id.clone();
    xiangying_server::storage::with_tx(&store.storage, |tx| {
        xiangying_server::storage::meta::load(tx, store.storage.migrated().to)
    })
    .map(|again| assert_eq!(again.store_id, id))
    .unwrap();
    // Every connection of the store's pool is encrypted.
    let mut c = connect_client(&url).unwrap();
    let rows = c
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name = $1",
            &[&app],
        )
        .unwrap();
    assert!(!rows.is_empty(), "the store keeps a connection open");
    assert!(rows.iter().all(|r| r.get::<_, bool>(0)), "all encrypted");
    // The key=value form reads the same parameters.
    let kv = format!(
        "host=127.0.0.1 port={} user={} password={} dbname={} sslmode=verify-full sslrootcert='{}'",
        tokio_postgres_config(&url).0,
        tokio_postgres_config(&url).1,
        tokio_postgres_config(&url).2,
        tokio_postgres_config(&url).3,
        ca.display()
    );
    assert!(encrypted(&kv));
}

/// Port, user, password and database of the test URL.
fn tokio_postgres_config(url: &str) -> (u16, String, String, String) {
    let c: postgres::Config = url.parse().unwrap();
    (
        c.get_ports().first().copied().unwrap_or(5432),
        c.get_user().unwrap().to_owned(),
        String::from_utf8(c.get_password().unwrap().to_vec()).unwrap(),
        c.get_dbname().unwrap().to_owned(),
    )
}

#[test]
fn verify_full_refuses_a_certificate_from_another_ca() {
    let Some((url, _ca)) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let other_ca = params.self_signed(&key).unwrap();
    let path = dir.path().join("other-ca.pem");
    std::fs::write(&path, other_ca.pem()).unwrap();
    for mode in ["verify-full", "verify-ca"] {
        let tls = with(
            &url,
            &format!("sslmode={mode}&sslrootcert={}", path.display()),
        );
        let e = Store::open(&tls, &url, "wrongca")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("TLS handshake"), "{mode}: {e}");
        assert!(e.contains("invalid peer certificate"), "{mode}: {e}");
        assert!(e.contains("UnknownIssuer"), "{mode}: {e}");
    }
}

#[test]
fn verify_full_refuses_a_host_name_the_certificate_does_not_hold_and_verify_ca_accepts_it() {
    let Some((url, ca)) = server() else { return };
    let wrong = misnamed(&url);
    let full = with(
        &wrong,
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    );
    let e = connect_client(&full).err().unwrap().to_string();
    assert!(e.contains("invalid peer certificate"), "{e}");
    assert!(e.contains("certificate not valid for name"), "{e}");
    // verify-ca checks the chain only.
    let ca_only = with(
        &wrong,
        &format!("sslmode=verify-ca&sslrootcert={}", ca.display()),
    );
    assert!(encrypted(&ca_only));
}

#[test]
fn require_encrypts_without_checking_and_disable_does_not_encrypt() {
    let Some((url, _ca)) = server() else { return };
    assert!(encrypted(&with(&url, "sslmode=require")));
    // No CA given: any certificate, under any name, is taken (as libpq).
    assert!(encrypted(&with(&misnamed(&url), "sslmode=require")));
    // prefer is the default, and the server offers TLS.
    assert!(encrypted(&url));
    assert!(encrypted(&with(&url, "sslmode=prefer")));
    assert!(!encrypted(&with(&url, "sslmode=disable")));
    let store = Store::open(&with(&url, "sslmode=disable"), &url, "plain").unwrap();
    assert_eq!(store.storage.schema_name().unwrap(), store.schema);
}

#[test]
fn an_unknown_sslmode_is_a_clear_error() {
    let Some((url, _ca)) = server() else { return };
    for mode in ["verify_full", "allow", "on"] {
        let e = Store::open(&with(&url, &format!("sslmode={mode}")), &url, "badmode")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains(&format!("sslmode={mode}")), "{e}");
        assert!(
            e.contains("disable, prefer, require, verify-ca or verify-full"),
            "{e}"
        );
    }
    let e = Store::open(
        &with(&url, "sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"),
        &url,
        "badroot",
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("sslrootcert=/nonexistent/ca.pem"), "{e}");
}
