//! Declarations → layout. Structure comes from the AST; every literal
//! (strings, numbers, durations) is copied from the source text at its span,
//! so strings keep their exact bytes, escapes and quoting.

use super::doc::{Align, Block, Doc, Entry, List, Printer, WIDTH};
use crate::syntax::ast::{self, Span};

/// Formats a parsed file.
pub(super) fn format_file(src: &str, file: &ast::File) -> String {
    let mut p = Printer::new(src);
    let decls = &file.decls;
    let tables = trigger_tables(src, decls);
    let mut prev = 0;
    for (i, decl) in decls.iter().enumerate() {
        let span = decl.span();
        let end = decl_end(&p, decl);
        let atomic = matches!(
            decl,
            ast::Decl::Trigger(_) | ast::Decl::Route(_) | ast::Decl::Flow(_)
        );
        let upto = if atomic { end } else { span.start as usize };
        let comments = p.comments.take_before(upto);
        if i > 0 {
            p.newline(0);
            let in_table = tables[i].is_some() && tables[i - 1] == tables[i];
            if !comments.is_empty() || !in_table {
                p.blank();
            }
        }
        let mut last = prev;
        for (k, c) in comments.iter().enumerate() {
            if k > 0 && p.comments.blank_between(last, c.range.start) {
                p.blank();
            }
            p.text(&c.text);
            p.newline(0);
            last = c.range.end;
        }
        if !comments.is_empty() && p.comments.blank_between(last, span.start as usize) {
            p.blank();
        }
        print_decl(&mut p, decl, tables[i].map(|t| t.1));
        prev = p.trailing(end);
    }
    let rest = p.comments.take_before(usize::MAX);
    let mut last = prev;
    for (k, c) in rest.iter().enumerate() {
        p.newline(0);
        if (k == 0 && !decls.is_empty()) || (k > 0 && p.comments.blank_between(last, c.range.start))
        {
            p.blank();
        }
        p.text(&c.text);
        last = c.range.end;
    }
    p.finish()
}

