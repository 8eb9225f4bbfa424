//! The `sink` role: an app's sinks deliver the events they name.
//!
//! * `s3`: the object `key` (a Handlebars template, strict mode) in the
//!   project's bucket; the body is the event as JSON (`format "json"`, its
//!   EventBridge envelope) or the rendered `template` (`"markdown"`).
//! * `dynamodb`: one item in the project's table, `pk =
//!   sink#<app>#<sink>#<key value>`, `sk = <sort value>` (or `-`), with the
//!   event's `id`, `time`, `detail` (JSON) and `expires_at` when the sink
//!   has a `ttl`. A later event with the same key and sort replaces it.
//! * `webhook`: not delivered yet (`FlowFailed`).
//!
//! Every write is idempotent (same event, same object or item), so a
//! retried invocation delivers again harmlessly. The rendering is pure
//! ([`plan`]); the handler does the IO.

use handlebars::Handlebars;
use serde_json::Value;

use super::error::FlowError;
use crate::engine::mapping::lookup;
use crate::engine::Event;
use crate::graph::{AppDef, Graph, SinkDef, SinkKind};

/// One write a sink makes for one event.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    Object {
        key: String,
        body: String,
        content_type: &'static str,
    },
    Record {
        pk: String,
        sk: String,
        id: String,
        time: String,
        detail: String,
        /// Seconds since the epoch.
        expires_at: Option<i64>,
    },
}

/// The app a sink function serves.
pub fn app<'g>(graph: &'g Graph, name: &str) -> Result<&'g AppDef, FlowError> {
    graph
        .apps
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| FlowError::bad_input(format!("graph.json has no app {name:?} (FLOW_APP)")))
}

/// The writes of every sink of `app` that takes `event` (by source and
/// detail-type); `now` dates a DynamoDB sink's `ttl`.
pub fn plan(
    graph: &Graph,
    app: &AppDef,
    event: &Event,
    now: i64,
) -> Result<Vec<(&'static str, Delivery, String)>, FlowError> {
    let mut out = Vec::new();
    for sink in &app.sinks {
        let Some(def) = graph.events.get(&sink.event) else {
            continue;
        };
        if def.source != event.source || def.detail_type != event.detail_type {
            continue;
        }
        let at = |e: FlowError| e.at(&format!("{}.{}", app.name, sink.name), &sink.span);
        let delivery = deliver_one(app, sink, event, now).map_err(at)?;
        out.push((kind_name(&sink.kind), delivery, sink.name.clone()));
    }
    Ok(out)
}

fn kind_name(kind: &SinkKind) -> &'static str {
    match kind {
        SinkKind::S3 { .. } => "s3",
        SinkKind::Dynamodb { .. } => "dynamodb",
        SinkKind::Webhook { .. } => "webhook",
    }
}

fn render(template: &str, detail: &Value) -> Result<String, FlowError> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb.render_template(template, detail)
        .map_err(|e| FlowError::failed(format!("template {template:?}: {e}")))
}

fn scalar(detail: &Value, path: &[String]) -> Result<String, FlowError> {
    match lookup(detail, path) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v @ Value::Number(_)) => Ok(v.to_string()),
        _ => Err(FlowError::bad_input(format!(
            "the event has no scalar at `{}`",
            path.join(".")
        ))),
    }
}

fn deliver_one(
    app: &AppDef,
    sink: &SinkDef,
    event: &Event,
    now: i64,
) -> Result<Delivery, FlowError> {
    let detail: &Value = &event.detail;
    match &sink.kind {
        SinkKind::S3 {
            key_template,
            format,
            body_template,
        } => {
            let key = render(key_template, detail)?;
            let (body, content_type) = match (format.as_str(), body_template) {
                ("markdown", Some(t)) => (render(t, detail)?, "text/markdown; charset=utf-8"),
                _ => (event.to_envelope().to_string(), "application/json"),
            };
            Ok(Delivery::Object {
                key,
                body,
                content_type,
            })
        }
        SinkKind::Dynamodb { key, sort, ttl_ms } => Ok(Delivery::Record {
            pk: format!("sink#{}#{}#{}", app.name, sink.name, scalar(detail, key)?),
            sk: match sort {
                Some(s) => scalar(detail, s)?,
                None => "-".into(),
            },
            id: event.id.clone(),
            time: crate::engine::time::format_rfc3339(event.time),
            detail: detail.to_string(),
            expires_at: ttl_ms.map(|t| (now + i64::try_from(t).unwrap_or(i64::MAX / 2)) / 1000),
        }),
        SinkKind::Webhook { .. } => Err(FlowError::failed(
            "webhook sinks are not delivered by this runtime yet",
        )),
    }
}
