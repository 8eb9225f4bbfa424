//! Executor unit tests: windows by count and time, duplicates (through the
//! driver with the in-memory fakes), out-of-order pieces, flushes without
//! further events, the hop bound, deterministic ids.

use serde_json::{json, Value};

use super::route::{Routed, Router};
use super::time::parse_rfc3339;
use super::*;
use crate::graph::Graph;
use crate::local::{MemoryStore, Ports, Runner};
use crate::ports::fakes::RecordingBus;

const SPAN: &str = r#"{"file": "t.flow", "line": 1, "column": 1, "offset": 0, "length": 1}"#;

fn span() -> Value {
    serde_json::from_str(SPAN).expect("span")
}

/// A graph with one raw event `In` (source `t`, detail-type `in`) and the
/// given nodes, each fed by an implicit route from its inputs.
fn graph(nodes: Value) -> Graph {
    let mut events = serde_json::Map::new();
    let mut routes = Vec::new();
    let mut names = vec!["In".to_string()];
    for (name, node) in nodes.as_object().expect("nodes") {
        if let Some(out) = node["emit"]["event"].as_str() {
            names.push(out.to_string());
        }
        for input in node["inputs"].as_array().expect("inputs") {
            let input = input.as_str().expect("input");
            routes.push(json!({
                "name": format!("{input}To{name}"), "event": input, "targets": [name],
                "pattern": {"source": [if input == "In" { "t".to_string() } else { "flow.t".to_string() }],
                            "detail-type": [if input == "In" { "in".to_string() } else { input.to_string() }]},
                "implicit": true, "span": span()
            }));
        }
    }
    for n in names {
        let (source, dt) = if n == "In" {
            ("t".to_string(), "in".to_string())
        } else {
            ("flow.t".to_string(), n.clone())
        };
        events.insert(
            n.clone(),
            json!({"name": n, "source": source, "detail_type": dt, "schema": {}, "span": span()}),
        );
    }
    let mut nodes = nodes;
    for (name, node) in nodes.as_object_mut().expect("nodes") {
        node["name"] = json!(name);
        node["span"] = span();
        if node.get("outputs").is_none() {
            node["outputs"] = json!([node["emit"]["event"].clone()]);
        }
    }
    serde_json::from_value(json!({
        "format_version": 1, "project": "t", "events": events, "triggers": [],
        "nodes": nodes, "routes": routes, "flows": [], "apps": [], "tests": []
    }))
    .expect("graph")
}

fn ev(id: &str, secs: i64, detail: Value) -> Event {
    Event {
        id: id.into(),
        source: "t".into(),
        detail_type: "in".into(),
        time: 1_000_000 + secs * 1000,
        detail: std::sync::Arc::new(detail),
    }
}

fn user(u: &str, seq: i64) -> Value {
    json!({"profile": {"user": u}, "data": {"seq": seq, "text": format!("piece {seq}"),
           "audio": {"bucket": "b", "key": format!("a/{seq}.webm")}, "items": [1, 2, 3]},
           "application": {"name": "app"}})
}

struct Harness {
    runner: Runner<MemoryStore>,
    bus: RecordingBus,
}

impl Harness {
    fn new(g: Graph) -> Harness {
        Harness {
            runner: Runner::new(g, MemoryStore::new(), Ports::offline(".")).expect("runner"),
            bus: RecordingBus::default(),
        }
    }
    fn send(&mut self, e: Event) {
        self.runner.advance(e.time, &mut self.bus).expect("advance");
        self.runner.publish(e, &mut self.bus).expect("publish");
    }
    fn advance(&mut self, to: Millis) {
        self.runner.advance(to, &mut self.bus).expect("advance");
    }
    fn data(&self, name: &str) -> Vec<Value> {
        self.bus
            .events
            .iter()
            .filter(|e| e.name == name)
            .map(|e| e.event.detail["data"].clone())
            .collect()
    }
}

fn counter(count: Option<u64>, window_ms: Option<u64>) -> Graph {
    graph(
        json!({"C": {"class": "filter", "kind": "counter", "key": ["profile", "user"],
        "every": {"count": count, "window_ms": window_ms}, "inputs": ["In"], "emit": {"event": "Out"}}}),
    )
}

