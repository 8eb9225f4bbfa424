//! Triggers, flows, apps with their sinks, and test blocks.
//! Input: declarations and the model built so far. Output: `model.triggers`,
//! `model.flows`, `model.apps`, `model.tests`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::model::{
    App, DocumentSearch, Flow, Record, Schema, Sink, SinkKind, Test, TestStep, Trigger,
    TriggerKind, Type,
};
use super::params::ParamSpec;
use super::resolve::Decls;
use super::Ctx;
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::syntax::ast::{self, Span, Spanned};

impl Ctx<'_> {
    pub(super) fn check_trigger(&mut self, trigger: &ast::TriggerDecl) {
        let Some(event) = self.model.events.get(&trigger.event.node).cloned() else {
            let names = self.event_names();
            self.unknown_names.push(trigger.event.node.clone());
            self.push(
                Diagnostic::new(
                    Code::UnknownEvent,
                    format!(
                        "trigger `{}` delivers unknown event `{}`",
                        trigger.name.node, trigger.event.node
                    ),
                )
                .primary(trigger.event.span, "no declared event has this name")
                .help(
                    did_you_mean(&trigger.event.node, names.iter().map(String::as_str))
                        .unwrap_or_else(|| {
                            format!("declare it: `event {} {{ … }}`", trigger.event.node)
                        }),
                ),
            );
            return;
        };
        let kind = match &trigger.kind {
            ast::TriggerKind::Sdk => TriggerKind::Sdk,
            ast::TriggerKind::Http { path } => {
                if !path.node.starts_with('/') || path.node.contains(char::is_whitespace) {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidTrigger,
                            format!("`{}` is not an HTTP path", path.node),
                        )
                        .primary(path.span, "expected a path like \"/ingest/frames\"")
                        .help("HTTP ingest paths start with `/` and contain no spaces"),
                    );
                }
                TriggerKind::Http {
                    path: path.node.clone(),
                }
            }
            ast::TriggerKind::S3 {
                bucket,
                prefix,
                suffix,
            } => {
                if !valid_bucket(&bucket.node) {
                    self.push(
                        Diagnostic::new(Code::InvalidTrigger, format!("`{}` is not a valid S3 bucket name", bucket.node))
                            .primary(bucket.span, "S3 rejects this name")
                            .help("bucket names are 3–63 lowercase letters, digits, dots and dashes, starting and ending with a letter or digit"),
                    );
                }
                let has_object = event
                    .schema
                    .data
                    .fields
                    .iter()
                    .any(|f| f.ty == Type::Object);
                if !has_object {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidTrigger,
                            format!(
                                "S3 trigger `{}` needs an `object` field in `{}`",
                                trigger.name.node, event.name
                            ),
                        )
                        .primary(
                            trigger.event.span,
                            "this event has no `data` field of type `object`",
                        )
                        .secondary(event.span, "declared here")
                        .help("add the uploaded object to the event: `data { object: object, … }`"),
                    );
                }
                TriggerKind::S3 {
                    bucket: bucket.node.clone(),
                    prefix: prefix.as_ref().map(|p| p.node.clone()),
                    suffix: suffix.as_ref().map(|s| s.node.clone()),
                }
            }
        };
        self.model.triggers.push(Trigger {
            name: trigger.name.node.clone(),
            kind,
            event: event.name,
            span: trigger.name.span,
        });
    }

    pub(super) fn check_flows(&mut self, decls: &Decls<'_>) {
        for flow in &decls.flows {
            let mut ok = true;
            for step in &flow.steps {
                let known = self.model.events.contains_key(&step.node)
                    || self.model.nodes.contains_key(&step.node);
                if !known {
                    ok = false;
                    if self.poisoned.contains(&step.node) || decls.node(&step.node).is_some() {
                        continue;
                    }
                    let mut names = self.event_names();
                    names.extend(self.model.nodes.keys().cloned());
                    self.push(
                        Diagnostic::new(
                            Code::UnknownNode,
                            format!(
                                "flow `{}` names unknown step `{}`",
                                flow.name.node, step.node
                            ),
                        )
                        .primary(step.span, "no event or node has this name")
                        .maybe_help(did_you_mean(&step.node, names.iter().map(String::as_str))),
                    );
                }
            }
            if !ok {
                continue;
            }
            for pair in flow.steps.windows(2) {
                if let Some(problem) = self.flow_link(&pair[0].node, &pair[1].node) {
                    self.push(
                        Diagnostic::new(
                            Code::FlowNotConnected,
                            format!(
                                "flow `{}`: `{}` does not lead to `{}`",
                                flow.name.node, pair[0].node, pair[1].node
                            ),
                        )
                        .primary(pair[0].span.to(pair[1].span), problem.0)
                        .help(problem.1),
                    );
                    ok = false;
                }
            }
            if ok {
                self.model.flows.push(Flow {
                    name: flow.name.node.clone(),
                    steps: flow.steps.iter().map(|s| s.node.clone()).collect(),
                    span: flow.name.span,
                });
            }
        }
    }

    /// Why `a -> b` is not a step of the graph, if it is not.
    fn flow_link(&self, a: &str, b: &str) -> Option<(String, String)> {
        let node_a = self.model.nodes.get(a);
        let node_b = self.model.nodes.get(b);
        match (node_a, node_b) {
            (None, Some(nb)) => (!nb.inputs.iter().any(|i| i == a)).then(|| {
                (
                    format!("`{b}` does not take `{a}`"),
                    format!("`{b}` reads {}", quoted(&nb.inputs)),
                )
            }),
            (Some(na), Some(nb)) => {
                (!na.outputs.iter().any(|o| nb.inputs.contains(o))).then(|| {
                    (
                        format!(
                            "`{a}` emits {}, `{b}` reads {}",
                            quoted(&na.outputs),
                            quoted(&nb.inputs)
                        ),
                        "put the steps in the order events travel, or insert the missing node"
                            .to_string(),
                    )
                })
            }
            (Some(na), None) => (!na.outputs.iter().any(|o| o == b)).then(|| {
                (
                    format!("`{a}` emits {}", quoted(&na.outputs)),
                    format!("name an event `{a}` emits"),
                )
            }),
            (None, None) => Some((
                "two events in a row".to_string(),
                format!("put the node that turns `{a}` into `{b}` between them"),
            )),
        }
    }

    pub(super) fn check_apps(&mut self, decls: &Decls<'_>) {
        let flow_names: std::collections::BTreeSet<&str> =
            decls.flows.iter().map(|f| f.name.node.as_str()).collect();
        for app in &decls.apps {
            for node in &app.nodes {
                if !self.model.nodes.contains_key(&node.node)
                    && !self.poisoned.contains(&node.node)
                    && decls.node(&node.node).is_none()
                {
                    let names: Vec<String> = self.model.nodes.keys().cloned().collect();
                    self.push(
                        Diagnostic::new(
                            Code::UnknownNode,
                            format!(
                                "app `{}` groups unknown node `{}`",
                                app.name.node, node.node
                            ),
                        )
                        .primary(node.span, "no node has this name")
                        .help(
                            did_you_mean(&node.node, names.iter().map(String::as_str))
                                .unwrap_or_else(|| {
                                    format!(
                                        "declare the node, or remove `{}` from `nodes`",
                                        node.node
                                    )
                                }),
                        ),
                    );
                }
            }
            for flow in &app.flows {
                if !flow_names.contains(flow.node.as_str()) {
                    let names: Vec<&str> =
                        decls.flows.iter().map(|f| f.name.node.as_str()).collect();
                    self.push(
                        Diagnostic::new(
                            Code::UnknownFlow,
                            format!("app `{}` names unknown flow `{}`", app.name.node, flow.node),
                        )
                        .primary(flow.span, "no flow has this name")
                        .maybe_help(did_you_mean(&flow.node, names)),
                    );
                }
            }
            let mut sinks = Vec::new();
            let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
            for sink in &app.sinks {
                if let Some(first) = seen.get(sink.name.node.as_str()) {
                    self.push(
                        Diagnostic::new(
                            Code::DuplicateName,
                            format!(
                                "sink `{}` is declared twice in app `{}`",
                                sink.name.node, app.name.node
                            ),
                        )
                        .primary(sink.name.span, "declared again here")
                        .secondary(*first, "first declared here")
                        .help("rename one of the sinks"),
                    );
                    continue;
                }
                seen.insert(&sink.name.node, sink.name.span);
                sinks.extend(self.check_sink(sink));
            }
            self.model.apps.push(App {
                name: app.name.node.clone(),
                nodes: app.nodes.iter().map(|n| n.node.clone()).collect(),
                flows: app.flows.iter().map(|f| f.node.clone()).collect(),
                sinks,
                settings: app
                    .settings
                    .iter()
                    .map(|(k, v)| (k.node.clone(), v.node.clone()))
                    .collect(),
                span: app.name.span,
            });
        }
    }

    fn check_sink(&mut self, sink: &ast::SinkDecl) -> Option<Sink> {
        let kind = sink.kind.node.as_str();
        let spec = match kind {
            "s3" => ParamSpec {
                required: &["key"],
                optional: &["format", "template", "search"],
            },
            "dynamodb" => ParamSpec {
                required: &["key"],
                optional: &["sort", "ttl"],
            },
            "webhook" => ParamSpec {
                required: &["url", "secret"],
                optional: &["timeout"],
            },
            other => {
                self.push(
                    Diagnostic::new(
                        Code::UnknownNodeKind,
                        format!("unknown sink kind `{other}`"),
                    )
                    .primary(sink.kind.span, "not a sink kind")
                    .help(
                        did_you_mean(other, ["s3", "dynamodb", "webhook"])
                            .unwrap_or_else(|| "sinks are s3, dynamodb and webhook".to_string()),
                    ),
                );
                return None;
            }
        };
        let Some(event) = self.model.events.get(&sink.event.node).cloned() else {
            if !self.poisoned.contains(&sink.event.node) {
                let names = self.event_names();
                self.unknown_names.push(sink.event.node.clone());
                self.push(
                    Diagnostic::new(
                        Code::UnknownEvent,
                        format!(
                            "sink `{}` stores unknown event `{}`",
                            sink.name.node, sink.event.node
                        ),
                    )
                    .primary(sink.event.span, "no event has this name")
                    .maybe_help(did_you_mean(
                        &sink.event.node,
                        names.iter().map(String::as_str),
                    )),
                );
            }
            return None;
        };
        let owner = format!("{kind} sink `{}`", sink.name.node);
        let params = self.param_set(&sink.params, &spec, &owner, sink.name.span);
        let kind = match kind {
            "s3" => {
                let key = self.param_string(&params, "key");
                if let Some(k) = key {
                    self.check_template(k, &event.name, &event.schema);
                }
                let format = self.param_string(&params, "format");
                let format_name = format.map_or("json", |f| f.node.as_str()).to_string();
                if let Some(f) = format {
                    if !matches!(f.node.as_str(), "json" | "markdown") {
                        self.push(
                            Diagnostic::new(
                                Code::InvalidSink,
                                format!("unknown document format `{}`", f.node),
                            )
                            .primary(f.span, "expected \"json\" or \"markdown\"")
                            .help(did_you_mean(&f.node, ["json", "markdown"]).unwrap_or_else(|| {
                                "documents are written as `format \"json\"` or `format \"markdown\"`".to_string()
                            })),
                        );
                    }
                }
                let template = self.param_string(&params, "template");
                if let Some(t) = template {
                    self.check_template(t, &event.name, &event.schema);
                } else if format_name == "markdown" {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidSink,
                            "a markdown document needs a `template`",
                        )
                        .primary(sink.name.span, "no template")
                        .help("for example: `template \"# {{data.title}}\"`"),
                    );
                }
                let search = self
                    .param_path(&params, "search")
                    .and_then(|p| self.check_search(p, key));
                SinkKind::S3 {
                    key_template: key?.node.clone(),
                    format: format_name,
                    body_template: template.map(|t| t.node.clone()),
                    search,
                }
            }
            "dynamodb" => {
                let key = self.sink_path(&params, "key", &event.name, &event.schema);
                let sort = self.sink_path(&params, "sort", &event.name, &event.schema);
                let ttl_ms = self.param_duration(&params, "ttl");
                SinkKind::DynamoDb {
                    key: key?,
                    sort,
                    ttl_ms,
                }
            }
            _ => {
                let url = self.param_string(&params, "url");
                if let Some(u) = url {
                    if !u.node.starts_with("https://") || u.node.len() <= "https://".len() {
                        self.push(
                            Diagnostic::new(
                                Code::InvalidSink,
                                format!("webhook URL `{}` is not HTTPS", u.node),
                            )
                            .primary(u.span, "webhooks are sent over HTTPS only")
                            .help("use an https:// URL"),
                        );
                    }
                }
                let secret = self.param_string(&params, "secret");
                let timeout_ms = self.param_duration(&params, "timeout");
                SinkKind::Webhook {
                    url: url?.node.clone(),
                    secret: secret?.node.clone(),
                    timeout_ms,
                }
            }
        };
        Some(Sink {
            name: sink.name.node.clone(),
            event: event.name,
            kind,
            span: sink.name.span,
        })
    }

    /// `search amazon_q`: the documents are indexed by Amazon Q Business,
    /// which crawls a fixed key prefix (the key template up to its first
    /// `{{`), so the key must start with one.
    fn check_search(
        &mut self,
        service: &ast::PathExpr,
        key: Option<&Spanned<String>>,
    ) -> Option<DocumentSearch> {
        if service.dotted() != "amazon_q" {
            self.push(
                Diagnostic::new(
                    Code::InvalidSink,
                    format!("unknown search service `{}`", service.dotted()),
                )
                .primary(service.span, "not a search service")
                .help("documents are searchable with `search amazon_q` (Amazon Q Business)"),
            );
            return None;
        }
        let key = key?;
        let prefix = key.node.split("{{").next().unwrap_or("");
        if !prefix.contains('/') {
            self.push(
                Diagnostic::new(
                    Code::InvalidSink,
                    "searchable documents need a fixed key prefix",
                )
                .primary(
                    key.span,
                    "Amazon Q crawls one prefix; this key has no fixed folder",
                )
                .help("start the key with a folder, for example `key \"wiki/{{data.id}}.md\"`"),
            );
            return None;
        }
        Some(DocumentSearch::AmazonQ)
    }

    fn sink_path(
        &mut self,
        params: &super::params::ParamSet<'_>,
        name: &str,
        event: &str,
        schema: &Schema,
    ) -> Option<Vec<String>> {
        let path = self.param_path(params, name)?;
        let resolved = self.resolve(schema, event, path)?;
        if !resolved.ty.is_scalar() || matches!(resolved.ty, Type::Bool) {
            self.push(
                Diagnostic::new(
                    Code::KeyNotScalar,
                    format!("`{}` is a {}, not a key", path.dotted(), resolved.ty),
                )
                .primary(path.span, "DynamoDB keys are strings or numbers")
                .help("use a string, number or timestamp field"),
            );
            return None;
        }
        Some(path.segments.iter().map(|s| s.node.clone()).collect())
    }

    pub(super) fn check_tests(&mut self, decls: &Decls<'_>) {
        for test in &decls.tests {
            let mut steps = Vec::new();
            for step in &test.steps {
                if let Some(s) = self.check_test_step(step) {
                    steps.push(s);
                }
            }
            self.model.tests.push(Test {
                name: test.name.node.clone(),
                steps,
                span: test.name.span,
            });
        }
    }

    fn check_test_step(&mut self, step: &ast::TestStep) -> Option<(TestStep, Span)> {
        match step {
            ast::TestStep::Given {
                event,
                value,
                at,
                span,
            } => {
                let schema = self.test_event(event)?;
                let detail =
                    self.check_value(&value.node, value.span, &schema.as_record(), event, true)?;
                Some((
                    TestStep::Given {
                        event: event.node.clone(),
                        detail,
                        at_ms: at.as_ref().map(|a| a.node),
                    },
                    *span,
                ))
            }
            ast::TestStep::Advance { by, span } => {
                Some((TestStep::Advance { by_ms: by.node }, *span))
            }
            ast::TestStep::Expect { event, value, span } => {
                let schema = self.test_event(event)?;
                let detail = match value {
                    Some(v) => Some(self.check_value(
                        &v.node,
                        v.span,
                        &schema.as_record(),
                        event,
                        false,
                    )?),
                    None => None,
                };
                Some((
                    TestStep::Expect {
                        event: event.node.clone(),
                        detail,
                    },
                    *span,
                ))
            }
            ast::TestStep::ExpectNone { event, span } => {
                self.test_event(event)?;
                Some((
                    TestStep::ExpectNone {
                        event: event.node.clone(),
                    },
                    *span,
                ))
            }
            ast::TestStep::ExpectState {
                node,
                key,
                value,
                span,
            } => {
                let Some(n) = self.model.nodes.get(&node.node) else {
                    if !self.poisoned.contains(&node.node) {
                        let names: Vec<String> = self.model.nodes.keys().cloned().collect();
                        self.push(
                            Diagnostic::new(
                                Code::UnknownNode,
                                format!("test expects state of unknown node `{}`", node.node),
                            )
                            .primary(node.span, "no node has this name")
                            .maybe_help(did_you_mean(&node.node, names.iter().map(String::as_str))),
                        );
                    }
                    return None;
                };
                if !n.kind.is_stateful() {
                    self.push(
                        Diagnostic::new(Code::TestValue, format!("`{}` is a {} and keeps no state", node.node, n.kind.name()))
                            .primary(node.span, "stateless node")
                            .help("state can be expected of counters, aggregators, stitchers, dedupes and combiners"),
                    );
                    return None;
                }
                let state = value_to_json(&value.node);
                Some((
                    TestStep::ExpectState {
                        node: node.node.clone(),
                        key: key.node.clone(),
                        state,
                    },
                    *span,
                ))
            }
        }
    }

    fn test_event(&mut self, event: &ast::Name) -> Option<Schema> {
        if let Some(e) = self.model.events.get(&event.node) {
            return Some(e.schema.clone());
        }
        if !self.poisoned.contains(&event.node) {
            let names = self.event_names();
            self.unknown_names.push(event.node.clone());
            self.push(
                Diagnostic::new(
                    Code::UnknownEvent,
                    format!("test uses unknown event `{}`", event.node),
                )
                .primary(event.span, "no event has this name")
                .maybe_help(did_you_mean(&event.node, names.iter().map(String::as_str))),
            );
        }
        None
    }

    /// Checks a test value against a record type. `complete`: every required
    /// field must be present (a `given` event); otherwise a partial match.
    fn check_value(
        &mut self,
        value: &ast::Value,
        span: Span,
        record: &Record,
        path: &ast::Name,
        complete: bool,
    ) -> Option<Value> {
        self.check_value_at(
            value,
            span,
            &Type::Record(record.clone()),
            &path.node,
            "",
            complete,
        )
    }

    fn check_value_at(
        &mut self,
        value: &ast::Value,
        span: Span,
        ty: &Type,
        event: &str,
        at: &str,
        complete: bool,
    ) -> Option<Value> {
        let mismatch = |this: &mut Self, expected: String| {
            let place = if at.is_empty() {
                format!("`{event}`")
            } else {
                format!("`{at}`")
            };
            this.push(
                Diagnostic::new(Code::TestValue, format!("{place} expects {expected}"))
                    .primary(span, format!("found {}", describe_value(value)))
                    .help(format!("write a value of type {ty}")),
            );
            None
        };
        match (value, ty) {
            (ast::Value::Object(entries), t) if t.as_record().is_some() => {
                let record = t.as_record().unwrap_or_default();
                let mut out = Map::new();
                let mut ok = true;
                for (name, v) in entries {
                    let child = if at.is_empty() {
                        name.node.clone()
                    } else {
                        format!("{at}.{}", name.node)
                    };
                    let Some(field) = record.get(&name.node) else {
                        self.push(
                            Diagnostic::new(
                                Code::TestValue,
                                if at.is_empty() {
                                    format!("`{event}` has no record `{}`", name.node)
                                } else {
                                    format!("`{at}` of `{event}` has no field `{}`", name.node)
                                },
                            )
                            .primary(name.span, "unknown field")
                            .help(
                                did_you_mean(&name.node, record.names()).unwrap_or_else(|| {
                                    let names: Vec<String> =
                                        record.names().map(|n| format!("`{n}`")).collect();
                                    format!(
                                        "the fields here are {}",
                                        if names.is_empty() {
                                            "(none)".to_string()
                                        } else {
                                            names.join(", ")
                                        }
                                    )
                                }),
                            ),
                        );
                        ok = false;
                        continue;
                    };
                    if matches!(v.node, ast::Value::Null) && field.optional {
                        out.insert(name.node.clone(), Value::Null);
                        continue;
                    }
                    match self.check_value_at(&v.node, v.span, &field.ty, event, &child, complete) {
                        Some(j) => {
                            out.insert(name.node.clone(), j);
                        }
                        None => ok = false,
                    }
                }
                if complete {
                    let missing: Vec<String> = record
                        .fields
                        .iter()
                        .filter(|f| !f.optional && !entries.iter().any(|(n, _)| n.node == f.name))
                        .filter(|f| !matches!(&f.ty, Type::Record(r) if r.fields.iter().all(|x| x.optional)))
                        .map(|f| format!("`{}`", f.name))
                        .collect();
                    if !missing.is_empty() {
                        let place = if at.is_empty() {
                            format!("`{event}`")
                        } else {
                            format!("`{at}`")
                        };
                        self.push(
                            Diagnostic::new(Code::TestValue, format!("{place} is missing {}", missing.join(", ")))
                                .primary(span, "incomplete event")
                                .help("a `given` event must hold every required field, as a real event would"),
                        );
                        ok = false;
                    }
                }
                ok.then_some(Value::Object(out))
            }
            (ast::Value::List(items), Type::List(elem)) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(
                        self.check_value_at(&item.node, item.span, elem, event, at, complete)?,
                    );
                }
                Some(Value::Array(out))
            }
            (ast::Value::String(s), Type::Union(members)) if !members.contains(s) => mismatch(
                self,
                format!(
                    "one of {}",
                    members
                        .iter()
                        .map(|m| format!("{m:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            (ast::Value::String(s), Type::Timestamp) if !looks_like_timestamp(s) => mismatch(
                self,
                "an RFC 3339 timestamp such as \"2026-01-01T09:00:00Z\"".to_string(),
            ),
            (ast::Value::String(s), t) if t.is_stringy() => Some(Value::String(s.clone())),
            (ast::Value::Number(n), t) if t.is_numeric() => {
                if *t == Type::Int && n.value.fract() != 0.0 {
                    return mismatch(self, "a whole number".to_string());
                }
                Some(serde_json::from_str(&n.text).unwrap_or(Value::Null))
            }
            (ast::Value::Bool(b), Type::Bool) => Some(Value::Bool(*b)),
            _ => mismatch(self, format!("a {ty}")),
        }
    }
}

