//! Tests of [`super::scan`]: honest bytes pass with the right counts; deflate and run-length
//! bombs are refused in time and memory proportional to their size.

use super::*;
use automerge::{AutoCommit, ROOT, ReadDoc, transaction::Transactable};
use sha2::{Digest, Sha256};

fn uleb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn sleb(mut n: i64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        let done = (n == 0 && b & 0x40 == 0) || (n == -1 && b & 0x40 != 0);
        if done {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A change chunk with the given op columns, correctly framed and checksummed.
fn crafted_change(columns: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    uleb(0, &mut body); // deps
    uleb(16, &mut body); // actor
    body.extend([7u8; 16]);
    uleb(1, &mut body); // seq
    uleb(1, &mut body); // start op
    uleb(0, &mut body); // time
    uleb(0, &mut body); // message
    uleb(0, &mut body); // other actors
    uleb(columns.len() as u64, &mut body);
    for (spec, data) in columns {
        uleb(*spec, &mut body);
        uleb(data.len() as u64, &mut body);
    }
    for (_, data) in columns {
        body.extend(data);
    }
    frame(1, &body)
}

fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut typed = vec![kind];
    uleb(body.len() as u64, &mut typed);
    typed.extend(body);
    let sum = Sha256::digest(&typed);
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83];
    out.extend(&sum[..4]);
    out.extend(typed);
    out
}

fn run(count: i64, value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    sleb(count, &mut out);
    uleb(value, &mut out);
    out
}

fn scan_one(bytes: &[u8]) -> Result<Tally, IntakeError> {
    let mut tally = Tally::default();
    scan(bytes, &IntakeLimits::default(), &mut tally).map(|()| tally)
}

#[test]
fn honest_changes_and_documents_pass_with_their_counts() {
    let mut doc = AutoCommit::new();
    let list = doc
        .put_object(ROOT, "events", automerge::ObjType::List)
        .unwrap();
    for i in 0..300 {
        doc.insert(&list, i, format!("event {i} {}", "x".repeat(40)))
            .unwrap();
    }
    doc.commit();
    let mut change = doc.get_last_local_change().unwrap().clone();
    let ops = change.len() as u64;
    assert_eq!(ops, 301);
    let compressed = change.bytes().to_vec();
    assert_eq!(compressed[8], 2, "a change this size is stored deflated");
    let t = scan_one(&compressed).unwrap();
    assert_eq!((t.ops, t.changes), (301, 1));
    let t = scan_one(change.raw_bytes()).unwrap();
    assert_eq!((t.ops, t.changes), (301, 1));

    doc.put(ROOT, "a", 1).unwrap();
    doc.commit();
    let saved = doc.save();
    let t = scan_one(&saved).unwrap();
    assert_eq!((t.ops, t.changes), (302, 2));
    assert!(doc.length(&list) == 300);
}

#[test]
fn a_deflate_bomb_stops_at_the_limit() {
    // 64 MiB of one letter in one change deflates to well under a megabyte.
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "description", "a".repeat(64 << 20)).unwrap();
    doc.commit();
    let bomb = doc
        .get_last_local_change()
        .unwrap()
        .clone()
        .bytes()
        .to_vec();
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    assert_eq!(
        scan_one(&bomb),
        Err(IntakeError::OverLimit {
            limit: "max_chunk_bytes",
            max: 4 << 20
        })
    );
    // Many small bombs in one push cross the push's total.
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "d", "a".repeat(3 << 20)).unwrap();
    doc.commit();
    let small = doc
        .get_last_local_change()
        .unwrap()
        .clone()
        .bytes()
        .to_vec();
    let mut tally = Tally::default();
    let limits = IntakeLimits::default();
    let mut refused = None;
    for _ in 0..20 {
        if let Err(e) = scan(&small, &limits, &mut tally) {
            refused = Some(e);
            break;
        }
    }
    assert_eq!(
        refused,
        Some(IntakeError::OverLimit {
            limit: "max_push_bytes",
            max: 32 << 20
        })
    );
}

#[test]
fn run_length_bombs_are_counted_not_walked() {
    // One op column run declaring a trillion ops: refused at once.
    let bomb = crafted_change(&[(ACTION, run(1 << 40, 1))]);
    assert_eq!(
        scan_one(&bomb),
        Err(IntakeError::OverLimit {
            limit: "max_chunk_ops",
            max: 50_000
        })
    );
    // A single op claiming a trillion preds.
    let preds = crafted_change(&[(ACTION, run(1, 1)), (CHANGE_PRED, run(1, 1 << 40))]);
    assert!(matches!(
        scan_one(&preds),
        Err(IntakeError::OverLimit {
            limit: "max_chunk_preds",
            ..
        })
    ));
    // Literal runs and nulls count too.
    let mut literal = Vec::new();
    sleb(-3, &mut literal);
    for v in [1, 2, 3] {
        uleb(v, &mut literal);
    }
    sleb(0, &mut literal);
    uleb(2, &mut literal);
    let t = scan_one(&crafted_change(&[(ACTION, literal)])).unwrap();
    assert_eq!(t.ops, 5);
}

#[test]
fn pushes_are_bounded_in_ops_and_changes() {
    let limits = IntakeLimits {
        max_push_ops: 10,
        max_push_changes: 3,
        ..IntakeLimits::default()
    };
    let four = crafted_change(&[(ACTION, run(4, 1))]);
    let mut tally = Tally::default();
    scan(&four, &limits, &mut tally).unwrap();
    scan(&four, &limits, &mut tally).unwrap();
    assert_eq!(
        scan(&four, &limits, &mut tally),
        Err(IntakeError::OverLimit {
            limit: "max_push_ops",
            max: 10
        })
    );
    let one = crafted_change(&[(ACTION, run(1, 1))]);
    let mut tally = Tally::default();
    for _ in 0..3 {
        scan(&one, &limits, &mut tally).unwrap();
    }
    assert!(matches!(
        scan(&one, &limits, &mut tally),
        Err(IntakeError::OverLimit {
            limit: "max_push_changes",
            ..
        })
    ));
}

#[test]
fn damage_and_bundles_are_named() {
    assert!(matches!(scan_one(b"nope"), Err(IntakeError::Malformed(_))));
    let deflated_column = crafted_change(&[(ACTION | DEFLATE, vec![1, 2, 3])]);
    assert!(
        matches!(scan_one(&deflated_column), Err(IntakeError::Malformed(m)) if m.contains("deflated"))
    );
    let short = crafted_change(&[(ACTION, vec![0x80])]);
    assert!(matches!(scan_one(&short), Err(IntakeError::Malformed(_))));
    let bundle = frame(3, &[0, 0]);
    assert!(matches!(scan_one(&bundle), Err(IntakeError::Malformed(m)) if m.contains("bundle")));
    let huge_column_count = {
        let mut body = vec![0, 0, 1, 1, 0, 0, 0];
        uleb(u64::MAX >> 1, &mut body);
        frame(1, &body)
    };
    assert!(matches!(
        scan_one(&huge_column_count),
        Err(IntakeError::Malformed(_))
    ));
}
