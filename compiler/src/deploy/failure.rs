//! Failures mapped to source: a failed resource's status reason, shown as a
//! miette diagnostic at the `.flow` declaration it came from (the span the
//! template's `Metadata.flowc` records for it).
//!
//! CloudFormation reports a failure as stack events (`CREATE_FAILED` with
//! the logical id). Stand-ins such as moto fail the ExecuteChangeSet call
//! itself with the service's message instead; then the resource is found
//! by the physical name the message quotes.

use flowc::diagnostic::render::TextStyle;
use flowc::SourceSet;
use miette::{LabeledSpan, MietteDiagnostic, NamedSource};
use serde_json::Value;

use super::progress::StackEvent;
use super::Origins;

/// The events that say why an operation failed: the failed resources,
/// without the ones CloudFormation only cancelled because of another, and
/// without the stack's own summary event.
pub fn root_causes(failures: &[StackEvent]) -> Vec<&StackEvent> {
    let resources: Vec<&StackEvent> = failures
        .iter()
        .filter(|e| e.resource_type != "AWS::CloudFormation::Stack")
        .collect();
    let causes: Vec<&StackEvent> = resources
        .iter()
        .copied()
        .filter(|e| {
            !e.reason
                .as_deref()
                .is_some_and(|r| r.contains("cancelled") || r.contains("canceled"))
        })
        .collect();
    if causes.is_empty() {
        resources
    } else {
        causes
    }
}

/// A failed resource, rendered: a diagnostic at its declaration when the
/// resource came from one, else one line.
pub fn render(
    logical_id: &str,
    resource_type: &str,
    reason: &str,
    origins: &Origins,
    sources: &SourceSet,
    style: TextStyle,
) -> String {
    let origin = origins.get(logical_id);
    let message = format!("{resource_type} {logical_id} failed: {reason}");
    let Some((origin, span)) = origin.and_then(|o| Some((o, o.span?))) else {
        let from = origin
            .map(|o| format!(" ({})", o.describe()))
            .unwrap_or_default();
        return format!("error: {message}{from}\n");
    };
    let Some(file) = sources.get(span.file) else {
        return format!("error: {message} ({})\n", origin.describe());
    };
    let len = file.text.len();
    let start = (span.start as usize).min(len);
    let end = (span.end as usize).clamp(start, len);
    let label = LabeledSpan::new_primary_with_span(
        Some(format!(
            "{logical_id} comes from this {}",
            origin.declaration
        )),
        (start, end - start),
    );
    let mut diagnostic = MietteDiagnostic::new(message.clone()).with_label(label);
    if let Some(help) = help_for(reason) {
        diagnostic = diagnostic.with_help(help);
    }
    let source = NamedSource::new(file.path.clone(), file.text.clone()).with_language("flow");
    let report = miette::Report::new(diagnostic).with_source_code(source);
    let mut out = String::new();
    if style
        .handler()
        .render_report(&mut out, report.as_ref())
        .is_err()
    {
        out = format!("error: {message} ({})\n", origin.describe());
    }
    out
}

fn help_for(reason: &str) -> Option<String> {
    let lower = reason.to_ascii_lowercase();
    if lower.contains("already exist") || lower.contains("not available") {
        Some(
            "a resource of that name exists outside this stack (another stack or stage of the \
             project?); deploy with another --stage or remove the other resource"
                .into(),
        )
    } else if lower.contains("not authorized") || lower.contains("accessdenied") {
        Some("the deploying identity lacks a permission; docs/deploy.md lists them".into())
    } else if lower.contains("limit") || lower.contains("quota") {
        Some("an account quota is reached; ask AWS for more or remove unused resources".into())
    } else {
        None
    }
}

/// A resource's physical name, as the template fixes it.
pub struct Named {
    pub logical_id: String,
    pub resource_type: String,
    pub name: String,
}

/// The resource a stand-in's error message is about, found by the physical
/// name it quotes: the longest one (so that `app-dev-a` does not claim
/// `app-dev-ab`), and among equally long ones the one whose kind the
/// message names ("Event bus app-dev" is the bus, not the registry).
pub fn resource_named_in<'a>(message: &str, names: &'a [Named]) -> Option<&'a Named> {
    let lower = message.to_ascii_lowercase();
    names
        .iter()
        .filter(|n| contains_token(message, &n.name))
        .max_by_key(|n| (n.name.len(), kind_is_mentioned(&lower, &n.resource_type)))
}

/// Whether a lowercase message names a resource type in words.
pub fn kind_is_mentioned(lower: &str, resource_type: &str) -> bool {
    let words: &[&str] = match resource_type {
        "AWS::Events::EventBus" => &["event bus"],
        "AWS::Events::Rule" => &["rule"],
        "AWS::DynamoDB::Table" => &["table"],
        "AWS::Lambda::Function" => &["function"],
        "AWS::IAM::Role" => &["role"],
        "AWS::S3::Bucket" => &["bucket"],
        "AWS::SQS::Queue" => &["queue"],
        "AWS::Logs::LogGroup" => &["log group"],
        "AWS::EventSchemas::Registry" => &["registry"],
        _ => &[],
    };
    words.iter().any(|w| lower.contains(w))
}

