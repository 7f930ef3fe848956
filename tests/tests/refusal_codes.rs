//! Refusal codes over real HTTP on 127.0.0.1 (decision 0025): every refusal the server answers
//! carries the stable `code` of the model's `Refusal` beside its message, with the status that
//! refusal is answered with; a 401 carries no body and is read from its status; the device
//! reads the code back typed (`Error::refusal`).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use xiangying_core::Error;
use xiangying_core::sync::refusal::Refusal;
use xiangying_server::admin;
use xiangying_server::state::Limits;
use xiangying_tests::attack::refusal;
use xiangying_tests::{Field, post_sync, sample_org, token_of};

/// Sends `req`; returns the status and the body's text.
fn answer(req: reqwest::blocking::RequestBuilder) -> (u16, String) {
    let resp = req.send().expect("send");
    (resp.status().as_u16(), resp.text().expect("body"))
}

/// Posts `body` to `/v1/sync` in one chunk, without a `Content-Length`; returns the status and
/// the body of the answer.
fn chunked_sync(f: &Field, token: &str, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(f.server.addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    let head = format!(
        "POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n",
        body.len()
    );
    let mut req = head.into_bytes();
    req.extend_from_slice(body);
    req.extend_from_slice(b"\r\n0\r\n\r\n");
    // The server may answer and close before it has read everything.
    let _ = s.write_all(&req);
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // A chunked answer: the JSON is the line between the chunk sizes.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.lines().nth(1).unwrap_or("")
    } else {
        body
    };
    (status, body.to_string())
}

/// The refusal a JSON error body names, checked against the status it came with.
fn refused(status: u16, body: &str) -> Refusal {
    let (code, error) = refusal(body);
    let r: Refusal = code.parse().unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(r.status(), status, "{body}");
    assert!(
        !error.is_empty(),
        "the message stays beside the code: {body}"
    );
    r
}

#[test]
fn the_server_answers_each_refusal_with_its_code_and_status() {
    let limits = Limits {
        max_sync_body: 4096,
        ..Limits::default()
    };
    let mut f = Field::with_backend(sample_org(), None, limits);
    f.enrol("gw1");
    let url = f.server.url();
    let token = token_of(&f, "gw1");
    let http = xiangying_tests::http();

    // Damaged sync bytes: bad_request.
    let (status, body) = post_sync(&f, Some(&token), b"not postcard".to_vec());
    let body = String::from_utf8(body).expect("utf-8");
    assert_eq!(refused(status, &body), Refusal::BadRequest);

    // A sync body over the configured size: too_large.
    let (status, body) = post_sync(&f, Some(&token), vec![0u8; 64 * 1024]);
    let body = String::from_utf8(body).expect("utf-8");
    assert_eq!(refused(status, &body), Refusal::TooLarge);

    // The same without a `Content-Length` (chunked): cut off at the limit, same refusal.
    let (status, body) = chunked_sync(&f, &token, &[0u8; 8192]);
    assert_eq!(refused(status, &body), Refusal::TooLarge);

    // A photo no case of this device's references: not_found.
    let (status, body) = answer(
        http.get(format!("{url}/v1/photos/{}", "ab".repeat(32)))
            .bearer_auth(&token),
    );
    assert_eq!(refused(status, &body), Refusal::NotFound);

    // A protocol older than the server answers: upgrade_required.
    let (status, body) = answer(
        http.get(format!("{url}/v1/org"))
            .bearer_auth(&token)
            .header("xiangying-protocol", "0.9"),
    );
    assert_eq!(refused(status, &body), Refusal::UpgradeRequired);

    // No token: 401 and nothing else; the status alone says unauthorised.
    let (status, body) = answer(http.get(format!("{url}/v1/org")));
    assert_eq!((status, body.as_str()), (401, ""));
    assert_eq!(Refusal::from_status(status), Refusal::Unauthorised);
}

#[test]
fn the_device_reads_the_refusal_back_typed() {
    let mut f = Field::new(sample_org());
    f.enrol("gw1");
    let d = f.dev("gw1");
    d.sync_now(&|_| {}).expect("syncs");
    let id = d.device_id().expect("id").expect("enrolled");
    let storage = f.state().storage.clone();
    assert!(admin::revoke_device(storage.as_ref(), &id).expect("revoke"));
    let err = d.sync_now(&|_| {}).unwrap_err();
    assert!(matches!(err, Error::Unauthorised(_)), "{err:?}");
    assert_eq!(err.refusal(), Some(Refusal::Unauthorised));
}
