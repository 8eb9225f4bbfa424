//! Rules: one per route on the project bus, one per sink event of an app,
//! one flush schedule per node with a time threshold; their invoke
//! permissions and the dead-letter queue policies admitting their failures.

use std::collections::BTreeMap;

use serde_json::json;

use super::functions::{
    emit_function, function_arn, function_id, objects_of, queue_id, FunctionSpec,
};
use super::names;
use super::template::{
    ArnConfig, Expr, GenerateSecretString, Permission, PolicyDocument, Principal, Properties,
    QueuePolicy, Resource, ResourceMetadata, RetryPolicy, Rule, Secret, Statement, Target,
};
use super::{ids, Builder};
use crate::check::model::{App, NodeKind, SinkKind};
use crate::codegen::logical_id;

/// Retries of a failed delivery, and how old an event may get before it
/// goes to the dead-letter queue instead.
const RETRY_ATTEMPTS: u32 = 10;
const MAX_EVENT_AGE_SECONDS: u32 = 3600;
/// How often time thresholds are checked (the finest EventBridge rate).
pub const FLUSH_RATE: &str = "rate(1 minute)";

/// A rule target: the function of `base`, with retries and its DLQ.
pub(crate) fn target(id: &str, base: &str, input: Option<String>) -> Target {
    Target {
        id: names::target_id(id),
        arn: function_arn(base),
        input,
        retry_policy: RetryPolicy {
            maximum_retry_attempts: RETRY_ATTEMPTS,
            maximum_event_age_in_seconds: MAX_EVENT_AGE_SECONDS,
        },
        dead_letter_config: ArnConfig {
            arn: Expr::get_att(queue_id(base), "Arn"),
        },
    }
}

/// Adds a rule and, per target function, the permission to invoke it.
pub(crate) fn add_rule(
    b: &mut Builder,
    id: &str,
    rule: Rule,
    bases: &[String],
    metadata: ResourceMetadata,
) {
    for base in bases {
        b.add(
            format!("{id}{base}Permission"),
            Resource::new(
                Properties::Permission(Permission {
                    action: "lambda:InvokeFunction".to_string(),
                    function_name: Expr::reference(function_id(base)),
                    principal: "events.amazonaws.com".to_string(),
                    source_arn: Expr::get_att(id, "Arn"),
                    source_account: None,
                }),
                metadata.clone(),
            ),
        );
        b.rule_sources
            .entry(base.clone())
            .or_default()
            .push(Expr::get_att(id, "Arn"));
    }
    b.add(id, Resource::new(Properties::Rule(rule), metadata));
}

fn on_project_bus() -> Option<Expr> {
    // `Ref` to the bus makes the moto stand-in fail; the name works everywhere.
    Some(Expr::get_att(ids::BUS, "Name"))
}

/// One rule per route, its pattern exactly the route's.
pub(crate) fn emit_routes(b: &mut Builder) {
    let routes = b.model.routes.clone();
    for route in routes {
        let bases: Vec<String> = route.targets.iter().map(|t| logical_id(t, "")).collect();
        let rule = Rule {
            name: names::route_rule(&b.model.project, &route.name),
            description: super::truncate(
                &format!(
                    "route {}: {} -> {}{}",
                    route.name,
                    route.event,
                    route.targets.join(", "),
                    route
                        .max_hops
                        .map_or(String::new(), |n| format!(" (max_hops {n})")),
                ),
                512,
            ),
            event_bus_name: on_project_bus(),
            event_pattern: Some(route.pattern.clone()),
            schedule_expression: None,
            state: "ENABLED".to_string(),
            targets: route
                .targets
                .iter()
                .zip(&bases)
                .map(|(name, base)| target(name, base, None))
                .collect(),
        };
        let declaration = if route.implicit {
            format!(
                "route {} (implicit: {} -> {})",
                route.name,
                route.event,
                route.targets.join(", ")
            )
        } else {
            format!("route {}", route.name)
        };
        let metadata = b.origin(declaration, route.span);
        add_rule(b, &logical_id(&route.name, "Rule"), rule, &bases, metadata);
    }
}

