//! Attacks on photos, enrolment, the admin output, 5xx answers and `/metrics`, against the real
//! server on 127.0.0.1 with real device stores (issue 11, findings 5, 6, 7 and 10 and the
//! robustness items).
//!
//! - A device that lists another device's photo hash in a case of its own cannot download it,
//!   and HEAD does not tell it the file exists.
//! - A squatter's partial upload does not block the real uploader; partial uploads expire and
//!   are swept; the per-device quota is enforced with 413.
//! - A batch of small files (`POST /v1/photos`, decision 0059) checks each file as a `PATCH`
//!   would: a damaged or unreferenced file is refused on its own and stored nowhere; a body
//!   that is not a batch, or carries too many files, is refused whole before any file is
//!   looked at.
//! - Guessing enrolment codes gets 429 after the limit while the server stays up and an honest
//!   enrolment from another address still works; an expired code is refused with a clear
//!   message; codes have at least 60 bits.
//! - Device names with control characters are refused at enrolment.
//! - A 5xx answer carries an id and no internal detail; downloads are streamed with their
//!   length; `/metrics` asks for its token.

use automerge::transaction::Transactable;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use xiangying_core::case::{PhotoRef, PhotoStage};
use xiangying_core::org::sample;
use xiangying_core::{Error, NewReport};
use xiangying_server::blobs::BlobStore;
use xiangying_server::state::{AppState, Limits};
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::with_tx;
use xiangying_server::{admin, auth};
use xiangying_tests::attack::assert_healthy;
use xiangying_tests::{Field, hand_change, push_raw, sample_org, token_of, world::tiny_photo};

fn report(f: &Field, person: &str, at: xiangying_core::org::Point) -> String {
    f.dev(person)
        .report(&NewReport {
            category: sample::LITTER.into(),
            location: at,
            grid: None,
            segment: None,
            description: "垃圾".into(),
        })
        .unwrap()
}

fn client_from(ip: &str) -> reqwest::blocking::Client {
    xiangying_tests::http_builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

fn photo_url(f: &Field, hash: &str) -> String {
    format!("{}/v1/photos/{hash}", f.server.url())
}

fn device_id(f: &Field, person: &str) -> String {
    admin::devices(f.state().storage.as_ref())
        .unwrap()
        .into_iter()
        .find(|d| d.person == person)
        .unwrap()
        .id
        .into_string()
}

/// `attacker` lists photo references to `hashes` (as photo and thumbnail) in its own case.
fn list_hashes(f: &Field, attacker: &str, case: &str, hashes: &[(String, String)]) {
    let bytes = hand_change(f, attacker, case, "photos", |doc, list| {
        for (i, (hash, thumb)) in hashes.iter().enumerate() {
            let p = PhotoRef {
                hash: hash.clone(),
                thumb: thumb.clone(),
                stage: PhotoStage::Evidence,
                bytes: 1000,
                captured_at: None,
                place: None,
                added_by: attacker.to_string(),
                added_at: 1_760_000_000_000,
            };
            doc.insert(list, i, serde_json::to_string(&p).unwrap())
                .unwrap();
        }
    });
    let (status, body) = push_raw(f, attacker, case, bytes);
    assert_eq!(status, 200, "{body}");
}

fn head(f: &Field, token: &str, hash: &str) -> (u16, Option<String>) {
    let r = xiangying_tests::http()
        .head(photo_url(f, hash))
        .bearer_auth(token)
        .send()
        .unwrap();
    let offset = r
        .headers()
        .get("upload-offset")
        .map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), offset)
}

fn get(f: &Field, token: &str, hash: &str) -> reqwest::blocking::Response {
    xiangying_tests::http()
        .get(photo_url(f, hash))
        .bearer_auth(token)
        .send()
        .unwrap()
}

