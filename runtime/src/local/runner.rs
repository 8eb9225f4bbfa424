//! The driver: routes, checks idempotency, runs steps, fires deadlines and
//! applies effects through the ports.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use crate::engine::route::{Delivery, Routed, Router};
use crate::engine::views::{accept_custom, view_output, view_request, ViewRequest};
use crate::engine::{self, Effect, Event, Input, Millis, StepError};
use crate::graph::{Graph, NodeDef, NodeKind};
use crate::ports::{
    Commit, CustomNode, EventBus, ObjectStore, StateStore, StoreError, Summarizer, Timers,
    Transcriber, ViewInput,
};

use super::{CommandNodes, MemoryObjects, PlaceholderViews};

/// A state port with timers and transactions.
pub trait Store: StateStore + Timers + Commit {}
impl<T: StateStore + Timers + Commit> Store for T {}

/// The non-state ports.
pub struct Ports {
    pub objects: Box<dyn ObjectStore>,
    pub summarizer: Box<dyn Summarizer>,
    pub transcriber: Box<dyn Transcriber>,
    pub custom: Box<dyn CustomNode>,
}

impl Ports {
    /// Objects in memory, placeholder views, custom commands run in `dir`.
    pub fn offline(dir: impl Into<std::path::PathBuf>) -> Ports {
        Ports {
            objects: Box::new(MemoryObjects::default()),
            summarizer: Box::new(PlaceholderViews),
            transcriber: Box::new(PlaceholderViews),
            custom: Box::new(CommandNodes { dir: dir.into() }),
        }
    }
}

/// App sinks: what the local engine does with every event on the bus
/// besides routing it (`local::LocalSinks`).
pub trait Sinks {
    /// Delivers `event` to every sink that takes it; returns messages for
    /// the run's error list (`error: …`, `note: …`).
    fn deliver(&mut self, graph: &Graph, event: &Event, now: Millis) -> Vec<String>;
    /// Makes what was written visible (the document index).
    fn commit(&mut self) -> Result<(), String>;
}

/// What happened at one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    /// Deliveries, redeliveries included.
    pub input: u64,
    pub output: u64,
    /// Redeliveries, dedupe repeats, deliveries refused past `max_hops`.
    pub dropped: u64,
    pub errors: u64,
}

