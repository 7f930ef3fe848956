//! Seed inputs made with the project's own APIs: real wire bodies, real automerge documents
//! and changes of a case and a patrol, small JPEG/PNG/WebP files, the sample roster and
//! catalogue, a configuration file, track chunks.
//!
//! `cargo run -p xiangying-fuzz --example seed_corpus` writes them into `fuzz/corpus/`,
//! adding only files that are not there yet: committed seeds are never rewritten (documents
//! carry fresh ids and actors, so a second run would give other bytes). The automerge
//! changes apply to the committed base documents ([`crate::automerge::CASE_BASE`] and
//! [`crate::automerge::PATROL_BASE`]), so they are made from those when present.

use automerge::ActorId;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use std::io::Cursor;
use xiangying_core::case::{
    Action, Assignee, CaseDoc, CaseKind, Claim, DocError, Event, Facts, PhotoRef, PhotoStage,
};
use xiangying_core::document::Document;
use xiangying_core::org::{CategoryKind, Point, Role, Scope, sample};
use xiangying_core::patrol::track::{TrackPoint, encode_chunk};
use xiangying_core::patrol::{PatrolAction, PatrolDoc, PatrolEvent, PatrolFacts, PatrolPlace};
use xiangying_core::sync::synced::SyncedDoc;
use xiangying_core::sync::wire::{self, FeedItem, PushedChange, SyncRequest, SyncResponse};

