//! Writes the Zhenxing example (振兴街道) roster and catalogue as pretty-printed JSON files.
//!
//! ```sh
//! cargo run -p xiangying-core --example gen_zhenxing -- data/zhenxing
//! ```
//!
//! The files are `roster.json` and `catalogue.json` in the given folder (created if missing).
//! A test in `xiangying-core` checks that the shipped files equal what this writes.

use std::error::Error;
use std::path::PathBuf;
use xiangying_core::org::zhenxing;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "data/zhenxing".to_string()),
    );
    std::fs::create_dir_all(&dir)?;
    let roster = zhenxing::roster();
    let catalogue = zhenxing::catalogue();
    for (name, json) in [
        ("roster.json", serde_json::to_string_pretty(&roster)?),
        ("catalogue.json", serde_json::to_string_pretty(&catalogue)?),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, json + "\n")?;
        println!("wrote {}", path.display());
    }
    println!(
        "{} communities, {} grids, {} segments, {} people, {} categories",
        roster.communities.len(),
        roster.grids.len(),
        roster.segments.len(),
        roster.people.len(),
        catalogue.categories.len()
    );
    Ok(())
}
