//! Entry points: trigger ingest functions (S3 object-created rules on the
//! default bus, HTTP ingest routes) and the Event Store API.

use serde_json::{json, Value};

use super::functions::{
    emit_function, function_arn, function_id, objects_of, put_events, table_access, FunctionSpec,
    LOG_RETENTION_DAYS, SKIP_LOG_KMS,
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

/// The seven routes of the Event Store API (DESIGN.md §5).
pub const EVENT_STORE_ROUTES: [(&str, &str); 7] = [
    ("GET /events", "GetEvents"),
    ("GET /event/{id}", "GetEvent"),
    ("GET /flows", "GetFlows"),
    ("GET /flow/{id}", "GetFlow"),
    ("POST /flow", "PostFlow"),
    ("POST /route/{id}", "PostRoute"),
    ("DELETE /flow/{id}", "DeleteFlow"),
];

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

/// The Event Store API: an IAM-authorised HTTP API whose seven routes go
/// to one function.
pub(crate) fn emit_event_store_api(b: &mut Builder) {
    let base = ids::EVENT_STORE_FUNCTION_BASE.to_string();
    let rules = Expr::Sub(format!(
        "arn:${{AWS::Partition}}:events:${{AWS::Region}}:${{AWS::AccountId}}:rule/{}/{}-*",
        sub_text(&names::project_stage(&b.model.project)),
        sub_text(&names::project_stage(&b.model.project)),
    ));
    let spec = FunctionSpec {
        base: base.clone(),
        suffix: "event-store".to_string(),
        description: format!("flowc Event Store API of project {}", b.model.project),
        env: vec![("FLOW_ROLE", Expr::str("api"))],
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
                    "events:DescribeRule",
                    "events:PutRule",
                    "events:PutTargets",
                    "events:RemoveTargets",
                ],
                vec![rules],
            ),
        ],
        metadata: b.project_origin("Event Store API"),
        role_notes: Vec::new(),
    };
    emit_function(b, spec);
    let metadata = b.project_origin("Event Store API");
    emit_http_api(
        b,
        ids::EVENT_STORE_API,
        "Event Store API",
        "event-store-api",
        metadata.clone(),
    );
    let routes: Vec<(String, String)> = EVENT_STORE_ROUTES
        .iter()
        .map(|(key, name)| {
            (
                key.to_string(),
                format!("{}Route{name}", ids::EVENT_STORE_API),
            )
        })
        .collect();
    emit_api_integration(b, ids::EVENT_STORE_API, &base, &routes, metadata);
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
