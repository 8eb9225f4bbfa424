//! Parameters of nodes and sinks: which names a kind takes, which are
//! required, and typed access to their values (E015, E017, E024, E025).

use std::collections::BTreeMap;

use super::Ctx;
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::syntax::ast::{self, Span, Spanned};

/// The parameters of one node or sink, by name, after the name checks.
pub(crate) struct ParamSet<'a> {
    params: BTreeMap<&'a str, &'a ast::Param>,
}

/// What a kind accepts.
pub(crate) struct ParamSpec {
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

impl<'a> ParamSet<'a> {
    pub fn get(&self, name: &str) -> Option<&'a ast::Param> {
        self.params.get(name).copied()
    }
}

impl Ctx<'_> {
    /// Checks names against the spec: unknown (E015), repeated (E017),
    /// missing (E024). `owner` is e.g. "counter `FrameSampler`".
    pub(super) fn param_set<'p>(
        &mut self,
        params: &'p [ast::Param],
        spec: &ParamSpec,
        owner: &str,
        owner_span: Span,
    ) -> ParamSet<'p> {
        let mut set: BTreeMap<&str, &ast::Param> = BTreeMap::new();
        let mut misspelled: Vec<&str> = Vec::new();
        let known = || spec.required.iter().chain(spec.optional.iter()).copied();
        for p in params {
            let name = p.name.node.as_str();
            if !known().any(|k| k == name) {
                if let Some(meant) = crate::diagnostic::closest(name, known()) {
                    misspelled.push(meant);
                }
                let accepted: Vec<String> = known().map(|k| format!("`{k}`")).collect();
                let d = Diagnostic::new(
                    Code::UnknownParameter,
                    format!("{owner} has no parameter `{name}`"),
                )
                .primary(p.name.span, "unknown parameter")
                .help(
                    did_you_mean(name, known())
                        .unwrap_or_else(|| format!("it takes {}", accepted.join(", "))),
                );
                self.push(d);
                continue;
            }
            if let Some(first) = set.get(name) {
                let d = Diagnostic::new(
                    Code::DuplicateEntry,
                    format!("parameter `{name}` is given twice"),
                )
                .primary(p.name.span, "given again here")
                .secondary(first.name.span, "first given here")
                .help("keep one of them");
                self.push(d);
                continue;
            }
            set.insert(name, p);
        }
        for required in spec.required {
            if !set.contains_key(required) && !misspelled.contains(required) {
                let d = Diagnostic::new(
                    Code::MissingParameter,
                    format!("{owner} needs a `{required}` parameter"),
                )
                .primary(owner_span, format!("`{required}` is missing"))
                .help(example_for(required));
                self.push(d);
            }
        }
        ParamSet { params: set }
    }

    fn zero_duration(&mut self, span: Span) {
        self.push(
            Diagnostic::new(
                Code::InvalidLiteral,
                "a window of zero never holds anything",
            )
            .primary(span, "must be more than zero")
            .help("write a positive duration like `30s`, `15m` or `2h`"),
        );
    }

    fn wrong_kind(&mut self, param: &ast::Param, expected: &str) {
        let d = Diagnostic::new(
            Code::ParameterKind,
            format!(
                "`{}` expects {expected}, found {}",
                param.name.node,
                param.value.describe()
            ),
        )
        .primary(param.value.span(), format!("expected {expected}"))
        .help(example_for(&param.name.node));
        self.push(d);
    }

    pub(super) fn param_path<'p>(
        &mut self,
        set: &ParamSet<'p>,
        name: &str,
    ) -> Option<&'p ast::PathExpr> {
        let p = set.get(name)?;
        match &p.value {
            ast::ParamValue::Path(path) => Some(path),
            _ => {
                self.wrong_kind(p, "a field path");
                None
            }
        }
    }

    pub(super) fn param_string<'p>(
        &mut self,
        set: &ParamSet<'p>,
        name: &str,
    ) -> Option<&'p Spanned<String>> {
        let p = set.get(name)?;
        match &p.value {
            ast::ParamValue::String(s) => Some(s),
            _ => {
                self.wrong_kind(p, "a string");
                None
            }
        }
    }

    pub(super) fn param_duration(&mut self, set: &ParamSet<'_>, name: &str) -> Option<u64> {
        let p = set.get(name)?;
        match &p.value {
            ast::ParamValue::Duration(d) if d.node == 0 => {
                self.zero_duration(d.span);
                None
            }
            ast::ParamValue::Duration(d) => Some(d.node),
            _ => {
                self.wrong_kind(p, "a duration like `30s`");
                None
            }
        }
    }

    pub(super) fn param_count(&mut self, set: &ParamSet<'_>, name: &str) -> Option<u64> {
        let p = set.get(name)?;
        match &p.value {
            ast::ParamValue::Number(n) if n.node.value.fract() == 0.0 && n.node.value >= 1.0 => {
                Some(n.node.value as u64)
            }
            _ => {
                self.wrong_kind(p, "a whole number of at least 1");
                None
            }
        }
    }

    pub(super) fn param_threshold<'p>(
        &mut self,
        set: &ParamSet<'p>,
        name: &str,
    ) -> Option<&'p ast::Threshold> {
        let p = set.get(name)?;
        match &p.value {
            ast::ParamValue::Threshold(t) => {
                if let Some(time) = t.time.as_ref().filter(|t| t.node == 0) {
                    self.zero_duration(time.span);
                    return None;
                }
                Some(t)
            }
            _ => {
                self.wrong_kind(p, "a threshold like `10 events or 60s`");
                None
            }
        }
    }

    pub(super) fn param_mapping<'p>(
        &mut self,
        set: &ParamSet<'p>,
        name: &str,
    ) -> Option<&'p ast::Mapping> {
        let p = set.get(name)?;
        match &p.value {
            ast::ParamValue::Mapping(m) => Some(m),
            _ => {
                self.wrong_kind(p, "a mapping `{ name: path, … }`");
                None
            }
        }
    }

    pub(super) fn param_emit<'p>(&mut self, set: &ParamSet<'p>) -> Option<&'p ast::Emit> {
        let p = set.get("emit")?;
        match &p.value {
            ast::ParamValue::Emit(e) => Some(e),
            _ => {
                self.wrong_kind(p, "an event name");
                None
            }
        }
    }
}

