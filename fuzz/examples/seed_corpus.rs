//! Writes the seed corpora into `fuzz/corpus/<target>/`, adding only files that are not
//! there yet (committed seeds are never rewritten).
//!
//! `cargo run -p xiangying-fuzz --example seed_corpus`

use std::process::ExitCode;
use xiangying_fuzz::{automerge, corpus, seeds};

fn main() -> ExitCode {
    match write_all() {
        Ok(added) => {
            println!("{added} seed files added");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seed_corpus: {e}");
            ExitCode::FAILURE
        }
    }
}

fn write_all() -> Result<usize, Box<dyn std::error::Error>> {
    let am = corpus::dir("automerge");
    let bases = match (
        std::fs::read(am.join(automerge::CASE_BASE)),
        std::fs::read(am.join(automerge::PATROL_BASE)),
    ) {
        (Ok(case), Ok(patrol)) => Some((case, patrol)),
        _ => None,
    };
    let bases = bases.as_ref().map(|(c, p)| (c.as_slice(), p.as_slice()));
    let all = [
        ("wire", seeds::wire()?),
        ("automerge", seeds::automerge(bases)?),
        ("photo", seeds::photo()?),
        ("org", seeds::org()?),
        ("config", seeds::config()),
        ("track", seeds::track()?),
    ];
    let mut added = 0;
    for (target, files) in all {
        let dir = corpus::dir(target);
        std::fs::create_dir_all(&dir)?;
        for (name, bytes) in files {
            let path = dir.join(&name);
            if !path.exists() {
                std::fs::write(&path, bytes)?;
                println!("added {}", path.display());
                added += 1;
            }
        }
    }
    Ok(added)
}
