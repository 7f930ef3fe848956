//! Random field work for end-to-end suites: devices of the sample street take random actions
//! offline and sync in random orders; afterwards every device must hold exactly the cases its
//! person may see, byte-identical to the server's, with every accepted action present once.

use crate::Field;
use automerge::ActorId;
use std::collections::{BTreeMap, BTreeSet};
use xiangying_core::case::{CaseDoc, PhotoStage};
use xiangying_core::document::Document;
use xiangying_core::ids::{DocId, PersonId};
use xiangying_core::org::{Roster, sample};
use xiangying_core::sync::keys::AccessKey;
use xiangying_core::sync::scope::may_see;
use xiangying_core::{Device, Error, NewReport, NewRequest};
use xiangying_server::storage::{FeedScope, with_tx};
use xiangying_server::sync::scope_of;

/// The people who take part.
pub const PEOPLE: [&str; 12] = [
    "psc1", "msc1", "inf1", "gw1", "gw2", "gw3", "cc1", "cc2", "center", "police1", "vol1", "vol2",
];

/// A small deterministic generator.
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// A tiny JPEG, different per seed.
pub fn tiny_photo(seed: usize) -> Vec<u8> {
    let mut img = image::RgbImage::new(64, 48);
    for (x, y, p) in img.enumerate_pixels_mut() {
        *p = image::Rgb([(x as usize + seed) as u8, y as u8, (seed * 7) as u8]);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode");
    out.into_inner()
}

/// Event ids of actions the devices accepted, by case.
#[derive(Default)]
pub struct Ledger {
    /// Case id → event ids.
    pub events: BTreeMap<String, BTreeSet<String>>,
    /// Photo hashes attached.
    pub photos: BTreeSet<String>,
}

fn record(
    ledger: &mut Ledger,
    case: &str,
    r: xiangying_core::Result<xiangying_core::case::CaseState>,
) {
    if let Ok(state) = r
        && let Some(last) = state.history.last()
    {
        ledger
            .events
            .entry(case.to_string())
            .or_default()
            .insert(last.event.id.clone());
    }
}

/// One random step by one device. Sync failures that a flaky network may cause are tolerated
/// (the next sync carries on); every other error of a sync fails the test.
pub fn step(d: &Device, rng: &mut Rng, ledger: &mut Ledger, tolerate_network: bool) {
    let cases = d.all_cases(u32::MAX).expect("list");
    let pick = |rng: &mut Rng| cases.get(rng.below(cases.len())).map(|c| c.id.clone());
    let mut branch = rng.below(16);
    if (6..=10).contains(&branch) && d.inbox(1).expect("inbox").is_empty() {
        // Nothing waits for this person: they patrol and report instead.
        branch = 0;
    }
    match branch {
        0 | 1 => {
            let photo = tiny_photo(rng.below(1000));
            let r = d.report_with_photos(
                &NewReport {
                    category: sample::MANHOLE.into(),
                    location: if rng.below(3) == 0 {
                        sample::IN_G3
                    } else {
                        sample::IN_G1
                    },
                    grid: None,
                    segment: None,
                    description: "随机上报".into(),
                },
                &[&photo],
            );
            if let Ok(id) = r {
                let v = d.case(&id).expect("case");
                ledger
                    .events
                    .entry(id)
                    .or_default()
                    .insert(v.state.history[0].event.id.clone());
                ledger.photos.insert(v.photos[0].hash.clone());
            }
        }
        2 => {
            if let Ok(id) = d.request(&NewRequest {
                category: sample::HELP.into(),
                location: sample::IN_G1,
                grid: None,
                description: "求助".into(),
            }) {
                let v = d.case(&id).expect("case");
                ledger
                    .events
                    .entry(id)
                    .or_default()
                    .insert(v.state.history[0].event.id.clone());
            }
        }
        3..=5 => {
            let r = d.sync_now(&|_| {});
            match r {
                Ok(_) => {}
                Err(Error::Network(_)) if tolerate_network => {}
                Err(e) => panic!("sync failed: {e}"),
            }
        }
        6..=10 => natural(d, rng, ledger),
        n => {
            let Some(id) = pick(rng) else { return };
            let r = match n {
                11 => match rng.below(3) {
                    0 => d.forward(&id, "转交"),
                    1 => d.accept(&id),
                    _ => d.escalate(&id, "上报"),
                },
                12 => match rng.below(3) {
                    0 => d.resolve(&id, "已处理", &[]),
                    1 => d.verify(&id, "确认"),
                    _ => d.rework(&id, "返工"),
                },
                13 => match rng.below(2) {
                    0 => d.close(&id, "结案"),
                    _ => d.claim_request(&id),
                },
                14 => d.dispatch_to_volunteers(&id, "派单"),
                _ => {
                    if rng.below(2) == 0 {
                        if let Ok(p) =
                            d.attach_photo(&id, &tiny_photo(rng.below(1000)), PhotoStage::Evidence)
                        {
                            ledger.photos.insert(p.hash);
                        }
                        return;
                    }
                    d.dispatch(&id, &["police".into()], "派遣")
                }
            };
            record(ledger, &id, r);
        }
    }
}

/// The next step a sensible person takes on something in their inbox (a few choices are left
/// to chance, so that people who work on the same case offline conflict).
fn natural(d: &Device, rng: &mut Rng, ledger: &mut Ledger) {
    use xiangying_core::case::Status::*;
    use xiangying_core::org::Role::*;
    let Some(me) = d.me() else { return };
    let inbox = d.inbox(100).expect("inbox");
    let Some(c) = inbox.get(rng.below(inbox.len())) else {
        return;
    };
    let id = c.id.as_str();
    let coin = rng.below(2) == 0;
    let r = match (me.role, c.status) {
        (PartyStreetChief | MerchantStreetChief, Reported) if coin => {
            match d.attach_photo(id, &tiny_photo(rng.below(1000)), PhotoStage::After) {
                Ok(p) => {
                    ledger.photos.insert(p.hash.clone());
                    d.handle_on_spot(id, "现场处置", &[p.hash])
                }
                Err(e) => Err(e),
            }
        }
        (_, Reported) => d.forward(id, "转交"),
        (_, Forwarded | Escalated) if coin => d.accept(id),
        (StreetCenter, Escalated | InProgress) => d.dispatch(id, &["police".into()], "派遣"),
        (GridWorker | CommunityChief, Escalated | InProgress) if coin => d.escalate(id, "上报"),
        (CommunityChief, Requested) => d.dispatch_to_volunteers(id, "派单"),
        (Volunteer, Dispatched) => d.claim_request(id),
        (_, Resolved) if coin => d.rework(id, "返工"),
        (_, Resolved) => d.verify(id, "确认"),
        (_, Verified) => d.close(id, "结案"),
        _ => d.resolve(id, "已处理", &[]),
    };
    record(ledger, id, r);
}

/// Syncs everyone until nothing moves (three rounds), then checks the invariants.
pub fn settle_and_check(f: &Field, ledger: &Ledger) {
    for _ in 0..3 {
        f.sync_all();
    }
    check(f, ledger);
}

/// A case as the server holds it.
struct ServerCase {
    canonical: Vec<u8>,
    keys: Vec<AccessKey>,
    events: Vec<String>,
}

/// The invariants, against the server's storage.
pub fn check(f: &Field, ledger: &Ledger) {
    let state = f.state();
    let storage = state.storage.as_ref();
    let org = with_tx(storage, |tx| tx.org())
        .expect("org")
        .expect("published");
    let roster = Roster::from_json("roster", &org.roster).expect("roster");
    let actor = ActorId::random();
    let mut server: BTreeMap<String, ServerCase> = BTreeMap::new();
    with_tx(storage, |tx| {
        let ids: Vec<String> = tx
            .feed_cases(FeedScope::All, 0, u64::MAX >> 1, u32::MAX)?
            .into_iter()
            .map(|(id, _)| id.into_string())
            .collect();
        for id in ids {
            let row = tx.case(&DocId::from(&id))?.expect("row");
            let mut doc = CaseDoc::load(&row.snapshot, &actor).expect("load");
            let ids: Vec<String> = doc
                .events()
                .expect("events")
                .into_iter()
                .map(|e| e.id)
                .collect();
            let canonical = doc.canonical_save().expect("canonical");
            let keys = tx.access(&DocId::from(&id))?;
            server.insert(
                id.clone(),
                ServerCase {
                    canonical,
                    keys,
                    events: ids,
                },
            );
        }
        Ok(())
    })
    .expect("read server");
    // Every accepted action is on the server exactly once.
    for (case, events) in &ledger.events {
        let ids = &server
            .get(case)
            .unwrap_or_else(|| panic!("case {case} missing on the server"))
            .events;
        for e in events {
            let n = ids.iter().filter(|i| *i == e).count();
            assert_eq!(n, 1, "event {e} of case {case} is on the server {n} times");
        }
    }
    // Every photo attached is on the server, whole.
    for h in &ledger.photos {
        assert!(
            state.blobs.read(h).is_ok(),
            "photo {h} missing on the server"
        );
    }
    // Every device holds exactly what its person may see, byte-identical to the server.
    for (who, d) in &f.devices {
        let scope = scope_of(&roster, &PersonId::from(who));
        let held: BTreeSet<String> = d
            .all_cases(u32::MAX)
            .expect("list")
            .into_iter()
            .map(|c| c.id)
            .collect();
        let visible: BTreeSet<String> = server
            .iter()
            .filter(|(_, c)| may_see(&scope, &c.keys))
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(held, visible, "{who} holds what they may see");
        for id in &held {
            assert_eq!(
                d.canonical_case(id).expect("canonical"),
                server[id].canonical,
                "{who}'s copy of {id}"
            );
        }
        assert_eq!(
            d.outbox_len().expect("outbox"),
            0,
            "{who}'s outbox is empty"
        );
        assert!(
            d.pending_uploads(1).expect("uploads").is_empty(),
            "{who} uploaded all photos"
        );
    }
}
