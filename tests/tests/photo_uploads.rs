//! How many requests a photo upload costs (decision 0046): a file of one chunk is one `PATCH`;
//! an upload that the server already holds part of (cut off in an earlier run of the app)
//! learns the offset from a `409`, asks once, and sends only the rest; small files (the
//! thumbnails) go several to a `POST /v1/photos` (decision 0059); a file damaged or missing on
//! the phone is set aside and holds back none of the others, and a damaged copy the server
//! holds is fetched again. Real server and device store on
//! loopback, counted by the counting proxy.

use xiangying_core::NewReport;
use xiangying_core::org::sample;
use xiangying_server::state::Limits;
use xiangying_tests::counting_proxy::{CountingProxy, Counts};
use xiangying_tests::street_day::PhotoMaker;
use xiangying_tests::{Field, held_wait, push_raw, sample_org, token_of, world::tiny_photo};

fn new_report() -> NewReport {
    NewReport {
        category: sample::LITTER.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: "路边堆放垃圾".into(),
    }
}

/// The proxy's counts once the last exchange is tallied (it counts after relaying).
fn settled(proxy: &CountingProxy) -> Counts {
    std::thread::sleep(std::time::Duration::from_millis(50));
    proxy.counts()
}

/// The sample street with gw1's phone enrolled through a counting proxy.
fn gw1_behind_proxy() -> (Field, CountingProxy) {
    gw1_behind_proxy_with(Limits::default())
}

/// [`gw1_behind_proxy`] with the server's `limits`.
fn gw1_behind_proxy_with(limits: Limits) -> (Field, CountingProxy) {
    let mut f = Field::with_backend(sample_org(), None, limits);
    let proxy = CountingProxy::start(f.server.addr);
    f.enrol_via("gw1", &proxy.url());
    (f, proxy)
}

