//! The configuration files under `deploy/` are read by the server's own parser
//! ([`FileConfig`]): the documented example (as shipped, and with every `#key = value` line it
//! leaves out put in, so each key it names is one the server knows), the container image's
//! default and the compose file's. The example's `[limits]` must be the built-in defaults it
//! says they are.

use std::path::{Path, PathBuf};
use xiangying_server::config_file::FileConfig;
use xiangying_server::state::Limits;

/// A file under the repository's `deploy/` folder.
fn deploy(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(name)
}

/// The example with its left-out settings (`#key = value` lines) put in, and the photo
/// backend switched to the object store those settings belong to.
fn with_every_key(text: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => rest.to_owned(),
            _ if line.starts_with("backend = \"folder\"") => "backend = \"s3\"".to_owned(),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_example_is_read_and_its_limits_are_the_defaults() {
    let cfg = FileConfig::load(&deploy("xiangying-server.conf.example")).unwrap();
    assert_eq!(cfg.data.as_deref(), Some(Path::new("/var/lib/xiangying")));
    assert_eq!(cfg.listen, Some("0.0.0.0:8470".parse().unwrap()));
    assert_eq!(cfg.postgres, None);
    assert_eq!(cfg.limits(), Limits::default());
    assert_eq!(cfg.recovery_window_days(), 30);
}

#[test]
fn every_key_the_example_leaves_out_is_a_key_the_server_knows() {
    let text = std::fs::read_to_string(deploy("xiangying-server.conf.example")).unwrap();
    let full = with_every_key(&text);
    let cfg = FileConfig::parse(&full).unwrap_or_else(|e| panic!("{e}\n{full}"));
    assert!(cfg.postgres.is_some());
    assert!(cfg.tls_cert.is_some() && cfg.tls_key.is_some());
    assert!(cfg.metrics_token.is_some());
}

#[test]
fn the_container_and_compose_files_are_read() {
    for name in ["container.conf", "compose.conf"] {
        let cfg = FileConfig::load(&deploy(name)).unwrap();
        assert_eq!(cfg.data.as_deref(), Some(Path::new("/var/lib/xiangying")));
        assert_eq!(cfg.listen, Some("0.0.0.0:8470".parse().unwrap()));
    }
}

#[test]
fn a_misspelt_key_in_the_example_is_refused() {
    // The check above would catch a key the server does not know: here is one.
    let text = std::fs::read_to_string(deploy("xiangying-server.conf.example")).unwrap();
    let e = FileConfig::parse(&text.replace("max_inflight =", "max_in_flight =")).unwrap_err();
    assert!(e.contains("max_in_flight"), "{e}");
}
