//! Routes and the graph as a whole.
//! Input: nodes and events in the model, route declarations. Output:
//! `model.routes` (explicit and implicit) and the whole-graph diagnostics:
//! route targets (E031), cycles (E030), unreachable nodes (E032), starved
//! combiners (E033), unconsumed and unused events (W001, W002), and the
//! EventBridge quotas (E040–E043).
//! Invariant: every node input has at least one route into the node.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::condition::MAX_COMBINATIONS;
use super::model::{EventOrigin, NodeKind, Route};
use super::resolve::Decls;
use super::Ctx;
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::syntax::ast::{self, Span};

/// EventBridge quotas the compiler enforces.
pub const MAX_PATTERN_CHARS: usize = 2048;
pub const MAX_RULES_PER_BUS: usize = 300;
pub const MAX_TARGETS_PER_RULE: usize = 5;

impl Ctx<'_> {
    pub(super) fn check_routes(&mut self, decls: &Decls<'_>) {
        let mut used_names: BTreeSet<String> = decls
            .routes
            .iter()
            .filter_map(|r| r.name.as_ref().map(|n| n.node.clone()))
            .collect();
        let mut explicit: BTreeSet<(String, String)> = BTreeSet::new();
        for route in &decls.routes {
            for t in &route.targets {
                explicit.insert((route.event.node.clone(), t.node.clone()));
            }
            if let Some(r) = self.check_route(route, decls, &mut used_names) {
                self.model.routes.push(r);
            }
        }
        // Node inputs without an explicit route get an unconditional one.
        let nodes: Vec<(String, Vec<String>, Span)> = self
            .model
            .nodes
            .values()
            .map(|n| (n.name.clone(), n.inputs.clone(), n.span))
            .collect();
        for (node, inputs, span) in nodes {
            for input in inputs {
                if explicit.contains(&(input.clone(), node.clone())) {
                    continue;
                }
                let Some(event) = self.model.events.get(&input) else {
                    continue;
                };
                let pattern = base_pattern(&event.source, &event.detail_type);
                let name = unique_name(&format!("{input}To{node}"), &mut used_names);
                self.model.routes.push(Route {
                    name,
                    event: input.clone(),
                    targets: vec![node.clone()],
                    pattern,
                    max_hops: None,
                    implicit: true,
                    span,
                });
            }
        }
        // Apps deliver sinks with one rule per distinct sink event, on the
        // same bus (docs/aws-mapping.md).
        let sink_rules: usize = decls
            .apps
            .iter()
            .map(|a| {
                a.sinks
                    .iter()
                    .map(|s| s.event.node.as_str())
                    .collect::<BTreeSet<_>>()
                    .len()
            })
            .sum();
        let total = self.model.routes.len() + sink_rules;
        if total > MAX_RULES_PER_BUS {
            let at = MAX_RULES_PER_BUS.min(self.model.routes.len().saturating_sub(1));
            let span = self
                .model
                .routes
                .get(at)
                .map_or(Span::default(), |r| r.span);
            let d = Diagnostic::new(
                Code::TooManyRules,
                format!(
                    "the project needs {total} rules ({} routes, {sink_rules} for app sinks), more than the {MAX_RULES_PER_BUS} EventBridge allows on one bus",
                    self.model.routes.len()
                ),
            )
            .primary(span, format!("rule {} of {total}", at + 1))
            .help("merge routes with `in [...]` or `or`, or split the project into several");
            self.push(d);
        }
    }

    fn check_route(
        &mut self,
        route: &ast::RouteDecl,
        decls: &Decls<'_>,
        used_names: &mut BTreeSet<String>,
    ) -> Option<Route> {
        let event_name = &route.event;
        let Some(event) = self.model.events.get(&event_name.node).cloned() else {
            if !self.poisoned.contains(&event_name.node) {
                let names = self.event_names();
                self.unknown_names.push(event_name.node.clone());
                self.push(
                    Diagnostic::new(
                        Code::UnknownEvent,
                        format!("route from unknown event `{}`", event_name.node),
                    )
                    .primary(event_name.span, "no event has this name")
                    .maybe_help(did_you_mean(
                        &event_name.node,
                        names.iter().map(String::as_str),
                    )),
                );
            }
            return None;
        };
        let mut ok = true;
        if route.targets.len() > MAX_TARGETS_PER_RULE {
            let span = route.targets[MAX_TARGETS_PER_RULE]
                .span
                .to(route.targets[route.targets.len() - 1].span);
            self.push(
                Diagnostic::new(
                    Code::TooManyTargets,
                    format!("route has {} targets; an EventBridge rule takes at most {MAX_TARGETS_PER_RULE}", route.targets.len()),
                )
                .primary(span, "too many targets")
                .help("split the route into several routes with the same condition"),
            );
            ok = false;
        }
        for target in &route.targets {
            ok &= self.check_route_target(route, target, decls);
        }
        let mut pattern = base_pattern(&event.source, &event.detail_type);
        if let Some(condition) = &route.when {
            match self.compile_condition(condition, &event.name, &event.schema) {
                Some(compiled) => {
                    if compiled.combinations > MAX_COMBINATIONS {
                        self.push(
                            Diagnostic::new(
                                Code::TooManyCombinations,
                                format!(
                                    "the pattern has {} `$or` combinations",
                                    compiled.combinations
                                ),
                            )
                            .primary(
                                condition.span(),
                                format!("EventBridge allows at most {MAX_COMBINATIONS}"),
                            )
                            .help("simplify the condition, or split the route"),
                        );
                        ok = false;
                    }
                    if let (Some(detail), Some(obj)) = (compiled.detail, pattern.as_object_mut()) {
                        obj.insert("detail".to_string(), detail);
                    }
                }
                None => ok = false,
            }
        }
        let chars = pattern.to_string().chars().count();
        if ok && chars > MAX_PATTERN_CHARS {
            self.push(
                Diagnostic::new(
                    Code::PatternTooLong,
                    format!("the event pattern is {chars} characters long; EventBridge allows {MAX_PATTERN_CHARS}"),
                )
                .primary(route.when.as_ref().map_or(route.span, |c| c.span()), "this condition")
                .help("shorten the value lists, or split the route into several"),
            );
            ok = false;
        }
        if !ok {
            return None;
        }
        let name = match &route.name {
            Some(n) => n.node.clone(),
            None => {
                let targets: Vec<&str> = route.targets.iter().map(|t| t.node.as_str()).collect();
                unique_name(
                    &format!("{}To{}", event.name, targets.join("And")),
                    used_names,
                )
            }
        };
        Some(Route {
            name,
            event: event.name.clone(),
            targets: route.targets.iter().map(|t| t.node.clone()).collect(),
            pattern,
            max_hops: route.max_hops.as_ref().map(|h| h.node),
            implicit: false,
            span: route.name.as_ref().map_or(route.event.span, |n| n.span),
        })
    }

    fn check_route_target(
        &mut self,
        route: &ast::RouteDecl,
        target: &ast::Name,
        decls: &Decls<'_>,
    ) -> bool {
        if let Some(node) = self.model.nodes.get(&target.node) {
            if node.inputs.contains(&route.event.node) {
                return true;
            }
            let inputs: Vec<String> = node.inputs.iter().map(|i| format!("`{i}`")).collect();
            let decl_span = node.span;
            self.push(
                Diagnostic::new(
                    Code::RouteTarget,
                    format!(
                        "`{}` does not take `{}` as input",
                        target.node, route.event.node
                    ),
                )
                .primary(target.span, format!("takes {}", inputs.join(", ")))
                .secondary(decl_span, "inputs declared here")
                .help(format!(
                    "route one of its inputs to it, or add `{}` to its inputs",
                    route.event.node
                )),
            );
            return false;
        }
        if self.poisoned.contains(&target.node) || decls.node(&target.node).is_some() {
            return false;
        }
        let names: Vec<String> = self.model.nodes.keys().cloned().collect();
        self.push(
            Diagnostic::new(
                Code::UnknownNode,
                format!("route to unknown node `{}`", target.node),
            )
            .primary(target.span, "no node has this name")
            .maybe_help(did_you_mean(&target.node, names.iter().map(String::as_str))),
        );
        false
    }

    pub(super) fn check_graph(&mut self, decls: &Decls<'_>) {
        self.check_cycles(decls);
        self.check_reachability(decls);
        self.check_consumption(decls);
    }

    /// Cycles among nodes (E030). A cycle is allowed when one of its routes
    /// declares `max_hops`, so only the graph of unbounded edges is searched.
    fn check_cycles(&mut self, decls: &Decls<'_>) {
        let mut bounded: BTreeSet<(&str, &str)> = BTreeSet::new();
        for route in &decls.routes {
            if route.max_hops.is_some() {
                for t in &route.targets {
                    bounded.insert((route.event.node.as_str(), t.node.as_str()));
                }
            }
        }
        let mut readers: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, n) in decls.nodes.iter().enumerate() {
            for input in &n.inputs {
                readers.entry(input.node.as_str()).or_default().push(i);
            }
        }
        // edges[i] = (event, j): node i emits `event`, which reaches node j.
        let mut edges: Vec<Vec<(String, usize)>> = vec![Vec::new(); decls.nodes.len()];
        let mut all_edges: Vec<Vec<(String, usize)>> = vec![Vec::new(); decls.nodes.len()];
        for (i, n) in decls.nodes.iter().enumerate() {
            for out in outputs_of(n) {
                for &j in readers.get(out.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                    let target = decls.nodes[j].name.node.as_str();
                    if !bounded.contains(&(out.as_str(), target)) {
                        edges[i].push((out.clone(), j));
                    }
                    all_edges[i].push((out.clone(), j));
                }
            }
        }
        let mut in_cycle: BTreeSet<usize> = BTreeSet::new();
        for component in strongly_connected(&edges) {
            let looped =
                component.len() > 1 || edges[component[0]].iter().any(|(_, j)| *j == component[0]);
            if !looped {
                continue;
            }
            in_cycle.extend(component.iter().copied());
            let start = *component.iter().min().unwrap_or(&component[0]);
            let cycle = cycle_through(start, &component, &edges);
            let name = |i: usize| decls.nodes[i].name.node.clone();
            let mut chain = vec![name(start)];
            for (event, next) in &cycle {
                chain.push(format!("({event})"));
                chain.push(name(*next));
            }
            let mut d = Diagnostic::new(Code::Cycle, format!("events loop back into `{}`", name(start)))
                .primary(decls.nodes[start].name.span, format!("cycle: {}", chain.join(" → ")))
                .help("EventBridge would deliver these events around the loop forever; break the loop, or bound it with `max_hops N` on a route in the cycle");
            for (_, next) in cycle.iter().filter(|(_, n)| *n != start) {
                d = d.secondary(decls.nodes[*next].name.span, "part of the cycle");
            }
            self.push(d);
        }
        // Nodes waiting on their own output through a bounded loop: their
        // shapes cannot be inferred. (Stuck nodes outside any loop wait on
        // an upstream error, which is reported already.)
        let looped: BTreeSet<usize> = strongly_connected(&all_edges)
            .into_iter()
            .filter(|c| c.len() > 1 || all_edges[c[0]].iter().any(|(_, j)| *j == c[0]))
            .flatten()
            .collect();
        for i in looped.difference(&in_cycle) {
            let node = decls.nodes[*i];
            if !self.stuck_nodes.contains(&node.name.node) {
                continue;
            }
            let waiting = node
                .inputs
                .iter()
                .find(|e| !self.model.events.contains_key(&e.node));
            if let Some(e) = waiting {
                self.push(
                    Diagnostic::new(
                        Code::EmitShape,
                        format!("the shape of `{}` cannot be inferred", e.node),
                    )
                    .primary(e.span, "it is produced downstream of this node")
                    .help(format!(
                        "the loop makes the shape depend on itself; declare it: `event {} {{ … }}`",
                        e.node
                    )),
                );
            }
        }
    }

    fn check_reachability(&mut self, decls: &Decls<'_>) {
        let mut produced: BTreeSet<String> = decls
            .triggers
            .iter()
            .map(|t| t.event.node.clone())
            .collect();
        let mut reached: BTreeSet<String> = BTreeSet::new();
        loop {
            let before = reached.len();
            for node in self.model.nodes.values() {
                if reached.contains(&node.name) {
                    continue;
                }
                let fed = |e: &String| produced.contains(e);
                let ready = if matches!(node.kind, NodeKind::Combiner { .. }) {
                    node.inputs.iter().all(fed)
                } else {
                    node.inputs.iter().any(fed)
                };
                if ready {
                    reached.insert(node.name.clone());
                    produced.extend(node.outputs.iter().cloned());
                }
            }
            if reached.len() == before {
                break;
            }
        }
        // A trigger naming an unknown event is already an error; what it was
        // meant to produce is unknown, so reachability would only guess.
        // Likewise for a custom node that declares no outputs (E051).
        let unknown_outputs = decls
            .nodes
            .iter()
            .any(|n| n.kind.node == "custom" && n.outputs.is_empty());
        if unknown_outputs
            || decls
                .triggers
                .iter()
                .any(|t| !self.model.events.contains_key(&t.event.node))
        {
            return;
        }
        // Producers come from the declarations, so a node that failed to
        // check still counts as producing what it declares.
        let mut producers: BTreeSet<String> =
            decls.nodes.iter().flat_map(|n| outputs_of(n)).collect();
        producers.extend(decls.triggers.iter().map(|t| t.event.node.clone()));
        let has_producer = |_: &Self, e: &str| producers.contains(e);
        let mut diags = Vec::new();
        for node in self.model.nodes.values() {
            if reached.contains(&node.name) || self.stuck_nodes.contains(&node.name) {
                continue;
            }
            // Report only root causes: inputs nothing at all produces.
            let orphans: Vec<&String> = node
                .inputs
                .iter()
                .filter(|e| !has_producer(self, e))
                .collect();
            if orphans.is_empty() {
                continue;
            }
            let is_combiner = matches!(node.kind, NodeKind::Combiner { .. });
            let input_span = |e: &str| {
                decls
                    .node(&node.name)
                    .and_then(|d| d.inputs.iter().find(|i| i.node == e).map(|i| i.span))
            };
            let listed: Vec<String> = orphans.iter().map(|e| format!("`{e}`")).collect();
            let mut d = if is_combiner {
                Diagnostic::new(
                    Code::CombinerStarved,
                    format!(
                        "combiner `{}` waits for {} that nothing produces",
                        node.name,
                        listed.join(", ")
                    ),
                )
                .primary(node.span, "it never fires")
            } else {
                Diagnostic::new(
                    Code::UnreachableNode,
                    format!(
                        "node `{}` is never reached: nothing produces {}",
                        node.name,
                        listed.join(", ")
                    ),
                )
                .primary(node.span, "no event ever arrives here")
            };
            for e in &orphans {
                if let Some(s) = input_span(e) {
                    d = d.secondary(s, "no trigger or node produces this");
                }
            }
            let first = orphans[0];
            d = d.help(format!(
                "add a trigger (`trigger {first}Source = sdk -> {first}`) or a node that emits `{first}`"
            ));
            diags.push(d);
        }
        for app in &decls.apps {
            for sink in &app.sinks {
                let e = &sink.event.node;
                if self.model.events.contains_key(e)
                    && !has_producer(self, e)
                    && !self.poisoned.contains(e)
                {
                    diags.push(
                        Diagnostic::new(
                            Code::UnproducedSinkEvent,
                            format!(
                                "sink `{}` stores `{e}`, which nothing produces",
                                sink.name.node
                            ),
                        )
                        .primary(sink.event.span, "no trigger or node produces this event")
                        .help(format!(
                            "add a trigger for `{e}` or a node that emits it, or remove the sink"
                        )),
                    );
                }
            }
        }
        for d in diags {
            self.push(d);
        }
    }

    fn check_consumption(&mut self, decls: &Decls<'_>) {
        // Declared inputs count even for nodes that failed to check, so an
        // error in a node does not also warn about its input.
        let dropped_nodes = decls.dropped.iter().filter_map(|d| match d {
            ast::Decl::Node(n) => Some(n),
            _ => None,
        });
        let dropped_apps = decls.dropped.iter().filter_map(|d| match d {
            ast::Decl::App(a) => Some(a),
            _ => None,
        });
        let consumed: BTreeSet<String> = decls
            .nodes
            .iter()
            .copied()
            .chain(dropped_nodes)
            .flat_map(|n| n.inputs.iter().map(|i| i.node.clone()))
            .chain(
                decls
                    .apps
                    .iter()
                    .copied()
                    .chain(dropped_apps)
                    .flat_map(|a| a.sinks.iter().map(|s| s.event.node.clone())),
            )
            .collect();
        let triggered: BTreeSet<String> = decls
            .triggers
            .iter()
            .map(|t| t.event.node.clone())
            .collect();
        let node_outputs: BTreeSet<&String> = self
            .model
            .nodes
            .values()
            .flat_map(|n| n.outputs.iter())
            .collect();
        let mut diags = Vec::new();
        for event in self.model.events.values() {
            if consumed.contains(&event.name) || self.poisoned.contains(&event.name) {
                continue;
            }
            // A typo elsewhere (E011) probably meant this event.
            let meant = self
                .unknown_names
                .iter()
                .any(|u| crate::diagnostic::closest(u, [event.name.as_str()]).is_some());
            if meant {
                continue;
            }
            let produced = triggered.contains(&event.name)
                || !matches!(event.origin, EventOrigin::Declared)
                || node_outputs.contains(&event.name);
            if produced {
                diags.push(
                    Diagnostic::new(
                        Code::UnconsumedEvent,
                        format!("nothing consumes event `{}`", event.name),
                    )
                    .primary(event.span, "no node reads it and no sink stores it")
                    .help("route it to a node, store it with an app `sink`, or stop producing it"),
                );
            } else {
                diags.push(
                    Diagnostic::new(
                        Code::UnusedEvent,
                        format!("event `{}` is never produced or used", event.name),
                    )
                    .primary(event.span, "declared but unused")
                    .help("remove the declaration, or add a trigger and a consumer"),
                );
            }
        }
        for d in diags {
            self.push(d);
        }
    }
}

