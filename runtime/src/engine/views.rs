//! Views (summarizer, transcriber) and custom nodes: the engine builds the
//! request a port answers, and turns the answer into events.
//!
//! A view emits one event per input: `data` = the input's `data` plus
//! `summary` / `transcript` (or the mapping, with the builtin `output`).
//! A custom node's command answers with EventBridge events; each must name
//! one of the node's declared outputs by `detail-type` and carry every
//! field the output's schema requires.

use handlebars::Handlebars;
use serde_json::{Map, Value};

use super::event::{derive_id, Event};
use super::mapping::{data_of, lookup, Scope};
use super::nodes::derived_event;
use super::time::parse_rfc3339;
use super::{Emitted, ObjectRef, StepError};
use crate::graph::{Graph, NodeDef, NodeKind};

/// What a view asks its port.
#[derive(Clone, Debug, PartialEq)]
pub enum ViewRequest {
    Summary {
        image: ObjectRef,
        model: String,
        prompt: String,
        max_tokens: Option<u64>,
        /// The prompt's variables (`application.name`, …) with their
        /// values in the input, in order of first use: the context an
        /// engine without a language model reports next to its text.
        fields: Vec<(String, Value)>,
    },
    Transcript {
        media: ObjectRef,
        language: String,
    },
}

/// What a view's engine answered: the text, and what the engine says about
/// it (engine name, model, token usage, word timings and confidence) for
/// the emitted event's `detail.view`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ViewAnswer {
    pub text: String,
    pub metadata: Map<String, Value>,
}

/// Builds a view's request from its input (the prompt rendered with
/// Handlebars against the input's `detail`, in strict mode: a field the
/// input lacks is an error, never an empty string).
pub fn view_request(node: &NodeDef, event: &Event) -> Result<ViewRequest, StepError> {
    let object = |path: &[String]| {
        lookup(&event.detail, path)
            .and_then(ObjectRef::from_value)
            .ok_or_else(|| {
                StepError(format!(
                    "event {} has no object at `{}`",
                    event.id,
                    path.join(".")
                ))
            })
    };
    match &node.kind {
        NodeKind::Summarizer {
            image,
            model,
            prompt,
            max_tokens,
        } => {
            let mut hb = Handlebars::new();
            hb.register_escape_fn(handlebars::no_escape);
            hb.set_strict_mode(true);
            let rendered = hb.render_template(prompt, &event.detail).map_err(|e| {
                StepError(format!(
                    "prompt of {} cannot be rendered for event {}: {}",
                    node.name,
                    event.id,
                    e.reason()
                ))
            })?;
            let fields = prompt_variables(prompt)
                .into_iter()
                .filter_map(|path| {
                    let segments: Vec<String> = path.split('.').map(String::from).collect();
                    lookup(&event.detail, &segments).map(|v| (path, v.clone()))
                })
                .collect();
            Ok(ViewRequest::Summary {
                image: object(image)?,
                model: model.clone(),
                prompt: rendered,
                max_tokens: *max_tokens,
                fields,
            })
        }
        NodeKind::Transcriber { media, language } => Ok(ViewRequest::Transcript {
            media: object(media)?,
            language: language.clone(),
        }),
        _ => Err(StepError(format!("node {} is not a view", node.name))),
    }
}

/// The plain variable paths of a Handlebars template (`{{a.b}}`,
/// `{{{a.b}}}`), in order of first use; helpers and block tags are
/// skipped (the compiler has checked every path already).
pub fn prompt_variables(template: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        rest = &rest[open + 2..];
        let Some(close) = rest.find("}}") else { break };
        let inner = rest[..close].trim_matches(|c: char| c == '{' || c == '~' || c.is_whitespace());
        rest = &rest[close + 2..];
        let mut words = inner.split_whitespace();
        let (Some(path), None) = (words.next(), words.next()) else {
            continue;
        };
        let path = path.strip_prefix("this.").unwrap_or(path);
        let plain = path
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            && !path.is_empty()
            && path != "else";
        if plain && !out.iter().any(|p| p == path) {
            out.push(path.to_string());
        }
    }
    out
}

