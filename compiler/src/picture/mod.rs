//! Pictures of the event graph for `flowc graph`: a checked [`Model`] →
//! Mermaid or Graphviz dot text. No IO (the CLI runs `dot -Tsvg`).
//!
//! Events, triggers, nodes and sinks are vertices; routes are edges from an
//! event to its targets, labelled with their condition abbreviated from the
//! EventBridge pattern; a node has edges to the events it emits. Apps are
//! groups (Mermaid subgraphs, dot clusters). Edges on a cycle (a strongly
//! connected component of the graph) are drawn red and thick; a route
//! bounded by `max_hops` says so in its label.
//! Output is deterministic: vertices and edges in model order.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::check::model::Model;

/// The longest condition label before it is cut with `…`.
const LABEL_MAX: usize = 48;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Trigger,
    Event,
    Node,
    Sink,
}

#[derive(Clone, Debug)]
struct Vertex {
    id: String,
    label: String,
    kind: Kind,
    /// The app it belongs to, if any.
    app: Option<String>,
}

#[derive(Clone, Debug)]
struct Edge {
    from: String,
    to: String,
    label: String,
    on_cycle: bool,
}

/// The graph to draw.
#[derive(Clone, Debug, Default)]
pub struct Picture {
    vertices: Vec<Vertex>,
    edges: Vec<Edge>,
}

/// Why a picture could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PictureError {
    UnknownFlow { name: String, known: Vec<String> },
}

impl std::fmt::Display for PictureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PictureError::UnknownFlow { name, known } => {
                write!(f, "no flow named `{name}`")?;
                if !known.is_empty() {
                    write!(f, " (flows: {})", known.join(", "))?;
                }
                Ok(())
            }
        }
    }
}

fn event_id(name: &str) -> String {
    format!("e_{name}")
}

fn node_id(name: &str) -> String {
    format!("n_{name}")
}

impl Picture {
    /// The whole graph of a model, or only the path of one flow.
    pub fn of(model: &Model, flow: Option<&str>) -> Result<Picture, PictureError> {
        let mut app_of: BTreeMap<&str, &str> = BTreeMap::new();
        for app in &model.apps {
            for node in &app.nodes {
                app_of.entry(node.as_str()).or_insert(app.name.as_str());
            }
        }
        let mut p = Picture::default();
        for t in &model.triggers {
            p.vertex(
                format!("t_{}", t.name),
                trigger_label(t),
                Kind::Trigger,
                None,
            );
            p.edge(format!("t_{}", t.name), event_id(&t.event), String::new());
        }
        for event in model.events.values() {
            p.vertex(event_id(&event.name), event.name.clone(), Kind::Event, None);
        }
        for node in model.nodes.values() {
            let app = app_of.get(node.name.as_str()).map(|a| a.to_string());
            let label = format!("{}\n{}", node.name, node.kind.name());
            p.vertex(node_id(&node.name), label, Kind::Node, app);
            let mut outputs: Vec<&String> = node.outputs.iter().collect();
            outputs.extend(node.emit.as_ref().map(|e| &e.event));
            let mut seen = BTreeSet::new();
            for out in outputs.into_iter().filter(|o| seen.insert(*o)) {
                p.edge(node_id(&node.name), event_id(out), String::new());
            }
        }
        for route in &model.routes {
            let mut label = if route.implicit {
                String::new()
            } else {
                abbreviate(&route.pattern)
            };
            if let Some(hops) = route.max_hops {
                label = join_label(&label, &format!("max_hops {hops}"));
            }
            for target in &route.targets {
                p.edge(event_id(&route.event), node_id(target), label.clone());
            }
        }
        for app in &model.apps {
            for sink in &app.sinks {
                let id = format!("s_{}_{}", app.name, sink.name);
                let kind = match sink.kind {
                    crate::check::model::SinkKind::S3 { .. } => "s3",
                    crate::check::model::SinkKind::DynamoDb { .. } => "dynamodb",
                    crate::check::model::SinkKind::Webhook { .. } => "webhook",
                };
                let label = format!("{}\nsink {kind}", sink.name);
                p.vertex(id.clone(), label, Kind::Sink, Some(app.name.clone()));
                p.edge(event_id(&sink.event), id, String::new());
            }
        }
        if let Some(name) = flow {
            let Some(f) = model.flows.iter().find(|f| f.name == name) else {
                return Err(PictureError::UnknownFlow {
                    name: name.to_string(),
                    known: model.flows.iter().map(|f| f.name.clone()).collect(),
                });
            };
            p.restrict(model, &f.steps);
        }
        p.mark_cycles();
        Ok(p)
    }

