//! Project-wide resources: the event bus, the table, the buckets (objects,
//! media of S3 triggers, access logs), the schema registry and schemas,
//! and the template's parameters, outputs and metadata.

use std::collections::BTreeMap;

use serde_json::json;

use super::names;
use super::template::{
    AbortMultipart, AttributeDefinition, Bucket, BucketEncryption, BucketLogging, BucketPolicy,
    EncryptionByDefault, EncryptionRule, EventBridgeConfiguration, EventBus, Export, Expr,
    KeySchema, Lifecycle, LifecycleRule, NoncurrentExpiration, NotificationConfiguration, Output,
    OwnershipControls, OwnershipRule, Parameter, PointInTimeRecovery, PolicyDocument, Principal,
    ProjectInfo, Properties, PublicAccessBlock, Resource, ResourceMetadata, Schema, SchemaRegistry,
    SdkTrigger, SseSpecification, Statement, Table, TemplateMetadata, TimeToLive, Versioning,
};
use super::{ids, with_skips, Builder};
use crate::check::model::{Model, TriggerKind};
use crate::codegen::{logical_id, schema, source_location};
use crate::source::SourceSet;

pub(crate) fn parameters() -> BTreeMap<String, Parameter> {
    let param = |description: &str| Parameter {
        kind: "String".to_string(),
        description: description.to_string(),
        default: None,
        allowed_pattern: None,
        min_length: None,
        max_length: None,
        constraint_description: None,
    };
    BTreeMap::from([
        (
            "ArtifactBucket".to_string(),
            Parameter {
                min_length: Some(3),
                max_length: Some(63),
                ..param("S3 bucket holding the function artifact")
            },
        ),
        (
            "ArtifactKey".to_string(),
            Parameter {
                min_length: Some(1),
                ..param("S3 key of the zip holding bootstrap and graph.json")
            },
        ),
        (
            "Stage".to_string(),
            Parameter {
                default: Some("dev".to_string()),
                allowed_pattern: Some(format!("^[a-z][a-z0-9-]{{0,{}}}$", names::STAGE_MAX - 1)),
                max_length: Some(names::STAGE_MAX as u32),
                constraint_description: Some(format!(
                    "lowercase letters, digits and dashes, starting with a letter, at most {} characters (it is part of bucket and function names)",
                    names::STAGE_MAX
                )),
                ..param("Deployment stage, part of every resource name")
            },
        ),
    ])
}

pub(crate) fn template_metadata(model: &Model, sources: &SourceSet) -> TemplateMetadata {
    let sdk_triggers = model
        .triggers
        .iter()
        .filter(|t| matches!(t.kind, TriggerKind::Sdk))
        .filter_map(|t| {
            let event = model.events.get(&t.event)?;
            Some(SdkTrigger {
                trigger: t.name.clone(),
                event: t.event.clone(),
                source: event.source.clone(),
                detail_type: event.detail_type.clone(),
                location: source_location(sources, t.span),
            })
        })
        .collect();
    TemplateMetadata {
        flowc: ProjectInfo {
            project: model.project.clone(),
            sdk_triggers,
        },
    }
}

/// The bus, the table and the buckets.
pub(crate) fn emit_storage(b: &mut Builder) {
    b.add(
        ids::BUS,
        Resource::new(
            Properties::EventBus(EventBus {
                name: names::project_stage(&b.model.project),
                description: format!("Event bus of flowc project {}", b.model.project),
            }),
            b.project_origin("event bus"),
        ),
    );
    b.add(
        ids::TABLE,
        Resource::new(
            Properties::Table(Box::new(table())),
            with_skips(
                b.project_origin("node state and Event Store"),
                &[(
                    "CKV_AWS_119",
                    "encrypted with the AWS-managed aws/dynamodb KMS key (SSEEnabled); no customer-managed key is provisioned per project",
                )],
            ),
        )
        .retained(),
    );
    emit_access_log_bucket(b);
    let metadata = b.project_origin("objects, stitched content and documents");
    emit_bucket(b, ids::BUCKET, None, "objects/", false, metadata);
    emit_media_buckets(b);
}

fn table() -> Table {
    let attribute = |name: &str| AttributeDefinition {
        attribute_name: name.to_string(),
        attribute_type: "S".to_string(),
    };
    let key = |name: &str, kind: &str| KeySchema {
        attribute_name: name.to_string(),
        key_type: kind.to_string(),
    };
    Table {
        billing_mode: "PAY_PER_REQUEST".to_string(),
        attribute_definitions: vec![attribute("pk"), attribute("sk")],
        key_schema: vec![key("pk", "HASH"), key("sk", "RANGE")],
        time_to_live_specification: TimeToLive {
            attribute_name: "expires_at".to_string(),
            enabled: true,
        },
        point_in_time_recovery_specification: PointInTimeRecovery {
            point_in_time_recovery_enabled: true,
        },
        sse_specification: SseSpecification { sse_enabled: true },
    }
}

