//! The typed CloudFormation template model: serde structs of the template,
//! its resources and their properties, and the intrinsic functions as a
//! small enum. Serializes to the JSON and YAML CloudFormation reads (YAML
//! uses the long `Fn::GetAtt:` form of intrinsics).
//! Invariant: every map is a `BTreeMap` and no value depends on a clock, so
//! the same model gives byte-identical output.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

/// A whole template.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    pub aws_template_format_version: String,
    pub description: String,
    pub metadata: TemplateMetadata,
    pub parameters: BTreeMap<String, Parameter>,
    pub resources: BTreeMap<String, Resource>,
    pub outputs: BTreeMap<String, Output>,
}

/// Template-level metadata: what flowc knows about the project that has no
/// resource of its own (SDK triggers).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TemplateMetadata {
    pub flowc: ProjectInfo,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProjectInfo {
    pub project: String,
    /// Events clients put on the bus themselves (`trigger … = sdk`); they
    /// need `events:PutEvents` on the bus ARN (output `BusArn`).
    #[serde(rename = "sdk-triggers", skip_serializing_if = "Vec::is_empty")]
    pub sdk_triggers: Vec<SdkTrigger>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SdkTrigger {
    pub trigger: String,
    pub event: String,
    pub source: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub location: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    #[serde(rename = "Type")]
    pub kind: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint_description: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub description: String,
    pub value: Expr,
    pub export: Export,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Export {
    pub name: Expr,
}

/// A value that CloudFormation may compute: a literal or an intrinsic.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Str(String),
    Ref(String),
    GetAtt(String, String),
    Sub(String),
    Join(String, Vec<Expr>),
}

impl Expr {
    pub fn str(s: impl Into<String>) -> Self {
        Expr::Str(s.into())
    }
    pub fn reference(id: impl Into<String>) -> Self {
        Expr::Ref(id.into())
    }
    pub fn get_att(id: impl Into<String>, attribute: impl Into<String>) -> Self {
        Expr::GetAtt(id.into(), attribute.into())
    }
    /// `Fn::Sub`; a text without `${` is a plain string (cfn-lint W1020).
    pub fn sub(s: impl Into<String>) -> Self {
        let s = s.into();
        if s.contains("${") {
            Expr::Sub(s)
        } else {
            Expr::Str(s)
        }
    }
    /// The JSON form, for places typed as free JSON (event patterns).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Expr::Str(s) => serializer.serialize_str(s),
            Expr::Ref(id) => one_key(serializer, "Ref", id),
            Expr::GetAtt(id, attribute) => one_key(serializer, "Fn::GetAtt", &[id, attribute]),
            Expr::Sub(s) => one_key(serializer, "Fn::Sub", s),
            Expr::Join(sep, parts) => {
                one_key(serializer, "Fn::Join", &(sep.as_str(), parts.as_slice()))
            }
        }
    }
}

fn one_key<S: Serializer, T: Serialize + ?Sized>(
    serializer: S,
    key: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

/// One resource: type and properties (from [`Properties`]), plus the
/// attributes every resource may carry.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    #[serde(flatten)]
    pub properties: Properties,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_replace_policy: Option<String>,
    pub metadata: ResourceMetadata,
}

impl Resource {
    pub fn new(properties: Properties, metadata: ResourceMetadata) -> Self {
        Resource {
            properties,
            depends_on: Vec::new(),
            deletion_policy: None,
            update_replace_policy: None,
            metadata,
        }
    }

    /// Keeps the data when the stack is deleted or the resource replaced.
    pub fn retained(mut self) -> Self {
        self.deletion_policy = Some("Retain".to_string());
        self.update_replace_policy = Some("Retain".to_string());
        self
    }
}