fn quoted(names: &[String]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    q.join(", ")
}

fn describe_value(v: &ast::Value) -> &'static str {
    match v {
        ast::Value::Object(_) => "a record",
        ast::Value::List(_) => "a list",
        ast::Value::String(_) => "a string",
        ast::Value::Number(_) => "a number",
        ast::Value::Bool(_) => "a boolean",
        ast::Value::Null => "null",
    }
}

fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b't')
        && b[13] == b':'
        && b[16] == b':'
        && (s.ends_with('Z') || s.ends_with('z') || s[19..].contains(['+', '-']))
}

/// A test value as JSON, unchecked (node state has no declared schema).
pub(crate) fn value_to_json(v: &ast::Value) -> Value {
    match v {
        ast::Value::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.node.clone(), value_to_json(&v.node)))
                .collect(),
        ),
        ast::Value::List(items) => {
            Value::Array(items.iter().map(|i| value_to_json(&i.node)).collect())
        }
        ast::Value::String(s) => Value::String(s.clone()),
        ast::Value::Number(n) => serde_json::from_str(&n.text).unwrap_or(Value::Null),
        ast::Value::Bool(b) => Value::Bool(*b),
        ast::Value::Null => Value::Null,
    }
}

fn valid_bucket(name: &str) -> bool {
    let len_ok = (3..=63).contains(&name.len());
    let chars_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    let ends_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    len_ok && chars_ok && ends_ok && !name.contains("..")
}
