//! Lowering: pest pairs → AST. The only module that reads pest pairs.
//! Input: the `file` pair of one source. Output: an [`ast::File`] and the
//! literal errors found on the way (E002 escapes, E003 ranges).
//! Invariant: every AST node gets the span of the text it came from.

use pest::iterators::Pair;

use super::ast::{self, Span, Spanned};
use super::parser::Rule;
use super::span::FileId;
use crate::diagnostic::{Code, Diagnostic};

pub(crate) struct Lowerer {
    file: FileId,
    pub diagnostics: Vec<Diagnostic>,
}

type P<'i> = Pair<'i, Rule>;

/// The children of a pair without the keyword tokens, which carry no meaning
/// once the pair's rule is known.
fn children(pair: P<'_>) -> impl Iterator<Item = P<'_>> {
    pair.into_inner().filter(|p| !is_keyword(p.as_rule()))
}

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_event
            | Rule::kw_trigger
            | Rule::kw_http
            | Rule::kw_s3
            | Rule::kw_every
            | Rule::kw_events
            | Rule::kw_or
            | Rule::kw_and
            | Rule::kw_emit
            | Rule::kw_route
            | Rule::kw_when
            | Rule::kw_max_hops
            | Rule::kw_in
            | Rule::kw_flow
            | Rule::kw_app
            | Rule::kw_nodes
            | Rule::kw_flows
            | Rule::kw_sink
            | Rule::kw_test
            | Rule::kw_given
            | Rule::kw_at
            | Rule::kw_advance
            | Rule::kw_expect
            | Rule::kw_none
            | Rule::kw_state
            | Rule::kw_prefix
            | Rule::kw_suffix
    )
}

impl Lowerer {
    pub fn new(file: FileId) -> Self {
        Lowerer {
            file,
            diagnostics: Vec::new(),
        }
    }

    /// The pair's span without the trailing whitespace pest lets some
    /// rules swallow, so that labels underline exactly the construct.
    fn span(&self, pair: &P<'_>) -> Span {
        let start = pair.as_span().start();
        Span::new(self.file, start..start + trimmed_len(pair.as_str()))
    }

    fn bug(&mut self, pair: &P<'_>, what: &str) {
        self.diagnostics.push(
            Diagnostic::new(
                Code::InternalError,
                format!("unexpected syntax tree while lowering {what}"),
            )
            .primary(self.span(pair), format!("rule {:?}", pair.as_rule())),
        );
    }

    pub fn lower_file(&mut self, pair: P<'_>) -> ast::File {
        let mut decls = Vec::new();
        for p in children(pair) {
            let decl = match p.as_rule() {
                Rule::event_decl => ast::Decl::Event(self.lower_event(p)),
                Rule::trigger_decl => ast::Decl::Trigger(self.lower_trigger(p)),
                Rule::node_decl => ast::Decl::Node(self.lower_node(p)),
                Rule::route_decl => ast::Decl::Route(self.lower_route(p)),
                Rule::flow_decl => ast::Decl::Flow(self.lower_flow(p)),
                Rule::app_decl => ast::Decl::App(self.lower_app(p)),
                Rule::test_decl => ast::Decl::Test(self.lower_test(p)),
                Rule::EOI => continue,
                _ => {
                    self.bug(&p, "a declaration");
                    continue;
                }
            };
            decls.push(decl);
        }
        ast::File {
            file: self.file,
            decls,
        }
    }

    fn name(&self, pair: P<'_>) -> ast::Name {
        Spanned::new(pair.as_str().to_string(), self.span(&pair))
    }

    fn names(&self, pair: P<'_>) -> Vec<ast::Name> {
        children(pair).map(|p| self.name(p)).collect()
    }

    // -------------------------------------------------------------- events

