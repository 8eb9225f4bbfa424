//! Hover text: an event's schema, a node's kind, inputs, outputs and
//! thresholds, a field's type, a route's EventBridge pattern. Markdown with
//! `flow` code blocks.

use std::fmt::Write as _;

use super::index::{NameKind, Symbol};
use super::Analysis;
use crate::check::model::{Event, EventOrigin, Record, Route, Type, ENVELOPE};
use crate::syntax::ast::{self, FileId, Span};

/// Markdown and the span it is about.
#[derive(Clone, Debug, PartialEq)]
pub struct Hover {
    pub markdown: String,
    pub span: Span,
}

pub fn hover(analysis: &Analysis, file: FileId, offset: usize) -> Option<Hover> {
    let Some(occurrence) = analysis.index.at(file, offset) else {
        return route_hover(analysis, file, offset);
    };
    let markdown = match (&occurrence.symbol, &occurrence.path) {
        (Symbol::Field(_), Some((event, path))) => field_hover(analysis, event, path)?,
        (Symbol::Name(name), _) => name_hover(analysis, name)?,
        _ => return None,
    };
    Some(Hover {
        markdown,
        span: occurrence.span,
    })
}

fn name_hover(analysis: &Analysis, name: &str) -> Option<String> {
    match analysis.index.name_kind(name)? {
        NameKind::Event | NameKind::DerivedEvent => match analysis.model.events.get(name) {
            Some(event) => Some(event_hover(event)),
            None => Some(format!(
                "```flow\nevent {name}\n```\n(its schema is unknown: it has errors)"
            )),
        },
        NameKind::Node => node_hover(analysis, name),
        NameKind::Route => {
            let route = analysis.model.routes.iter().find(|r| r.name == name)?;
            Some(pattern_markdown(route))
        }
        kind => {
            let span = analysis.index.definition(&Symbol::Name(name.to_string()))?;
            let decl = decl_with_name(analysis, span)?;
            let text = one_line(source_text(analysis, decl.span()), 300);
            Some(format!("```flow\n{text}\n```\n{}", kind.describe()))
        }
    }
}