/// Strongly connected components (Tarjan, iterative, so deep graphs do not
/// exhaust the stack).
fn strongly_connected(edges: &[Vec<(String, usize)>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut components = Vec::new();
    let mut next_index = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if *i == 0 && index[v] == usize::MAX {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some((_, w)) = edges[v].get(*i) {
                let w = *w;
                *i += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

/// The shortest loop from `start` back to itself inside `component`, as
/// (event, next node) steps.
fn cycle_through(
    start: usize,
    component: &[usize],
    edges: &[Vec<(String, usize)>],
) -> Vec<(String, usize)> {
    let members: BTreeSet<usize> = component.iter().copied().collect();
    let mut came_from: BTreeMap<usize, (usize, String)> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for (event, w) in &edges[v] {
            if !members.contains(w) {
                continue;
            }
            if *w == start {
                let mut steps = vec![(event.clone(), start)];
                let mut cur = v;
                while cur != start {
                    let Some((prev, e)) = came_from.get(&cur) else {
                        break;
                    };
                    steps.push((e.clone(), cur));
                    cur = *prev;
                }
                steps.reverse();
                return steps;
            }
            if !came_from.contains_key(w) {
                came_from.insert(*w, (v, event.clone()));
                queue.push_back(*w);
            }
        }
    }
    Vec::new()
}

fn outputs_of(node: &ast::NodeDecl) -> Vec<String> {
    let mut out: Vec<String> = node.outputs.iter().map(|o| o.node.clone()).collect();
    for p in &node.params {
        if let ast::ParamValue::Emit(e) = &p.value {
            out.push(e.event.node.clone());
        }
    }
    out
}

fn base_pattern(source: &str, detail_type: &str) -> Value {
    json!({ "source": [source], "detail-type": [detail_type] })
}

fn unique_name(base: &str, used: &mut BTreeSet<String>) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{base}{n}");
        n += 1;
    }
    used.insert(name.clone());
    name
}
