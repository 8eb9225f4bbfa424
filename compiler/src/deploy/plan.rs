//! The semantic plan: what a deploy changes in `.flow` terms, from the
//! deployed template (GetTemplate) and the new one. Routes with their
//! patterns and targets, nodes (functions), event schemas and IAM
//! statements each get readable lines; other resources one line each.
//! Pure: JSON in, lines out.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The resources the plan speaks about: routes (and the rules of
/// triggers, sinks and schedules), nodes' functions, event schemas and
/// IAM roles. The change set table lists every other resource.
const SEMANTIC_KINDS: [&str; 4] = [
    "AWS::Events::Rule",
    "AWS::Lambda::Function",
    "AWS::EventSchemas::Schema",
    "AWS::IAM::Role",
];

/// The plan's lines, in resource order; empty when nothing differs.
pub fn semantic_plan(old: Option<&Value>, new: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let old_resources = old
        .and_then(|t| t["Resources"].as_object())
        .unwrap_or(&empty);
    let new_resources = new["Resources"].as_object().unwrap_or(&empty);
    let ids: BTreeSet<&String> = old_resources.keys().chain(new_resources.keys()).collect();
    let mut lines = Vec::new();
    for id in ids {
        match (old_resources.get(id), new_resources.get(id)) {
            (None, Some(r)) => added(id, r, &mut lines),
            (Some(r), None) => removed(id, r, &mut lines),
            (Some(a), Some(b)) if a != b => changed(id, a, b, &mut lines),
            _ => {}
        }
    }
    lines
}

/// A line for the Lambda artifact when its key (its hash) changes.
pub fn artifact_line(old_key: Option<&str>, new_key: &str) -> Option<String> {
    match old_key {
        Some(old) if old == new_key => None,
        Some(old) => Some(format!(
            "~ code: bootstrap.zip {} -> {} (every function runs the new graph.json)",
            short_hash(old),
            short_hash(new_key)
        )),
        None => Some(format!("+ code: bootstrap.zip {}", short_hash(new_key))),
    }
}

fn short_hash(key: &str) -> String {
    let file = key.rsplit('/').next().unwrap_or(key);
    file.chars().take(12).collect()
}

/// `route Foo (routes.flow:12)`: the declaration a resource came from.
fn origin(resource: &Value) -> String {
    let flowc = &resource["Metadata"]["flowc"];
    let declaration = flowc["declaration"].as_str().unwrap_or("project");
    match flowc["source"].as_str() {
        Some(source) => format!("{declaration} ({source})"),
        None => declaration.to_string(),
    }
}

fn kind(resource: &Value) -> &str {
    resource["Type"].as_str().unwrap_or("?")
}

fn added(id: &str, r: &Value, lines: &mut Vec<String>) {
    let p = &r["Properties"];
    match kind(r) {
        "AWS::Events::Rule" => lines.push(format!(
            "+ {}: rule {id} {} -> {}",
            origin(r),
            rule_trigger(p),
            targets(p).into_iter().collect::<Vec<_>>().join(", ")
        )),
        "AWS::Lambda::Function" => lines.push(format!("+ {}: function {id}", origin(r))),
        "AWS::EventSchemas::Schema" => lines.push(format!("+ {}: schema {id}", origin(r))),
        "AWS::IAM::Role" => {
            lines.push(format!("+ {}: role {id}", origin(r)));
            for s in statements(p) {
                lines.push(format!("    + allow {s}"));
            }
        }
        // Queues, log groups, permissions, …: the change set table lists them.
        _ => {}
    }
}

fn removed(id: &str, r: &Value, lines: &mut Vec<String>) {
    match kind(r) {
        "AWS::Events::Rule" => lines.push(format!(
            "- {}: rule {id} {}",
            origin(r),
            rule_trigger(&r["Properties"])
        )),
        "AWS::Lambda::Function" | "AWS::EventSchemas::Schema" | "AWS::IAM::Role" => {
            lines.push(format!("- {}: {} {id}", origin(r), kind(r)))
        }
        _ => {}
    }
}

