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
    pub records: Chain<Value>,
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
    pub pieces: Chain<Piece>,
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

/// An append-only list whose clones share their elements: loading a window
/// from an in-memory store (a clone) and adding one input cost O(1), not
/// O(window). Serialized as a JSON array.
pub struct Chain<T> {
    last: Option<Arc<Link<T>>>,
    len: usize,
}

struct Link<T> {
    value: T,
    prev: Option<Arc<Link<T>>>,
}

impl<T> Chain<T> {
    pub fn new() -> Chain<T> {
        Chain { last: None, len: 0 }
    }

    pub fn push(&mut self, value: T) {
        let prev = self.last.take();
        self.last = Some(Arc::new(Link { value, prev }));
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements, oldest first.
    pub fn to_vec(&self) -> Vec<T>
    where
        T: Clone,
    {
        let mut out = Vec::with_capacity(self.len);
        let mut at = self.last.as_ref();
        while let Some(link) = at {
            out.push(link.value.clone());
            at = link.prev.as_ref();
        }
        out.reverse();
        out
    }
}

impl<T> Default for Chain<T> {
    fn default() -> Self {
        Chain::new()
    }
}

impl<T> Clone for Chain<T> {
    fn clone(&self) -> Self {
        Chain {
            last: self.last.clone(),
            len: self.len,
        }
    }
}

impl<T> Drop for Chain<T> {
    /// Unlinks iteratively: a long chain must not overflow the stack.
    fn drop(&mut self) {
        let mut at = self.last.take();
        while let Some(link) = at {
            match Arc::try_unwrap(link) {
                Ok(mut owned) => at = owned.prev.take(),
                Err(_) => break,
            }
        }
    }
}

impl<T: Clone + PartialEq> PartialEq for Chain<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.to_vec() == other.to_vec()
    }
}

impl<T: Clone + std::fmt::Debug> std::fmt::Debug for Chain<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.to_vec()).finish()
    }
}

impl<T: Clone + Serialize> Serialize for Chain<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_vec().serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Chain<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut chain = Chain::new();
        for v in Vec::<T>::deserialize(d)? {
            chain.push(v);
        }
        Ok(chain)
    }
}
