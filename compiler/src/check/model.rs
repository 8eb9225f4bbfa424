//! The checked model: what `check` hands to the backends. Names are
//! resolved, every event has a schema, every node its typed parameters and
//! every route its EventBridge pattern. Built only by `check`.

use std::collections::BTreeMap;
use std::fmt;

use crate::syntax::ast::{NodeClass, Span};

/// A field type of an event schema.
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    String,
    Int,
    Float,
    Bool,
    /// An RFC 3339 string on the wire.
    Timestamp,
    /// A JSON number of milliseconds on the wire.
    Duration,
    /// A reference to an S3 object (see [`object_record`]).
    Object,
    List(Box<Type>),
    Record(Record),
    /// One of the listed string literals.
    Union(Vec<String>),
}

impl Type {
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Float | Type::Duration)
    }

    /// Types whose values are JSON strings.
    pub fn is_stringy(&self) -> bool {
        matches!(self, Type::String | Type::Timestamp | Type::Union(_))
    }

    /// A scalar leaf (EventBridge can match it directly).
    pub fn is_scalar(&self) -> bool {
        !matches!(self, Type::Record(_) | Type::Object | Type::List(_))
    }

    /// The record a path can continue into, if any.
    pub fn as_record(&self) -> Option<Record> {
        match self {
            Type::Record(r) => Some(r.clone()),
            Type::Object => Some(object_record()),
            _ => None,
        }
    }

    /// For `list<T>`, `T`; EventBridge looks through arrays, and so do paths.
    pub fn element(&self) -> &Type {
        match self {
            Type::List(inner) => inner.element(),
            other => other,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => f.write_str("string"),
            Type::Int => f.write_str("int"),
            Type::Float => f.write_str("float"),
            Type::Bool => f.write_str("bool"),
            Type::Timestamp => f.write_str("timestamp"),
            Type::Duration => f.write_str("duration"),
            Type::Object => f.write_str("object"),
            Type::List(t) => write!(f, "list<{t}>"),
            Type::Record(r) => write!(f, "{r}"),
            Type::Union(members) => {
                let quoted: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
                f.write_str(&quoted.join(" | "))
            }
        }
    }
}

/// A field of a record. Equality ignores where it was declared.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    pub optional: bool,
    /// Where it was declared; `None` for inferred fields.
    pub span: Option<Span>,
}

impl PartialEq for Field {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.ty == other.ty && self.optional == other.optional
    }
}

/// An ordered record of fields.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Record {
    pub fields: Vec<Field>,
}

impl Record {
    pub fn get(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }

    /// Adds or replaces a field.
    pub fn set(&mut self, field: Field) {
        match self.fields.iter_mut().find(|f| f.name == field.name) {
            Some(existing) => *existing = field,
            None => self.fields.push(field),
        }
    }

    pub fn field(name: &str, ty: Type) -> Field {
        Field {
            name: name.to_string(),
            ty,
            optional: false,
            span: None,
        }
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{ ")?;
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let mark = if field.optional { "?" } else { "" };
            write!(f, "{}: {}{}", field.name, field.ty, mark)?;
        }
        f.write_str(" }")
    }
}

/// The fields of an `object` (an S3 object reference).
pub fn object_record() -> Record {
    let opt = |name: &str, ty: Type| Field {
        name: name.to_string(),
        ty,
        optional: true,
        span: None,
    };
    Record {
        fields: vec![
            Record::field("bucket", Type::String),
            Record::field("key", Type::String),
            opt("size", Type::Int),
            opt("etag", Type::String),
            opt("content_type", Type::String),
            opt("version_id", Type::String),
        ],
    }
}

/// The three envelope records every event has, in this order.
pub const ENVELOPE: [&str; 3] = ["profile", "data", "application"];

/// The schema of an event's `detail`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Schema {
    pub profile: Record,
    pub data: Record,
    pub application: Record,
}

impl Schema {
    pub fn record(&self, name: &str) -> Option<&Record> {
        match name {
            "profile" => Some(&self.profile),
            "data" => Some(&self.data),
            "application" => Some(&self.application),
            _ => None,
        }
    }

    pub fn record_mut(&mut self, name: &str) -> Option<&mut Record> {
        match name {
            "profile" => Some(&mut self.profile),
            "data" => Some(&mut self.data),
            "application" => Some(&mut self.application),
            _ => None,
        }
    }

    /// The whole detail as one record type.
    pub fn as_record(&self) -> Record {
        Record {
            fields: ENVELOPE
                .iter()
                .map(|name| {
                    let rec = self.record(name).cloned().unwrap_or_default();
                    Record::field(name, Type::Record(rec))
                })
                .collect(),
        }
    }
}

/// Where an event comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum EventOrigin {
    /// Declared with `event`.
    Declared,
    /// Inferred from a node's `emit`.
    Emitted { node: String },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub name: String,
    pub source: String,
    pub detail_type: String,
    pub schema: Schema,
    pub origin: EventOrigin,
    pub span: Span,
}

