//! Nodes: kind and class, parameters per kind, and the inferred shape of
//! every emitted event.
//! Input: node declarations and the schemas of declared events. Output:
//! `model.nodes` and the derived events in `model.events`.
//! Invariant: a node is checked only once the schemas of all its inputs are
//! known, so emitted shapes can build on emitted shapes in any order.

use std::collections::BTreeSet;

use super::model::{
    AggregateFn, Emit, Event, EventOrigin, Field, MapValue, Node, NodeKind, Record, Schema, Type,
};
use super::params::{ParamSet, ParamSpec};
use super::resolve::Decls;
use super::types::{resolve_path, Resolved};
use super::Ctx;
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::syntax::ast::{self, NodeClass};

pub(super) const KINDS: [(&str, Option<NodeClass>); 9] = [
    ("counter", Some(NodeClass::Filter)),
    ("aggregator", Some(NodeClass::Filter)),
    ("stitcher", Some(NodeClass::Filter)),
    ("dedupe", Some(NodeClass::Filter)),
    ("splitter", Some(NodeClass::Transformer)),
    ("combiner", Some(NodeClass::Transformer)),
    ("summarizer", Some(NodeClass::View)),
    ("transcriber", Some(NodeClass::View)),
    ("custom", None),
];

pub(super) fn spec(kind: &str) -> ParamSpec {
    let (required, optional): (&'static [&'static str], &'static [&'static str]) = match kind {
        "counter" => (&["key", "every", "emit"], &[]),
        "aggregator" => (&["key", "every", "collect", "emit"], &["aggregate"]),
        "stitcher" => (&["key", "content", "order_by", "every", "emit"], &[]),
        "dedupe" => (&["key", "window", "emit"], &[]),
        "splitter" => (&["over", "emit"], &[]),
        "combiner" => (&["key", "window", "emit"], &[]),
        "summarizer" => (&["image", "model", "prompt", "emit"], &["max_tokens"]),
        "transcriber" => (&["media", "emit"], &["language"]),
        _ => (&["lambda", "command"], &["timeout"]),
    };
    ParamSpec { required, optional }
}

/// The events a node reads, with their schemas.
struct Inputs {
    events: Vec<(String, Schema)>,
}

impl Inputs {
    fn first(&self) -> Option<&(String, Schema)> {
        self.events.first()
    }
}

/// What names a mapping may read besides input paths.
struct Scope<'s> {
    inputs: &'s Inputs,
    builtins: Vec<(&'static str, Type)>,
    aggregates: Vec<(String, Type)>,
}

