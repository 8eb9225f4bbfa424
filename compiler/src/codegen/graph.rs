//! The checked model → the compiled graph (`graph.json`, defined in
//! `flow_runtime::graph`).

use flow_runtime::graph as g;

use super::schema::event_schema;
use crate::check::model::{self as m, EventOrigin, MapValue, Model};
use crate::source::SourceSet;
use crate::syntax::ast::NodeClass;
use crate::syntax::span::Span;

/// Lowers a checked model to the runtime's graph.
pub fn emit_graph(model: &Model, sources: &SourceSet) -> g::Graph {
    let at = |span: Span| source_ref(sources, span);
    g::Graph {
        format_version: g::FORMAT_VERSION,
        project: model.project.clone(),
        events: model
            .events
            .values()
            .map(|e| {
                let def = g::EventDef {
                    name: e.name.clone(),
                    source: e.source.clone(),
                    detail_type: e.detail_type.clone(),
                    schema: event_schema(e, &model.project),
                    emitted_by: match &e.origin {
                        EventOrigin::Declared => None,
                        EventOrigin::Emitted { node } => Some(node.clone()),
                    },
                    span: at(e.span),
                };
                (e.name.clone(), def)
            })
            .collect(),
        triggers: model
            .triggers
            .iter()
            .map(|t| g::TriggerDef {
                name: t.name.clone(),
                kind: match &t.kind {
                    m::TriggerKind::Sdk => g::TriggerKind::Sdk,
                    m::TriggerKind::Http { path } => g::TriggerKind::Http { path: path.clone() },
                    m::TriggerKind::S3 {
                        bucket,
                        prefix,
                        suffix,
                    } => g::TriggerKind::S3 {
                        bucket: bucket.clone(),
                        prefix: prefix.clone(),
                        suffix: suffix.clone(),
                    },
                },
                event: t.event.clone(),
                span: at(t.span),
            })
            .collect(),
        nodes: model
            .nodes
            .values()
            .map(|n| {
                let def = g::NodeDef {
                    name: n.name.clone(),
                    class: match n.class {
                        NodeClass::Filter => g::NodeClass::Filter,
                        NodeClass::Transformer => g::NodeClass::Transformer,
                        NodeClass::View => g::NodeClass::View,
                    },
                    kind: node_kind(&n.kind),
                    inputs: n.inputs.clone(),
                    outputs: n.outputs.clone(),
                    emit: n.emit.as_ref().map(|e| g::Emit {
                        event: e.event.clone(),
                        mapping: e.mapping.as_ref().map(|m| mapping(m)),
                    }),
                    span: at(n.span),
                };
                (n.name.clone(), def)
            })
            .collect(),
        routes: model
            .routes
            .iter()
            .map(|r| g::RouteDef {
                name: r.name.clone(),
                event: r.event.clone(),
                targets: r.targets.clone(),
                pattern: r.pattern.clone(),
                max_hops: r.max_hops,
                implicit: r.implicit,
                span: at(r.span),
            })
            .collect(),
        flows: model
            .flows
            .iter()
            .map(|f| g::FlowDef {
                name: f.name.clone(),
                steps: f.steps.clone(),
                span: at(f.span),
            })
            .collect(),
        apps: model.apps.iter().map(|a| app(a, sources)).collect(),
        tests: model
            .tests
            .iter()
            .map(|t| g::TestDef {
                name: t.name.clone(),
                steps: t
                    .steps
                    .iter()
                    .map(|(s, span)| g::TestStepDef {
                        step: test_step(s),
                        span: at(*span),
                    })
                    .collect(),
                span: at(t.span),
            })
            .collect(),
    }
}

/// A span as file, line and column.
pub fn source_ref(sources: &SourceSet, span: Span) -> g::SourceRef {
    let (file, line, column) = match sources.get(span.file) {
        Some(f) => {
            let (line, column) = f.line_col(span.start as usize);
            (f.path.clone(), line, column)
        }
        None => (String::new(), 0, 0),
    };
    g::SourceRef {
        file,
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
        offset: span.start,
        length: span.end - span.start,
    }
}

fn threshold(count: Option<u64>, window_ms: Option<u64>) -> g::Threshold {
    g::Threshold { count, window_ms }
}

