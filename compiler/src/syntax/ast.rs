//! The syntax tree of `.flow` files, as written, with a [`Span`] on every
//! node. Produced by `syntax::lower`, read by `check`. Names are not
//! resolved here and nothing is type-checked.

pub use super::span::{FileId, Name, Span, Spanned};

/// One parsed `.flow` file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub file: FileId,
    pub decls: Vec<Decl>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Decl {
    Event(EventDecl),
    Trigger(TriggerDecl),
    Node(NodeDecl),
    Route(RouteDecl),
    Flow(FlowDecl),
    App(AppDecl),
    Test(TestDecl),
}

impl Decl {
    pub fn span(&self) -> Span {
        match self {
            Decl::Event(d) => d.span,
            Decl::Trigger(d) => d.span,
            Decl::Node(d) => d.span,
            Decl::Route(d) => d.span,
            Decl::Flow(d) => d.span,
            Decl::App(d) => d.span,
            Decl::Test(d) => d.span,
        }
    }
}

// ------------------------------------------------------------------ events

/// `event Name { source "…" detail_type "…" profile { … } data { … } application { … } }`
#[derive(Clone, Debug, PartialEq)]
pub struct EventDecl {
    pub name: Name,
    pub source: Option<Spanned<String>>,
    pub detail_type: Option<Spanned<String>>,
    /// The envelope records (`profile`, `data`, `application`), in source order.
    pub records: Vec<RecordField>,
    pub span: Span,
}

/// One envelope record of an event: `data { image: object }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordField {
    pub name: Name,
    pub ty: RecordType,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RecordType {
    pub fields: Vec<FieldDecl>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDecl {
    pub name: Name,
    pub ty: TypeExpr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub optional: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// `string`, `int`, … (checked against the known scalar names later).
    Named(Name),
    List(Box<TypeExpr>),
    Record(RecordType),
    /// `"png" | "jpg"`
    Union(Vec<Spanned<String>>),
}

// ------------------------------------------------------------------ triggers

/// `trigger Name = s3 "bucket" prefix "p/" suffix ".png" -> Event`
#[derive(Clone, Debug, PartialEq)]
pub struct TriggerDecl {
    pub name: Name,
    pub kind: TriggerKind,
    pub event: Name,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TriggerKind {
    /// Clients call PutEvents with the AWS SDK.
    Sdk,
    /// An HTTP ingest route.
    Http { path: Spanned<String> },
    /// S3 object-created notifications of a bucket, optionally narrowed.
    S3 {
        bucket: Spanned<String>,
        prefix: Option<Spanned<String>>,
        suffix: Option<Spanned<String>>,
    },
}

// ------------------------------------------------------------------ nodes

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeClass {
    Filter,
    Transformer,
    View,
}

impl NodeClass {
    pub fn keyword(self) -> &'static str {
        match self {
            NodeClass::Filter => "filter",
            NodeClass::Transformer => "transformer",
            NodeClass::View => "view",
        }
    }
}

/// `filter Name = counter(Input) { key … every … emit … }`
#[derive(Clone, Debug, PartialEq)]
pub struct NodeDecl {
    pub class: Spanned<NodeClass>,
    pub name: Name,
    /// The node kind as written (`counter`, `summarizer`, `custom`, …).
    pub kind: Name,
    pub inputs: Vec<Name>,
    /// Declared outputs (`-> A, B`), used by custom nodes.
    pub outputs: Vec<Name>,
    pub params: Vec<Param>,
    pub span: Span,
}

/// One `name value` line in a node or sink body.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Name,
    pub value: ParamValue,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    Threshold(Threshold),
    Emit(Emit),
    Mapping(Mapping),
    String(Spanned<String>),
    Duration(Spanned<u64>),
    Number(Spanned<Number>),
    Bool(Spanned<bool>),
    Path(PathExpr),
}

impl ParamValue {
    pub fn span(&self) -> Span {
        match self {
            ParamValue::Threshold(t) => t.span,
            ParamValue::Emit(e) => e.span,
            ParamValue::Mapping(m) => m.span,
            ParamValue::String(s) => s.span,
            ParamValue::Duration(d) => d.span,
            ParamValue::Number(n) => n.span,
            ParamValue::Bool(b) => b.span,
            ParamValue::Path(p) => p.span,
        }
    }

    /// What kind of value this is, for "expected …, found …" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            ParamValue::Threshold(_) => "a threshold",
            ParamValue::Emit(_) => "an emit clause",
            ParamValue::Mapping(_) => "a mapping",
            ParamValue::String(_) => "a string",
            ParamValue::Duration(_) => "a duration",
            ParamValue::Number(_) => "a number",
            ParamValue::Bool(_) => "a boolean",
            ParamValue::Path(_) => "a field path",
        }
    }
}

/// A number literal: its text (kept for exact EventBridge patterns) and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    pub text: String,
    pub value: f64,
}

/// `every 10 events or 60s`: whichever comes first.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub count: Option<Spanned<u64>>,
    /// Milliseconds.
    pub time: Option<Spanned<u64>>,
    pub span: Span,
}