    fn lower_event(&mut self, pair: P<'_>) -> ast::EventDecl {
        let span = self.span(&pair);
        let mut inner = children(pair);
        let name = inner
            .next()
            .map(|p| self.name(p))
            .unwrap_or_default_name(span);
        let mut decl = ast::EventDecl {
            name,
            source: None,
            detail_type: None,
            records: Vec::new(),
            span,
        };
        for item in inner {
            match item.as_rule() {
                Rule::event_source => {
                    let value = self.first_string(item);
                    self.set_once(&mut decl.source, value, "source");
                }
                Rule::event_detail_type => {
                    let value = self.first_string(item);
                    self.set_once(&mut decl.detail_type, value, "detail_type");
                }
                Rule::record_field_decl => {
                    let mut parts = children(item);
                    if let (Some(n), Some(t)) = (parts.next(), parts.next()) {
                        let name = self.name(n);
                        let ty = self.lower_record_type(t);
                        decl.records.push(ast::RecordField { name, ty });
                    }
                }
                _ => self.bug(&item, "an event item"),
            }
        }
        decl
    }

    /// Sets a setting that may be given once; a repeat is E017, not a
    /// silent overwrite.
    fn set_once(
        &mut self,
        slot: &mut Option<Spanned<String>>,
        value: Option<Spanned<String>>,
        what: &str,
    ) {
        let Some(value) = value else {
            return;
        };
        if let Some(first) = slot {
            self.diagnostics.push(
                Diagnostic::new(Code::DuplicateEntry, format!("`{what}` is given twice"))
                    .primary(value.span, "given again here")
                    .secondary(first.span, "first given here")
                    .help(format!("keep one `{what}`")),
            );
            return;
        }
        *slot = Some(value);
    }

    fn first_string(&mut self, pair: P<'_>) -> Option<Spanned<String>> {
        let s = pair.into_inner().find(|p| p.as_rule() == Rule::string)?;
        Some(self.lower_string(s))
    }

    fn lower_record_type(&mut self, pair: P<'_>) -> ast::RecordType {
        let span = self.span(&pair);
        let fields = children(pair).map(|f| self.lower_field_decl(f)).collect();
        ast::RecordType { fields, span }
    }

    fn lower_field_decl(&mut self, pair: P<'_>) -> ast::FieldDecl {
        let span = self.span(&pair);
        let mut inner = children(pair);
        let name = inner
            .next()
            .map(|p| self.name(p))
            .unwrap_or_default_name(span);
        let ty = match inner.next() {
            Some(t) => self.lower_type(t),
            None => ast::TypeExpr {
                kind: ast::TypeKind::Named(Spanned::new(String::new(), span)),
                optional: false,
                span,
            },
        };
        ast::FieldDecl { name, ty, span }
    }

    fn lower_type(&mut self, pair: P<'_>) -> ast::TypeExpr {
        let span = self.span(&pair);
        let mut optional = false;
        let mut kind = ast::TypeKind::Named(Spanned::new(String::new(), span));
        for p in children(pair) {
            match p.as_rule() {
                Rule::optional_mark => optional = true,
                Rule::named_type => kind = ast::TypeKind::Named(self.name(p)),
                Rule::list_type => {
                    let elem = children(p).next().map(|t| self.lower_type(t));
                    if let Some(elem) = elem {
                        kind = ast::TypeKind::List(Box::new(elem));
                    }
                }
                Rule::record_type => kind = ast::TypeKind::Record(self.lower_record_type(p)),
                Rule::union_type => {
                    let members = children(p).map(|s| self.lower_simple_string(s)).collect();
                    kind = ast::TypeKind::Union(members);
                }
                _ => self.bug(&p, "a type"),
            }
        }
        ast::TypeExpr {
            kind,
            optional,
            span,
        }
    }

    // -------------------------------------------------------------- triggers

    fn lower_trigger(&mut self, pair: P<'_>) -> ast::TriggerDecl {
        let span = self.span(&pair);
        let mut inner = children(pair);
        let name = inner
            .next()
            .map(|p| self.name(p))
            .unwrap_or_default_name(span);
        let mut kind = ast::TriggerKind::Sdk;
        let mut event = Spanned::new(String::new(), span);
        for p in inner {
            match p.as_rule() {
                Rule::trigger_sdk => kind = ast::TriggerKind::Sdk,
                Rule::trigger_http => {
                    if let Some(path) = self.first_string(p) {
                        kind = ast::TriggerKind::Http { path };
                    }
                }
                Rule::trigger_s3 => kind = self.lower_s3_trigger(p),
                Rule::ident => event = self.name(p),
                _ => self.bug(&p, "a trigger"),
            }
        }
        ast::TriggerDecl {
            name,
            kind,
            event,
            span,
        }
    }

