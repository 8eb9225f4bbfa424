//! The test harness crate of flowc: shared helpers of the fixture harness
//! (`tests/tests/fixtures.rs`), the meta test, the robustness tests and the
//! benchmarks. Nothing here is part of the compiler.
//!
//! - [`fixture`] loads `.flow` fixtures (single files or project
//!   directories), reads their `// expect:` header and renders snapshots.
//! - [`synth`] generates large, valid synthetic projects for benchmarks.

#![deny(clippy::unwrap_used)]

pub mod fixture;
pub mod synth;

use std::path::PathBuf;

/// The root of the cargo workspace (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
