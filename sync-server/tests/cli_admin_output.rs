//! The real `xiangying-server` binary prints stored, device-supplied text escaped (issue 11,
//! finding 10), and `issue-code` says when the code expires (finding 7).

use std::path::Path;

mod common;
use common::{ok, server};
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::{DeviceRow, with_tx};

#[test]
fn admin_devices_escapes_control_characters_in_names_and_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        // Rows as a hostile device left them before names were checked at enrolment.
        let storage = SqliteStorage::open(&data).unwrap();
        with_tx(&storage, |tx| {
            tx.insert_device(&DeviceRow {
                id: "dev-0001".into(),
                person: "gw1".into(),
                name: "\u{1b}[2J\rowned\u{202e}".into(),
                token_hash: "a".repeat(64),
                created_at: 1,
                revoked: false,
                quarantined: None,
            })?;
            tx.insert_device(&DeviceRow {
                id: "dev-0002".into(),
                person: "gw2".into(),
                name: "phone".into(),
                token_hash: "b".repeat(64),
                created_at: 2,
                revoked: false,
                quarantined: None,
            })?;
            tx.quarantine_device(
                &"dev-0002".into(),
                "case \u{1b}]0;pwned\u{7}: reordered events",
            )
        })
        .unwrap();
    }
    let out = ok(&server(&data, &["admin", "devices"]));
    assert!(
        !out.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{out:?}"
    );
    assert!(!out.contains('\u{202e}'), "{out:?}");
    assert!(out.contains("\\u{1b}[2J\\rowned\\u{202e}"), "{out}");
    assert!(out.contains("\\u{1b}]0;pwned\\u{7}"), "{out}");
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn issue_code_prints_a_long_code_and_when_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/zhenxing");
    ok(&server(
        &data,
        &[
            "admin",
            "setup",
            "--roster",
            root.join("roster.json").to_str().unwrap(),
            "--catalogue",
            root.join("catalogue.json").to_str().unwrap(),
        ],
    ));
    let roster: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("roster.json")).unwrap()).unwrap();
    let person = roster["people"][0]["id"].as_str().unwrap().to_string();
    let issued = server(&data, &["admin", "issue-code", &person]);
    let out = ok(&issued);
    // The code alone on stdout (scripts read it), the expiry on stderr.
    let code = out.trim();
    assert_eq!(code.len(), 17, "{out}");
    let note = String::from_utf8_lossy(&issued.stderr);
    assert!(note.contains("expires") && note.contains("UTC"), "{note}");
}
