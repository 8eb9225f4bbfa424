//! Completion at a byte offset. The text being typed rarely parses, so the
//! context comes from the text itself: the declaration the cursor is in is
//! found by its keyword in column 0 and read with a small tokenizer
//! (header: class, kind and inputs; the open sink of an app; brace depth).
//! Names and schemas come from the last analysis.

use super::index::NameKind;
use super::recover::{declaration_starts, TOP_LEVEL};
use super::Analysis;
use crate::check::{self, model::ENVELOPE};
use crate::syntax::ast::FileId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Keyword,
    Event,
    Node,
    Flow,
    NodeKind,
    Parameter,
    Field,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: Option<String>,
}

fn item(label: &str, kind: CompletionKind, detail: Option<String>) -> Completion {
    Completion {
        label: label.to_string(),
        kind,
        detail,
    }
}

pub fn completions(analysis: &Analysis, file: FileId, offset: usize) -> Vec<Completion> {
    let text = analysis.text(file);
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let word_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    let path_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |i| i + 1);
    let decl_start = declaration_starts(before)
        .last()
        .copied()
        .unwrap_or(before.len());
    let context = Context::read(&before[decl_start.min(word_start)..word_start]);
    if path_start < word_start {
        // `profile.` or `data.image.k`: fields of the event read here.
        let segments: Vec<&str> = before[path_start..word_start]
            .trim_end_matches('.')
            .split('.')
            .collect();
        return field_completions(analysis, &context, &segments);
    }
    let line_prefix = &before[before[..word_start].rfind('\n').map_or(0, |i| i + 1)..word_start];
    let at_line_start = line_prefix.trim().is_empty();
    if context.keyword.is_none() || (at_line_start && line_prefix.is_empty() && context.depth == 0)
    {
        return keywords(&TOP_LEVEL);
    }
    let previous = context.tokens.last().map(|t| t.text.as_str()).unwrap_or("");
    let keyword = context.keyword.as_deref().unwrap_or("");
    match previous {
        "=" if context.depth == 0 || context.in_sink_header => {
            return after_equals(analysis, &context, keyword)
        }
        "(" | "," if context.depth == 0 || context.in_sink_header => {
            return names(analysis, &[NameKind::Event, NameKind::DerivedEvent])
        }
        "emit" | "given" | "expect" | "none" => {
            return names(analysis, &[NameKind::Event, NameKind::DerivedEvent])
        }
        "route" => return names(analysis, &[NameKind::Event, NameKind::DerivedEvent]),
        "state" | "nodes" => return names(analysis, &[NameKind::Node]),
        "flows" => return names(analysis, &[NameKind::Flow]),
        "->" => {
            return match keyword {
                "route" => names(analysis, &[NameKind::Node]),
                "flow" => names(
                    analysis,
                    &[NameKind::Node, NameKind::Event, NameKind::DerivedEvent],
                ),
                _ => names(analysis, &[NameKind::Event, NameKind::DerivedEvent]),
            }
        }
        _ => {}
    }
    let body_start = at_line_start || previous == "{";
    match keyword {
        "filter" | "transformer" | "view" if context.depth == 1 && body_start => {
            let (required, optional) = check::node_parameters(&context.kind);
            parameters(required, optional)
        }
        "app" if context.sink.is_some() && context.depth == 2 && body_start => {
            let (required, optional) = sink_parameters(&context.kind);
            parameters(required, optional)
        }
        "app" if context.depth == 1 && body_start => {
            keywords(&["nodes", "flows", "sink", "description"])
        }
        "event" if context.depth == 1 && body_start => {
            keywords(&["source", "detail_type", "profile", "data", "application"])
        }
        "event" if context.depth >= 2 => keywords(&TYPES),
        "test" if context.depth == 1 && body_start => keywords(&["given", "advance", "expect"]),
        "route" => {
            let mut out = keywords(&ROUTE_WORDS);
            out.extend(keywords(&ENVELOPE));
            out
        }
        _ => {
            let mut out = keywords(&ENVELOPE);
            if context.kind == "combiner" {
                out.extend(
                    context
                        .inputs
                        .iter()
                        .map(|i| item(i, CompletionKind::Event, Some("input".into()))),
                );
            }
            out
        }
    }
}

