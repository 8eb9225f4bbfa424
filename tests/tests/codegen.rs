//! Codegen fixtures: every file `tests/fixtures/codegen/*.flow` (one per
//! node kind, trigger kind and sink kind, and one with every condition
//! operator) is built with [`flowc::build`] and its artifacts are compared
//! with `tests/snapshots/codegen@<name>.snap`.
//!
//! A snapshot holds, in `--- <file>` sections:
//!
//! - `source`: the fixture, so that patterns can be read beside conditions;
//! - `graph.json` and every `rules/<rule>.json`, whole;
//! - `template.json (excerpt)`: the template's `Metadata` and the resources
//!   that come from the fixture's declarations (functions with their
//!   environment, roles with their policy statements, rules with their
//!   targets, invoke permissions, dead-letter queue policies, trigger
//!   buckets, the ingest API, webhook secrets), without their
//!   `Metadata.checkov` (the same reasons everywhere, see
//!   docs/aws-mapping.md). Left out are the project-wide resources (bus,
//!   table, buckets, Event Store API: covered by the example templates in
//!   `template.rs`) and, per declaration, schemas (in `graph.json`), log
//!   groups and queues, whose properties are constant. A rule whose
//!   `EventPattern` is the route's `rules/<rule>.json` shows
//!   `"= rules/<rule>.json"` instead of repeating it; any other pattern is
//!   shown whole.
//!
//! Every fixture must build without errors, and with only the warnings its
//! `// expect:` header lists (see `flowc_tests::fixture`); every generated
//! pattern must be accepted by the runtime's pattern parser. A fixture that
//! breaks this fails without writing a snapshot, so `INSTA_UPDATE=always`
//! cannot accept a wrong one.
//!
//! Update with `INSTA_UPDATE=always cargo test --workspace --test codegen`,
//! then read every changed `.snap`.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;

use flow_runtime::pattern::Pattern;
use flowc::codegen::{logical_id, Outputs, TemplateFormat};
use flowc_tests::fixture::{show_controls, verify, Fixture, Outcome};
use serde_json::{Map, Value};

/// Resource types left out of the excerpt: their properties are the same
/// for every declaration, or they are shown elsewhere in the snapshot.
const OMITTED_TYPES: [&str; 3] = [
    "AWS::EventSchemas::Schema",
    "AWS::Logs::LogGroup",
    "AWS::SQS::Queue",
];

fn run_fixture(path: &Path, failures: &Mutex<Vec<String>>) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fail = |message: String| {
        if let Ok(mut f) = failures.lock() {
            f.push(format!("codegen/{name}: {message}"));
        }
    };
    let fixture = match Fixture::load(path) {
        Ok(Some(fixture)) => fixture,
        Ok(None) => return,
        Err(e) => return fail(format!("cannot read: {e}")),
    };
    let expected = match fixture.expected() {
        Ok(expected) => expected,
        Err(e) => return fail(e),
    };
    let sources = fixture.sources();
    let (outputs, diagnostics) =
        match flowc::build(&sources, &fixture.options(), TemplateFormat::Json) {
            Ok(built) => built,
            Err(diagnostics) => {
                let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
                return fail(format!("does not build: [{}]", codes.join(", ")));
            }
        };
    if let Err(problems) = verify(Outcome::Passes, expected.as_ref(), &diagnostics) {
        return fail(problems.join("; "));
    }
    let content = match snapshot(&fixture, &outputs) {
        Ok(content) => content,
        Err(e) => return fail(e),
    };
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_suffix(fixture.name.clone());
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("codegen", content));
}

/// The rule files of a build as `(rule name, pattern)`, sorted by name.
fn rules(outputs: &Outputs) -> Result<Vec<(String, Value)>, String> {
    outputs
        .iter()
        .filter_map(|(path, text)| {
            let rule = path.strip_prefix("rules/")?.strip_suffix(".json")?;
            Some((rule, text))
        })
        .map(|(rule, text)| {
            let pattern: Value =
                serde_json::from_str(text).map_err(|e| format!("rules/{rule}.json: {e}"))?;
            Pattern::from_value(&pattern)
                .map_err(|e| format!("rules/{rule}.json is not a valid pattern: {e}"))?;
            Ok((rule.to_string(), pattern))
        })
        .collect()
}