/// The schema of an event, one field per line.
pub fn event_hover(event: &Event) -> String {
    let mut out = String::from("```flow\n");
    let _ = writeln!(out, "event {} {{", event.name);
    let _ = writeln!(out, "  source      {:?}", event.source);
    let _ = writeln!(out, "  detail_type {:?}", event.detail_type);
    for name in ENVELOPE {
        let record = event.schema.record(name).cloned().unwrap_or_default();
        if record.fields.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {name} {{");
        write_fields(&mut out, &record, 4);
        let _ = writeln!(out, "  }}");
    }
    out.push_str("}\n```\n");
    match &event.origin {
        EventOrigin::Declared => out.push_str("declared event"),
        EventOrigin::Emitted { node } => {
            let _ = write!(out, "derived event, emitted by `{node}`");
        }
    }
    out
}

fn write_fields(out: &mut String, record: &Record, indent: usize) {
    for field in &record.fields {
        let mark = if field.optional { "?" } else { "" };
        let _ = writeln!(out, "{:indent$}{}: {}{}", "", field.name, field.ty, mark);
    }
}

fn node_hover(analysis: &Analysis, name: &str) -> Option<String> {
    let span = analysis.index.definition(&Symbol::Name(name.to_string()))?;
    let Some(ast::Decl::Node(decl)) = decl_with_name(analysis, span) else {
        return None;
    };
    let inputs: Vec<&str> = decl.inputs.iter().map(|i| i.node.as_str()).collect();
    let mut outputs: Vec<String> = decl.outputs.iter().map(|o| o.node.clone()).collect();
    if let Some(node) = analysis.model.nodes.get(name) {
        for output in &node.outputs {
            if !outputs.contains(output) {
                outputs.push(output.clone());
            }
        }
    }
    for param in &decl.params {
        if let ast::ParamValue::Emit(emit) = &param.value {
            if !outputs.contains(&emit.event.node) {
                outputs.push(emit.event.node.clone());
            }
        }
    }
    let mut out = String::from("```flow\n");
    let _ = write!(
        out,
        "{} {} = {}({})",
        decl.class.node.keyword(),
        decl.name.node,
        decl.kind.node,
        inputs.join(", ")
    );
    if !outputs.is_empty() {
        let _ = write!(out, " -> {}", outputs.join(", "));
    }
    out.push('\n');
    for param in &decl.params {
        if SHOWN_PARAMS.contains(&param.name.node.as_str()) {
            let _ = writeln!(
                out,
                "  {}",
                one_line(source_text(analysis, param.span), 120)
            );
        }
    }
    out.push_str("```\n");
    let stateful = analysis
        .model
        .nodes
        .get(name)
        .is_some_and(|n| n.kind.is_stateful());
    let _ = write!(
        out,
        "{} node{}",
        decl.kind.node,
        if stateful {
            ", keeps state per key"
        } else {
            ""
        }
    );
    Some(out)
}

/// Parameters worth seeing at a glance (thresholds, keys, inputs read).
const SHOWN_PARAMS: [&str; 13] = [
    "key",
    "every",
    "window",
    "over",
    "content",
    "order_by",
    "image",
    "media",
    "model",
    "max_tokens",
    "language",
    "timeout",
    "lambda",
];

fn field_hover(analysis: &Analysis, event: &str, path: &[String]) -> Option<String> {
    let schema = &analysis.model.events.get(event)?.schema;
    let first = path.first()?;
    let mut ty = Type::Record(schema.record(first)?.clone());
    let mut optional = false;
    let mut through_list = false;
    for name in &path[1..] {
        let record = ty.element().as_record()?;
        let field = record.get(name)?;
        optional |= field.optional;
        through_list |= matches!(field.ty, Type::List(_)) || matches!(ty, Type::List(_));
        ty = field.ty.clone();
    }
    let mark = if optional { "?" } else { "" };
    let mut out = format!(
        "```flow\n{}: {ty}{mark}\n```\nfield of `{event}`",
        path.join(".")
    );
    if optional {
        out.push_str(", may be absent");
    }
    if through_list {
        out.push_str(", through a list (any element matches)");
    }
    if let Some(record) = ty.element().as_record() {
        if !record.fields.is_empty() && path.len() > 1 {
            out.push_str("\n```flow\n");
            write_fields(&mut out, &record, 0);
            out.push_str("```");
        }
    }
    Some(out)
}

/// Anywhere else in a route: its EventBridge pattern.
fn route_hover(analysis: &Analysis, file: FileId, offset: usize) -> Option<Hover> {
    let Some(ast::Decl::Route(decl)) = analysis.decl_at(file, offset) else {
        return None;
    };
    let route = analysis.model.routes.iter().find(|r| {
        !r.implicit
            && r.span.file == file
            && decl.span.start <= r.span.start
            && r.span.end <= decl.span.end
    })?;
    Some(Hover {
        markdown: pattern_markdown(route),
        span: decl.span,
    })
}

fn pattern_markdown(route: &Route) -> String {
    let pattern = serde_json::to_string_pretty(&route.pattern).unwrap_or_default();
    let targets = route.targets.join(", ");
    format!(
        "```flow\nroute {} = {} -> {targets}\n```\nEventBridge pattern:\n```json\n{pattern}\n```",
        route.name, route.event
    )
}

fn decl_with_name(analysis: &Analysis, span: Span) -> Option<&ast::Decl> {
    analysis.decl_at(span.file, span.start as usize)
}

fn source_text(analysis: &Analysis, span: Span) -> &str {
    analysis
        .sources
        .get(span.file)
        .and_then(|f| f.text.get(span.range()))
        .unwrap_or("")
}

/// Whitespace runs collapsed, cut at `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > max {
        let cut: String = joined.chars().take(max).collect();
        format!("{cut}…")
    } else {
        joined
    }
}
