//! The per-node driver of the Lambda runtime: one delivery (or one flush)
//! of one node, against the ports. No SDK here: tests and the overhead
//! benchmark run it with in-memory fakes.
//!
//! A delivery is *exactly once* for state and *at least once* for output:
//! 1. the idempotency record of (node, event id), the key's new state
//!    (a compare-and-swap on its version) and the events to emit (an
//!    *outbox*) are committed together, or not at all;
//! 2. a conflict (another invocation saved the key, or recorded the same
//!    event, in between) reloads and runs the step again, a few times;
//! 3. only then are the events published, and the outbox cleared. If
//!    publishing fails the invocation fails (`Retryable`); the redelivery
//!    finds the record and publishes the outbox instead of counting twice.
//!
//! Emitted ids are deterministic, so a republished event is recognised by
//! the nodes downstream.

use std::time::Duration;

use serde_json::Value;

use super::error::FlowError;
use super::wire::{entry_of, Entry};
use crate::engine::route::{Routed, Router};
use crate::engine::{self, derive_id, Effect, Emitted, Event, Input, Millis};
use crate::graph::{Graph, NodeDef, NodeKind};
use crate::ports::{Commit, ObjectStore, StateStore, StoreError, Timers};

/// Attempts of a delivery whose commit conflicts.
pub const ATTEMPTS: u32 = 6;
/// How long a node remembers an event id beyond its window (as `flowc run`).
pub const KEEP_IDS_MS: i64 = 24 * 3600 * 1000;

/// Events waiting to be published, stored with the state.
pub trait Outbox {
    /// Stages `entries` for `id`, committed with the next commit.
    fn stage_outbox(&mut self, node: &str, id: &str, entries: &[Entry]) -> Result<(), StoreError>;
    /// Pending outboxes of `node` (only the one of `id` if given).
    fn pending(
        &mut self,
        node: &str,
        id: Option<&str>,
    ) -> Result<Vec<(String, Vec<Entry>)>, StoreError>;
    fn clear_outbox(&mut self, node: &str, id: &str) -> Result<(), StoreError>;
}

/// Where the entries go (PutEvents in AWS).
pub trait Outlet {
    fn put(&mut self, entries: &[Entry]) -> Result<(), FlowError>;
}

/// Everything the driver needs of the state store.
pub trait NodeStore: StateStore + Timers + Commit + Outbox {}
impl<T: StateStore + Timers + Commit + Outbox> NodeStore for T {}

/// What a delivery did.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Processed; the events emitted.
    Done(Vec<Emitted>),
    /// A redelivery of an event already processed (its pending output, if
    /// any, was published again: the count).
    Duplicate(usize),
    /// The route's `max_hops` is reached.
    Refused,
}

pub struct NodeDriver<'a> {
    pub graph: &'a Graph,
    pub node: &'a NodeDef,
    pub router: &'a Router,
}

impl<'a> NodeDriver<'a> {
    /// The driver of `node`, or `BadInput` if the graph has no such node.
    pub fn new(graph: &'a Graph, router: &'a Router, node: &str) -> Result<Self, FlowError> {
        let node = graph.nodes.get(node).ok_or_else(|| {
            FlowError::bad_input(format!("graph.json has no node {node:?} (FLOW_NODE)"))
        })?;
        Ok(NodeDriver {
            graph,
            node,
            router,
        })
    }

    fn err(&self, e: FlowError) -> FlowError {
        e.at(&self.node.name, &self.node.span)
    }

