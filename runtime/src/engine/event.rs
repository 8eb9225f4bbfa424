//! The EventBridge envelope as the engine sees it, the flow metadata every
//! derived event carries in `detail.flow`, and deterministic event ids.
//!
//! Invariant: an output id is a pure function of the node, the key and the
//! ids of the inputs that produced it, so replaying the same input yields
//! byte-identical output (and a redelivered output is recognised
//! downstream by its id).

use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::time::{format_rfc3339, parse_rfc3339, Millis};

/// One event on the bus.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub id: String,
    pub source: String,
    pub detail_type: String,
    pub time: Millis,
    /// `{ profile, data, application, flow? }`, shared: routing to several
    /// targets and keeping a window's last input do not copy it.
    pub detail: Arc<Value>,
}

/// Why an input line is not an EventBridge event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeError(pub String);

impl std::fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EnvelopeError {}

impl Event {
    /// Reads an EventBridge envelope. `source`, `detail-type` and an object
    /// `detail` are required; a missing `id` is derived from the content and
    /// a missing `time` is `default_time` (as PutEvents fills them in).
    pub fn from_envelope(value: &Value, default_time: Millis) -> Result<Event, EnvelopeError> {
        let obj = value
            .as_object()
            .ok_or_else(|| EnvelopeError("an event must be a JSON object".into()))?;
        let text = |name: &str| -> Result<Option<String>, EnvelopeError> {
            match obj.get(name) {
                None => Ok(None),
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                Some(_) => Err(EnvelopeError(format!(
                    "`{name}` must be a non-empty string"
                ))),
            }
        };
        let source = text("source")?.ok_or_else(|| EnvelopeError("missing `source`".into()))?;
        let detail_type =
            text("detail-type")?.ok_or_else(|| EnvelopeError("missing `detail-type`".into()))?;
        let detail = match obj.get("detail") {
            Some(d @ Value::Object(_)) => Arc::new(d.clone()),
            Some(_) => return Err(EnvelopeError("`detail` must be an object".into())),
            None => return Err(EnvelopeError("missing `detail`".into())),
        };
        let time = match text("time")? {
            Some(t) => parse_rfc3339(&t)
                .ok_or_else(|| EnvelopeError(format!("`time` is not RFC 3339: {t:?}")))?,
            None => default_time,
        };
        let id = match text("id")? {
            Some(id) => id,
            None => derive_id(&["put-events", &value.to_string()]),
        };
        Ok(Event {
            id,
            source,
            detail_type,
            time,
            detail,
        })
    }

    /// The standard EventBridge envelope, keys in a stable order.
    pub fn to_envelope(&self) -> Value {
        let mut m = Map::new();
        m.insert("version".into(), Value::from("0"));
        m.insert("id".into(), Value::from(self.id.as_str()));
        m.insert("detail-type".into(), Value::from(self.detail_type.as_str()));
        m.insert("source".into(), Value::from(self.source.as_str()));
        m.insert("account".into(), Value::from(LOCAL_ACCOUNT));
        m.insert("time".into(), Value::from(format_rfc3339(self.time)));
        m.insert("region".into(), Value::from(LOCAL_REGION));
        m.insert("resources".into(), Value::Array(Vec::new()));
        m.insert("detail".into(), Value::clone(&self.detail));
        Value::Object(m)
    }

    /// The flow metadata of this event (defaults for a raw event).
    pub fn flow(&self) -> FlowMeta {
        FlowMeta::read(&self.detail, &self.id)
    }
}

/// The account of locally run events.
pub const LOCAL_ACCOUNT: &str = "000000000000";
/// The region of locally run events.
pub const LOCAL_REGION: &str = "local";

/// `detail.flow`: where a derived event comes from.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FlowMeta {
    /// The id of the raw event that started the chain.
    pub correlation_id: String,
    /// Node executions between the raw event and this one.
    pub hops: u64,
    /// The node that emitted this event (empty for a raw event).
    pub node: String,
    /// Deliveries made so far through each route with `max_hops`.
    pub routes: Vec<(String, u64)>,
}

impl FlowMeta {
    /// Reads `detail.flow`, defaulting to a raw event's metadata.
    pub fn read(detail: &Value, id: &str) -> FlowMeta {
        let Some(flow) = detail.get("flow").and_then(Value::as_object) else {
            return FlowMeta {
                correlation_id: id.to_string(),
                ..FlowMeta::default()
            };
        };
        FlowMeta {
            correlation_id: flow
                .get("correlation_id")
                .and_then(Value::as_str)
                .unwrap_or(id)
                .to_string(),
            hops: flow.get("hops").and_then(Value::as_u64).unwrap_or(0),
            node: flow
                .get("node")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            routes: flow
                .get("routes")
                .and_then(Value::as_object)
                .map(|r| {
                    r.iter()
                        .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Deliveries so far through `route`.
    pub fn route_hops(&self, route: &str) -> u64 {
        self.routes
            .iter()
            .find(|(r, _)| r == route)
            .map_or(0, |(_, n)| *n)
    }

    /// The metadata after one more delivery through `route`.
    pub fn through(mut self, route: &str) -> FlowMeta {
        match self.routes.iter_mut().find(|(r, _)| r == route) {
            Some((_, n)) => *n += 1,
            None => {
                self.routes.push((route.to_string(), 1));
                self.routes.sort();
            }
        }
        self
    }

    /// The metadata of an event `node` emits from an input with this one.
    pub fn next(&self, node: &str) -> FlowMeta {
        FlowMeta {
            correlation_id: self.correlation_id.clone(),
            hops: self.hops + 1,
            node: node.to_string(),
            routes: self.routes.clone(),
        }
    }

    /// Writes this metadata into `detail.flow`.
    pub fn write(&self, detail: &mut Value) {
        let Value::Object(d) = detail else { return };
        let mut m = Map::new();
        m.insert(
            "correlation_id".into(),
            Value::from(self.correlation_id.as_str()),
        );
        m.insert("hops".into(), Value::from(self.hops));
        m.insert("node".into(), Value::from(self.node.as_str()));
        if !self.routes.is_empty() {
            let routes = self
                .routes
                .iter()
                .map(|(r, n)| (r.clone(), Value::from(*n)))
                .collect();
            m.insert("routes".into(), Value::Object(routes));
        }
        d.insert("flow".into(), Value::Object(m));
    }
}

/// A UUID-shaped id (version 8, RFC 9562) from the SHA-256 of the parts.
pub fn derive_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
