//! The CloudFormation template of every example: insta JSON snapshots, the
//! structural promises of docs/aws-mapping.md, and the template files that
//! `scripts/validate-templates` lints (written under
//! `target/tmp/templates/<example>/template.{json,yaml}`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use flowc::check::model::Model;
use flowc::codegen::cfn::{emit_template, Template};
use flowc_tests::fixture::Fixture;
use flowc_tests::workspace_root;
use serde_json::Value;

const EXAMPLES: [&str; 3] = ["knowledge-base", "productivity-coach", "timecard"];

fn build(example: &str) -> (Model, Template) {
    let path = workspace_root().join("examples").join(example);
    let fixture = Fixture::load(&path)
        .expect("example readable")
        .expect("example has .flow files");
    let (sources, checked) = fixture.check();
    let model = checked.model.expect("example checks without errors");
    let template = emit_template(&model, &sources);
    (model, template)
}

fn json(template: &Template) -> Value {
    serde_json::to_value(template).expect("template serializes")
}

fn resources_of_type<'a>(doc: &'a Value, ty: &str) -> Vec<(&'a String, &'a Value)> {
    doc["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == ty)
        .collect()
}

#[test]
fn snapshots() {
    for example in EXAMPLES {
        let (_, template) = build(example);
        insta::assert_json_snapshot!(format!("template@{example}"), template);
    }
}

/// Writes each example's template for `scripts/validate-templates`.
#[test]
fn write_templates_for_validation() {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("templates");
    for example in EXAMPLES {
        let (_, template) = build(example);
        let dir = root.join(example);
        std::fs::create_dir_all(&dir).expect("create template dir");
        let text = serde_json::to_string_pretty(&template).expect("json");
        std::fs::write(dir.join("template.json"), text + "\n").expect("write template");
        let yaml = serde_saphyr::to_string(&template).expect("yaml");
        std::fs::write(dir.join("template.yaml"), yaml).expect("write template");
    }
}

#[test]
fn every_route_has_a_rule_with_its_pattern() {
    for example in EXAMPLES {
        let (model, template) = build(example);
        let doc = json(&template);
        let rules = resources_of_type(&doc, "AWS::Events::Rule");
        for route in &model.routes {
            let id = flowc::codegen::logical_id(&route.name, "Rule");
            let rule = rules
                .iter()
                .find(|(rid, _)| **rid == id)
                .unwrap_or_else(|| panic!("{example}: no rule {id} for route {}", route.name));
            assert_eq!(
                rule.1["Properties"]["EventPattern"], route.pattern,
                "{example}: {id}"
            );
            let targets = rule.1["Properties"]["Targets"].as_array().expect("targets");
            assert_eq!(targets.len(), route.targets.len(), "{example}: {id}");
            for t in targets {
                assert!(
                    t["DeadLetterConfig"]["Arn"].is_object(),
                    "{example}: {id} DLQ"
                );
                assert!(t["RetryPolicy"].is_object(), "{example}: {id} retry");
            }
            assert_eq!(
                rule.1["Properties"]["EventBusName"],
                serde_json::json!({ "Fn::GetAtt": ["Bus", "Name"] })
            );
        }
    }
}

fn statements(doc: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (id, role) in resources_of_type(doc, "AWS::IAM::Role") {
        for policy in role["Properties"]["Policies"].as_array().expect("policies") {
            for s in policy["PolicyDocument"]["Statement"]
                .as_array()
                .expect("statements")
            {
                out.push((id.clone(), s.clone()));
            }
        }
    }
    out
}

#[test]
fn no_iam_statement_allows_star_actions() {
    for example in EXAMPLES {
        let doc = json(&build(example).1);
        let all = statements(&doc);
        assert!(!all.is_empty());
        for (role, s) in all {
            for action in s["Action"].as_array().expect("action list") {
                let action = action.as_str().expect("action string");
                assert!(!action.contains('*'), "{example}: {role} allows {action}");
            }
            // `*` resources only where the action has no resource type, or
            // (ListRules) only reads rule names and descriptions.
            for resource in s["Resource"].as_array().expect("resource list") {
                if resource == "*" {
                    assert!(
                        s["Action"] == serde_json::json!(["transcribe:StartTranscriptionJob"])
                            || s["Action"] == serde_json::json!(["events:ListRules"]),
                        "{example}: {role} has Resource * for {}",
                        s["Action"]
                    );
                }
            }
        }
    }
}

#[test]
fn every_function_has_a_role_a_log_group_and_a_dead_letter_queue() {
    for example in EXAMPLES {
        let (model, template) = build(example);
        let doc = json(&template);
        let functions = resources_of_type(&doc, "AWS::Lambda::Function");
        // Nodes, triggers with an ingest function, the Event Store, sinks.
        let ingest = model
            .triggers
            .iter()
            .filter(|t| !matches!(t.kind, flowc::check::model::TriggerKind::Sdk))
            .count();
        let sinks = model.apps.iter().filter(|a| !a.sinks.is_empty()).count();
        assert_eq!(
            functions.len(),
            model.nodes.len() + ingest + 1 + sinks,
            "{example}"
        );
        for (id, f) in functions {
            let base = id.trim_end_matches("Function");
            let props = &f["Properties"];
            assert_eq!(props["Role"]["Fn::GetAtt"][0], format!("{base}Role"));
            assert_eq!(
                props["LoggingConfig"]["LogGroup"]["Ref"],
                format!("{base}LogGroup")
            );
            let log_group = &doc["Resources"][format!("{base}LogGroup")];
            assert_eq!(log_group["Type"], "AWS::Logs::LogGroup", "{example}: {id}");
            let group_name = log_group["Properties"]["LogGroupName"]["Fn::Sub"]
                .as_str()
                .expect("log group name");
            let function_name = props["FunctionName"]["Fn::Sub"].as_str().expect("name");
            assert_eq!(group_name, format!("/aws/lambda/{function_name}"));
            assert_eq!(
                doc["Resources"][format!("{base}Role")]["Type"],
                "AWS::IAM::Role"
            );
            assert_eq!(
                doc["Resources"][format!("{base}DeadLetterQueue")]["Type"],
                "AWS::SQS::Queue"
            );
            assert_eq!(props["Runtime"], "provided.al2023");
            assert_eq!(props["Architectures"], serde_json::json!(["arm64"]));
        }
    }
}

#[test]
fn every_resource_names_its_declaration() {
    for example in EXAMPLES {
        let doc = json(&build(example).1);
        for (id, r) in doc["Resources"].as_object().expect("resources") {
            let origin = &r["Metadata"]["flowc"];
            assert!(origin["declaration"].is_string(), "{example}: {id}");
            if let Some(source) = origin["source"].as_str() {
                let (file, line) = source.rsplit_once(':').expect("file:line");
                assert!(file.ends_with(".flow"), "{example}: {id}: {source}");
                assert!(line.parse::<usize>().is_ok(), "{example}: {id}: {source}");
            }
        }
    }
}

#[test]
fn logical_ids_and_output_are_stable() {
    for example in EXAMPLES {
        let first = serde_json::to_string_pretty(&build(example).1).expect("json");
        let second = serde_json::to_string_pretty(&build(example).1).expect("json");
        assert_eq!(first, second, "{example}");
    }
}

#[test]
fn every_reference_resolves() {
    fn walk(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(id)) = map.get("Ref") {
                    out.insert(id.clone());
                }
                if let Some(Value::Array(parts)) = map.get("Fn::GetAtt") {
                    if let Some(Value::String(id)) = parts.first() {
                        out.insert(id.clone());
                    }
                }
                if let Some(Value::String(text)) = map.get("Fn::Sub") {
                    for piece in text.split("${").skip(1) {
                        let name = piece.split('}').next().unwrap_or("");
                        if !name.starts_with('!') {
                            out.insert(name.split('.').next().unwrap_or("").to_string());
                        }
                    }
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    for example in EXAMPLES {
        let doc = json(&build(example).1);
        let mut refs = BTreeSet::new();
        walk(&doc["Resources"], &mut refs);
        walk(&doc["Outputs"], &mut refs);
        for id in refs {
            let known = doc["Resources"].get(&id).is_some()
                || doc["Parameters"].get(&id).is_some()
                || id.starts_with("AWS::");
            assert!(known, "{example}: unresolved reference {id}");
        }
    }
}

/// The Event Store API's routes are exactly the endpoints the runtime's
/// router serves on AWS (the router is built from the same list).
#[test]
fn event_store_routes_are_the_routers_endpoints() {
    let on_aws: BTreeSet<String> = flow_runtime::store::ENDPOINTS
        .iter()
        .filter(|e| e.on_aws)
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    assert!(on_aws.contains("PUT /event/{id}"), "{on_aws:?}");
    for example in EXAMPLES {
        let doc = json(&build(example).1);
        let api = serde_json::json!({"Ref": "EventStoreApi"});
        let routed: BTreeSet<String> = resources_of_type(&doc, "AWS::ApiGatewayV2::Route")
            .into_iter()
            .filter(|(_, r)| r["Properties"]["ApiId"] == api)
            .map(|(_, r)| {
                assert_eq!(r["Properties"]["AuthorizationType"], "AWS_IAM");
                r["Properties"]["RouteKey"]
                    .as_str()
                    .expect("key")
                    .to_string()
            })
            .collect();
        assert_eq!(routed, on_aws, "{example}");
    }
}