impl Ctx<'_> {
    pub(super) fn check_nodes(&mut self, decls: &Decls<'_>) {
        let emitted: BTreeSet<String> = decls
            .nodes
            .iter()
            .filter_map(|n| emit_of(n).map(|e| e.event.node.clone()))
            .collect();
        let mut pending: Vec<&ast::NodeDecl> = Vec::new();
        for node in &decls.nodes {
            if self.check_node_header(node, &emitted) {
                pending.push(node);
            }
        }
        // Check nodes as their inputs become known; emitted shapes feed
        // later nodes.
        loop {
            let before = pending.len();
            pending.retain(|node| {
                let ready = node
                    .inputs
                    .iter()
                    .all(|i| self.model.events.contains_key(&i.node));
                if ready {
                    self.check_node(node);
                }
                !ready
            });
            if pending.len() == before {
                break;
            }
        }
        for node in pending {
            // Inputs that never got a shape: produced by a node that waits on
            // this one (a cycle, reported by the graph check) or poisoned.
            self.stuck_nodes.insert(node.name.node.clone());
            if let Some(e) = emit_of(node) {
                self.poisoned.insert(e.event.node.clone());
            }
        }
    }

    /// Kind, class and input names. Returns whether the node can be checked.
    fn check_node_header(&mut self, node: &ast::NodeDecl, emitted: &BTreeSet<String>) -> bool {
        let kind = node.kind.node.as_str();
        let Some((_, class)) = KINDS.iter().find(|(k, _)| *k == kind) else {
            let names = KINDS.iter().map(|(k, _)| *k);
            let d = Diagnostic::new(Code::UnknownNodeKind, format!("unknown node kind `{kind}`"))
                .primary(node.kind.span, "not a node kind")
                .help(did_you_mean(kind, names).unwrap_or_else(|| {
                    "node kinds are counter, aggregator, stitcher, dedupe, splitter, combiner, \
                 summarizer, transcriber and custom"
                        .to_string()
                }));
            self.push(d);
            self.poison_node(node);
            return false;
        };
        if kind != "custom" && !node.outputs.is_empty() {
            let span = node.outputs[0]
                .span
                .to(node.outputs[node.outputs.len() - 1].span);
            let d = Diagnostic::new(
                Code::CustomOutputs,
                format!("a {kind} does not declare outputs with `->`"),
            )
            .primary(span, "only custom nodes list their outputs")
            .help("built-in nodes say what they produce with `emit Name` in their body");
            self.push(d);
        }
        if let Some(class) = class {
            if *class != node.class.node {
                let d = Diagnostic::new(
                    Code::WrongNodeClass,
                    format!(
                        "`{kind}` is a {}, not a {}",
                        class.keyword(),
                        node.class.node.keyword()
                    ),
                )
                .primary(
                    node.class.span,
                    format!("declared as a {}", node.class.node.keyword()),
                )
                .help(format!(
                    "write `{} {} = {kind}(…)`",
                    class.keyword(),
                    node.name.node
                ));
                self.push(d);
            }
        }
        let mut ok = true;
        for input in &node.inputs {
            let known =
                self.model.events.contains_key(&input.node) || emitted.contains(&input.node);
            if !known {
                ok = false;
                if !self.poisoned.contains(&input.node) {
                    let names = self.event_names_with(emitted);
                    let d = Diagnostic::new(
                        Code::UnknownEvent,
                        format!(
                            "node `{}` reads unknown event `{}`",
                            node.name.node, input.node
                        ),
                    )
                    .primary(input.span, "no event has this name")
                    .help(
                        did_you_mean(&input.node, names.iter().map(String::as_str)).unwrap_or_else(
                            || format!("declare it: `event {} {{ … }}`", input.node),
                        ),
                    );
                    self.unknown_names.push(input.node.clone());
                    self.push(d);
                }
            }
        }
        if !ok {
            self.poison_node(node);
        }
        ok
    }

    fn poison_node(&mut self, node: &ast::NodeDecl) {
        self.poisoned.insert(node.name.node.clone());
        if let Some(e) = emit_of(node) {
            self.poisoned.insert(e.event.node.clone());
        }
        for out in &node.outputs {
            self.poisoned.insert(out.node.clone());
        }
    }

    fn event_names_with(&self, emitted: &BTreeSet<String>) -> Vec<String> {
        let mut names = self.event_names();
        names.extend(emitted.iter().cloned());
        names
    }

    fn check_node(&mut self, node: &ast::NodeDecl) {
        let kind = node.kind.node.as_str();
        let owner = format!("{kind} `{}`", node.name.node);
        let inputs = Inputs {
            events: node
                .inputs
                .iter()
                .filter_map(|i| {
                    let e = self.model.events.get(&i.node)?;
                    Some((i.node.clone(), e.schema.clone()))
                })
                .collect(),
        };
        if !self.check_input_count(node, kind) {
            self.poison_node(node);
            return;
        }
        let params = self.param_set(&node.params, &spec(kind), &owner, node.name.span);
        let checked = match kind {
            "counter" => self.check_counter(node, &params, &inputs),
            "aggregator" => self.check_aggregator(node, &params, &inputs),
            "stitcher" => self.check_stitcher(node, &params, &inputs),
            "dedupe" => self.check_dedupe(node, &params, &inputs),
            "splitter" => self.check_splitter(node, &params, &inputs),
            "combiner" => self.check_combiner(node, &params, &inputs),
            "summarizer" => self.check_summarizer(node, &params, &inputs),
            "transcriber" => self.check_transcriber(node, &params, &inputs),
            _ => self.check_custom(node, &params),
        };
        let Some((kind, emit)) = checked else {
            self.poison_node(node);
            return;
        };
        let outputs = match &emit {
            Some(e) => vec![e.event.clone()],
            None => node.outputs.iter().map(|o| o.node.clone()).collect(),
        };
        self.model.nodes.insert(
            node.name.node.clone(),
            Node {
                name: node.name.node.clone(),
                class: node.class.node,
                kind,
                inputs: node.inputs.iter().map(|i| i.node.clone()).collect(),
                outputs,
                emit,
                span: node.name.span,
            },
        );
    }

    fn check_input_count(&mut self, node: &ast::NodeDecl, kind: &str) -> bool {
        let n = node.inputs.len();
        let (ok, wanted) = match kind {
            "combiner" => (n >= 2, "two or more input events"),
            "custom" => (n >= 1, "one or more input events"),
            _ => (n == 1, "exactly one input event"),
        };
        if !ok {
            let span = node.inputs.first().map_or(node.kind.span, |f| {
                node.inputs.last().map_or(f.span, |l| f.span.to(l.span))
            });
            let d = Diagnostic::new(
                if kind == "combiner" {
                    Code::CombinerInputs
                } else {
                    Code::NodeInputs
                },
                format!("{kind} `{}` takes {wanted}, found {n}", node.name.node),
            )
            .primary(span, format!("{n} input event(s)"))
            .help(if kind == "combiner" {
                "a combiner joins two or more different events: `combiner(A, B)`".to_string()
            } else {
                "write one node per input event, or use a combiner to join events".to_string()
            });
            self.push(d);
            return false;
        }
        let mut seen: Vec<&ast::Name> = Vec::new();
        for input in &node.inputs {
            if let Some(first) = seen.iter().find(|s| s.node == input.node) {
                let d = Diagnostic::new(
                    Code::CombinerInputs,
                    format!(
                        "`{}` is listed twice as an input of `{}`",
                        input.node, node.name.node
                    ),
                )
                .primary(input.span, "listed again here")
                .secondary(first.span, "first listed here")
                .help("inputs of a node must be distinct events");
                self.push(d);
                return false;
            }
            seen.push(input);
        }
        true
    }

    // -------------------------------------------------------------- per kind

    fn check_counter(
        &mut self,
        node: &ast::NodeDecl,
        params: &ParamSet<'_>,
        inputs: &Inputs,
    ) -> Option<(NodeKind, Option<Emit>)> {
        let key = self.key_param(params, inputs);
        let (count, window_ms) = self.threshold_param(params);
        let (_, schema) = inputs.first()?;
        let mut data = schema.data.clone();
        let stats = window_stats();
        self.add_stats(node, &mut data, &stats);
        let scope = Scope {
            inputs,
            builtins: stats
                .iter()
                .map(|f| (static_name(&f.name), f.ty.clone()))
                .collect(),
            aggregates: Vec::new(),
        };
        let emit = self.emit_param(node, params, &scope, data);
        Some((
            NodeKind::Counter {
                key: key?,
                count,
                window_ms,
            },
            Some(emit?),
        ))
    }

    fn check_aggregator(
        &mut self,
        node: &ast::NodeDecl,
        params: &ParamSet<'_>,
        inputs: &Inputs,
    ) -> Option<(NodeKind, Option<Emit>)> {
        let key = self.key_param(params, inputs);
        let (count, window_ms) = self.threshold_param(params);
        let (event, schema) = inputs.first()?;
        let mut collect = Vec::new();
        let mut record = Record::default();
        if let Some(mapping) = self.param_mapping(params, "collect") {
            for entry in &mapping.entries {
                let ast::MappingExpr::Path(path) = &entry.value else {
                    self.push(
                        Diagnostic::new(
                            Code::ParameterKind,
                            format!("`collect` entry `{}` must be a field path", entry.name.node),
                        )
                        .primary(entry.value.span(), "not a field path")
                        .help("collect copies input fields: `collect { app: application.name }`"),
                    );
                    continue;
                };
                if let Some(resolved) = self.resolve(schema, event, path) {
                    record.set(Field {
                        name: entry.name.node.clone(),
                        ty: resolved.ty,
                        optional: resolved.optional,
                        span: Some(entry.name.span),
                    });
                    collect.push((entry.name.node.clone(), segments(path)));
                }
            }
        }
        let mut aggregates = Vec::new();
        if let Some(mapping) = self.param_mapping(params, "aggregate") {
            for entry in &mapping.entries {
                if let Some(agg) = self.check_aggregate(entry, event, schema) {
                    aggregates.push(agg);
                }
            }
        }
        let mut data = Record::default();
        data.set(Record::field(
            "records",
            Type::List(Box::new(Type::Record(record))),
        ));
        for stat in window_stats() {
            data.set(stat);
        }
        let agg_types: Vec<(String, Type)> = aggregates
            .iter()
            .map(|(name, f, _)| (name.clone(), aggregate_type(*f)))
            .collect();
        for (name, ty) in &agg_types {
            if data.get(name).is_some() {
                self.push(
                    Diagnostic::new(
                        Code::EmitShape,
                        format!(
                            "aggregate `{name}` collides with the aggregator's own field `{name}`"
                        ),
                    )
                    .primary(node.name.span, "in this aggregator")
                    .help("rename the aggregate"),
                );
            }
            data.set(Record::field(name, ty.clone()));
        }
        let mut builtins: Vec<(&'static str, Type)> =
            vec![("records", data.get("records")?.ty.clone())];
        builtins.extend(
            window_stats()
                .iter()
                .map(|f| (static_name(&f.name), f.ty.clone())),
        );
        let scope = Scope {
            inputs,
            builtins,
            aggregates: agg_types,
        };
        let emit = self.emit_param(node, params, &scope, data);
        Some((
            NodeKind::Aggregator {
                key: key?,
                count,
                window_ms,
                collect,
                aggregates,
            },
            Some(emit?),
        ))
    }

    fn check_aggregate(
        &mut self,
        entry: &ast::MappingEntry,
        event: &str,
        schema: &Schema,
    ) -> Option<(String, AggregateFn, Option<Vec<String>>)> {
        let ast::MappingExpr::Call { func, arg, span } = &entry.value else {
            self.push(
                Diagnostic::new(
                    Code::ParameterKind,
                    format!("aggregate `{}` must be a function call", entry.name.node),
                )
                .primary(entry.value.span(), "not a call")
                .help("aggregates are count(), sum(path), min(path), max(path) and avg(path)"),
            );
            return None;
        };
        let f = match func.node.as_str() {
            "count" => AggregateFn::Count,
            "sum" => AggregateFn::Sum,
            "min" => AggregateFn::Min,
            "max" => AggregateFn::Max,
            "avg" => AggregateFn::Avg,
            other => {
                let names = ["count", "sum", "min", "max", "avg"];
                self.push(
                    Diagnostic::new(
                        Code::ParameterKind,
                        format!("`{other}` is not an aggregate function"),
                    )
                    .primary(func.span, "unknown function")
                    .help(did_you_mean(other, names).unwrap_or_else(|| {
                        "aggregates are count(), sum(path), min(path), max(path) and avg(path)"
                            .to_string()
                    })),
                );
                return None;
            }
        };
        match (f, arg) {
            (AggregateFn::Count, None) => Some((entry.name.node.clone(), f, None)),
            (AggregateFn::Count, Some(a)) => {
                self.push(
                    Diagnostic::new(Code::ParameterKind, "`count()` takes no field")
                        .primary(a.span, "remove this")
                        .help("write `count()`"),
                );
                None
            }
            (_, None) => {
                self.push(
                    Diagnostic::new(
                        Code::ParameterKind,
                        format!("`{}` needs a numeric field", func.node),
                    )
                    .primary(*span, "no field given")
                    .help(format!("for example: `{}(data.seconds)`", func.node)),
                );
                None
            }
            (_, Some(path)) => {
                let resolved = self.resolve(schema, event, path)?;
                if !resolved.ty.element().is_numeric() {
                    self.push(
                        Diagnostic::new(
                            Code::OperatorType,
                            format!(
                                "`{}` needs a number, but `{}` is a {}",
                                func.node,
                                path.dotted(),
                                resolved.ty
                            ),
                        )
                        .primary(path.span, format!("this is a {}", resolved.ty))
                        .help("aggregate an int, float or duration field, or use count()"),
                    );
                    return None;
                }
                Some((entry.name.node.clone(), f, Some(segments(path))))
            }
        }
    }

    fn check_stitcher(
        &mut self,
        node: &ast::NodeDecl,
        params: &ParamSet<'_>,
        inputs: &Inputs,
    ) -> Option<(NodeKind, Option<Emit>)> {
        let key = self.key_param(params, inputs);
        let (count, window_ms) = self.threshold_param(params);
        let (event, schema) = inputs.first()?;
        let mut content = None;
        if let Some(path) = self.param_path(params, "content") {
            if let Some(r) = self.resolve(schema, event, path) {
                match r.ty {
                    Type::Object => content = Some((segments(path), true, Type::Object)),
                    Type::String => content = Some((segments(path), false, Type::String)),
                    other => self.push(
                        Diagnostic::new(
                            Code::StitcherContent,
                            format!("stitcher content `{}` is a {other}", path.dotted()),
                        )
                        .primary(path.span, "neither an object nor text")
                        .help("stitch an `object` field (bytes are concatenated) or a `string` field (text is joined)"),
                    ),
                }
            }
        }
        let mut order_by = None;
        if let Some(path) = self.param_path(params, "order_by") {
            if let Some(r) = self.resolve(schema, event, path) {
                let orderable = matches!(
                    r.ty,
                    Type::Int | Type::Float | Type::Duration | Type::Timestamp | Type::String
                );
                if orderable {
                    order_by = Some(segments(path));
                } else {
                    self.push(
                        Diagnostic::new(
                            Code::OperatorType,
                            format!("cannot order by `{}`, a {}", path.dotted(), r.ty),
                        )
                        .primary(path.span, "not orderable")
                        .help("order by a number, timestamp or string field such as a sequence number"),
                    );
                }
            }
        }
        let (content_path, is_object, content_ty) = content?;
        let mut data = Record::default();
        data.set(Record::field("content", content_ty.clone()));
        data.set(Record::field("pieces", Type::Int));
        for stat in window_stats().into_iter().skip(1) {
            data.set(stat);
        }
        let builtins = vec![
            ("content", content_ty),
            ("pieces", Type::Int),
            ("first_at", Type::Timestamp),
            ("last_at", Type::Timestamp),
        ];
        let scope = Scope {
            inputs,
            builtins,
            aggregates: Vec::new(),
        };
        let emit = self.emit_param(node, params, &scope, data);
        Some((
            NodeKind::Stitcher {
                key: key?,
                content: content_path,
                content_is_object: is_object,
                order_by: order_by?,
                count,
                window_ms,
            },
            Some(emit?),
        ))
    }

    fn check_dedupe(
        &mut self,
        node: &ast::NodeDecl,
        params: &ParamSet<'_>,
        inputs: &Inputs,
    ) -> Option<(NodeKind, Option<Emit>)> {
        let key = self.key_param(params, inputs);
        let window = self.param_duration(params, "window");
        let (_, schema) = inputs.first()?;
        let scope = Scope {
            inputs,
            builtins: Vec::new(),
            aggregates: Vec::new(),
        };
        let emit = self.emit_param(node, params, &scope, schema.data.clone());
        Some((
            NodeKind::Dedupe {
                key: key?,
                window_ms: window?,
            },
            Some(emit?),
        ))
    }

    fn check_splitter(
        &mut self,
        node: &ast::NodeDecl,
        params: &ParamSet<'_>,
        inputs: &Inputs,
    ) -> Option<(NodeKind, Option<Emit>)> {
        let (event, schema) = inputs.first()?;
        let path = self.param_path(params, "over")?;
        let resolved = self.resolve(schema, event, path)?;
        let Type::List(elem) = &resolved.ty else {
            self.push(
                Diagnostic::new(
                    Code::SplitterNeedsList,
                    format!(
                        "splitter `{}` needs a list, but `{}` is a {}",
                        node.name.node,
                        path.dotted(),
                        resolved.ty
                    ),
                )
                .primary(path.span, format!("this is a {}", resolved.ty))
                .help("split over a `list<T>` field; the splitter emits one event per element"),
            );
            return None;
        };
        let elem = (**elem).clone();
        let mut data = schema.data.clone();
        if path.segments.len() == 2 && path.segments[0].node == "data" {
            data.fields.retain(|f| f.name != path.segments[1].node);
        }
        let builtins = vec![
            ("item", elem.clone()),
            ("index", Type::Int),
            ("total", Type::Int),
        ];
        for (name, ty) in &builtins {
            data.set(Record::field(name, ty.clone()));
        }
        let scope = Scope {
            inputs,
            builtins,
            aggregates: Vec::new(),
        };
        let emit = self.emit_param(node, params, &scope, data);
        Some((
            NodeKind::Splitter {
                over: segments(path),
            },
            Some(emit?),
        ))
    }

    fn check_combiner(
        &mut self,
        node: &ast::NodeDecl,
        params: &ParamSet<'_>,
        inputs: &Inputs,
    ) -> Option<(NodeKind, Option<Emit>)> {
        let window = self.param_duration(params, "window");
        let mut key = None;
        if let Some(path) = self.param_path(params, "key") {
            let mut key_ty: Option<(String, Type)> = None;
            let mut ok = true;
            for (event, schema) in &inputs.events {
                match resolve_path(schema, event, &path.segments) {
                    Ok(r) => {
                        if let Some((first_event, first_ty)) = &key_ty {
                            if *first_ty != r.ty {
                                ok = false;
                                self.push(
                                    Diagnostic::new(
                                        Code::CombinerInputs,
                                        format!(
                                            "key `{}` is a {} in `{first_event}` but a {} in `{event}`",
                                            path.dotted(), first_ty, r.ty
                                        ),
                                    )
                                    .primary(path.span, "key types differ between inputs")
                                    .help("combine events whose key fields have the same type"),
                                );
                            }
                        } else {
                            key_ty = Some((event.clone(), r.ty.clone()));
                        }
                    }
                    Err(_) => {
                        ok = false;
                        let input_span = node
                            .inputs
                            .iter()
                            .find(|i| &i.node == event)
                            .map(|i| i.span);
                        let mut d = Diagnostic::new(
                            Code::CombinerInputs,
                            format!("combiner key `{}` is not a field of input `{event}`", path.dotted()),
                        )
                        .primary(path.span, format!("missing in `{event}`"))
                        .help("every input of a combiner must carry the key field, with the same type");
                        if let Some(s) = input_span {
                            d = d.secondary(s, "this input lacks the key");
                        }
                        self.push(d);
                    }
                }
            }
            if let (true, Some((_, ty))) = (ok, &key_ty) {
                if self.check_scalar_key(path, ty) {
                    key = Some(segments(path));
                }
            }
        }
        let mut data = Record::default();
        for (event, schema) in &inputs.events {
            data.set(Record::field(
                &snake_case(event),
                Type::Record(schema.data.clone()),
            ));
        }
        let scope = Scope {
            inputs,
            builtins: Vec::new(),
            aggregates: Vec::new(),
        };
        let emit = self.emit_param(node, params, &scope, data);
        Some((
            NodeKind::Combiner {
                key: key?,
                window_ms: window?,
            },
            Some(emit?),
        ))
    }

    fn check_summarizer(
        &mut self,
        node: &ast::NodeDecl,
        params: &ParamSet<'_>,
        inputs: &Inputs,
    ) -> Option<(NodeKind, Option<Emit>)> {
        let (event, schema) = inputs.first()?;
        let image = self.object_param(params, "image", event, schema);
        let model = self.param_string(params, "model").map(|s| s.node.clone());
        let prompt = self.param_string(params, "prompt");
        if let Some(prompt) = prompt {
            self.check_template(prompt, event, schema);
        }
        let max_tokens = self.param_count(params, "max_tokens");
        let mut data = schema.data.clone();
        self.add_builtin_field(node, &mut data, "summary");
        let scope = Scope {
            inputs,
            builtins: vec![("output", Type::String)],
            aggregates: Vec::new(),
        };
        let emit = self.emit_param(node, params, &scope, data);
        Some((
            NodeKind::Summarizer {
                image: image?,
                model: model?,
                prompt: prompt?.node.clone(),
                max_tokens,
            },
            Some(emit?),
        ))
    }

    fn check_transcriber(
        &mut self,
        node: &ast::NodeDecl,
        params: &ParamSet<'_>,
        inputs: &Inputs,
    ) -> Option<(NodeKind, Option<Emit>)> {
        let (event, schema) = inputs.first()?;
        let media = self.object_param(params, "media", event, schema);
        let language = self
            .param_string(params, "language")
            .map_or_else(|| "en-US".to_string(), |s| s.node.clone());
        let mut data = schema.data.clone();
        self.add_builtin_field(node, &mut data, "transcript");
        let scope = Scope {
            inputs,
            builtins: vec![("output", Type::String)],
            aggregates: Vec::new(),
        };
        let emit = self.emit_param(node, params, &scope, data);
        Some((
            NodeKind::Transcriber {
                media: media?,
                language,
            },
            Some(emit?),
        ))
    }

    fn check_custom(
        &mut self,
        node: &ast::NodeDecl,
        params: &ParamSet<'_>,
    ) -> Option<(NodeKind, Option<Emit>)> {
        let lambda = self.param_string(params, "lambda");
        if let Some(arn) = lambda {
            if !is_lambda_arn(&arn.node) {
                self.push(
                    Diagnostic::new(Code::InvalidOperand, format!("`{}` is not a Lambda function ARN", arn.node))
                        .primary(arn.span, "expected arn:aws:lambda:REGION:ACCOUNT:function:NAME")
                        .help("for example: `lambda \"arn:aws:lambda:us-east-1:123456789012:function:my-node\"`"),
                );
            }
        }
        let command = self.param_string(params, "command");
        if let Some(c) = command {
            if c.node.trim().is_empty() {
                self.push(
                    Diagnostic::new(Code::InvalidOperand, "`command` is empty")
                        .primary(c.span, "nothing to run")
                        .help("give the local command, e.g. `command \"python3 tools/node.py\"`"),
                );
            }
        }
        let timeout_ms = self.param_duration(params, "timeout");
        let mut outputs_ok = true;
        if node.outputs.is_empty() {
            outputs_ok = false;
            self.push(
                Diagnostic::new(
                    Code::CustomOutputs,
                    format!("custom node `{}` declares no output events", node.name.node),
                )
                .primary(node.name.span, "outputs missing")
                .help("declare them after the inputs: `custom(…) -> Out { … }`"),
            );
        }
        for out in &node.outputs {
            let declared = matches!(
                self.model.events.get(&out.node).map(|e| &e.origin),
                Some(EventOrigin::Declared)
            );
            if !declared {
                outputs_ok = false;
                self.push(
                    Diagnostic::new(
                        Code::CustomOutputs,
                        format!("output `{}` of custom node `{}` is not a declared event", out.node, node.name.node),
                    )
                    .primary(out.span, "no `event` declaration with this name")
                    .help(format!(
                        "the compiler cannot infer what a custom node emits; declare `event {} {{ … }}`",
                        out.node
                    )),
                );
            }
        }
        if !outputs_ok {
            return None;
        }
        let kind = NodeKind::Custom {
            lambda_arn: lambda?.node.clone(),
            command: command?.node.clone(),
            timeout_ms,
        };
        Some((kind, None))
    }

    // -------------------------------------------------------------- shared pieces

    pub(super) fn resolve(
        &mut self,
        schema: &Schema,
        event: &str,
        path: &ast::PathExpr,
    ) -> Option<Resolved> {
        match resolve_path(schema, event, &path.segments) {
            Ok(r) => Some(r),
            Err(d) => {
                self.push(d);
                None
            }
        }
    }

    fn key_param(&mut self, params: &ParamSet<'_>, inputs: &Inputs) -> Option<Vec<String>> {
        let path = self.param_path(params, "key")?;
        let (event, schema) = inputs.first()?;
        let resolved = self.resolve(schema, event, path)?;
        self.check_scalar_key(path, &resolved.ty)
            .then(|| segments(path))
    }

    fn check_scalar_key(&mut self, path: &ast::PathExpr, ty: &Type) -> bool {
        let ok = matches!(
            ty,
            Type::String
                | Type::Int
                | Type::Bool
                | Type::Timestamp
                | Type::Union(_)
                | Type::Duration
        );
        if !ok {
            self.push(
                Diagnostic::new(
                    Code::KeyNotScalar,
                    format!("key `{}` is a {ty}", path.dotted()),
                )
                .primary(path.span, "keys must be strings, whole numbers or booleans")
                .help(match ty {
                    Type::Object => format!("key by one field of it, e.g. `{}.key`", path.dotted()),
                    Type::Record(r) => match r.fields.first() {
                        Some(f) => format!(
                            "key by one field of it, e.g. `{}.{}`",
                            path.dotted(),
                            f.name
                        ),
                        None => "key by a string field".to_string(),
                    },
                    _ => "key by an identifier such as `profile.session_id`".to_string(),
                }),
            );
        }
        ok
    }

    fn threshold_param(&mut self, params: &ParamSet<'_>) -> (Option<u64>, Option<u64>) {
        match self.param_threshold(params, "every") {
            Some(t) => (
                t.count.as_ref().map(|c| c.node),
                t.time.as_ref().map(|c| c.node),
            ),
            None => (None, None),
        }
    }

    fn object_param(
        &mut self,
        params: &ParamSet<'_>,
        name: &str,
        event: &str,
        schema: &Schema,
    ) -> Option<Vec<String>> {
        let path = self.param_path(params, name)?;
        let resolved = self.resolve(schema, event, path)?;
        if resolved.ty != Type::Object {
            self.push(
                Diagnostic::new(
                    Code::ParameterKind,
                    format!(
                        "`{name}` must be an `object` field, but `{}` is a {}",
                        path.dotted(),
                        resolved.ty
                    ),
                )
                .primary(path.span, "not an S3 object reference")
                .help("declare the media as `object` (an S3 bucket and key) in the event's `data`"),
            );
            return None;
        }
        Some(segments(path))
    }

    fn add_stats(&mut self, node: &ast::NodeDecl, data: &mut Record, stats: &[Field]) {
        for stat in stats {
            if data.get(&stat.name).is_some() && emit_of(node).is_some_and(|e| e.mapping.is_none())
            {
                self.push(
                    Diagnostic::new(
                        Code::EmitShape,
                        format!(
                            "`data.{}` of the input collides with the counter's `{}`",
                            stat.name, stat.name
                        ),
                    )
                    .primary(node.name.span, "the default output would hold both")
                    .help("give the emit a mapping, e.g. `emit Out { n: count, … }`"),
                );
            }
            data.set(stat.clone());
        }
    }

    fn add_builtin_field(&mut self, node: &ast::NodeDecl, data: &mut Record, name: &str) {
        if data.get(name).is_some() && emit_of(node).is_some_and(|e| e.mapping.is_none()) {
            self.push(
                Diagnostic::new(
                    Code::EmitShape,
                    format!("`data.{name}` of the input collides with the view's `{name}`"),
                )
                .primary(node.name.span, "the default output would hold both")
                .help("give the emit a mapping, e.g. `emit Out { text: output }`"),
            );
        }
        data.set(Record::field(name, Type::String));
    }

    /// Checks `emit` and registers the emitted event.
    fn emit_param(
        &mut self,
        node: &ast::NodeDecl,
        params: &ParamSet<'_>,
        scope: &Scope<'_>,
        default_data: Record,
    ) -> Option<Emit> {
        let emit = self.param_emit(params)?;
        let (first_event, first) = scope.inputs.first()?;
        let _ = first_event;
        let (data, mapping) = match &emit.mapping {
            Some(m) => {
                let (record, values) = self.check_mapping(m, scope)?;
                (record, Some(values))
            }
            None => (default_data, None),
        };
        let schema = Schema {
            profile: first.profile.clone(),
            data,
            application: first.application.clone(),
        };
        self.register_emitted(node, &emit.event, schema)?;
        Some(Emit {
            event: emit.event.node.clone(),
            mapping,
        })
    }

    fn check_mapping(
        &mut self,
        mapping: &ast::Mapping,
        scope: &Scope<'_>,
    ) -> Option<(Record, Vec<(String, MapValue)>)> {
        let mut record = Record::default();
        let mut values = Vec::new();
        let mut ok = true;
        for entry in &mapping.entries {
            if let Some(first) = record.get(&entry.name.node).and_then(|f| f.span) {
                self.push(
                    Diagnostic::new(
                        Code::DuplicateEntry,
                        format!("field `{}` is mapped twice", entry.name.node),
                    )
                    .primary(entry.name.span, "mapped again here")
                    .secondary(first, "first mapped here")
                    .help("keep one of them"),
                );
                ok = false;
                continue;
            }
            match self.check_map_expr(&entry.value, scope) {
                Some((value, ty, optional)) => {
                    record.fields.push(Field {
                        name: entry.name.node.clone(),
                        ty,
                        optional,
                        span: Some(entry.name.span),
                    });
                    values.push((entry.name.node.clone(), value));
                }
                None => ok = false,
            }
        }
        ok.then_some((record, values))
    }

    fn check_map_expr(
        &mut self,
        expr: &ast::MappingExpr,
        scope: &Scope<'_>,
    ) -> Option<(MapValue, Type, bool)> {
        match expr {
            ast::MappingExpr::String(s) => Some((
                MapValue::Literal(s.node.clone().into()),
                Type::String,
                false,
            )),
            ast::MappingExpr::Bool(b) => {
                Some((MapValue::Literal(b.node.into()), Type::Bool, false))
            }
            ast::MappingExpr::Number(n) => {
                let value: serde_json::Value =
                    serde_json::from_str(&n.node.text).unwrap_or(serde_json::Value::Null);
                let ty = if n.node.value.fract() == 0.0 && !n.node.text.contains(['.', 'e', 'E']) {
                    Type::Int
                } else {
                    Type::Float
                };
                Some((MapValue::Literal(value), ty, false))
            }
            ast::MappingExpr::Record(m) => {
                let (record, values) = self.check_mapping(m, scope)?;
                Some((MapValue::Record(values), Type::Record(record), false))
            }
            ast::MappingExpr::Call { func, span, .. } => {
                self.push(
                    Diagnostic::new(
                        Code::ParameterKind,
                        format!("`{}(…)` cannot be used in an emit mapping", func.node),
                    )
                    .primary(*span, "function calls belong in `aggregate { … }`")
                    .help("declare it in `aggregate { name: … }` and map `name` here"),
                );
                None
            }
            ast::MappingExpr::Path(path) => self.check_map_path(path, scope),
        }
    }

    fn check_map_path(
        &mut self,
        path: &ast::PathExpr,
        scope: &Scope<'_>,
    ) -> Option<(MapValue, Type, bool)> {
        let first = path.segments.first()?;
        let head = first.node.as_str();
        if let Some((name, ty)) = scope.builtins.iter().find(|(n, _)| *n == head) {
            let rest: Vec<String> = path.segments[1..].iter().map(|s| s.node.clone()).collect();
            let (ty, optional) = self.walk_type(ty, &path.segments[1..], name)?;
            return Some((
                MapValue::Builtin {
                    name: (*name).to_string(),
                    path: rest,
                },
                ty,
                optional,
            ));
        }
        if let Some((name, ty)) = scope.aggregates.iter().find(|(n, _)| n == head) {
            if path.segments.len() == 1 {
                return Some((MapValue::Aggregate(name.clone()), ty.clone(), false));
            }
        }
        if let Some((event, schema)) = scope.inputs.events.iter().find(|(e, _)| e == head) {
            if path.segments.len() < 2 {
                self.push(
                    Diagnostic::new(Code::UnknownField, format!("`{head}` alone is not a field"))
                        .primary(path.span, "name a field of this input")
                        .help(format!("for example: `{head}.data.…`")),
                );
                return None;
            }
            let r = match resolve_path(schema, event, &path.segments[1..]) {
                Ok(r) => r,
                Err(d) => {
                    self.push(d);
                    return None;
                }
            };
            return Some((
                MapValue::Path {
                    event: event.clone(),
                    path: segments(path)[1..].to_vec(),
                },
                r.ty,
                r.optional,
            ));
        }
        let (event, schema) = scope.inputs.first()?;
        if super::model::ENVELOPE.contains(&head) {
            let r = self.resolve(schema, event, path)?;
            return Some((
                MapValue::Path {
                    event: event.clone(),
                    path: segments(path),
                },
                r.ty,
                r.optional,
            ));
        }
        let mut candidates: Vec<String> = super::model::ENVELOPE
            .iter()
            .map(|s| s.to_string())
            .collect();
        candidates.extend(scope.builtins.iter().map(|(n, _)| n.to_string()));
        candidates.extend(scope.aggregates.iter().map(|(n, _)| n.clone()));
        if scope.inputs.events.len() > 1 {
            candidates.extend(scope.inputs.events.iter().map(|(e, _)| e.clone()));
        }
        let listed: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
        self.push(
            Diagnostic::new(
                Code::UnknownField,
                format!("`{head}` is not known in this mapping"),
            )
            .primary(first.span, "unknown name")
            .help(
                did_you_mean(head, candidates.iter().map(String::as_str))
                    .unwrap_or_else(|| format!("a mapping reads {}", listed.join(", "))),
            ),
        );
        None
    }

    /// Follows `rest` into a builtin's type (e.g. `item.name`).
    fn walk_type(&mut self, ty: &Type, rest: &[ast::Name], base: &str) -> Option<(Type, bool)> {
        let mut ty = ty.clone();
        let mut optional = false;
        let mut walked = base.to_string();
        for seg in rest {
            let Some(record) = ty.element().as_record() else {
                self.push(
                    Diagnostic::new(
                        Code::UnknownField,
                        format!("`{walked}` is a {ty} and has no fields"),
                    )
                    .primary(seg.span, "cannot look inside it")
                    .help(format!("use `{walked}` itself")),
                );
                return None;
            };
            let Some(field) = record.get(&seg.node) else {
                self.push(
                    Diagnostic::new(
                        Code::UnknownField,
                        format!("`{walked}` has no field `{}`", seg.node),
                    )
                    .primary(seg.span, "unknown field")
                    .maybe_help(did_you_mean(&seg.node, record.names())),
                );
                return None;
            };
            optional |= field.optional;
            ty = field.ty.clone();
            walked = format!("{walked}.{}", seg.node);
        }
        Some((ty, optional))
    }

    /// Adds a derived event, or checks the shape against a declared one.
    fn register_emitted(
        &mut self,
        node: &ast::NodeDecl,
        name: &ast::Name,
        schema: Schema,
    ) -> Option<()> {
        if self.model.nodes.contains_key(&name.node) || node.name.node == name.node {
            self.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!("`{}` is a node, not an event", name.node),
                )
                .primary(name.span, "emitted event has a node's name")
                .help("give the emitted event its own name"),
            );
            return None;
        }
        match self.model.events.get(&name.node) {
            None => {
                let source = format!("flow.{}", self.model.project);
                self.model.events.insert(
                    name.node.clone(),
                    Event {
                        name: name.node.clone(),
                        source,
                        detail_type: name.node.clone(),
                        schema,
                        origin: EventOrigin::Emitted {
                            node: node.name.node.clone(),
                        },
                        span: name.span,
                    },
                );
                Some(())
            }
            Some(existing) => {
                let existing = existing.clone();
                let problems = shape_mismatches(&existing.schema, &schema);
                if problems.is_empty() {
                    return Some(());
                }
                let what = match &existing.origin {
                    EventOrigin::Declared => "its declaration".to_string(),
                    EventOrigin::Emitted { node } => format!("what `{node}` emits"),
                };
                let only_data = problems.iter().all(|p| p.starts_with("`data."));
                let mut help = if only_data {
                    "map the fields explicitly with `emit Name { field: … }`, or emit a new event"
                        .to_string()
                } else {
                    "`profile` and `application` are copied from the input; declare them in the event as the input has them, or emit a new event".to_string()
                };
                if problems.len() > 1 {
                    help = format!("also: {}; {help}", problems[1..].join("; "));
                }
                self.push(
                    Diagnostic::new(
                        Code::EmitShape,
                        format!(
                            "`{}` emitted by `{}` does not fit {what}",
                            name.node, node.name.node
                        ),
                    )
                    .primary(name.span, problems[0].clone())
                    .secondary(existing.span, "the shape is defined here")
                    .help(help),
                );
                None
            }
        }
    }
}

