//! The pure engine: node executors as functions of (node, state, input).
//!
//! Input: a [`NodeDef`] of the compiled graph, the node's state for one key
//! (or none), and either an event delivered to the node or a flush at a
//! deadline. Output: the new state, the key's next deadline, and effects
//! (events to emit, objects to concatenate). The driver (`crate::local`,
//! or the Lambda handler) loads and saves state, checks idempotency and
//! applies effects through the ports (`crate::ports`).
//!
//! Invariants: no IO, no clock (time comes in as `now`), deterministic;
//! output ids derive from node, key and input ids ([`event::derive_id`]);
//! output times are input times or deadlines, never the wall clock.
//! Views and custom nodes are two-phase: [`views`] builds the request
//! for a port and turns the port's answer into events.

pub mod conform;
pub mod event;
pub mod mapping;
mod nodes;
pub mod route;
pub mod state;
pub mod time;
pub mod views;

#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::graph::{Graph, NodeDef, NodeKind};

pub use event::{derive_id, Event, FlowMeta};
pub use nodes::{key_of, state_view};
pub use state::NodeState;
pub use time::Millis;
pub use views::ViewRequest;

/// An S3 object reference (`{ bucket, key, … }` on the wire).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
}

impl ObjectRef {
    /// Reads `{ bucket, key }` from an event field.
    pub fn from_value(v: &Value) -> Option<ObjectRef> {
        Some(ObjectRef {
            bucket: v.get("bucket")?.as_str()?.to_string(),
            key: v.get("key")?.as_str()?.to_string(),
        })
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// An event a node emits, with the name of its event type.
#[derive(Clone, Debug, PartialEq)]
pub struct Emitted {
    pub name: String,
    pub event: Event,
}

/// What the driver must do after a step, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Write the concatenation of `sources` (in order) to `target`; comes
    /// before the `Emit` that references it.
    Concat {
        sources: Vec<ObjectRef>,
        target: ObjectRef,
        content_type: Option<String>,
    },
    Emit(Emitted),
}

/// What a step works on.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// `event`, of the input type `name`, delivered to the node.
    Event { name: &'a str, event: &'a Event },
    /// The key's deadline has passed.
    Flush,
}

/// The result of one step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Step {
    /// The key's new state; `None` deletes it.
    pub state: Option<NodeState>,
    /// When the driver must call [`step`] with [`Input::Flush`] next.
    pub deadline: Option<Millis>,
    pub effects: Vec<Effect>,
    /// The input was discarded (a dedupe repeat, an expired part).
    pub dropped: bool,
}

/// A node could not process an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepError(pub String);

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StepError {}

/// Whether the kind keeps state per key (and so needs idempotency records
/// and deadlines).
pub fn is_stateful(kind: &NodeKind) -> bool {
    matches!(
        kind,
        NodeKind::Counter { .. }
            | NodeKind::Aggregator { .. }
            | NodeKind::Stitcher { .. }
            | NodeKind::Dedupe { .. }
            | NodeKind::Combiner { .. }
    )
}

/// One step of a built-in filter or transformer (not views, not custom
/// nodes: see [`views`]). `now` is the clock's time; `key` is
/// [`key_of`] the input (any string for a stateless node or a flush).
pub fn step(
    graph: &Graph,
    node: &NodeDef,
    key: &str,
    state: Option<NodeState>,
    input: Input<'_>,
    now: Millis,
) -> Result<Step, StepError> {
    nodes::step(graph, node, key, state, input, now)
}