fn patch(
    f: &Field,
    token: &str,
    hash: &str,
    offset: u64,
    total: u64,
    bytes: Vec<u8>,
) -> (u16, String) {
    let r = xiangying_tests::http()
        .patch(photo_url(f, hash))
        .bearer_auth(token)
        .header("upload-offset", offset.to_string())
        .header("upload-length", total.to_string())
        .body(bytes)
        .send()
        .unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

/// A hash nobody holds: 64 random hex digits.
fn random_hash() -> String {
    auth::new_token()
}

fn postgres(schema: &str) -> Option<(String, String)> {
    Some((xiangying_tests::pg_url(), schema.to_string()))
}

#[test]
fn listing_another_devices_photo_hash_neither_downloads_nor_reveals_it() {
    photo_scope_attack(Field::new(sample_org()));
}

#[test]
fn listing_another_devices_photo_hash_neither_downloads_nor_reveals_it_postgres() {
    photo_scope_attack(Field::with_backend(
        sample_org(),
        postgres("attack_photo_scope"),
        Limits::default(),
    ));
}

fn photo_scope_attack(mut f: Field) {
    for p in ["psc1", "gw1", "gw3"] {
        f.enrol(p);
    }
    // psc1 reports in g1 with a photo; gw1 (g1) may see it; gw3 (g3) may not.
    let a = report(&f, "psc1", sample::IN_G1);
    let photo = f
        .dev("psc1")
        .attach_photo(&a, &tiny_photo(1), PhotoStage::Before)
        .unwrap();
    f.settle();
    let c3 = report(&f, "gw3", sample::IN_G3);
    f.settle();
    let attacker = token_of(&f, "gw3");
    let unknown = random_hash();
    // Before the attack, HEAD answers the same for the real hash and a hash nobody holds.
    assert_eq!(head(&f, &attacker, &photo.hash), (404, Some("0".into())));
    assert_eq!(head(&f, &attacker, &unknown), (404, Some("0".into())));

    // The attacker lists the hash (and the thumbnail's) in its own case, as itself.
    list_hashes(&f, "gw3", &c3, &[(photo.hash.clone(), photo.thumb.clone())]);
    for h in [&photo.hash, &photo.thumb] {
        let r = get(&f, &attacker, h);
        assert_eq!(r.status().as_u16(), 404, "the attacker downloaded {h}");
        assert_eq!(
            head(&f, &attacker, h),
            (404, Some("0".into())),
            "HEAD revealed {h}"
        );
    }
    // A PATCH does not reveal it either: a piece goes into the attacker's own upload.
    assert_eq!(
        patch(&f, &attacker, &photo.hash, 0, photo.bytes, vec![0; 3]).0,
        202
    );
    assert_eq!(head(&f, &attacker, &photo.hash), (404, Some("3".into())));
    assert_healthy(&f);

    // Honest readers still get it: the uploader, and a device that may see the case.
    let r = get(&f, &token_of(&f, "psc1"), &photo.hash);
    assert_eq!(r.status().as_u16(), 200);
    let len: u64 = r.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = r.bytes().unwrap();
    assert_eq!(len, bytes.len() as u64, "streamed with its length");
    assert_eq!(bytes.as_ref(), f.dev("psc1").photo(&photo.hash).unwrap());
    assert_eq!(
        f.dev("gw1").fetch_photo(&photo.thumb).unwrap(),
        f.dev("psc1").photo(&photo.thumb).unwrap()
    );
    assert_eq!(head(&f, &token_of(&f, "gw1"), &photo.hash).0, 200);

    // A device that really holds the bytes proves it by uploading them whole, and may then
    // read the file (stored once).
    let own = report(&f, "gw3", sample::IN_G3);
    let same = f
        .dev("gw3")
        .attach_photo(&own, &tiny_photo(1), PhotoStage::Before)
        .unwrap();
    assert_eq!(same.hash, photo.hash, "the same photo, processed alike");
    // Its own garbage piece from above fails the hash check once and is dropped…
    match f.dev("gw3").sync_now(&|_| {}) {
        Err(Error::Rejected {
            status: 400,
            message,
            ..
        }) => {
            assert!(message.contains("do not match"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    // …and the next sync uploads the whole file from 0.
    f.dev("gw3").sync_now(&|_| {}).unwrap();
    assert_eq!(head(&f, &attacker, &same.hash).0, 200);
    assert_eq!(get(&f, &attacker, &same.hash).status().as_u16(), 200);
    f.settle();
}

#[test]
fn a_squatted_upload_does_not_block_the_owner_and_expires() {
    let mut f = Field::new(sample_org());
    for p in ["psc1", "gw1", "gw3"] {
        f.enrol(p);
    }
    let c3 = report(&f, "gw3", sample::IN_G3);
    let a = report(&f, "psc1", sample::IN_G1);
    let photo = f
        .dev("psc1")
        .attach_photo(&a, &tiny_photo(2), PhotoStage::Before)
        .unwrap();
    f.dev("gw3").sync_now(&|_| {}).unwrap();
    // The attacker learnt the hashes before psc1 uploads, and squats both with garbage.
    list_hashes(&f, "gw3", &c3, &[(photo.hash.clone(), photo.thumb.clone())]);
    let attacker = token_of(&f, "gw3");
    for h in [&photo.hash, &photo.thumb] {
        assert_eq!(patch(&f, &attacker, h, 0, 1_000_000, vec![0xAA; 10]).0, 202);
    }
    // psc1 syncs: its uploads go from 0 into its own partial files and complete.
    let done = f.dev("psc1").sync_now(&|_| {}).unwrap();
    assert_eq!(done.photos_uploaded, 2);
    f.settle();
    assert_eq!(
        f.dev("gw1").fetch_photo(&photo.hash).unwrap(),
        f.dev("psc1").photo(&photo.hash).unwrap()
    );
    assert_eq!(get(&f, &attacker, &photo.hash).status().as_u16(), 404);

    // The squatter's partial uploads expire: aged past the TTL, its own is ignored and
    // removed when it asks, and the other is swept by the clean-up (new uploads sweep too, at
    // most once a minute: psc1's uploads above just did; decision 0057).
    let state = f.state();
    let dev = device_id(&f, "gw3");
    let old = SystemTime::now() - Duration::from_secs(25 * 3600);
    let age = |p: &PathBuf| {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(old)
            .unwrap()
    };
    let squat_photo = state
        .blobs
        .partial_path(&dev.as_str().into(), &photo.hash.as_str().into());
    let squat_thumb = state
        .blobs
        .partial_path(&dev.as_str().into(), &photo.thumb.as_str().into());
    assert!(squat_photo.exists() && squat_thumb.exists());
    age(&squat_photo);
    age(&squat_thumb);
    assert_eq!(head(&f, &attacker, &photo.hash), (404, Some("0".into())));
    assert!(!squat_photo.exists());
    assert!(squat_thumb.exists());
    // Within the minute, a new upload leaves it; the server's scheduled clean-up removes it.
    f.dev("psc1")
        .attach_photo(&a, &tiny_photo(3), PhotoStage::Before)
        .unwrap();
    f.dev("psc1").sync_now(&|_| {}).unwrap();
    assert!(squat_thumb.exists());
    let swept = state
        .blobs
        .sweep(state.limits.partial_upload_ttl())
        .unwrap();
    assert_eq!(swept, 1);
    assert!(
        !squat_thumb.exists(),
        "the sweep removed the expired upload"
    );
    assert_healthy(&f);
}

#[test]
fn the_device_photo_quota_is_enforced_with_413() {
    let limits = Limits {
        device_photo_quota_bytes: 40_000,
        ..Limits::default()
    };
    let mut f = Field::with_backend(sample_org(), None, limits);
    for p in ["psc1", "gw1", "gw3"] {
        f.enrol(p);
    }
    let c3 = report(&f, "gw3", sample::IN_G3);
    f.settle();
    let (x1, x2, x3) = (random_hash(), random_hash(), random_hash());
    list_hashes(
        &f,
        "gw3",
        &c3,
        &[(x1.clone(), x2.clone()), (x3.clone(), x3.clone())],
    );
    let attacker = token_of(&f, "gw3");
    // One file larger than the quota.
    let (status, body) = patch(&f, &attacker, &x1, 0, 40_001, vec![1; 100]);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("device_photo_quota_bytes"), "{body}");
    // Partial uploads count: 30,000 held, another 20,000 does not fit.
    assert_eq!(patch(&f, &attacker, &x1, 0, 35_000, vec![1; 30_000]).0, 202);
    let (status, body) = patch(&f, &attacker, &x2, 0, 20_000, vec![1; 100]);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("device_photo_quota_bytes"), "{body}");
    assert_eq!(patch(&f, &attacker, &x3, 0, 5_000, vec![1; 100]).0, 202);
    // Other devices have quotas of their own.
    let a = report(&f, "psc1", sample::IN_G1);
    let photo = f
        .dev("psc1")
        .attach_photo(&a, &tiny_photo(4), PhotoStage::Before)
        .unwrap();
    f.settle();
    assert_eq!(
        f.dev("gw1").fetch_photo(&photo.hash).unwrap(),
        f.dev("psc1").photo(&photo.hash).unwrap()
    );
    assert_healthy(&f);
}

/// Posts `body` to `POST /v1/photos` with `token` (none when empty).
fn post_batch(f: &Field, token: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let mut r = xiangying_tests::http()
        .post(format!("{}/v1/photos", f.server.url()))
        .body(body);
    if !token.is_empty() {
        r = r.bearer_auth(token);
    }
    let r = r.send().unwrap();
    (r.status().as_u16(), r.bytes().unwrap().to_vec())
}

#[test]
fn a_photo_batch_checks_each_file_and_refuses_a_bad_body_whole() {
    use xiangying_core::photo::sha256_hex;
    use xiangying_core::sync::photo_batch::{BatchFile, PhotoBatch, PhotoBatchAnswer};
    use xiangying_core::sync::wire::{decode, encode};
    let mut f = Field::new(sample_org());
    for p in ["gw1", "gw3"] {
        f.enrol(p);
    }
    let c3 = report(&f, "gw3", sample::IN_G3);
    f.settle();
    let file = |text: &str| {
        let bytes = text.as_bytes().to_vec();
        (sha256_hex(&bytes), bytes)
    };
    let (a, b, c, d) = (
        file("photo a"),
        file("photo b"),
        file("photo c"),
        file("photo d"),
    );
    // gw3's case references a, b and d; c is referenced nowhere.
    list_hashes(
        &f,
        "gw3",
        &c3,
        &[(a.0.clone(), b.0.clone()), (d.0.clone(), d.0.clone())],
    );
    let token = token_of(&f, "gw3");
    let batch = |files: Vec<(String, Vec<u8>)>| {
        encode(&PhotoBatch {
            files: files
                .into_iter()
                .map(|(hash, bytes)| BatchFile { hash, bytes })
                .collect(),
        })
        .unwrap()
    };
    let blobs = &f.state().blobs;

    // Not a batch; too many files: refused whole, nothing stored.
    let (status, body) = post_batch(&f, &token, b"\xff\xff\xff\xff\xff not postcard".to_vec());
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("not a photo batch"));
    let many = vec![a.clone(); xiangying_core::sync::photo_batch::MAX_BATCH_FILES + 1];
    let (status, body) = post_batch(&f, &token, batch(many));
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("at most 64 files"));
    assert!(!blobs.is_complete(&a.0).unwrap());

    // Without a token: 401 (attack_http checks that the body is not read first).
    let (status, _) = post_batch(&f, "", batch(vec![a.clone()]));
    assert_eq!(status, 401);
    assert!(!blobs.is_complete(&a.0).unwrap());

    // Each file on its own: a and d stored; b damaged and c unreferenced refused, not stored.
    let damaged = (b.0.clone(), b"photo b, altered".to_vec());
    let (status, body) = post_batch(
        &f,
        &token,
        batch(vec![a.clone(), damaged, c.clone(), d.clone()]),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let answer: PhotoBatchAnswer = decode(&body).unwrap();
    let statuses: Vec<u16> = answer.outcomes.iter().map(|o| o.status).collect();
    assert_eq!(statuses, vec![201, 400, 404, 201], "{answer:?}");
    assert!(answer.outcomes[1].message.contains("do not match the hash"));
    assert_eq!(answer.outcomes[2].code, "not_found");
    assert!(blobs.is_complete(&a.0).unwrap());
    assert!(blobs.is_complete(&d.0).unwrap());
    assert!(!blobs.is_complete(&b.0).unwrap());
    assert!(!blobs.is_complete(&c.0).unwrap());
    // What was stored reads back, to the uploader and the case's other readers alike.
    assert_eq!(get(&f, &token, &a.0).bytes().unwrap().to_vec(), a.1);
    // gw1 (another grid) may not read gw3's files, batch or not.
    assert_eq!(head(&f, &token_of(&f, "gw1"), &a.0).0, 404);
    // Sent again, a stored file is answered as held, and b, sent right, is stored.
    let (status, body) = post_batch(&f, &token, batch(vec![a.clone(), b.clone()]));
    assert_eq!(status, 200);
    let answer: PhotoBatchAnswer = decode(&body).unwrap();
    assert!(answer.outcomes.iter().all(|o| o.is_stored()), "{answer:?}");
    assert!(blobs.is_complete(&b.0).unwrap());
    assert_healthy(&f);
}

#[test]
fn a_photo_batch_counts_its_own_files_towards_the_quota() {
    use xiangying_core::photo::sha256_hex;
    use xiangying_core::sync::photo_batch::{BatchFile, PhotoBatch, PhotoBatchAnswer};
    use xiangying_core::sync::wire::{decode, encode};
    let limits = Limits {
        device_photo_quota_bytes: 40_000,
        ..Limits::default()
    };
    let mut f = Field::with_backend(sample_org(), None, limits);
    f.enrol("gw3");
    let c3 = report(&f, "gw3", sample::IN_G3);
    f.settle();
    let file = |fill: u8| {
        let bytes = vec![fill; 15_000];
        BatchFile {
            hash: sha256_hex(&bytes),
            bytes,
        }
    };
    let (x, y, z) = (file(1), file(2), file(3));
    list_hashes(
        &f,
        "gw3",
        &c3,
        &[
            (x.hash.clone(), y.hash.clone()),
            (z.hash.clone(), z.hash.clone()),
        ],
    );
    let token = token_of(&f, "gw3");
    // The files are written at once, but each is checked against the quota with the files
    // before it counted: x and y fit (30,000 bytes), x again adds nothing, z does not fit.
    let files = vec![x.clone(), y.clone(), x.clone(), z.clone()];
    let (status, body) = post_batch(&f, &token, encode(&PhotoBatch { files }).unwrap());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let answer: PhotoBatchAnswer = decode(&body).unwrap();
    let statuses: Vec<u16> = answer.outcomes.iter().map(|o| o.status).collect();
    assert_eq!(statuses, vec![201, 201, 201, 413], "{answer:?}");
    assert!(
        answer.outcomes[3]
            .message
            .contains("device_photo_quota_bytes"),
        "{answer:?}"
    );
    let blobs = &f.state().blobs;
    assert!(blobs.is_complete(&x.hash).unwrap());
    assert!(blobs.is_complete(&y.hash).unwrap());
    assert!(!blobs.is_complete(&z.hash).unwrap());
    // The next request counts what the batch stored.
    let (status, body) = patch(&f, &token, &z.hash, 0, 15_000, z.bytes.clone());
    assert_eq!(status, 413, "{body}");
    assert_healthy(&f);
}

fn enrol_raw(
    client: &reqwest::blocking::Client,
    f: &Field,
    code: &str,
    name: &str,
) -> reqwest::blocking::Response {
    client
        .post(format!("{}/v1/enrol", f.server.url()))
        .json(&serde_json::json!({
            "code": code,
            "token": auth::new_token(),
            "device_name": name,
        }))
        .send()
        .unwrap()
}

#[test]
fn guessing_codes_gets_429_while_honest_enrolment_goes_on() {
    let mut f = Field::new(sample_org());
    f.enrol("psc1");
    let attacker = client_from("127.0.0.1");
    let limit = Limits::default().enrol_client_per_minute;
    let mut statuses = Vec::new();
    for _ in 0..limit + 5 {
        let r = enrol_raw(&attacker, &f, &auth::new_code(), "guess");
        let status = r.status().as_u16();
        if status == 429 {
            let wait: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=61).contains(&wait), "{wait}");
            let body = r.text().unwrap();
            assert!(body.contains("enrol_client_per_minute"), "{body}");
        }
        statuses.push(status);
        assert_healthy(&f);
    }
    let first = statuses
        .iter()
        .position(|s| *s == 429)
        .expect("429 after the limit");
    assert_eq!(first, limit as usize, "{statuses:?}");
    assert!(statuses[..first].iter().all(|s| *s == 401));
    assert!(statuses[first..].iter().all(|s| *s == 429), "{statuses:?}");
    // Even a right code is not looked at from the throttled address.
    let code = admin::issue_code(f.state().storage.as_ref(), "gw1").unwrap();
    assert_eq!(enrol_raw(&attacker, &f, &code, "x").status().as_u16(), 429);
    // From another address the same code enrols, written any way a person might type it.
    let honest = client_from("127.0.0.2");
    let typed = code.to_lowercase().replace('-', " ");
    let r = enrol_raw(&honest, &f, &typed, "gw1 的手机");
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().unwrap());
    // Honest devices keep syncing.
    f.dev("psc1").sync_now(&|_| {}).unwrap();
    assert_healthy(&f);
}