#[test]
fn counter_fires_on_count_and_drops_redeliveries() {
    let mut h = Harness::new(counter(Some(3), Some(60_000)));
    h.send(ev("a", 0, user("ana", 1)));
    h.send(ev("a", 1, user("ana", 1))); // redelivery: same id
    h.send(ev("b", 2, user("ana", 2)));
    assert!(h.data("Out").is_empty(), "two distinct events only");
    h.send(ev("c", 3, user("ana", 3)));
    let out = h.data("Out");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["count"], 3);
    assert_eq!(out[0]["seq"], 3, "the last input's data");
    assert_eq!(out[0]["first_at"], "1970-01-01T00:16:40Z");
    let stats = h.runner.stats()["C"];
    assert_eq!((stats.input, stats.output, stats.dropped), (4, 1, 1));
}

#[test]
fn time_threshold_fires_without_further_events() {
    let mut h = Harness::new(counter(Some(10), Some(60_000)));
    h.send(ev("a", 0, user("ana", 1)));
    h.send(ev("b", 5, user("bo", 1)));
    assert_eq!(h.runner.next_deadline(), Some(1_000_000 + 60_000));
    h.advance(1_000_000 + 59_999);
    assert!(h.data("Out").is_empty());
    h.advance(1_000_000 + 65_000);
    let out = h.bus.events.clone();
    assert_eq!(out.len(), 2, "both keys fired");
    assert_eq!(
        out[0].event.time,
        1_000_000 + 60_000,
        "at the deadline, not at `now`"
    );
    assert_eq!(out[0].event.detail["profile"]["user"], "ana");
    assert_eq!(out[1].event.time, 1_000_000 + 65_000);
    assert_eq!(h.runner.next_deadline(), None);
    assert_eq!(
        h.runner.state("C", "ana").expect("state"),
        json!({"count": 0})
    );
}

#[test]
fn a_late_event_closes_the_due_window_first() {
    // Pure step: a window past its deadline fires before the event opens a new one.
    let g = counter(None, Some(1000));
    let node = &g.nodes["C"];
    let e1 = ev("a", 0, user("ana", 1));
    let s1 = step(
        &g,
        node,
        "ana",
        None,
        Input::Event {
            name: "In",
            event: &e1,
        },
        e1.time,
    )
    .expect("step");
    assert_eq!(s1.deadline, Some(e1.time + 1000));
    let e2 = ev("b", 5, user("ana", 2));
    let s2 = step(
        &g,
        node,
        "ana",
        s1.state,
        Input::Event {
            name: "In",
            event: &e2,
        },
        e2.time,
    )
    .expect("step");
    assert_eq!(s2.effects.len(), 1);
    assert_eq!(s2.deadline, Some(e2.time + 1000));
}

#[test]
fn aggregator_collects_and_aggregates() {
    let g = graph(
        json!({"A": {"class": "filter", "kind": "aggregator", "key": ["profile", "user"],
        "every": {"count": 3}, "collect": [{"name": "seq", "path": ["data", "seq"]}],
        "aggregates": [{"name": "total", "function": "sum", "path": ["data", "seq"]},
                       {"name": "lo", "function": "min", "path": ["data", "seq"]},
                       {"name": "hi", "function": "max", "path": ["data", "seq"]},
                       {"name": "mean", "function": "avg", "path": ["data", "seq"]},
                       {"name": "n", "function": "count"}],
        "inputs": ["In"], "emit": {"event": "Out"}}}),
    );
    let mut h = Harness::new(g);
    for (i, seq) in [4, 1, 7].iter().enumerate() {
        h.send(ev(&format!("e{i}"), i as i64, user("ana", *seq)));
    }
    let out = h.data("Out");
    assert_eq!(out.len(), 1);
    let d = &out[0];
    assert_eq!(d["records"], json!([{"seq": 4}, {"seq": 1}, {"seq": 7}]));
    assert_eq!((d["count"].clone(), d["n"].clone()), (json!(3), json!(3)));
    assert_eq!(d["total"].as_f64(), Some(12.0));
    assert_eq!(d["lo"].as_f64(), Some(1.0));
    assert_eq!(d["hi"].as_f64(), Some(7.0));
    assert_eq!(d["mean"].as_f64(), Some(4.0));
}

