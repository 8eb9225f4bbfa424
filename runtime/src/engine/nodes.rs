//! The executors of the built-in filters and transformers (DESIGN §4):
//! counter, aggregator and stitcher (windows: `every N events or T`,
//! whichever first), dedupe, splitter and combiner.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::event::{derive_id, Event, FlowMeta};
use super::mapping::{data_of, lookup, snake_case, Scope};
use super::state::{
    Acc, AggregatorState, Chain, CombinerState, CounterState, DedupeState, Last, NodeState, Part,
    Piece, StitcherState,
};
use super::time::{format_rfc3339, Millis};
use super::{Effect, Emitted, Input, ObjectRef, Step, StepError};
use crate::graph::{AggregateFn, Graph, NodeDef, NodeKind, Threshold};

/// The state key of `event` for a stateful node: the key field's string,
/// or the JSON text of a number or boolean. Also checks the other fields a
/// step needs (a stitcher's content and order), so that a driver calling
/// this first never hands state to a step that fails on the input.
pub fn key_of(node: &NodeDef, event: &Event) -> Result<String, StepError> {
    if let NodeKind::Stitcher {
        content, order_by, ..
    } = &node.kind
    {
        for (what, path) in [("content", content), ("order", order_by)] {
            if lookup(&event.detail, path).is_none() {
                return Err(StepError(format!(
                    "event {} has no {what} at `{}`",
                    event.id,
                    path.join(".")
                )));
            }
        }
    }
    let path = match &node.kind {
        NodeKind::Counter { key, .. }
        | NodeKind::Aggregator { key, .. }
        | NodeKind::Stitcher { key, .. }
        | NodeKind::Dedupe { key, .. }
        | NodeKind::Combiner { key, .. } => key,
        _ => return Ok(String::new()),
    };
    match lookup(&event.detail, path) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
        _ => Err(StepError(format!(
            "event {} has no value at the key `{}`",
            event.id,
            path.join(".")
        ))),
    }
}

pub fn step(
    graph: &Graph,
    node: &NodeDef,
    key: &str,
    state: Option<NodeState>,
    input: Input<'_>,
    now: Millis,
) -> Result<Step, StepError> {
    let out = Out { graph, node, key };
    let wrong = || {
        StepError(format!(
            "node {} was given state of another kind",
            node.name
        ))
    };
    match &node.kind {
        NodeKind::Counter { every, .. } => {
            let st = match state {
                None => None,
                Some(NodeState::Counter(s)) => Some(s),
                Some(_) => return Err(wrong()),
            };
            window_step(
                every,
                st,
                input,
                now,
                |st, _, ev| Ok(counter_add(st, ev, now)),
                |s, at| out.counter_fire(s, at),
                NodeState::Counter,
            )
        }
        NodeKind::Aggregator { every, .. } => {
            let st = match state {
                None => None,
                Some(NodeState::Aggregator(s)) => Some(s),
                Some(_) => return Err(wrong()),
            };
            window_step(
                every,
                st,
                input,
                now,
                |st, _, ev| Ok(out.aggregator_add(st, ev, now)),
                |s, at| out.aggregator_fire(s, at),
                NodeState::Aggregator,
            )
        }
        NodeKind::Stitcher { every, .. } => {
            let st = match state {
                None => None,
                Some(NodeState::Stitcher(s)) => Some(s),
                Some(_) => return Err(wrong()),
            };
            window_step(
                every,
                st,
                input,
                now,
                |st, _, ev| out.stitcher_add(st, ev, now),
                |s, at| out.stitcher_fire(s, at),
                NodeState::Stitcher,
            )
        }
        NodeKind::Dedupe { window_ms, .. } => {
            let st = match state {
                None => None,
                Some(NodeState::Dedupe(s)) => Some(s),
                Some(_) => return Err(wrong()),
            };
            out.dedupe(*window_ms, st, input, now)
        }
        NodeKind::Combiner { window_ms, .. } => {
            let st = match state {
                None => None,
                Some(NodeState::Combiner(s)) => Some(s),
                Some(_) => return Err(wrong()),
            };
            out.combiner(*window_ms, st, input, now)
        }
        NodeKind::Splitter { over } => match input {
            Input::Event { name, event } => out.splitter(over, name, event),
            Input::Flush => Ok(Step::default()),
        },
        NodeKind::Summarizer { .. } | NodeKind::Transcriber { .. } | NodeKind::Custom { .. } => {
            Err(StepError(format!(
                "node {} is a {}: it runs through a port, not `step`",
                node.name,
                node.kind.name()
            )))
        }
    }
}