/// Consecutive triggers with no empty line or comment line between them
/// form a table: no empty line, `=` aligned. Per declaration: the index of
/// its table and the width of the names in it.
fn trigger_tables(src: &str, decls: &[ast::Decl]) -> Vec<Option<(usize, usize)>> {
    let mut groups: Vec<Option<usize>> = vec![None; decls.len()];
    for (i, decl) in decls.iter().enumerate() {
        if !matches!(decl, ast::Decl::Trigger(_)) {
            continue;
        }
        groups[i] = Some(i);
        if i > 0 && groups[i - 1].is_some() {
            let gap = src
                .get(decls[i - 1].span().end as usize..decl.span().start as usize)
                .unwrap_or_default();
            let mut lines = gap.split('\n');
            let first = lines.next().unwrap_or_default().trim();
            let rest: Vec<&str> = lines.collect();
            let trailing_only = first.is_empty() || first.starts_with("//");
            if trailing_only && rest.len() == 1 && rest[0].trim().is_empty() {
                groups[i] = groups[i - 1];
            }
        }
    }
    let width_of = |g: usize| {
        decls
            .iter()
            .zip(&groups)
            .filter(|(_, x)| **x == Some(g))
            .filter_map(|(d, _)| match d {
                ast::Decl::Trigger(t) => Some(t.name.node.chars().count()),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    };
    groups.iter().map(|g| g.map(|g| (g, width_of(g)))).collect()
}

fn slice(src: &str, span: Span) -> String {
    src.get(span.range()).unwrap_or_default().to_string()
}

fn print_decl(p: &mut Printer<'_>, decl: &ast::Decl, name_width: Option<usize>) {
    let src = p.src();
    match decl {
        ast::Decl::Event(d) => {
            p.text(&format!("event {} ", d.name.node));
            let block = event_block(p, d);
            p.print(&Doc::Block(block), 0);
        }
        ast::Decl::Trigger(d) => {
            let pad = name_width.map_or(0, |w| w.saturating_sub(d.name.node.chars().count()));
            let kind = match &d.kind {
                ast::TriggerKind::Sdk => "sdk".to_string(),
                ast::TriggerKind::Http { path } => format!("http {}", slice(src, path.span)),
                ast::TriggerKind::S3 {
                    bucket,
                    prefix,
                    suffix,
                } => {
                    let mut s = format!("s3 {}", slice(src, bucket.span));
                    if let Some(prefix) = prefix {
                        s += &format!(" prefix {}", slice(src, prefix.span));
                    }
                    if let Some(suffix) = suffix {
                        s += &format!(" suffix {}", slice(src, suffix.span));
                    }
                    s
                }
            };
            p.text(&format!(
                "trigger {}{} = {kind} -> {}",
                d.name.node,
                " ".repeat(pad),
                d.event.node
            ));
        }
        ast::Decl::Node(d) => {
            let mut header = format!(
                "{} {} = {}({})",
                d.class.node.keyword(),
                d.name.node,
                d.kind.node,
                names(&d.inputs).join(", ")
            );
            if !d.outputs.is_empty() {
                header += &format!(" -> {}", names(&d.outputs).join(", "));
            }
            p.text(&header);
            p.text(" ");
            let last = d.outputs.last().or(d.inputs.last()).unwrap_or(&d.kind);
            let open = p.comments.find_forward(last.span.end as usize, b'{');
            let block = params_block(src, &d.params, open, d.span);
            p.print(&Doc::Block(block), 0);
        }
        ast::Decl::Route(d) => print_route(p, d),
        ast::Decl::Flow(d) => {
            p.text(&format!("flow {} {{", d.name.node));
            p.newline(2);
            let steps = names(&d.steps);
            for (i, step) in steps.iter().enumerate() {
                if i > 0 {
                    if p.col() + 4 + step.chars().count() > WIDTH {
                        p.newline(4);
                        p.text("-> ");
                    } else {
                        p.text(" -> ");
                    }
                }
                p.text(step);
            }
            p.newline(0);
            p.text("}");
        }
        ast::Decl::App(d) => {
            p.text(&format!("app {} ", d.name.node));
            let block = app_block(p, d);
            p.print(&Doc::Block(block), 0);
        }
        ast::Decl::Test(d) => {
            p.text(&format!("test {} ", slice(src, d.name.span)));
            let block = test_block(p, d);
            p.print(&Doc::Block(block), 0);
        }
    }
}

fn names(list: &[ast::Name]) -> Vec<String> {
    list.iter().map(|n| n.node.clone()).collect()
}

/// The block of a declaration: from its `{` (found after `after`) to the
/// end of its span.
fn block_range(p: &Printer<'_>, after: Span, span: Span) -> std::ops::Range<usize> {
    let open = p
        .comments
        .find_forward(after.end as usize, b'{')
        .unwrap_or(span.start as usize);
    open..span.end as usize
}

/// Where the keyword before a value starts: `source "x"` for the span of
/// `"x"`.
fn keyword_start(src: &str, pos: usize) -> usize {
    let before = src.get(..pos).unwrap_or_default();
    let trimmed = before.trim_end();
    let word = trimmed.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    if word.len() == trimmed.len() {
        pos
    } else {
        word.len()
    }
}

fn event_block(p: &Printer<'_>, d: &ast::EventDecl) -> Block {
    let src = p.src();
    let mut entries = Vec::new();
    for (key, value) in [("source", &d.source), ("detail_type", &d.detail_type)] {
        if let Some(v) = value {
            entries.push(Entry {
                key: Some(key.to_string()),
                value: Doc::text(slice(src, v.span)),
                range: keyword_start(src, v.span.start as usize)..v.span.end as usize,
            });
        }
    }
    for r in &d.records {
        entries.push(Entry {
            key: Some(r.name.node.clone()),
            value: record_doc(p, &r.ty),
            range: r.name.span.start as usize..r.ty.span.end as usize,
        });
    }
    entries.sort_by_key(|e| e.range.start);
    Block {
        entries,
        range: block_range(p, d.name.span, d.span),
        align: Align::All,
    }
}

fn record_doc(p: &Printer<'_>, ty: &ast::RecordType) -> Doc {
    let entries = ty
        .fields
        .iter()
        .map(|f| Entry {
            key: Some(format!("{}:", f.name.node)),
            value: type_doc(p, &f.ty),
            range: f.span.start as usize..type_end(p, &f.ty),
        })
        .collect();
    Doc::List(List {
        open: "{",
        close: "}",
        entries,
        range: ty.span.range(),
    })
}

fn type_doc(p: &Printer<'_>, ty: &ast::TypeExpr) -> Doc {
    let src = p.src();
    let base = match &ty.kind {
        ast::TypeKind::Named(n) => Doc::text(n.node.clone()),
        ast::TypeKind::List(inner) => {
            Doc::Concat(vec![Doc::text("list<"), type_doc(p, inner), Doc::text(">")])
        }
        ast::TypeKind::Record(r) => record_doc(p, r),
        ast::TypeKind::Union(members) => Doc::text(
            members
                .iter()
                .map(|m| slice(src, m.span))
                .collect::<Vec<_>>()
                .join(" | "),
        ),
    };
    if ty.optional {
        Doc::Concat(vec![base, Doc::text("?")])
    } else {
        base
    }
}

fn params_block(src: &str, params: &[ast::Param], open: Option<usize>, span: Span) -> Block {
    let entries = params
        .iter()
        .map(|param| Entry {
            key: Some(param.name.node.clone()),
            value: param_doc(src, &param.value),
            range: param.span.start as usize..param_end(src, &param.value),
        })
        .collect();
    Block {
        entries,
        range: open.unwrap_or(span.start as usize)..span.end as usize,
        align: Align::Params,
    }
}

fn param_doc(src: &str, value: &ast::ParamValue) -> Doc {
    match value {
        ast::ParamValue::Threshold(t) => {
            let mut parts = Vec::new();
            if let Some(count) = &t.count {
                parts.push(format!("{} events", slice(src, count.span)));
            }
            if let Some(time) = &t.time {
                parts.push(slice(src, time.span));
            }
            Doc::text(parts.join(" or "))
        }
        ast::ParamValue::Emit(e) => match &e.mapping {
            Some(m) => Doc::Concat(vec![
                Doc::text(format!("{} ", e.event.node)),
                mapping_doc(src, m),
            ]),
            None => Doc::text(e.event.node.clone()),
        },
        ast::ParamValue::Mapping(m) => mapping_doc(src, m),
        ast::ParamValue::Path(path) => Doc::text(path.dotted()),
        ast::ParamValue::String(_)
        | ast::ParamValue::Duration(_)
        | ast::ParamValue::Number(_)
        | ast::ParamValue::Bool(_) => Doc::text(slice(src, value.span())),
    }
}

fn mapping_doc(src: &str, m: &ast::Mapping) -> Doc {
    let entries = m
        .entries
        .iter()
        .map(|e| Entry {
            key: Some(format!("{}:", e.name.node)),
            value: match &e.value {
                ast::MappingExpr::Path(path) => Doc::text(path.dotted()),
                ast::MappingExpr::Call { func, arg, .. } => Doc::text(format!(
                    "{}({})",
                    func.node,
                    arg.as_ref().map(|a| a.dotted()).unwrap_or_default()
                )),
                ast::MappingExpr::Record(inner) => mapping_doc(src, inner),
                other => Doc::text(slice(src, other.span())),
            },
            range: e.name.span.start as usize..e.value.span().end as usize,
        })
        .collect();
    Doc::List(List {
        open: "{",
        close: "}",
        entries,
        range: m.span.range(),
    })
}

fn app_block(p: &Printer<'_>, d: &ast::AppDecl) -> Block {
    let src = p.src();
    let mut entries = Vec::new();
    for (key, value) in &d.settings {
        entries.push(Entry {
            key: Some(key.node.clone()),
            value: Doc::text(slice(src, value.span)),
            range: key.span.start as usize..value.span.end as usize,
        });
    }
    for (key, list) in [("nodes", &d.nodes), ("flows", &d.flows)] {
        let (Some(first), Some(last)) = (list.first(), list.last()) else {
            continue;
        };
        entries.push(Entry {
            key: Some(key.to_string()),
            value: Doc::Names(names(list)),
            range: keyword_start(src, first.span.start as usize)..last.span.end as usize,
        });
    }
    for sink in &d.sinks {
        let header = format!(
            "sink {} = {}({}) ",
            sink.name.node, sink.kind.node, sink.event.node
        );
        let open = p.comments.find_forward(sink.event.span.end as usize, b'{');
        let block = params_block(src, &sink.params, open, sink.span);
        entries.push(Entry {
            key: None,
            value: Doc::Concat(vec![Doc::text(header), Doc::Block(block)]),
            range: sink.span.range(),
        });
    }
    entries.sort_by_key(|e| e.range.start);
    Block {
        entries,
        range: block_range(p, d.name.span, d.span),
        align: Align::None,
    }
}

fn test_block(p: &Printer<'_>, d: &ast::TestDecl) -> Block {
    let src = p.src();
    let entries = d
        .steps
        .iter()
        .map(|step| {
            let (value, span) = match step {
                ast::TestStep::Given {
                    event,
                    value,
                    at,
                    span,
                } => {
                    let mut parts = vec![
                        Doc::text(format!("given {} ", event.node)),
                        value_doc(src, value),
                    ];
                    if let Some(at) = at {
                        parts.push(Doc::text(format!(" at {}", slice(src, at.span))));
                    }
                    (Doc::Concat(parts), *span)
                }
                ast::TestStep::Advance { by, span, .. } => {
                    (Doc::text(format!("advance {}", slice(src, by.span))), *span)
                }
                ast::TestStep::Expect { event, value, span } => match value {
                    Some(v) => (
                        Doc::Concat(vec![
                            Doc::text(format!("expect {} ", event.node)),
                            value_doc(src, v),
                        ]),
                        *span,
                    ),
                    None => (Doc::text(format!("expect {}", event.node)), *span),
                },
                ast::TestStep::ExpectNone { event, span } => {
                    (Doc::text(format!("expect none {}", event.node)), *span)
                }
                ast::TestStep::ExpectState {
                    node,
                    key,
                    value,
                    span,
                } => (
                    Doc::Concat(vec![
                        Doc::text(format!(
                            "expect state {}[{}] ",
                            node.node,
                            slice(src, key.span)
                        )),
                        value_doc(src, value),
                    ]),
                    *span,
                ),
            };
            Entry {
                key: None,
                value,
                range: span.start as usize..step_end(step),
            }
        })
        .collect();
    Block {
        entries,
        range: block_range(p, d.name.span, d.span),
        align: Align::None,
    }
}

fn value_doc(src: &str, value: &ast::Spanned<ast::Value>) -> Doc {
    match &value.node {
        ast::Value::Object(entries) => Doc::List(List {
            open: "{",
            close: "}",
            entries: entries
                .iter()
                .map(|(k, v)| Entry {
                    key: Some(format!("{}:", k.node)),
                    value: value_doc(src, v),
                    range: k.span.start as usize..v.span.end as usize,
                })
                .collect(),
            range: value.span.range(),
        }),
        ast::Value::List(items) => Doc::List(List {
            open: "[",
            close: "]",
            entries: items
                .iter()
                .map(|v| Entry {
                    key: None,
                    value: value_doc(src, v),
                    range: v.span.range(),
                })
                .collect(),
            range: value.span.range(),
        }),
        _ => Doc::text(slice(src, value.span)),
    }
}

// ------------------------------------------------------------------ routes

fn print_route(p: &mut Printer<'_>, d: &ast::RouteDecl) {
    let src = p.src();
    let mut header = String::from("route ");
    if let Some(name) = &d.name {
        header += &format!("{} = ", name.node);
    }
    header += &format!("{} -> {}", d.event.node, names(&d.targets).join(", "));
    p.text(&header);
    if let Some(when) = &d.when {
        p.newline(2);
        p.text("when ");
        print_condition(p, when, None, 0, true);
    }
    if let Some(hops) = &d.max_hops {
        p.newline(2);
        p.text(&format!("max_hops {}", slice(src, hops.span)));
    }
}

/// Prints a condition at the current position: on one line when it fits,
/// otherwise broken before each `and`/`or` of its outermost chain (at the
/// top, right-aligned under `when`; inside parentheses, under the first
/// operand), recursively.
fn print_condition(
    p: &mut Printer<'_>,
    c: &ast::Condition,
    parent: Option<Op>,
    tail: usize,
    top: bool,
) {
    let src = p.src();
    let flat = condition(src, c, parent);
    let (op, word, parts) = match c {
        ast::Condition::And(parts, _) => (Op::And, "and", parts),
        ast::Condition::Or(parts, _) => (Op::Or, "or", parts),
        _ => {
            p.text(&flat);
            return;
        }
    };
    if p.col() + flat.chars().count() + tail <= WIDTH {
        p.text(&flat);
        return;
    }
    let parens = needs_parens(op, parent);
    let col = p.col();
    if parens {
        p.text("(");
    }
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            if top {
                p.newline(2);
                p.text(&format!("{}{word} ", " ".repeat(4 - word.len())));
            } else {
                p.newline(col + 1);
                p.text(&format!("{word} "));
            }
        }
        let last = i + 1 == parts.len();
        let part_tail = if last { tail + usize::from(parens) } else { 0 };
        print_condition(p, part, Some(op), part_tail, false);
    }
    if parens {
        p.text(")");
    }
}

