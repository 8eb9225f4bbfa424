//! Entry points: trigger ingest functions (S3 object-created rules on the
//! default bus, HTTP ingest routes) and the Event Store API.

use serde_json::{json, Value};

use super::functions::{
    emit_function, function_arn, function_id, objects_of, put_events, queue_id, table_access,
    FunctionSpec, LOG_RETENTION_DAYS, SKIP_LOG_KMS,
};
use super::names;
use super::routing::{add_rule, target};
use super::template::{
    AccessLogSettings, ApiIntegration, ApiRoute, ApiStage, Expr, HttpApi, LogGroup, Permission,
    Properties, Resource, ResourceMetadata, RouteSettings, Rule, Statement,
};
use super::{ids, with_skips, Builder};
use crate::check::model::{Trigger, TriggerKind};
use crate::codegen::logical_id;
use flow_runtime::store::ENDPOINTS;

/// The routes of the Event Store API on API Gateway: `(route key,
/// logical id)` for every endpoint the runtime's router serves on AWS
/// (`flow_runtime::store::ENDPOINTS`, from which the router is built), so
/// the template and the router cannot disagree.
pub fn event_store_routes() -> Vec<(String, String)> {
    ENDPOINTS
        .iter()
        .filter(|e| e.on_aws)
        .map(|e| {
            let fixed: Vec<&str> = e
                .path
                .split('/')
                .filter(|part| !part.starts_with('{'))
                .collect();
            let name = format!(
                "{}{}",
                names::pascal(&e.method.to_ascii_lowercase()),
                names::pascal(&fixed.join("-"))
            );
            (
                format!("{} {}", e.method, e.path),
                format!("{}Route{name}", ids::EVENT_STORE_API),
            )
        })
        .collect()
}

/// Ingest functions and their entry points, per trigger.
pub(crate) fn emit_triggers(b: &mut Builder) {
    let triggers: Vec<Trigger> = b.model.triggers.clone();
    let mut http = Vec::new();
    for trigger in &triggers {
        match &trigger.kind {
            TriggerKind::Sdk => {}
            TriggerKind::S3 {
                bucket,
                prefix,
                suffix,
            } => emit_s3_trigger(b, trigger, bucket, prefix.as_deref(), suffix.as_deref()),
            TriggerKind::Http { path } => {
                emit_ingest_function(b, trigger, Vec::new());
                http.push((trigger, path.clone()));
            }
        }
    }
    if !http.is_empty() {
        let metadata = b.project_origin("HTTP ingest API");
        emit_http_api(
            b,
            ids::INGEST_API,
            "HTTP ingest of raw events",
            "ingest-api",
            metadata,
        );
        for (trigger, path) in http {
            let base = ingest_base(trigger);
            let metadata = b.origin(format!("trigger {} = http", trigger.name), trigger.span);
            emit_api_integration(
                b,
                ids::INGEST_API,
                &base,
                &[(
                    format!("POST {path}"),
                    logical_id(&trigger.name, "IngestRoute"),
                )],
                metadata,
            );
        }
    }
}

fn ingest_base(trigger: &Trigger) -> String {
    logical_id(&trigger.name, "Ingest")
}

fn emit_ingest_function(b: &mut Builder, trigger: &Trigger, extra: Vec<Statement>) {
    let kind = match trigger.kind {
        TriggerKind::S3 { .. } => "s3",
        TriggerKind::Http { .. } => "http",
        TriggerKind::Sdk => "sdk",
    };
    let declaration = format!("trigger {} = {kind}", trigger.name);
    let mut statements = vec![put_events()];
    statements.extend(extra);
    let spec = FunctionSpec {
        base: ingest_base(trigger),
        suffix: format!("ingest-{}", trigger.name),
        description: format!("flowc ingest of {declaration} -> {}", trigger.event),
        env: vec![
            ("FLOW_ROLE", Expr::str("ingest")),
            ("FLOW_TRIGGER", Expr::str(trigger.name.clone())),
        ],
        memory: 256,
        timeout: 30,
        statements,
        metadata: b.origin(declaration, trigger.span),
        role_notes: Vec::new(),
    };
    emit_function(b, spec);
}

