//! Photos on cases through the façade: atomic report with photos, attach, dedupe, rejection.

use crate::case::PhotoStage;
use crate::org::sample;
use crate::photo::test_support::{jpeg_rgb, marker_image};
use crate::testkit::World;
use crate::{Error, NewReport};

fn report() -> NewReport {
    NewReport {
        category: sample::MANHOLE.into(),
        location: sample::IN_G1,
        grid: None,
        segment: None,
        description: "井盖缺失".into(),
    }
}

fn photo(w: u32) -> Vec<u8> {
    jpeg_rgb(&marker_image(w, w * 3 / 4), 90)
}

#[test]
fn a_report_with_photos_is_one_write_and_queues_both_files() {
    let w = World::new(&["psc1"]);
    let d = w.dev("psc1");
    let bytes = photo(640);
    let id = d.report_with_photos(&report(), &[&bytes]).unwrap();
    let v = d.case(&id).unwrap();
    assert_eq!(v.photos.len(), 1);
    assert_eq!(v.photos[0].stage, PhotoStage::Before);
    assert_eq!(v.photos[0].added_by, "psc1");
    assert_eq!(d.outbox_len().unwrap(), 1, "one write");
    let queued: Vec<_> = d
        .pending_uploads(10)
        .unwrap()
        .into_iter()
        .map(|u| u.hash)
        .collect();
    assert_eq!(queued.len(), 2);
    assert!(queued.contains(&v.photos[0].hash) && queued.contains(&v.photos[0].thumb));
    let stored = d.photo(&v.photos[0].hash).unwrap();
    assert!(stored.len() < bytes.len() * 2);
}

#[test]
fn a_rejected_photo_writes_nothing() {
    let w = World::new(&["psc1"]);
    let d = w.dev("psc1");
    let good = photo(320);
    let bad = b"not a photo at all".to_vec();
    let r = d.report_with_photos(&report(), &[&good, &bad]);
    assert!(matches!(r, Err(Error::Photo(_))), "{r:?}");
    assert!(d.all_cases(10).unwrap().is_empty());
    assert_eq!(d.outbox_len().unwrap(), 0);
    assert!(d.pending_uploads(10).unwrap().is_empty());
}

#[test]
fn after_photos_attach_once_and_prove_the_work() {
    let w = World::new(&["psc1", "gw3"]);
    let d = w.dev("psc1");
    let id = d.report(&report()).unwrap();
    let after = photo(800);
    let p = d.attach_photo(&id, &after, PhotoStage::After).unwrap();
    let again = d.attach_photo(&id, &after, PhotoStage::After).unwrap();
    assert_eq!(p, again);
    assert_eq!(d.case(&id).unwrap().photos.len(), 1);
    assert_eq!(d.outbox_len().unwrap(), 2);
    let s = d
        .handle_on_spot(&id, "已更换井盖", std::slice::from_ref(&p.hash))
        .unwrap();
    assert!(s.handled_on_spot);
    w.sync_all();
    let r = w
        .dev("gw3")
        .attach_photo(&id, &photo(300), PhotoStage::Evidence);
    assert!(matches!(r, Err(Error::NotAllowed { .. })), "{r:?}");
}

#[test]
fn the_camera_record_wins_over_the_exif_and_is_kept_with_the_photo() {
    use crate::org::Point;
    use crate::photo::test_support::{ExifSpec, exif_tiff, splice_exif};
    use crate::photo::{CameraPhoto, Capture};
    let w = World::new(&["psc1"]);
    let d = w.dev("psc1");
    let exif = splice_exif(
        &photo(320),
        &exif_tiff(&ExifSpec {
            date_time_original: Some("2024:05:01 08:30:15"),
            offset_time_original: Some("+08:00"),
            gps: Some((0.09, 0.29)),
            ..ExifSpec::default()
        }),
    );
    // The EXIF alone: its time and place are kept.
    let id = d.report_with_photos(&report(), &[&exif]).unwrap();
    let p = &d.case(&id).unwrap().photos[0];
    assert_eq!(p.captured_at, Some(1_714_523_415_000));
    let at = p.place.unwrap();
    assert!(
        (at.lon - 0.29).abs() < 1e-6 && (at.lat - 0.09).abs() < 1e-6,
        "{at:?}"
    );
    // The camera's record wins over both.
    let camera = Capture {
        taken_at: Some(1_700_000_000_123),
        place: Some(Point::new(0.051, 0.052)),
    };
    let shot = CameraPhoto {
        bytes: &exif,
        capture: camera,
    };
    let id = d.report_with_camera_photos(&report(), &[shot]).unwrap();
    let p = &d.case(&id).unwrap().photos[0];
    assert_eq!(p.captured_at, camera.taken_at);
    assert_eq!(p.place, camera.place);
    let after = d
        .attach_camera_photo(
            &id,
            &CameraPhoto {
                bytes: &photo(200),
                capture: camera,
            },
            PhotoStage::After,
        )
        .unwrap();
    assert_eq!(
        (after.captured_at, after.place),
        (camera.taken_at, camera.place)
    );
    // Without either, nothing is made up; the JSON of such a reference has no `place` key.
    let plain = d
        .attach_photo(&id, &photo(240), PhotoStage::Evidence)
        .unwrap();
    assert_eq!((plain.captured_at, plain.place), (None, None));
    assert!(!serde_json::to_string(&plain).unwrap().contains("place"));
}
