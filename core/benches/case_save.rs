//! What one street-day case costs automerge, the floor under every push and pull: saving it
//! compacted as the server stores and sends it (columns over 256 bytes deflated), saving it with
//! no column deflated (tried for the server's store, not kept: docs/BENCHMARKS.md, "Tried and
//! not kept"), loading either form, and loading and saving again, as a case kept undeflated
//! would cost each device it is sent to whole; and loading a case as a phone stores it (the
//! snapshot made when it was raised, then its changes since) with the changes applied one at a
//! time or in one batch; and the server reading back the change of a case pushed whole, with
//! the change's columns deflated (before decision 0056) or as encoded. The case is the
//! anchors' report: a description of 120 CJK characters, a note and an escalation, in three
//! changes.
//!
//! `cargo bench -p xiangying-core --bench case_save`

use automerge::ActorId;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use xiangying_core::case::{Action, Assignee, CaseDoc, Event, Facts};
use xiangying_core::document::Document;
use xiangying_core::org::Level;
use xiangying_model::testkit::{g1_claim, g1_facts, g1_reported};

/// A report as the street-day bench records it, with what a phone stores of it: the snapshot
/// made when it was raised and the change bytes of the note and the escalation.
fn street_day_case() -> (CaseDoc, Vec<u8>, Vec<Vec<u8>>) {
    let description: String =
        "楼道内电动车充电，早高峰时段拥堵严重，已现场提醒相关人员，请相关部门尽快处理，"
            .chars()
            .cycle()
            .take(119)
            .chain(['。'])
            .collect();
    let facts = Facts {
        description,
        ..g1_facts("0193a4b2-0000-7000-8000-000000000001")
    };
    let mut doc = CaseDoc::create(&ActorId::random(), &facts, &g1_reported()).unwrap();
    let raised = doc.save();
    let note = doc
        .append_event(&Event::new(
            2,
            g1_claim("gw1"),
            Action::Note {
                text: "已到现场查看，正在联系处理".into(),
            },
        ))
        .unwrap();
    let escalation = doc
        .append_event(&Event::new(
            3,
            g1_claim("gw1"),
            Action::Escalated {
                to_level: Level::Community,
                to: Assignee::Person("cc1".into()),
                reason: "需社区协调处理".into(),
            },
        ))
        .unwrap();
    (doc, raised, vec![note, escalation])
}

fn save(c: &mut Criterion) {
    let (mut doc, raised, changes) = street_day_case();
    let deflated = doc.save();
    let undeflated = doc.automerge_mut().save_nocompress();
    println!(
        "a street-day case: {} B saved deflated, {} B undeflated ({:.2}×)",
        deflated.len(),
        undeflated.len(),
        undeflated.len() as f64 / deflated.len() as f64
    );
    c.bench_function("save a case, columns deflated", |b| {
        b.iter(|| black_box(doc.save()))
    });
    c.bench_function("save a case, no column deflated", |b| {
        b.iter(|| black_box(doc.automerge_mut().save_nocompress()))
    });
    c.bench_function("load a case saved deflated", |b| {
        b.iter(|| CaseDoc::load(black_box(&deflated), &ActorId::random()).unwrap())
    });
    c.bench_function("load a case saved undeflated", |b| {
        b.iter(|| CaseDoc::load(black_box(&undeflated), &ActorId::random()).unwrap())
    });
    c.bench_function("load a case saved undeflated and save it deflated", |b| {
        b.iter(|| {
            let mut back = CaseDoc::load(black_box(&undeflated), &ActorId::random()).unwrap();
            black_box(back.save())
        })
    });
    // A phone takes a case it holds from the copy its store keeps loaded (decision 0055).
    c.bench_function("a kept case copied and wrapped", |b| {
        b.iter(|| CaseDoc::wrap(black_box(doc.automerge().clone())).unwrap())
    });
    // As a phone stores it (core/src/store/docs.rs): the snapshot, then the changes since.
    let batch = changes.concat();
    c.bench_function("load a phone's case, its two changes one at a time", |b| {
        b.iter(|| {
            let mut d = CaseDoc::load(black_box(&raised), &ActorId::random()).unwrap();
            for change in &changes {
                d.apply_trusted(change).unwrap();
            }
            d
        })
    });
    c.bench_function("load a phone's case, its two changes in one batch", |b| {
        b.iter(|| {
            let mut d = CaseDoc::load(black_box(&raised), &ActorId::random()).unwrap();
            d.apply_trusted(&batch).unwrap();
            d
        })
    });
}

/// What the server does with a case a phone pushed whole (the snapshot made when it was
/// raised): read its change back for the feed (`xiangying_model::document::received`).
fn read_back(c: &mut Criterion) {
    let (_, raised, _) = street_day_case();
    let loaded = || automerge::AutoCommit::load(&raised).unwrap();
    let (raw, deflated) = loaded()
        .get_changes(&[])
        .into_iter()
        .fold((0, 0), |(r, d), mut ch| {
            (r + ch.raw_bytes().len(), d + ch.bytes().len())
        });
    println!(
        "the raised case's change: {raw} B as encoded, {deflated} B deflated ({:.2}×)",
        raw as f64 / deflated as f64
    );
    c.bench_function("read back a raised case's change, deflated", |b| {
        b.iter_batched(
            loaded,
            |mut d| {
                for mut ch in d.get_changes(&[]) {
                    black_box(ch.bytes().len());
                }
            },
            BatchSize::SmallInput,
        )
    });
    c.bench_function("read back a raised case's change, as encoded", |b| {
        b.iter_batched(
            loaded,
            |mut d| {
                for ch in d.get_changes(&[]) {
                    black_box(ch.raw_bytes().len());
                }
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, save, read_back);
criterion_main!(benches);