/// A trigger: how raw events enter the bus.
#[derive(Clone, Debug, PartialEq)]
pub struct Trigger {
    pub name: String,
    pub kind: TriggerKind,
    pub event: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TriggerKind {
    Sdk,
    Http {
        path: String,
    },
    S3 {
        bucket: String,
        prefix: Option<String>,
        suffix: Option<String>,
    },
}

/// An aggregate function of an aggregator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregateFn {
    Count,
    Sum,
    Min,
    Max,
    Avg,
}

/// What a mapping entry reads.
#[derive(Clone, Debug, PartialEq)]
pub enum MapValue {
    /// A path into an input event (`event` names the input for combiners).
    Path {
        event: String,
        path: Vec<String>,
    },
    /// A value the node itself produces: `count`, `output`, `item` …
    Builtin {
        name: String,
        path: Vec<String>,
    },
    /// An aggregate declared in `aggregate { … }`.
    Aggregate(String),
    Literal(serde_json::Value),
    Record(Vec<(String, MapValue)>),
}

/// The `emit` of a node: event name and, when given, the field mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Emit {
    pub event: String,
    pub mapping: Option<Vec<(String, MapValue)>>,
}

/// Kind-specific parameters of a node, checked.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Counter {
        key: Vec<String>,
        count: Option<u64>,
        window_ms: Option<u64>,
    },
    Aggregator {
        key: Vec<String>,
        count: Option<u64>,
        window_ms: Option<u64>,
        collect: Vec<(String, Vec<String>)>,
        aggregates: Vec<(String, AggregateFn, Option<Vec<String>>)>,
    },
    Stitcher {
        key: Vec<String>,
        content: Vec<String>,
        content_is_object: bool,
        order_by: Vec<String>,
        count: Option<u64>,
        window_ms: Option<u64>,
    },
    Dedupe {
        key: Vec<String>,
        window_ms: u64,
    },
    Splitter {
        over: Vec<String>,
    },
    Combiner {
        key: Vec<String>,
        window_ms: u64,
    },
    Summarizer {
        image: Vec<String>,
        model: String,
        prompt: String,
        max_tokens: Option<u64>,
    },
    Transcriber {
        media: Vec<String>,
        language: String,
    },
    Custom {
        lambda_arn: String,
        command: String,
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

    /// Stateful nodes keep per-key state and can be inspected in tests.
    pub fn is_stateful(&self) -> bool {
        matches!(
            self,
            NodeKind::Counter { .. }
                | NodeKind::Aggregator { .. }
                | NodeKind::Stitcher { .. }
                | NodeKind::Dedupe { .. }
                | NodeKind::Combiner { .. }
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub name: String,
    pub class: NodeClass,
    pub kind: NodeKind,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub emit: Option<Emit>,
    pub span: Span,
}

/// A route: one EventBridge rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub name: String,
    pub event: String,
    pub targets: Vec<String>,
    /// The EventBridge event pattern, source and detail-type pinned.
    pub pattern: serde_json::Value,
    pub max_hops: Option<u64>,
    /// Routes the compiler added for node inputs without an explicit route.
    pub implicit: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Flow {
    pub name: String,
    pub steps: Vec<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SinkKind {
    S3 {
        key_template: String,
        format: String,
        body_template: Option<String>,
        /// `search amazon_q`: the documents are indexed for search on AWS.
        search: Option<DocumentSearch>,
    },
    DynamoDb {
        key: Vec<String>,
        sort: Option<Vec<String>>,
        ttl_ms: Option<u64>,
    },
    Webhook {
        url: String,
        secret: String,
        timeout_ms: Option<u64>,
    },
}

/// Who indexes an `s3` sink's documents on AWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentSearch {
    /// Amazon Q Business: an application, index, retriever and S3 data
    /// source over the sink's key prefix.
    AmazonQ,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sink {
    pub name: String,
    pub event: String,
    pub kind: SinkKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct App {
    pub name: String,
    pub nodes: Vec<String>,
    pub flows: Vec<String>,
    pub sinks: Vec<Sink>,
    pub settings: BTreeMap<String, String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TestStep {
    Given {
        event: String,
        detail: serde_json::Value,
        at_ms: Option<u64>,
    },
    Advance {
        by_ms: u64,
    },
    Expect {
        event: String,
        detail: Option<serde_json::Value>,
    },
    ExpectNone {
        event: String,
    },
    ExpectState {
        node: String,
        key: String,
        state: serde_json::Value,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Test {
    pub name: String,
    pub steps: Vec<(TestStep, Span)>,
    pub span: Span,
}

/// A checked project.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Model {
    pub project: String,
    pub events: BTreeMap<String, Event>,
    pub triggers: Vec<Trigger>,
    pub nodes: BTreeMap<String, Node>,
    pub routes: Vec<Route>,
    pub flows: Vec<Flow>,
    pub apps: Vec<App>,
    pub tests: Vec<Test>,
}
