//! Writes a synthetic project (tests/src/synth.rs) to a directory, so that
//! whole `flowc` runs can be measured on it (e.g. instruction counts with
//! `valgrind --tool=callgrind`, which do not depend on machine load).
//!
//!     cargo run --example synth_dump -- 10000 .scratch/synth-10k

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let size: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| format!("synth-{size}")));
    std::fs::create_dir_all(&dir)?;
    let project = flowc_tests::synth::project(size);
    for (name, text) in &project.files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    eprintln!("wrote {} files to {}", project.files.len(), dir.display());
    Ok(())
}