/// gw1 sends the first `n` bytes of the file `hash` (`whole`) by `PATCH`, as an upload cut
/// off after them leaves it; returns the answer's status.
fn send_first(f: &Field, hash: &str, whole: &[u8], n: usize) -> u16 {
    xiangying_tests::http()
        .patch(format!("{}/v1/photos/{hash}", f.server.url()))
        .bearer_auth(token_of(f, "gw1"))
        .header("upload-offset", "0")
        .header("upload-length", whole.len().to_string())
        .body(whole[..n].to_vec())
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn a_photo_of_one_chunk_costs_one_request_and_its_thumbnail_goes_in_a_batch() {
    let (f, proxy) = gw1_behind_proxy();
    let d = f.dev("gw1");
    // A photo over the batch's file limit (about 200 KB) and its thumbnail (a few KiB).
    let maker = PhotoMaker::new(200_000);
    let id = d
        .report_with_processed_photos_for_tests(&new_report(), &[maker.photo(1, 1, 0)])
        .unwrap();
    let photo = d.case(&id).unwrap().photos[0].clone();
    assert!(d.photo(&photo.hash).unwrap().len() > xiangying_core::sync::client::BATCH_FILE_MAX);
    assert!(d.photo(&photo.thumb).unwrap().len() <= xiangying_core::sync::client::BATCH_FILE_MAX);
    let before = settled(&proxy);
    let done = d.sync_now(&|_| {}).unwrap();
    let c = settled(&proxy).since(&before);
    assert_eq!(done.photos_uploaded, 2);
    // One sync, one PATCH for the photo and one batch for its thumbnail: no HEAD before or
    // after.
    assert_eq!(c.requests, 3, "{c:?}");
    assert_eq!(c.statuses.get(&201), Some(&1), "{c:?}");
    assert_eq!(c.statuses.get(&200), Some(&2), "{c:?}");
    let blobs = &f.state().blobs;
    assert!(blobs.is_complete(&photo.hash).unwrap());
    assert!(blobs.is_complete(&photo.thumb).unwrap());
    assert_eq!(d.uploads_len().unwrap(), 0);
}

#[test]
fn small_files_go_several_to_a_request() {
    let (f, proxy) = gw1_behind_proxy();
    let d = f.dev("gw1");
    let mut files = Vec::new();
    for seed in 1..=6 {
        let id = d
            .report_with_photos(&new_report(), &[&tiny_photo(seed)])
            .unwrap();
        let p = d.case(&id).unwrap().photos[0].clone();
        files.extend([p.hash, p.thumb]);
    }
    let before = settled(&proxy);
    let done = d.sync_now(&|_| {}).unwrap();
    let c = settled(&proxy).since(&before);
    assert_eq!(done.photos_uploaded, 12);
    // One sync and one batch for the twelve small files.
    assert_eq!(c.requests, 2, "{c:?}");
    for hash in &files {
        assert!(f.state().blobs.is_complete(hash).unwrap(), "{hash}");
        assert_eq!(d.fetch_photo(hash).unwrap(), d.photo(hash).unwrap());
    }
    assert_eq!(d.uploads_len().unwrap(), 0);
}

#[test]
fn an_upload_cut_off_earlier_resumes_from_what_the_server_holds() {
    let (f, proxy) = gw1_behind_proxy();
    let d = f.dev("gw1");
    // A photo of three chunks (about 600 KB), so that part of it can be on the server.
    let maker = PhotoMaker::new(600_000);
    let id = d
        .report_with_processed_photos_for_tests(&new_report(), &[maker.photo(1, 1, 0)])
        .unwrap();
    let photo = d.case(&id).unwrap().photos[0].clone();
    let bytes = d.photo(&photo.hash).unwrap();
    assert!(bytes.len() > 2 * xiangying_core::sync::client::UPLOAD_CHUNK);
    // An earlier run of the app pushed the case and sent the first chunk, then died.
    let (status, body) = push_raw(&f, "gw1", &id, d.export_case(&id).unwrap());
    assert_eq!(status, 200, "{body}");
    let first = xiangying_core::sync::client::UPLOAD_CHUNK;
    assert_eq!(send_first(&f, &photo.hash, &bytes, first), 202);

    let before = settled(&proxy);
    let done = d.sync_now(&|_| {}).unwrap();
    let c = settled(&proxy).since(&before);
    assert_eq!(done.photos_uploaded, 2);
    // The sync; the photo's first chunk refused (409), one HEAD, the two chunks left; the
    // thumbnail's batch.
    assert_eq!(c.statuses.get(&409), Some(&1), "{c:?}");
    assert_eq!(c.requests, 6, "{c:?}");
    let blobs = &f.state().blobs;
    assert_eq!(blobs.read(&photo.hash).unwrap(), bytes);
    assert!(blobs.is_complete(&photo.thumb).unwrap());
}

#[test]
fn a_small_file_the_server_holds_part_of_goes_on_from_there() {
    let (f, proxy) = gw1_behind_proxy();
    let d = f.dev("gw1");
    let id = d
        .report_with_photos(&new_report(), &[&tiny_photo(9)])
        .unwrap();
    let photo = d.case(&id).unwrap().photos[0].clone();
    let thumb = d.photo(&photo.thumb).unwrap();
    // An upload of the thumbnail cut off after 100 bytes (a device of the release before
    // batches, or a client sending small chunks).
    let (status, body) = push_raw(&f, "gw1", &id, d.export_case(&id).unwrap());
    assert_eq!(status, 200, "{body}");
    assert_eq!(send_first(&f, &photo.thumb, &thumb, 100), 202);

    let before = settled(&proxy);
    let done = d.sync_now(&|_| {}).unwrap();
    let c = settled(&proxy).since(&before);
    assert_eq!(done.photos_uploaded, 2);
    // The sync; the batch (the photo stored, the thumbnail's outcome 409); the thumbnail's
    // PATCH from 0 refused (409), one HEAD, the rest.
    assert_eq!(c.requests, 5, "{c:?}");
    let blobs = &f.state().blobs;
    assert!(blobs.is_complete(&photo.hash).unwrap());
    assert_eq!(blobs.read(&photo.thumb).unwrap(), thumb);
    assert_eq!(d.uploads_len().unwrap(), 0);
}

#[test]
fn a_sync_stopped_part_way_keeps_the_files_the_server_confirmed() {
    // The device marks uploaded files in one commit a second (decision 0049); a sync that
    // stops sooner still marks what the server confirmed, so nothing is sent twice. The
    // photos go one by one, their thumbnails wait for a batch (decision 0059). The server
    // lets the device have one request in flight, so that the step the sync stops after is
    // known (with two, the batch may already be on its way when the second photo's answer
    // comes).
    let (f, proxy) = gw1_behind_proxy_with(Limits {
        device_concurrency: 1,
        ..Limits::default()
    });
    let d = f.dev("gw1");
    let maker = PhotoMaker::new(200_000);
    for k in [1, 2] {
        d.report_with_processed_photos_for_tests(&new_report(), &[maker.photo(1, k, 0)])
            .unwrap();
    }
    assert_eq!(d.uploads_len().unwrap(), 4);
    let uploaded = std::cell::Cell::new(0);
    let stopped = d.sync_now_until(&|r| uploaded.set(r.photos_uploaded), &|| {
        uploaded.get() >= 2
    });
    assert!(
        matches!(stopped, Err(xiangying_core::Error::Cancelled(_))),
        "{stopped:?}"
    );
    assert_eq!(
        d.uploads_len().unwrap(),
        2,
        "both photos confirmed, the thumbnails' batch not sent"
    );
    let before = settled(&proxy);
    let done = d.sync_now(&|_| {}).unwrap();
    let c = settled(&proxy).since(&before);
    assert_eq!(done.photos_uploaded, 2);
    // The sync and one batch: the two confirmed photos are not sent again.
    assert_eq!(c.requests, 2, "{c:?}");
    assert_eq!(d.uploads_len().unwrap(), 0);
}

/// Flips one byte in the middle of the phone's copy of `hash`, as bit rot on its flash would
/// (the size stays, so the file goes by the same kind of request as before); returns the
/// good bytes.
fn rot(d: &xiangying_core::Device, hash: &str) -> Vec<u8> {
    let path = d.photo_files().path_of(hash).unwrap();
    let good = std::fs::read(&path).unwrap();
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 0x55;
    std::fs::write(&path, bad).unwrap();
    good
}

#[test]
fn a_damaged_or_missing_file_on_the_phone_holds_back_none_of_the_others() {
    // The phone reads a file to send without hashing it; the server refuses bytes that do
    // not match their name, and only then does the phone hash what it sent. A file damaged or
    // missing here is set aside: queued still, named in the report, and the files after it go.
    let (f, proxy) = gw1_behind_proxy();
    let d = f.dev("gw1");
    let maker = PhotoMaker::new(200_000);
    let big = d
        .report_with_processed_photos_for_tests(&new_report(), &[maker.photo(1, 1, 0)])
        .unwrap();
    let big = d.case(&big).unwrap().photos[0].clone();
    let mut tiny = Vec::new();
    for seed in [1, 2] {
        let id = d
            .report_with_photos(&new_report(), &[&tiny_photo(seed)])
            .unwrap();
        tiny.push(d.case(&id).unwrap().photos[0].clone());
    }
    assert_eq!(d.uploads_len().unwrap(), 6);
    // The large photo (a PATCH of its own) and a thumbnail (in a batch) rot; a tiny photo's
    // file is gone altogether.
    let good_big = rot(d, &big.hash);
    rot(d, &tiny[0].thumb);
    std::fs::remove_file(d.photo_files().path_of(&tiny[1].hash).unwrap()).unwrap();
    let mut bad = vec![
        big.hash.clone(),
        tiny[0].thumb.clone(),
        tiny[1].hash.clone(),
    ];
    bad.sort();
    let good = [&big.thumb, &tiny[0].hash, &tiny[1].thumb];

    let before = settled(&proxy);
    let done = d.sync_now(&|_| {}).unwrap();
    let c = settled(&proxy).since(&before);
    let mut unreadable = done.photos_unreadable.clone();
    unreadable.sort();
    assert_eq!(unreadable, bad);
    assert_eq!(done.photos_uploaded, 3);
    assert_eq!(
        d.uploads_len().unwrap(),
        3,
        "the three set aside stay queued"
    );
    let blobs = &f.state().blobs;
    for hash in good {
        assert!(blobs.is_complete(hash).unwrap(), "{hash}");
    }
    for hash in &bad {
        assert!(!blobs.is_complete(hash).unwrap(), "{hash} was stored");
    }
    // The large photo's PATCH was refused (400); the batches' answers are 200 with a status
    // for each file; the missing file was never sent.
    assert_eq!(c.statuses.get(&400), Some(&1), "{c:?}");

    // The next sync tries them again, and sets them aside again. It told the server how
    // many the last one set aside, for the desk's devices page.
    let unreadable_reported = || {
        let id = d.device_id().unwrap().unwrap();
        xiangying_server::storage::with_tx(f.state().storage.as_ref(), |tx| tx.device_statuses())
            .unwrap()
            .into_iter()
            .find(|s| s.device.as_str() == id)
            .and_then(|s| s.photos_unreadable)
    };
    assert_eq!(
        unreadable_reported(),
        None,
        "the first sync had nothing to tell"
    );
    let again = d.sync_now(&|_| {}).unwrap();
    let mut unreadable = again.photos_unreadable.clone();
    unreadable.sort();
    assert_eq!(unreadable, bad);
    assert_eq!(again.photos_uploaded, 0);
    assert_eq!(d.uploads_len().unwrap(), 3);
    assert_eq!(unreadable_reported(), Some(3));

    // Once the phone's copy is whole again (say, restored from the phone's own backup), it goes.
    std::fs::write(d.photo_files().path_of(&big.hash).unwrap(), &good_big).unwrap();
    let mended = d.sync_now(&|_| {}).unwrap();
    assert_eq!(mended.photos_uploaded, 1);
    assert_eq!(mended.photos_unreadable.len(), 2);
    assert!(blobs.is_complete(&big.hash).unwrap());
    assert_eq!(d.uploads_len().unwrap(), 2);
    d.sync_now(&|_| {}).unwrap();
    assert_eq!(unreadable_reported(), Some(2));
}

#[test]
fn a_copy_damaged_on_the_phone_is_fetched_again_from_the_server_when_it_has_one() {
    let (f, _proxy) = gw1_behind_proxy();
    let d = f.dev("gw1");
    let sent = d
        .report_with_photos(&new_report(), &[&tiny_photo(4)])
        .unwrap();
    let sent = d.case(&sent).unwrap().photos[0].hash.clone();
    d.sync_now(&|_| {}).unwrap();
    let good = rot(d, &sent);
    assert!(d.photo(&sent).is_err(), "the damaged copy is refused");
    assert_eq!(d.fetch_photo(&sent).unwrap(), good);
    assert_eq!(
        d.photo(&sent).unwrap(),
        good,
        "the copy on the phone is mended"
    );

    // A file the server does not have (not synced yet): its refusal is the error, and the
    // damaged copy is left as it was.
    let kept = d
        .report_with_photos(&new_report(), &[&tiny_photo(5)])
        .unwrap();
    let kept = d.case(&kept).unwrap().photos[0].hash.clone();
    rot(d, &kept);
    let path = d.photo_files().path_of(&kept).unwrap();
    let before = std::fs::read(&path).unwrap();
    let e = d.fetch_photo(&kept).unwrap_err();
    assert!(
        matches!(e, xiangying_core::Error::Rejected { status: 404, .. }),
        "{e:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_waiting_phone_sends_two_uploads_at_once_and_none_is_refused() {
    // The wake-up channel has slots of its own (decision 0061): a phone that waits for news
    // still has both of its request slots for uploads, and the server's answers say so.
    let (f, proxy) = gw1_behind_proxy();
    let d = f.dev("gw1");
    let maker = PhotoMaker::new(200_000);
    for k in 1..=6 {
        d.report_with_processed_photos_for_tests(&new_report(), &[maker.photo(1, k, 0)])
            .unwrap();
    }
    assert_eq!(d.uploads_len().unwrap(), 12);
    let _wait = held_wait(&f, &token_of(&f, "gw1"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let before = settled(&proxy);
    proxy.take_most_in_flight();
    let done = d.sync_now(&|_| {}).unwrap();
    let c = settled(&proxy).since(&before);
    assert_eq!(done.photos_uploaded, 12);
    assert_eq!(d.uploads_len().unwrap(), 0);
    assert_eq!(
        c.refused, 0,
        "no upload was refused as too many at once: {c:?}"
    );
    assert_eq!(
        proxy.take_most_in_flight(),
        2,
        "after the first answer, two uploads at a time"
    );
    let blobs = &f.state().blobs;
    for s in d.all_cases(10).unwrap() {
        for p in d.case(&s.id).unwrap().photos {
            assert!(blobs.is_complete(&p.hash).unwrap());
            assert!(blobs.is_complete(&p.thumb).unwrap());
        }
    }
}

#[test]
fn an_upload_answer_names_the_requests_a_device_may_have_in_flight() {
    let (f, _proxy) = gw1_behind_proxy_with(Limits {
        device_concurrency: 3,
        ..Limits::default()
    });
    let d = f.dev("gw1");
    let id = d
        .report_with_photos(&new_report(), &[&tiny_photo(3)])
        .unwrap();
    d.sync_now(&|_| {}).unwrap();
    // Sent again by hand: the server holds it, and answers with the allowance.
    let hash = d.case(&id).unwrap().photos[0].hash.clone();
    let bytes = d.photo(&hash).unwrap();
    let resp = xiangying_tests::http()
        .patch(format!("{}/v1/photos/{hash}", f.server.url()))
        .bearer_auth(token_of(&f, "gw1"))
        .header("upload-offset", "0")
        .header("upload-length", bytes.len().to_string())
        .body(bytes)
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(
        resp.headers()
            .get(xiangying_core::sync::version::IN_FLIGHT_HEADER)
            .and_then(|v| v.to_str().ok()),
        Some("3")
    );
}