    /// Delivers one event (already read from its envelope) at `now`.
    pub fn deliver(
        &self,
        store: &mut dyn NodeStore,
        objects: &mut dyn ObjectStore,
        out: &mut dyn Outlet,
        event: &Event,
        now: Millis,
    ) -> Result<Outcome, FlowError> {
        let mut refused = false;
        let delivery = self.router.route(event).into_iter().find_map(|r| match r {
            Routed::Deliver(d) if d.node == self.node.name => Some(d),
            Routed::Refused { node, .. } if node == self.node.name => {
                refused = true;
                None
            }
            _ => None,
        });
        let Some(d) = delivery else {
            if refused {
                return Ok(Outcome::Refused);
            }
            return Err(self.err(FlowError::bad_input(format!(
                "event {} ({} / {}) matches no route to this node",
                event.id, event.source, event.detail_type
            ))));
        };
        let input = Input::Event {
            name: &d.event_name,
            event: &d.event,
        };
        let kind = &self.node.kind;
        if matches!(
            kind,
            NodeKind::Summarizer { .. } | NodeKind::Transcriber { .. } | NodeKind::Custom { .. }
        ) {
            return Err(self.err(FlowError::failed(format!(
                "{} nodes are not supported by this runtime yet",
                kind.name()
            ))));
        }
        if !engine::is_stateful(kind) {
            let step = engine::step(self.graph, self.node, "", None, input, now)
                .map_err(|e| self.err(FlowError::failed(e.0)))?;
            let emitted = self
                .apply(objects, step.effects)
                .map_err(|f| self.err(f.into_flow()))?;
            out.put(&emitted.iter().map(entry_of).collect::<Vec<_>>())
                .map_err(|e| self.err(e))?;
            return Ok(Outcome::Done(emitted));
        }
        let key =
            engine::key_of(self.node, &d.event).map_err(|e| self.err(FlowError::bad_input(e.0)))?;
        let name = &self.node.name;
        let keep = now.saturating_add(KEEP_IDS_MS.saturating_add(window_of(self.node)));
        let mut attempt = 0;
        let emitted = loop {
            attempt += 1;
            let result = (|| -> Result<Option<Vec<Emitted>>, NodeFailure> {
                if !store.remember(name, &d.event.id, keep)? {
                    return Ok(None);
                }
                let stored = store.load(name, &key)?;
                let version = stored.as_ref().map_or(0, |s| s.version);
                let step = engine::step(
                    self.graph,
                    self.node,
                    &key,
                    stored.map(|s| s.state),
                    input,
                    now,
                )
                .map_err(|e| NodeFailure::Flow(FlowError::failed(e.0)))?;
                store.save(name, &key, version, step.state.map(|s| (s, step.deadline)))?;
                let emitted = self.apply(objects, step.effects)?;
                if !emitted.is_empty() {
                    let entries: Vec<Entry> = emitted.iter().map(entry_of).collect();
                    store.stage_outbox(name, &d.event.id, &entries)?;
                }
                store.commit()?;
                Ok(Some(emitted))
            })();
            match result {
                Ok(Some(emitted)) => break emitted,
                Ok(None) => {
                    let n = self.republish(store, out, Some(&d.event.id))?;
                    return Ok(Outcome::Duplicate(n));
                }
                Err(NodeFailure::Store(StoreError::Conflict { .. })) if attempt < ATTEMPTS => {
                    backoff(attempt);
                }
                Err(NodeFailure::Store(e)) => return Err(self.err(e.into())),
                Err(NodeFailure::Flow(e)) => return Err(self.err(e)),
            }
        };
        self.publish(store, out, &d.event.id, &emitted)?;
        Ok(Outcome::Done(emitted))
    }

    /// Publishes what a committed step emitted, then clears its outbox
    /// (a failure to clear only means a harmless republish later).
    fn publish(
        &self,
        store: &mut dyn NodeStore,
        out: &mut dyn Outlet,
        id: &str,
        emitted: &[Emitted],
    ) -> Result<(), FlowError> {
        if emitted.is_empty() {
            return Ok(());
        }
        let entries: Vec<Entry> = emitted.iter().map(entry_of).collect();
        out.put(&entries).map_err(|e| self.err(e))?;
        let _ = store.clear_outbox(&self.node.name, id);
        Ok(())
    }

    /// Publishes pending outboxes (of `id`, or all of the node); returns
    /// the number of events put.
    fn republish(
        &self,
        store: &mut dyn NodeStore,
        out: &mut dyn Outlet,
        id: Option<&str>,
    ) -> Result<usize, FlowError> {
        let mut n = 0;
        for (id, entries) in store
            .pending(&self.node.name, id)
            .map_err(|e| self.err(e.into()))?
        {
            out.put(&entries).map_err(|e| self.err(e))?;
            let _ = store.clear_outbox(&self.node.name, &id);
            n += entries.len();
        }
        Ok(n)
    }