/// A window that fires on a count or a time, whichever comes first.
trait Window {
    fn opened_at(&self) -> Millis;
    fn len(&self) -> u64;
}

impl Window for CounterState {
    fn opened_at(&self) -> Millis {
        self.opened_at
    }
    fn len(&self) -> u64 {
        self.count
    }
}

impl Window for AggregatorState {
    fn opened_at(&self) -> Millis {
        self.opened_at
    }
    fn len(&self) -> u64 {
        self.count
    }
}

impl Window for StitcherState {
    fn opened_at(&self) -> Millis {
        self.opened_at
    }
    fn len(&self) -> u64 {
        self.pieces.len() as u64
    }
}

/// The shared window logic: a due window fires first (at its deadline),
/// then the event is added (opening a window at `now` if none is open),
/// then the count threshold is checked.
fn window_step<S: Window>(
    every: &Threshold,
    state: Option<S>,
    input: Input<'_>,
    now: Millis,
    add: impl FnOnce(Option<S>, &str, &Event) -> Result<S, StepError>,
    fire: impl Fn(S, Millis) -> Result<Vec<Effect>, StepError>,
    wrap: impl Fn(S) -> NodeState,
) -> Result<Step, StepError> {
    let due = |s: &S| {
        every
            .window_ms
            .map(|w| s.opened_at().saturating_add(w as i64))
    };
    let mut effects = Vec::new();
    let mut state = state;
    if let Some(s) = state.take() {
        match due(&s) {
            Some(d) if d <= now => effects.extend(fire(s, d)?),
            _ => state = Some(s),
        }
    }
    if let Input::Event { name, event } = input {
        let s = add(state.take(), name, event)?;
        if every.count.is_some_and(|c| s.len() >= c) {
            effects.extend(fire(s, event.time)?);
        } else {
            state = Some(s);
        }
    }
    let deadline = state.as_ref().and_then(due);
    Ok(Step {
        state: state.map(wrap),
        deadline,
        effects,
        dropped: false,
    })
}

fn last_of(event: &Event) -> Last {
    Last {
        id: event.id.clone(),
        time: event.time,
        detail: event.detail.clone(),
    }
}

fn counter_add(state: Option<CounterState>, event: &Event, now: Millis) -> CounterState {
    match state {
        Some(mut s) => {
            s.count += 1;
            s.first_at = s.first_at.min(event.time);
            s.last_at = s.last_at.max(event.time);
            s.last = last_of(event);
            s
        }
        None => CounterState {
            opened_at: now,
            count: 1,
            first_at: event.time,
            last_at: event.time,
            last: last_of(event),
        },
    }
}

fn ts(ms: Millis) -> Value {
    Value::String(format_rfc3339(ms))
}

fn float(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// Builds output events of one node for one key.
struct Out<'a> {
    graph: &'a Graph,
    node: &'a NodeDef,
    key: &'a str,
}