fn changed(id: &str, a: &Value, b: &Value, lines: &mut Vec<String>) {
    let (pa, pb) = (&a["Properties"], &b["Properties"]);
    if kind(a) != kind(b) {
        lines.push(format!(
            "~ {}: {id} becomes {} (was {})",
            origin(b),
            kind(b),
            kind(a)
        ));
        return;
    }
    if !SEMANTIC_KINDS.contains(&kind(b)) {
        return;
    }
    let head = format!("~ {}: {} {id}", origin(b), kind(b));
    let mut details = Vec::new();
    match kind(b) {
        "AWS::Events::Rule" => {
            if pa["EventPattern"] != pb["EventPattern"] {
                details.push(format!("- pattern {}", compact(&pa["EventPattern"])));
                details.push(format!("+ pattern {}", compact(&pb["EventPattern"])));
            }
            if pa["ScheduleExpression"] != pb["ScheduleExpression"] {
                details.push(format!(
                    "~ schedule {} -> {}",
                    compact(&pa["ScheduleExpression"]),
                    compact(&pb["ScheduleExpression"])
                ));
            }
            let (ta, tb) = (targets(pa), targets(pb));
            for t in tb.difference(&ta) {
                details.push(format!("+ target {t}"));
            }
            for t in ta.difference(&tb) {
                details.push(format!("- target {t}"));
            }
        }
        "AWS::EventSchemas::Schema" => {
            let (fa, fb) = (schema_fields(&pa["Content"]), schema_fields(&pb["Content"]));
            for (path, shape) in &fb {
                match fa.get(path) {
                    None => details.push(format!("+ field {path}: {shape}")),
                    Some(old) if old != shape => {
                        details.push(format!("~ field {path}: {old} -> {shape}"))
                    }
                    _ => {}
                }
            }
            for (path, shape) in &fa {
                if !fb.contains_key(path) {
                    details.push(format!("- field {path}: {shape}"));
                }
            }
        }
        "AWS::IAM::Role" => {
            let (sa, sb) = (statements(pa), statements(pb));
            for s in sb.difference(&sa) {
                details.push(format!("+ allow {s}"));
            }
            for s in sa.difference(&sb) {
                details.push(format!("- allow {s}"));
            }
        }
        _ => {}
    }
    if details.is_empty() {
        let props = changed_properties(pa, pb);
        let what = if props.is_empty() {
            "metadata".to_string()
        } else {
            props.join(", ")
        };
        lines.push(format!("{head}: {what} changed"));
    } else {
        lines.push(head);
        lines.extend(details.into_iter().map(|d| format!("    {d}")));
    }
}

fn changed_properties(a: &Value, b: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (a, b) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| k.to_string())
        .collect()
}

/// The fields of an event schema (the JSON text of a schema resource's
/// `Content`): `detail.data.ms` → `integer`, `string?` when optional.
fn schema_fields(content: &Value) -> BTreeMap<String, String> {
    fn walk(node: &Value, path: &str, required: bool, out: &mut BTreeMap<String, String>) {
        if let Some(props) = node["properties"].as_object() {
            let needed: BTreeSet<&str> = node["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for (name, child) in props {
                let child_path = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                walk(child, &child_path, needed.contains(name.as_str()), out);
            }
            return;
        }
        if path.is_empty() {
            return;
        }
        let mut shape = node.clone();
        if let Some(map) = shape.as_object_mut() {
            map.remove("description");
        }
        let shape = match (&shape["type"], shape.as_object().map(|m| m.len())) {
            (Value::String(t), Some(1)) => t.clone(),
            _ => compact(&shape),
        };
        out.insert(
            path.to_string(),
            if required { shape } else { format!("{shape}?") },
        );
    }
    let mut out = BTreeMap::new();
    if let Some(schema) = content
        .as_str()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
    {
        walk(&schema, "", true, &mut out);
    }
    out
}

/// What starts a rule: its pattern, or its schedule.
fn rule_trigger(p: &Value) -> String {
    if p["EventPattern"].is_null() {
        format!("schedule {}", compact(&p["ScheduleExpression"]))
    } else {
        format!("pattern {}", compact(&p["EventPattern"]))
    }
}

fn targets(p: &Value) -> BTreeSet<String> {
    p["Targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| expr(&t["Arn"]))
        .collect()
}

/// Every statement of a role's inline policies: `s3:GetObject on Bucket.Arn/*`.
fn statements(p: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for policy in p["Policies"].as_array().into_iter().flatten() {
        let doc = &policy["PolicyDocument"]["Statement"];
        let list: Vec<&Value> = match doc {
            Value::Array(items) => items.iter().collect(),
            Value::Null => Vec::new(),
            one => vec![one],
        };
        for s in list {
            if s["Effect"].as_str().is_some_and(|e| e != "Allow") {
                continue;
            }
            let actions = one_or_many(&s["Action"]).join(",");
            let resources = one_or_many(&s["Resource"]).join(", ");
            out.insert(format!("{actions} on {resources}"));
        }
    }
    for managed in p["ManagedPolicyArns"].as_array().into_iter().flatten() {
        out.insert(format!("managed policy {}", expr(managed)));
    }
    out
}

fn one_or_many(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().map(expr).collect(),
        Value::Null => Vec::new(),
        one => vec![expr(one)],
    }
}