    fn lower_s3_trigger(&mut self, pair: P<'_>) -> ast::TriggerKind {
        let span = self.span(&pair);
        let mut bucket = Spanned::new(String::new(), span);
        let (mut prefix, mut suffix) = (None, None);
        for p in children(pair) {
            match p.as_rule() {
                Rule::string => bucket = self.lower_string(p),
                Rule::s3_filter => {
                    for f in children(p) {
                        match f.as_rule() {
                            Rule::s3_prefix => {
                                let value = self.first_string(f);
                                self.set_once(&mut prefix, value, "prefix");
                            }
                            Rule::s3_suffix => {
                                let value = self.first_string(f);
                                self.set_once(&mut suffix, value, "suffix");
                            }
                            _ => self.bug(&f, "an s3 filter"),
                        }
                    }
                }
                _ => self.bug(&p, "an s3 trigger"),
            }
        }
        ast::TriggerKind::S3 {
            bucket,
            prefix,
            suffix,
        }
    }

    // -------------------------------------------------------------- nodes

    fn lower_node(&mut self, pair: P<'_>) -> ast::NodeDecl {
        let span = self.span(&pair);
        let mut decl = ast::NodeDecl {
            class: Spanned::new(ast::NodeClass::Filter, span),
            name: Spanned::new(String::new(), span),
            kind: Spanned::new(String::new(), span),
            inputs: Vec::new(),
            outputs: Vec::new(),
            params: Vec::new(),
            span,
        };
        let mut idents = 0;
        for p in children(pair) {
            match p.as_rule() {
                Rule::node_class => {
                    let class = match p.as_str() {
                        "transformer" => ast::NodeClass::Transformer,
                        "view" => ast::NodeClass::View,
                        _ => ast::NodeClass::Filter,
                    };
                    decl.class = Spanned::new(class, self.span(&p));
                }
                Rule::ident if idents == 0 => {
                    decl.name = self.name(p);
                    idents += 1;
                }
                Rule::ident => decl.kind = self.name(p),
                Rule::ident_list => decl.inputs = self.names(p),
                Rule::node_outputs => {
                    decl.outputs = children(p).flat_map(|l| self.names(l)).collect();
                }
                Rule::node_param => {
                    if let Some(param) = self.lower_param(p) {
                        decl.params.push(param);
                    }
                }
                _ => self.bug(&p, "a node"),
            }
        }
        decl
    }

    fn lower_param(&mut self, pair: P<'_>) -> Option<ast::Param> {
        let span = self.span(&pair);
        let p = children(pair).next()?;
        match p.as_rule() {
            Rule::param_every => {
                let kw = Span::new(self.file, span.start as usize..span.start as usize + 5);
                let threshold = children(p).next().map(|t| self.lower_threshold(t))?;
                Some(ast::Param {
                    name: Spanned::new("every".to_string(), kw),
                    value: ast::ParamValue::Threshold(threshold),
                    span,
                })
            }
            Rule::param_emit => {
                let kw = Span::new(self.file, span.start as usize..span.start as usize + 4);
                let emit = self.lower_emit(p);
                Some(ast::Param {
                    name: Spanned::new("emit".to_string(), kw),
                    value: ast::ParamValue::Emit(emit),
                    span,
                })
            }
            Rule::param_mapping | Rule::param_generic => {
                let mut inner = children(p);
                let name = self.name(inner.next()?);
                let v = inner.next()?;
                let value = match v.as_rule() {
                    Rule::mapping => ast::ParamValue::Mapping(self.lower_mapping(v)),
                    Rule::string => ast::ParamValue::String(self.lower_string(v)),
                    Rule::duration => ast::ParamValue::Duration(self.lower_duration(v)),
                    Rule::number => ast::ParamValue::Number(self.lower_number(v)),
                    Rule::boolean => {
                        ast::ParamValue::Bool(Spanned::new(v.as_str() == "true", self.span(&v)))
                    }
                    Rule::path => ast::ParamValue::Path(self.lower_path(v)),
                    _ => {
                        self.bug(&v, "a parameter value");
                        return None;
                    }
                };
                Some(ast::Param { name, value, span })
            }
            _ => {
                self.bug(&p, "a parameter");
                None
            }
        }
    }

