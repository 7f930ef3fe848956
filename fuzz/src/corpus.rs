//! The committed seed corpora: `fuzz/corpus/<target>/`, one input per file.

use std::path::{Path, PathBuf};

/// The targets, by name; each has a corpus folder of that name.
pub const TARGETS: [&str; 6] = ["wire", "automerge", "photo", "org", "config", "track"];

/// The corpus folder of `target`.
pub fn dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}

/// The inputs of `target`'s corpus, in file name order (empty when the folder is missing).
pub fn inputs(target: &str) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir(target)) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_file() && !name.starts_with('.') {
            out.push((name, std::fs::read(&path)?));
        }
    }
    out.sort();
    Ok(out)
}
