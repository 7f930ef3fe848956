//! Runs one target on input files, to reproduce a finding with a backtrace.
//!
//! `RUST_BACKTRACE=1 cargo run -p xiangying-fuzz --example replay -- TARGET FILE...`

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((target, files)) = args.split_first() else {
        eprintln!("usage: replay TARGET FILE...");
        return ExitCode::FAILURE;
    };
    let Some(run) = xiangying_fuzz::target(target) else {
        eprintln!(
            "replay: no target {target}; the targets are {}",
            xiangying_fuzz::corpus::TARGETS.join(", ")
        );
        return ExitCode::FAILURE;
    };
    for file in files {
        match std::fs::read(file) {
            Ok(bytes) => {
                println!("{target}: {file} ({} bytes)", bytes.len());
                run(&bytes);
            }
            Err(e) => {
                eprintln!("replay: {file}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("no failure");
    ExitCode::SUCCESS
}
