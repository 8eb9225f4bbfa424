//! The `ingest` role: raw inputs become a trigger's event.
//!
//! * S3 `Object Created` notifications (through EventBridge, `aws.s3`):
//!   the event's first `object` field in `data` gets `{ bucket, key, size,
//!   etag, version_id, content_type }`; the rest of `detail` comes from the
//!   object's user metadata `flow-detail` (JSON of `{ profile, data,
//!   application }`), read with `HeadObject`. Time: the notification's.
//! * HTTP API requests (payload 2.0): the body is the event's `detail`.
//!
//! The conversion is pure ([`s3_detail`], [`http_detail`]); the role's
//! shell in `handler` does the IO.

use serde_json::{Map, Value};

use super::error::FlowError;
use crate::graph::{EventDef, Graph, TriggerDef};

/// The trigger a function serves and its event.
pub fn trigger<'g>(
    graph: &'g Graph,
    name: &str,
) -> Result<(&'g TriggerDef, &'g EventDef), FlowError> {
    let trigger = graph
        .triggers
        .iter()
        .find(|t| t.name == name)
        .ok_or_else(|| {
            FlowError::bad_input(format!("graph.json has no trigger {name:?} (FLOW_TRIGGER)"))
        })?;
    let event = graph.events.get(&trigger.event).ok_or_else(|| {
        FlowError::bad_input(format!(
            "trigger {name}'s event {} is not in graph.json",
            trigger.event
        ))
        .at(&trigger.name, &trigger.span)
    })?;
    Ok((trigger, event))
}

/// The name of the first field of `data` that is an S3 object reference.
pub fn object_field(event: &EventDef) -> Option<String> {
    let data = event
        .schema
        .pointer("/properties/detail/properties/data/properties")?;
    data.as_object()?.iter().find_map(|(name, schema)| {
        let props = schema.get("properties")?.as_object()?;
        (props.contains_key("bucket") && props.contains_key("key")).then(|| name.clone())
    })
}

/// What an S3 object-created notification says about the object.
#[derive(Clone, Debug, PartialEq)]
pub struct S3Object {
    pub bucket: String,
    pub key: String,
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub version_id: Option<String>,
}

/// Reads the `detail` of an `aws.s3` / `Object Created` event.
pub fn read_s3_notification(detail: &Value) -> Result<S3Object, FlowError> {
    let text = |p: &str| {
        detail
            .pointer(p)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let bucket = text("/bucket/name")
        .ok_or_else(|| FlowError::bad_input("S3 notification without detail.bucket.name"))?;
    let key = text("/object/key")
        .ok_or_else(|| FlowError::bad_input("S3 notification without detail.object.key"))?;
    Ok(S3Object {
        bucket,
        key,
        size: detail.pointer("/object/size").and_then(Value::as_u64),
        etag: text("/object/etag"),
        version_id: text("/object/version-id"),
    })
}

/// The trigger event's `detail` for an uploaded object: the `flow-detail`
/// metadata (if any) with the object field filled in.
pub fn s3_detail(
    event: &EventDef,
    object: &S3Object,
    content_type: Option<&str>,
    flow_detail: Option<&str>,
) -> Result<Value, FlowError> {
    let mut detail = match flow_detail {
        Some(text) => serde_json::from_str::<Value>(text).map_err(|e| {
            FlowError::bad_input(format!(
                "s3://{}/{}: metadata flow-detail is not JSON: {e}",
                object.bucket, object.key
            ))
        })?,
        None => Value::Object(Map::new()),
    };
    let Value::Object(d) = &mut detail else {
        return Err(FlowError::bad_input(format!(
            "s3://{}/{}: metadata flow-detail must be a JSON object",
            object.bucket, object.key
        )));
    };
    let field = object_field(event).ok_or_else(|| {
        FlowError::failed(format!("event {} has no object field in data", event.name))
    })?;
    let mut reference = Map::new();
    reference.insert("bucket".into(), Value::from(object.bucket.as_str()));
    reference.insert("key".into(), Value::from(object.key.as_str()));
    if let Some(size) = object.size {
        reference.insert("size".into(), Value::from(size));
    }
    for (name, v) in [
        ("content_type", content_type),
        ("etag", object.etag.as_deref()),
        ("version_id", object.version_id.as_deref()),
    ] {
        if let Some(v) = v {
            reference.insert(name.into(), Value::from(v));
        }
    }
    let data = d.entry("data").or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(data) = data else {
        return Err(FlowError::bad_input(
            "flow-detail's `data` must be an object",
        ));
    };
    data.insert(field, Value::Object(reference));
    for section in ["profile", "application"] {
        d.entry(section)
            .or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(detail)
}

/// The trigger event's `detail` from an HTTP body: a JSON object whose
/// `profile`, `data` and `application` (when present) are objects.
pub fn http_detail(body: &[u8]) -> Result<Value, FlowError> {
    let detail: Value = serde_json::from_slice(body)
        .map_err(|e| FlowError::bad_input(format!("the body is not JSON: {e}")))?;
    let Value::Object(d) = &detail else {
        return Err(FlowError::bad_input(
            "the body must be a JSON object (the event's detail)",
        ));
    };
    for section in ["profile", "data", "application"] {
        if d.get(section).is_some_and(|v| !v.is_object()) {
            return Err(FlowError::bad_input(format!(
                "`{section}` must be an object"
            )));
        }
    }
    Ok(detail)
}

/// Decodes standard base64 (API Gateway's `isBase64Encoded` bodies).
pub fn base64_decode(text: &str) -> Result<Vec<u8>, FlowError> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return Err(FlowError::bad_input("the body is not valid base64")),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> EventDef {
        serde_json::from_value(json!({
            "name": "Frame", "source": "app", "detail_type": "frame",
            "schema": {"properties": {"detail": {"properties": {"data": {"properties": {
                "n": {"type": "integer"},
                "image": {"properties": {"bucket": {}, "key": {}}}}}}}}},
            "span": {"file": "a.flow", "line": 1, "column": 1, "offset": 0, "length": 1}
        }))
        .expect("event")
    }

    #[test]
    fn an_upload_fills_the_object_field() {
        let notification = json!({"bucket": {"name": "media"}, "object": {"key": "frames/a.png", "size": 5, "etag": "e"}});
        let object = read_s3_notification(&notification).expect("read");
        let detail = s3_detail(
            &event(),
            &object,
            Some("image/png"),
            Some(r#"{"profile": {"session_id": "s1"}, "data": {"n": 1}}"#),
        )
        .expect("detail");
        assert_eq!(
            detail,
            json!({"profile": {"session_id": "s1"}, "application": {},
                   "data": {"n": 1, "image": {"bucket": "media", "key": "frames/a.png", "size": 5, "etag": "e", "content_type": "image/png"}}})
        );
        assert!(s3_detail(&event(), &object, None, Some("[1]")).is_err());
    }

    #[test]
    fn http_bodies() {
        assert!(http_detail(br#"{"data": {"x": 1}}"#).is_ok());
        assert!(http_detail(b"[]").is_err());
        assert!(http_detail(br#"{"data": 1}"#).is_err());
        assert_eq!(base64_decode("eyJhIjoxfQ==").expect("b64"), br#"{"a":1}"#);
    }
}