#[test]
fn codes_are_long_expire_and_old_ones_still_work() {
    code_attacks(Field::new(sample_org()));
}

#[test]
fn codes_are_long_expire_and_old_ones_still_work_postgres() {
    code_attacks(Field::with_backend(
        sample_org(),
        postgres("attack_codes"),
        Limits::default(),
    ));
}

fn code_attacks(mut f: Field) {
    let storage = f.state().storage.clone();
    let code = admin::issue_code(storage.as_ref(), "gw1").unwrap();
    let letters: Vec<char> = code.chars().filter(|c| *c != '-').collect();
    let bits = (auth::CODE_ALPHABET.len() as f64).log2() * letters.len() as f64;
    assert!(bits >= 60.0, "{code}: {bits} bits");
    assert!(
        letters
            .iter()
            .all(|c| auth::CODE_ALPHABET.contains(&(*c as u8)))
    );

    // A code issued 73 hours ago (default lifetime 72 h) is refused, clearly, and stays unspent.
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let old = auth::new_code();
    with_tx(storage.as_ref(), |tx| {
        tx.insert_code(&auth::hash_code(&old), &"gw2".into(), now - 73 * 3_600_000)
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dev = xiangying_core::Device::open(dir.path()).unwrap();
    match dev.enrol(&f.server.url(), &old, "gw2 的手机") {
        Err(Error::Rejected {
            status: 410,
            code,
            message,
            ..
        }) => {
            assert_eq!(code, "expired");
            assert!(message.contains("expired"), "{message}");
            assert!(!message.contains(&old), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // A code of the earlier 8-letter form, issued an hour ago, still works.
    with_tx(storage.as_ref(), |tx| {
        tx.insert_code(
            &auth::hash_secret("K7QM-4XWD"),
            &"gw3".into(),
            now - 3_600_000,
        )
    })
    .unwrap();
    let dir3 = tempfile::tempdir().unwrap();
    let dev3 = xiangying_core::Device::open(dir3.path()).unwrap();
    dev3.enrol(&f.server.url(), "k7qm4xwd", "gw3 的手机")
        .unwrap();

    // Device names a terminal would obey are refused at enrolment.
    let client = xiangying_tests::http();
    let fresh = admin::issue_code(storage.as_ref(), "gw1").unwrap();
    for bad in ["\u{1b}[2J", "evil\rname", &"长".repeat(65)] {
        let r = enrol_raw(&client, &f, &fresh, bad);
        assert_eq!(r.status().as_u16(), 400);
        assert!(r.text().unwrap().contains("device name"));
    }
    f.enrol("psc1");
    f.dev("psc1").sync_now(&|_| {}).unwrap();
}

#[test]
fn a_server_error_answers_an_id_and_no_detail() {
    let mut f = Field::new(sample_org());
    f.enrol("psc1");
    let a = report(&f, "psc1", sample::IN_G1);
    let photo = f
        .dev("psc1")
        .attach_photo(&a, &tiny_photo(5), PhotoStage::Before)
        .unwrap();
    f.dev("psc1").sync_now(&|_| {}).unwrap();
    // A real fault: the stored file became unreadable (a folder in its place).
    let root = f.state().blobs.root().to_path_buf();
    let file = root.join(&photo.hash[..2]).join(&photo.hash);
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    let r = get(&f, &token_of(&f, "psc1"), &photo.hash);
    assert_eq!(r.status().as_u16(), 500);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["error"], "internal error");
    let id = body["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let text = body.to_string();
    assert!(!text.contains(&photo.hash) && !text.contains("/"), "{text}");
    assert_healthy(&f);
}

#[test]
fn metrics_ask_for_their_token() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let storage = Arc::new(SqliteStorage::open(&data).unwrap());
    let token = "metrics-0123456789abcdef";
    let state = Arc::new(
        AppState::new(
            storage,
            BlobStore::new(data.join("photos"), 1 << 20),
            Limits::default(),
        )
        .with_metrics_token(Some(token.into())),
    );
    let server = xiangying_server::spawn(state, "127.0.0.1:0".parse().unwrap()).unwrap();
    let url = format!("{}/metrics", server.url());
    let client = xiangying_tests::http();
    assert_eq!(client.get(&url).send().unwrap().status().as_u16(), 401);
    let wrong = client
        .get(&url)
        .bearer_auth("metrics-wrong")
        .send()
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let right = client.get(&url).bearer_auth(token).send().unwrap();
    assert_eq!(right.status().as_u16(), 200);
    assert!(
        right
            .text()
            .unwrap()
            .contains("# TYPE xiangying_build_info gauge")
    );
    // Without a token configured, loopback clients are answered.
    let f = Field::new(sample_org());
    let open = client
        .get(format!("{}/metrics", f.server.url()))
        .send()
        .unwrap();
    assert_eq!(open.status().as_u16(), 200);
}

#[test]
fn guessing_from_many_addresses_meets_the_overall_limit() {
    let limits = Limits {
        enrol_client_per_minute: 3,
        enrol_overall_per_minute: 5,
        ..Limits::default()
    };
    let mut f = Field::with_backend(sample_org(), None, limits);
    f.enrol("psc1");
    let mut statuses = Vec::new();
    for ip in ["127.0.0.3", "127.0.0.4", "127.0.0.5"] {
        let c = client_from(ip);
        for _ in 0..2 {
            let r = enrol_raw(&c, &f, &auth::new_code(), "guess");
            statuses.push(r.status().as_u16());
            if r.status().as_u16() == 429 {
                let body = r.text().unwrap();
                assert!(body.contains("enrol_overall_per_minute"), "{body}");
            }
        }
    }
    // Five failures pass as 401 (none from one address over 3); the sixth crosses the overall
    // limit.
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    // Now every address waits, honest or not, until a cell frees up; the server stays up and
    // enrolled devices keep syncing.
    let code = admin::issue_code(f.state().storage.as_ref(), "gw1").unwrap();
    let r = enrol_raw(&client_from("127.0.0.6"), &f, &code, "gw1 的手机");
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().contains_key("retry-after"));
    f.dev("psc1").sync_now(&|_| {}).unwrap();
    assert_healthy(&f);
}

#[test]
fn files_stored_before_uploaders_were_recorded_keep_their_readers_only() {
    let mut f = Field::new(sample_org());
    for p in ["psc1", "gw1", "gw3"] {
        f.enrol(p);
    }
    let a = report(&f, "psc1", sample::IN_G1);
    let photo = f
        .dev("psc1")
        .attach_photo(&a, &tiny_photo(6), PhotoStage::Before)
        .unwrap();
    f.settle();
    let c3 = report(&f, "gw3", sample::IN_G3);
    f.settle();
    // The data folder as an earlier server left it: files, but no uploaders recorded.
    let state = f.state();
    let db = state.blobs.root().parent().unwrap().join("server.db");
    rusqlite::Connection::open(db)
        .unwrap()
        .execute("DELETE FROM photo_uploaders", [])
        .unwrap();
    // What the server does when it starts: the people who had referenced each file adopt it.
    assert_eq!(
        xiangying_server::photo_access::adopt_legacy_files(&state).unwrap(),
        2
    );
    assert_eq!(
        xiangying_server::photo_access::adopt_legacy_files(&state).unwrap(),
        0
    );
    // A reference added afterwards by someone else opens nothing.
    list_hashes(&f, "gw3", &c3, &[(photo.hash.clone(), photo.thumb.clone())]);
    let attacker = token_of(&f, "gw3");
    assert_eq!(get(&f, &attacker, &photo.hash).status().as_u16(), 404);
    assert_eq!(head(&f, &attacker, &photo.thumb), (404, Some("0".into())));
    // Its earlier readers keep it.
    assert_eq!(
        get(&f, &token_of(&f, "psc1"), &photo.hash)
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        f.dev("gw1").fetch_photo(&photo.hash).unwrap(),
        f.dev("psc1").photo(&photo.hash).unwrap()
    );
}