/// Nodes whose thresholds include a time part: they must fire although no
/// further event arrives. A scheduled rule on the default bus invokes the
/// node's own function every minute with a flush input; the function
/// emits for every key whose time is up.
pub(crate) fn emit_flush_schedules(b: &mut Builder) {
    let nodes: Vec<_> = b.model.nodes.values().cloned().collect();
    for node in nodes {
        let timed = match &node.kind {
            NodeKind::Counter { window_ms, .. }
            | NodeKind::Aggregator { window_ms, .. }
            | NodeKind::Stitcher { window_ms, .. } => window_ms.is_some(),
            _ => false,
        };
        if !timed {
            continue;
        }
        let base = logical_id(&node.name, "");
        let input = json!({ "flowc": "flush", "node": node.name }).to_string();
        let rule = Rule {
            name: names::physical(&b.model.project, &format!("flush-{}", node.name)),
            description: format!("Flushes the time thresholds of {}", node.name),
            event_bus_name: None,
            event_pattern: None,
            schedule_expression: Some(FLUSH_RATE.to_string()),
            state: "ENABLED".to_string(),
            targets: vec![target(&node.name, &base, Some(input))],
        };
        let metadata = b.origin(
            format!("{} {} (time threshold)", node.class.keyword(), node.name),
            node.span,
        );
        add_rule(
            b,
            &logical_id(&node.name, "FlushRule"),
            rule,
            &[base],
            metadata,
        );
    }
}

/// Per app with sinks: one sink function, one rule per sink event on the
/// project bus, and a generated secret per webhook signing secret.
pub(crate) fn emit_sinks(b: &mut Builder) {
    let apps = b.model.apps.clone();
    for app in apps.iter().filter(|a| !a.sinks.is_empty()) {
        emit_app_sinks(b, app);
    }
}

fn emit_app_sinks(b: &mut Builder, app: &App) {
    let base = logical_id(&app.name, "Sink");
    let mut objects = Vec::new();
    let mut table = false;
    let mut secrets = BTreeMap::new();
    for sink in &app.sinks {
        match &sink.kind {
            SinkKind::S3 { key_template, .. } => {
                let prefix = key_template.split("{{").next().unwrap_or("");
                let resource = objects_of(ids::BUCKET, prefix);
                if !objects.contains(&resource) {
                    objects.push(resource);
                }
            }
            SinkKind::DynamoDb { .. } => table = true,
            SinkKind::Webhook { secret, .. } => {
                secrets.insert(secret.clone(), sink.span);
            }
        }
    }
    let mut statements = Vec::new();
    if !objects.is_empty() {
        statements.push(Statement::allow(
            "WriteSinkObjects",
            &["s3:PutObject"],
            objects,
        ));
    }
    if table {
        statements.push(Statement::allow(
            "WriteSinkRecords",
            &["dynamodb:PutItem"],
            vec![Expr::get_att(ids::TABLE, "Arn")],
        ));
    }
    if !secrets.is_empty() {
        let mut arns = Vec::new();
        for (secret, span) in &secrets {
            let id = logical_id(&names::pascal(secret), "Secret");
            arns.push(Expr::reference(&id));
            let metadata = b.origin(
                format!("app {} (webhook secret \"{secret}\")", app.name),
                *span,
            );
            b.add(id, secret_resource(&b.model.project, secret, metadata));
        }
        statements.push(Statement::allow(
            "ReadWebhookSecrets",
            &["secretsmanager:GetSecretValue"],
            arns,
        ));
    }
    let prefix = Expr::Sub(format!(
        "{}/${{Stage}}/",
        names::escape_sub(&b.model.project)
    ));
    let spec = FunctionSpec {
        base: base.clone(),
        suffix: format!("sink-{}", app.name),
        description: format!("flowc sinks of app {}", app.name),
        env: vec![
            ("FLOW_ROLE", Expr::str("sink")),
            ("FLOW_APP", Expr::str(app.name.clone())),
            ("FLOW_SECRET_PREFIX", prefix),
        ],
        memory: 256,
        timeout: 60,
        statements,
        metadata: b.origin(format!("app {}", app.name), app.span),
        role_notes: Vec::new(),
    };
    emit_function(b, spec);

    let mut events: Vec<&str> = app.sinks.iter().map(|s| s.event.as_str()).collect();
    events.sort_unstable();
    events.dedup();
    for event_name in events {
        let Some(event) = b.model.events.get(event_name).cloned() else {
            continue;
        };
        let sinks: Vec<&str> = app
            .sinks
            .iter()
            .filter(|s| s.event == event_name)
            .map(|s| s.name.as_str())
            .collect();
        let rule = Rule {
            name: names::physical(
                &b.model.project,
                &format!("sink-{}-{}", app.name, event_name),
            ),
            description: super::truncate(
                &format!(
                    "{event_name} to the sinks {} of app {}",
                    sinks.join(", "),
                    app.name
                ),
                512,
            ),
            event_bus_name: on_project_bus(),
            event_pattern: Some(json!({
                "source": [event.source],
                "detail-type": [event.detail_type],
            })),
            schedule_expression: None,
            state: "ENABLED".to_string(),
            targets: vec![target(&format!("sink-{}", app.name), &base, None)],
        };
        let span = app
            .sinks
            .iter()
            .find(|s| s.event == event_name)
            .map_or(app.span, |s| s.span);
        let metadata = b.origin(format!("app {} sinks {}", app.name, sinks.join(", ")), span);
        let id = logical_id(&format!("{}{}", app.name, event_name), "SinkRule");
        add_rule(b, &id, rule, std::slice::from_ref(&base), metadata);
    }
}