#[test]
fn stitcher_orders_out_of_order_pieces() {
    let g = graph(
        json!({"S": {"class": "filter", "kind": "stitcher", "key": ["profile", "user"],
        "content": ["data", "text"], "content_is_object": false, "order_by": ["data", "seq"],
        "every": {"count": 3, "window_ms": 300000}, "inputs": ["In"], "emit": {"event": "Out"}}}),
    );
    let mut h = Harness::new(g);
    h.send(ev("c", 0, user("ana", 3)));
    h.send(ev("a", 1, user("ana", 1)));
    h.send(ev("a", 1, user("ana", 1))); // duplicate delivery
    assert_eq!(
        h.runner.state("S", "ana").expect("state")["order"],
        json!([1, 3])
    );
    h.send(ev("b", 2, user("ana", 2)));
    let out = h.data("Out");
    assert_eq!(out[0]["content"], "piece 1\npiece 2\npiece 3");
    assert_eq!(out[0]["pieces"], 3);
    assert_eq!(
        out[0]["first_at"], "1970-01-01T00:16:41Z",
        "the time of piece 1"
    );
}

#[test]
fn stitcher_concatenates_objects() {
    let g = graph(
        json!({"S": {"class": "filter", "kind": "stitcher", "key": ["profile", "user"],
        "content": ["data", "audio"], "content_is_object": true, "order_by": ["data", "seq"],
        "every": {"count": 2}, "inputs": ["In"], "emit": {"event": "Out"}}}),
    );
    let node = g.nodes["S"].clone();
    let (e2, e1) = (ev("2", 0, user("ana", 2)), ev("1", 1, user("ana", 1)));
    let s = step(
        &g,
        &node,
        "ana",
        None,
        Input::Event {
            name: "In",
            event: &e2,
        },
        0,
    )
    .expect("step");
    let s = step(
        &g,
        &node,
        "ana",
        s.state,
        Input::Event {
            name: "In",
            event: &e1,
        },
        0,
    )
    .expect("step");
    let Effect::Concat {
        sources, target, ..
    } = &s.effects[0]
    else {
        panic!("concat first: {:?}", s.effects)
    };
    assert_eq!(sources[0].key, "a/1.webm");
    assert_eq!(sources[1].key, "a/2.webm");
    assert!(target.key.starts_with("stitched/S/") && target.key.ends_with(".webm"));
    let Effect::Emit(out) = &s.effects[1] else {
        panic!("emit second")
    };
    assert_eq!(
        out.event.detail["data"]["content"]["key"],
        json!(target.key)
    );
}

#[test]
fn dedupe_passes_the_first_of_each_key_per_window() {
    let g = graph(
        json!({"D": {"class": "filter", "kind": "dedupe", "key": ["data", "seq"],
        "window_ms": 60000, "inputs": ["In"], "emit": {"event": "Out"}}}),
    );
    let mut h = Harness::new(g);
    h.send(ev("a", 0, user("ana", 1)));
    h.send(ev("b", 10, user("bo", 1))); // same key: a repeat
    h.send(ev("c", 20, user("ana", 2)));
    assert_eq!(h.data("Out").len(), 2);
    h.send(ev("d", 61, user("ana", 1))); // the window of key 1 has expired
    assert_eq!(h.data("Out").len(), 3);
    assert_eq!(h.runner.stats()["D"].dropped, 1);
    assert_eq!(h.data("Out")[0]["seq"], 1);
}

#[test]
fn splitter_emits_one_event_per_item() {
    let g = graph(
        json!({"P": {"class": "transformer", "kind": "splitter", "over": ["data", "items"],
        "inputs": ["In"], "emit": {"event": "Out"}}}),
    );
    let mut h = Harness::new(g);
    h.send(ev("a", 0, user("ana", 1)));
    let out = h.data("Out");
    assert_eq!(out.len(), 3);
    assert_eq!(
        out[2],
        json!({"seq": 1, "text": "piece 1", "audio": {"bucket": "b", "key": "a/1.webm"},
                              "item": 3, "index": 2, "total": 3})
    );
    let ids: std::collections::BTreeSet<_> =
        h.bus.events.iter().map(|e| e.event.id.clone()).collect();
    assert_eq!(ids.len(), 3, "distinct deterministic ids");
}

