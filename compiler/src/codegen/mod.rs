//! Backends: the checked model → the artifacts of `flowc build`.
//! Input: a checked `Model` without errors. Output: [`Outputs`], a map from
//! relative path to file content; the CLI writes it.
//! Invariant: codegen never raises user errors; whatever it could reject,
//! `check` rejects first. Output is deterministic (sorted maps, no clocks).

pub mod cfn;
pub mod graph;
pub mod schema;

use std::collections::BTreeMap;

use crate::check::model::Model;
use crate::source::SourceSet;
use crate::syntax::span::Span;

/// Generated files by relative path (`template.json`, `rules/X.json`, …).
pub type Outputs = BTreeMap<String, String>;

/// Template format of `flowc build`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TemplateFormat {
    #[default]
    Json,
    Yaml,
}

/// Where a declaration came from, for generated metadata: `file.flow:12`.
pub fn source_location(sources: &SourceSet, span: Span) -> String {
    sources.describe(span)
}

/// A CloudFormation logical id from a declaration name: alphanumerics only,
/// with the resource kind as suffix (`FrameSamplerFunction`).
pub fn logical_id(name: &str, kind: &str) -> String {
    let mut id: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, 'X');
    }
    id.push_str(kind);
    id
}

/// Everything `flowc build` writes, from a checked model:
/// `template.json` (or `.yaml`), `graph.json`, `rules/<rule>.json` (the
/// event pattern of each rule) and `schemas/<event>.json`.
pub fn emit_all(model: &Model, sources: &SourceSet, format: TemplateFormat) -> Outputs {
    emit_all_with(model, sources, format, &cfn::emit_template(model, sources))
}

/// [`emit_all`] with a template already built (so `flowc build` can check
/// the stack quota on it without building it twice).
pub fn emit_all_with(
    model: &Model,
    sources: &SourceSet,
    format: TemplateFormat,
    template: &cfn::Template,
) -> Outputs {
    let mut out = Outputs::new();
    let graph = graph::emit_graph(model, sources);
    out.insert("graph.json".to_string(), graph.to_json());
    for route in &model.routes {
        out.insert(format!("rules/{}.json", route.name), pretty(&route.pattern));
    }
    for event in model.events.values() {
        out.insert(
            format!("schemas/{}.json", event.name),
            pretty(&schema::event_schema(event, &model.project)),
        );
    }
    match format {
        TemplateFormat::Json => {
            let text = serde_json::to_string_pretty(template).unwrap_or_default();
            out.insert("template.json".to_string(), text + "\n");
        }
        TemplateFormat::Yaml => {
            let text = serde_saphyr::to_string(template).unwrap_or_default();
            out.insert("template.yaml".to_string(), text);
        }
    }
    out
}

/// CloudFormation's quotas on one stack, which `flowc build` checks.
pub const MAX_STACK_RESOURCES: usize = 500;

fn pretty(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
