//! The store's epoch on every answer: success, client errors, 426, an unknown route, `/health`, a
//! body over the limit, a storage failure (500) and a connection refused over the cap all carry `xiangying-epoch` with
//! the epoch the store holds; the epoch survives a restart of the server on the same store.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use xiangying_server::api::EPOCH_HEADER;
use xiangying_server::blobs::BlobStore;
use xiangying_server::state::{AppState, Limits};
use xiangying_server::storage::Storage;
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_tests::{Field, sample_org, token_of};

fn epoch_of(resp: &reqwest::blocking::Response) -> String {
    resp.headers()
        .get(EPOCH_HEADER)
        .unwrap_or_else(|| panic!("no {EPOCH_HEADER} on a {} answer", resp.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// Reads a response head from a raw socket.
fn read_head(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(0) | Err(_) => break,
            Ok(_) => buf.push(byte[0]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[test]
fn every_answer_carries_the_store_epoch() {
    let mut f = Field::with_backend(
        sample_org(),
        None,
        Limits {
            max_connections: 4,
            max_sync_body: 1024,
            ..Limits::default()
        },
    );
    f.enrol("gw1");
    let state = f.state();
    let epoch = state.epoch.clone();
    assert_eq!(epoch, state.storage.identity().epoch);
    assert!(uuid::Uuid::parse_str(&epoch).is_ok(), "{epoch}");
    assert_eq!(state.restored_at, None);
    let url = f.server.url();
    let token = token_of(&f, "gw1");
    let client = xiangying_tests::http();
    let answers = [
        (client.get(format!("{url}/health")), 200),
        (client.get(format!("{url}/v1/org")).bearer_auth(&token), 200),
        (client.get(format!("{url}/v1/org")), 401),
        (client.get(format!("{url}/no/such/route")), 404),
        (
            client
                .post(format!("{url}/v1/enrol"))
                .json(&serde_json::json!({"code": "nope", "token": "t", "device_name": "x"})),
            400,
        ),
        (
            client
                .post(format!("{url}/v1/sync"))
                .bearer_auth(&token)
                .body(vec![0u8; 1]),
            400,
        ),
        (
            client
                .post(format!("{url}/v1/sync"))
                .bearer_auth(&token)
                .body(vec![0u8; 4096]),
            413,
        ),
    ];
    // A device of a protocol the server does not speak (426).
    let too_new = client
        .post(format!("{url}/v1/sync"))
        .header(xiangying_core::sync::version::PROTOCOL_HEADER, "99.0")
        .bearer_auth(&token)
        .body(vec![0u8; 1]);
    let answers: Vec<_> = answers.into_iter().chain([(too_new, 426)]).collect();
    for (req, status) in answers {
        let resp = req.send().unwrap();
        assert_eq!(resp.status().as_u16(), status, "{resp:?}");
        assert_eq!(epoch_of(&resp), epoch);
    }
    // A storage failure (a table gone under the server) is a 500, with the epoch.
    let data = state.blobs.root().parent().unwrap().to_path_buf();
    rusqlite::Connection::open(data.join("server.db"))
        .unwrap()
        .execute_batch("DROP TABLE org")
        .unwrap();
    let resp = client
        .get(format!("{url}/v1/org"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 500);
    assert_eq!(epoch_of(&resp), epoch);
    // A connection over the cap is answered by the listener itself, with the epoch too.
    let held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(f.server.addr).unwrap())
        .collect();
    let mut extra = TcpStream::connect(f.server.addr).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    write!(extra, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let head = read_head(&mut extra).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 503"), "{head}");
    assert!(head.contains(&format!("{EPOCH_HEADER}: {epoch}")), "{head}");
    drop(held);
}

#[test]
fn the_epoch_is_kept_across_restarts_and_the_recovery_window_is_off() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        let storage: Arc<dyn Storage> = Arc::new(SqliteStorage::open(dir.path()).unwrap());
        AppState::new(
            storage,
            BlobStore::new(dir.path().join("photos"), 1 << 20),
            Limits::default(),
        )
    };
    let first = open();
    let (store_id, epoch) = (first.store_id.clone(), first.epoch.clone());
    assert_ne!(store_id, epoch);
    assert!(!first.in_recovery(0));
    drop(first);
    let second = open();
    assert_eq!(
        (second.store_id.as_str(), second.epoch.as_str()),
        (store_id.as_str(), epoch.as_str())
    );
    assert_eq!(second.recovery_window_days, 30);
}
