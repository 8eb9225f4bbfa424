//! Amazon Q Business for apps whose `s3` sinks say `search amazon_q`
//! (docs/apps.md, "Querying on AWS").
//!
//! Per such app: an application (users sign in through IAM Identity
//! Center, whose instance ARN is the template parameter
//! [`IDENTITY_CENTER_PARAMETER`]), a starter index of one unit, a native
//! retriever over it, an S3 data source crawling the fixed key prefixes of
//! the app's searchable sinks in the project bucket every hour, and the
//! role the data source crawls with: read those prefixes, write documents
//! into exactly that index.

use serde::Serialize;
use serde_json::{json, Value};

use super::names;
use super::template::{
    InlinePolicy, Parameter, PolicyDocument, Principal, Properties, Resource, Role, Statement,
};
use super::{ids, Builder, Expr};
use crate::check::model::{App, DocumentSearch, SinkKind};
use crate::codegen::logical_id;

/// The template parameter naming the IAM Identity Center instance.
pub const IDENTITY_CENTER_PARAMETER: &str = "AmazonQIdentityCenterInstanceArn";
/// How often the data source re-crawls the prefixes.
const SYNC_SCHEDULE: &str = "cron(0 * * * ? *)";

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QApplication {
    pub display_name: Expr,
    pub description: String,
    pub identity_type: String,
    pub identity_center_instance_arn: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QIndex {
    pub application_id: Expr,
    pub display_name: Expr,
    #[serde(rename = "Type")]
    pub kind: String,
    pub capacity_configuration: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QRetriever {
    pub application_id: Expr,
    pub display_name: Expr,
    #[serde(rename = "Type")]
    pub kind: String,
    pub configuration: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QDataSource {
    pub application_id: Expr,
    pub index_id: Expr,
    pub display_name: Expr,
    pub description: String,
    pub role_arn: Expr,
    pub sync_schedule: String,
    pub configuration: Value,
}

/// The Identity Center parameter, when some app is searchable.
pub(crate) fn parameter(b: &Builder) -> Option<(String, Parameter)> {
    b.model.apps.iter().any(|a| !prefixes(a).is_empty()).then(|| {
        (
            IDENTITY_CENTER_PARAMETER.to_string(),
            Parameter {
                kind: "String".to_string(),
                description: "ARN of the IAM Identity Center instance Amazon Q Business users \
                              sign in with (arn:aws:sso:::instance/ssoins-…)"
                    .to_string(),
                default: None,
                allowed_pattern: Some(
                    "^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$"
                        .to_string(),
                ),
                min_length: None,
                max_length: None,
                constraint_description: Some(
                    "an IAM Identity Center instance ARN".to_string(),
                ),
            },
        )
    })
}

/// The fixed key prefixes (up to the first `{{`) of an app's searchable
/// sinks, sorted and without duplicates.
fn prefixes(app: &App) -> Vec<String> {
    let mut out: Vec<String> = app
        .sinks
        .iter()
        .filter_map(|s| match &s.kind {
            SinkKind::S3 {
                key_template,
                search: Some(DocumentSearch::AmazonQ),
                ..
            } => Some(key_template.split("{{").next().unwrap_or("").to_string()),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The Amazon Q Business resources of every searchable app.
pub(crate) fn emit_amazon_q(b: &mut Builder) {
    let apps = b.model.apps.clone();
    for app in &apps {
        let prefixes = prefixes(app);
        if !prefixes.is_empty() {
            emit_app(b, app, &prefixes);
        }
    }
}

fn emit_app(b: &mut Builder, app: &App, prefixes: &[String]) {
    let project = &b.model.project;
    let application = logical_id(&app.name, "QApplication");
    let index = logical_id(&app.name, "QIndex");
    let retriever = logical_id(&app.name, "QRetriever");
    let source = logical_id(&app.name, "QDataSource");
    let role = logical_id(&app.name, "QDataSourceRole");
    let name = |suffix: &str| {
        names::physical(
            &display_safe(project),
            &format!("{}-{suffix}", display_safe(&app.name)),
        )
    };
    let searchable: Vec<&str> = app
        .sinks
        .iter()
        .filter(|s| {
            matches!(
                s.kind,
                SinkKind::S3 {
                    search: Some(_),
                    ..
                }
            )
        })
        .map(|s| s.name.as_str())
        .collect();
    let origin = |b: &Builder, what: &str| {
        let span = app
            .sinks
            .iter()
            .find(|s| s.name == searchable[0])
            .map_or(app.span, |s| s.span);
        b.origin(
            format!("app {} ({what}; sinks {})", app.name, searchable.join(", ")),
            span,
        )
    };
    let app_id = Expr::get_att(&application, "ApplicationId");
    let index_id = Expr::get_att(&index, "IndexId");

    let description = app
        .settings
        .get("description")
        .cloned()
        .unwrap_or_else(|| format!("Documents of app {}", app.name));
    let metadata = origin(b, "Amazon Q Business application");
    b.add(
        &application,
        Resource::new(
            Properties::QApplication(QApplication {
                display_name: name("q"),
                description: super::truncate(&description, 1000),
                identity_type: "AWS_IAM_IDC".to_string(),
                identity_center_instance_arn: Expr::reference(IDENTITY_CENTER_PARAMETER),
            }),
            metadata,
        ),
    );
    let metadata = origin(b, "Amazon Q Business index");
    b.add(
        &index,
        Resource::new(
            Properties::QIndex(QIndex {
                application_id: app_id.clone(),
                display_name: name("index"),
                kind: "STARTER".to_string(),
                capacity_configuration: json!({ "Units": 1 }),
            }),
            metadata,
        ),
    );
    let metadata = origin(b, "Amazon Q Business retriever");
    b.add(
        &retriever,
        Resource::new(
            Properties::QRetriever(QRetriever {
                application_id: app_id.clone(),
                display_name: name("retriever"),
                kind: "NATIVE_INDEX".to_string(),
                configuration: json!({
                    "NativeIndexConfiguration": { "IndexId": index_id.to_json() }
                }),
            }),
            metadata,
        ),
    );
    let metadata = origin(b, "role of the Amazon Q Business data source");
    b.add(
        &role,
        Resource::new(
            Properties::Role(data_source_role(app, prefixes, &application, &index)),
            metadata,
        ),
    );
    let metadata = origin(b, "Amazon Q Business S3 data source");
    b.add(
        &source,
        Resource::new(
            Properties::QDataSource(QDataSource {
                application_id: app_id,
                index_id,
                display_name: name("documents"),
                description: super::truncate(
                    &format!(
                        "Documents the sinks {} of app {} write under {}",
                        searchable.join(", "),
                        app.name,
                        prefixes.join(", ")
                    ),
                    1000,
                ),
                role_arn: Expr::get_att(&role, "Arn"),
                sync_schedule: SYNC_SCHEDULE.to_string(),
                configuration: json!({
                    "type": "S3",
                    "syncMode": "FULL_CRAWL",
                    "connectionConfiguration": {
                        "repositoryEndpointMetadata": {
                            "BucketName": Expr::reference(ids::BUCKET).to_json()
                        }
                    },
                    "repositoryConfigurations": {
                        "document": {
                            "fieldMappings": [{
                                "indexFieldName": "s3_document_id",
                                "indexFieldType": "STRING",
                                "dataSourceFieldName": "s3_document_id"
                            }]
                        }
                    },
                    "additionalProperties": {
                        "inclusionPrefixes": prefixes,
                        "exclusionPatterns": [],
                        "inclusionPatterns": [],
                        "exclusionPrefixes": [],
                        "maxFileSizeInMegaBytes": "50"
                    }
                }),
            }),
            metadata,
        ),
    );
}

/// Read the prefixes, write into the one index; assumable only by Amazon Q
/// on behalf of this account's application.
fn data_source_role(app: &App, prefixes: &[String], application: &str, index: &str) -> Role {
    let application_arn = Expr::get_att(application, "ApplicationArn");
    let index_arn = Expr::get_att(index, "IndexArn");
    let objects: Vec<Expr> = prefixes
        .iter()
        .map(|p| super::functions::objects_of(ids::BUCKET, p))
        .collect();
    let listed: Vec<String> = prefixes.iter().map(|p| format!("{p}*")).collect();
    Role {
        description: format!(
            "Amazon Q Business crawls the documents of app {} with this role",
            app.name
        ),
        assume_role_policy_document: PolicyDocument::new(vec![Statement::allow(
            "AmazonQAssumesRole",
            &["sts:AssumeRole"],
            Vec::new(),
        )
        .with_principal(Principal::Service("qbusiness.amazonaws.com".to_string()))
        .with_condition(json!({
            "StringEquals": { "aws:SourceAccount": Expr::reference("AWS::AccountId").to_json() },
            "ArnEquals": { "aws:SourceArn": application_arn.to_json() }
        }))]),
        policies: vec![InlinePolicy {
            policy_name: "amazon-q-data-source".to_string(),
            policy_document: PolicyDocument::new(vec![
                Statement::allow("ReadDocuments", &["s3:GetObject"], objects),
                Statement::allow(
                    "ListDocuments",
                    &["s3:ListBucket"],
                    vec![Expr::get_att(ids::BUCKET, "Arn")],
                )
                .with_condition(json!({ "StringLike": { "s3:prefix": listed } })),
                Statement::allow(
                    "IndexDocuments",
                    &[
                        "qbusiness:BatchPutDocument",
                        "qbusiness:BatchDeleteDocument",
                    ],
                    vec![index_arn.clone()],
                ),
                Statement::allow(
                    "MapPrincipals",
                    &[
                        "qbusiness:PutGroup",
                        "qbusiness:CreateUser",
                        "qbusiness:DeleteGroup",
                        "qbusiness:UpdateUser",
                        "qbusiness:ListGroups",
                    ],
                    vec![
                        application_arn,
                        index_arn,
                        Expr::Sub(format!("${{{index}.IndexArn}}/data-source/*")),
                    ],
                ),
            ]),
        }],
    }
}

/// Amazon Q display names allow letters, digits, `_` and `-`.
fn display_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}
