//! Checking: AST → [`model::Model`]. Resolves names, infers and checks
//! types, compiles route conditions to EventBridge patterns and checks the
//! graph as a whole.
//!
//! Input: the ASTs of every file of one project. Output: the model (when
//! there are no errors) and every diagnostic, sorted by position.
//! Invariant: one root cause gives one diagnostic — a name that failed to
//! resolve is remembered and not reported again downstream.

mod apps;
mod condition;
mod graph;
pub mod model;
mod nodes;
mod params;
mod resolve;
mod template;
mod types;

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::SourceSet;
use crate::syntax::{self, ast};

pub use types::{resolve_path, Resolved};

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
    let (model, diagnostics) = check_partial(sources, options);
    let model = (!diagnostics.has_errors()).then_some(model);
    Checked { model, diagnostics }
}

/// Like [`check`], but always returns the model, as far as checking got:
/// declarations that failed are missing from it. Editors use it to show
/// schemas and nodes while a project still has errors.
pub fn check_partial(sources: &SourceSet, options: &CheckOptions) -> (model::Model, Diagnostics) {
    let mut diagnostics = Vec::new();
    let mut files: Vec<ast::File> = Vec::new();
    for (id, file) in sources.iter() {
        let (ast, ds) = syntax::parse_file(id, file);
        diagnostics.extend(ds);
        files.extend(ast);
    }
    check_parsed(sources, options, &files, diagnostics)
}

/// [`check_partial`] of files already parsed with [`syntax::parse_file`]
/// (`files`: the ASTs of those that parsed; `diagnostics`: every parse
/// diagnostic), so that a caller who also needs the ASTs parses once.
pub fn check_parsed(
    sources: &SourceSet,
    options: &CheckOptions,
    files: &[ast::File],
    diagnostics: Vec<Diagnostic>,
) -> (model::Model, Diagnostics) {
    let mut diagnostics = Diagnostics(diagnostics);
    let project = if options.project.is_empty() {
        "project".to_string()
    } else {
        options.project.clone()
    };
    let mut ctx = Ctx {
        sources,
        diagnostics: Vec::new(),
        model: model::Model {
            project,
            ..model::Model::default()
        },
        poisoned: BTreeSet::new(),
        stuck_nodes: BTreeSet::new(),
        unknown_names: Vec::new(),
    };
    ctx.check_files(files);
    diagnostics.0.extend(ctx.diagnostics);
    diagnostics.sort();
    (ctx.model, diagnostics)
}

/// The node kinds, with the class each belongs to (`None`: any class).
pub fn node_kinds() -> impl Iterator<Item = (&'static str, Option<ast::NodeClass>)> {
    nodes::KINDS.iter().copied()
}

/// The required and optional parameters of a node kind (an unknown kind
/// gets those of `custom`).
pub fn node_parameters(kind: &str) -> (&'static [&'static str], &'static [&'static str]) {
    let spec = nodes::spec(kind);
    (spec.required, spec.optional)
}

/// State shared by the checking passes.
pub(crate) struct Ctx<'a> {
    pub sources: &'a SourceSet,
    pub diagnostics: Vec<Diagnostic>,
    pub model: model::Model,
    /// Names whose declaration failed; uses of them are not reported again.
    pub poisoned: BTreeSet<String>,
    /// Nodes whose inputs never got a shape (they wait on their own output).
    pub stuck_nodes: BTreeSet<String>,
    /// Event names referenced but never declared (reported as E011).
    pub unknown_names: Vec<String>,
}

impl Ctx<'_> {
    pub fn push(&mut self, mut diagnostic: Diagnostic) {
        // Messages are built from type and kind names ("a {ty}"); fix the
        // article once here instead of at every format string.
        diagnostic.message = fix_articles(&diagnostic.message);
        diagnostic.help = diagnostic.help.map(|h| fix_articles(&h));
        for label in &mut diagnostic.labels {
            label.message = fix_articles(&label.message);
        }
        self.diagnostics.push(diagnostic);
    }

    /// The source text a span covers.
    pub fn text(&self, span: ast::Span) -> &str {
        self.sources
            .get(span.file)
            .and_then(|f| f.text.get(span.range()))
            .unwrap_or("")
    }

    fn check_files(&mut self, files: &[ast::File]) {
        let decls = resolve::Decls::collect(self, files);
        for event in &decls.events {
            self.declare_event(event);
        }
        for trigger in &decls.triggers {
            self.check_trigger(trigger);
        }
        self.check_nodes(&decls);
        self.check_routes(&decls);
        self.check_graph(&decls);
        self.check_flows(&decls);
        self.check_apps(&decls);
        self.check_tests(&decls);
    }

    fn declare_event(&mut self, decl: &ast::EventDecl) {
        let schema = self.lower_event_schema(decl);
        let source = decl
            .source
            .as_ref()
            .map(|s| s.node.clone())
            .unwrap_or_else(|| format!("flow.{}", self.model.project));
        let detail_type = decl
            .detail_type
            .as_ref()
            .map(|s| s.node.clone())
            .unwrap_or_else(|| decl.name.node.clone());
        for (what, value) in [("source", &decl.source), ("detail_type", &decl.detail_type)] {
            if let Some(v) = value {
                if v.node.is_empty() || v.node.len() > 256 {
                    let d = Diagnostic::new(
                        crate::diagnostic::Code::InvalidOperand,
                        format!("`{what}` must be 1 to 256 characters"),
                    )
                    .primary(v.span, "EventBridge rejects this value")
                    .help(format!("give the event a non-empty, shorter `{what}`"));
                    self.push(d);
                }
            }
        }
        self.model.events.insert(
            decl.name.node.clone(),
            model::Event {
                name: decl.name.node.clone(),
                source,
                detail_type,
                schema,
                origin: model::EventOrigin::Declared,
                span: decl.name.span,
            },
        );
    }

    /// Event names known so far, for "did you mean".
    pub fn event_names(&self) -> Vec<String> {
        self.model.events.keys().cloned().collect()
    }
}

/// "a int" → "an int", "a `every`" → "an `every`" (vowel letters a, e, i, o;
/// "a union" stays).
fn fix_articles(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("a ") {
        let at_word_start =
            i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        let next = rest[i + 2..].trim_start_matches('`').chars().next();
        out.push_str(&rest[..i]);
        if at_word_start && next.is_some_and(|c| matches!(c, 'a' | 'e' | 'i' | 'o')) {
            out.push_str("an ");
        } else {
            out.push_str("a ");
        }
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod article_tests {
    #[test]
    fn articles_follow_the_next_word() {
        assert_eq!(
            super::fix_articles("is a int, a object, a `every` and a union"),
            "is an int, an object, an `every` and a union"
        );
        assert_eq!(super::fix_articles("data a event"), "data an event");
        assert_eq!(super::fix_articles("a string"), "a string");
    }
}
