//! Runs the photo pipeline on one image file and stores the results, as the app would.
//!
//! ```text
//! cargo run --release -p xiangying-core --example process_photo -- INPUT OUT_DIR
//! ```
//!
//! Writes the photo and its thumbnail into `OUT_DIR/<first 2 hex>/<sha256>.jpg` and prints
//! one JSON line: width, height, bytes, quality, hash and path of each, the metadata read
//! from the source, and the processing time. Errors print a message and exit non-zero.

use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;
use xiangying_core::photo::{PhotoFiles, PhotoOptions, StoredFile, process};

fn describe(file: &StoredFile, width: u32, height: u32, quality: u8) -> serde_json::Value {
    json!({
        "width": width,
        "height": height,
        "bytes": file.bytes,
        "quality": quality,
        "sha256": file.sha256,
        "path": file.path,
        "newly_written": file.newly_written,
    })
}

fn run(input: &str, out_dir: &str) -> Result<String, String> {
    let bytes = std::fs::read(input).map_err(|e| format!("cannot read {input}: {e}"))?;
    let started = Instant::now();
    let processed =
        process(&bytes, &PhotoOptions::default()).map_err(|e| format!("{input}: {e}"))?;
    let process_ms = started.elapsed().as_secs_f64() * 1000.0;
    let stored = PhotoFiles::new(out_dir)
        .store(&processed)
        .map_err(|e| format!("cannot store into {out_dir}: {e}"))?;
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (p, t) = (&processed.photo, &processed.thumbnail);
    let line = json!({
        "input_bytes": bytes.len(),
        "photo": describe(&stored.photo, p.width, p.height, p.quality),
        "thumbnail": describe(&stored.thumbnail, t.width, t.height, t.quality),
        "meta": processed.meta,
        "process_ms": (process_ms * 10.0).round() / 10.0,
        "process_and_store_ms": (total_ms * 10.0).round() / 10.0,
    });
    Ok(line.to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir] = args.as_slice() else {
        eprintln!("usage: process_photo INPUT OUT_DIR");
        return ExitCode::from(2);
    };
    match run(input, out_dir) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
