//! The real binary over PostgreSQL, as an operator runs it: in a database where no street was
//! ever published (here a fresh, empty schema named by the URL's `search_path`), `serve` and
//! the admin commands that need a store (`status`, `migrate`, `backup`) refuse with a message
//! naming `admin setup`, never repeat the URL's password, and leave the schema as empty as they
//! found it; after `admin setup` the same commands work.
//!
//! Needs the PostgreSQL of `scripts/postgres` (`XY_PG_URL`); without it the test fails, unless
//! `XY_SKIP_PG=1`, like the other PostgreSQL suites.

use std::path::Path;
use std::process::Output;

mod common;
use common::{failed, ok, server};
use xiangying_server::storage::migrations::LATEST;
use xiangying_server::storage::postgres::connect_client;

fn pg_url() -> Option<String> {
    match std::env::var("XY_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("XY_SKIP_PG").as_deref() == Ok("1") => None,
        _ => panic!(
            "XY_PG_URL is not set: run `export XY_PG_URL=\"$(bash scripts/postgres | tail -n 1)\"` \
             first, or set XY_SKIP_PG=1 to skip the PostgreSQL tests knowingly"
        ),
    }
}

/// Runs the binary (as [`server`] does) on the store at `url`, its photos and backups under
/// `data`.
fn server_pg(data: &Path, url: &str, args: &[&str]) -> Output {
    let mut all = vec!["--postgres", url];
    all.extend_from_slice(args);
    server(data, &all)
}

/// The tables in `schema`.
fn tables(url: &str, schema: &str) -> i64 {
    connect_client(url)
        .unwrap()
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1",
            &[&schema],
        )
        .unwrap()
        .get(0)
}

#[test]
fn commands_refuse_a_database_without_a_store_and_create_nothing_in_it() {
    let Some(base) = pg_url() else { return };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("xyt_cli_{}_{nanos}", std::process::id());
    let mut admin = connect_client(&base).unwrap();
    admin
        .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
    // The credentials as the URL writes them (`:password@`), which no message may repeat.
    let credentials = base
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, p)| format!(":{p}@"))
        .filter(|p| p.len() > 2)
        .expect("XY_PG_URL names a password, as scripts/postgres writes it");

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backup = dir.path().join("backup");
    let backup_arg = backup.to_str().unwrap();
    for args in [
        &["serve", "--listen", "127.0.0.1:0"][..],
        &["admin", "status"],
        &["admin", "migrate"],
        &["admin", "backup", "--out", backup_arg],
    ] {
        let e = failed(&server_pg(&data, &url, args));
        assert!(
            e.contains("no Xiangying store") && e.contains("admin setup"),
            "{args:?}: {e}"
        );
        assert!(
            !e.contains(&credentials) && !e.contains(&base),
            "{args:?} repeated the URL: {e}"
        );
        assert_eq!(tables(&url, &schema), 0, "{args:?} created tables");
    }
    assert!(!backup.exists(), "a refused backup made its folder");

    // Published, the same commands work.
    use xiangying_core::org::sample;
    let (roster, catalogue) = (
        dir.path().join("roster.json"),
        dir.path().join("catalogue.json"),
    );
    std::fs::write(&roster, sample::roster_json().unwrap()).unwrap();
    std::fs::write(&catalogue, sample::catalogue_json().unwrap()).unwrap();
    ok(&server_pg(
        &data,
        &url,
        &[
            "admin",
            "setup",
            "--roster",
            roster.to_str().unwrap(),
            "--catalogue",
            catalogue.to_str().unwrap(),
        ],
    ));
    let out = ok(&server_pg(&data, &url, &["admin", "migrate"]));
    assert_eq!(out.trim(), format!("schema version {LATEST} (up to date)"));
    ok(&server_pg(&data, &url, &["admin", "status"]));
    assert!(tables(&url, &schema) > 0);

    admin
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .unwrap();
}
