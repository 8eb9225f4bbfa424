//! Handlebars templates (summarizer prompts, sink keys and bodies): parsed
//! with the handlebars crate (E006); every variable path is checked against
//! the event the template renders (E013).
//! Invariant: blocks that change the context (`each`, `with`) are checked
//! at their argument only; their bodies read another scope.

use handlebars::template::{HelperTemplate, Parameter, Template, TemplateElement};
use handlebars::Path;

use super::model::Schema;
use super::types::resolve_path;
use super::Ctx;
use crate::diagnostic::{Code, Diagnostic};
use crate::syntax::ast::{self, Span, Spanned};

const BUILTIN_HELPERS: [&str; 16] = [
    "if", "unless", "each", "with", "lookup", "eq", "ne", "gt", "gte", "lt", "lte", "and", "or",
    "not", "len", "log",
];

impl Ctx<'_> {
    /// Checks `template` (a string literal) against `schema` of `event`.
    pub(super) fn check_template(
        &mut self,
        template: &Spanned<String>,
        event: &str,
        schema: &Schema,
    ) {
        let parsed = match Template::compile(&template.node) {
            Ok(t) => t,
            Err(err) => {
                self.template_error(template, &err);
                return;
            }
        };
        let mut paths = Vec::new();
        collect_paths(&parsed, &mut paths);
        let raw = self.text(template.span).to_string();
        let mut cursor = 0;
        for path in paths {
            // Point at the variable inside the literal when it can be found.
            let span = match raw[cursor.min(raw.len())..].find(&path) {
                Some(i) => {
                    let start = template.span.start as usize + cursor + i;
                    cursor += i + path.len();
                    Span::new(template.span.file, start..start + path.len())
                }
                None => template.span,
            };
            let segments: Vec<ast::Name> = path
                .split(['.', '/'])
                .map(|s| Spanned::new(s.to_string(), span))
                .collect();
            if let Err(d) = resolve_path(schema, event, &segments) {
                // Segment spans are the whole variable; keep the message.
                let d = Diagnostic {
                    labels: vec![crate::diagnostic::Label {
                        span,
                        message: "in this template variable".to_string(),
                        primary: true,
                    }],
                    ..d
                };
                self.push(d);
            }
        }
    }
}

impl Ctx<'_> {
    /// E006 at the place the template stops parsing, in words a user reads.
    fn template_error(&mut self, template: &Spanned<String>, err: &handlebars::TemplateError) {
        use handlebars::TemplateErrorReason as R;
        let what = match err.reason() {
            R::MismatchingClosedHelper(open, close) => {
                format!("`{{{{#{open}}}}}` is closed by `{{{{/{close}}}}}`")
            }
            R::InvalidParam(p) => format!("`{p}` is not a valid parameter"),
            R::NestedSubexpression => "nested subexpressions are not supported".to_string(),
            _ => "the template does not parse here".to_string(),
        };
        // Map the template's line and column to the source when the literal
        // is a plain string written on one line (no escapes to shift it).
        let raw = self.text(template.span);
        let plain = raw.starts_with('"') && !raw.starts_with("\"\"\"") && !raw.contains('\\');
        let span = match err.pos() {
            Some((1, col)) if plain => {
                let start = template.span.start as usize + col.max(1);
                let end = (start + 2).min(template.span.end as usize);
                crate::syntax::span::Span::new(template.span.file, start.min(end)..end)
            }
            _ => template.span,
        };
        self.push(
            Diagnostic::new(Code::InvalidTemplate, format!("invalid handlebars template: {what}"))
                .primary(span, "here")
                .help("write variables as `{{profile.user_id}}`, close every `{{#if}}` with `{{/if}}`, and write `\\{{` for a literal `{{`"),
        );
    }
}

/// Variable paths the template reads in the event's own scope.
fn collect_paths(template: &Template, out: &mut Vec<String>) {
    for element in &template.elements {
        match element {
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                helper_paths(h, out, false);
            }
            TemplateElement::HelperBlock(h) => helper_paths(h, out, true),
            _ => {}
        }
    }
}

fn helper_paths(helper: &HelperTemplate, out: &mut Vec<String>, block: bool) {
    let name = match &helper.name {
        Parameter::Name(n) => Some(n.clone()),
        Parameter::Path(p) => Some(raw_path(p).to_string()),
        _ => None,
    };
    let is_helper = name
        .as_deref()
        .is_some_and(|n| BUILTIN_HELPERS.contains(&n));
    if !is_helper && helper.params.is_empty() && !block {
        if let Some(n) = name {
            push_path(&n, out);
        }
        return;
    }
    for param in &helper.params {
        param_paths(param, out);
    }
    for param in helper.hash.values() {
        param_paths(param, out);
    }
    let scoped = matches!(name.as_deref(), Some("each" | "with"));
    if !scoped {
        if let Some(t) = &helper.template {
            collect_paths(t, out);
        }
        if let Some(t) = &helper.inverse {
            collect_paths(t, out);
        }
    }
}

fn param_paths(param: &Parameter, out: &mut Vec<String>) {
    match param {
        Parameter::Path(p) => push_path(raw_path(p), out),
        Parameter::Name(n) => push_path(n, out),
        Parameter::Subexpression(sub) => {
            if let TemplateElement::Expression(h) = sub.element.as_ref() {
                helper_paths(h, out, false);
            }
        }
        _ => {}
    }
}

fn raw_path(path: &Path) -> &str {
    match path {
        Path::Relative((_, raw)) => raw,
        Path::Local((_, _, raw)) => raw,
    }
}

fn push_path(raw: &str, out: &mut Vec<String>) {
    let skip = raw.is_empty()
        || raw.starts_with('@')
        || raw.starts_with("this")
        || raw.starts_with("..")
        || raw.starts_with('.');
    if !skip {
        out.push(raw.to_string());
    }
}