/// Why seeds could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A document could not be built.
    #[error("document: {0}")]
    Doc(#[from] DocError),
    /// The sample roster or catalogue did not load.
    #[error("roster: {0}")]
    Org(#[from] xiangying_core::org::OrgError),
    /// A wire body could not be encoded.
    #[error("wire: {0}")]
    Wire(#[from] postcard::Error),
    /// An image could not be encoded.
    #[error("image: {0}")]
    Image(#[from] image::ImageError),
    /// A track chunk could not be encoded.
    #[error("track: {0}")]
    Track(#[from] xiangying_core::patrol::track::ChunkError),
    /// The sample catalogue has no event category.
    #[error("the sample catalogue has no event category")]
    NoCategory,
}

/// One seed: its file name in the target's corpus folder, and its bytes.
pub type Seed = (String, Vec<u8>);

fn grid_worker() -> Claim {
    Claim {
        person: crate::automerge::PUSHER.into(),
        role: Role::GridWorker,
        scope: Scope::Grid("g1".into()),
    }
}

const T0: i64 = 1_767_000_000_000;

/// A case reported by `gw1` in grid `g1`, with a description of `description_len` characters.
fn new_case(actor: &ActorId, description_len: usize) -> Result<CaseDoc, SeedError> {
    let catalogue = sample::catalogue();
    let category = catalogue
        .of_kind(CategoryKind::Event)
        .next()
        .ok_or(SeedError::NoCategory)?;
    let facts = Facts {
        id: uuid::Uuid::now_v7().to_string(),
        kind: CaseKind::Problem,
        category: category.code.clone(),
        category_name: category.name.clone(),
        limit_hours: category.limit_hours,
        clock: None,
        deadline: Some(T0 + i64::from(category.limit_hours) * 3_600_000),
        reporter: crate::automerge::PUSHER.into(),
        created_at: T0,
        location: Point::new(0.0005, 0.0005),
        grid: "g1".into(),
        community: "c1".into(),
        segment: None,
        description: "占道经营，".repeat(description_len / 5 + 1),
    };
    let first = Event::new(
        T0,
        grid_worker(),
        Action::Reported {
            assignee: Assignee::Person(crate::automerge::PUSHER.into()),
        },
    );
    Ok(CaseDoc::create(actor, &facts, &first)?)
}

/// A patrol walked by `gw1` in grid `g1`.
fn new_patrol(actor: &ActorId) -> Result<PatrolDoc, SeedError> {
    let facts = PatrolFacts {
        id: uuid::Uuid::now_v7().to_string(),
        walker: grid_worker(),
        place: PatrolPlace::Grid("g1".into()),
        community: "c1".into(),
        started_at: T0,
    };
    Ok(PatrolDoc::create(actor, &facts)?)
}

fn points(n: usize) -> Vec<TrackPoint> {
    (0..n)
        .map(|i| TrackPoint {
            at: T0 + 5_000 * i as i64,
            lon: 0.0001 + 0.00001 * i as f64,
            lat: 0.0002 + 0.000007 * i as f64,
            accuracy_m: 4.0 + (i % 3) as f64,
        })
        .collect()
}

/// Automerge seeds: whole documents and changes on top of the base documents (`bases`: the
/// committed case and patrol documents, when there are).
pub fn automerge(bases: Option<(&[u8], &[u8])>) -> Result<Vec<Seed>, SeedError> {
    let actor = ActorId::from(&[0x11; 16][..]);
    let mut case = match bases {
        Some((case, _)) => CaseDoc::load(case, &actor)?,
        None => new_case(&actor, 40)?,
    };
    let mut patrol = match bases {
        Some((_, patrol)) => PatrolDoc::load(patrol, &actor)?,
        None => new_patrol(&actor)?,
    };
    let mut out = vec![
        (crate::automerge::CASE_BASE.to_string(), case.save()),
        (crate::automerge::PATROL_BASE.to_string(), patrol.save()),
    ];
    let accepted = case.append_event(&Event::new(T0 + 60_000, grid_worker(), Action::Accepted))?;
    out.push(("case-change-accepted.am".into(), accepted));
    let photo = case.add_photo(&PhotoRef {
        hash: "ab".repeat(32),
        thumb: "cd".repeat(32),
        stage: PhotoStage::Before,
        bytes: 120_000,
        captured_at: Some(T0 - 1_000),
        place: None,
        added_by: crate::automerge::PUSHER.into(),
        added_at: T0 + 61_000,
    })?;
    out.push(("case-change-photo.am".into(), photo.clone()));
    let handled = case.append_event(&Event::new(
        T0 + 120_000,
        grid_worker(),
        Action::HandledOnSpot {
            note: "已劝离".into(),
            photos: vec!["ab".repeat(32)],
        },
    ))?;
    out.push(("case-change-handled.am".into(), handled.clone()));
    let mut two = photo;
    two.extend_from_slice(&handled);
    out.push(("case-changes-two.am".into(), two));
    let mut whole_and_more = case.save();
    whole_and_more.extend_from_slice(&case.append_event(&Event::new(
        T0 + 180_000,
        grid_worker(),
        Action::Forwarded {
            to: "cc1".into(),
            note: "请社区协调".into(),
        },
    ))?);
    out.push(("case-doc-and-change.am".into(), whole_and_more));
    // A long description: deflate-compressed columns.
    out.push((
        "case-doc-long.am".into(),
        new_case(&ActorId::from(&[0x22; 16][..]), 3_000)?.save(),
    ));

    let track = patrol.append_track(&points(24))?;
    out.push(("patrol-change-track.am".into(), track));
    let official = Claim {
        person: "official".into(),
        role: Role::StreetOfficial,
        scope: Scope::Street,
    };
    let walked = patrol.append_event(&PatrolEvent::new(
        T0 + 130_000,
        grid_worker(),
        PatrolAction::Accompanied {
            companion: official,
        },
    ))?;
    out.push(("patrol-change-accompanied.am".into(), walked));
    let ended = patrol.append_event(&PatrolEvent::new(
        T0 + 3_600_000,
        grid_worker(),
        PatrolAction::Ended,
    ))?;
    out.push(("patrol-change-ended.am".into(), ended));
    let mut synced = SyncedDoc::load(&patrol.save(), &actor)?;
    out.push(("patrol-doc-ended.am".into(), synced.save()));
    Ok(out)
}

/// Wire seeds: a push of a new case and a change, a feed page, one feed item, an empty sync.
pub fn wire() -> Result<Vec<Seed>, SeedError> {
    let actor = ActorId::from(&[0x33; 16][..]);
    let mut case = new_case(&actor, 20)?;
    let whole = case.save();
    let change = case.append_event(&Event::new(T0 + 1, grid_worker(), Action::Accepted))?;
    let id = uuid::Uuid::now_v7();
    let req = SyncRequest {
        push: vec![
            PushedChange {
                seq: 1,
                case_id: id,
                bytes: whole.clone(),
            },
            PushedChange {
                seq: 2,
                case_id: id,
                bytes: change.clone(),
            },
        ],
        cursor: 0,
        max_feed_bytes: 1 << 20,
        org_version: 1,
    };
    let items = vec![
        FeedItem {
            case_id: id,
            whole: true,
            bytes: whole,
        },
        FeedItem {
            case_id: uuid::Uuid::now_v7(),
            whole: false,
            bytes: change,
        },
    ];
    let resp = SyncResponse {
        acked_through: Some(2),
        feed: items.clone(),
        cursor: 17,
        more: true,
        org_version: 3,
    };
    let empty = SyncRequest {
        push: vec![],
        cursor: 42,
        max_feed_bytes: 4096,
        org_version: 0,
    };
    Ok(vec![
        ("request-push.bin".into(), wire::encode(&req)?),
        ("request-empty.bin".into(), wire::encode(&empty)?),
        ("response-feed.bin".into(), wire::encode(&resp)?),
        ("feed-item.bin".into(), wire::encode(&items[1])?),
        ("feed-page.bin".into(), wire::encode(&items)?),
    ])
}

fn encoded(img: DynamicImage, format: ImageFormat) -> Result<Vec<u8>, SeedError> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), format)?;
    Ok(out)
}

/// Photo seeds: small JPEG, PNG (RGB, RGBA, grey, 16-bit) and WebP files. The corpus also
/// holds seeds not made here (issue 20): `p3_icc.jpg`, `adobe_icc.png` and `cmyk_icc.jpg`,
/// carrying Display P3, Adobe RGB and a CMYK test profile, written once with the photo tests'
/// own profile and file helpers (`core/src/photo/test_support.rs`), and `exif_piexif_be.jpg`
/// and `exif_odd_offsets.jpg`, copies of two EXIF vectors in `core/tests/fixtures/photo/exif/`.
pub fn photo() -> Result<Vec<Seed>, SeedError> {
    let rgb = RgbImage::from_fn(48, 32, |x, y| {
        if y < 16 {
            if x < 24 {
                Rgb([220, 20, 20])
            } else {
                Rgb([20, 200, 20])
            }
        } else {
            Rgb([128, 128, 128])
        }
    });
    let rgba = RgbaImage::from_fn(20, 30, |x, y| Rgba([x as u8 * 12, y as u8 * 8, 90, 200]));
    let rgb = DynamicImage::ImageRgb8(rgb);
    Ok(vec![
        ("small.jpg".into(), encoded(rgb.clone(), ImageFormat::Jpeg)?),
        ("small.png".into(), encoded(rgb.clone(), ImageFormat::Png)?),
        (
            "small.webp".into(),
            encoded(rgb.clone(), ImageFormat::WebP)?,
        ),
        (
            "alpha.png".into(),
            encoded(DynamicImage::ImageRgba8(rgba), ImageFormat::Png)?,
        ),
        (
            "grey.jpg".into(),
            encoded(DynamicImage::ImageLuma8(rgb.to_luma8()), ImageFormat::Jpeg)?,
        ),
        (
            "deep.png".into(),
            encoded(DynamicImage::ImageRgb16(rgb.to_rgb16()), ImageFormat::Png)?,
        ),
    ])
}

/// Roster and catalogue seeds: the sample street's.
pub fn org() -> Result<Vec<Seed>, SeedError> {
    Ok(vec![
        (
            "sample-roster.json".into(),
            sample::roster_json()?.into_bytes(),
        ),
        (
            "sample-catalogue.json".into(),
            sample::catalogue_json()?.into_bytes(),
        ),
    ])
}

/// Configuration seeds: a full file and a small one.
pub fn config() -> Vec<Seed> {
    let full = "data = \"/srv/xiangying\"\n\
                postgres = \"postgres://xy@db/xiangying\"\n\
                listen = \"0.0.0.0:8470\"\n\n\
                [limits]\n\
                max_sync_body = 16777216\n\
                max_photo = 16777216\n\
                max_feed_bytes = 4194304\n\
                max_feed_cases = 500\n";
    vec![
        ("full.toml".into(), full.as_bytes().to_vec()),
        (
            "small.toml".into(),
            b"listen = \"[::1]:9000\"\n[limits]\nmax_photo = 1000\n".to_vec(),
        ),
    ]
}

/// Track seeds: chunks of one, a few and many points, and an empty chunk.
pub fn track() -> Result<Vec<Seed>, SeedError> {
    Ok(vec![
        ("empty.chunk".into(), encode_chunk(&[])?),
        ("one.chunk".into(), encode_chunk(&points(1))?),
        ("few.chunk".into(), encode_chunk(&points(5))?),
        ("many.chunk".into(), encode_chunk(&points(300))?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_is_accepted_by_its_parser() {
        for (name, bytes) in wire().unwrap() {
            assert!(!bytes.is_empty(), "{name}");
        }
        let am = automerge(None).unwrap();
        let actor = ActorId::random();
        let case = SyncedDoc::load(&am[0].1, &actor).unwrap();
        assert_eq!(case.kind(), "case");
        for (name, bytes) in &am {
            xiangying_core::case::chunks::check(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        for (name, bytes) in photo().unwrap() {
            xiangying_core::photo::process(&bytes, &crate::photo::options())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        for (name, bytes) in track().unwrap() {
            xiangying_core::patrol::track::decode_chunk(&bytes)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        for (name, bytes) in config() {
            let text = String::from_utf8(bytes).unwrap();
            xiangying_server::config_file::FileConfig::parse(&text)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(org().unwrap().len(), 2);
    }
}
