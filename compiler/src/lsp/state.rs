//! The server's state: open documents and projects. A project is the
//! directory of a file: every `.flow` file in it and below, with open
//! documents' unsaved text taking precedence over the disk. Each project
//! keeps its latest analysis, tagged with the generation (bumped on every
//! change) it was computed for.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::analysis::{Analysis, LineIndex};
use crate::check::CheckOptions;
use crate::source::{SourceFile, SourceSet};
use crate::syntax::span::FileId;

/// An analysis with the absolute path and line index of every file.
#[derive(Debug)]
pub struct Snapshot {
    pub analysis: Analysis,
    pub paths: Vec<PathBuf>,
    pub lines: Vec<LineIndex>,
}

impl Snapshot {
    pub fn file_id(&self, path: &Path) -> Option<FileId> {
        self.paths
            .iter()
            .position(|p| p == path)
            .and_then(|i| u32::try_from(i).ok())
            .map(FileId)
    }

    pub fn path(&self, id: FileId) -> Option<&Path> {
        self.paths.get(id.0 as usize).map(PathBuf::as_path)
    }

    pub fn line_index(&self, id: FileId) -> Option<&LineIndex> {
        self.lines.get(id.0 as usize)
    }
}

#[derive(Debug, Default)]
struct Project {
    generation: u64,
    snapshot: Option<(u64, Arc<Snapshot>)>,
    /// Files that got diagnostics last time (to clear them when clean).
    published: BTreeSet<PathBuf>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Open documents: path → text.
    documents: HashMap<PathBuf, String>,
    projects: HashMap<PathBuf, Project>,
}

/// Shared, locked state; the lock is never held during IO or analysis.
#[derive(Clone, Debug, Default)]
pub struct State {
    inner: Arc<Mutex<Inner>>,
}

/// The project a file belongs to: its directory.
pub fn project_root(path: &Path) -> PathBuf {
    path.parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep going.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores a document's text and returns the new generation of its
    /// project.
    pub fn set_document(&self, path: &Path, text: String) -> u64 {
        let mut inner = self.lock();
        inner.documents.insert(path.to_path_buf(), text);
        bump(&mut inner, &project_root(path))
    }

    pub fn document(&self, path: &Path) -> Option<String> {
        self.lock().documents.get(path).cloned()
    }

    pub fn close_document(&self, path: &Path) -> u64 {
        let mut inner = self.lock();
        inner.documents.remove(path);
        bump(&mut inner, &project_root(path))
    }

    /// Marks a project changed (a file saved, created or deleted on disk).
    pub fn touch(&self, root: &Path) -> u64 {
        bump(&mut self.lock(), root)
    }

    pub fn generation(&self, root: &Path) -> u64 {
        self.lock().projects.get(root).map_or(0, |p| p.generation)
    }

    /// The analysis of a project, computed if it is older than the
    /// project's generation.
    pub fn snapshot(&self, root: &Path) -> Arc<Snapshot> {
        let (generation, documents) = {
            let mut inner = self.lock();
            let project = inner.projects.entry(root.to_path_buf()).or_default();
            if let Some((g, snapshot)) = &project.snapshot {
                if *g == project.generation {
                    return Arc::clone(snapshot);
                }
            }
            let generation = project.generation;
            let documents: Vec<(PathBuf, String)> = inner
                .documents
                .iter()
                .filter(|(p, _)| p.starts_with(root))
                .map(|(p, t)| (p.clone(), t.clone()))
                .collect();
            (generation, documents)
        };
        let snapshot = Arc::new(analyze(root, documents));
        let mut inner = self.lock();
        let project = inner.projects.entry(root.to_path_buf()).or_default();
        if project.generation == generation {
            project.snapshot = Some((generation, Arc::clone(&snapshot)));
        }
        snapshot
    }

    /// Records which files now have diagnostics; returns those that had
    /// some before and have none now.
    pub fn replace_published(&self, root: &Path, now: BTreeSet<PathBuf>) -> Vec<PathBuf> {
        let mut inner = self.lock();
        let project = inner.projects.entry(root.to_path_buf()).or_default();
        let cleared = project.published.difference(&now).cloned().collect();
        project.published = now;
        cleared
    }
}

fn bump(inner: &mut Inner, root: &Path) -> u64 {
    let project = inner.projects.entry(root.to_path_buf()).or_default();
    project.generation += 1;
    project.generation
}

/// Reads the project at `root` (open documents win over the disk) and
/// analyzes it.
pub fn analyze(root: &Path, documents: Vec<(PathBuf, String)>) -> Snapshot {
    let mut paths = Vec::new();
    collect_flow_files(root, &mut paths);
    let mut open: HashMap<PathBuf, String> = documents.into_iter().collect();
    paths.extend(
        open.keys()
            .filter(|p| !paths.contains(p))
            .cloned()
            .collect::<Vec<_>>(),
    );
    paths.sort();
    let mut sources = SourceSet::new();
    let mut lines = Vec::new();
    let mut kept = Vec::new();
    for path in paths {
        let shown = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        let file = match open.remove(&path) {
            Some(text) => SourceFile::new(shown, text),
            None => match std::fs::read(&path) {
                Ok(bytes) => SourceFile::from_bytes(shown, bytes),
                Err(_) => continue,
            },
        };
        lines.push(LineIndex::new(&file.text));
        sources.add(file);
        kept.push(path);
    }
    let options = CheckOptions::for_path(root);
    Snapshot {
        analysis: Analysis::new(sources, &options),
        paths: kept,
        lines,
    }
}

/// Every `.flow` file below `dir`, skipping hidden entries and `target`
/// (as `flowc check` does). Unreadable directories are skipped.
fn collect_flow_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            collect_flow_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "flow") {
            out.push(path);
        }
    }
}
