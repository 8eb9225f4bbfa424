//! The runtime's error types on AWS, stable strings that Lambda puts into
//! the invocation's `errorType` (and so into logs and the dead-letter
//! queue's `ErrorCode` attribute).
//!
//! Invariant: every error names the node (or trigger) it happened in and,
//! when known, the `.flow` span of its declaration, so an operator reading
//! a dead-letter queue can go straight to the source line.

use crate::graph::SourceRef;
use crate::ports::StoreError;

/// What went wrong, and so whether trying again can help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorType {
    /// A transient failure (throttling, a network error, a conflict that
    /// persisted, a partial PutEvents failure): a retry may succeed.
    Retryable,
    /// The input is not an event this function accepts (not an envelope,
    /// no key, no route to this node): retrying the same input fails again.
    BadInput,
    /// The node's logic failed on a valid input (a mapping or template
    /// error, an unsupported node kind, an event over the size limit).
    FlowFailed,
}

impl ErrorType {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Retryable => "Retryable",
            ErrorType::BadInput => "BadInput",
            ErrorType::FlowFailed => "FlowFailed",
        }
    }
}

impl std::fmt::Display for ErrorType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowError {
    pub kind: ErrorType,
    /// The node, trigger or app the function serves.
    pub node: Option<String>,
    pub span: Option<SourceRef>,
    pub message: String,
}

impl FlowError {
    pub fn new(kind: ErrorType, message: impl Into<String>) -> FlowError {
        FlowError {
            kind,
            node: None,
            span: None,
            message: message.into(),
        }
    }

    pub fn retryable(message: impl Into<String>) -> FlowError {
        FlowError::new(ErrorType::Retryable, message)
    }

    pub fn bad_input(message: impl Into<String>) -> FlowError {
        FlowError::new(ErrorType::BadInput, message)
    }

    pub fn failed(message: impl Into<String>) -> FlowError {
        FlowError::new(ErrorType::FlowFailed, message)
    }

    /// Names the declaration the error belongs to (kept if already set).
    pub fn at(mut self, node: &str, span: &SourceRef) -> FlowError {
        if self.node.is_none() {
            self.node = Some(node.to_string());
            self.span = Some(span.clone());
        }
        self
    }
}

impl std::fmt::Display for FlowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.kind)?;
        match (&self.node, &self.span) {
            (Some(n), Some(s)) => write!(f, "{n} ({s}): ")?,
            (Some(n), None) => write!(f, "{n}: ")?,
            _ => {}
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for FlowError {}

/// A state conflict that outlived the retries, or a backend failure, is
/// worth retrying later; the driver handles fresh conflicts itself.
impl From<StoreError> for FlowError {
    fn from(e: StoreError) -> Self {
        FlowError::retryable(e.to_string())
    }
}

impl From<FlowError> for lambda_runtime::Diagnostic {
    fn from(e: FlowError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.kind.as_str().to_string(),
            error_message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_node_and_span() {
        let span = SourceRef {
            file: "nodes.flow".into(),
            line: 16,
            column: 8,
            offset: 0,
            length: 1,
        };
        let e = FlowError::bad_input("event e1 has no value at the key `profile.id`")
            .at("Counter", &span);
        assert_eq!(
            e.to_string(),
            "BadInput: Counter (nodes.flow:16:8): event e1 has no value at the key `profile.id`"
        );
        let d = lambda_runtime::Diagnostic::from(e);
        assert_eq!(d.error_type, "BadInput");
    }
}
