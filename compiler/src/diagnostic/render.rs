//! Rendering diagnostics: human text through miette's graphical handler,
//! and one JSON object per line for editors and CI.
//!
//! Invariant: rendering never fails on a span outside its file; such a span
//! is clamped (and would be a compiler bug, caught by the fuzz tests).

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde_json::json;

use super::{Diagnostic, Label, Severity};
use crate::source::SourceSet;
use crate::syntax::span::Span;

/// How to draw text diagnostics.
#[derive(Clone, Copy, Debug)]
pub struct TextStyle {
    pub color: bool,
    pub unicode: bool,
    pub width: usize,
}

impl Default for TextStyle {
    fn default() -> Self {
        TextStyle {
            color: false,
            unicode: true,
            width: 100,
        }
    }
}

impl TextStyle {
    /// The miette handler that draws reports in this style.
    pub fn handler(self) -> GraphicalReportHandler {
        let theme = match (self.unicode, self.color) {
            (true, true) => GraphicalTheme::unicode(),
            (true, false) => GraphicalTheme::unicode_nocolor(),
            (false, true) => GraphicalTheme::ascii(),
            (false, false) => GraphicalTheme::none(),
        };
        GraphicalReportHandler::new_themed(theme)
            .with_width(self.width)
            .with_links(false)
    }
}

/// Renders one diagnostic as text, with its source snippets.
pub fn render_text(diagnostic: &Diagnostic, sources: &SourceSet, style: TextStyle) -> String {
    let handler = style.handler();
    let report = Report::build(diagnostic, sources);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        out = format!("{}: {}\n", diagnostic.code, diagnostic.message);
    }
    out
}

/// Renders every diagnostic plus a closing summary line.
pub fn render_all_text(
    diagnostics: &[Diagnostic],
    sources: &SourceSet,
    style: TextStyle,
) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&render_text(d, sources, style));
        out.push('\n');
    }
    out
}

/// One JSON object (no newline) for a diagnostic; positions are 1-based
/// lines and columns counted in characters, offsets and lengths in bytes.
pub fn render_json(diagnostic: &Diagnostic, sources: &SourceSet) -> serde_json::Value {
    let primary = diagnostic.primary_span();
    let mut object = position_json(primary, sources);
    let labels: Vec<serde_json::Value> = diagnostic
        .labels
        .iter()
        .map(|label| {
            let mut value = position_json(Some(label.span), sources);
            value["message"] = json!(label.message);
            value["primary"] = json!(label.primary);
            value
        })
        .collect();
    object["code"] = json!(diagnostic.code.as_str());
    object["severity"] = json!(diagnostic.severity.as_str());
    object["message"] = json!(diagnostic.message);
    object["labels"] = json!(labels);
    object["help"] = json!(diagnostic.help);
    object["url"] = json!(diagnostic.code.doc_url());
    object
}

fn position_json(span: Option<Span>, sources: &SourceSet) -> serde_json::Value {
    let Some(span) = span else {
        return json!({ "file": null, "line": null, "column": null, "end_line": null,
                       "end_column": null, "offset": null, "length": null });
    };
    let Some(file) = sources.get(span.file) else {
        return json!({ "file": null });
    };
    let (line, column) = file.line_col(span.start as usize);
    let (end_line, end_column) = file.line_col(span.end as usize);
    json!({
        "file": file.path,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "offset": span.start,
        "length": span.len(),
    })
}

/// A diagnostic bound to its source text, in the shape miette renders.
#[derive(Debug)]
struct Report {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report>,
}

impl Report {
    fn build(diagnostic: &Diagnostic, sources: &SourceSet) -> Report {
        let home = diagnostic.primary_span().map(|s| s.file);
        let (local, elsewhere): (Vec<&Label>, Vec<&Label>) = diagnostic
            .labels
            .iter()
            .partition(|l| Some(l.span.file) == home);
        let source = home.and_then(|f| sources.get(f)).map(|file| {
            NamedSource::new(file.path.clone(), file.text.clone()).with_language("flow")
        });
        let text_len = source.as_ref().map_or(0, |s| s.inner().len());
        let labels = local.iter().map(|l| labeled(l, text_len)).collect();
        let related = elsewhere
            .iter()
            .filter_map(|label| {
                let file = sources.get(label.span.file)?;
                Some(Report {
                    message: format!("{} ({})", label.message, sources.describe(label.span)),
                    code: None,
                    severity: miette::Severity::Advice,
                    help: None,
                    source: Some(NamedSource::new(file.path.clone(), file.text.clone())),
                    labels: vec![labeled(label, file.text.len())],
                    related: Vec::new(),
                })
            })
            .collect();
        Report {
            message: diagnostic.message.clone(),
            code: Some(diagnostic.code.as_str().to_string()),
            severity: match diagnostic.severity {
                Severity::Warning => miette::Severity::Warning,
                Severity::Error | Severity::Bug => miette::Severity::Error,
            },
            help: diagnostic.help.clone(),
            source,
            labels,
            related,
        }
    }
}

fn labeled(label: &Label, text_len: usize) -> LabeledSpan {
    let start = (label.span.start as usize).min(text_len);
    let end = (label.span.end as usize).clamp(start, text_len);
    let text = if label.message.is_empty() {
        None
    } else {
        Some(label.message.clone())
    };
    if label.primary {
        LabeledSpan::new_primary_with_span(text, (start, end - start))
    } else {
        LabeledSpan::new_with_span(text, (start, end - start))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}