fn node_kind(kind: &m::NodeKind) -> g::NodeKind {
    match kind {
        m::NodeKind::Counter {
            key,
            count,
            window_ms,
        } => g::NodeKind::Counter {
            key: key.clone(),
            every: threshold(*count, *window_ms),
        },
        m::NodeKind::Aggregator {
            key,
            count,
            window_ms,
            collect,
            aggregates,
        } => g::NodeKind::Aggregator {
            key: key.clone(),
            every: threshold(*count, *window_ms),
            collect: collect
                .iter()
                .map(|(name, path)| g::Collected {
                    name: name.clone(),
                    path: path.clone(),
                })
                .collect(),
            aggregates: aggregates
                .iter()
                .map(|(name, f, path)| g::Aggregate {
                    name: name.clone(),
                    function: match f {
                        m::AggregateFn::Count => g::AggregateFn::Count,
                        m::AggregateFn::Sum => g::AggregateFn::Sum,
                        m::AggregateFn::Min => g::AggregateFn::Min,
                        m::AggregateFn::Max => g::AggregateFn::Max,
                        m::AggregateFn::Avg => g::AggregateFn::Avg,
                    },
                    path: path.clone(),
                })
                .collect(),
        },
        m::NodeKind::Stitcher {
            key,
            content,
            content_is_object,
            order_by,
            count,
            window_ms,
        } => g::NodeKind::Stitcher {
            key: key.clone(),
            content: content.clone(),
            content_is_object: *content_is_object,
            order_by: order_by.clone(),
            every: threshold(*count, *window_ms),
        },
        m::NodeKind::Dedupe { key, window_ms } => g::NodeKind::Dedupe {
            key: key.clone(),
            window_ms: *window_ms,
        },
        m::NodeKind::Splitter { over } => g::NodeKind::Splitter { over: over.clone() },
        m::NodeKind::Combiner { key, window_ms } => g::NodeKind::Combiner {
            key: key.clone(),
            window_ms: *window_ms,
        },
        m::NodeKind::Summarizer {
            image,
            model,
            prompt,
            max_tokens,
        } => g::NodeKind::Summarizer {
            image: image.clone(),
            model: model.clone(),
            prompt: prompt.clone(),
            max_tokens: *max_tokens,
        },
        m::NodeKind::Transcriber { media, language } => g::NodeKind::Transcriber {
            media: media.clone(),
            language: language.clone(),
        },
        m::NodeKind::Custom {
            lambda_arn,
            command,
            timeout_ms,
        } => g::NodeKind::Custom {
            lambda_arn: lambda_arn.clone(),
            command: command.clone(),
            timeout_ms: *timeout_ms,
        },
    }
}

fn mapping(entries: &[(String, MapValue)]) -> Vec<g::MappingEntry> {
    entries
        .iter()
        .map(|(name, value)| g::MappingEntry {
            name: name.clone(),
            value: map_value(value),
        })
        .collect()
}

fn map_value(value: &MapValue) -> g::MapValue {
    match value {
        MapValue::Path { event, path } => g::MapValue::Input {
            event: event.clone(),
            path: path.clone(),
        },
        MapValue::Builtin { name, path } => g::MapValue::Builtin {
            name: name.clone(),
            path: path.clone(),
        },
        MapValue::Aggregate(name) => g::MapValue::Aggregate { name: name.clone() },
        MapValue::Literal(v) => g::MapValue::Literal { value: v.clone() },
        MapValue::Record(entries) => g::MapValue::Record {
            fields: mapping(entries),
        },
    }
}

fn app(a: &m::App, sources: &SourceSet) -> g::AppDef {
    g::AppDef {
        name: a.name.clone(),
        nodes: a.nodes.clone(),
        flows: a.flows.clone(),
        sinks: a
            .sinks
            .iter()
            .map(|s| g::SinkDef {
                name: s.name.clone(),
                event: s.event.clone(),
                kind: match &s.kind {
                    m::SinkKind::S3 {
                        key_template,
                        format,
                        body_template,
                        ..
                    } => g::SinkKind::S3 {
                        key_template: key_template.clone(),
                        format: format.clone(),
                        body_template: body_template.clone(),
                    },
                    m::SinkKind::DynamoDb { key, sort, ttl_ms } => g::SinkKind::Dynamodb {
                        key: key.clone(),
                        sort: sort.clone(),
                        ttl_ms: *ttl_ms,
                    },
                    m::SinkKind::Webhook {
                        url,
                        secret,
                        timeout_ms,
                    } => g::SinkKind::Webhook {
                        url: url.clone(),
                        secret: secret.clone(),
                        timeout_ms: *timeout_ms,
                    },
                },
                span: source_ref(sources, s.span),
            })
            .collect(),
        settings: a.settings.clone(),
        span: source_ref(sources, a.span),
    }
}

fn test_step(step: &m::TestStep) -> g::TestStep {
    match step {
        m::TestStep::Given {
            event,
            detail,
            at_ms,
        } => g::TestStep::Given {
            event: event.clone(),
            detail: detail.clone(),
            at_ms: *at_ms,
        },
        m::TestStep::Advance { by_ms } => g::TestStep::Advance { by_ms: *by_ms },
        m::TestStep::Expect { event, detail } => g::TestStep::Expect {
            event: event.clone(),
            detail: detail.clone(),
        },
        m::TestStep::ExpectNone { event } => g::TestStep::ExpectNone {
            event: event.clone(),
        },
        m::TestStep::ExpectState { node, key, state } => g::TestStep::ExpectState {
            node: node.clone(),
            key: key.clone(),
            state: state.clone(),
        },
    }
}
