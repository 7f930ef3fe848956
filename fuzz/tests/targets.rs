//! The fuzz targets under `cargo test` (bolero's test engine, stable Rust): each test replays
//! the target's committed corpus (`fuzz/corpus/<target>/`, which bolero finds through
//! `fuzz/tests/__fuzz__/<target>/corpus`), then runs random inputs and corpus seeds with
//! random edits, each for a bounded time (1 s by default; `BOLERO_RANDOM_TEST_TIME_MS` sets
//! it, `BOLERO_RANDOM_ITERATIONS` bounds by count instead, `BOLERO_RANDOM_SEED` replays one
//! random input). Under `cargo bolero test` the same tests run under libFuzzer or AFL.
//!
//! The whole binary runs under [`CappedAlloc`]: an input during which the target's thread
//! makes one allocation over 256 MiB fails (naming the input); more than 2 GiB live at once
//! aborts the run with `memory allocation of N bytes failed`.

use std::path::Path;
use xiangying_fuzz::mutate::{self, Mutation};
use xiangying_fuzz::{CappedAlloc, corpus};

#[global_allocator]
static ALLOC: CappedAlloc = CappedAlloc::new(256 << 20, 2 << 30);

/// Runs `run` on `input`, failing when it made an allocation over the cap.
fn guarded(run: fn(&[u8]), input: &[u8]) {
    let _ = ALLOC.take_oversized();
    run(input);
    if let Some(size) = ALLOC.take_oversized() {
        panic!(
            "one allocation of {size} bytes for a {}-byte input (the cap is {} bytes)",
            input.len(),
            ALLOC.max_one()
        );
    }
}

/// Runs `run` on random inputs, then on corpus seeds with random edits.
fn fuzz(target: &str, run: fn(&[u8])) {
    let seeds = corpus::inputs(target).unwrap();
    assert!(!seeds.is_empty(), "the corpus of {target} is empty");
    bolero::check!(name = target).for_each(|input: &[u8]| guarded(run, input));
    bolero::check!(name = format!("{target}-mutated"))
        .with_type::<Mutation>()
        .for_each(|(seed, edits): &Mutation| {
            let (_, bytes) = &seeds[usize::from(*seed) % seeds.len()];
            guarded(run, &mutate::apply(bytes, edits));
        });
}

/// The allocation cap fails an input that allocates beyond it.
#[test]
#[should_panic(expected = "one allocation of")]
fn an_input_that_allocates_too_much_fails() {
    guarded(
        |input| {
            let big = vec![1u8; (300 << 20) + input.len()];
            assert_eq!(big.len(), (300 << 20) + input.len());
        },
        b"x",
    );
}

#[test]
fn wire() {
    fuzz("wire", xiangying_fuzz::wire::run);
}

#[test]
fn automerge() {
    fuzz("automerge", xiangying_fuzz::automerge::run);
}

#[test]
fn photo() {
    fuzz("photo", xiangying_fuzz::photo::run);
}

#[test]
fn org() {
    fuzz("org", xiangying_fuzz::org::run);
}

#[test]
fn config() {
    fuzz("config", xiangying_fuzz::config::run);
}

#[test]
fn track() {
    fuzz("track", xiangying_fuzz::track::run);
}

/// bolero reads each target's corpus through a link to the committed folder; a broken link
/// would silently replay nothing.
#[test]
fn every_target_has_a_linked_corpus() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for target in corpus::TARGETS {
        let link = here.join("tests/__fuzz__").join(target).join("corpus");
        let resolved = link.canonicalize().unwrap();
        assert_eq!(
            resolved,
            corpus::dir(target).canonicalize().unwrap(),
            "{target}"
        );
        assert!(!corpus::inputs(target).unwrap().is_empty(), "{target}");
    }
}