    fn lower_threshold(&mut self, pair: P<'_>) -> ast::Threshold {
        let span = self.span(&pair);
        let mut threshold = ast::Threshold {
            count: None,
            time: None,
            span,
        };
        for p in children(pair) {
            match p.as_rule() {
                Rule::count_threshold => {
                    if let Some(n) = children(p).next() {
                        threshold.count = Some(self.lower_count(n));
                    }
                }
                Rule::duration => threshold.time = Some(self.lower_duration(p)),
                _ => self.bug(&p, "a threshold"),
            }
        }
        threshold
    }

    /// A positive whole number of events or hops.
    fn lower_count(&mut self, pair: P<'_>) -> Spanned<u64> {
        let span = self.span(&pair);
        let text = pair.as_str();
        match text.parse::<u64>() {
            Ok(n) if n > 0 => Spanned::new(n, span),
            _ => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidLiteral,
                        format!("`{text}` is not a valid count"),
                    )
                    .primary(span, "expected a whole number of at least 1")
                    .help("counts are positive whole numbers, like `10`"),
                );
                Spanned::new(1, span)
            }
        }
    }

    fn lower_emit(&mut self, pair: P<'_>) -> ast::Emit {
        let span = self.span(&pair);
        let mut event = Spanned::new(String::new(), span);
        let mut mapping = None;
        for p in children(pair) {
            match p.as_rule() {
                Rule::ident => event = self.name(p),
                Rule::mapping => mapping = Some(self.lower_mapping(p)),
                _ => self.bug(&p, "an emit clause"),
            }
        }
        ast::Emit {
            event,
            mapping,
            span,
        }
    }

    fn lower_mapping(&mut self, pair: P<'_>) -> ast::Mapping {
        let span = self.span(&pair);
        let mut entries = Vec::new();
        for entry in children(pair) {
            let mut inner = children(entry);
            let (Some(n), Some(v)) = (inner.next(), inner.next()) else {
                continue;
            };
            let name = self.name(n);
            let value = self.lower_mapping_expr(v);
            entries.push(ast::MappingEntry { name, value });
        }
        ast::Mapping { entries, span }
    }

    fn lower_mapping_expr(&mut self, pair: P<'_>) -> ast::MappingExpr {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::call_expr => {
                let mut inner = children(pair);
                let func = inner
                    .next()
                    .map(|f| self.name(f))
                    .unwrap_or_default_name(span);
                let arg = inner.next().map(|a| self.lower_path(a));
                ast::MappingExpr::Call { func, arg, span }
            }
            Rule::mapping => ast::MappingExpr::Record(self.lower_mapping(pair)),
            Rule::string => ast::MappingExpr::String(self.lower_string(pair)),
            Rule::number => ast::MappingExpr::Number(self.lower_number(pair)),
            Rule::boolean => ast::MappingExpr::Bool(Spanned::new(pair.as_str() == "true", span)),
            _ => ast::MappingExpr::Path(self.lower_path(pair)),
        }
    }

    fn lower_path(&mut self, pair: P<'_>) -> ast::PathExpr {
        let span = self.span(&pair);
        let segments = children(pair).map(|s| self.name(s)).collect();
        ast::PathExpr { segments, span }
    }

    // -------------------------------------------------------------- routes

    fn lower_route(&mut self, pair: P<'_>) -> ast::RouteDecl {
        let span = self.span(&pair);
        let mut idents: Vec<ast::Name> = Vec::new();
        let mut decl = ast::RouteDecl {
            name: None,
            event: Spanned::new(String::new(), span),
            targets: Vec::new(),
            when: None,
            max_hops: None,
            span,
        };
        for p in children(pair) {
            match p.as_rule() {
                Rule::ident => idents.push(self.name(p)),
                Rule::ident_list => decl.targets = self.names(p),
                Rule::when_clause => {
                    decl.when = children(p).next().map(|c| self.lower_condition(c));
                }
                Rule::max_hops_clause => {
                    decl.max_hops = children(p).next().map(|n| self.lower_count(n));
                }
                _ => self.bug(&p, "a route"),
            }
        }
        let mut idents = idents.into_iter();
        match (idents.next(), idents.next()) {
            (Some(name), Some(event)) => {
                decl.name = Some(name);
                decl.event = event;
            }
            (Some(event), None) => decl.event = event,
            _ => {}
        }
        decl
    }

    fn lower_condition(&mut self, pair: P<'_>) -> ast::Condition {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::condition | Rule::paren_expr => match children(pair).next() {
                Some(inner) => self.lower_condition(inner),
                None => ast::Condition::And(Vec::new(), span),
            },
            Rule::or_expr | Rule::and_expr => {
                let is_or = pair.as_rule() == Rule::or_expr;
                let mut parts: Vec<ast::Condition> =
                    children(pair).map(|c| self.lower_condition(c)).collect();
                if parts.len() == 1 {
                    return parts.remove(0);
                }
                if is_or {
                    ast::Condition::Or(parts, span)
                } else {
                    ast::Condition::And(parts, span)
                }
            }
            Rule::not_expr => {
                let inner = children(pair)
                    .find(|p| p.as_rule() != Rule::not_kw)
                    .map(|c| self.lower_condition(c))
                    .unwrap_or(ast::Condition::And(Vec::new(), span));
                ast::Condition::Not(Box::new(inner), span)
            }
            Rule::comparison => ast::Condition::Compare(self.lower_comparison(pair)),
            _ => {
                self.bug(&pair, "a condition");
                ast::Condition::And(Vec::new(), span)
            }
        }
    }

    fn lower_comparison(&mut self, pair: P<'_>) -> ast::Comparison {
        let span = self.span(&pair);
        let mut path = ast::PathExpr {
            segments: Vec::new(),
            span,
        };
        let mut op = Spanned::new(ast::CompareOp::Eq, span);
        let mut values = Vec::new();
        let mut ignore_case = None;
        let mut negated = None;
        let mut is_in = false;
        for p in pair.into_inner() {
            let pspan = self.span(&p);
            match p.as_rule() {
                Rule::path => path = self.lower_path(p),
                Rule::compare_op => {
                    let o = match p.as_str() {
                        "!=" => ast::CompareOp::Ne,
                        "<" => ast::CompareOp::Lt,
                        "<=" => ast::CompareOp::Le,
                        ">" => ast::CompareOp::Gt,
                        ">=" => ast::CompareOp::Ge,
                        _ => ast::CompareOp::Eq,
                    };
                    op = Spanned::new(o, pspan);
                }
                Rule::string_op => {
                    let o = match p.as_str() {
                        "starts_with" => ast::CompareOp::StartsWith,
                        "ends_with" => ast::CompareOp::EndsWith,
                        "matches" => ast::CompareOp::Matches,
                        _ => ast::CompareOp::Cidr,
                    };
                    op = Spanned::new(o, pspan);
                }
                Rule::exists_op => op = Spanned::new(ast::CompareOp::Exists, pspan),
                Rule::not_kw => negated = Some(pspan),
                Rule::kw_in => {
                    is_in = true;
                    let s = negated.map_or(pspan, |n| n.to(pspan));
                    let o = if negated.is_some() {
                        ast::CompareOp::NotIn
                    } else {
                        ast::CompareOp::In
                    };
                    op = Spanned::new(o, s);
                }
                Rule::ignore_case => ignore_case = Some(pspan),
                Rule::literal_list => {
                    values = p.into_inner().map(|l| self.lower_literal(l)).collect();
                }
                Rule::string | Rule::number | Rule::boolean | Rule::null => {
                    values.push(self.lower_literal(p));
                }
                _ => self.bug(&p, "a comparison"),
            }
        }
        debug_assert!(!is_in || matches!(op.node, ast::CompareOp::In | ast::CompareOp::NotIn));
        ast::Comparison {
            path,
            op,
            values,
            ignore_case,
            span,
        }
    }

    fn lower_literal(&mut self, pair: P<'_>) -> Spanned<ast::Literal> {
        let span = self.span(&pair);
        let lit = match pair.as_rule() {
            Rule::string => ast::Literal::String(self.lower_string(pair).node),
            Rule::number => ast::Literal::Number(self.lower_number(pair).node),
            Rule::boolean => ast::Literal::Bool(pair.as_str() == "true"),
            _ => ast::Literal::Null,
        };
        Spanned::new(lit, span)
    }

    // -------------------------------------------------------------- flows, apps

    fn lower_flow(&mut self, pair: P<'_>) -> ast::FlowDecl {
        let span = self.span(&pair);
        let mut names = children(pair).map(|p| self.name(p));
        let name = names.next().unwrap_or_default_name(span);
        ast::FlowDecl {
            name,
            steps: names.collect(),
            span,
        }
    }

    fn lower_app(&mut self, pair: P<'_>) -> ast::AppDecl {
        let span = self.span(&pair);
        let mut decl = ast::AppDecl {
            name: Spanned::new(String::new(), span),
            nodes: Vec::new(),
            flows: Vec::new(),
            sinks: Vec::new(),
            settings: Vec::new(),
            span,
        };
        for p in children(pair) {
            match p.as_rule() {
                Rule::ident => decl.name = self.name(p),
                Rule::app_nodes => {
                    decl.nodes.extend(children(p).flat_map(|l| self.names(l)));
                }
                Rule::app_flows => {
                    decl.flows.extend(children(p).flat_map(|l| self.names(l)));
                }
                Rule::sink_decl => decl.sinks.push(self.lower_sink(p)),
                Rule::app_param => {
                    let mut inner = children(p);
                    if let (Some(n), Some(v)) = (inner.next(), inner.next()) {
                        let name = self.name(n);
                        let value = self.lower_string(v);
                        decl.settings.push((name, value));
                    }
                }
                _ => self.bug(&p, "an app"),
            }
        }
        decl
    }

    fn lower_sink(&mut self, pair: P<'_>) -> ast::SinkDecl {
        let span = self.span(&pair);
        let mut idents = Vec::new();
        let mut params = Vec::new();
        for p in children(pair) {
            match p.as_rule() {
                Rule::ident => idents.push(self.name(p)),
                Rule::node_param => params.extend(self.lower_param(p)),
                _ => self.bug(&p, "a sink"),
            }
        }
        let mut idents = idents.into_iter();
        let empty = || Spanned::new(String::new(), span);
        ast::SinkDecl {
            name: idents.next().unwrap_or_else(empty),
            kind: idents.next().unwrap_or_else(empty),
            event: idents.next().unwrap_or_else(empty),
            params,
            span,
        }
    }

    // -------------------------------------------------------------- tests

    fn lower_test(&mut self, pair: P<'_>) -> ast::TestDecl {
        let span = self.span(&pair);
        let mut name = Spanned::new(String::new(), span);
        let mut steps = Vec::new();
        for p in children(pair) {
            match p.as_rule() {
                Rule::string => name = self.lower_string(p),
                Rule::test_given
                | Rule::test_advance
                | Rule::test_expect
                | Rule::test_expect_none
                | Rule::test_expect_state => {
                    if let Some(step) = self.lower_test_step(p) {
                        steps.push(step);
                    }
                }
                _ => self.bug(&p, "a test"),
            }
        }
        ast::TestDecl { name, steps, span }
    }

    fn lower_test_step(&mut self, pair: P<'_>) -> Option<ast::TestStep> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = children(pair);
        let step = match rule {
            Rule::test_given => {
                let event = self.name(inner.next()?);
                let value = self.lower_value(inner.next()?);
                let at = inner.next().map(|d| self.lower_duration(d));
                ast::TestStep::Given {
                    event,
                    value,
                    at,
                    span,
                }
            }
            Rule::test_advance => ast::TestStep::Advance {
                by: self.lower_duration(inner.next()?),
                span,
            },
            Rule::test_expect => {
                let event = self.name(inner.next()?);
                let value = inner.next().map(|v| self.lower_value(v));
                ast::TestStep::Expect { event, value, span }
            }
            Rule::test_expect_none => ast::TestStep::ExpectNone {
                event: self.name(inner.next()?),
                span,
            },
            _ => {
                let node = self.name(inner.next()?);
                let key = self.lower_string(inner.next()?);
                let value = self.lower_value(inner.next()?);
                ast::TestStep::ExpectState {
                    node,
                    key,
                    value,
                    span,
                }
            }
        };
        Some(step)
    }

    fn lower_value(&mut self, pair: P<'_>) -> Spanned<ast::Value> {
        let span = self.span(&pair);
        let value = match pair.as_rule() {
            Rule::object_value => {
                let mut entries = Vec::new();
                for entry in children(pair) {
                    let mut inner = children(entry);
                    if let (Some(n), Some(v)) = (inner.next(), inner.next()) {
                        let name = self.name(n);
                        entries.push((name, self.lower_value(v)));
                    }
                }
                ast::Value::Object(entries)
            }
            Rule::list_value => {
                ast::Value::List(children(pair).map(|v| self.lower_value(v)).collect())
            }
            Rule::string => ast::Value::String(self.lower_string(pair).node),
            Rule::number => ast::Value::Number(self.lower_number(pair).node),
            Rule::boolean => ast::Value::Bool(pair.as_str() == "true"),
            _ => ast::Value::Null,
        };
        Spanned::new(value, span)
    }

    // -------------------------------------------------------------- literals

    fn lower_string(&mut self, pair: P<'_>) -> Spanned<String> {
        let span = self.span(&pair);
        let Some(kind) = pair.clone().into_inner().next() else {
            return self.lower_simple_string(pair);
        };
        match kind.as_rule() {
            Rule::triple_string => {
                let body = kind.into_inner().next();
                let (text, start) = match &body {
                    Some(b) => (b.as_str(), b.as_span().start()),
                    None => ("", span.start as usize + 3),
                };
                let text = self.unescape(text, start);
                Spanned::new(dedent(&text), span)
            }
            _ => self.lower_simple_string(kind),
        }
    }

    fn lower_simple_string(&mut self, pair: P<'_>) -> Spanned<String> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next();
        let (text, start) = match &inner {
            Some(b) => (b.as_str(), b.as_span().start()),
            None => ("", span.start as usize + 1),
        };
        Spanned::new(self.unescape(text, start), span)
    }

    /// Resolves `\n \t \r \\ \" \0 \u{…}`; anything else is E002.
    fn unescape(&mut self, text: &str, start: usize) -> String {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((_, e)) = chars.next() else {
                out.push('\\');
                break;
            };
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                '{' => out.push_str("\\{"),
                'u' => {
                    let rest = &text[i + 2..];
                    let parsed = rest
                        .strip_prefix('{')
                        .and_then(|r| r.split_once('}'))
                        .and_then(|(hex, _)| {
                            let c = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)?;
                            Some((c, hex.len() + 2))
                        });
                    match parsed {
                        Some((c, consumed)) => {
                            out.push(c);
                            for _ in 0..consumed {
                                chars.next();
                            }
                        }
                        None => {
                            self.escape_error(
                                start + i,
                                2,
                                "`\\u` needs a code point like `\\u{1F600}`",
                            );
                        }
                    }
                }
                other => {
                    let len = 1 + other.len_utf8();
                    self.escape_error(
                        start + i,
                        len,
                        "valid escapes are \\n \\t \\r \\0 \\\\ \\\" \\{ and \\u{…}",
                    );
                }
            }
        }
        out
    }

    fn escape_error(&mut self, at: usize, len: usize, help: &str) {
        self.diagnostics.push(
            Diagnostic::new(Code::InvalidEscape, "invalid escape sequence in string")
                .primary(Span::new(self.file, at..at + len), "not a known escape")
                .help(help.to_string()),
        );
    }

    fn lower_number(&mut self, pair: P<'_>) -> Spanned<ast::Number> {
        let span = self.span(&pair);
        let text = pair.as_str().to_string();
        let value = text.parse::<f64>().unwrap_or(f64::NAN);
        if !value.is_finite() {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidLiteral,
                    format!("number `{text}` is out of range"),
                )
                .primary(span, "too large for a 64-bit float")
                .help("EventBridge numbers must fit in a 64-bit float"),
            );
        }
        Spanned::new(ast::Number { text, value }, span)
    }

    /// A duration in milliseconds.
    fn lower_duration(&mut self, pair: P<'_>) -> Spanned<u64> {
        let span = self.span(&pair);
        let text = pair.as_str();
        let digits_end = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (digits, unit) = text.split_at(digits_end);
        let factor: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => 86_400_000,
        };
        let millis = digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(factor));
        match millis {
            Some(ms) if ms <= MAX_DURATION_MS => Spanned::new(ms, span),
            _ => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::InvalidLiteral,
                        format!("duration `{text}` is out of range"),
                    )
                    .primary(span, "must be at most 365 days")
                    .help("write a duration like `500ms`, `30s`, `15m`, `2h` or `1d`"),
                );
                Spanned::new(1_000, span)
            }
        }
    }
}