/// A readable form of a CloudFormation value: `Ref X` is `X`,
/// `Fn::GetAtt [X, Arn]` is `X.Arn`, `Fn::Sub` its text.
fn expr(value: &Value) -> String {
    if let Some(s) = value.as_str() {
        return s.to_string();
    }
    if let Some(map) = value.as_object() {
        if map.len() == 1 {
            let (k, v) = map.iter().next().map(|(k, v)| (k.as_str(), v)).unzip();
            match (k, v) {
                (Some("Ref"), Some(v)) => return expr(v),
                (Some("Fn::GetAtt"), Some(Value::Array(parts))) => {
                    return parts.iter().map(expr).collect::<Vec<_>>().join(".")
                }
                (Some("Fn::Sub"), Some(v)) => return expr(v),
                (Some("Fn::Join"), Some(Value::Array(parts))) if parts.len() == 2 => {
                    let sep = parts[0].as_str().unwrap_or("");
                    let items: Vec<String> = parts[1]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(expr)
                        .collect();
                    return items.join(sep);
                }
                _ => {}
            }
        }
    }
    compact(value)
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// The template's outputs that a stack lists, by key, for printing.
pub fn sorted_outputs(pairs: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let map: BTreeMap<String, String> = pairs.into_iter().collect();
    map.into_iter()
        .map(|(k, v)| format!("  {k} = {v}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(pattern: Value) -> Value {
        json!({
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventPattern": pattern,
                "Targets": [{ "Id": "N", "Arn": { "Fn::GetAtt": ["NFunction", "Arn"] } }]
            },
            "Metadata": { "flowc": { "declaration": "route Big", "source": "routes.flow:3" } }
        })
    }

    fn role(actions: &[&str]) -> Value {
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": { "Policies": [{ "PolicyName": "p", "PolicyDocument": {
                "Statement": [{ "Effect": "Allow", "Action": actions,
                                "Resource": { "Fn::GetAtt": ["Table", "Arn"] } }] } }] },
            "Metadata": { "flowc": { "declaration": "filter N", "source": "nodes.flow:1" } }
        })
    }

    #[test]
    fn a_changed_pattern_names_the_route_and_both_patterns() {
        let old = json!({ "Resources": { "BigRule": rule(json!({ "detail": { "n": [{ "numeric": [">", 5] }] } })) } });
        let new = json!({ "Resources": { "BigRule": rule(json!({ "detail": { "n": [{ "numeric": [">", 7] }] } })) } });
        let lines = semantic_plan(Some(&old), &new);
        assert_eq!(
            lines,
            vec![
                "~ route Big (routes.flow:3): AWS::Events::Rule BigRule".to_string(),
                r#"    - pattern {"detail":{"n":[{"numeric":[">",5]}]}}"#.to_string(),
                r#"    + pattern {"detail":{"n":[{"numeric":[">",7]}]}}"#.to_string(),
            ]
        );
        assert!(semantic_plan(Some(&new), &new).is_empty());
    }

    #[test]
    fn a_changed_schema_lists_its_fields() {
        let schema = |data: Value, required: Value| {
            let content = json!({ "properties": { "detail": { "properties": {
                "data": { "properties": data, "required": required, "type": "object" }
            }, "required": ["data"], "type": "object" } }, "required": ["detail"] });
            json!({ "Type": "AWS::EventSchemas::Schema",
                    "Properties": { "Content": content.to_string() },
                    "Metadata": { "flowc": { "declaration": "event Click", "source": "e.flow:1" } } })
        };
        let old = json!({ "Resources": { "ClickSchema": schema(
            json!({ "ms": { "type": "integer" }, "page": { "type": "string" } }),
            json!(["ms", "page"])) } });
        let new = json!({ "Resources": { "ClickSchema": schema(
            json!({ "ms": { "type": "number" }, "tag": { "type": "string" } }),
            json!(["ms"])) } });
        assert_eq!(
            semantic_plan(Some(&old), &new),
            vec![
                "~ event Click (e.flow:1): AWS::EventSchemas::Schema ClickSchema".to_string(),
                "    ~ field detail.data.ms: integer -> number".to_string(),
                "    + field detail.data.tag: string?".to_string(),
                "    - field detail.data.page: string".to_string(),
            ]
        );
    }

    #[test]
    fn iam_statements_are_diffed_one_by_one() {
        let old = json!({ "Resources": { "NRole": role(&["dynamodb:GetItem"]) } });
        let new =
            json!({ "Resources": { "NRole": role(&["dynamodb:GetItem", "dynamodb:PutItem"]) } });
        let lines = semantic_plan(Some(&old), &new);
        assert_eq!(lines[0], "~ filter N (nodes.flow:1): AWS::IAM::Role NRole");
        assert_eq!(
            lines[1],
            "    + allow dynamodb:GetItem,dynamodb:PutItem on Table.Arn"
        );
        assert_eq!(lines[2], "    - allow dynamodb:GetItem on Table.Arn");
    }

    #[test]
    fn a_first_deploy_adds_everything() {
        let new = json!({ "Resources": { "BigRule": rule(json!({ "source": ["a"] })), "NRole": role(&["s3:GetObject"]) } });
        let lines = semantic_plan(None, &new);
        assert_eq!(
            lines,
            vec![
                r#"+ route Big (routes.flow:3): rule BigRule pattern {"source":["a"]} -> NFunction.Arn"#.to_string(),
                "+ filter N (nodes.flow:1): role NRole".to_string(),
                "    + allow s3:GetObject on Table.Arn".to_string(),
            ]
        );
        assert_eq!(
            artifact_line(Some("p/aaaaaaaaaaaaaaaa.zip"), "p/bbbbbbbbbbbbbbbb.zip").as_deref(),
            Some("~ code: bootstrap.zip aaaaaaaaaaaa -> bbbbbbbbbbbb (every function runs the new graph.json)")
        );
        assert_eq!(artifact_line(Some("p/a.zip"), "p/a.zip"), None);
    }
}