fn secret_resource(project: &str, secret: &str, metadata: ResourceMetadata) -> Resource {
    let cleaned: String = secret
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "/_+=.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    Resource::new(
        Properties::Secret(Secret {
            name: Expr::Sub(format!(
                "{}/${{Stage}}/{}",
                names::escape_sub(project),
                cleaned
            )),
            description: format!("Webhook signing secret \"{secret}\" (generated; rotate by updating the value)"),
            generate_secret_string: GenerateSecretString {
                password_length: 64,
                exclude_punctuation: true,
            },
        }),
        super::with_skips(
            metadata,
            &[
                (
                    "CKV_AWS_149",
                    "encrypted with the Secrets Manager service key; no customer-managed KMS key is provisioned per project",
                ),
            ],
        ),
    )
}

/// Lets EventBridge send undeliverable events to each function's queue,
/// only from the rules that target that function.
pub(crate) fn emit_dead_letter_policies(b: &mut Builder) {
    let sources = std::mem::take(&mut b.rule_sources);
    for (base, rules) in sources {
        let queue = queue_id(&base);
        let Some(mut metadata) = b.resources.get(&queue).map(|r| r.metadata.clone()) else {
            continue;
        };
        // The queue's skips are about the queue, not its policy.
        metadata.checkov = None;
        let arns: Vec<serde_json::Value> = rules.iter().map(Expr::to_json).collect();
        let statement = Statement::allow(
            "EventBridgeDeadLetters",
            &["sqs:SendMessage"],
            vec![Expr::get_att(&queue, "Arn")],
        )
        .with_principal(Principal::Service("events.amazonaws.com".to_string()))
        .with_condition(json!({ "ArnEquals": { "aws:SourceArn": arns } }));
        b.add(
            format!("{queue}Policy"),
            Resource::new(
                Properties::QueuePolicy(QueuePolicy {
                    queues: vec![Expr::reference(&queue)],
                    policy_document: PolicyDocument::new(vec![statement]),
                }),
                metadata,
            ),
        );
    }
}
