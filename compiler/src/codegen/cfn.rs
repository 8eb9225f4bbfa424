//! The CloudFormation template of a project (docs/aws-mapping.md).
//! Input: a checked [`Model`] and its sources (for metadata locations).
//! Output: a typed [`Template`]; the caller serializes it to JSON or YAML.
//! Invariants: logical ids derive from declaration names only, so they are
//! stable across builds; every resource's `Metadata.flowc` names the
//! declaration (and its `.flow` file and line) it came from; the output is
//! deterministic. Codegen raises no user errors: the AWS quotas a project
//! could break are checked by `check` (E040–E043).

mod api;
mod functions;
pub mod names;
mod platform;
mod qbusiness;
mod routing;
pub mod template;
mod views;

use std::collections::BTreeMap;

pub use template::{
    CheckovSkips, Expr, Origin, Parameter, PolicyDocument, Principal, Properties, Resource,
    ResourceMetadata, Skip, Statement, Template,
};

use crate::check::model::{Model, TriggerKind};
use crate::codegen::{logical_id, source_location};
use crate::source::SourceSet;
use crate::syntax::span::Span;

/// Logical ids of the project-wide resources.
pub mod ids {
    pub const BUS: &str = "Bus";
    pub const TABLE: &str = "Table";
    pub const BUCKET: &str = "Bucket";
    pub const BUCKET_POLICY: &str = "BucketPolicy";
    pub const ACCESS_LOG_BUCKET: &str = "AccessLogBucket";
    pub const ACCESS_LOG_BUCKET_POLICY: &str = "AccessLogBucketPolicy";
    pub const SCHEMA_REGISTRY: &str = "SchemaRegistry";
    pub const EVENT_STORE_API: &str = "EventStoreApi";
    pub const INGEST_API: &str = "IngestApi";
    /// Function bases of the functions that belong to no declaration; the
    /// `Flow` prefix keeps them apart from ids derived from names.
    pub const EVENT_STORE_FUNCTION_BASE: &str = "FlowEventStore";
}

/// Builds the project's template.
pub fn emit_template(model: &Model, sources: &SourceSet) -> Template {
    let mut builder = Builder::new(model, sources);
    platform::emit_storage(&mut builder);
    platform::emit_schemas(&mut builder);
    functions::emit_node_functions(&mut builder);
    api::emit_triggers(&mut builder);
    api::emit_event_store_api(&mut builder);
    routing::emit_sinks(&mut builder);
    qbusiness::emit_amazon_q(&mut builder);
    routing::emit_routes(&mut builder);
    routing::emit_flush_schedules(&mut builder);
    routing::emit_dead_letter_policies(&mut builder);
    let outputs = platform::outputs(&builder);
    let mut parameters = platform::parameters();
    parameters.extend(qbusiness::parameter(&builder));
    Template {
        aws_template_format_version: "2010-09-09".to_string(),
        description: description(model),
        metadata: platform::template_metadata(model, sources),
        parameters,
        resources: builder.resources,
        outputs,
    }
}

fn description(model: &Model) -> String {
    let apps: Vec<&str> = model
        .apps
        .iter()
        .filter_map(|app| app.settings.get("description").map(String::as_str))
        .collect();
    let mut text = format!("flowc project {}", model.project);
    if !apps.is_empty() {
        text.push_str(": ");
        text.push_str(&apps.join("; "));
    }
    // CloudFormation allows 1024 bytes.
    truncate(&text, 1024)
}

/// At most `max` bytes, cut on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// The template under construction.
pub(crate) struct Builder<'a> {
    pub model: &'a Model,
    pub sources: &'a SourceSet,
    pub resources: BTreeMap<String, Resource>,
    /// Per function base: the ARNs of the rules that deliver to it, so that
    /// its dead-letter queue admits their failures.
    pub rule_sources: BTreeMap<String, Vec<Expr>>,
    /// Trigger bucket name → logical id, computed once (every view and
    /// trigger asks for it).
    media_buckets: BTreeMap<String, String>,
}

impl<'a> Builder<'a> {
    fn new(model: &'a Model, sources: &'a SourceSet) -> Self {
        Builder {
            model,
            sources,
            resources: BTreeMap::new(),
            rule_sources: BTreeMap::new(),
            media_buckets: model
                .triggers
                .iter()
                .filter_map(|t| match &t.kind {
                    TriggerKind::S3 { bucket, .. } => Some((
                        bucket.clone(),
                        logical_id(&names::pascal(bucket), "TriggerBucket"),
                    )),
                    _ => None,
                })
                .collect(),
        }
    }

    pub fn add(&mut self, id: impl Into<String>, resource: Resource) {
        self.resources.insert(id.into(), resource);
    }

    /// Metadata naming a declaration and where it is.
    pub fn origin(&self, declaration: impl Into<String>, span: Span) -> ResourceMetadata {
        ResourceMetadata {
            flowc: Origin {
                source: Some(source_location(self.sources, span)),
                declaration: declaration.into(),
                notes: Vec::new(),
                span: Some(span),
            },
            checkov: None,
        }
    }

    /// Metadata of a project-wide resource.
    pub fn project_origin(&self, what: &str) -> ResourceMetadata {
        ResourceMetadata {
            flowc: Origin {
                source: None,
                declaration: format!("project {} ({what})", self.model.project),
                notes: Vec::new(),
                span: None,
            },
            checkov: None,
        }
    }

    /// Logical ids of the media buckets of S3 triggers, by declared bucket.
    pub fn media_buckets(&self) -> &BTreeMap<String, String> {
        &self.media_buckets
    }
}

