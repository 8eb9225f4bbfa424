//! Conversions between the analysis (byte spans, compiler diagnostics) and
//! the protocol's types (UTF-16 ranges, `file://` URIs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tower_lsp_server::ls_types as lsp;

use super::state::Snapshot;
use crate::analysis::{self, CompletionKind, DocumentSymbol, SymbolKind};
use crate::diagnostic::{Diagnostic, Severity};
use crate::syntax::span::{FileId, Span};

pub fn uri(path: &Path) -> Option<lsp::Uri> {
    lsp::Uri::from_file_path(path)
}

pub fn path(uri: &lsp::Uri) -> Option<PathBuf> {
    if uri.scheme().as_str() != "file" {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

pub fn position(snapshot: &Snapshot, file: FileId, offset: usize) -> lsp::Position {
    let text = snapshot.analysis.text(file);
    let p = snapshot
        .line_index(file)
        .map(|index| index.position(text, offset))
        .unwrap_or_default();
    lsp::Position::new(p.line, p.character)
}

pub fn offset(snapshot: &Snapshot, file: FileId, position: lsp::Position) -> usize {
    let text = snapshot.analysis.text(file);
    snapshot.line_index(file).map_or(0, |index| {
        index.offset(
            text,
            analysis::Position::new(position.line, position.character),
        )
    })
}

pub fn range(snapshot: &Snapshot, span: Span) -> lsp::Range {
    lsp::Range::new(
        position(snapshot, span.file, span.start as usize),
        position(snapshot, span.file, span.end as usize),
    )
}

pub fn location(snapshot: &Snapshot, span: Span) -> Option<lsp::Location> {
    let path = snapshot.path(span.file)?;
    Some(lsp::Location::new(uri(path)?, range(snapshot, span)))
}

/// The project's diagnostics, grouped by the file of their primary label
/// (a diagnostic without a label goes to the project's first file).
pub fn diagnostics(snapshot: &Snapshot) -> BTreeMap<PathBuf, Vec<lsp::Diagnostic>> {
    let mut out: BTreeMap<PathBuf, Vec<lsp::Diagnostic>> = BTreeMap::new();
    for d in snapshot.analysis.diagnostics.iter() {
        let span = d.primary_span().unwrap_or_default();
        let Some(path) = snapshot.path(span.file) else {
            continue;
        };
        out.entry(path.to_path_buf())
            .or_default()
            .push(diagnostic(snapshot, d, span));
    }
    out
}

fn diagnostic(snapshot: &Snapshot, d: &Diagnostic, span: Span) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    if let Some(primary) = d.labels.iter().find(|l| l.primary && !l.message.is_empty()) {
        message.push_str(&format!("\n{}", primary.message));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| !l.primary)
        .filter_map(|l| {
            Some(lsp::DiagnosticRelatedInformation {
                location: location(snapshot, l.span)?,
                message: l.message.clone(),
            })
        })
        .collect();
    lsp::Diagnostic {
        range: range(snapshot, span),
        severity: Some(match d.severity {
            Severity::Bug | Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.as_str().to_string())),
        code_description: d
            .code
            .doc_url()
            .parse::<lsp::Uri>()
            .ok()
            .map(|href| lsp::CodeDescription { href }),
        source: Some("flowc".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be given.
pub fn document_symbol(snapshot: &Snapshot, symbol: &DocumentSymbol) -> lsp::DocumentSymbol {
    let children: Vec<lsp::DocumentSymbol> = symbol
        .children
        .iter()
        .map(|c| document_symbol(snapshot, c))
        .collect();
    lsp::DocumentSymbol {
        name: symbol.name.clone(),
        detail: symbol.detail.clone(),
        kind: symbol_kind(symbol.kind),
        tags: None,
        deprecated: None,
        range: range(snapshot, symbol.span),
        selection_range: range(snapshot, symbol.selection),
        children: (!children.is_empty()).then_some(children),
    }
}

fn symbol_kind(kind: SymbolKind) -> lsp::SymbolKind {
    match kind {
        SymbolKind::Event => lsp::SymbolKind::STRUCT,
        SymbolKind::Trigger => lsp::SymbolKind::EVENT,
        SymbolKind::Node => lsp::SymbolKind::FUNCTION,
        SymbolKind::Route => lsp::SymbolKind::INTERFACE,
        SymbolKind::Flow => lsp::SymbolKind::NAMESPACE,
        SymbolKind::App => lsp::SymbolKind::MODULE,
        SymbolKind::Sink => lsp::SymbolKind::OBJECT,
        SymbolKind::Test => lsp::SymbolKind::METHOD,
        SymbolKind::Record => lsp::SymbolKind::STRUCT,
        SymbolKind::Field => lsp::SymbolKind::FIELD,
        SymbolKind::Parameter => lsp::SymbolKind::PROPERTY,
    }
}

pub fn completion(item: &analysis::Completion) -> lsp::CompletionItem {
    lsp::CompletionItem {
        label: item.label.clone(),
        kind: Some(match item.kind {
            CompletionKind::Keyword => lsp::CompletionItemKind::KEYWORD,
            CompletionKind::Event => lsp::CompletionItemKind::STRUCT,
            CompletionKind::Node => lsp::CompletionItemKind::FUNCTION,
            CompletionKind::Flow => lsp::CompletionItemKind::MODULE,
            CompletionKind::NodeKind => lsp::CompletionItemKind::CLASS,
            CompletionKind::Parameter => lsp::CompletionItemKind::PROPERTY,
            CompletionKind::Field => lsp::CompletionItemKind::FIELD,
        }),
        detail: item.detail.clone(),
        ..lsp::CompletionItem::default()
    }
}

/// Edits grouped by file, as a workspace edit.
pub fn workspace_edit(snapshot: &Snapshot, edits: &[(Span, String)]) -> lsp::WorkspaceEdit {
    let mut changes: std::collections::HashMap<lsp::Uri, Vec<lsp::TextEdit>> =
        std::collections::HashMap::new();
    for (span, text) in edits {
        let Some(location) = location(snapshot, *span) else {
            continue;
        };
        changes
            .entry(location.uri)
            .or_default()
            .push(lsp::TextEdit::new(location.range, text.clone()));
    }
    lsp::WorkspaceEdit {
        changes: Some(changes),
        ..lsp::WorkspaceEdit::default()
    }
}
