//! Checking: AST → [`model::Model`]. Resolves names, infers and checks
//! types, compiles route conditions to EventBridge patterns and checks the
//! graph as a whole. Gathers every error of a project in one run.

pub mod model;

use crate::diagnostic::Diagnostics;
use crate::source::SourceSet;
use crate::syntax::{self, ast};

/// Options of a check run.
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The project name (`flow.<project>` is the default event source).
    pub project: String,
}

impl CheckOptions {
    /// Options for a project at `path`: its name is the directory name.
    pub fn for_path(path: &std::path::Path) -> Self {
        let dir = if path.is_dir() {
            path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
        } else {
            path.canonicalize()
                .ok()
                .and_then(|p| p.parent().map(|p| p.to_path_buf()))
                .unwrap_or_default()
        };
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "project".to_string());
        CheckOptions {
            project: sanitize_project(&name),
        }
    }
}

/// Lowercase letters, digits and dashes: safe in sources and AWS names.
pub fn sanitize_project(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches('-');
    if trimmed.is_empty() {
        "project".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The result of checking a project.
#[derive(Debug, Default)]
pub struct Checked {
    /// Present when the project has no errors.
    pub model: Option<model::Model>,
    pub diagnostics: Diagnostics,
}

/// Parses and checks every file of a project.
pub fn check(sources: &SourceSet, options: &CheckOptions) -> Checked {
    let mut diagnostics = Diagnostics::default();
    let mut files: Vec<ast::File> = Vec::new();
    for (id, file) in sources.iter() {
        let (ast, ds) = syntax::parse_file(id, file);
        diagnostics.0.extend(ds);
        files.extend(ast);
    }
    let _ = options;
    diagnostics.sort();
    Checked {
        model: None,
        diagnostics,
    }
}