/// Adds checkov skips to a resource's metadata.
pub(crate) fn with_skips(
    mut metadata: ResourceMetadata,
    skips: &[(&str, &str)],
) -> ResourceMetadata {
    if skips.is_empty() {
        return metadata;
    }
    let mut list = metadata.checkov.map(|c| c.skip).unwrap_or_default();
    list.extend(skips.iter().map(|(id, comment)| Skip {
        id: id.to_string(),
        comment: comment.to_string(),
    }));
    metadata.checkov = Some(CheckovSkips { skip: list });
    metadata
}

/// Adds explanatory notes to a resource's metadata.
pub(crate) fn with_notes(mut metadata: ResourceMetadata, notes: Vec<String>) -> ResourceMetadata {
    metadata.flowc.notes.extend(notes);
    metadata
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check, CheckOptions};

    const PROJECT: &str = r#"
event Upload {
  source      "acme.up"
  detail_type "upload"
  profile     { user_id: string }
  data        { file: object, size: int }
}
trigger Files = s3 "acme-uploads" prefix "in/" suffix ".wav" -> Upload
trigger Post  = http "/ingest/upload" -> Upload
filter Batch = counter(Upload) {
  key   profile.user_id
  every 5 events or 60s
  emit  Batched
}
view Speech = transcriber(Upload) {
  media    data.file
  language "en-US"
  emit     Transcript
}
app Store {
  sink Docs = s3(Transcript) { key "t/{{profile.user_id}}.json" }
  sink Hook = webhook(Batched) { url "https://example.com/hook" secret "hook-key" }
}
"#;

    fn template() -> Template {
        let sources = SourceSet::single("p.flow", PROJECT);
        let checked = check(
            &sources,
            &CheckOptions {
                project: "demo".to_string(),
            },
        );
        let model = checked.model.expect("test project checks");
        emit_template(&model, &sources)
    }

    #[test]
    fn yaml_and_json_say_the_same() {
        let template = template();
        let json = serde_json::to_value(&template).expect("json");
        let yaml = serde_saphyr::to_string(&template).expect("yaml");
        // Long-form intrinsics; serde-saphyr quotes keys with colons.
        assert!(yaml.contains("\"Fn::GetAtt\":"), "{yaml}");
        assert!(
            yaml.contains("AWSTemplateFormatVersion: '2010-09-09'")
                || yaml.contains("AWSTemplateFormatVersion: \"2010-09-09\""),
            "{yaml}"
        );
        let back: serde_json::Value = serde_saphyr::from_str(&yaml).expect("yaml parses");
        assert_eq!(back, json);
    }

    #[test]
    fn intrinsics_serialize_to_their_json_forms() {
        let cases = [
            (Expr::reference("Bus"), serde_json::json!({ "Ref": "Bus" })),
            (
                Expr::get_att("Bus", "Arn"),
                serde_json::json!({ "Fn::GetAtt": ["Bus", "Arn"] }),
            ),
            (
                Expr::sub("a-${Stage}"),
                serde_json::json!({ "Fn::Sub": "a-${Stage}" }),
            ),
            (Expr::sub("plain"), serde_json::json!("plain")),
            (
                Expr::Join(",".into(), vec![Expr::str("a"), Expr::reference("B")]),
                serde_json::json!({ "Fn::Join": [",", ["a", { "Ref": "B" }]] }),
            ),
        ];
        for (expr, expected) in cases {
            assert_eq!(expr.to_json(), expected);
        }
    }

    #[test]
    fn triggers_sinks_and_flush_are_wired() {
        let doc = serde_json::to_value(template()).expect("json");
        let r = &doc["Resources"];
        let key = &r["FilesS3Rule"]["Properties"]["EventPattern"]["detail"]["object"]["key"];
        assert_eq!(key, &serde_json::json!([{ "wildcard": "in/*.wav" }]));
        assert!(r["FilesS3Rule"]["Properties"].get("EventBusName").is_none());
        assert_eq!(
            r["PostIngestRoute"]["Properties"]["RouteKey"],
            "POST /ingest/upload"
        );
        assert_eq!(
            r["PostIngestRoute"]["Properties"]["AuthorizationType"],
            "AWS_IAM"
        );
        assert_eq!(
            r["BatchFlushRule"]["Properties"]["ScheduleExpression"],
            FLUSH_RATE_FOR_TESTS
        );
        assert!(r.get("SpeechFlushRule").is_none());
        assert_eq!(r["HookKeySecret"]["Type"], "AWS::SecretsManager::Secret");
        let sink_env = &r["StoreSinkFunction"]["Properties"]["Environment"]["Variables"];
        assert_eq!(sink_env["FLOW_ROLE"], "sink");
        let bucket = &r["AcmeUploadsTriggerBucket"]["Properties"];
        assert_eq!(
            bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"],
            true
        );
        let routes = super::api::event_store_routes();
        let ids: Vec<&str> = routes.iter().map(|(_, id)| id.as_str()).collect();
        assert!(ids.contains(&"EventStoreApiRouteGetEvents"), "{ids:?}");
        assert!(ids.contains(&"EventStoreApiRoutePutEvent"), "{ids:?}");
        assert!(!ids.iter().any(|id| id.contains("Ingest")), "{ids:?}");
        for (key, id) in &routes {
            assert_eq!(&r[id]["Properties"]["RouteKey"], key);
            assert_eq!(r[&id]["Properties"]["AuthorizationType"], "AWS_IAM");
        }
    }

    const FLUSH_RATE_FOR_TESTS: &str = routing::FLUSH_RATE;
}