/// A one-line example of a parameter, used as help.
pub(crate) fn example_for(name: &str) -> String {
    let example = match name {
        "key" => "key profile.session_id",
        "every" => "every 10 events or 60s",
        "emit" => "emit FrameSampled",
        "collect" => "collect { app: application.name, seconds: data.seconds }",
        "aggregate" => "aggregate { total: sum(data.seconds), longest: max(data.seconds) }",
        "content" => "content data.chunk",
        "order_by" => "order_by data.sequence",
        "window" => "window 10m",
        "over" => "over data.items",
        "image" => "image data.image",
        "media" => "media data.audio",
        "model" => "model \"anthropic.claude-3-5-haiku-20241022-v1:0\"",
        "prompt" => "prompt \"Describe what the user does in {{application.name}}\"",
        "max_tokens" => "max_tokens 300",
        "language" => "language \"en-US\"",
        "lambda" => "lambda \"arn:aws:lambda:us-east-1:123456789012:function:my-node\"",
        "command" => "command \"python3 tools/my_node.py\"",
        "timeout" => "timeout 30s",
        "format" => "format \"markdown\"",
        "template" => "template \"# {{data.title}}\"",
        "sort" => "sort data.captured_at",
        "ttl" => "ttl 30d",
        "url" => "url \"https://example.com/hooks/flow\"",
        "secret" => "secret \"webhook-signing-secret\"",
        "search" => "search amazon_q",
        _ => return format!("add `{name} …` to the body"),
    };
    format!("for example: `{example}`")
}