#[derive(Debug)]
pub enum RunError {
    Graph(String),
    Store(StoreError),
    Bus(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Graph(m) | RunError::Bus(m) => f.write_str(m),
            RunError::Store(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RunError {}

impl From<StoreError> for RunError {
    fn from(e: StoreError) -> Self {
        RunError::Store(e)
    }
}

/// How long a node remembers an event id: a day beyond its window.
const KEEP_IDS_MS: i64 = 24 * 3600 * 1000;

pub struct Runner<S: Store> {
    graph: Arc<Graph>,
    router: Router,
    pub store: S,
    pub ports: Ports,
    stats: BTreeMap<String, NodeStats>,
    errors: Vec<String>,
    now: Millis,
    sinks: Option<Box<dyn Sinks + Send>>,
}

impl<S: Store> Runner<S> {
    pub fn new(graph: Graph, store: S, ports: Ports) -> Result<Runner<S>, RunError> {
        let router = Router::new(&graph)
            .map_err(|e| RunError::Graph(format!("a route pattern is invalid: {e}")))?;
        let stats = graph
            .nodes
            .keys()
            .map(|n| (n.clone(), NodeStats::default()))
            .collect();
        Ok(Runner {
            graph: Arc::new(graph),
            router,
            store,
            ports,
            stats,
            errors: Vec::new(),
            now: Millis::MIN,
            sinks: None,
        })
    }

    /// Delivers every event on the bus (raw and emitted) to the apps' sinks.
    pub fn with_sinks(mut self, sinks: Box<dyn Sinks + Send>) -> Runner<S> {
        self.sinks = Some(sinks);
        self
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The engine's time: the latest of every `advance`.
    pub fn now(&self) -> Millis {
        self.now
    }

    pub fn stats(&self) -> &BTreeMap<String, NodeStats> {
        &self.stats
    }

    /// Node errors since the last call, as messages.
    pub fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.store.next_deadline()
    }

    pub fn commit(&mut self) -> Result<(), RunError> {
        if let Some(sinks) = &mut self.sinks {
            sinks.commit().map_err(RunError::Bus)?;
        }
        Ok(self.store.commit()?)
    }

    /// The state of `node` for `key` as `expect state` sees it.
    pub fn state(&mut self, node: &str, key: &str) -> Result<Value, RunError> {
        let graph = self.graph.clone();
        let def = graph
            .nodes
            .get(node)
            .ok_or_else(|| RunError::Graph(format!("no node {node}")))?;
        let stored = self.store.load(node, key)?;
        Ok(engine::state_view(def, stored.as_ref().map(|s| &s.state)))
    }

    /// Moves the clock to `to` (never back), firing every deadline up to it
    /// in order, each at its own time.
    pub fn advance(&mut self, to: Millis, bus: &mut dyn EventBus) -> Result<(), RunError> {
        let mut guard = 0u32;
        while let Some(next) = self.store.next_deadline().filter(|d| *d <= to) {
            self.now = self.now.max(next);
            for due in self.store.due(next)? {
                self.flush(&due.node, &due.key, bus)?;
            }
            guard += 1;
            if guard > 1_000_000 {
                return Err(RunError::Graph("deadlines do not advance".into()));
            }
        }
        self.now = self.now.max(to);
        Ok(())
    }

    /// Puts an event on the bus at the current time and runs everything it
    /// causes, breadth-first.
    pub fn publish(&mut self, event: Event, bus: &mut dyn EventBus) -> Result<(), RunError> {
        let mut queue = VecDeque::from([event]);
        self.cascade(&mut queue, bus)
    }

    fn cascade(
        &mut self,
        queue: &mut VecDeque<Event>,
        bus: &mut dyn EventBus,
    ) -> Result<(), RunError> {
        while let Some(event) = queue.pop_front() {
            if let Some(sinks) = &mut self.sinks {
                let messages = sinks.deliver(&self.graph, &event, self.now);
                self.errors.extend(messages);
            }
            for routed in self.router.route(&event) {
                match routed {
                    Routed::Deliver(d) => self.deliver(d, bus, queue)?,
                    Routed::Refused {
                        route,
                        node,
                        max_hops,
                    } => {
                        self.stat(&node).dropped += 1;
                        self.errors.push(format!(
                            "note: {node}: event {} not delivered through {route}: max_hops {max_hops} reached",
                            event.id
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn stat(&mut self, node: &str) -> &mut NodeStats {
        if !self.stats.contains_key(node) {
            self.stats.insert(node.to_string(), NodeStats::default());
        }
        self.stats
            .get_mut(node)
            .unwrap_or_else(|| unreachable!("inserted above"))
    }

    /// Delivers one event to one node (routing already done).
    pub fn deliver(
        &mut self,
        d: Delivery,
        bus: &mut dyn EventBus,
        queue: &mut VecDeque<Event>,
    ) -> Result<(), RunError> {
        let graph = self.graph.clone();
        let Some(node) = graph.nodes.get(&d.node) else {
            self.errors
                .push(format!("route {} targets unknown node {}", d.route, d.node));
            return Ok(());
        };
        self.stat(&d.node).input += 1;
        let keep = KEEP_IDS_MS.saturating_add(window_of(node));
        if !self
            .store
            .remember(&d.node, &d.event.id, self.now.saturating_add(keep))?
        {
            self.stat(&d.node).dropped += 1;
            return Ok(());
        }
        match self.run_node(&graph, node, &d) {
            Ok((effects, dropped)) => {
                if dropped {
                    self.stat(&d.node).dropped += 1;
                }
                self.apply(node, effects, bus, queue)
            }
            Err(NodeError::Step(e)) => {
                self.stat(&d.node).errors += 1;
                self.errors.push(format!(
                    "error: {} ({}:{}): {e}",
                    d.node, node.span.file, node.span.line
                ));
                Ok(())
            }
            Err(NodeError::Store(e)) => Err(e.into()),
        }
    }

    fn run_node(
        &mut self,
        graph: &Graph,
        node: &NodeDef,
        d: &Delivery,
    ) -> Result<(Vec<Effect>, bool), NodeError> {
        let event = &d.event;
        match &node.kind {
            NodeKind::Summarizer { .. } | NodeKind::Transcriber { .. } => {
                let request = view_request(node, event)?;
                let object = match &request {
                    ViewRequest::Summary { image, .. } => image,
                    ViewRequest::Transcript { media, .. } => media,
                };
                let bytes = self.ports.objects.get(object).map_err(StepError)?;
                let input = ViewInput {
                    request: &request,
                    bytes: bytes.as_deref(),
                    detail: &event.detail,
                };
                let port = match node.kind {
                    NodeKind::Summarizer { .. } => self.ports.summarizer.summarize(input),
                    _ => self.ports.transcriber.transcribe(input),
                };
                let answer = port.map_err(StepError)?;
                let emitted = view_output(graph, node, &d.event_name, event, &answer)?;
                Ok((vec![Effect::Emit(emitted)], false))
            }
            NodeKind::Custom { .. } => {
                let answers = self
                    .ports
                    .custom
                    .invoke(node, &event.to_envelope())
                    .map_err(StepError)?;
                let mut effects = Vec::with_capacity(answers.len());
                for (i, a) in answers.iter().enumerate() {
                    effects.push(Effect::Emit(accept_custom(graph, node, event, i, a)?));
                }
                Ok((effects, false))
            }
            kind => {
                let input = Input::Event {
                    name: &d.event_name,
                    event,
                };
                if !engine::is_stateful(kind) {
                    let step = engine::step(graph, node, "", None, input, self.now)?;
                    return Ok((step.effects, step.dropped));
                }
                let key = engine::key_of(node, event)?;
                let stored = self.store.load(&node.name, &key)?;
                let version = stored.as_ref().map_or(0, |s| s.version);
                let step =
                    engine::step(graph, node, &key, stored.map(|s| s.state), input, self.now)?;
                let value = step.state.map(|s| (s, step.deadline));
                self.store.save(&node.name, &key, version, value)?;
                Ok((step.effects, step.dropped))
            }
        }
    }

    fn flush(&mut self, node: &str, key: &str, bus: &mut dyn EventBus) -> Result<(), RunError> {
        let graph = self.graph.clone();
        let Some(def) = graph.nodes.get(node) else {
            return Ok(());
        };
        let Some(stored) = self.store.load(node, key)? else {
            return Ok(());
        };
        let step = match engine::step(&graph, def, key, Some(stored.state), Input::Flush, self.now)
        {
            Ok(step) => step,
            Err(e) => {
                self.stat(node).errors += 1;
                self.errors.push(format!("error: {node}: {e}"));
                // Drop the broken state so its deadline does not fire forever.
                self.store.save(node, key, stored.version, None)?;
                return Ok(());
            }
        };
        let deadline = step.deadline.filter(|d| *d > self.now);
        let value = step.state.map(|s| (s, deadline));
        self.store.save(node, key, stored.version, value)?;
        let mut queue = VecDeque::new();
        self.apply(def, step.effects, bus, &mut queue)?;
        self.cascade(&mut queue, bus)
    }

    fn apply(
        &mut self,
        node: &NodeDef,
        effects: Vec<Effect>,
        bus: &mut dyn EventBus,
        queue: &mut VecDeque<Event>,
    ) -> Result<(), RunError> {
        for effect in effects {
            match effect {
                Effect::Concat {
                    sources, target, ..
                } => {
                    let mut bytes = Vec::new();
                    let mut missing = Vec::new();
                    for s in &sources {
                        match self.ports.objects.get(s) {
                            Ok(Some(b)) => bytes.extend(b),
                            Ok(None) => missing.push(s.to_string()),
                            Err(e) => self.errors.push(format!("warning: {}: {e}", node.name)),
                        }
                    }
                    if let Some(first) = missing.first() {
                        self.errors.push(format!(
                            "warning: {}: {} of {} piece(s) not found locally (first: {first}); {target} holds the others",
                            node.name,
                            missing.len(),
                            sources.len()
                        ));
                    }
                    if let Err(e) = self.ports.objects.put(&target, &bytes) {
                        self.stat(&node.name).errors += 1;
                        self.errors.push(format!("error: {}: {e}", node.name));
                    }
                }
                Effect::Emit(emitted) => {
                    self.stat(&node.name).output += 1;
                    bus.publish(&emitted).map_err(RunError::Bus)?;
                    queue.push_back(emitted.event);
                }
            }
        }
        Ok(())
    }
}

enum NodeError {
    Step(StepError),
    Store(StoreError),
}

impl From<StepError> for NodeError {
    fn from(e: StepError) -> Self {
        NodeError::Step(e)
    }
}

impl From<StoreError> for NodeError {
    fn from(e: StoreError) -> Self {
        NodeError::Store(e)
    }
}

/// The longest time a node holds a key.
fn window_of(node: &NodeDef) -> i64 {
    let ms = match &node.kind {
        NodeKind::Counter { every, .. }
        | NodeKind::Aggregator { every, .. }
        | NodeKind::Stitcher { every, .. } => every.window_ms.unwrap_or(0),
        NodeKind::Dedupe { window_ms, .. } | NodeKind::Combiner { window_ms, .. } => *window_ms,
        _ => 0,
    };
    i64::try_from(ms).unwrap_or(i64::MAX)
}