/// The length of `text` without trailing whitespace and comments, which
/// pest lets rules that end in an optional part swallow.
fn trimmed_len(text: &str) -> usize {
    let trimmed = text.trim_end();
    // Fast path: no comment can end the text.
    let last_line = trimmed.rsplit('\n').next().unwrap_or(trimmed);
    if !trimmed.ends_with("*/") && !last_line.contains("//") {
        return trimmed.len();
    }
    // Scan forward, skipping strings and comments, and remember where the
    // last character of real text ends.
    let bytes = trimmed.as_bytes();
    let (mut i, mut end, mut depth) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        let rest = &bytes[i..];
        if depth > 0 {
            if rest.starts_with(b"/*") {
                depth += 1;
                i += 2;
            } else if rest.starts_with(b"*/") {
                depth -= 1;
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        if rest.starts_with(b"/*") {
            depth = 1;
            i += 2;
        } else if rest.starts_with(b"//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if rest.starts_with(b"\"\"\"") {
            i += 3;
            while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 3).min(bytes.len());
            end = i;
        } else if bytes[i] == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            end = i;
        } else {
            if !bytes[i].is_ascii_whitespace() {
                end = i + 1;
            }
            i += 1;
        }
    }
    // Never split a UTF-8 character.
    (end..=trimmed.len())
        .find(|e| trimmed.is_char_boundary(*e))
        .unwrap_or(trimmed.len())
}

/// Triple-quoted strings drop the line break after the opening quotes, the
/// indentation common to all lines and the whitespace before the closing
/// quotes, so that multi-line prompts can be indented with the code.
fn dedent(text: &str) -> String {
    let text = text
        .strip_prefix("\r\n")
        .or_else(|| text.strip_prefix('\n'))
        .unwrap_or(text);
    let trimmed_end = match text.rfind('\n') {
        Some(i) if text[i + 1..].trim().is_empty() => &text[..i],
        _ => text,
    };
    let indent = trimmed_end
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = trimmed_end
        .lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start_matches([' ', '\t'])
            }
        })
        .collect();
    lines.join("\n")
}

/// The longest duration flowc accepts (windows, thresholds, test clocks).
pub const MAX_DURATION_MS: u64 = 365 * 86_400_000;

trait OrDefaultName {
    fn unwrap_or_default_name(self, span: Span) -> ast::Name;
}

impl OrDefaultName for Option<ast::Name> {
    fn unwrap_or_default_name(self, span: Span) -> ast::Name {
        self.unwrap_or_else(|| Spanned::new(String::new(), span))
    }
}
