//! Analysis for editors: what the language server asks about a project,
//! answered from the checker's results without any protocol types.
//!
//! Input: a [`SourceSet`] (the files of one project, with unsaved text
//! already substituted by the caller). Output: an [`Analysis`] that holds
//! the diagnostics of `flowc check`, the model as far as checking got, the
//! ASTs (recovered where a file does not parse) and the symbol index, and
//! answers hover, definition, references, rename, completion and document
//! symbols at byte offsets.
//! Invariant: no IO and no panics on any offset; positions are bytes here
//! and converted to the protocol's UTF-16 by [`LineIndex`].

pub mod complete;
pub mod hover;
pub mod index;
pub mod line_index;
pub mod recover;
pub mod symbols;

use crate::check::{self, model::Model, CheckOptions};
use crate::diagnostic::Diagnostics;
use crate::source::SourceSet;
use crate::syntax;
use crate::syntax::ast::{self, FileId, Span};

pub use complete::{Completion, CompletionKind};
pub use hover::Hover;
pub use index::{FieldKey, Index, NameKind, Occurrence, Symbol};
pub use line_index::{LineIndex, Position};
pub use symbols::{DocumentSymbol, SymbolKind};

/// One checked project and everything an editor asks about it.
#[derive(Debug)]
pub struct Analysis {
    pub sources: SourceSet,
    /// Exactly what `flowc check` reports.
    pub diagnostics: Diagnostics,
    /// The model as far as checking got (complete when there are no
    /// errors), with the declarations that parse of files that do not.
    pub model: Model,
    /// The ASTs of the files (recovered where a file does not parse; a
    /// file of which nothing parsed has none).
    pub files: Vec<ast::File>,
    pub index: Index,
}

impl Analysis {
    pub fn new(sources: SourceSet, options: &CheckOptions) -> Analysis {
        // Parse once: the checker gets exactly what `flowc check` gives it
        // (the files that parse); the index also gets what parses of the
        // others.
        let mut files = Vec::new();
        let mut recovered = Vec::new();
        let mut parse_diagnostics = Vec::new();
        for (id, file) in sources.iter() {
            let (ast, ds) = syntax::parse_file(id, file);
            match ast {
                Some(ast) => files.push(ast),
                None => recovered.extend(recover::recover(id, file, &ds)),
            }
            parse_diagnostics.extend(ds);
        }
        let (mut model, diagnostics) =
            check::check_parsed(&sources, options, &files, parse_diagnostics);
        if !recovered.is_empty() {
            // While a file is being typed it rarely parses; the events its
            // other declarations derive are still wanted for hover and
            // completion, so the editor's model also checks what was
            // recovered (the diagnostics stay those of `flowc check`).
            files.extend(recovered);
            model = check::check_parsed(&sources, options, &files, Vec::new()).0;
        }
        let index = Index::build(&files, &model, &sources);
        Analysis {
            sources,
            diagnostics,
            model,
            files,
            index,
        }
    }

    /// The file with this path (as given in the source set).
    pub fn file_id(&self, path: &str) -> Option<FileId> {
        self.sources
            .iter()
            .find(|(_, f)| f.path == path)
            .map(|(id, _)| id)
    }

    pub fn text(&self, file: FileId) -> &str {
        self.sources.get(file).map_or("", |f| f.text.as_str())
    }

    /// The declaration of the symbol at `offset`.
    pub fn definition(&self, file: FileId, offset: usize) -> Option<Span> {
        let occurrence = self.index.at(file, offset)?;
        self.index.definition(&occurrence.symbol)
    }

    /// Every occurrence of the symbol at `offset`, with or without its
    /// declaration.
    pub fn references(&self, file: FileId, offset: usize, with_declaration: bool) -> Vec<Span> {
        let Some(occurrence) = self.index.at(file, offset) else {
            return Vec::new();
        };
        let definition = self.index.definition(&occurrence.symbol);
        self.index
            .references(&occurrence.symbol)
            .filter(|o| with_declaration || Some(o.span) != definition)
            .map(|o| o.span)
            .collect()
    }

    /// The span of the name a rename at `offset` would change, and the name.
    pub fn prepare_rename(&self, file: FileId, offset: usize) -> Option<(Span, String)> {
        let occurrence = self.index.at(file, offset)?;
        match &occurrence.symbol {
            Symbol::Name(name) if self.index.name_kind(name).is_some() => {
                Some((occurrence.span, name.clone()))
            }
            _ => None,
        }
    }

    /// The edits that rename the name at `offset` to `new_name` in every
    /// file of the project.
    pub fn rename(
        &self,
        file: FileId,
        offset: usize,
        new_name: &str,
    ) -> Result<Vec<(Span, String)>, String> {
        let Some((_, old)) = self.prepare_rename(file, offset) else {
            return Err(
                "only events, nodes, triggers, routes, flows and apps can be renamed".into(),
            );
        };
        if !is_identifier(new_name) {
            return Err(format!("`{new_name}` is not a valid name"));
        }
        if recover::TOP_LEVEL.contains(&new_name) || KEYWORDS.contains(&new_name) {
            return Err(format!("`{new_name}` is a keyword"));
        }
        if new_name != old && self.index.name_kind(new_name).is_some() {
            return Err(format!("`{new_name}` is already declared"));
        }
        let symbol = Symbol::Name(old);
        Ok(self
            .index
            .references(&symbol)
            .map(|o| (o.span, new_name.to_string()))
            .collect())
    }

    pub fn hover(&self, file: FileId, offset: usize) -> Option<Hover> {
        hover::hover(self, file, offset)
    }

    pub fn completions(&self, file: FileId, offset: usize) -> Vec<Completion> {
        complete::completions(self, file, offset)
    }

    pub fn document_symbols(&self, file: FileId) -> Vec<DocumentSymbol> {
        self.ast(file)
            .map_or_else(Vec::new, symbols::document_symbols)
    }

    /// The AST of a file, if any of it parsed.
    pub fn ast(&self, file: FileId) -> Option<&ast::File> {
        self.files.iter().find(|f| f.file == file)
    }

    /// The declaration that contains `offset`, if the file parsed there.
    pub fn decl_at(&self, file: FileId, offset: usize) -> Option<&ast::Decl> {
        let ast = self.ast(file)?;
        ast.decls.iter().find(|d| {
            let span = d.span();
            span.start as usize <= offset && offset <= span.end as usize
        })
    }
}

/// Reserved words other than the top-level keywords (see docs/language.md).
pub const KEYWORDS: [&str; 25] = [
    "when",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "null",
    "exists",
    "starts_with",
    "ends_with",
    "matches",
    "cidr",
    "ignore_case",
    "events",
    "max_hops",
    "sink",
    "given",
    "expect",
    "advance",
    "at",
    "none",
    "state",
    "nodes",
    "flows",
];

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
