//! Property test: several replicas (real device stores on disk) take random valid and
//! conflicting actions offline, exchange their changes in random orders and directions, and
//! always end with byte-identical documents and identical folded states; no accepted action is
//! ever lost.

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use xiangying_core::org::sample;
use xiangying_core::{Clock, Device, NewReport, NewRequest};

const PEOPLE: [&str; 6] = ["psc1", "gw1", "cc1", "center", "vol1", "vol2"];
const T0: i64 = 1_795_939_200_000;

#[derive(Debug, Clone)]
enum Op {
    Raise { who: usize, request: bool },
    Act { who: usize, case: usize, action: u8 },
    Exchange { from: usize, to: usize, seed: u64 },
    Tick,
}

fn op() -> impl Strategy<Value = Op> {
    let n = PEOPLE.len();
    prop_oneof![
        2 => (0..n, any::<bool>()).prop_map(|(who, request)| Op::Raise { who, request }),
        8 => (0..n, 0..8usize, 0..14u8).prop_map(|(who, case, action)| Op::Act { who, case, action }),
        3 => (0..n, 0..n, any::<u64>()).prop_map(|(from, to, seed)| Op::Exchange { from, to, seed }),
        1 => Just(Op::Tick),
    ]
}

struct Replicas {
    devices: Vec<Device>,
    now: Arc<AtomicI64>,
    _dirs: Vec<tempfile::TempDir>,
    /// Case ids in order of creation.
    cases: Vec<String>,
    /// How many events each case must hold: one per accepted action.
    accepted: BTreeMap<String, usize>,
}

impl Replicas {
    fn new() -> Replicas {
        let now = Arc::new(AtomicI64::new(T0));
        let mut devices = Vec::new();
        let mut dirs = Vec::new();
        for p in PEOPLE {
            let dir = tempfile::tempdir().unwrap();
            let n = now.clone();
            let clock: Clock = Arc::new(move || n.load(Ordering::SeqCst));
            let d = Device::open_with_clock(dir.path(), clock).unwrap();
            d.install_org(
                &sample::roster_json().unwrap(),
                &sample::catalogue_json().unwrap(),
            )
            .unwrap();
            d.set_person(p).unwrap();
            devices.push(d);
            dirs.push(dir);
        }
        Replicas {
            devices,
            now,
            _dirs: dirs,
            cases: Vec::new(),
            accepted: BTreeMap::new(),
        }
    }

    fn run(&mut self, op: &Op) {
        match *op {
            Op::Tick => {
                self.now.fetch_add(1_800_000, Ordering::SeqCst);
            }
            Op::Raise { who, request } => {
                let d = &self.devices[who];
                let r = if request {
                    d.request(&NewRequest {
                        category: sample::HELP.into(),
                        location: sample::IN_G1,
                        grid: None,
                        description: "求助".into(),
                    })
                } else {
                    d.report(&NewReport {
                        category: sample::MANHOLE.into(),
                        location: sample::IN_G1,
                        grid: None,
                        segment: None,
                        description: "井盖破损".into(),
                    })
                };
                if let Ok(id) = r {
                    self.accepted.insert(id.clone(), 1);
                    self.cases.push(id);
                }
            }
            Op::Act { who, case, action } => {
                let Some(id) = self.cases.get(case % self.cases.len().max(1)).cloned() else {
                    return;
                };
                let d = &self.devices[who];
                if !d.all_cases(u32::MAX).unwrap().iter().any(|c| c.id == id) {
                    return;
                }
                let photo = vec!["ab".repeat(32)];
                let r = match action {
                    0 => d.forward(&id, "转交"),
                    1 => d.accept(&id),
                    2 => d.escalate(&id, "无法处理"),
                    3 => d.resolve(&id, "已处理", &photo),
                    4 => d.verify(&id, "确认"),
                    5 => d.rework(&id, "返工"),
                    6 => d.close(&id, "结案"),
                    7 => d.claim_request(&id),
                    8 => d.dispatch_to_volunteers(&id, "派单"),
                    9 => d.note(&id, "备注"),
                    10 => d.handle_on_spot(&id, "现场处置", &photo),
                    11 => d.extend(&id, 24, "延期"),
                    12 => d.void(&id, "误报"),
                    _ => d.dispatch(&id, &["police".into()], "派遣"),
                };
                if r.is_ok() {
                    *self.accepted.get_mut(&id).unwrap() += 1;
                }
            }
            Op::Exchange { from, to, seed } => {
                if from != to {
                    self.exchange(from, to, seed);
                }
            }
        }
    }

    /// Sends `from`'s unacknowledged changes to `to` in a shuffled order; a case `to` has never
    /// seen arrives whole, as a sync would send it.
    fn exchange(&self, from: usize, to: usize, seed: u64) {
        let (a, b) = (&self.devices[from], &self.devices[to]);
        let mut entries = a.outbox(u32::MAX).unwrap();
        let mut s = seed | 1;
        for i in (1..entries.len()).rev() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            entries.swap(i, (s % (i as u64 + 1)) as usize);
        }
        for e in entries {
            let known = b
                .all_cases(u32::MAX)
                .unwrap()
                .iter()
                .any(|c| c.id == e.case_id);
            let bytes = if known {
                e.bytes
            } else {
                a.export_case(&e.case_id).unwrap()
            };
            b.apply_remote(&e.case_id, &bytes).unwrap();
        }
    }

    /// Everybody gets everything, whole.
    fn settle(&self) {
        for a in &self.devices {
            for c in a.all_cases(u32::MAX).unwrap() {
                let bytes = a.export_case(&c.id).unwrap();
                for b in &self.devices {
                    b.apply_remote(&c.id, &bytes).unwrap();
                }
            }
        }
    }

    fn check(&self) {
        for id in &self.cases {
            let first = self.devices[0].canonical_case(id).unwrap();
            let view = self.devices[0].case(id).unwrap();
            assert_eq!(
                view.state.history.len(),
                self.accepted[id],
                "case {id}: every accepted action is in the history"
            );
            for d in &self.devices[1..] {
                assert_eq!(
                    d.canonical_case(id).unwrap(),
                    first,
                    "byte-identical documents"
                );
                assert_eq!(d.case(id).unwrap(), view, "identical folded states");
                let row = d
                    .all_cases(u32::MAX)
                    .unwrap()
                    .into_iter()
                    .find(|c| c.id == *id)
                    .unwrap();
                assert_eq!(row.status, view.state.status, "index agrees with the fold");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_whatever_the_order(ops in prop::collection::vec(op(), 1..80)) {
        let mut r = Replicas::new();
        for op in &ops {
            r.run(op);
        }
        r.settle();
        r.check();
    }
}