/// `emit Name { field: expr, … }`
#[derive(Clone, Debug, PartialEq)]
pub struct Emit {
    pub event: Name,
    pub mapping: Option<Mapping>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    pub entries: Vec<MappingEntry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MappingEntry {
    pub name: Name,
    pub value: MappingExpr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MappingExpr {
    Path(PathExpr),
    /// `sum(data.seconds)`, `count()`
    Call {
        func: Name,
        arg: Option<PathExpr>,
        span: Span,
    },
    String(Spanned<String>),
    Number(Spanned<Number>),
    Bool(Spanned<bool>),
    Record(Mapping),
}

impl MappingExpr {
    pub fn span(&self) -> Span {
        match self {
            MappingExpr::Path(p) => p.span,
            MappingExpr::Call { span, .. } => *span,
            MappingExpr::String(s) => s.span,
            MappingExpr::Number(n) => n.span,
            MappingExpr::Bool(b) => b.span,
            MappingExpr::Record(m) => m.span,
        }
    }
}

/// A dotted field path: `profile.session_id`.
#[derive(Clone, Debug, PartialEq)]
pub struct PathExpr {
    pub segments: Vec<Name>,
    pub span: Span,
}

impl PathExpr {
    pub fn dotted(&self) -> String {
        let parts: Vec<&str> = self.segments.iter().map(|s| s.node.as_str()).collect();
        parts.join(".")
    }
}

// ------------------------------------------------------------------ routes

/// `route [Name =] Event -> Node, … [when condition] [max_hops N]`
#[derive(Clone, Debug, PartialEq)]
pub struct RouteDecl {
    pub name: Option<Name>,
    pub event: Name,
    pub targets: Vec<Name>,
    pub when: Option<Condition>,
    pub max_hops: Option<Spanned<u64>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    Or(Vec<Condition>, Span),
    And(Vec<Condition>, Span),
    Not(Box<Condition>, Span),
    Compare(Comparison),
}

impl Condition {
    pub fn span(&self) -> Span {
        match self {
            Condition::Or(_, s) | Condition::And(_, s) | Condition::Not(_, s) => *s,
            Condition::Compare(c) => c.span,
        }
    }
}

/// `path op value [ignore_case]`
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub path: PathExpr,
    pub op: Spanned<CompareOp>,
    /// One literal for most operators, the list for `in`, none for `exists`.
    pub values: Vec<Spanned<Literal>>,
    pub ignore_case: Option<Span>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    StartsWith,
    EndsWith,
    Matches,
    Cidr,
    Exists,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::In => "in",
            CompareOp::NotIn => "not in",
            CompareOp::StartsWith => "starts_with",
            CompareOp::EndsWith => "ends_with",
            CompareOp::Matches => "matches",
            CompareOp::Cidr => "cidr",
            CompareOp::Exists => "exists",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    String(String),
    Number(Number),
    Bool(bool),
    Null,
}

impl Literal {
    pub fn describe(&self) -> &'static str {
        match self {
            Literal::String(_) => "a string",
            Literal::Number(_) => "a number",
            Literal::Bool(_) => "a boolean",
            Literal::Null => "null",
        }
    }
}

// ------------------------------------------------------------------ flows, apps

/// `flow Name { A -> B -> C }`
#[derive(Clone, Debug, PartialEq)]
pub struct FlowDecl {
    pub name: Name,
    pub steps: Vec<Name>,
    pub span: Span,
}

/// `app Name { nodes A, B  flows F  sink S = s3(Event) { … } }`
#[derive(Clone, Debug, PartialEq)]
pub struct AppDecl {
    pub name: Name,
    pub nodes: Vec<Name>,
    pub flows: Vec<Name>,
    pub sinks: Vec<SinkDecl>,
    /// `description "…"` and other string settings.
    pub settings: Vec<(Name, Spanned<String>)>,
    pub span: Span,
}

/// `sink Name = s3(Event) { key "…" format "json" }`
#[derive(Clone, Debug, PartialEq)]
pub struct SinkDecl {
    pub name: Name,
    pub kind: Name,
    pub event: Name,
    pub params: Vec<Param>,
    pub span: Span,
}

// ------------------------------------------------------------------ tests

/// `test "name" { given … advance … expect … }`
#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    pub name: Spanned<String>,
    pub steps: Vec<TestStep>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TestStep {
    Given {
        event: Name,
        value: Spanned<Value>,
        /// Milliseconds after the start of the test.
        at: Option<Spanned<u64>>,
        span: Span,
    },
    Advance {
        by: Spanned<u64>,
        span: Span,
    },
    Expect {
        event: Name,
        value: Option<Spanned<Value>>,
        span: Span,
    },
    ExpectNone {
        event: Name,
        span: Span,
    },
    ExpectState {
        node: Name,
        key: Spanned<String>,
        value: Spanned<Value>,
        span: Span,
    },
}

/// A JSON-like value in a test: `{ profile: { user_id: "u1" } }`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Object(Vec<(Name, Spanned<Value>)>),
    List(Vec<Spanned<Value>>),
    String(String),
    Number(Number),
    Bool(bool),
    Null,
}
