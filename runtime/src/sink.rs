//! What an app's sinks write for one event, without doing any IO.
//!
//! Input: the graph, an app, an event and the time. Output: one
//! [`Delivery`] per sink of the app that takes the event (by source and
//! detail-type). The local driver (`local::sinks`) and the AWS `sink` role
//! (`aws::sinks`) both write exactly these, so a document, record or
//! webhook body is byte-identical locally and on AWS.
//!
//! * `s3`: the object `key` (a Handlebars template, strict mode); the body
//!   is the event as JSON (`format "json"`, its EventBridge envelope) or
//!   the rendered `template` (`"markdown"`).
//! * `dynamodb`: one record keyed `sink#<app>#<sink>#<key value>` and the
//!   sort value (or `-`), with the event's id, time, detail and expiry.
//! * `webhook`: the event's envelope as the JSON body, signed with
//!   [`signature`] over `timestamp.body`.
//!
//! Invariant: every delivery is a pure function of the event, so a
//! redelivered event writes the same object or record again, and a webhook
//! carries the same `Idempotency-Key` (the event id).

use handlebars::Handlebars;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::engine::mapping::lookup;
use crate::engine::Event;
use crate::graph::{AppDef, Graph, SinkDef, SinkKind};

/// The header carrying `sha256=<hex>` of HMAC-SHA256(secret, `timestamp.body`).
pub const SIGNATURE_HEADER: &str = "X-Flowc-Signature";
/// The header carrying the Unix time (seconds) the signature covers.
pub const TIMESTAMP_HEADER: &str = "X-Flowc-Timestamp";
/// The header carrying the event id: the same on every retry and redelivery.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// A webhook's timeout when its sink declares none.
pub const DEFAULT_WEBHOOK_TIMEOUT_MS: u64 = 10_000;

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
    Webhook {
        url: String,
        /// The name of the signing secret (Secrets Manager on AWS, an
        /// environment variable or a file locally).
        secret: String,
        body: String,
        event_id: String,
        timeout_ms: u64,
    },
}

/// One sink's delivery of one event.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned<'g> {
    pub sink: &'g SinkDef,
    pub delivery: Delivery,
}

/// Why a sink cannot deliver an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkError {
    /// `App.Sink`.
    pub sink: String,
    pub message: String,
    /// The event lacks what the sink needs (as opposed to a broken template).
    pub bad_input: bool,
}

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sink {}: {}", self.sink, self.message)
    }
}

impl std::error::Error for SinkError {}

/// The deliveries of every sink of `app` that takes `event`; `now`
/// (milliseconds) dates a DynamoDB sink's `ttl`.
pub fn plan<'g>(
    graph: &Graph,
    app: &'g AppDef,
    event: &Event,
    now: i64,
) -> Result<Vec<Planned<'g>>, SinkError> {
    let mut out = Vec::new();
    for sink in &app.sinks {
        let Some(def) = graph.events.get(&sink.event) else {
            continue;
        };
        if def.source != event.source || def.detail_type != event.detail_type {
            continue;
        }
        let delivery =
            deliver_one(app, sink, event, now).map_err(|(message, bad_input)| SinkError {
                sink: format!("{}.{}", app.name, sink.name),
                message,
                bad_input,
            })?;
        out.push(Planned { sink, delivery });
    }
    Ok(out)
}

/// `sink.kind` as written in `.flow`.
pub fn kind_name(kind: &SinkKind) -> &'static str {
    match kind {
        SinkKind::S3 { .. } => "s3",
        SinkKind::Dynamodb { .. } => "dynamodb",
        SinkKind::Webhook { .. } => "webhook",
    }
}

/// `sha256=<hex>` of HMAC-SHA256(`secret`, `"<timestamp>.<body>"`): what a
/// receiver recomputes to check a delivery (docs/apps.md).
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(7 + digest.len() * 2);
    hex.push_str("sha256=");
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// Checks a `sha256=<hex>` signature in constant time.
pub fn verify(secret: &[u8], timestamp: i64, body: &[u8], header: &str) -> bool {
    let Some(hex) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn render(template: &str, detail: &Value) -> Result<String, (String, bool)> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(handlebars::no_escape);
    hb.render_template(template, detail)
        .map_err(|e| (format!("template {template:?}: {e}"), false))
}

fn scalar(detail: &Value, path: &[String]) -> Result<String, (String, bool)> {
    match lookup(detail, path) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v @ Value::Number(_)) => Ok(v.to_string()),
        _ => Err((
            format!("the event has no scalar at `{}`", path.join(".")),
            true,
        )),
    }
}

fn deliver_one(
    app: &AppDef,
    sink: &SinkDef,
    event: &Event,
    now: i64,
) -> Result<Delivery, (String, bool)> {
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
        SinkKind::Webhook {
            url,
            secret,
            timeout_ms,
        } => Ok(Delivery::Webhook {
            url: url.clone(),
            secret: secret.clone(),
            body: event.to_envelope().to_string(),
            event_id: event.id.clone(),
            timeout_ms: timeout_ms.unwrap_or(DEFAULT_WEBHOOK_TIMEOUT_MS),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231 style check through an independent composition: the
        // signature of "1.x" must verify and change with any input.
        let s = signature(b"key", 1, b"x");
        assert!(s.starts_with("sha256="));
        assert_eq!(s.len(), 7 + 64);
        assert!(verify(b"key", 1, b"x", &s));
        assert!(!verify(b"key", 2, b"x", &s));
        assert!(!verify(b"other", 1, b"x", &s));
        assert!(!verify(b"key", 1, b"y", &s));
        assert!(!verify(b"key", 1, b"x", "sha256=zz"));
        assert!(!verify(b"key", 1, b"x", "md5=00"));
    }

    #[test]
    fn signature_matches_python_hmac() {
        // hmac.new(b"whsec_test", b'1700000000.{"id":"e1"}', sha256).hexdigest()
        assert_eq!(
            signature(b"whsec_test", 1_700_000_000, br#"{"id":"e1"}"#),
            "sha256=6a85cb117c993612a34c72b4cfb5a16baed25a80d26e298ce0e6671320fd07c8"
        );
    }
}