/// After `=`: node kinds, trigger kinds, sink kinds or a route's event.
fn after_equals(analysis: &Analysis, context: &Context, keyword: &str) -> Vec<Completion> {
    if context.in_sink_header {
        return keywords(&["s3", "dynamodb", "webhook"]);
    }
    match keyword {
        "filter" | "transformer" | "view" => check::node_kinds()
            .filter(|(_, class)| class.is_none_or(|c| c.keyword() == keyword))
            .map(|(kind, _)| {
                item(
                    kind,
                    CompletionKind::NodeKind,
                    Some(format!("{keyword} kind")),
                )
            })
            .collect(),
        "trigger" => keywords(&["sdk", "http", "s3"]),
        "route" => names(analysis, &[NameKind::Event, NameKind::DerivedEvent]),
        _ => Vec::new(),
    }
}

fn field_completions(analysis: &Analysis, context: &Context, segments: &[&str]) -> Vec<Completion> {
    let (event, segments) = match segments.split_first() {
        Some((first, rest)) if context.inputs.iter().any(|i| i == first) => {
            (first.to_string(), rest)
        }
        _ => match context.event() {
            Some(event) => (event, segments),
            None => return Vec::new(),
        },
    };
    let Some(model_event) = analysis.model.events.get(&event) else {
        return Vec::new();
    };
    let Some((first, rest)) = segments.split_first() else {
        return ENVELOPE
            .iter()
            .map(|r| item(r, CompletionKind::Field, Some(format!("record of {event}"))))
            .collect();
    };
    let Some(record) = model_event.schema.record(first) else {
        return Vec::new();
    };
    let mut record = record.clone();
    for name in rest {
        let Some(next) = record.get(name).and_then(|f| f.ty.element().as_record()) else {
            return Vec::new();
        };
        record = next;
    }
    record
        .fields
        .iter()
        .map(|f| {
            let mark = if f.optional { "?" } else { "" };
            item(
                &f.name,
                CompletionKind::Field,
                Some(format!("{}{mark}", f.ty)),
            )
        })
        .collect()
}

fn names(analysis: &Analysis, kinds: &[NameKind]) -> Vec<Completion> {
    analysis
        .index
        .names()
        .filter(|(_, k)| kinds.contains(k))
        .map(|(name, k)| {
            let kind = match k {
                NameKind::Node => CompletionKind::Node,
                NameKind::Flow => CompletionKind::Flow,
                _ => CompletionKind::Event,
            };
            item(name, kind, Some(k.describe().to_string()))
        })
        .collect()
}

fn keywords(words: &[&str]) -> Vec<Completion> {
    words
        .iter()
        .map(|w| item(w, CompletionKind::Keyword, None))
        .collect()
}

fn parameters(required: &[&str], optional: &[&str]) -> Vec<Completion> {
    let required = required
        .iter()
        .map(|p| item(p, CompletionKind::Parameter, Some("required".into())));
    let optional = optional
        .iter()
        .map(|p| item(p, CompletionKind::Parameter, Some("optional".into())));
    required.chain(optional).collect()
}

/// The parameters of a sink kind (as in docs/language.md §10).
fn sink_parameters(kind: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        "s3" => (&["key"], &["format", "template", "search"]),
        "dynamodb" => (&["key"], &["sort", "ttl"]),
        "webhook" => (&["url", "secret"], &["timeout"]),
        _ => (&[], &[]),
    }
}

const TYPES: [&str; 8] = [
    "string",
    "int",
    "float",
    "bool",
    "timestamp",
    "duration",
    "object",
    "list",
];

const ROUTE_WORDS: [&str; 16] = [
    "when",
    "and",
    "or",
    "not",
    "in",
    "exists",
    "starts_with",
    "ends_with",
    "matches",
    "cidr",
    "ignore_case",
    "max_hops",
    "true",
    "false",
    "null",
    "->",
];

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Token {
    pub text: String,
}

/// What the text of the declaration before the cursor says.
#[derive(Debug, Default)]
struct Context {
    keyword: Option<String>,
    tokens: Vec<Token>,
    /// Brace depth at the cursor.
    depth: usize,
    /// Node or sink kind.
    kind: String,
    /// Node inputs, or the route's event.
    inputs: Vec<String>,
    /// The event of the sink whose body the cursor is in.
    sink: Option<String>,
    in_sink_header: bool,
    /// The event of the last `given`/`expect` in a test.
    test_event: Option<String>,
}

