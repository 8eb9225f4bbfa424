//! Lambda functions: one per node, plus the ingest, Event Store and sink
//! functions. Each comes with its own role, log group and dead-letter
//! queue; the role allows exactly what the function's job needs.

use std::collections::BTreeMap;

use super::names;
use super::template::{
    Code, Environment, Expr, Function, InlinePolicy, LogGroup, LoggingConfig, PolicyDocument,
    Principal, Properties, Queue, Resource, ResourceMetadata, Role, Statement, TargetArnConfig,
};
use super::{ids, with_notes, with_skips, Builder};
use crate::check::model::{Node, NodeKind};
use crate::codegen::logical_id;

/// Days function and API logs are kept.
pub const LOG_RETENTION_DAYS: u32 = 30;
/// Seconds a dead letter stays in its queue (the SQS maximum, 14 days).
const DLQ_RETENTION_SECONDS: u32 = 1_209_600;

pub const SKIP_LOG_KMS: (&str, &str) = (
    "CKV_AWS_158",
    "log groups use the CloudWatch Logs service key; no customer-managed KMS key is provisioned per project",
);

/// What differs between the functions.
pub(crate) struct FunctionSpec {
    /// Logical id base: `<base>Function`, `<base>Role`, `<base>LogGroup`,
    /// `<base>DeadLetterQueue`.
    pub base: String,
    /// The physical name is `<project>-${Stage}-<suffix>`.
    pub suffix: String,
    pub description: String,
    /// `FLOW_ROLE` and the variables that select the job.
    pub env: Vec<(&'static str, Expr)>,
    pub memory: u32,
    pub timeout: u32,
    /// Statements beyond logging and the dead-letter queue.
    pub statements: Vec<Statement>,
    pub metadata: ResourceMetadata,
    /// Why the role has a statement that looks broader than it is.
    pub role_notes: Vec<String>,
}

pub(crate) fn function_id(base: &str) -> String {
    format!("{base}Function")
}

pub(crate) fn queue_id(base: &str) -> String {
    format!("{base}DeadLetterQueue")
}

/// The ARN of a function, for targets and policies.
pub(crate) fn function_arn(base: &str) -> Expr {
    Expr::get_att(function_id(base), "Arn")
}

/// Adds the function, its role, log group and dead-letter queue.
pub(crate) fn emit_function(b: &mut Builder, spec: FunctionSpec) {
    let function = function_id(&spec.base);
    let role = format!("{}Role", spec.base);
    let log_group = format!("{}LogGroup", spec.base);
    let queue = queue_id(&spec.base);
    let name = names::physical(&b.model.project, &spec.suffix);
    let log_group_name = match &name {
        Expr::Sub(s) => Expr::Sub(format!("/aws/lambda/{s}")),
        Expr::Str(s) => Expr::Str(format!("/aws/lambda/{s}")),
        other => other.clone(),
    };

    let mut statements = vec![
        Statement::allow(
            "WriteOwnLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            vec![Expr::get_att(&log_group, "Arn")],
        ),
        Statement::allow(
            "DeadLetterOwnFailures",
            &["sqs:SendMessage"],
            vec![Expr::get_att(&queue, "Arn")],
        ),
    ];
    statements.extend(spec.statements);

    let mut env: BTreeMap<String, Expr> = common_env();
    for (key, value) in spec.env {
        env.insert(key.to_string(), value);
    }

    b.add(
        &function,
        Resource::new(
            Properties::Function(Box::new(Function {
                function_name: name,
                description: super::truncate(&spec.description, 256),
                runtime: "provided.al2023".to_string(),
                handler: "bootstrap".to_string(),
                architectures: vec!["arm64".to_string()],
                code: Code {
                    s3_bucket: Expr::reference("ArtifactBucket"),
                    s3_key: Expr::reference("ArtifactKey"),
                },
                memory_size: spec.memory,
                timeout: spec.timeout,
                role: Expr::get_att(&role, "Arn"),
                environment: Environment { variables: env },
                logging_config: LoggingConfig {
                    log_group: Expr::reference(&log_group),
                    log_format: "JSON".to_string(),
                },
                dead_letter_config: TargetArnConfig {
                    target_arn: Expr::get_att(&queue, "Arn"),
                },
            })),
            with_skips(spec.metadata.clone(), &FUNCTION_SKIPS),
        ),
    );
    b.add(
        &role,
        Resource::new(
            Properties::Role(Role {
                description: super::truncate(&format!("Role of {function}"), 1000),
                assume_role_policy_document: PolicyDocument::new(vec![Statement::allow(
                    "LambdaAssumesRole",
                    &["sts:AssumeRole"],
                    Vec::new(),
                )
                .with_principal(Principal::Service("lambda.amazonaws.com".to_string()))]),
                policies: vec![InlinePolicy {
                    policy_name: "least-privilege".to_string(),
                    policy_document: PolicyDocument::new(statements),
                }],
            }),
            with_notes(spec.metadata.clone(), spec.role_notes),
        ),
    );
    b.add(
        &log_group,
        Resource::new(
            Properties::LogGroup(LogGroup {
                log_group_name,
                retention_in_days: LOG_RETENTION_DAYS,
            }),
            with_skips(spec.metadata.clone(), &[SKIP_LOG_KMS]),
        ),
    );
    b.add(
        &queue,
        Resource::new(
            Properties::Queue(Queue {
                sqs_managed_sse_enabled: true,
                message_retention_period: DLQ_RETENTION_SECONDS,
            }),
            with_skips(spec.metadata, &[SKIP_SQS_KMS]),
        ),
    );
}

const SKIP_SQS_KMS: (&str, &str) = (
    "CKV_AWS_27",
    "encrypted with SSE-SQS (SqsManagedSseEnabled); EventBridge cannot deliver to a queue under the AWS-managed aws/sqs key, and checkov only recognises KmsMasterKeyId",
);

/// Checks skipped on every function, with the reason.
const FUNCTION_SKIPS: [(&str, &str); 3] = [
    (
        "CKV_AWS_115",
        "reserved concurrency would take capacity from the account pool and fail on accounts with low limits; EventBridge retries throttled deliveries",
    ),
    (
        "CKV_AWS_117",
        "the functions call only AWS public endpoints (EventBridge, DynamoDB, S3, Bedrock, Transcribe); a VPC would need NAT or endpoints for no gain",
    ),
    (
        "CKV_AWS_173",
        "environment variables hold resource names only, never secrets; Lambda encrypts them at rest with its service key",
    ),
];

/// Variables every function gets: where the graph, bus, table and bucket
/// are. Values are names only; permissions come from the role.
fn common_env() -> BTreeMap<String, Expr> {
    BTreeMap::from([
        ("FLOW_GRAPH".to_string(), Expr::str("graph.json")),
        ("FLOW_BUS".to_string(), Expr::get_att(ids::BUS, "Name")),
        ("FLOW_TABLE".to_string(), Expr::reference(ids::TABLE)),
        ("FLOW_BUCKET".to_string(), Expr::reference(ids::BUCKET)),
        ("FLOW_STAGE".to_string(), Expr::reference("Stage")),
    ])
}

/// `events:PutEvents` on the project bus.
pub(crate) fn put_events() -> Statement {
    Statement::allow(
        "PutEventsOnProjectBus",
        &["events:PutEvents"],
        vec![Expr::get_att(ids::BUS, "Arn")],
    )
}

/// Item access on the project table.
pub(crate) fn table_access(sid: &str, actions: &[&str]) -> Statement {
    Statement::allow(sid, actions, vec![Expr::get_att(ids::TABLE, "Arn")])
}

pub(crate) const STATE_ACTIONS: [&str; 5] = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
];