fn snapshot(fixture: &Fixture, outputs: &Outputs) -> Result<String, String> {
    let mut out = String::new();
    out.push_str("--- source\n");
    for (_, bytes) in &fixture.files {
        let text = String::from_utf8_lossy(bytes);
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    let graph = outputs.get("graph.json").ok_or("no graph.json")?;
    out.push_str("--- graph.json\n");
    out.push_str(graph);
    let rules = rules(outputs)?;
    for (rule, _) in &rules {
        let _ = writeln!(out, "--- rules/{rule}.json");
        out.push_str(&outputs[&format!("rules/{rule}.json")]);
    }
    let template: Value = serde_json::from_str(
        outputs
            .get("template.json")
            .ok_or("no template.json (JSON format asked)")?,
    )
    .map_err(|e| format!("template.json: {e}"))?;
    let excerpt = template_excerpt(&template, &rules)?;
    out.push_str("--- template.json (excerpt)\n");
    out.push_str(&serde_json::to_string_pretty(&excerpt).map_err(|e| e.to_string())?);
    out.push('\n');
    Ok(show_controls(&out))
}

/// The template's metadata and the resources of the fixture's
/// declarations (see the module documentation).
fn template_excerpt(template: &Value, rules: &[(String, Value)]) -> Result<Value, String> {
    let resources = template["Resources"]
        .as_object()
        .ok_or("template without Resources")?;
    let mut kept = Map::new();
    for (id, resource) in resources {
        let ty = resource["Type"].as_str().unwrap_or_default();
        let declared = resource["Metadata"]["flowc"]["source"].is_string();
        // The ingest API is shared by all http triggers and names none.
        let ingest_api = id.starts_with(flowc::codegen::cfn::ids::INGEST_API);
        if !(declared || ingest_api) || OMITTED_TYPES.contains(&ty) {
            continue;
        }
        let mut resource = resource.clone();
        if let Some(metadata) = resource.get_mut("Metadata").and_then(Value::as_object_mut) {
            metadata.remove("checkov");
        }
        if ty == "AWS::Events::Rule" {
            let rule = rules
                .iter()
                .find(|(rule, _)| logical_id(rule, "Rule") == *id);
            let pattern = resource
                .get_mut("Properties")
                .and_then(|p| p.get_mut("EventPattern"));
            if let (Some((rule, from_file)), Some(pattern)) = (rule, pattern) {
                if *pattern != *from_file {
                    return Err(format!("{id}: EventPattern differs from rules/{rule}.json"));
                }
                *pattern = Value::String(format!("= rules/{rule}.json"));
            }
        }
        kept.insert(id.clone(), resource);
    }
    let mut excerpt = Map::new();
    excerpt.insert("Metadata".to_string(), template["Metadata"].clone());
    excerpt.insert("Resources".to_string(), Value::Object(kept));
    Ok(Value::Object(excerpt))
}

#[test]
fn codegen() {
    let failures = Mutex::new(Vec::new());
    insta::glob!("../fixtures/codegen", "*.flow", |path| {
        run_fixture(path, &failures)
    });
    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    assert!(
        failures.is_empty(),
        "{} codegen fixture(s) broke their expectations:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// Every route of every fixture's `graph.json` has its rule file with the
/// same pattern, and every rule file a rule resource in the template with
/// that pattern: the excerpt's `= rules/X.json` markers stand for real,
/// equal patterns.
#[test]
fn every_rule_file_is_a_template_rule() {
    let dir = flowc_tests::workspace_root().join("tests/fixtures/codegen");
    let fixtures = flowc_tests::fixture::fixtures_of(&dir).expect("readable fixtures");
    assert!(fixtures.len() >= 16, "the codegen fixtures are present");
    for fixture in fixtures {
        let (outputs, _) =
            flowc::build(&fixture.sources(), &fixture.options(), TemplateFormat::Json)
                .unwrap_or_else(|d| panic!("{}: {d:?}", fixture.name));
        let template: Value =
            serde_json::from_str(&outputs["template.json"]).expect("template is JSON");
        let rules = rules(&outputs).unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
        let graph: Value = serde_json::from_str(&outputs["graph.json"]).expect("graph is JSON");
        let routes = graph["routes"].as_array().expect("graph routes");
        assert_eq!(
            routes.len(),
            rules.len(),
            "{}: one rule file per route",
            fixture.name
        );
        for (rule, pattern) in rules {
            let route = routes
                .iter()
                .find(|r| r["name"] == rule.as_str())
                .unwrap_or_else(|| panic!("{}: no route {rule} in graph.json", fixture.name));
            assert_eq!(route["pattern"], pattern, "{}: route {rule}", fixture.name);
            let id = logical_id(&rule, "Rule");
            assert_eq!(
                template["Resources"][&id]["Properties"]["EventPattern"], pattern,
                "{}: {id}",
                fixture.name
            );
        }
    }
}