    fn vertex(&mut self, id: String, label: String, kind: Kind, app: Option<String>) {
        self.vertices.push(Vertex {
            id,
            label,
            kind,
            app,
        });
    }

    fn edge(&mut self, from: String, to: String, label: String) {
        self.edges.push(Edge {
            from,
            to,
            label,
            on_cycle: false,
        });
    }

    /// Keeps the steps of a flow and the events that connect two node steps.
    fn restrict(&mut self, model: &Model, steps: &[String]) {
        let id = |s: &String| {
            if model.nodes.contains_key(s) {
                node_id(s)
            } else {
                event_id(s)
            }
        };
        let mut keep: BTreeSet<String> = steps.iter().map(id).collect();
        for pair in steps.windows(2) {
            let (a, b) = (id(&pair[0]), id(&pair[1]));
            for e in &self.edges {
                if e.from == a && self.edges.iter().any(|f| f.from == e.to && f.to == b) {
                    keep.insert(e.to.clone());
                }
            }
        }
        self.vertices.retain(|v| keep.contains(&v.id));
        self.edges
            .retain(|e| keep.contains(&e.from) && keep.contains(&e.to));
    }

    /// Marks the edges inside a strongly connected component (Tarjan).
    fn mark_cycles(&mut self) {
        let index: BTreeMap<&str, usize> = self
            .vertices
            .iter()
            .enumerate()
            .map(|(i, v)| (v.id.as_str(), i))
            .collect();
        let n = self.vertices.len();
        let mut adj = vec![Vec::new(); n];
        for e in &self.edges {
            if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
                adj[a].push(b);
            }
        }
        let comp = strongly_connected(&adj);
        let mut sizes = BTreeMap::new();
        for &c in &comp {
            *sizes.entry(c).or_insert(0usize) += 1;
        }
        for e in &mut self.edges {
            if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
                e.on_cycle = comp[a] == comp[b] && (a == b || sizes[&comp[a]] > 1);
            }
        }
    }

    /// Mermaid `flowchart LR`.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        let shape = |v: &Vertex| {
            let label = mermaid_text(&v.label);
            match v.kind {
                Kind::Trigger => format!("{}[/\"{label}\"/]", v.id),
                Kind::Event => format!("{}([\"{label}\"])", v.id),
                Kind::Node => format!("{}[\"{label}\"]", v.id),
                Kind::Sink => format!("{}[(\"{label}\")]", v.id),
            }
        };
        for (app, members) in self.groups() {
            match app {
                Some(app) => {
                    out += &format!("  subgraph app_{app}[\"app {app}\"]\n");
                    for v in members {
                        out += &format!("    {}\n", shape(v));
                    }
                    out += "  end\n";
                }
                None => {
                    for v in members {
                        out += &format!("  {}\n", shape(v));
                    }
                }
            }
        }
        let mut cycle_links = Vec::new();
        for (i, e) in self.edges.iter().enumerate() {
            let arrow = if e.on_cycle { "==>" } else { "-->" };
            if e.label.is_empty() {
                out += &format!("  {} {arrow} {}\n", e.from, e.to);
            } else {
                out += &format!(
                    "  {} {arrow}|\"{}\"| {}\n",
                    e.from,
                    mermaid_text(&e.label),
                    e.to
                );
            }
            if e.on_cycle {
                cycle_links.push(i.to_string());
            }
        }
        out += "  classDef event fill:#eef5ff,stroke:#4a78c2\n";
        out += "  classDef trigger fill:#f4f4f4,stroke:#888\n";
        out += "  classDef sink fill:#f0fff0,stroke:#4a9a4a\n";
        for (class, kind) in [
            ("event", Kind::Event),
            ("trigger", Kind::Trigger),
            ("sink", Kind::Sink),
        ] {
            let ids: Vec<&str> = self
                .vertices
                .iter()
                .filter(|v| v.kind == kind)
                .map(|v| v.id.as_str())
                .collect();
            if !ids.is_empty() {
                out += &format!("  class {} {class}\n", ids.join(","));
            }
        }
        if !cycle_links.is_empty() {
            out += &format!(
                "  linkStyle {} stroke:#d33,stroke-width:3px\n",
                cycle_links.join(",")
            );
        }
        out
    }

    /// Graphviz dot.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph flow {\n");
        out += "  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n";
        let attrs = |v: &Vertex| {
            let (shape, fill) = match v.kind {
                Kind::Trigger => ("parallelogram", "#f4f4f4"),
                Kind::Event => ("ellipse", "#eef5ff"),
                Kind::Node => ("box", "#ffffff"),
                Kind::Sink => ("cylinder", "#f0fff0"),
            };
            format!(
                "\"{}\" [label=\"{}\", shape={shape}, style=filled, fillcolor=\"{fill}\"];",
                v.id,
                dot_text(&v.label)
            )
        };
        for (app, members) in self.groups() {
            match app {
                Some(app) => {
                    out += &format!(
                        "  subgraph \"cluster_{app}\" {{\n    label=\"app {}\";\n    style=rounded;\n    color=\"#999999\";\n",
                        dot_text(app)
                    );
                    for v in members {
                        out += &format!("    {}\n", attrs(v));
                    }
                    out += "  }\n";
                }
                None => {
                    for v in members {
                        out += &format!("  {}\n", attrs(v));
                    }
                }
            }
        }
        for e in &self.edges {
            let mut a = Vec::new();
            if !e.label.is_empty() {
                a.push(format!("label=\"{}\"", dot_text(&e.label)));
            }
            if e.on_cycle {
                a.push("color=\"#dd3333\", penwidth=2.5".to_string());
            }
            let attrs = if a.is_empty() {
                String::new()
            } else {
                format!(" [{}]", a.join(", "))
            };
            out += &format!("  \"{}\" -> \"{}\"{attrs};\n", e.from, e.to);
        }
        out += "}\n";
        out
    }

    /// Vertices by app (`None` first), in model order.
    fn groups(&self) -> Vec<(Option<&String>, Vec<&Vertex>)> {
        let mut groups: Vec<(Option<&String>, Vec<&Vertex>)> = vec![(None, Vec::new())];
        for v in &self.vertices {
            match groups.iter_mut().find(|(a, _)| *a == v.app.as_ref()) {
                Some((_, members)) => members.push(v),
                None => groups.push((v.app.as_ref(), vec![v])),
            }
        }
        groups.retain(|(_, m)| !m.is_empty());
        groups
    }
}

