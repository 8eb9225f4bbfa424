//! Ports: what the engine's drivers need from the outside world, as small
//! traits over domain types. Local adapters live in `crate::local`
//! (SQLite, a directory, view engines, commands); AWS adapters
//! (DynamoDB, S3, EventBridge, Bedrock, Transcribe) implement the same
//! traits. Tests use the fakes in [`fakes`] and `local::MemoryStore`.

use serde_json::Value;

pub use crate::engine::views::ViewAnswer;
use crate::engine::{Emitted, Millis, NodeState, ObjectRef, ViewRequest};
use crate::graph::NodeDef;

/// A key's state as stored, with its version for compare-and-swap.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    pub state: NodeState,
    /// When the key must be flushed next.
    pub deadline: Option<Millis>,
    /// 1 for the first save, incremented by each save.
    pub version: u64,
}

/// A key whose deadline has passed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Due {
    pub deadline: Millis,
    pub node: String,
    pub key: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// Someone else saved the key since it was loaded.
    Conflict { node: String, key: String },
    /// The backend failed (a message for the user).
    Backend(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Conflict { node, key } => {
                write!(f, "state of {node}[{key:?}] changed concurrently")
            }
            StoreError::Backend(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for StoreError {}

/// Node state per (node, key), and idempotency records per event id.
pub trait StateStore {
    fn load(&mut self, node: &str, key: &str) -> Result<Option<Stored>, StoreError>;
    /// Saves (`Some`) or deletes (`None`) the state if its version is still
    /// `expected` (0: absent). `deadline` indexes the key for [`Timers`].
    fn save(
        &mut self,
        node: &str,
        key: &str,
        expected: u64,
        value: Option<(NodeState, Option<Millis>)>,
    ) -> Result<(), StoreError>;
    /// Records that `node` processed `event_id`; false if it already had
    /// (a redelivery). The record may be forgotten after `expires_at`.
    fn remember(
        &mut self,
        node: &str,
        event_id: &str,
        expires_at: Millis,
    ) -> Result<bool, StoreError>;
}

/// Deadlines of the saved keys (a scheduled flush in AWS).
pub trait Timers {
    /// Keys whose deadline is at or before `until`, in (deadline, node,
    /// key) order.
    fn due(&mut self, until: Millis) -> Result<Vec<Due>, StoreError>;
    fn next_deadline(&self) -> Option<Millis>;
}

/// Makes everything saved so far durable at once (a transaction).
pub trait Commit {
    fn commit(&mut self) -> Result<(), StoreError>;
}

/// Objects by bucket and key (S3; a directory locally).
pub trait ObjectStore {
    fn get(&mut self, object: &ObjectRef) -> Result<Option<Vec<u8>>, String>;
    fn put(&mut self, object: &ObjectRef, bytes: &[u8]) -> Result<(), String>;
}

/// Where emitted events go (EventBridge PutEvents; stdout locally).
pub trait EventBus {
    fn publish(&mut self, event: &Emitted) -> Result<(), String>;
}

pub trait Clock {
    fn now(&self) -> Millis;
}

/// What a view's engine is given: the request the engine built, the
/// object's bytes (the image or the recording; `None` when the object
/// store has no such object) and the input's `detail`.
#[derive(Clone, Copy, Debug)]
pub struct ViewInput<'a> {
    pub request: &'a ViewRequest,
    pub bytes: Option<&'a [u8]>,
    pub detail: &'a Value,
}

impl<'a> ViewInput<'a> {
    /// The object the request names.
    pub fn object(&self) -> &'a ObjectRef {
        match self.request {
            ViewRequest::Summary { image, .. } => image,
            ViewRequest::Transcript { media, .. } => media,
        }
    }

    /// The object's bytes, or an error naming the missing object.
    pub fn require_bytes(&self) -> Result<&'a [u8], String> {
        self.bytes
            .ok_or_else(|| format!("object {} not found", self.object()))
    }
}

/// Image to text: a summarizer's model (Bedrock in AWS; Tesseract OCR or an
/// OpenAI-compatible chat endpoint locally).
pub trait Summarizer {
    fn summarize(&mut self, input: ViewInput<'_>) -> Result<ViewAnswer, String>;
}

/// Speech to text (Amazon Transcribe in AWS; PocketSphinx or an
/// OpenAI-compatible transcription endpoint locally).
pub trait Transcriber {
    fn transcribe(&mut self, input: ViewInput<'_>) -> Result<ViewAnswer, String>;
}

/// A custom node's code: one event in, events out.
pub trait CustomNode {
    fn invoke(&mut self, node: &NodeDef, event: &Value) -> Result<Vec<Value>, String>;
}

/// Fakes for tests: a recording bus and a fixed clock (the in-memory
/// store is `local::MemoryStore`).
pub mod fakes {
    use super::{Clock, EventBus};
    use crate::engine::{Emitted, Millis};

    #[derive(Default, Debug)]
    pub struct RecordingBus {
        pub events: Vec<Emitted>,
    }

    impl EventBus for RecordingBus {
        fn publish(&mut self, event: &Emitted) -> Result<(), String> {
            self.events.push(event.clone());
            Ok(())
        }
    }

    #[derive(Clone, Copy, Debug)]
    pub struct FixedClock(pub Millis);

    impl Clock for FixedClock {
        fn now(&self) -> Millis {
            self.0
        }
    }
}
