//! What the fuzz targets (`fuzz/`) found, replayed against the real server: bytes that made
//! automerge panic inside the push handler are refused with a 400 that names the problem, the
//! server keeps answering, nothing stored changes, and honest devices keep syncing.

use xiangying_core::document::Document;
use xiangying_core::sync::synced::SyncedDoc;
use xiangying_tests::attack::assert_healthy;
use xiangying_tests::{Field, push_raw, sample_org, server_counts};

/// A patrol document of `gw1` (the base the crafted change applies to).
const PATROL: &[u8] = include_bytes!("../../fuzz/corpus/automerge/patrol-doc.am");
/// A track change to [`PATROL`] with two bytes changed and its checksum recomputed: it parses,
/// and automerge 0.12 panicked applying it.
const PANICS_ON_APPLY: &[u8] =
    include_bytes!("../../fuzz/corpus/automerge/finding-apply-import-ops-panic.am");
/// Another track change to [`PATROL`] with two bytes changed: automerge 0.12 took it in, then
/// panicked reading the new changes back.
const PANICS_ON_READ: &[u8] =
    include_bytes!("../../fuzz/corpus/automerge/finding-get-changes-missing-ops.am");
/// A case document with one byte changed and its checksum recomputed: automerge 0.12 panicked
/// loading it.
const PANICS_ON_LOAD: &[u8] =
    include_bytes!("../../fuzz/corpus/automerge/finding-hexane-slab-boundary.am");

#[test]
fn bytes_that_made_automerge_panic_are_refused_with_a_clear_error() {
    let mut f = Field::new(sample_org());
    f.enrol("gw1");
    let patrol_id = SyncedDoc::load(PATROL, &automerge::ActorId::random())
        .unwrap()
        .id()
        .unwrap();
    let (status, body) = push_raw(&f, "gw1", &patrol_id, PATROL.to_vec());
    assert_eq!(status, 200, "{body}");
    let before = server_counts(&f);

    let (status, body) = push_raw(&f, "gw1", &patrol_id, PANICS_ON_APPLY.to_vec());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("automerge could not apply"), "{body}");
    assert_healthy(&f);

    let (status, body) = push_raw(&f, "gw1", &patrol_id, PANICS_ON_READ.to_vec());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("automerge could not apply"), "{body}");
    assert_healthy(&f);

    let case_id = uuid::Uuid::now_v7().to_string();
    let (status, body) = push_raw(&f, "gw1", &case_id, PANICS_ON_LOAD.to_vec());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("automerge could not parse"), "{body}");
    assert_healthy(&f);

    assert_eq!(server_counts(&f), before, "nothing changed on the server");
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
    f.dev("gw1").sync_now(&|_| {}).unwrap();
    assert_eq!(f.dev("gw1").outbox_len().unwrap(), 0);
    assert!(f.dev("gw1").case(&id).unwrap().number.is_some());
}