/// Where a resource came from, and the checks skipped on it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ResourceMetadata {
    pub flowc: Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkov: Option<CheckovSkips>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Origin {
    /// `file.flow:12`, or `None` for project-wide resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The declaration, e.g. `filter FrameSampler`.
    pub declaration: String,
    /// Why something in the resource is as it is, where that is not obvious.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The declaration's span, for diagnostics about the deployed resource
    /// (`flowc deploy` maps a failed resource back to it); not serialized.
    #[serde(skip)]
    pub span: Option<crate::syntax::span::Span>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckovSkips {
    pub skip: Vec<Skip>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Skip {
    pub id: String,
    pub comment: String,
}

/// Resource types and their typed properties.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "Type", content = "Properties")]
pub enum Properties {
    #[serde(rename = "AWS::Events::EventBus")]
    EventBus(EventBus),
    #[serde(rename = "AWS::Events::Rule")]
    Rule(Rule),
    #[serde(rename = "AWS::Lambda::Function")]
    Function(Box<Function>),
    #[serde(rename = "AWS::Lambda::Permission")]
    Permission(Permission),
    #[serde(rename = "AWS::IAM::Role")]
    Role(Role),
    #[serde(rename = "AWS::Logs::LogGroup")]
    LogGroup(LogGroup),
    #[serde(rename = "AWS::SQS::Queue")]
    Queue(Queue),
    #[serde(rename = "AWS::SQS::QueuePolicy")]
    QueuePolicy(QueuePolicy),
    #[serde(rename = "AWS::DynamoDB::Table")]
    Table(Box<Table>),
    #[serde(rename = "AWS::S3::Bucket")]
    Bucket(Box<Bucket>),
    #[serde(rename = "AWS::S3::BucketPolicy")]
    BucketPolicy(BucketPolicy),
    #[serde(rename = "AWS::ApiGatewayV2::Api")]
    HttpApi(HttpApi),
    #[serde(rename = "AWS::ApiGatewayV2::Stage")]
    ApiStage(ApiStage),
    #[serde(rename = "AWS::ApiGatewayV2::Integration")]
    ApiIntegration(ApiIntegration),
    #[serde(rename = "AWS::ApiGatewayV2::Route")]
    ApiRoute(ApiRoute),
    #[serde(rename = "AWS::EventSchemas::Registry")]
    SchemaRegistry(SchemaRegistry),
    #[serde(rename = "AWS::EventSchemas::Schema")]
    Schema(Schema),
    #[serde(rename = "AWS::SecretsManager::Secret")]
    Secret(Secret),
    #[serde(rename = "AWS::QBusiness::Application")]
    QApplication(super::qbusiness::QApplication),
    #[serde(rename = "AWS::QBusiness::Index")]
    QIndex(super::qbusiness::QIndex),
    #[serde(rename = "AWS::QBusiness::Retriever")]
    QRetriever(super::qbusiness::QRetriever),
    #[serde(rename = "AWS::QBusiness::DataSource")]
    QDataSource(super::qbusiness::QDataSource),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventBus {
    pub name: Expr,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    pub name: Expr,
    pub description: String,
    /// `None`: the account's default bus (S3 notifications, schedules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_bus_name: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_pattern: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<String>,
    pub state: String,
    pub targets: Vec<Target>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    pub id: String,
    pub arn: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    pub retry_policy: RetryPolicy,
    pub dead_letter_config: ArnConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    pub maximum_retry_attempts: u32,
    pub maximum_event_age_in_seconds: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArnConfig {
    pub arn: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    pub function_name: Expr,
    pub description: String,
    pub runtime: String,
    pub handler: String,
    pub architectures: Vec<String>,
    pub code: Code,
    pub memory_size: u32,
    pub timeout: u32,
    pub role: Expr,
    pub environment: Environment,
    pub logging_config: LoggingConfig,
    pub dead_letter_config: TargetArnConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Code {
    pub s3_bucket: Expr,
    pub s3_key: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    pub variables: BTreeMap<String, Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    pub log_group: Expr,
    pub log_format: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetArnConfig {
    pub target_arn: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission {
    pub action: String,
    pub function_name: Expr,
    pub principal: String,
    pub source_arn: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_account: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    pub description: String,
    pub assume_role_policy_document: PolicyDocument,
    pub policies: Vec<InlinePolicy>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    pub policy_name: String,
    pub policy_document: PolicyDocument,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: String,
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    pub fn new(statement: Vec<Statement>) -> Self {
        PolicyDocument {
            version: "2012-10-17".to_string(),
            statement,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub sid: String,
    pub effect: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    pub action: Vec<String>,
    /// Empty in trust policies, which name no resource.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Value>,
}

impl Statement {
    /// An `Allow` of `actions` on `resources`.
    pub fn allow(sid: &str, actions: &[&str], resource: Vec<Expr>) -> Self {
        Statement {
            sid: sid.to_string(),
            effect: "Allow".to_string(),
            principal: None,
            action: actions.iter().map(|a| a.to_string()).collect(),
            resource,
            condition: None,
        }
    }

    pub fn with_principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    pub fn with_condition(mut self, condition: Value) -> Self {
        self.condition = Some(condition);
        self
    }
}

/// A policy principal: a service, or anyone (`"*"`, only in `Deny`).
#[derive(Clone, Debug, PartialEq)]
pub enum Principal {
    Service(String),
    Anyone,
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Principal::Service(service) => one_key(serializer, "Service", service),
            Principal::Anyone => serializer.serialize_str("*"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    pub log_group_name: Expr,
    pub retention_in_days: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Queue {
    pub sqs_managed_sse_enabled: bool,
    pub message_retention_period: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueuePolicy {
    pub queues: Vec<Expr>,
    pub policy_document: PolicyDocument,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Table {
    pub billing_mode: String,
    pub attribute_definitions: Vec<AttributeDefinition>,
    pub key_schema: Vec<KeySchema>,
    pub time_to_live_specification: TimeToLive,
    pub point_in_time_recovery_specification: PointInTimeRecovery,
    #[serde(rename = "SSESpecification")]
    pub sse_specification: SseSpecification,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    pub attribute_name: String,
    pub attribute_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchema {
    pub attribute_name: String,
    pub key_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLive {
    pub attribute_name: String,
    pub enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PointInTimeRecovery {
    pub point_in_time_recovery_enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SseSpecification {
    #[serde(rename = "SSEEnabled")]
    pub sse_enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Bucket {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_name: Option<Expr>,
    pub bucket_encryption: BucketEncryption,
    pub public_access_block_configuration: PublicAccessBlock,
    pub ownership_controls: OwnershipControls,
    pub versioning_configuration: Versioning,
    pub lifecycle_configuration: Lifecycle,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_configuration: Option<BucketLogging>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_configuration: Option<NotificationConfiguration>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEncryption {
    pub server_side_encryption_configuration: Vec<EncryptionRule>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionRule {
    pub server_side_encryption_by_default: EncryptionByDefault,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EncryptionByDefault {
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub block_public_policy: bool,
    pub ignore_public_acls: bool,
    pub restrict_public_buckets: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControls {
    pub rules: Vec<OwnershipRule>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipRule {
    pub object_ownership: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Versioning {
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Lifecycle {
    pub rules: Vec<LifecycleRule>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    pub id: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_in_days: Option<u32>,
    pub noncurrent_version_expiration: NoncurrentExpiration,
    pub abort_incomplete_multipart_upload: AbortMultipart,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NoncurrentExpiration {
    pub noncurrent_days: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AbortMultipart {
    pub days_after_initiation: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketLogging {
    pub destination_bucket_name: Expr,
    pub log_file_prefix: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationConfiguration {
    pub event_bridge_configuration: EventBridgeConfiguration,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventBridgeConfiguration {
    pub event_bridge_enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketPolicy {
    pub bucket: Expr,
    pub policy_document: PolicyDocument,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpApi {
    pub name: Expr,
    pub description: String,
    pub protocol_type: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiStage {
    pub api_id: Expr,
    pub stage_name: String,
    pub auto_deploy: bool,
    pub access_log_settings: AccessLogSettings,
    pub default_route_settings: RouteSettings,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessLogSettings {
    pub destination_arn: Expr,
    pub format: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteSettings {
    pub throttling_burst_limit: u32,
    pub throttling_rate_limit: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiIntegration {
    pub api_id: Expr,
    pub integration_type: String,
    pub integration_uri: Expr,
    pub payload_format_version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiRoute {
    pub api_id: Expr,
    pub route_key: String,
    pub authorization_type: String,
    pub target: Expr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SchemaRegistry {
    pub registry_name: Expr,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Schema {
    pub registry_name: Expr,
    pub schema_name: String,
    pub description: String,
    #[serde(rename = "Type")]
    pub kind: String,
    pub content: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Secret {
    pub name: Expr,
    pub description: String,
    pub generate_secret_string: GenerateSecretString,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateSecretString {
    pub password_length: u32,
    pub exclude_punctuation: bool,
}