/// One bucket per distinct bucket of the S3 triggers, sending its events
/// to EventBridge (the default bus).
fn emit_media_buckets(b: &mut Builder) {
    let mut declared: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut first_span = BTreeMap::new();
    for trigger in &b.model.triggers {
        if let TriggerKind::S3 { bucket, .. } = &trigger.kind {
            declared
                .entry(bucket.clone())
                .or_default()
                .push(format!("trigger {}", trigger.name));
            first_span.entry(bucket.clone()).or_insert(trigger.span);
        }
    }
    for (bucket, id) in b.media_buckets().clone() {
        let (Some(triggers), Some(span)) = (declared.get(&bucket), first_span.get(&bucket)) else {
            continue;
        };
        let declaration = format!("{} (s3 \"{bucket}\")", triggers.join(", "));
        let metadata = b.origin(declaration, *span);
        let name = names::media_bucket(&bucket);
        let prefix = format!("media/{}/", names::pascal(&bucket));
        emit_bucket(b, &id, Some(name), &prefix, true, metadata);
    }
}

fn encrypted() -> BucketEncryption {
    BucketEncryption {
        server_side_encryption_configuration: vec![EncryptionRule {
            server_side_encryption_by_default: EncryptionByDefault {
                sse_algorithm: "AES256".to_string(),
            },
        }],
    }
}

fn private_bucket(name: Option<Expr>, expiration_days: Option<u32>) -> Bucket {
    Bucket {
        bucket_name: name,
        bucket_encryption: encrypted(),
        public_access_block_configuration: PublicAccessBlock {
            block_public_acls: true,
            block_public_policy: true,
            ignore_public_acls: true,
            restrict_public_buckets: true,
        },
        ownership_controls: OwnershipControls {
            rules: vec![OwnershipRule {
                object_ownership: "BucketOwnerEnforced".to_string(),
            }],
        },
        versioning_configuration: Versioning {
            status: "Enabled".to_string(),
        },
        lifecycle_configuration: Lifecycle {
            rules: vec![LifecycleRule {
                id: "tidy".to_string(),
                status: "Enabled".to_string(),
                expiration_in_days: expiration_days,
                noncurrent_version_expiration: NoncurrentExpiration {
                    noncurrent_days: 30,
                },
                abort_incomplete_multipart_upload: AbortMultipart {
                    days_after_initiation: 7,
                },
            }],
        },
        logging_configuration: None,
        notification_configuration: None,
    }
}

/// A private, encrypted, versioned bucket that logs to the access-log
/// bucket, with a policy denying requests without TLS.
fn emit_bucket(
    b: &mut Builder,
    id: &str,
    name: Option<Expr>,
    log_prefix: &str,
    to_eventbridge: bool,
    metadata: ResourceMetadata,
) {
    let mut bucket = private_bucket(name, None);
    bucket.logging_configuration = Some(BucketLogging {
        destination_bucket_name: Expr::reference(ids::ACCESS_LOG_BUCKET),
        log_file_prefix: log_prefix.to_string(),
    });
    if to_eventbridge {
        bucket.notification_configuration = Some(NotificationConfiguration {
            event_bridge_configuration: EventBridgeConfiguration {
                event_bridge_enabled: true,
            },
        });
    }
    b.add(
        id,
        Resource::new(Properties::Bucket(Box::new(bucket)), metadata.clone()).retained(),
    );
    b.add(
        format!("{id}Policy"),
        Resource::new(
            Properties::BucketPolicy(BucketPolicy {
                bucket: Expr::reference(id),
                policy_document: PolicyDocument::new(vec![deny_insecure_transport(id)]),
            }),
            metadata,
        ),
    );
}

fn deny_insecure_transport(bucket_id: &str) -> Statement {
    Statement {
        sid: "DenyInsecureTransport".to_string(),
        effect: "Deny".to_string(),
        principal: Some(Principal::Anyone),
        action: vec!["s3:*".to_string()],
        resource: vec![
            Expr::get_att(bucket_id, "Arn"),
            Expr::Sub(format!("${{{bucket_id}.Arn}}/*")),
        ],
        condition: Some(json!({ "Bool": { "aws:SecureTransport": "false" } })),
    }
}

