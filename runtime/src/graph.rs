//! The compiled graph (`graph.json`): the contract between the compiler and
//! the runtime. The compiler writes it; the local engine and the Lambda
//! `bootstrap` read it. Defined once, here.
//!
//! Invariant: a graph the compiler wrote has passed every check; the runtime
//! trusts names to resolve and patterns to be valid, but checks
//! `format_version` before anything else.
//! Every element carries a [`SourceRef`] so runtime and deploy errors can
//! point back at the `.flow` line.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bumped whenever a reader of the previous version would misread the new one.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Graph {
    pub format_version: u32,
    /// The project name; derived events have source `flow.<project>`.
    pub project: String,
    pub events: BTreeMap<String, EventDef>,
    pub triggers: Vec<TriggerDef>,
    pub nodes: BTreeMap<String, NodeDef>,
    pub routes: Vec<RouteDef>,
    pub flows: Vec<FlowDef>,
    pub apps: Vec<AppDef>,
    pub tests: Vec<TestDef>,
}

/// Where a declaration is written: `file` relative to the project, 1-based
/// `line` and `column`, byte `offset` and `length`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRef {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub offset: u32,
    pub length: u32,
}

impl std::fmt::Display for SourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A field path such as `["profile", "session_id"]`.
pub type FieldPath = Vec<String>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventDef {
    pub name: String,
    pub source: String,
    pub detail_type: String,
    /// JSON Schema (draft 2020-12) of the whole event.
    pub schema: Value,
    /// The node that emits it, for derived events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emitted_by: Option<String>,
    pub span: SourceRef,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// No deny_unknown_fields: serde does not support it with `flatten`.
pub struct TriggerDef {
    pub name: String,
    #[serde(flatten)]
    pub kind: TriggerKind,
    pub event: String,
    pub span: SourceRef,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TriggerKind {
    Sdk,
    Http {
        path: String,
    },
    S3 {
        bucket: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        suffix: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeClass {
    Filter,
    Transformer,
    View,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// No deny_unknown_fields: serde does not support it with `flatten`.
pub struct NodeDef {
    pub name: String,
    pub class: NodeClass,
    #[serde(flatten)]
    pub kind: NodeKind,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emit: Option<Emit>,
    pub span: SourceRef,
}

/// `every N events or T`: fire on whichever comes first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collected {
    pub name: String,
    pub path: FieldPath,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateFn {
    Count,
    Sum,
    Min,
    Max,
    Avg,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    pub name: String,
    pub function: AggregateFn,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<FieldPath>,
}

/// Kind-specific parameters of a node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeKind {
    Counter {
        key: FieldPath,
        every: Threshold,
    },
    Aggregator {
        key: FieldPath,
        every: Threshold,
        collect: Vec<Collected>,
        aggregates: Vec<Aggregate>,
    },
    Stitcher {
        key: FieldPath,
        content: FieldPath,
        /// Bytes are concatenated (an object) or text is joined (a string).
        content_is_object: bool,
        order_by: FieldPath,
        every: Threshold,
    },
    Dedupe {
        key: FieldPath,
        window_ms: u64,
    },
    Splitter {
        over: FieldPath,
    },
    Combiner {
        key: FieldPath,
        window_ms: u64,
    },
    Summarizer {
        image: FieldPath,
        model: String,
        prompt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_tokens: Option<u64>,
    },
    Transcriber {
        media: FieldPath,
        language: String,
    },
    Custom {
        lambda_arn: String,
        command: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
}

impl NodeKind {
    pub fn name(&self) -> &'static str {
        match self {
            NodeKind::Counter { .. } => "counter",
            NodeKind::Aggregator { .. } => "aggregator",
            NodeKind::Stitcher { .. } => "stitcher",
            NodeKind::Dedupe { .. } => "dedupe",
            NodeKind::Splitter { .. } => "splitter",
            NodeKind::Combiner { .. } => "combiner",
            NodeKind::Summarizer { .. } => "summarizer",
            NodeKind::Transcriber { .. } => "transcriber",
            NodeKind::Custom { .. } => "custom",
        }
    }
}

/// What a node emits. Without a mapping the emitted `data` has the kind's
/// default shape (docs/language.md); `profile` and `application` are copied
/// from the (first) input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Emit {
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<Vec<MappingEntry>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingEntry {
    pub name: String,
    pub value: MapValue,
}

/// What a mapping entry reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum MapValue {
    /// A field of an input event (`event` names the input).
    Input {
        event: String,
        path: FieldPath,
    },
    /// A value the node produces: `count`, `output`, `item` …, and a path inside it.
    Builtin {
        name: String,
        path: FieldPath,
    },
    /// An aggregate of an aggregator.
    Aggregate {
        name: String,
    },
    Literal {
        value: Value,
    },
    Record {
        fields: Vec<MappingEntry>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteDef {
    /// The rule name (unique in the project).
    pub name: String,
    pub event: String,
    pub targets: Vec<String>,
    /// The EventBridge event pattern, source and detail-type pinned.
    pub pattern: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_hops: Option<u64>,
    /// Added by the compiler for a node input without an explicit route.
    pub implicit: bool,
    pub span: SourceRef,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowDef {
    pub name: String,
    pub steps: Vec<String>,
    pub span: SourceRef,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppDef {
    pub name: String,
    pub nodes: Vec<String>,
    pub flows: Vec<String>,
    pub sinks: Vec<SinkDef>,
    pub settings: BTreeMap<String, String>,
    pub span: SourceRef,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// No deny_unknown_fields: serde does not support it with `flatten`.
pub struct SinkDef {
    pub name: String,
    pub event: String,
    #[serde(flatten)]
    pub kind: SinkKind,
    pub span: SourceRef,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SinkKind {
    S3 {
        key_template: String,
        format: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body_template: Option<String>,
    },
    Dynamodb {
        key: FieldPath,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sort: Option<FieldPath>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl_ms: Option<u64>,
    },
    Webhook {
        url: String,
        secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestDef {
    pub name: String,
    pub steps: Vec<TestStepDef>,
    pub span: SourceRef,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// No deny_unknown_fields: serde does not support it with `flatten`.
pub struct TestStepDef {
    #[serde(flatten)]
    pub step: TestStep,
    pub span: SourceRef,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum TestStep {
    /// Publish an event whose `detail` is given, at `at_ms` after the start.
    Given {
        event: String,
        detail: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at_ms: Option<u64>,
    },
    Advance {
        by_ms: u64,
    },
    /// Some emitted event of this type matches `detail` partially.
    Expect {
        event: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<Value>,
    },
    ExpectNone {
        event: String,
    },
    ExpectState {
        node: String,
        key: String,
        state: Value,
    },
}

/// Why a graph could not be read.
#[derive(Debug)]
pub enum GraphError {
    Json(serde_json::Error),
    Version { found: u64 },
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraphError::Json(e) => write!(f, "graph.json is not a valid compiled graph: {e}"),
            GraphError::Version { found } => write!(
                f,
                "graph.json has format version {found}, this runtime reads version {FORMAT_VERSION}; rebuild with a matching flowc"
            ),
        }
    }
}

impl std::error::Error for GraphError {}

impl Graph {
    /// Reads a graph, checking the format version first so that a version
    /// mismatch is reported as such and not as a confusing field error.
    pub fn from_json(text: &str) -> Result<Graph, GraphError> {
        let value: Value = serde_json::from_str(text).map_err(GraphError::Json)?;
        let found = value
            .get("format_version")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if found != u64::from(FORMAT_VERSION) {
            return Err(GraphError::Version { found });
        }
        serde_json::from_value(value).map_err(GraphError::Json)
    }

    /// The canonical text form: pretty JSON, keys in a stable order.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}
