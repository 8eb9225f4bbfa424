//! Does a value conform to an event's JSON Schema (as `codegen::schema`
//! writes them)? Used on what custom nodes return, locally and on AWS, so
//! nothing that breaks its declared shape is emitted.
//!
//! The keywords flowc's schemas use are checked: `type` (one or several),
//! `enum`, `const`, `anyOf`, `properties`, `required`, `items`, and
//! `format: date-time` (RFC 3339). A required field whose own schema is
//! an object with no required field may be left out (as in a test's
//! `given`). Other keywords are ignored; `additionalProperties` is always
//! true in flowc's schemas.

use serde_json::Value;

use super::time::parse_rfc3339;

/// Appends one message per problem of `value` against `schema`, each
/// starting with the path (`detail.data.score`) it is about.
pub fn problems(schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        let fits = options.iter().any(|o| {
            let mut sub = Vec::new();
            problems(o, value, at, &mut sub);
            sub.is_empty()
        });
        if !fits {
            out.push(format!("{at}: {} fits none of its types", shown(value)));
        }
        return;
    }
    if let Some(c) = schema.get("const") {
        if c != value {
            out.push(format!("{at}: expected {c}, found {}", shown(value)));
        }
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            out.push(format!(
                "{at}: {} is none of {}",
                shown(value),
                list.join(", ")
            ));
            return;
        }
    }
    if let Some(expected) = schema.get("type") {
        let names: Vec<&str> = match expected {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !names.is_empty() && !names.iter().any(|t| has_type(value, t)) {
            out.push(format!(
                "{at}: expected {}, found {}",
                names.join(" or "),
                shown(value)
            ));
            return;
        }
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time") {
        if let Some(s) = value.as_str() {
            if parse_rfc3339(s).is_none() {
                out.push(format!("{at}: {s:?} is not an RFC 3339 date-time"));
            }
        }
    }
    if let Some(obj) = value.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for r in required.iter().filter_map(Value::as_str) {
                let sub = props.and_then(|p| p.get(r));
                if !obj.contains_key(r) && !may_be_left_out(sub) {
                    out.push(format!("{at}.{r} is missing"));
                }
            }
        }
        for (name, sub) in props.into_iter().flatten() {
            if let Some(v) = obj.get(name) {
                problems(sub, v, &format!("{at}.{name}"), out);
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, v) in list.iter().enumerate() {
            problems(items, v, &format!("{at}[{i}]"), out);
        }
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => true,
    }
}

/// A record whose fields are all optional may be left out.
fn may_be_left_out(schema: Option<&Value>) -> bool {
    schema.is_some_and(|s| {
        s.get("type").and_then(Value::as_str) == Some("object")
            && s.get("required")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
    })
}

/// A value for a message: short, on one line.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::problems;
    use serde_json::{json, Value};

    fn check(schema: &Value, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        problems(schema, value, "detail", &mut out);
        out
    }

    #[test]
    fn checks_the_keywords_flowc_writes() {
        let schema = json!({"type": "object", "required": ["data", "application"], "properties": {
            "application": {"type": "object", "required": [], "properties": {}},
            "data": {"type": "object", "required": ["score", "band", "at", "tags"], "properties": {
                "score": {"type": "number"},
                "count": {"type": "integer"},
                "band": {"type": "string", "enum": ["low", "high"]},
                "at": {"type": "string", "format": "date-time"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            }},
        }});
        let good = json!({"data": {"score": 1.5, "count": 3, "band": "low",
            "at": "2026-03-02T09:00:00Z", "tags": ["a"], "note": null}});
        assert_eq!(check(&schema, &good), Vec::<String>::new());
        let bad = json!({"data": {"score": "high", "count": 1.5, "band": "mid",
            "at": "yesterday", "tags": ["a", 2], "note": 3}});
        assert_eq!(
            check(&schema, &bad),
            [
                "detail.data.at: \"yesterday\" is not an RFC 3339 date-time",
                "detail.data.band: \"mid\" is none of \"low\", \"high\"",
                "detail.data.count: expected integer, found 1.5",
                "detail.data.note: 3 fits none of its types",
                "detail.data.score: expected number, found \"high\"",
                "detail.data.tags[1]: expected string, found 2",
            ]
        );
        assert_eq!(
            check(&schema, &json!({"data": {"score": 1}})),
            [
                "detail.data.band is missing",
                "detail.data.at is missing",
                "detail.data.tags is missing"
            ]
        );
    }
}
