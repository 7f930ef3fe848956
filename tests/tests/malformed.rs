//! Malformed, oversized and unauthorised requests get 400, 413 or 401 and change nothing.

use xiangying_core::sync::wire::{self, PushedChange, SyncRequest};
use xiangying_server::state::Limits;
use xiangying_tests::{Field, post_sync, sample_org, server_counts, token_of};

fn request(bytes: Vec<u8>) -> Vec<u8> {
    wire::encode(&SyncRequest {
        push: vec![PushedChange {
            seq: 1,
            case_id: uuid::Uuid::now_v7(),
            bytes,
        }],
        cursor: 0,
        max_feed_bytes: 1 << 20,
        org_version: 0,
    })
    .unwrap()
}

#[test]
fn bad_bodies_are_refused_and_change_nothing() {
    let limits = Limits {
        max_sync_body: 64 * 1024,
        max_photo: 100_000,
        ..Limits::default()
    };
    let mut f = Field::with_backend(sample_org(), None, limits);
    f.enrol("gw1");
    let id = f
        .dev("gw1")
        .report(&xiangying_core::NewReport {
            category: xiangying_core::org::sample::LITTER.into(),
            location: xiangying_core::org::sample::IN_G1,
            grid: None,
            segment: None,
            description: "垃圾".into(),
        })
        .unwrap();
    f.dev("gw1")
        .attach_photo(
            &id,
            &xiangying_tests::world::tiny_photo(1),
            xiangying_core::case::PhotoStage::Before,
        )
        .unwrap();
    f.dev("gw1").sync_now(&|_| {}).unwrap();
    let token = token_of(&f, "gw1");
    let before = server_counts(&f);

    // Not a sync request at all.
    let (status, body) = post_sync(&f, Some(&token), b"hello".to_vec());
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    // A sync request whose automerge bytes are garbage.
    assert_eq!(
        post_sync(&f, Some(&token), request(vec![0x85, 0x6f, 1, 2, 3])).0,
        400
    );
    // A whole document of a real case under another id.
    let doc = f.dev("gw1").export_case(&id).unwrap();
    let (status, body) = post_sync(&f, Some(&token), request(doc));
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    // Too large.
    assert_eq!(post_sync(&f, Some(&token), vec![0; 100 * 1024]).0, 413);
    // No token, a wrong token: 401 and an empty body.
    let (status, body) = post_sync(&f, None, request(vec![]));
    assert_eq!((status, body.len()), (401, 0));
    let (status, body) = post_sync(
        &f,
        Some("0123456789abcdef0123456789abcdef"),
        request(vec![]),
    );
    assert_eq!((status, body.len()), (401, 0));

    // Photos: no headers, a length over the limit, an unknown hash.
    let client = xiangying_tests::http();
    let url = |h: &str| format!("{}/v1/photos/{h}", f.server.url());
    let r = client
        .patch(url(&id))
        .bearer_auth(&token)
        .body(vec![1, 2, 3])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "a case id is not a photo hash");
    let photo = f.dev("gw1").case(&id).unwrap().photos[0].hash.clone();
    let r = client
        .patch(url(&photo))
        .bearer_auth(&token)
        .header("upload-offset", "0")
        .header("upload-length", "200000")
        .body(vec![1, 2, 3])
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 413, "over the photo size limit");
    let unknown = "ab".repeat(32);
    let r = client
        .patch(url(&unknown))
        .bearer_auth(&token)
        .header("upload-offset", "0")
        .header("upload-length", "3")
        .body(vec![1, 2, 3])
        .send()
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        404,
        "a hash no case references is not accepted"
    );

    assert_eq!(server_counts(&f), before, "nothing changed on the server");
    f.dev("gw1").sync_now(&|_| {}).unwrap();
    assert_eq!(f.dev("gw1").outbox_len().unwrap(), 0);
}
