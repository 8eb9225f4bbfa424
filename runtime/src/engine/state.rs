//! Per-key state of the stateful node kinds, as stored by the state port
//! (JSON in SQLite or DynamoDB). Times are milliseconds since the epoch.
//!
//! Invariant: a window (`opened_at`) opens with the first event of a key at
//! the clock's time and is deleted when it fires, so memory and storage
//! grow with open windows, not with events processed.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::time::Millis;

/// The last input of a window: its envelope becomes the output's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Last {
    pub id: String,
    pub time: Millis,
    pub detail: Arc<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeState {
    Counter(CounterState),
    Aggregator(AggregatorState),
    Stitcher(StitcherState),
    Dedupe(DedupeState),
    Combiner(CombinerState),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CounterState {
    pub opened_at: Millis,
    pub count: u64,
    pub first_at: Millis,
    pub last_at: Millis,
    pub last: Last,
}

/// Running value of one `aggregate` entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Acc {
    pub n: u64,
    pub sum: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AggregatorState {
    pub opened_at: Millis,
    pub count: u64,
    pub first_at: Millis,
    pub last_at: Millis,
    pub records: Vec<Value>,
    pub accs: Vec<Acc>,
    pub last: Last,
}

/// One content piece of a stitcher.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Piece {
    pub order: Value,
    pub content: Value,
    pub time: Millis,
    pub id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StitcherState {
    pub opened_at: Millis,
    pub pieces: Vec<Piece>,
    pub last: Last,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DedupeState {
    pub seen_at: Millis,
    pub expires_at: Millis,
    pub id: String,
}

/// The latest event of one input type of a combiner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub id: String,
    pub time: Millis,
    pub received_at: Millis,
    pub detail: Arc<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CombinerState {
    pub parts: BTreeMap<String, Part>,
}