#[test]
fn combiner_waits_for_every_type_within_the_window() {
    let mut g = graph(json!({
        "L": {"class": "transformer", "kind": "splitter", "over": ["data", "items"],
              "inputs": ["In"], "emit": {"event": "Left"}},
        "K": {"class": "transformer", "kind": "combiner", "key": ["profile", "user"], "window_ms": 60000,
              "inputs": ["Left", "In"], "emit": {"event": "Both"}}
    }));
    g.nodes.remove("L");
    g.routes.retain(|r| r.event == "In");
    let node = g.nodes["K"].clone();
    let left = Event {
        detail_type: "Left".into(),
        source: "flow.t".into(),
        ..ev("l", 0, user("ana", 1))
    };
    let right = ev("r", 30, user("ana", 2));
    let s = step(
        &g,
        &node,
        "ana",
        None,
        Input::Event {
            name: "Left",
            event: &left,
        },
        left.time,
    )
    .expect("step");
    assert!(s.effects.is_empty());
    assert_eq!(s.deadline, Some(left.time + 60_000));
    let s = step(
        &g,
        &node,
        "ana",
        s.state,
        Input::Event {
            name: "In",
            event: &right,
        },
        right.time,
    )
    .expect("step");
    let Effect::Emit(out) = &s.effects[0] else {
        panic!("emit")
    };
    assert_eq!(out.event.detail["data"]["left"]["seq"], 1);
    assert_eq!(out.event.detail["data"]["in"]["seq"], 2);
    assert!(s.state.is_none());
    // A part older than the window is forgotten: no emission.
    let s = step(
        &g,
        &node,
        "ana",
        None,
        Input::Event {
            name: "Left",
            event: &left,
        },
        left.time,
    )
    .expect("step");
    let late = ev("r2", 61, user("ana", 2));
    let s = step(
        &g,
        &node,
        "ana",
        s.state,
        Input::Event {
            name: "In",
            event: &late,
        },
        late.time,
    )
    .expect("step");
    assert!(s.effects.is_empty());
}

#[test]
fn routes_refuse_past_max_hops() {
    let mut g = graph(
        json!({"P": {"class": "transformer", "kind": "splitter", "over": ["data", "items"],
        "inputs": ["In"], "emit": {"event": "In"}}}),
    );
    // P emits `In` again: a cycle bounded by max_hops 2.
    g.events.get_mut("In").expect("In").source = "t".into();
    g.routes[0].max_hops = Some(2);
    let router = Router::new(&g).expect("router");
    let e = ev("a", 0, user("ana", 1));
    let Routed::Deliver(d) = &router.route(&e)[0] else {
        panic!("first delivery")
    };
    assert_eq!(d.event.flow().route_hops("InToP"), 1);
    let Routed::Deliver(d) = &router.route(&d.event)[0] else {
        panic!("second delivery")
    };
    assert_eq!(d.event.flow().route_hops("InToP"), 2);
    assert!(matches!(
        &router.route(&d.event)[0],
        Routed::Refused { max_hops: 2, .. }
    ));
}

#[test]
fn outputs_carry_flow_metadata_and_replay_identically() {
    let run = || {
        let mut h = Harness::new(counter(Some(2), None));
        h.send(ev("a", 0, user("ana", 1)));
        h.send(ev("b", 1, user("ana", 2)));
        h.bus.events
    };
    let (first, second) = (run(), run());
    assert_eq!(first, second);
    let flow = &first[0].event.detail["flow"];
    assert_eq!(
        flow,
        &json!({"correlation_id": "b", "hops": 1, "node": "C"})
    );
    assert_eq!(first[0].event.id.len(), 36);
}

#[test]
fn envelopes_round_trip() {
    let v = json!({"id": "x", "source": "s", "detail-type": "d", "time": "2026-03-02T09:00:05Z",
                   "detail": {"data": {}}});
    let e = Event::from_envelope(&v, 0).expect("event");
    assert_eq!(e.time, parse_rfc3339("2026-03-02T09:00:05Z").expect("time"));
    let back = e.to_envelope();
    assert_eq!(back["detail-type"], "d");
    assert_eq!(back["time"], "2026-03-02T09:00:05Z");
    assert!(Event::from_envelope(&json!({"source": "s"}), 0).is_err());
    let no_id = Event::from_envelope(&json!({"source": "s", "detail-type": "d", "detail": {}}), 5)
        .expect("event");
    assert_eq!(no_id.time, 5);
    assert_eq!(no_id.id.len(), 36);
}

#[test]
fn chains_share_clones_and_drop_long_lists() {
    let mut a = state::Chain::new();
    for i in 0..3 {
        a.push(i);
    }
    let mut b = a.clone();
    b.push(3);
    assert_eq!((a.to_vec(), b.to_vec()), (vec![0, 1, 2], vec![0, 1, 2, 3]));
    let text = serde_json::to_string(&b).expect("json");
    assert_eq!(text, "[0,1,2,3]");
    let back: state::Chain<i32> = serde_json::from_str(&text).expect("chain");
    assert_eq!(back, b);
    let mut long = state::Chain::new();
    for i in 0..1_000_000 {
        long.push(i);
    }
    drop(long); // no stack overflow
}
