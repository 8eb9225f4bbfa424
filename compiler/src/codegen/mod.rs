//! Backends: the checked model → the artifacts of `flowc build`.
//! Input: a checked `Model` without errors. Output: [`Outputs`], a map from
//! relative path to file content; the CLI writes it.
//! Invariant: codegen never raises user errors; whatever it could reject,
//! `check` rejects first. Output is deterministic (sorted maps, no clocks).

pub mod cfn;
pub mod schema;

use std::collections::BTreeMap;

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
