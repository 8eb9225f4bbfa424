//! Validation of flow objects and routing configurations against the
//! compiled graph, with the compiler's diagnostic codes.
//!
//! Input: the graph (nodes with their inputs and outputs), the registered
//! events, the routes in force. Output: the problems found, each with a
//! code the compiler uses for the same mistake: E011 (an event the graph
//! knows but the store has not registered), E012 (unknown step or target),
//! E030 (a loop without a hop bound), E031 (a target that does not read
//! the event), E036 (steps that are not connected), E010 (a route name
//! used twice). Pure: no IO.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::error::Problem;
use super::model::{FlowInput, RouteInput, RouteSpec};
use crate::graph::Graph;
use crate::pattern::{Pattern, PatternErrorKind};

/// The longest id: names are identifiers, 128 characters is plenty.
pub const MAX_ID_LEN: usize = 128;
/// EventBridge's limit of targets per rule.
pub const MAX_TARGETS: usize = 5;

/// Ids are names: ASCII letters, digits, `_`, `-`, `.`, not starting with
/// `.` (so `..` and `/` can never reach a key or a path).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Checks a flow object: every step is a registered event or a node, each
/// step leads to the next, and no step repeats.
pub fn check_flow(graph: &Graph, registered: &BTreeSet<String>, flow: &FlowInput) -> Vec<Problem> {
    let mut found = Vec::new();
    if !valid_id(&flow.name) {
        found.push(Problem::new(
            "invalid_id",
            format!("flow name {:?} is not a name (letters, digits, `_`, `-`, `.`; at most {MAX_ID_LEN})", flow.name),
        ));
    }
    if flow.steps.len() < 2 {
        found.push(Problem::new(
            "E036",
            format!("flow `{}` needs at least two steps", flow.name),
        ));
        return found;
    }
    let known_events = graph_event_names(graph);
    let mut ok = true;
    for step in &flow.steps {
        if graph.nodes.contains_key(step) || registered.contains(step) {
            continue;
        }
        ok = false;
        if known_events.contains(step.as_str()) {
            found.push(Problem::new(
                "E011",
                format!(
                    "flow `{}` names event `{step}`, which is not registered in the Event Store",
                    flow.name
                ),
            ));
        } else {
            found.push(Problem::new(
                "E012",
                format!("flow `{}` names unknown step `{step}`", flow.name),
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for step in &flow.steps {
        if !seen.insert(step.as_str()) {
            ok = false;
            found.push(Problem::new(
                "E030",
                format!(
                    "flow `{}` comes back to `{step}`: a flow is a path, not a loop",
                    flow.name
                ),
            ));
        }
    }
    if ok {
        for pair in flow.steps.windows(2) {
            if let Some(why) = flow_link(graph, &pair[0], &pair[1]) {
                found.push(Problem::new(
                    "E036",
                    format!(
                        "flow `{}`: `{}` does not lead to `{}`: {why}",
                        flow.name, pair[0], pair[1]
                    ),
                ));
            }
        }
    }
    found
}

/// Why `a -> b` is not a step of the graph, if it is not (the compiler's
/// rule: event → node that reads it, node → event it emits, node → node
/// through an event).
fn flow_link(graph: &Graph, a: &str, b: &str) -> Option<String> {
    match (graph.nodes.get(a), graph.nodes.get(b)) {
        (None, Some(nb)) => (!nb.inputs.iter().any(|i| i == a))
            .then(|| format!("`{b}` reads {}", quoted(&nb.inputs))),
        (Some(na), Some(nb)) => (!na.outputs.iter().any(|o| nb.inputs.contains(o))).then(|| {
            format!(
                "`{a}` emits {}, `{b}` reads {}",
                quoted(&na.outputs),
                quoted(&nb.inputs)
            )
        }),
        (Some(na), None) => (!na.outputs.iter().any(|o| o == b))
            .then(|| format!("`{a}` emits {}", quoted(&na.outputs))),
        (None, None) => Some(
            "two events in a row; put the node that turns one into the other between them".into(),
        ),
    }
}

fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "nothing".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn graph_event_names(graph: &Graph) -> BTreeSet<&str> {
    let mut names: BTreeSet<&str> = graph.events.keys().map(String::as_str).collect();
    for n in graph.nodes.values() {
        names.extend(n.inputs.iter().map(String::as_str));
        names.extend(n.outputs.iter().map(String::as_str));
    }
    names
}

/// The event a routing configuration is for.
pub struct RoutedEvent<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub detail_type: &'a str,
}

/// Checks and completes an event's new routing: names (defaulted, unique
/// in the project), targets (nodes that read the event), patterns (valid
/// for EventBridge, source and detail-type pinned), and that no loop
/// without `max_hops` appears. `others` are the routes in force for the
/// other events.
pub fn check_routes(
    graph: &Graph,
    event: &RoutedEvent<'_>,
    input: &[RouteInput],
    others: &BTreeMap<String, Vec<RouteSpec>>,
) -> Result<Vec<RouteSpec>, Vec<Problem>> {
    let mut found = Vec::new();
    let mut specs = Vec::with_capacity(input.len());
    let taken: BTreeSet<&str> = others
        .iter()
        .filter(|(e, _)| e.as_str() != event.name)
        .flat_map(|(_, rs)| rs.iter().map(|r| r.name.as_str()))
        .collect();
    let mut names = BTreeSet::new();
    for (i, r) in input.iter().enumerate() {
        let name = r
            .name
            .clone()
            .unwrap_or_else(|| format!("{}-{}", event.name, i + 1));
        if !valid_rule_name(&name) {
            found.push(Problem::new(
                "invalid_id",
                format!("route name {name:?} is not a rule name (letters, digits, `.`, `-`, `_`; at most 64)"),
            ));
        } else if taken.contains(name.as_str()) || !names.insert(name.clone()) {
            found.push(Problem::new(
                "E010",
                format!("route name `{name}` is already used"),
            ));
        }
        check_targets(graph, event.name, &name, &r.targets, &mut found);
        match pinned_pattern(event, r.pattern.as_ref()) {
            Ok(pattern) => specs.push(RouteSpec {
                name,
                targets: r.targets.clone(),
                pattern,
                max_hops: r.max_hops,
            }),
            Err(p) => found.push(p),
        }
    }
    if found.is_empty() {
        if let Some(cycle) = find_cycle(graph, event.name, &specs, others) {
            found.push(Problem::new(
                "E030",
                format!("events loop back without a hop bound: {}; add `max_hops` to a route in the loop", cycle.join(" → ")),
            ));
        }
    }
    if found.is_empty() {
        Ok(specs)
    } else {
        Err(found)
    }
}

fn valid_rule_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn check_targets(
    graph: &Graph,
    event: &str,
    route: &str,
    targets: &[String],
    found: &mut Vec<Problem>,
) {
    if targets.is_empty() {
        found.push(Problem::new(
            "E031",
            format!("route `{route}` has no targets"),
        ));
    }
    if targets.len() > MAX_TARGETS {
        found.push(Problem::new(
            "E043",
            format!(
                "route `{route}` has {} targets; EventBridge allows {MAX_TARGETS} per rule",
                targets.len()
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    for t in targets {
        if !seen.insert(t) {
            found.push(Problem::new(
                "E017",
                format!("route `{route}` names target `{t}` twice"),
            ));
            continue;
        }
        match graph.nodes.get(t) {
            None => found.push(Problem::new(
                "E012",
                format!("route `{route}` targets unknown node `{t}`"),
            )),
            Some(node) if !node.inputs.iter().any(|i| i == event) => found.push(Problem::new(
                "E031",
                format!(
                    "route `{route}`: `{t}` does not consume `{event}` (it reads {})",
                    quoted(&node.inputs)
                ),
            )),
            Some(_) => {}
        }
    }
}

/// The pattern with the event's source and detail-type pinned, validated
/// as EventBridge would.
fn pinned_pattern(event: &RoutedEvent<'_>, pattern: Option<&Value>) -> Result<Value, Problem> {
    let mut map = match pattern {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(Problem::new(
                "invalid_pattern",
                "an event pattern must be a JSON object",
            ))
        }
    };
    for (field, value) in [("source", event.source), ("detail-type", event.detail_type)] {
        let pin = json!([value]);
        match map.get(field) {
            None => {
                map.insert(field.to_string(), pin);
            }
            Some(v) if *v == pin => {}
            Some(v) => {
                return Err(Problem::new(
                    "invalid_pattern",
                    format!("the pattern's `{field}` is {v}, but the routed event has {pin}; leave `{field}` out"),
                ))
            }
        }
    }
    let value = Value::Object(map);
    match Pattern::from_value(&value) {
        Ok(_) => Ok(value),
        Err(e) => {
            let code = if e.kind == PatternErrorKind::TooLong {
                "E040"
            } else {
                "invalid_pattern"
            };
            Err(Problem::new(code, format!("invalid event pattern: {e}")))
        }
    }
}

/// A loop of nodes through routes without `max_hops`, with this event's
/// routes replaced by `mine`.
fn find_cycle(
    graph: &Graph,
    event: &str,
    mine: &[RouteSpec],
    others: &BTreeMap<String, Vec<RouteSpec>>,
) -> Option<Vec<String>> {
    let mut producers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for n in graph.nodes.values() {
        for o in &n.outputs {
            producers
                .entry(o.as_str())
                .or_default()
                .push(n.name.as_str());
        }
    }
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let routes = others
        .iter()
        .filter(|(e, _)| e.as_str() != event)
        .flat_map(|(e, rs)| rs.iter().map(move |r| (e.as_str(), r)))
        .chain(mine.iter().map(|r| (event, r)));
    for (e, r) in routes {
        if r.max_hops.is_some() {
            continue;
        }
        for p in producers.get(e).into_iter().flatten() {
            for t in &r.targets {
                edges.entry(p).or_default().insert(t.as_str());
            }
        }
    }
    // Iterative depth-first search with colours (0 new, 1 on stack, 2 done).
    let mut colour: BTreeMap<&str, u8> = BTreeMap::new();
    for start in edges.keys().copied().collect::<Vec<_>>() {
        if colour.get(start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut stack: Vec<(&str, Vec<&str>)> =
            vec![(start, edges[start].iter().copied().collect())];
        colour.insert(start, 1);
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            match next.pop() {
                Some(n) => match colour.get(n).copied().unwrap_or(0) {
                    0 => {
                        colour.insert(n, 1);
                        let succ = edges
                            .get(n)
                            .map(|s| s.iter().copied().collect())
                            .unwrap_or_default();
                        stack.push((n, succ));
                    }
                    1 => {
                        let at = stack.iter().position(|(s, _)| *s == n).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            stack[at..].iter().map(|(s, _)| s.to_string()).collect();
                        cycle.push(n.to_string());
                        return Some(cycle);
                    }
                    _ => {}
                },
                None => {
                    colour.insert(node, 2);
                    stack.pop();
                }
            }
        }
    }
    None
}
