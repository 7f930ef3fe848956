//! What the server's checks of a hostile or honest push cost: sizing up the 1 MB deflate bomb
//! of the attack suite (refused at the 4 MiB inflate limit), and judging one appended event on
//! the largest case the limits allow (5,000 events, 500 photos), which must stay linear.
//!
//! `cargo bench -p xiangying-core --bench push_checks`

use automerge::ActorId;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use xiangying_core::case::{
    Action, Assignee, CaseDoc, CaseKind, Claim, Event, Facts, PhotoRef, PhotoStage,
};
use xiangying_core::document::Document;
use xiangying_core::org::{Role, Scope, sample};
use xiangying_core::sync::intake::{IntakeLimits, Tally, scan};
use xiangying_core::sync::judge::{Judging, judge};

fn bomb() -> Vec<u8> {
    use sha2::Digest;
    let body = include_bytes!("../../tests/fixtures/attacks/deflate-bomb.bin");
    let mut typed = vec![2u8];
    let mut n = body.len() as u64;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            typed.push(b);
            break;
        }
        typed.push(b | 0x80);
    }
    typed.extend_from_slice(body);
    let sum = sha2::Sha256::digest(&typed);
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83];
    out.extend_from_slice(&sum[..4]);
    out.extend(typed);
    out
}

fn claim() -> Claim {
    Claim {
        person: "gw1".into(),
        role: Role::GridWorker,
        scope: Scope::Grid("g1".into()),
    }
}

fn largest_case() -> CaseDoc {
    let facts = Facts {
        id: "c1".into(),
        kind: CaseKind::Problem,
        category: sample::LITTER.into(),
        category_name: "垃圾满溢".into(),
        limit_hours: 4,
        clock: None,
        deadline: None,
        reporter: "gw1".into(),
        created_at: 1,
        location: sample::IN_G1,
        grid: "g1".into(),
        community: "c1".into(),
        segment: None,
        description: "d".into(),
    };
    let first = Event::new(
        1,
        claim(),
        Action::Reported {
            assignee: Assignee::Person("gw1".into()),
        },
    );
    let mut doc = CaseDoc::create(&ActorId::random(), &facts, &first).unwrap();
    for i in 0..4_999 {
        doc.append_event(&Event::new(
            i + 2,
            claim(),
            Action::Note {
                text: format!("note {i}"),
            },
        ))
        .unwrap();
    }
    for i in 0..500u64 {
        doc.add_photo(&PhotoRef {
            hash: format!("{i:064x}"),
            thumb: format!("{i:064x}"),
            stage: PhotoStage::Before,
            bytes: 1,
            captured_at: None,
            place: None,
            added_by: "gw1".into(),
            added_at: 1,
        })
        .unwrap();
    }
    doc
}

fn checks(c: &mut Criterion) {
    let bomb = bomb();
    c.bench_function("scan the 1 MB deflate bomb (refused)", |b| {
        b.iter(|| {
            let mut tally = Tally::default();
            black_box(scan(black_box(&bomb), &IntakeLimits::default(), &mut tally)).unwrap_err()
        })
    });

    let mut server = largest_case();
    let saved = server.save();
    let mut device = CaseDoc::load(&saved, &ActorId::random()).unwrap();
    let change = device
        .append_event(&Event::new(
            9_999,
            claim(),
            Action::Note {
                text: "one more".into(),
            },
        ))
        .unwrap();
    c.bench_function(
        "fork, apply and judge one event on a case of 5,000 events and 500 photos",
        |b| {
            b.iter(|| {
                let mut after = server.fork(&ActorId::random()).unwrap();
                after.apply(&change).unwrap();
                black_box(judge(
                    Some(&mut server),
                    &mut after,
                    &Judging::device("gw1"),
                ))
                .unwrap()
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = checks
}
criterion_main!(benches);