/// The object-created rule on the default bus (S3 sends there only) and
/// the ingest function that puts the flow event on the project bus.
fn emit_s3_trigger(
    b: &mut Builder,
    trigger: &Trigger,
    bucket: &str,
    prefix: Option<&str>,
    suffix: Option<&str>,
) {
    let Some(bucket_id) = b.media_buckets().get(bucket).cloned() else {
        return;
    };
    // Reading the object's metadata (HeadObject) needs s3:GetObject.
    let read = Statement::allow(
        "ReadTriggerObjects",
        &["s3:GetObject"],
        vec![objects_of(&bucket_id, prefix.unwrap_or(""))],
    );
    emit_ingest_function(b, trigger, vec![read]);
    let base = ingest_base(trigger);
    let mut detail = json!({ "bucket": { "name": [Expr::reference(&bucket_id).to_json()] } });
    if let Some(key) = key_matcher(prefix, suffix) {
        detail["object"] = json!({ "key": [key] });
    }
    let pattern = json!({
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": detail,
    });
    let rule = Rule {
        name: names::physical(&b.model.project, &format!("s3-{}", trigger.name)),
        description: super::truncate(
            &format!(
                "S3 objects created in {bucket} for trigger {}",
                trigger.name
            ),
            512,
        ),
        event_bus_name: None,
        event_pattern: Some(pattern),
        schedule_expression: None,
        state: "ENABLED".to_string(),
        targets: vec![target(&trigger.name, &base, None)],
    };
    let metadata = b.origin(format!("trigger {} = s3", trigger.name), trigger.span);
    add_rule(
        b,
        &logical_id(&trigger.name, "S3Rule"),
        rule,
        &[base],
        metadata,
    );
}

/// EventBridge matchers on `detail.object.key`: `prefix`, `suffix`, or both
/// as one `wildcard` (two entries in one array would mean either).
pub fn key_matcher(prefix: Option<&str>, suffix: Option<&str>) -> Option<Value> {
    let escape = |s: &str| s.replace('\\', "\\\\").replace('*', "\\*");
    match (prefix, suffix) {
        (None, None) => None,
        (Some(p), None) => Some(json!({ "prefix": p })),
        (None, Some(s)) => Some(json!({ "suffix": s })),
        (Some(p), Some(s)) => Some(json!({ "wildcard": format!("{}*{}", escape(p), escape(s)) })),
    }
}

/// The Event Store API: an IAM-authorised HTTP API whose routes go to one
/// function. The function changes the project's rules at run time
/// (`POST /route`), so it knows every node's function and dead-letter
/// queue, may change only rules named `<project>-<stage>-*` on the
/// project bus, and those rules may invoke the node functions and fill
/// their dead-letter queues.
pub(crate) fn emit_event_store_api(b: &mut Builder) {
    let base = ids::EVENT_STORE_FUNCTION_BASE.to_string();
    let rule_prefix = names::route_rule_prefix(&b.model.project);
    let project_rules = Expr::Sub(format!(
        "arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:rule/{}/{}*",
        sub_text(&names::project_stage(&b.model.project)),
        sub_text(&rule_prefix),
    ));
    let node_bases: Vec<(String, String)> = b
        .model
        .nodes
        .keys()
        .map(|n| (n.clone(), logical_id(n, "")))
        .collect();
    let spec = FunctionSpec {
        base: base.clone(),
        suffix: "event-store".to_string(),
        description: format!("flowc Event Store API of project {}", b.model.project),
        env: vec![
            ("FLOW_ROLE", Expr::str("api")),
            ("FLOW_RULE_PREFIX", rule_prefix),
            ("FLOW_TARGETS", node_targets(&node_bases)),
            (
                "FLOW_FUNCTION_ARN_PREFIX",
                Expr::sub(
                    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:",
                ),
            ),
            (
                "FLOW_QUEUE_ARN_PREFIX",
                Expr::sub("arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:"),
            ),
        ],
        memory: 512,
        timeout: 29,
        statements: vec![
            table_access(
                "EventStoreItems",
                &[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:Query",
                ],
            ),
            Statement::allow(
                "UpdateProjectRules",
                &[
                    "events:DeleteRule",
                    "events:DescribeRule",
                    "events:ListTargetsByRule",
                    "events:PutRule",
                    "events:PutTargets",
                    "events:RemoveTargets",
                ],
                vec![project_rules.clone()],
            ),
            Statement::allow(
                "FindProjectRules",
                &["events:ListRules"],
                vec![Expr::str("*")],
            ),
        ],
        metadata: b.project_origin("Event Store API"),
        role_notes: vec![LIST_RULES_STAR.to_string()],
    };
    emit_function(b, spec);
    // Rules the API creates at run time exist in no template: one
    // permission per node admits every project rule, and the node's
    // dead-letter queue policy admits their failures.
    for (name, node_base) in &node_bases {
        let metadata = b.project_origin(&format!(
            "Event Store API: routes to {name} changed at run time"
        ));
        b.add(
            format!("{node_base}RuntimeRulesPermission"),
            Resource::new(
                Properties::Permission(Permission {
                    action: "lambda:InvokeFunction".to_string(),
                    function_name: Expr::reference(function_id(node_base)),
                    principal: "events.amazonaws.com".to_string(),
                    source_arn: project_rules.clone(),
                    source_account: None,
                }),
                metadata,
            ),
        );
        b.rule_sources
            .entry(node_base.clone())
            .or_default()
            .push(project_rules.clone());
    }
    let metadata = b.project_origin("Event Store API");
    emit_http_api(
        b,
        ids::EVENT_STORE_API,
        "Event Store API",
        "event-store-api",
        metadata.clone(),
    );
    emit_api_integration(
        b,
        ids::EVENT_STORE_API,
        &base,
        &event_store_routes(),
        metadata,
    );
}

