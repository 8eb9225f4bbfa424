//! Custom nodes on AWS: the node's function invokes the user's Lambda (the
//! `lambda` ARN of the `.flow` declaration) synchronously with the input
//! event, checks every returned event against the node's declared outputs
//! (`engine::views::accept_custom`, as `flowc run` does) and puts them on
//! the bus with the flow metadata (correlation id, hops) set.
//!
//! The protocol (docs/apps.md): the payload is the input's EventBridge
//! envelope; the function returns a JSON array of events (`detail-type`,
//! `detail`, optionally `source`, `id`, `time`), a single event object,
//! or `null` / `[]` for none. A function error (`X-Amz-Function-Error`),
//! an answer that is not JSON, an event that breaks its schema, or no
//! answer within the node's `timeout` fails the delivery as a whole:
//! nothing is put, the error names the node and its `.flow` span, and
//! EventBridge retries and then dead-letters the event.
//!
//! Custom nodes keep no state: output ids derive from the input, so a
//! redelivery puts the same events again and the nodes downstream
//! recognise them.

use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde_json::Value;

use super::driver::{NodeDriver, Outcome, Outlet};
use super::error::FlowError;
use super::wire::entry_of;
use super::Bridge;
use crate::engine::route::Routed;
use crate::engine::views::accept_custom;
use crate::engine::Event;
use crate::graph::{NodeDef, NodeKind};
use crate::ports::CustomNode;

/// How long a custom function may take when its node declares no timeout
/// (as `flowc run`).
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

/// Why an invocation failed: the function's own failure and a broken
/// answer are not worth retrying; a throttle, a network error or a
/// timeout are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvokeError {
    Retryable(String),
    Failed(String),
}

impl InvokeError {
    fn into_flow(self) -> FlowError {
        match self {
            InvokeError::Retryable(m) => FlowError::retryable(m),
            InvokeError::Failed(m) => FlowError::failed(m),
        }
    }
}

/// The user functions of custom nodes, called through the Lambda API.
pub struct LambdaNodes {
    client: aws_sdk_lambda::Client,
    bridge: Bridge,
}

impl LambdaNodes {
    pub fn new(client: aws_sdk_lambda::Client, bridge: Bridge) -> LambdaNodes {
        LambdaNodes { client, bridge }
    }

    /// Invokes `node`'s function with `event` and reads its answer.
    pub fn call(&self, node: &NodeDef, event: &Value) -> Result<Vec<Value>, InvokeError> {
        let NodeKind::Custom {
            lambda_arn,
            timeout_ms,
            ..
        } = &node.kind
        else {
            return Err(InvokeError::Failed(format!(
                "{} is not a custom node",
                node.name
            )));
        };
        let limit = Duration::from_millis(timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS));
        let request = self
            .client
            .invoke()
            .function_name(lambda_arn)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(event.to_string().into_bytes()))
            .send();
        let answer = self
            .bridge
            .run(async { tokio::time::timeout(limit, request).await })
            .map_err(|_| {
                InvokeError::Retryable(format!(
                    "{lambda_arn} did not answer within {} ms",
                    limit.as_millis()
                ))
            })?
            .map_err(|e| {
                InvokeError::Retryable(format!(
                    "Lambda Invoke {lambda_arn}: {}",
                    aws_sdk_lambda::error::DisplayErrorContext(e)
                ))
            })?;
        let payload = answer.payload().map(|b| b.as_ref()).unwrap_or_default();
        if let Some(kind) = answer.function_error() {
            let text: String = String::from_utf8_lossy(payload).chars().take(500).collect();
            return Err(InvokeError::Failed(format!(
                "{lambda_arn} failed ({kind}): {text}"
            )));
        }
        parse_answer(payload).map_err(|m| InvokeError::Failed(format!("{lambda_arn}: {m}")))
    }
}

impl CustomNode for LambdaNodes {
    fn invoke(&mut self, node: &NodeDef, event: &Value) -> Result<Vec<Value>, String> {
        self.call(node, event).map_err(|e| match e {
            InvokeError::Retryable(m) | InvokeError::Failed(m) => m,
        })
    }
}

/// The events of a function's answer: an array of events, one event, or
/// `null` for none.
pub fn parse_answer(payload: &[u8]) -> Result<Vec<Value>, String> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the answer is not JSON ({e}); return a JSON array of events"))?;
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(events) => Ok(events),
        event @ Value::Object(_) => Ok(vec![event]),
        other => Err(format!(
            "the answer is {other}, not an array of events; return `[]` for none"
        )),
    }
}

/// One delivery of a custom node: route, invoke, check every answer, put
/// all of them or none.
pub fn deliver(
    driver: &NodeDriver<'_>,
    functions: &LambdaNodes,
    out: &mut dyn Outlet,
    event: &Event,
) -> Result<Outcome, FlowError> {
    let at = |e: FlowError| e.at(&driver.node.name, &driver.node.span);
    let mut refused = false;
    let delivery = driver
        .router
        .route(event)
        .into_iter()
        .find_map(|r| match r {
            Routed::Deliver(d) if d.node == driver.node.name => Some(d),
            Routed::Refused { node, .. } if node == driver.node.name => {
                refused = true;
                None
            }
            _ => None,
        });
    let Some(d) = delivery else {
        if refused {
            return Ok(Outcome::Refused);
        }
        return Err(at(FlowError::bad_input(format!(
            "event {} ({} / {}) matches no route to this node",
            event.id, event.source, event.detail_type
        ))));
    };
    let answers = functions
        .call(driver.node, &d.event.to_envelope())
        .map_err(|e| at(e.into_flow()))?;
    let mut emitted = Vec::with_capacity(answers.len());
    for (i, answer) in answers.iter().enumerate() {
        let e = accept_custom(driver.graph, driver.node, &d.event, i, answer)
            .map_err(|e| at(FlowError::failed(e.0)))?;
        emitted.push(e);
    }
    if !emitted.is_empty() {
        let entries: Vec<_> = emitted.iter().map(entry_of).collect();
        out.put(&entries).map_err(at)?;
    }
    Ok(Outcome::Done(emitted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_arrays_objects_or_nothing() {
        assert_eq!(parse_answer(b"").expect("empty"), Vec::<Value>::new());
        assert_eq!(parse_answer(b"null").expect("null"), Vec::<Value>::new());
        assert_eq!(parse_answer(b"[]").expect("[]"), Vec::<Value>::new());
        assert_eq!(
            parse_answer(br#"{"detail-type":"X","detail":{}}"#).expect("one"),
            vec![json!({"detail-type": "X", "detail": {}})]
        );
        assert_eq!(parse_answer(b"[1,2]").expect("two").len(), 2);
        assert!(parse_answer(b"42").is_err());
        assert!(parse_answer(b"not json").is_err());
    }
}