impl Out<'_> {
    /// The output event: `data` from the mapping (or `default`), `profile`
    /// and `application` from `envelope`, flow metadata from `from`.
    fn emit(
        &self,
        id: String,
        time: Millis,
        envelope: &Value,
        from: FlowMeta,
        scope: &Scope<'_>,
        default: impl FnOnce() -> Map<String, Value>,
    ) -> Result<Effect, StepError> {
        let emit = self
            .node
            .emit
            .as_ref()
            .ok_or_else(|| StepError(format!("node {} has no `emit`", self.node.name)))?;
        let data = match &emit.mapping {
            Some(entries) => scope.record(entries),
            None => default(),
        };
        Ok(Effect::Emit(derived_event(
            self.graph,
            &emit.event,
            &self.node.name,
            id,
            time,
            envelope,
            data,
            from,
        )))
    }

    fn counter_fire(&self, s: CounterState, at: Millis) -> Result<Vec<Effect>, StepError> {
        let mut builtins = Map::new();
        builtins.insert("count".into(), Value::from(s.count));
        builtins.insert("first_at".into(), ts(s.first_at));
        builtins.insert("last_at".into(), ts(s.last_at));
        let scope = Scope {
            inputs: vec![(input_name(self.node), &s.last.detail)],
            builtins,
        };
        let id = derive_id(&[&self.node.name, self.key, &s.last.id]);
        let meta = FlowMeta::read(&s.last.detail, &s.last.id);
        let effect = self.emit(id, at, &s.last.detail, meta, &scope, || {
            let mut data = data_of(&s.last.detail);
            data.extend(scope.builtins.clone());
            data
        })?;
        Ok(vec![effect])
    }

    fn aggregator_add(
        &self,
        state: Option<AggregatorState>,
        event: &Event,
        now: Millis,
    ) -> AggregatorState {
        let NodeKind::Aggregator {
            collect,
            aggregates,
            ..
        } = &self.node.kind
        else {
            unreachable_state()
        };
        let mut s = state.unwrap_or_else(|| AggregatorState {
            opened_at: now,
            count: 0,
            first_at: event.time,
            last_at: event.time,
            records: Chain::new(),
            accs: vec![Acc::default(); aggregates.len()],
            last: last_of(event),
        });
        s.count += 1;
        s.first_at = s.first_at.min(event.time);
        s.last_at = s.last_at.max(event.time);
        let mut record = Map::new();
        for c in collect {
            if let Some(v) = lookup(&event.detail, &c.path) {
                record.insert(c.name.clone(), v.clone());
            }
        }
        s.records.push(Value::Object(record));
        for (agg, acc) in aggregates.iter().zip(s.accs.iter_mut()) {
            if agg.function == AggregateFn::Count {
                acc.n += 1;
                continue;
            }
            let x = agg
                .path
                .as_ref()
                .and_then(|p| lookup(&event.detail, p))
                .and_then(Value::as_f64);
            if let Some(x) = x {
                acc.n += 1;
                acc.sum += x;
                acc.min = Some(acc.min.map_or(x, |m| m.min(x)));
                acc.max = Some(acc.max.map_or(x, |m| m.max(x)));
            }
        }
        s.last = last_of(event);
        s
    }

    fn aggregator_fire(&self, s: AggregatorState, at: Millis) -> Result<Vec<Effect>, StepError> {
        let mut builtins = aggregator_builtins(self.node, &s);
        builtins.insert("records".into(), Value::Array(s.records.to_vec()));
        let scope = Scope {
            inputs: vec![(input_name(self.node), &s.last.detail)],
            builtins,
        };
        let id = derive_id(&[&self.node.name, self.key, &s.last.id]);
        let meta = FlowMeta::read(&s.last.detail, &s.last.id);
        let effect = self.emit(id, at, &s.last.detail, meta, &scope, || {
            scope.builtins.clone()
        })?;
        Ok(vec![effect])
    }

    fn stitcher_add(
        &self,
        state: Option<StitcherState>,
        event: &Event,
        now: Millis,
    ) -> Result<StitcherState, StepError> {
        let NodeKind::Stitcher {
            content, order_by, ..
        } = &self.node.kind
        else {
            unreachable_state()
        };
        let missing = |what: &str, path: &[String]| {
            StepError(format!(
                "event {} has no {what} at `{}`",
                event.id,
                path.join(".")
            ))
        };
        let piece = Piece {
            order: lookup(&event.detail, order_by)
                .cloned()
                .ok_or_else(|| missing("order", order_by))?,
            content: lookup(&event.detail, content)
                .cloned()
                .ok_or_else(|| missing("content", content))?,
            time: event.time,
            id: event.id.clone(),
        };
        let mut s = state.unwrap_or_else(|| StitcherState {
            opened_at: now,
            pieces: Chain::new(),
            last: last_of(event),
        });
        s.pieces.push(piece);
        s.last = last_of(event);
        Ok(s)
    }

    fn stitcher_fire(&self, s: StitcherState, at: Millis) -> Result<Vec<Effect>, StepError> {
        let NodeKind::Stitcher {
            content_is_object, ..
        } = &self.node.kind
        else {
            unreachable_state()
        };
        let mut pieces = s.pieces.to_vec();
        pieces.sort_by(|a, b| order_cmp(&a.order, &b.order));
        let id = derive_id(&[&self.node.name, self.key, &s.last.id]);
        let mut effects = Vec::new();
        let content = if *content_is_object {
            let sources: Vec<ObjectRef> = pieces
                .iter()
                .filter_map(|p| ObjectRef::from_value(&p.content))
                .collect();
            let first = pieces.first().map(|p| &p.content);
            let bucket = sources.first().map_or("local", |o| o.bucket.as_str());
            let ext = sources
                .first()
                .and_then(|o| o.key.rsplit_once('.'))
                .filter(|(_, e)| !e.contains('/'))
                .map_or(String::new(), |(_, e)| format!(".{e}"));
            let target = ObjectRef {
                bucket: bucket.to_string(),
                key: format!("stitched/{}/{id}{ext}", self.node.name),
            };
            let content_type = first
                .and_then(|c| c.get("content_type"))
                .and_then(Value::as_str)
                .map(String::from);
            let mut obj = Map::new();
            obj.insert("bucket".into(), Value::from(target.bucket.as_str()));
            obj.insert("key".into(), Value::from(target.key.as_str()));
            if let Some(ct) = &content_type {
                obj.insert("content_type".into(), Value::from(ct.as_str()));
            }
            effects.push(Effect::Concat {
                sources,
                target,
                content_type,
            });
            Value::Object(obj)
        } else {
            let texts: Vec<&str> = pieces.iter().filter_map(|p| p.content.as_str()).collect();
            Value::from(texts.join("\n"))
        };
        let mut builtins = Map::new();
        builtins.insert("content".into(), content);
        builtins.insert("pieces".into(), Value::from(pieces.len()));
        let (first, last) = (pieces.first(), pieces.last());
        builtins.insert("first_at".into(), ts(first.map_or(at, |p| p.time)));
        builtins.insert("last_at".into(), ts(last.map_or(at, |p| p.time)));
        let scope = Scope {
            inputs: vec![(input_name(self.node), &s.last.detail)],
            builtins,
        };
        let meta = FlowMeta::read(&s.last.detail, &s.last.id);
        effects.push(self.emit(id, at, &s.last.detail, meta, &scope, || {
            scope.builtins.clone()
        })?);
        Ok(effects)
    }

    fn dedupe(
        &self,
        window_ms: u64,
        state: Option<DedupeState>,
        input: Input<'_>,
        now: Millis,
    ) -> Result<Step, StepError> {
        let live = state.filter(|s| s.expires_at > now);
        let Input::Event { name, event } = input else {
            let deadline = live.as_ref().map(|s| s.expires_at);
            return Ok(Step {
                state: live.map(NodeState::Dedupe),
                deadline,
                ..Step::default()
            });
        };
        if let Some(s) = live {
            return Ok(Step {
                deadline: Some(s.expires_at),
                state: Some(NodeState::Dedupe(s)),
                effects: Vec::new(),
                dropped: true,
            });
        }
        let scope = Scope {
            inputs: vec![(name, &event.detail)],
            builtins: Map::new(),
        };
        let id = derive_id(&[&self.node.name, &event.id]);
        let effect = self.emit(id, event.time, &event.detail, event.flow(), &scope, || {
            data_of(&event.detail)
        })?;
        let expires_at = now.saturating_add(window_ms as i64);
        Ok(Step {
            state: Some(NodeState::Dedupe(DedupeState {
                seen_at: now,
                expires_at,
                id: event.id.clone(),
            })),
            deadline: Some(expires_at),
            effects: vec![effect],
            dropped: false,
        })
    }

    fn combiner(
        &self,
        window_ms: u64,
        state: Option<CombinerState>,
        input: Input<'_>,
        now: Millis,
    ) -> Result<Step, StepError> {
        let window = window_ms as i64;
        let mut s = state.unwrap_or(CombinerState {
            parts: Default::default(),
        });
        s.parts
            .retain(|_, p| p.received_at.saturating_add(window) > now);
        let mut effects = Vec::new();
        if let Input::Event { name, event } = input {
            s.parts.insert(
                name.to_string(),
                Part {
                    id: event.id.clone(),
                    time: event.time,
                    received_at: now,
                    detail: event.detail.clone(),
                },
            );
            if self.node.inputs.iter().all(|i| s.parts.contains_key(i)) {
                effects.push(self.combine(&s, event)?);
                s.parts.clear();
            }
        }
        let deadline = s
            .parts
            .values()
            .map(|p| p.received_at.saturating_add(window))
            .min();
        Ok(Step {
            state: (!s.parts.is_empty()).then_some(NodeState::Combiner(s)),
            deadline,
            effects,
            dropped: false,
        })
    }

    fn combine(&self, s: &CombinerState, trigger: &Event) -> Result<Effect, StepError> {
        let parts: Vec<(&str, &Part)> = self
            .node
            .inputs
            .iter()
            .filter_map(|i| s.parts.get(i).map(|p| (i.as_str(), p)))
            .collect();
        let scope = Scope {
            inputs: parts.iter().map(|(n, p)| (*n, &*p.detail)).collect(),
            builtins: Map::new(),
        };
        let ids: Vec<&str> = parts.iter().map(|(_, p)| p.id.as_str()).collect();
        let mut id_parts = vec![self.node.name.as_str(), self.key];
        id_parts.extend(ids);
        let id = derive_id(&id_parts);
        let first = parts.first().map_or(&trigger.detail, |(_, p)| &p.detail);
        self.emit(id, trigger.time, first, trigger.flow(), &scope, || {
            parts
                .iter()
                .map(|(n, p)| (snake_case(n), Value::Object(data_of(&p.detail))))
                .collect()
        })
    }

    fn splitter(&self, over: &[String], name: &str, event: &Event) -> Result<Step, StepError> {
        let items = match lookup(&event.detail, over) {
            Some(Value::Array(items)) => items.as_slice(),
            None | Some(Value::Null) => &[],
            Some(_) => {
                return Err(StepError(format!(
                    "event {} has no list at `{}`",
                    event.id,
                    over.join(".")
                )))
            }
        };
        let mut base = data_of(&event.detail);
        if over.len() == 2 && over[0] == "data" {
            base.remove(&over[1]);
        }
        let total = items.len();
        let mut effects = Vec::with_capacity(total);
        for (index, item) in items.iter().enumerate() {
            let mut builtins = Map::new();
            builtins.insert("item".into(), item.clone());
            builtins.insert("index".into(), Value::from(index));
            builtins.insert("total".into(), Value::from(total));
            let scope = Scope {
                inputs: vec![(name, &event.detail)],
                builtins,
            };
            let id = derive_id(&[&self.node.name, &event.id, &index.to_string()]);
            effects.push(
                self.emit(id, event.time, &event.detail, event.flow(), &scope, || {
                    let mut data = base.clone();
                    data.extend(scope.builtins.clone());
                    data
                })?,
            );
        }
        Ok(Step {
            effects,
            ..Step::default()
        })
    }
}