const LIST_RULES_STAR: &str = "statement FindProjectRules has Resource *: events:ListRules only lists rule names and descriptions (the API finds an event's rules by name prefix and description); every write is limited to the project's rules by UpdateProjectRules";

/// `FLOW_TARGETS`: node -> [function name, dead-letter queue name]; the
/// function adds the ARN prefixes (names keep the variable short: Lambda
/// allows 4 KB of environment).
fn node_targets(nodes: &[(String, String)]) -> Expr {
    let entries: Vec<String> = nodes
        .iter()
        .map(|(name, base)| {
            format!(
                "\"{}\":[\"${{{}}}\",\"${{{}.QueueName}}\"]",
                names::escape_sub(name),
                function_id(base),
                queue_id(base)
            )
        })
        .collect();
    Expr::Sub(format!("{{{}}}", entries.join(",")))
}

fn sub_text(expr: &Expr) -> String {
    match expr {
        Expr::Sub(s) | Expr::Str(s) => s.clone(),
        _ => String::new(),
    }
}

/// An HTTP API with its `$default` stage and access log group.
fn emit_http_api(b: &mut Builder, id: &str, what: &str, suffix: &str, metadata: ResourceMetadata) {
    let log_group = format!("{id}AccessLogGroup");
    b.add(
        id,
        Resource::new(
            Properties::HttpApi(HttpApi {
                name: names::physical(&b.model.project, suffix),
                description: format!("{what} of flowc project {}", b.model.project),
                protocol_type: "HTTP".to_string(),
            }),
            metadata.clone(),
        ),
    );
    let log_name = match names::physical(&b.model.project, suffix) {
        Expr::Sub(s) => Expr::Sub(format!("/aws/vendedlogs/apigateway/{s}")),
        other => other,
    };
    b.add(
        &log_group,
        Resource::new(
            Properties::LogGroup(LogGroup {
                log_group_name: log_name,
                retention_in_days: LOG_RETENTION_DAYS,
            }),
            with_skips(metadata.clone(), &[SKIP_LOG_KMS]),
        ),
    );
    b.add(
        format!("{id}Stage"),
        Resource::new(
            Properties::ApiStage(ApiStage {
                api_id: Expr::reference(id),
                stage_name: "$default".to_string(),
                auto_deploy: true,
                access_log_settings: AccessLogSettings {
                    destination_arn: Expr::get_att(&log_group, "Arn"),
                    format: ACCESS_LOG_FORMAT.to_string(),
                },
                default_route_settings: RouteSettings {
                    throttling_burst_limit: 200,
                    throttling_rate_limit: 100,
                },
            }),
            metadata,
        ),
    );
}

const ACCESS_LOG_FORMAT: &str = concat!(
    r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","#,
    r#""caller":"$context.identity.caller","user":"$context.identity.user","#,
    r#""requestTime":"$context.requestTime","routeKey":"$context.routeKey","#,
    r#""status":"$context.status","responseLength":"$context.responseLength","#,
    r#""integrationError":"$context.integrationErrorMessage"}"#
);

/// A Lambda proxy integration of `base`'s function, IAM-authorised routes
/// to it, and the permission for API Gateway to invoke it.
fn emit_api_integration(
    b: &mut Builder,
    api: &str,
    base: &str,
    routes: &[(String, String)],
    metadata: ResourceMetadata,
) {
    let integration = format!("{api}{base}Integration");
    b.add(
        &integration,
        Resource::new(
            Properties::ApiIntegration(ApiIntegration {
                api_id: Expr::reference(api),
                integration_type: "AWS_PROXY".to_string(),
                integration_uri: function_arn(base),
                payload_format_version: "2.0".to_string(),
            }),
            metadata.clone(),
        ),
    );
    for (key, id) in routes {
        b.add(
            id,
            Resource::new(
                Properties::ApiRoute(ApiRoute {
                    api_id: Expr::reference(api),
                    route_key: key.clone(),
                    authorization_type: "AWS_IAM".to_string(),
                    target: Expr::Sub(format!("integrations/${{{integration}}}")),
                }),
                metadata.clone(),
            ),
        );
    }
    b.add(
        format!("{api}{base}Permission"),
        Resource::new(
            Properties::Permission(Permission {
                action: "lambda:InvokeFunction".to_string(),
                function_name: Expr::reference(function_id(base)),
                principal: "apigateway.amazonaws.com".to_string(),
                source_arn: Expr::Sub(format!(
                    "arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{api}}}/*"
                )),
                source_account: None,
            }),
            metadata,
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_suffix_become_one_wildcard() {
        assert_eq!(
            key_matcher(Some("audio/"), Some(".webm")),
            Some(json!({ "wildcard": "audio/*.webm" }))
        );
        assert_eq!(
            key_matcher(Some("a*b/"), Some(".x")),
            Some(json!({ "wildcard": "a\\*b/*.x" }))
        );
        assert_eq!(key_matcher(None, None), None);
    }
}
