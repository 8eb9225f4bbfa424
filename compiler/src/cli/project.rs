//! Reading a project from disk into a `SourceSet`.

use std::path::{Path, PathBuf};

use flowc::{SourceFile, SourceSet};

/// Reads a project: a single file, or every `.flow` file below a directory
/// (sorted, so that diagnostics come in a stable order).
pub fn load_project(path: &Path) -> Result<SourceSet, String> {
    let mut files = Vec::new();
    if path.is_dir() {
        collect_flow_files(path, &mut files)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if files.is_empty() {
            return Err(format!("no .flow files in {}", path.display()));
        }
    } else if path.exists() {
        files.push(path.to_path_buf());
    } else {
        return Err(format!("{}: no such file or directory", path.display()));
    }
    files.sort();
    let mut sources = SourceSet::new();
    for file in files {
        let bytes =
            std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let shown = file.strip_prefix(path).unwrap_or(&file);
        let shown = if shown.as_os_str().is_empty() {
            &file
        } else {
            shown
        };
        sources.add(SourceFile::from_bytes(shown.display().to_string(), bytes));
    }
    Ok(sources)
}

fn collect_flow_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden || path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if path.is_dir() {
            collect_flow_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "flow") {
            out.push(path);
        }
    }
    Ok(())
}