fn emit_of(node: &ast::NodeDecl) -> Option<&ast::Emit> {
    node.params.iter().find_map(|p| match &p.value {
        ast::ParamValue::Emit(e) if p.name.node == "emit" => Some(e),
        _ => None,
    })
}

fn segments(path: &ast::PathExpr) -> Vec<String> {
    path.segments.iter().map(|s| s.node.clone()).collect()
}

fn window_stats() -> Vec<Field> {
    vec![
        Record::field("count", Type::Int),
        Record::field("first_at", Type::Timestamp),
        Record::field("last_at", Type::Timestamp),
    ]
}

fn static_name(name: &str) -> &'static str {
    match name {
        "count" => "count",
        "first_at" => "first_at",
        _ => "last_at",
    }
}

fn aggregate_type(f: AggregateFn) -> Type {
    match f {
        AggregateFn::Count => Type::Int,
        _ => Type::Float,
    }
}

/// `ScreenSummary` → `screen_summary`.
pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_lambda_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() >= 7
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "lambda"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5] == "function"
        && !parts[6].is_empty()
}

/// Differences between an expected shape and an inferred one, as phrases.
fn shape_mismatches(expected: &Schema, actual: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for record in super::model::ENVELOPE {
        let (Some(e), Some(a)) = (expected.record(record), actual.record(record)) else {
            continue;
        };
        record_mismatches(record, e, a, &mut out);
    }
    out
}

fn record_mismatches(prefix: &str, expected: &Record, actual: &Record, out: &mut Vec<String>) {
    for field in &expected.fields {
        let path = format!("{prefix}.{}", field.name);
        match actual.get(&field.name) {
            None if !field.optional => out.push(format!("`{path}` is missing")),
            None => {}
            Some(a) => match (&field.ty, &a.ty) {
                (Type::Record(e), Type::Record(r)) => record_mismatches(&path, e, r, out),
                (e, r) if e != r => out.push(format!("`{path}` is a {r}, expected {e}")),
                _ if a.optional && !field.optional => out.push(format!("`{path}` may be absent")),
                _ => {}
            },
        }
    }
    for field in &actual.fields {
        if expected.get(&field.name).is_none() {
            out.push(format!("`{prefix}.{}` is not declared", field.name));
        }
    }
}