fn aggregator_builtins(node: &NodeDef, s: &AggregatorState) -> Map<String, Value> {
    let mut b = Map::new();
    b.insert("count".into(), Value::from(s.count));
    b.insert("first_at".into(), ts(s.first_at));
    b.insert("last_at".into(), ts(s.last_at));
    if let NodeKind::Aggregator { aggregates, .. } = &node.kind {
        for (agg, acc) in aggregates.iter().zip(&s.accs) {
            let v = match agg.function {
                AggregateFn::Count => Value::from(acc.n),
                AggregateFn::Sum => float(acc.sum),
                AggregateFn::Min => acc.min.map_or(Value::Null, float),
                AggregateFn::Max => acc.max.map_or(Value::Null, float),
                AggregateFn::Avg if acc.n > 0 => float(acc.sum / acc.n as f64),
                AggregateFn::Avg => Value::Null,
            };
            b.insert(agg.name.clone(), v);
        }
    }
    b
}

/// Orders `order_by` values: numbers numerically, strings (timestamps
/// included) lexically, anything else by its JSON text.
fn order_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

fn input_name(node: &NodeDef) -> &str {
    node.inputs.first().map_or("", String::as_str)
}

#[allow(clippy::panic)]
fn unreachable_state() -> ! {
    // Only called from match arms of the node's own kind.
    panic!("node kind changed between dispatch and execution")
}