impl Context {
    fn read(text: &str) -> Context {
        let tokens = tokenize(text);
        let mut context = Context {
            keyword: tokens
                .first()
                .filter(|t| TOP_LEVEL.contains(&t.text.as_str()))
                .map(|t| t.text.clone()),
            ..Context::default()
        };
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        match context.keyword.as_deref() {
            Some("filter" | "transformer" | "view") => {
                if let Some(eq) = texts.iter().position(|t| *t == "=") {
                    context.kind = texts.get(eq + 1).map(|s| s.to_string()).unwrap_or_default();
                    context.inputs = list_after(&texts, eq + 2);
                }
            }
            Some("route") => {
                let event_at = if texts.get(2) == Some(&"=") { 3 } else { 1 };
                context.inputs = texts
                    .get(event_at)
                    .map(|s| vec![s.to_string()])
                    .unwrap_or_default();
            }
            _ => {}
        }
        let mut sink_depth = None;
        for (i, t) in texts.iter().enumerate() {
            match *t {
                "{" => context.depth += 1,
                "}" => {
                    context.depth = context.depth.saturating_sub(1);
                    if sink_depth.is_some_and(|d| context.depth <= d) {
                        context.sink = None;
                        sink_depth = None;
                    }
                }
                "sink" => {
                    sink_depth = Some(context.depth);
                    context.kind = texts.get(i + 3).map(|s| s.to_string()).unwrap_or_default();
                    context.sink = list_after(&texts, i + 4).into_iter().next();
                }
                "given" | "expect" => context.test_event = texts.get(i + 1).map(|s| s.to_string()),
                _ => {}
            }
        }
        if let Some(d) = sink_depth {
            context.in_sink_header = context.depth == d;
        }
        context.tokens = tokens;
        context
    }

    /// The event a path written here reads.
    fn event(&self) -> Option<String> {
        if let Some(sink) = &self.sink {
            return Some(sink.clone());
        }
        match self.keyword.as_deref() {
            Some("test") => self.test_event.clone(),
            _ => self.inputs.first().cloned(),
        }
    }
}

/// The names in `( A, B )` starting at `open`.
fn list_after(texts: &[&str], open: usize) -> Vec<String> {
    if texts.get(open) != Some(&"(") {
        return Vec::new();
    }
    texts[open + 1..]
        .iter()
        .take_while(|t| **t != ")")
        .filter(|t| **t != ",")
        .map(|t| t.to_string())
        .collect()
}

/// Identifiers, numbers and punctuation; comments and strings skipped
/// (an unterminated one runs to the end).
pub(super) fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if text[i..].starts_with("//") {
            i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
        } else if text[i..].starts_with("/*") {
            i = skip_block_comment(text, i);
        } else if text[i..].starts_with("\"\"\"") {
            i = text[i + 3..]
                .find("\"\"\"")
                .map_or(bytes.len(), |n| i + 3 + n + 3);
        } else if b == b'"' {
            i = skip_string(bytes, i);
        } else if b.is_ascii_alphanumeric() || b == b'_' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
            {
                i += 1;
            }
            tokens.push(Token {
                text: text[start..i].to_string(),
            });
        } else if text[i..].starts_with("->") {
            tokens.push(Token { text: "->".into() });
            i += 2;
        } else {
            let len = text[i..].chars().next().map_or(1, char::len_utf8);
            tokens.push(Token {
                text: text[i..i + len].to_string(),
            });
            i += len;
        }
    }
    tokens
}

fn skip_block_comment(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

fn skip_string(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_node_header() {
        let c = Context::read("filter F = counter(A) {\n  key ");
        assert_eq!(c.keyword.as_deref(), Some("filter"));
        assert_eq!(c.kind, "counter");
        assert_eq!(c.inputs, ["A"]);
        assert_eq!(c.depth, 1);
    }

    #[test]
    fn reads_the_open_sink() {
        let c = Context::read("app X {\n sink S = s3(E) {\n key \"a/{{");
        assert_eq!(c.sink.as_deref(), Some("E"));
        assert_eq!(c.kind, "s3");
        let closed = Context::read("app X {\n sink S = s3(E) { key \"k\" }\n ");
        assert_eq!(closed.sink, None);
    }

    #[test]
    fn skips_comments_and_strings() {
        let t = tokenize("a /* { /* } */ */ \"{\" // {\n b");
        let texts: Vec<&str> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(texts, ["a", "b"]);
    }
}
