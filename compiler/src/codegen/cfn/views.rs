//! What views need in the template beyond their function: the IAM
//! statements of summarizers (Bedrock) and transcribers (Transcribe and
//! the S3 objects a job reads and writes), and per transcriber the rule on
//! the default bus that brings Transcribe's job-state-change events for
//! the node's jobs back to its function (docs/views.md).

use serde_json::{json, Value};

use super::functions::objects_of;
use super::names;
use super::routing::{add_rule, target};
use super::template::{Expr, Rule, Statement};
use super::{ids, Builder};
use crate::check::model::{Node, NodeKind};
use crate::codegen::logical_id;

pub(crate) const TRANSCRIBE_STAR: &str = "statement StartTranscription has Resource *: transcribe:StartTranscriptionJob supports no resource-level permissions (IAM service authorization reference); GetTranscriptionJob is scoped to this node's jobs";

/// `<project>-${Stage}-<node>`: every job of a transcriber is named
/// `<this>-<id>` (the function reads it as `FLOW_JOB_PREFIX`).
pub(crate) fn job_prefix(b: &Builder, node: &str) -> Expr {
    names::physical(&b.model.project, node)
}

/// The `${…}` text of [`job_prefix`] for use inside a longer `Fn::Sub`.
fn job_prefix_text(b: &Builder, node: &str) -> String {
    match job_prefix(b, node) {
        Expr::Sub(s) | Expr::Str(s) => s,
        // `names::physical` is always a text; a node name keeps jobs apart.
        _ => names::escape_sub(node),
    }
}

/// The statements of a view's role (none for other nodes): exactly the
/// actions the view's adapter calls, on exactly its resources.
pub(crate) fn view_statements(b: &Builder, node: &Node) -> (Vec<Statement>, Vec<String>) {
    let media = || -> Vec<Expr> {
        let mut objects = vec![objects_of(ids::BUCKET, "")];
        objects.extend(b.media_buckets().values().map(|id| objects_of(id, "")));
        objects
    };
    match &node.kind {
        NodeKind::Summarizer { model, .. } => (
            vec![
                Statement::allow("ReadImages", &["s3:GetObject"], media()),
                // Converse is authorised as bedrock:InvokeModel on the model.
                Statement::allow(
                    "InvokeModel",
                    &["bedrock:InvokeModel"],
                    vec![Expr::Sub(format!(
                        "arn:${{AWS::Partition}}:bedrock:${{AWS::Region}}::foundation-model/{}",
                        names::escape_sub(model)
                    ))],
                ),
            ],
            Vec::new(),
        ),
        NodeKind::Transcriber { .. } => (
            vec![
                // Transcribe reads the media and writes the transcript with
                // the caller's permissions; the function reads both back,
                // and keeps the input event next to the transcript.
                Statement::allow("ReadMediaAndTranscripts", &["s3:GetObject"], media()),
                Statement::allow(
                    "WriteTranscripts",
                    &["s3:PutObject"],
                    vec![objects_of(
                        ids::BUCKET,
                        &format!("transcripts/{}/", node.name),
                    )],
                ),
                Statement::allow(
                    "StartTranscription",
                    &["transcribe:StartTranscriptionJob"],
                    vec![Expr::str("*")],
                ),
                Statement::allow(
                    "ReadTranscription",
                    &["transcribe:GetTranscriptionJob"],
                    vec![Expr::Sub(format!(
                        "arn:${{AWS::Partition}}:transcribe:${{AWS::Region}}:${{AWS::AccountId}}:transcription-job/{}-*",
                        job_prefix_text(b, &node.name)
                    ))],
                ),
            ],
            vec![TRANSCRIBE_STAR.to_string()],
        ),
        _ => (Vec::new(), Vec::new()),
    }
}

/// The pattern of a transcriber's job events: Transcribe's state changes
/// to COMPLETED or FAILED of jobs named with the node's prefix.
fn job_event_pattern(b: &Builder, node: &str) -> Value {
    let prefix = Expr::Sub(format!("{}-", job_prefix_text(b, node)));
    json!({
        "source": ["aws.transcribe"],
        "detail-type": ["Transcribe Job State Change"],
        "detail": {
            "TranscriptionJobStatus": ["COMPLETED", "FAILED"],
            "TranscriptionJobName": [{ "prefix": prefix.to_json() }],
        },
    })
}

/// Per transcriber: the rule on the default bus (where AWS services put
/// their events) targeting the node's function.
pub(crate) fn emit_job_rules(b: &mut Builder) {
    let nodes: Vec<Node> = b
        .model
        .nodes
        .values()
        .filter(|n| matches!(n.kind, NodeKind::Transcriber { .. }))
        .cloned()
        .collect();
    for node in nodes {
        let base = logical_id(&node.name, "");
        let rule = Rule {
            name: names::physical(&b.model.project, &format!("jobs-{}", node.name)),
            description: format!(
                "Amazon Transcribe job state changes of {}'s jobs",
                node.name
            ),
            event_bus_name: None,
            event_pattern: Some(job_event_pattern(b, &node.name)),
            schedule_expression: None,
            state: "ENABLED".to_string(),
            targets: vec![target(&node.name, &base, None)],
        };
        let metadata = b.origin(
            format!("view {} = transcriber (Transcribe job events)", node.name),
            node.span,
        );
        add_rule(
            b,
            &logical_id(&node.name, "JobRule"),
            rule,
            &[base],
            metadata,
        );
    }
}
