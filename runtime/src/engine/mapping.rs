//! `emit` mappings and default shapes: what a node writes into the `data`
//! of the event it emits (docs/language.md §6 "emit and derived events").
//!
//! Input: the node's inputs (by event name), its builtins and aggregates.
//! Output: the `data` object. A mapped path that is absent in the input is
//! left out of the output (optional stays optional); `null` stays `null`.

use serde_json::{Map, Value};

use crate::graph::{MapValue, MappingEntry};

/// Everything a mapping can read.
pub struct Scope<'a> {
    /// The node's inputs as `(event name, detail)`; the first is the
    /// default for unqualified paths.
    pub inputs: Vec<(&'a str, &'a Value)>,
    /// Builtins (`count`, `item`, `output` …) and aggregates by name.
    pub builtins: Map<String, Value>,
}

/// Follows `path` inside `value`.
pub fn lookup<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, seg| v.get(seg.as_str()))
}

impl Scope<'_> {
    fn input(&self, event: &str) -> Option<&Value> {
        self.inputs
            .iter()
            .find(|(name, _)| *name == event)
            .or_else(|| self.inputs.first())
            .map(|(_, d)| *d)
    }

    fn eval(&self, value: &MapValue) -> Option<Value> {
        match value {
            MapValue::Input { event, path } => lookup(self.input(event)?, path).cloned(),
            MapValue::Builtin { name, path } => lookup(self.builtins.get(name)?, path).cloned(),
            MapValue::Aggregate { name } => self.builtins.get(name).cloned(),
            MapValue::Literal { value } => Some(value.clone()),
            MapValue::Record { fields } => Some(Value::Object(self.record(fields))),
        }
    }

    /// Evaluates a mapping into a `data` object.
    pub fn record(&self, entries: &[MappingEntry]) -> Map<String, Value> {
        let mut out = Map::new();
        for entry in entries {
            if let Some(v) = self.eval(&entry.value) {
                out.insert(entry.name.clone(), v);
            }
        }
        out
    }
}

/// `data` of an input, as an object (empty when absent).
pub fn data_of(detail: &Value) -> Map<String, Value> {
    detail
        .get("data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// `ScreenDescribed` → `screen_described`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evaluates_paths_builtins_literals_records() {
        let detail = json!({"data": {"a": {"b": 1}, "n": null}, "application": {"name": "x"}});
        let mut builtins = Map::new();
        builtins.insert("item".into(), json!({"name": "f.png"}));
        let scope = Scope {
            inputs: vec![("E", &detail)],
            builtins,
        };
        let p = |s: &str| s.split('.').map(String::from).collect::<Vec<_>>();
        let entries: Vec<MappingEntry> = serde_json::from_value(json!([
            {"name": "b", "value": {"from": "input", "event": "E", "path": p("data.a.b")}},
            {"name": "n", "value": {"from": "input", "event": "E", "path": p("data.n")}},
            {"name": "gone", "value": {"from": "input", "event": "E", "path": p("data.zz")}},
            {"name": "item", "value": {"from": "builtin", "name": "item", "path": ["name"]}},
            {"name": "lit", "value": {"from": "literal", "value": 2}},
            {"name": "rec", "value": {"from": "record", "fields": [
                {"name": "app", "value": {"from": "input", "event": "E", "path": p("application.name")}}]}}
        ]))
        .expect("entries");
        let out = Value::Object(scope.record(&entries));
        assert_eq!(
            out,
            json!({"b": 1, "n": null, "item": "f.png", "lit": 2, "rec": {"app": "x"}})
        );
        assert_eq!(snake_case("ScreenDescribed"), "screen_described");
    }
}