fn contains_token(text: &str, token: &str) -> bool {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    text.match_indices(token).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + token.len()..].chars().next();
        !before.is_some_and(is_name_char) && !after.is_some_and(|c| is_name_char(c) && c != '.')
    })
}

/// The physical names a template gives its resources (`Name`,
/// `TableName`, `RoleName`, …), with `${Stage}` and the pseudo parameters
/// filled in; names that depend on other resources are left out.
pub fn physical_names(template: &Value, vars: &[(&str, &str)]) -> Vec<Named> {
    let mut out = Vec::new();
    let Some(resources) = template["Resources"].as_object() else {
        return out;
    };
    for (id, resource) in resources {
        let Some(props) = resource["Properties"].as_object() else {
            continue;
        };
        for (key, value) in props {
            if !key.ends_with("Name") || key == "EventBusName" {
                continue;
            }
            let text = match value {
                Value::String(s) => Some(s.clone()),
                Value::Object(map) => map.get("Fn::Sub").and_then(Value::as_str).map(|s| {
                    vars.iter().fold(s.to_string(), |acc, (k, v)| {
                        acc.replace(&format!("${{{k}}}"), v)
                    })
                }),
                _ => None,
            };
            if let Some(name) = text.filter(|n| !n.contains("${") && !n.is_empty()) {
                out.push(Named {
                    logical_id: id.clone(),
                    resource_type: resource["Type"].as_str().unwrap_or_default().to_string(),
                    name,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(id: &str, kind: &str, status: &str, reason: &str) -> StackEvent {
        StackEvent {
            id: format!("{id}-{status}"),
            logical_id: id.into(),
            resource_type: kind.into(),
            status: status.into(),
            reason: Some(reason.into()),
            timestamp: String::new(),
        }
    }

    #[test]
    fn the_cause_is_the_failed_resource_not_the_cancelled_ones() {
        let events = vec![
            event(
                "Table",
                "AWS::DynamoDB::Table",
                "CREATE_FAILED",
                "app-dev already exists",
            ),
            event(
                "Bus",
                "AWS::Events::EventBus",
                "CREATE_FAILED",
                "Resource creation cancelled",
            ),
            event(
                "app",
                "AWS::CloudFormation::Stack",
                "ROLLBACK_IN_PROGRESS",
                "The following resource(s) failed to create: [Table, Bus].",
            ),
        ];
        let causes = root_causes(&events);
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].logical_id, "Table");
    }

    #[test]
    fn a_failure_is_drawn_at_the_declaration_it_came_from() {
        use flowc::syntax::span::Span;
        let text = "event A {}\nroute Big = A -> N\n  when data.n > 5\n";
        let sources = SourceSet::single("routes.flow", text);
        let start = text.find("Big").expect("name") as u32;
        let mut origins = Origins::new();
        origins.insert(
            "BigRule".into(),
            super::super::OriginInfo {
                declaration: "route Big".into(),
                location: Some("routes.flow:2".into()),
                span: Some(Span {
                    file: sources.iter().next().expect("file").0,
                    start,
                    end: start + 3,
                }),
            },
        );
        let style = TextStyle {
            color: false,
            unicode: true,
            width: 100,
        };
        let out = render(
            "BigRule",
            "AWS::Events::Rule",
            "Event pattern is not valid",
            &origins,
            &sources,
            style,
        );
        assert!(
            out.contains("AWS::Events::Rule BigRule failed: Event pattern is not valid"),
            "{out}"
        );
        assert!(out.contains("[routes.flow:2:7]"), "{out}");
        assert!(out.contains("BigRule comes from this route Big"), "{out}");
        // A resource of no declaration is one line.
        let plain = render(
            "Bus",
            "AWS::Events::EventBus",
            "denied",
            &origins,
            &sources,
            style,
        );
        assert_eq!(plain, "error: AWS::Events::EventBus Bus failed: denied\n");
    }

    #[test]
    fn a_stand_in_message_is_attributed_by_physical_name() {
        let template = json!({ "Resources": {
            "Table": { "Type": "AWS::DynamoDB::Table", "Properties": { "TableName": { "Fn::Sub": "app-${Stage}" } } },
            "TableTwo": { "Type": "AWS::DynamoDB::Table", "Properties": { "TableName": { "Fn::Sub": "app-${Stage}-two" } } },
            "Bus": { "Type": "AWS::Events::EventBus", "Properties": { "Name": { "Fn::Sub": "app-${Stage}" } } },
            "Role": { "Type": "AWS::IAM::Role", "Properties": { "RoleName": { "Fn::Sub": "${AWS::StackName}-${Other}" } } }
        }});
        let names = physical_names(&template, &[("Stage", "dev"), ("AWS::StackName", "s")]);
        assert_eq!(names.len(), 3);
        let found = |m: &str| resource_named_in(m, &names).map(|n| n.logical_id.clone());
        assert_eq!(
            found("Table already exists: app-dev").as_deref(),
            Some("Table")
        );
        assert_eq!(
            found("Event bus app-dev already exists.").as_deref(),
            Some("Bus")
        );
        assert_eq!(
            found("Table already exists: app-dev-two.").as_deref(),
            Some("TableTwo")
        );
        assert_eq!(found("Table already exists: app-devx"), None);
    }
}