/// The target of the other buckets' server access logs.
fn emit_access_log_bucket(b: &mut Builder) {
    let id = ids::ACCESS_LOG_BUCKET;
    let metadata = with_skips(
        b.project_origin("S3 server access logs"),
        &[(
            "CKV_AWS_18",
            "this bucket receives the access logs of the other buckets; logging it to itself would loop",
        )],
    );
    b.add(
        id,
        Resource::new(
            Properties::Bucket(Box::new(private_bucket(None, Some(365)))),
            metadata.clone(),
        )
        .retained(),
    );
    let delivery = Statement::allow(
        "S3ServerAccessLogDelivery",
        &["s3:PutObject"],
        vec![Expr::Sub(format!("${{{id}.Arn}}/*"))],
    )
    .with_principal(Principal::Service("logging.s3.amazonaws.com".to_string()))
    .with_condition(json!({
        "StringEquals": { "aws:SourceAccount": Expr::reference("AWS::AccountId").to_json() }
    }));
    b.add(
        ids::ACCESS_LOG_BUCKET_POLICY,
        Resource::new(
            Properties::BucketPolicy(BucketPolicy {
                bucket: Expr::reference(id),
                policy_document: PolicyDocument::new(vec![delivery, deny_insecure_transport(id)]),
            }),
            metadata,
        ),
    );
}

/// The registry and one draft-04 schema per event.
pub(crate) fn emit_schemas(b: &mut Builder) {
    b.add(
        ids::SCHEMA_REGISTRY,
        Resource::new(
            Properties::SchemaRegistry(SchemaRegistry {
                registry_name: names::project_stage(&b.model.project),
                description: format!("Events of flowc project {}", b.model.project),
            }),
            b.project_origin("schema registry"),
        ),
    );
    let events: Vec<_> = b.model.events.values().cloned().collect();
    for event in events {
        let content = schema::registry_schema(&event, &b.model.project).to_string();
        let metadata = b.origin(format!("event {}", event.name), event.span);
        b.add(
            logical_id(&event.name, "Schema"),
            Resource::new(
                Properties::Schema(Schema {
                    registry_name: Expr::get_att(ids::SCHEMA_REGISTRY, "RegistryName"),
                    schema_name: event.name.clone(),
                    description: super::truncate(
                        &format!("{} / {}", event.source, event.detail_type),
                        256,
                    ),
                    kind: "JSONSchemaDraft4".to_string(),
                    content,
                }),
                metadata,
            ),
        );
    }
}

pub(crate) fn outputs(b: &Builder) -> BTreeMap<String, Output> {
    let output = |description: &str, value: Expr, name: &str| Output {
        description: description.to_string(),
        value,
        export: Export {
            name: Expr::Sub(format!("${{AWS::StackName}}-{name}")),
        },
    };
    let mut outputs = BTreeMap::from([
        (
            "BusName".to_string(),
            output(
                "Name of the project's event bus",
                Expr::get_att(ids::BUS, "Name"),
                "BusName",
            ),
        ),
        (
            "BusArn".to_string(),
            output(
                "ARN of the project's event bus (SDK triggers need events:PutEvents on it)",
                Expr::get_att(ids::BUS, "Arn"),
                "BusArn",
            ),
        ),
        (
            "BucketName".to_string(),
            output(
                "Bucket of objects, stitched content and documents",
                Expr::reference(ids::BUCKET),
                "BucketName",
            ),
        ),
        (
            "TableName".to_string(),
            output(
                "Table of node state and the Event Store",
                Expr::reference(ids::TABLE),
                "TableName",
            ),
        ),
        (
            "EventStoreApiUrl".to_string(),
            output(
                "URL of the Event Store API (IAM-authorised)",
                api_url(ids::EVENT_STORE_API),
                "EventStoreApiUrl",
            ),
        ),
    ]);
    if b.resources.contains_key(ids::INGEST_API) {
        outputs.insert(
            "IngestApiUrl".to_string(),
            output(
                "URL of the HTTP ingest endpoint (IAM-authorised)",
                api_url(ids::INGEST_API),
                "IngestApiUrl",
            ),
        );
    }
    for (bucket, id) in b.media_buckets().clone() {
        let name = format!("{id}Name");
        outputs.insert(
            name.clone(),
            output(
                &format!("Bucket of the S3 triggers on \"{bucket}\""),
                Expr::reference(&id),
                &name,
            ),
        );
    }
    outputs
}

/// The invoke URL of an HTTP API (built from the API id: `Fn::GetAtt` of
/// API Gateway attributes breaks the moto stand-in).
fn api_url(api_id: &str) -> Expr {
    Expr::Sub(format!(
        "https://${{{api_id}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/"
    ))
}
