//! How many requests a photo upload costs (decision 0046): a file of one chunk is one `PATCH`;
//! an upload that the server already holds part of (cut off in an earlier run of the app)
//! learns the offset from a `409`, asks once, and sends only the rest. Real server and device
//! store on loopback, counted by the counting proxy.

use xiangying_core::NewReport;
use xiangying_core::org::sample;
use xiangying_tests::counting_proxy::{CountingProxy, Counts};
use xiangying_tests::street_day::PhotoMaker;
use xiangying_tests::{Field, push_raw, sample_org, token_of, world::tiny_photo};

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
    let mut f = Field::new(sample_org());
    let proxy = CountingProxy::start(f.server.addr);
    f.enrol_via("gw1", &proxy.url());
    (f, proxy)
}

#[test]
fn a_photo_of_one_chunk_costs_one_request() {
    let (f, proxy) = gw1_behind_proxy();
    let d = f.dev("gw1");
    let id = d
        .report_with_photos(&new_report(), &[&tiny_photo(7)])
        .unwrap();
    let photo = d.case(&id).unwrap().photos[0].clone();
    let before = settled(&proxy);
    let done = d.sync_now(&|_| {}).unwrap();
    let c = settled(&proxy).since(&before);
    assert_eq!(done.photos_uploaded, 2);
    // One sync, one PATCH for the photo and one for its thumbnail: no HEAD before or after.
    assert_eq!(c.requests, 3, "{c:?}");
    assert_eq!(c.statuses.get(&201), Some(&2), "{c:?}");
    let blobs = &f.state().blobs;
    assert!(blobs.is_complete(&photo.hash).unwrap());
    assert!(blobs.is_complete(&photo.thumb).unwrap());
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
    let r = xiangying_tests::http()
        .patch(format!("{}/v1/photos/{}", f.server.url(), photo.hash))
        .bearer_auth(token_of(&f, "gw1"))
        .header("upload-offset", "0")
        .header("upload-length", bytes.len().to_string())
        .body(bytes[..first].to_vec())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);

    let before = settled(&proxy);
    let done = d.sync_now(&|_| {}).unwrap();
    let c = settled(&proxy).since(&before);
    assert_eq!(done.photos_uploaded, 2);
    // The sync; the photo's first chunk refused (409), one HEAD, the two chunks left; the
    // thumbnail's one PATCH.
    assert_eq!(c.statuses.get(&409), Some(&1), "{c:?}");
    assert_eq!(c.requests, 6, "{c:?}");
    let blobs = &f.state().blobs;
    assert_eq!(blobs.read(&photo.hash).unwrap(), bytes);
    assert!(blobs.is_complete(&photo.thumb).unwrap());
}

#[test]
fn a_sync_stopped_part_way_keeps_the_files_the_server_confirmed() {
    // The device marks uploaded files in one commit a second (decision 0049); a sync that
    // stops sooner still marks what the server confirmed, so nothing is sent twice.
    let (f, proxy) = gw1_behind_proxy();
    let d = f.dev("gw1");
    for seed in [7, 8] {
        d.report_with_photos(&new_report(), &[&tiny_photo(seed)])
            .unwrap();
    }
    assert_eq!(d.uploads_len().unwrap(), 4);
    let uploaded = std::cell::Cell::new(0);
    let stopped = d.sync_now_until(&|r| uploaded.set(r.photos_uploaded), &|| {
        uploaded.get() >= 3
    });
    assert!(
        matches!(stopped, Err(xiangying_core::Error::Cancelled(_))),
        "{stopped:?}"
    );
    assert_eq!(d.uploads_len().unwrap(), 1, "three confirmed, one left");
    let before = settled(&proxy);
    let done = d.sync_now(&|_| {}).unwrap();
    let c = settled(&proxy).since(&before);
    assert_eq!(done.photos_uploaded, 1);
    // The sync and one PATCH: the three confirmed files are not sent again.
    assert_eq!(c.requests, 2, "{c:?}");
    assert_eq!(d.uploads_len().unwrap(), 0);
}