fn trigger_label(t: &crate::check::model::Trigger) -> String {
    let kind = format!("{:?}", t.kind);
    let kind = kind
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_lowercase();
    format!("{}\n{kind}", t.name)
}

fn join_label(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}; {b}")
    }
}

fn mermaid_text(s: &str) -> String {
    s.replace('"', "#quot;").replace('\n', "<br/>")
}

fn dot_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A short rendering of a route's condition from its event pattern:
/// `data.room exists and data.image.key matches whiteboards/*`, cut at
/// [`LABEL_MAX`] characters.
pub fn abbreviate(pattern: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(detail) = pattern.get("detail") {
        conditions(detail, "", &mut parts);
    }
    let text = parts.join(" and ");
    if text.chars().count() > LABEL_MAX {
        let cut: String = text.chars().take(LABEL_MAX - 1).collect();
        format!("{}…", cut.trim_end())
    } else {
        text
    }
}

fn conditions(value: &Value, path: &str, out: &mut Vec<String>) {
    let Some(map) = value.as_object() else {
        return;
    };
    for (key, v) in map {
        if key == "$or" {
            let alternatives: Vec<String> = v
                .as_array()
                .map(|alts| {
                    alts.iter()
                        .map(|alt| {
                            let mut inner = Vec::new();
                            conditions(alt, path, &mut inner);
                            inner.join(" and ")
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(format!("({})", alternatives.join(" or ")));
            continue;
        }
        let field = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match v {
            Value::Array(matchers) => out.push(matcher_text(&field, matchers)),
            Value::Object(_) => conditions(v, &field, out),
            _ => {}
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

fn matcher_text(field: &str, matchers: &[Value]) -> String {
    let plain: Vec<String> = matchers
        .iter()
        .filter(|m| !m.is_object())
        .map(scalar)
        .collect();
    let mut parts = Vec::new();
    match plain.len() {
        0 => {}
        1 => parts.push(format!("{field} == {}", plain[0])),
        _ => parts.push(format!("{field} in [{}]", plain.join(", "))),
    }
    for m in matchers.iter().filter_map(Value::as_object) {
        for (op, arg) in m {
            let text = match op.as_str() {
                "exists" if arg == &Value::Bool(true) => format!("{field} exists"),
                "exists" => format!("not {field} exists"),
                "prefix" => format!("{field} starts_with {}", scalar_or_ic(arg)),
                "suffix" => format!("{field} ends_with {}", scalar_or_ic(arg)),
                "wildcard" => format!("{field} matches {}", scalar(arg)),
                "equals-ignore-case" => format!("{field} == {} ic", scalar(arg)),
                "cidr" => format!("{field} cidr {}", scalar(arg)),
                "anything-but" => match arg {
                    Value::Array(items) => format!(
                        "{field} not in [{}]",
                        items.iter().map(scalar).collect::<Vec<_>>().join(", ")
                    ),
                    Value::Object(inner) => {
                        let inner_text: Vec<String> = inner
                            .iter()
                            .map(|(k, v)| format!("{k} {}", scalar(v)))
                            .collect();
                        format!("{field} not {}", inner_text.join(" "))
                    }
                    other => format!("{field} != {}", scalar(other)),
                },
                "numeric" => {
                    let items: Vec<String> = arg
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                                .collect()
                        })
                        .unwrap_or_default();
                    let pairs: Vec<String> = items
                        .chunks(2)
                        .map(|c| format!("{field} {}", c.join(" ")))
                        .collect();
                    pairs.join(" and ")
                }
                other => format!("{field} {other} {arg}"),
            };
            parts.push(text);
        }
    }
    parts.join(" and ")
}

fn scalar_or_ic(arg: &Value) -> String {
    match arg.get("equals-ignore-case") {
        Some(v) => format!("{} ic", scalar(v)),
        None => scalar(arg),
    }
}

/// Tarjan's strongly connected components; returns the component of each
/// vertex. Iterative, so deep graphs cannot exhaust the stack.
fn strongly_connected(adj: &[Vec<usize>]) -> Vec<usize> {
    let n = adj.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![usize::MAX; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut count = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work = vec![(root, 0usize)];
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if *i == 0 && index[v] == usize::MAX {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = adj[v].get(*i) {
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
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp[w] = count;
                    if w == v {
                        break;
                    }
                }
                count += 1;
            }
        }
    }
    comp
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cycles_are_found() {
        let comp = strongly_connected(&[vec![1], vec![0], vec![2], vec![]]);
        assert_eq!(comp[0], comp[1]);
        assert_ne!(comp[2], comp[3]);
    }

    #[test]
    fn conditions_are_abbreviated() {
        let p = serde_json::json!({"detail": {"data": {"room": [{"exists": true}], "n": [{"numeric": [">", 0, "<", 50]}]}}});
        assert_eq!(
            abbreviate(&p),
            "data.n > 0 and data.n < 50 and data.room exists"
        );
    }
}