/// A derived event in the standard envelope.
#[allow(clippy::too_many_arguments)]
pub(crate) fn derived_event(
    graph: &Graph,
    event_name: &str,
    node: &str,
    id: String,
    time: Millis,
    envelope: &Value,
    data: Map<String, Value>,
    from: FlowMeta,
) -> Emitted {
    let (source, detail_type) = match graph.events.get(event_name) {
        Some(def) => (def.source.clone(), def.detail_type.clone()),
        None => (format!("flow.{}", graph.project), event_name.to_string()),
    };
    let mut detail = Map::new();
    if let Some(p) = envelope.get("profile") {
        detail.insert("profile".into(), p.clone());
    }
    detail.insert("data".into(), Value::Object(data));
    if let Some(a) = envelope.get("application") {
        detail.insert("application".into(), a.clone());
    }
    let mut detail = Value::Object(detail);
    from.next(node).write(&mut detail);
    Emitted {
        name: event_name.to_string(),
        event: Event {
            id,
            source,
            detail_type,
            time,
            detail: std::sync::Arc::new(detail),
        },
    }
}

/// The state of one key as `expect state` sees it (docs/runtime.md).
pub fn state_view(node: &NodeDef, state: Option<&NodeState>) -> Value {
    let mut m = Map::new();
    match (state, &node.kind) {
        (Some(NodeState::Counter(s)), _) => {
            m.insert("count".into(), Value::from(s.count));
            m.insert("first_at".into(), ts(s.first_at));
            m.insert("last_at".into(), ts(s.last_at));
            m.insert("opened_at".into(), ts(s.opened_at));
        }
        (Some(NodeState::Aggregator(s)), _) => {
            m = aggregator_builtins(node, s);
            m.insert("records".into(), Value::Array(s.records.to_vec()));
            m.insert("opened_at".into(), ts(s.opened_at));
        }
        (Some(NodeState::Stitcher(s)), _) => {
            let mut pieces = s.pieces.to_vec();
            pieces.sort_by(|a, b| order_cmp(&a.order, &b.order));
            m.insert("pieces".into(), Value::from(pieces.len()));
            let order = pieces.into_iter().map(|p| p.order).collect();
            m.insert("order".into(), Value::Array(order));
            m.insert("opened_at".into(), ts(s.opened_at));
        }
        (Some(NodeState::Dedupe(s)), _) => {
            m.insert("seen".into(), Value::Bool(true));
            m.insert("seen_at".into(), ts(s.seen_at));
            m.insert("until".into(), ts(s.expires_at));
        }
        (Some(NodeState::Combiner(_)), _) | (None, NodeKind::Combiner { .. }) => {
            let empty = CombinerState {
                parts: Default::default(),
            };
            let s = match state {
                Some(NodeState::Combiner(s)) => s,
                _ => &empty,
            };
            let have = node.inputs.iter().filter(|i| s.parts.contains_key(*i));
            let missing = node.inputs.iter().filter(|i| !s.parts.contains_key(*i));
            m.insert(
                "parts".into(),
                have.map(|i| Value::from(i.as_str())).collect(),
            );
            m.insert(
                "waiting_for".into(),
                missing.map(|i| Value::from(i.as_str())).collect(),
            );
        }
        (None, NodeKind::Counter { .. }) => {
            m.insert("count".into(), Value::from(0));
        }
        (None, NodeKind::Aggregator { .. }) => {
            m.insert("count".into(), Value::from(0));
            m.insert("records".into(), Value::Array(Vec::new()));
        }
        (None, NodeKind::Stitcher { .. }) => {
            m.insert("pieces".into(), Value::from(0));
            m.insert("order".into(), Value::Array(Vec::new()));
        }
        (None, NodeKind::Dedupe { .. }) => {
            m.insert("seen".into(), Value::Bool(false));
        }
        (None, _) => {}
    }
    Value::Object(m)
}