    /// Fires every key of the node whose deadline is at or before `now`
    /// (the scheduled flush), after publishing pending outboxes. Keys are
    /// independent: one failing key does not stop the others; the first
    /// error is returned at the end.
    pub fn flush(
        &self,
        store: &mut dyn NodeStore,
        objects: &mut dyn ObjectStore,
        out: &mut dyn Outlet,
        now: Millis,
    ) -> Result<Vec<Emitted>, FlowError> {
        let mut first_error = self.republish(store, out, None).err();
        let mut all = Vec::new();
        let due = store.due(now).map_err(|e| self.err(e.into()))?;
        for due in due.into_iter().filter(|d| d.node == self.node.name) {
            match self.flush_key(store, objects, out, &due.key, now) {
                Ok(emitted) => all.extend(emitted),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(all),
        }
    }

    fn flush_key(
        &self,
        store: &mut dyn NodeStore,
        objects: &mut dyn ObjectStore,
        out: &mut dyn Outlet,
        key: &str,
        now: Millis,
    ) -> Result<Vec<Emitted>, FlowError> {
        let name = &self.node.name;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = (|| -> Result<Option<(String, Vec<Emitted>)>, NodeFailure> {
                let Some(stored) = store.load(name, key)? else {
                    return Ok(None);
                };
                if stored.deadline.is_none_or(|d| d > now) {
                    return Ok(None);
                }
                let id = derive_id(&["flush", name, key, &stored.version.to_string()]);
                match engine::step(
                    self.graph,
                    self.node,
                    key,
                    Some(stored.state),
                    Input::Flush,
                    now,
                ) {
                    Ok(step) => {
                        let deadline = step.deadline.filter(|d| *d > now);
                        store.save(name, key, stored.version, step.state.map(|s| (s, deadline)))?;
                        let emitted = self.apply(objects, step.effects)?;
                        if !emitted.is_empty() {
                            let entries: Vec<Entry> = emitted.iter().map(entry_of).collect();
                            store.stage_outbox(name, &id, &entries)?;
                        }
                        store.commit()?;
                        Ok(Some((id, emitted)))
                    }
                    Err(e) => {
                        // Drop the broken state so its deadline does not fire forever.
                        store.save(name, key, stored.version, None)?;
                        store.commit()?;
                        Err(NodeFailure::Flow(FlowError::failed(format!(
                            "key {key:?}: {e}"
                        ))))
                    }
                }
            })();
            match result {
                Ok(None) => return Ok(Vec::new()),
                Ok(Some((id, emitted))) => {
                    self.publish(store, out, &id, &emitted)?;
                    return Ok(emitted);
                }
                Err(NodeFailure::Store(StoreError::Conflict { .. })) if attempt < ATTEMPTS => {
                    backoff(attempt);
                }
                Err(NodeFailure::Store(e)) => return Err(self.err(e.into())),
                Err(NodeFailure::Flow(e)) => return Err(self.err(e)),
            }
        }
    }

    /// Applies object effects (idempotent: the target key is derived) and
    /// returns the events to emit.
    fn apply(
        &self,
        objects: &mut dyn ObjectStore,
        effects: Vec<Effect>,
    ) -> Result<Vec<Emitted>, NodeFailure> {
        let mut emitted = Vec::new();
        for effect in effects {
            match effect {
                Effect::Concat {
                    sources, target, ..
                } => {
                    let mut bytes = Vec::new();
                    for s in &sources {
                        match objects.get(s).map_err(FlowError::retryable)? {
                            Some(b) => bytes.extend(b),
                            None => {
                                return Err(NodeFailure::Flow(FlowError::failed(format!(
                                    "piece {s} of {target} does not exist"
                                ))))
                            }
                        }
                    }
                    objects.put(&target, &bytes).map_err(FlowError::retryable)?;
                }
                Effect::Emit(e) => emitted.push(e),
            }
        }
        Ok(emitted)
    }
}

enum NodeFailure {
    Store(StoreError),
    Flow(FlowError),
}

impl NodeFailure {
    fn into_flow(self) -> FlowError {
        match self {
            NodeFailure::Store(e) => e.into(),
            NodeFailure::Flow(e) => e,
        }
    }
}

impl From<StoreError> for NodeFailure {
    fn from(e: StoreError) -> Self {
        NodeFailure::Store(e)
    }
}

impl From<FlowError> for NodeFailure {
    fn from(e: FlowError) -> Self {
        NodeFailure::Flow(e)
    }
}

/// A short, growing, jittered pause before retrying a conflict.
fn backoff(attempt: u32) {
    let base = 5u64 << attempt.min(6);
    let jitter = u64::from(std::process::id() ^ attempt.wrapping_mul(2_654_435_761)) % base;
    std::thread::sleep(Duration::from_millis(base + jitter));
}

/// The longest time a node holds a key.
pub fn window_of(node: &NodeDef) -> i64 {
    let ms = match &node.kind {
        NodeKind::Counter { every, .. }
        | NodeKind::Aggregator { every, .. }
        | NodeKind::Stitcher { every, .. } => every.window_ms.unwrap_or(0),
        NodeKind::Dedupe { window_ms, .. } | NodeKind::Combiner { window_ms, .. } => *window_ms,
        _ => 0,
    };
    i64::try_from(ms).unwrap_or(i64::MAX)
}

/// Reads an emitted event back from its entry (outboxes hold entries).
pub fn entry_value(entry: &Entry) -> Value {
    serde_json::json!({
        "source": entry.source,
        "detail_type": entry.detail_type,
        "detail": entry.detail,
        "time": entry.time,
    })
}

/// The inverse of [`entry_value`].
pub fn entry_from_value(v: &Value) -> Option<Entry> {
    Some(Entry {
        source: v.get("source")?.as_str()?.to_string(),
        detail_type: v.get("detail_type")?.as_str()?.to_string(),
        detail: v.get("detail")?.as_str()?.to_string(),
        time: v.get("time")?.as_i64()?,
    })
}