/// The event a view emits for `event` once its port answered: `data` as
/// declared, and the engine's metadata under `detail.view`.
pub fn view_output(
    graph: &Graph,
    node: &NodeDef,
    input_name: &str,
    event: &Event,
    answer: &ViewAnswer,
) -> Result<Emitted, StepError> {
    let output = answer.text.as_str();
    let emit = node
        .emit
        .as_ref()
        .ok_or_else(|| StepError(format!("node {} has no `emit`", node.name)))?;
    let field = match node.kind {
        NodeKind::Transcriber { .. } => "transcript",
        _ => "summary",
    };
    let mut builtins = Map::new();
    builtins.insert("output".into(), Value::from(output));
    let scope = Scope {
        inputs: vec![(input_name, &event.detail)],
        builtins,
    };
    let data = match &emit.mapping {
        Some(entries) => scope.record(entries),
        None => {
            let mut d = data_of(&event.detail);
            d.insert(field.into(), Value::from(output));
            d
        }
    };
    let mut emitted = derived_event(
        graph,
        &emit.event,
        &node.name,
        derive_id(&[&node.name, &event.id]),
        event.time,
        &event.detail,
        data,
        event.flow(),
    );
    if !answer.metadata.is_empty() {
        if let Some(detail) = std::sync::Arc::make_mut(&mut emitted.event.detail).as_object_mut() {
            detail.insert("view".into(), Value::Object(answer.metadata.clone()));
        }
    }
    Ok(emitted)
}

/// Checks the `index`-th event a custom node's command returned for
/// `input` and completes it: `id` and `time` default to derived values,
/// `source` to the declared one, and `detail.flow` is set by the runtime.
pub fn accept_custom(
    graph: &Graph,
    node: &NodeDef,
    input: &Event,
    index: usize,
    value: &Value,
) -> Result<Emitted, StepError> {
    let fail = |m: String| StepError(format!("{} returned an invalid event: {m}", node.name));
    let obj = value
        .as_object()
        .ok_or_else(|| fail("not a JSON object".into()))?;
    let detail_type = obj
        .get("detail-type")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("missing `detail-type`".into()))?;
    let source = obj.get("source").and_then(Value::as_str);
    let def = node
        .outputs
        .iter()
        .filter_map(|o| graph.events.get(o))
        .find(|d| d.detail_type == detail_type && source.is_none_or(|s| s == d.source))
        .ok_or_else(|| {
            fail(format!(
                "`detail-type` {detail_type:?}{} is none of its outputs ({})",
                source.map_or(String::new(), |s| format!(" with source {s:?}")),
                node.outputs.join(", ")
            ))
        })?;
    let mut detail = obj
        .get("detail")
        .filter(|d| d.is_object())
        .cloned()
        .ok_or_else(|| fail("missing object `detail`".into()))?;
    if let Some(schema) = def.schema.pointer("/properties/detail") {
        let mut problems = Vec::new();
        super::conform::problems(schema, &detail, "detail", &mut problems);
        if !problems.is_empty() {
            return Err(fail(format!(
                "{} does not match its schema: {}",
                def.name,
                problems.join("; ")
            )));
        }
    }
    input.flow().next(&node.name).write(&mut detail);
    let id = obj
        .get("id")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| derive_id(&[&node.name, &input.id, &index.to_string()]));
    let time = obj
        .get("time")
        .and_then(Value::as_str)
        .and_then(parse_rfc3339)
        .unwrap_or(input.time);
    Ok(Emitted {
        name: def.name.clone(),
        event: Event {
            id,
            source: def.source.clone(),
            detail_type: def.detail_type.clone(),
            time,
            detail: std::sync::Arc::new(detail),
        },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn summarizer(prompt: &str) -> NodeDef {
        serde_json::from_value(json!({
            "name": "Describe", "class": "view", "kind": "summarizer",
            "image": ["data", "image"], "model": "m", "prompt": prompt,
            "inputs": ["Shot"], "outputs": ["Described"], "emit": {"event": "Described"},
            "span": {"file": "v.flow", "line": 1, "column": 1, "offset": 0, "length": 1},
        }))
        .expect("node")
    }

    fn shot() -> Event {
        Event::from_envelope(
            &json!({
                "id": "e1", "source": "acme", "detail-type": "shot", "time": "2026-03-02T09:00:00Z",
                "detail": {"data": {"image": {"bucket": "b", "key": "k.png"}},
                           "application": {"name": "Slack"}},
            }),
            0,
        )
        .expect("event")
    }

    #[test]
    fn the_prompt_is_rendered_with_its_fields() {
        let node =
            summarizer("In {{application.name}} ({{{application.name}}}), {{#if data}}x{{/if}}");
        let ViewRequest::Summary { prompt, fields, .. } =
            view_request(&node, &shot()).expect("request")
        else {
            panic!("not a summary");
        };
        assert_eq!(prompt, "In Slack (Slack), x");
        assert_eq!(
            fields,
            vec![("application.name".to_string(), json!("Slack"))]
        );
    }

    #[test]
    fn a_field_the_event_lacks_is_an_error_not_an_empty_string() {
        let node = summarizer("Window: {{application.window_title}}");
        let err = view_request(&node, &shot()).expect_err("strict");
        assert!(
            err.0
                .starts_with("prompt of Describe cannot be rendered for event e1:"),
            "{}",
            err.0
        );
        assert!(err.0.contains("application.window_title"), "{}", err.0);
    }
}