/// Objects of a bucket under a key prefix (`""`: the whole bucket).
pub(crate) fn objects_of(bucket_id: &str, prefix: &str) -> Expr {
    Expr::Sub(format!(
        "${{{bucket_id}.Arn}}/{}*",
        names::escape_sub(prefix)
    ))
}

/// One function per node.
pub(crate) fn emit_node_functions(b: &mut Builder) {
    let nodes: Vec<Node> = b.model.nodes.values().cloned().collect();
    for node in nodes {
        let spec = node_spec(b, &node);
        emit_function(b, spec);
    }
    super::views::emit_job_rules(b);
}

fn node_spec(b: &Builder, node: &Node) -> FunctionSpec {
    let (memory, timeout) = sizing(&node.kind);
    let mut statements = vec![put_events()];
    let mut role_notes = Vec::new();
    if node.kind.is_stateful() {
        statements.push(table_access("NodeState", &STATE_ACTIONS));
    }
    // Stitchers read the pieces they join and write the joined object.
    if let NodeKind::Stitcher {
        content_is_object, ..
    } = &node.kind
    {
        statements.push(Statement::allow(
            "ProjectObjects",
            &["s3:GetObject", "s3:PutObject"],
            vec![objects_of(ids::BUCKET, "")],
        ));
        let media: Vec<Expr> = b
            .media_buckets()
            .values()
            .map(|id| objects_of(id, ""))
            .collect();
        if *content_is_object && !media.is_empty() {
            statements.push(Statement::allow("ReadMedia", &["s3:GetObject"], media));
        }
    }
    let (view_statements, view_notes) = super::views::view_statements(b, node);
    statements.extend(view_statements);
    role_notes.extend(view_notes);
    let mut env = vec![
        ("FLOW_ROLE", Expr::str("node")),
        ("FLOW_NODE", Expr::str(node.name.clone())),
    ];
    if matches!(node.kind, NodeKind::Transcriber { .. }) {
        env.push(("FLOW_JOB_PREFIX", super::views::job_prefix(b, &node.name)));
    }
    if let NodeKind::Custom { lambda_arn, .. } = &node.kind {
        statements.push(Statement::allow(
            "InvokeCustomFunction",
            &["lambda:InvokeFunction"],
            vec![Expr::str(lambda_arn.clone())],
        ));
    }
    let declaration = format!(
        "{} {} = {}",
        node.class.keyword(),
        node.name,
        node.kind.name()
    );
    FunctionSpec {
        base: logical_id(&node.name, ""),
        suffix: node.name.clone(),
        description: format!("flowc node {declaration}"),
        env,
        memory,
        timeout,
        statements,
        metadata: b.origin(declaration, node.span),
        role_notes,
    }
}

/// Memory (MB) and timeout (s) per node kind: summarizers wait for the
/// model (Bedrock's client gives up after 100 s), stitchers move bytes,
/// transcribers only start a job or read its result, the rest are quick
/// state updates.
fn sizing(kind: &NodeKind) -> (u32, u32) {
    match kind {
        NodeKind::Summarizer { .. } => (512, 120),
        NodeKind::Transcriber { .. } => (256, 60),
        NodeKind::Stitcher { .. } => (1024, 120),
        NodeKind::Custom { timeout_ms, .. } => {
            // The node waits for the custom function: its timeout plus slack.
            let secs = timeout_ms.map_or(60, |ms| ms.div_ceil(1000) + 10);
            (256, u32::try_from(secs.min(900)).unwrap_or(900))
        }
        _ => (256, 30),
    }
}
