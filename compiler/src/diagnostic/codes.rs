//! The registry of diagnostic codes. A code, once released, keeps its
//! meaning forever; retired codes stay in this list, commented.
//! Ranges: E00x syntax, E01x names, E02x types, E03x graph, E04x AWS limits,
//! E05x nodes and sinks, W0xx warnings. Every code has a section in docs/diagnostics.md and at
//! least one fixture under tests/fixtures/ (a meta test checks both).

use std::fmt;

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $summary:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in registry order.
            pub const ALL: &'static [Code] = &[$( Code::$variant, )*];

            /// The code as printed: `E013`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// One line saying what the code is about (the docs heading).
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => $summary, )* }
            }
        }
    };
}

codes! {
    /// The compiler reached a state it believed impossible.
    InternalError = "E000", "internal compiler error";
    Syntax = "E001", "syntax error";
    InvalidEscape = "E002", "invalid escape sequence in a string";
    InvalidLiteral = "E003", "number, count or duration out of range";
    InvalidEncoding = "E004", "file is not UTF-8 text";
    NestingTooDeep = "E005", "nesting too deep";
    InvalidTemplate = "E006", "invalid handlebars template";
    DuplicateName = "E010", "duplicate declaration";
    UnknownEvent = "E011", "unknown event";
    UnknownNode = "E012", "unknown node";
    UnknownField = "E013", "unknown field";
    UnknownFlow = "E014", "unknown flow";
    UnknownParameter = "E015", "unknown parameter";
    UnknownNodeKind = "E016", "unknown node or sink kind";
    DuplicateEntry = "E017", "duplicate field, parameter or entry";
    UnknownType = "E018", "unknown type";
    UnknownRecord = "E019", "unknown envelope record";
    OperatorType = "E020", "operator does not fit the field's type";
    ValueType = "E021", "value does not fit the field's type";
    ExistsOnRequired = "E022", "`exists` on a field that is always present";
    InvalidOperand = "E023", "invalid operand";
    MissingParameter = "E024", "missing required parameter";
    ParameterKind = "E025", "parameter has the wrong kind of value";
    SplitterNeedsList = "E026", "splitter needs a list field";
    StitcherContent = "E027", "stitcher content must be an object or text";
    CombinerInputs = "E028", "combiner inputs are not distinct events sharing the key";
    EmitShape = "E029", "emitted event does not fit its declared shape";
    Cycle = "E030", "cycle without a hop bound";
    RouteTarget = "E031", "route target does not consume the event";
    UnreachableNode = "E032", "node is never reached";
    CombinerStarved = "E033", "combiner waits for an event nobody produces";
    NeverMatches = "E034", "route condition can never be true";
    NotExpressible = "E035", "condition EventBridge cannot express";
    FlowNotConnected = "E036", "flow steps are not connected";
    KeyNotScalar = "E037", "key is not a scalar field";
    TestValue = "E038", "test value does not fit the event";
    WrongNodeClass = "E039", "node kind declared under the wrong class";
    PatternTooLong = "E040", "event pattern longer than EventBridge allows";
    TooManyCombinations = "E041", "event pattern has too many `$or` combinations";
    TooManyRules = "E042", "too many rules on one event bus";
    TooManyTargets = "E043", "too many targets on one rule";
    TooManyResources = "E044", "template has more resources than one stack allows";
    NodeInputs = "E050", "node takes a different number of input events";
    CustomOutputs = "E051", "node outputs declared wrongly";
    InvalidSink = "E052", "invalid sink setting";
    InvalidTrigger = "E053", "invalid trigger";
    UnconsumedEvent = "W001", "event nobody consumes";
    UnusedEvent = "W002", "event is never produced or used";
    DeadBranch = "W003", "part of a condition can never be true";
    UnproducedSinkEvent = "W004", "sink stores an event nothing produces";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Code {
    /// Warnings are the `W` codes; everything else is an error.
    pub fn is_warning(self) -> bool {
        self.as_str().starts_with('W')
    }

    /// Where the code is documented.
    pub fn doc_url(self) -> String {
        format!(
            "https://github.com/flowc-dev/flowc/blob/main/docs/diagnostics.md#{}",
            self.as_str().to_lowercase()
        )
    }
}
