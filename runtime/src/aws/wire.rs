//! Events on the wire: what the runtime puts into PutEvents and how it
//! reads what EventBridge delivers.
//!
//! EventBridge gives every PutEvents entry a fresh `id` and keeps `time`
//! to the second only. The engine's ids are deterministic (a redelivered
//! output must be recognised downstream) and its times have milliseconds,
//! so a derived event carries both in `detail.flow` (`id`, `at`); the
//! receiving function takes them out again before the engine sees the
//! event. The engine therefore sees exactly the events `flowc run` sees.

use serde_json::{Map, Value};

use crate::engine::time::{format_rfc3339, parse_rfc3339};
use crate::engine::{Emitted, Event, Millis};

/// One PutEvents entry, without the bus (the adapter adds it).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub source: String,
    pub detail_type: String,
    /// The `detail` as JSON text.
    pub detail: String,
    pub time: Millis,
}

impl Entry {
    /// The entry of an event a node emitted: its id and exact time go
    /// into `detail.flow`.
    pub fn of(event: &Event) -> Entry {
        let mut detail = Value::clone(&event.detail);
        if let Value::Object(d) = &mut detail {
            let flow = d.entry("flow").or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(f) = flow {
                f.insert("id".into(), Value::from(event.id.as_str()));
                f.insert("at".into(), Value::from(format_rfc3339(event.time)));
            }
        }
        Entry {
            source: event.source.clone(),
            detail_type: event.detail_type.clone(),
            detail: detail.to_string(),
            time: event.time,
        }
    }

    /// A raw event (an ingest): its detail as is.
    pub fn raw(source: &str, detail_type: &str, detail: &Value, time: Millis) -> Entry {
        Entry {
            source: source.to_string(),
            detail_type: detail_type.to_string(),
            detail: detail.to_string(),
            time,
        }
    }

    /// The size EventBridge counts against its 256 KB entry limit
    /// (source, detail-type, detail, and 14 bytes for the time).
    pub fn size(&self) -> usize {
        self.source.len() + self.detail_type.len() + self.detail.len() + 14
    }

    /// The envelope EventBridge would deliver for this entry with `id`.
    pub fn envelope(&self, id: &str, account: &str, region: &str) -> Value {
        let detail: Value = serde_json::from_str(&self.detail).unwrap_or(Value::Null);
        serde_json::json!({
            "version": "0",
            "id": id,
            "detail-type": self.detail_type,
            "source": self.source,
            "account": account,
            "time": format_rfc3339(self.time - self.time.rem_euclid(1000)),
            "region": region,
            "resources": [],
            "detail": detail,
        })
    }
}

/// A detail in the engine's representation (shared or not).
pub fn shared<T: From<Value>>(detail: Value) -> T {
    T::from(detail)
}

/// The entry of an emitted event.
pub fn entry_of(emitted: &Emitted) -> Entry {
    Entry::of(&emitted.event)
}

/// Reads a delivered EventBridge envelope into the engine's event,
/// restoring a derived event's own id and time from `detail.flow`.
pub fn read_delivered(value: &Value, now: Millis) -> Result<Event, String> {
    let mut event = Event::from_envelope(value, now).map_err(|e| e.to_string())?;
    let mut detail = Value::clone(&event.detail);
    let Some(Value::Object(flow)) = detail.get_mut("flow") else {
        return Ok(event);
    };
    if let Some(Value::String(id)) = flow.remove("id") {
        event.id = id;
    }
    if let Some(Value::String(at)) = flow.remove("at") {
        event.time = parse_rfc3339(&at)
            .ok_or_else(|| format!("`detail.flow.at` is not RFC 3339: {at:?}"))?;
    }
    if flow.is_empty() {
        if let Value::Object(d) = &mut detail {
            d.remove("flow");
        }
    }
    event.detail = shared(detail);
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::FlowMeta;
    use serde_json::json;

    #[test]
    fn a_derived_event_survives_the_bus() {
        let mut detail = json!({"profile": {"s": "a"}, "data": {"count": 3}});
        FlowMeta {
            correlation_id: "c".into(),
            hops: 1,
            node: "N".into(),
            routes: vec![],
        }
        .write(&mut detail);
        let event = Event {
            id: "derived-1".into(),
            source: "flow.p".into(),
            detail_type: "Sampled".into(),
            time: 1_767_225_600_250,
            detail: shared(detail),
        };
        let entry = Entry::of(&event);
        let delivered = entry.envelope("eventbridge-id", "123456789012", "eu-west-1");
        assert_eq!(delivered["time"], "2026-01-01T00:00:00Z");
        let back = read_delivered(&delivered, 0).expect("read");
        assert_eq!(back, event);
    }

    #[test]
    fn a_raw_event_keeps_eventbridge_id() {
        let entry = Entry::raw("app", "frame", &json!({"data": {}}), 1_767_225_600_000);
        let back = read_delivered(&entry.envelope("eb-1", "1", "r"), 0).expect("read");
        assert_eq!(back.id, "eb-1");
        assert_eq!(Value::clone(&back.detail), json!({"data": {}}));
        assert_eq!(entry.size(), 3 + 5 + 11 + 14);
    }
}