fn needs_parens(op: Op, parent: Option<Op>) -> bool {
    match op {
        Op::And => parent.is_some_and(|p| p != Op::Or),
        _ => parent.is_some(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
    Not,
}

/// A condition on one line, with the parentheses its tree needs to parse
/// back into the same tree: `or` under `and`, any chain directly under a
/// chain of the same operator, and always after `not`.
fn condition(src: &str, c: &ast::Condition, parent: Option<Op>) -> String {
    let chain = |parts: &[ast::Condition], op: Op, word: &str| {
        let inner: Vec<String> = parts.iter().map(|p| condition(src, p, Some(op))).collect();
        let text = inner.join(&format!(" {word} "));
        if needs_parens(op, parent) {
            format!("({text})")
        } else {
            text
        }
    };
    match c {
        ast::Condition::And(parts, _) => chain(parts, Op::And, "and"),
        ast::Condition::Or(parts, _) => chain(parts, Op::Or, "or"),
        ast::Condition::Not(inner, _) => {
            let text = condition(src, inner, Some(Op::Not));
            if matches!(**inner, ast::Condition::And(..) | ast::Condition::Or(..)) {
                format!("not {text}")
            } else {
                format!("not ({text})")
            }
        }
        ast::Condition::Compare(cmp) => comparison(src, cmp),
    }
}

fn comparison(src: &str, c: &ast::Comparison) -> String {
    let path = c.path.dotted();
    let values: Vec<String> = c.values.iter().map(|v| slice(src, v.span)).collect();
    let mut text = match c.op.node {
        ast::CompareOp::Exists => format!("{path} exists"),
        ast::CompareOp::In | ast::CompareOp::NotIn => {
            format!("{path} {} [{}]", c.op.node.as_str(), values.join(", "))
        }
        op => format!("{path} {} {}", op.as_str(), values.join(" ")),
    };
    if c.ignore_case.is_some() {
        text += " ignore_case";
    }
    text
}

// ------------------------------------------------------------------ ends

// Spans of rules that end in an optional or repeated part can take in the
// comments after them (pest skips trivia before trying the optional part),
// so items end at their last token, computed here from exact leaf spans.

/// The end of a written type, including `?`.
fn type_end(p: &Printer<'_>, ty: &ast::TypeExpr) -> usize {
    let base = match &ty.kind {
        ast::TypeKind::Named(n) => n.span.end as usize,
        ast::TypeKind::List(inner) => {
            let end = type_end(p, inner);
            p.comments.find_forward(end, b'>').map_or(end, |at| at + 1)
        }
        ast::TypeKind::Record(r) => r.span.end as usize,
        ast::TypeKind::Union(members) => members
            .last()
            .map_or(ty.span.end as usize, |m| m.span.end as usize),
    };
    if ty.optional {
        p.comments
            .find_forward(base, b'?')
            .map_or(base, |at| at + 1)
    } else {
        base
    }
}

/// The end of a node or sink parameter's value.
fn param_end(src: &str, value: &ast::ParamValue) -> usize {
    match value {
        ast::ParamValue::Threshold(t) => match (&t.time, &t.count) {
            (Some(time), _) => time.span.end as usize,
            (None, Some(count)) => after_word(src, count.span.end as usize, "events"),
            (None, None) => t.span.end as usize,
        },
        ast::ParamValue::Emit(e) => match &e.mapping {
            Some(m) => m.span.end as usize,
            None => e.event.span.end as usize,
        },
        other => other.span().end as usize,
    }
}

/// The position after `word` when it follows `pos` after whitespace.
fn after_word(src: &str, pos: usize, word: &str) -> usize {
    let rest = src.get(pos..).unwrap_or_default();
    let trimmed = rest.trim_start();
    if trimmed.starts_with(word) {
        pos + (rest.len() - trimmed.len()) + word.len()
    } else {
        pos
    }
}

fn step_end(step: &ast::TestStep) -> usize {
    let end = match step {
        ast::TestStep::Given { value, at, .. } => {
            at.as_ref().map_or(value.span.end, |a| a.span.end)
        }
        ast::TestStep::Advance { by, .. } => by.span.end,
        ast::TestStep::Expect { event, value, .. } => {
            value.as_ref().map_or(event.span.end, |v| v.span.end)
        }
        ast::TestStep::ExpectNone { event, .. } => event.span.end,
        ast::TestStep::ExpectState { value, .. } => value.span.end,
    };
    end as usize
}

/// The end of a route: its last clause, or its last target.
fn route_end(p: &Printer<'_>, d: &ast::RouteDecl) -> usize {
    let mut end = d.targets.last().map_or(d.event.span.end, |t| t.span.end) as usize;
    if let Some(when) = &d.when {
        end = end.max(close_parens(p.src(), condition_end(p, when)));
    }
    if let Some(hops) = &d.max_hops {
        end = end.max(hops.span.end as usize);
    }
    end
}

fn condition_end(p: &Printer<'_>, c: &ast::Condition) -> usize {
    match c {
        ast::Condition::Or(parts, span) | ast::Condition::And(parts, span) => parts
            .last()
            .map_or(span.end as usize, |last| condition_end(p, last)),
        ast::Condition::Not(inner, _) => condition_end(p, inner),
        ast::Condition::Compare(cmp) => {
            let mut end = cmp.path.span.end.max(cmp.op.span.end) as usize;
            if let Some(last) = cmp.values.last() {
                end = end.max(last.span.end as usize);
            }
            if matches!(cmp.op.node, ast::CompareOp::In | ast::CompareOp::NotIn) {
                end = p.comments.find_forward(end, b']').map_or(end, |at| at + 1);
            }
            if let Some(ic) = cmp.ignore_case {
                end = end.max(ic.end as usize);
            }
            end
        }
    }
}

/// Moves past closing parentheses (and the whitespace before them).
fn close_parens(src: &str, mut pos: usize) -> usize {
    loop {
        let rest = src.get(pos..).unwrap_or_default();
        let trimmed = rest.trim_start();
        if trimmed.starts_with(')') {
            pos += rest.len() - trimmed.len() + 1;
        } else {
            return pos;
        }
    }
}

/// The end of a declaration's last token.
fn decl_end(p: &Printer<'_>, decl: &ast::Decl) -> usize {
    match decl {
        ast::Decl::Route(d) => route_end(p, d),
        other => other.span().end as usize,
    }
}
