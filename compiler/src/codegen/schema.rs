//! JSON Schemas (draft 2020-12) of events: the document describes the whole
//! EventBridge event, with `detail` holding the three envelope records.
//! The same keywords are valid in draft-04, which the EventBridge schema
//! registry requires; `registry_schema` only swaps `$schema`.

use serde_json::{json, Map, Value};

use crate::check::model::{object_record, Event, Record, Type};

pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";
pub const DRAFT_04: &str = "http://json-schema.org/draft-04/schema#";

/// The draft 2020-12 schema of one event.
pub fn event_schema(event: &Event, project: &str) -> Value {
    let detail = record_schema(&event.schema.as_record());
    json!({
        "$schema": DRAFT_2020_12,
        "$id": format!("https://flowc.dev/schemas/{project}/{}.json", event.name),
        "title": event.name,
        "description": format!("EventBridge event `{}` ({} / {})", event.name, event.source, event.detail_type),
        "type": "object",
        "properties": {
            "source": { "const": event.source },
            "detail-type": { "const": event.detail_type },
            "detail": detail,
        },
        "required": ["source", "detail-type", "detail"],
    })
}

/// The same document for `AWS::EventSchemas::Schema` (type JSONSchemaDraft4).
pub fn registry_schema(event: &Event, project: &str) -> Value {
    let mut schema = event_schema(event, project);
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("$schema".to_string(), json!(DRAFT_04));
        obj.remove("$id");
        // Draft-04 has no `const`; a one-value enum says the same.
        if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
            for key in ["source", "detail-type"] {
                if let Some(p) = props.get_mut(key) {
                    if let Some(c) = p.get("const").cloned() {
                        *p = json!({ "type": "string", "enum": [c] });
                    }
                }
            }
        }
    }
    schema
}

fn record_schema(record: &Record) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in &record.fields {
        let mut schema = type_schema(&field.ty);
        if field.optional {
            schema = json!({ "anyOf": [schema, { "type": "null" }] });
        } else {
            required.push(json!(field.name));
        }
        properties.insert(field.name.clone(), schema);
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": true,
    })
}

fn type_schema(ty: &Type) -> Value {
    match ty {
        Type::String => json!({ "type": "string" }),
        Type::Int => json!({ "type": "integer" }),
        Type::Float => json!({ "type": "number" }),
        Type::Bool => json!({ "type": "boolean" }),
        Type::Timestamp => json!({ "type": "string", "format": "date-time" }),
        Type::Duration => json!({ "type": "integer", "minimum": 0, "description": "milliseconds" }),
        Type::Object => {
            let mut s = record_schema(&object_record());
            if let Some(o) = s.as_object_mut() {
                o.insert("description".to_string(), json!("an S3 object reference"));
            }
            s
        }
        Type::List(inner) => json!({ "type": "array", "items": type_schema(inner) }),
        Type::Record(r) => record_schema(r),
        Type::Union(members) => json!({ "type": "string", "enum": members }),
    }
}
