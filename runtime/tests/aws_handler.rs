//! The Lambda handler end to end, invoked directly (no Lambda service):
//! EventBridge events for a counter node go through `App::handle` with the
//! AWS adapters against the moto stand-in; the test reads the state in
//! DynamoDB and the emitted events through an SQS rule target, and checks
//! them against the local engine (`flowc run`'s driver) on the same
//! stream. Also: the per-invocation overhead of the driver without AWS
//! calls (no stand-in needed).
#![cfg(feature = "aws")]

mod aws_support;

use std::sync::Arc;
use std::time::Instant;

use aws_support::{counter_graph, endpoint, usage, Env};
use flow_runtime::aws::config::{ClockMode, Config, Role};
use flow_runtime::aws::driver::NodeDriver;
use flow_runtime::aws::dynamodb::DynamoStore;
use flow_runtime::aws::fakes::{MemoryNodeStore, RecordingOutlet};
use flow_runtime::aws::wire::read_delivered;
use flow_runtime::aws::{App, ErrorType};
use flow_runtime::engine::route::Router;
use flow_runtime::engine::time::format_rfc3339;
use flow_runtime::engine::{state_view, Event};
use flow_runtime::graph::Graph;
use flow_runtime::local::{MemoryObjects, MemoryStore, Ports, Runner};
use flow_runtime::ports::fakes::RecordingBus;
use flow_runtime::ports::StateStore;
use serde_json::{json, Value};

const T0: i64 = 1_772_442_000_000; // 2026-03-02T09:00:00Z

fn config(bus: &str, table: &str, bucket: &str, endpoint: &str) -> Config {
    Config {
        role: Role::Node("Counter".into()),
        graph: "graph.json".into(),
        bus: bus.into(),
        table: table.into(),
        bucket: bucket.into(),
        stage: "test".into(),
        secret_prefix: String::new(),
        endpoint: Some(endpoint.into()),
        clock: ClockMode::Events,
    }
}

/// The stream: 25 events of session a and 3 of session b, 2 s apart.
fn stream() -> Vec<Value> {
    let mut out = Vec::new();
    for i in 0..25u32 {
        out.push(usage(i, "a", T0 + i64::from(i) * 2000));
        if i % 8 == 0 {
            out.push(usage(i, "b", T0 + i64::from(i) * 2000 + 500));
        }
    }
    out
}

/// What the local engine emits for the stream, then advanced to `end`.
fn local_run(graph: &Graph, events: &[Value], end: i64) -> Vec<Event> {
    let mut runner =
        Runner::new(graph.clone(), MemoryStore::new(), Ports::offline(".")).expect("runner");
    let mut bus = RecordingBus::default();
    for e in events {
        let event = Event::from_envelope(e, 0).expect("event");
        runner.advance(event.time, &mut bus).expect("advance");
        runner.publish(event, &mut bus).expect("publish");
    }
    runner.advance(end, &mut bus).expect("advance");
    bus.events.into_iter().map(|e| e.event).collect()
}

#[test]
fn counter_node_end_to_end() {
    let Some(ep) = endpoint("counter_node_end_to_end") else {
        return;
    };
    let env = Env::new(ep.clone());
    let table = env.table("flow");
    let bucket = env.bucket("objects");
    let (bus, queue) = env.bus_with_queue("flow");
    let graph = counter_graph(10, 60_000);
    let app = Arc::new(
        App::new(
            config(&bus, &table, &bucket, &ep),
            graph.clone(),
            env.clients.clone(),
        )
        .expect("app"),
    );
    let events = stream();
    let mut answers = Vec::new();
    for e in &events {
        answers.push(env.rt.block_on(app.handle(e.clone())).expect("handled"));
    }
    assert_eq!(answers[0], json!({"emitted": 0}));
    assert_eq!(answers.iter().filter(|a| a["emitted"] == 1).count(), 2);

    // A redelivery is recognised: nothing counted twice.
    let again = env
        .rt
        .block_on(app.handle(events[3].clone()))
        .expect("redelivery");
    assert_eq!(again, json!({"duplicate": true, "republished": 0}));

    let mut store = DynamoStore::new(env.clients.dynamodb.clone(), &table, env.bridge());
    let a = store
        .load("Counter", "a")
        .expect("load")
        .expect("state of a");
    let node = &graph.nodes["Counter"];
    assert_eq!(state_view(node, Some(&a.state))["count"], 5);
    assert_eq!(a.version, 5, "one save per event of the open window");

    // The scheduled flush fires both windows (a: 5 events, b: 3) once due.
    let end = T0 + 10 * 60_000;
    let flush = json!({"flowc": "flush", "node": "Counter", "at": format_rfc3339(end)});
    assert_eq!(
        env.rt.block_on(app.handle(flush.clone())).expect("flush"),
        json!({"flushed": 2})
    );
    assert_eq!(
        env.rt.block_on(app.handle(flush)).expect("flush"),
        json!({"flushed": 0})
    );
    assert_eq!(store.load("Counter", "a").expect("load"), None);

    // What reached the bus is what `flowc run` emits for the same stream.
    let mut on_bus: Vec<Event> = env
        .drain(&queue)
        .iter()
        .map(|m| read_delivered(m, 0).expect("envelope"))
        .collect();
    let mut local = local_run(&graph, &events, end);
    let order = |e: &Event| (e.time, e.id.clone());
    on_bus.sort_by_key(order);
    local.sort_by_key(order);
    assert_eq!(
        on_bus.len(),
        4,
        "2 by count for a, a's and b's windows by time"
    );
    assert_eq!(on_bus, local, "local and AWS must emit the same events");

    // Errors carry a stable type and name the node and its span.
    let wrong = json!({"version": "0", "id": "x", "source": "other", "detail-type": "usage",
        "time": "2026-03-02T09:00:00Z", "detail": {"profile": {"session_id": "a"}}});
    let e = env.rt.block_on(app.handle(wrong)).expect_err("no route");
    assert_eq!(e.kind, ErrorType::BadInput);
    assert!(e.to_string().contains("Counter (t.flow:3:8)"), "{e}");
    let keyless = json!({"version": "0", "id": "y", "source": "acme", "detail-type": "usage",
        "time": "2026-03-02T09:00:00Z", "detail": {"profile": {}}});
    let e = env.rt.block_on(app.handle(keyless)).expect_err("no key");
    assert_eq!(e.kind, ErrorType::BadInput);
    assert!(e.message.contains("profile.session_id"), "{e}");
}

/// Delivers `n` events through the driver with in-memory ports; returns
/// the mean time per invocation in microseconds (reading the envelope,
/// routing, idempotency, step, save, building PutEvents entries).
fn overhead(graph: &Graph, node: &str, n: u32) -> f64 {
    let router = Router::new(graph).expect("router");
    let driver = NodeDriver::new(graph, &router, node).expect("driver");
    let mut store = MemoryNodeStore::default();
    let mut objects = MemoryObjects::default();
    let mut out = RecordingOutlet::default();
    let events: Vec<Value> = (0..n)
        .map(|i| usage(i, &format!("s{}", i % 50), T0 + i64::from(i) * 100))
        .collect();
    let start = Instant::now();
    for e in &events {
        let event = read_delivered(e, 0).expect("event");
        driver
            .deliver(&mut store, &mut objects, &mut out, &event, event.time)
            .expect("deliver");
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
}

fn aggregator_graph() -> Graph {
    let mut g = serde_json::to_value(counter_graph(10, 60_000)).expect("graph");
    g["nodes"]["Counter"]["kind"] = json!("aggregator");
    g["nodes"]["Counter"]["collect"] = json!([{"name": "n", "path": ["data", "n"]}, {"name": "app", "path": ["application", "name"]}]);
    g["nodes"]["Counter"]["aggregates"] = json!([{"name": "total", "function": "sum", "path": ["data", "n"]}, {"name": "events", "function": "count"}]);
    serde_json::from_value(g).expect("aggregator graph")
}

#[test]
fn driver_overhead_without_aws_calls() {
    let n = 10_000;
    let counter = overhead(&counter_graph(10, 60_000), "Counter", n);
    let aggregator = overhead(&aggregator_graph(), "Counter", n);
    eprintln!("handler overhead without AWS calls: counter {counter:.1} µs/event, aggregator {aggregator:.1} µs/event ({n} events)");
    // The target is 1 ms in a release build; a debug build gets headroom.
    let limit = if cfg!(debug_assertions) {
        10_000.0
    } else {
        1_000.0
    };
    assert!(counter < limit && aggregator < limit);
}

#[test]
fn driver_republishes_after_a_failed_put() {
    let graph = counter_graph(2, 60_000);
    let router = Router::new(&graph).expect("router");
    let driver = NodeDriver::new(&graph, &router, "Counter").expect("driver");
    let mut store = MemoryNodeStore::default();
    let mut objects = MemoryObjects::default();
    let mut out = RecordingOutlet::default();
    let events: Vec<Event> = (0..2)
        .map(|i| read_delivered(&usage(i, "a", T0 + i64::from(i)), 0).expect("event"))
        .collect();
    driver
        .deliver(&mut store, &mut objects, &mut out, &events[0], T0)
        .expect("first");
    out.fail = 1;
    let e = driver
        .deliver(&mut store, &mut objects, &mut out, &events[1], T0 + 1)
        .expect_err("PutEvents fails");
    assert_eq!(e.kind, ErrorType::Retryable);
    assert!(out.entries.is_empty());
    // The redelivery publishes the committed output instead of counting again.
    let again = driver
        .deliver(&mut store, &mut objects, &mut out, &events[1], T0 + 2)
        .expect("redelivery");
    assert_eq!(again, flow_runtime::aws::driver::Outcome::Duplicate(1));
    assert_eq!(out.entries.len(), 1);
    assert!(store.outboxes.is_empty());
    assert_eq!(store.inner.load("Counter", "a").expect("load"), None);
}

fn ingest_graph() -> Graph {
    let mut g = serde_json::to_value(counter_graph(10, 60_000)).expect("graph");
    let span = g["nodes"]["Counter"]["span"].clone();
    g["events"]["Usage"]["schema"] = json!({"properties": {"detail": {"properties": {"data": {"properties": {
        "n": {"type": "integer"},
        "shot": {"properties": {"bucket": {"type": "string"}, "key": {"type": "string"}}, "required": ["bucket", "key"]}}}}}}});
    g["triggers"] = json!([
        {"name": "Shots", "kind": "s3", "bucket": "media", "prefix": "shots/", "event": "Usage", "span": span},
        {"name": "Post", "kind": "http", "path": "/usage", "event": "Usage", "span": span},
    ]);
    serde_json::from_value(g).expect("ingest graph")
}

#[test]
fn ingest_s3_uploads_and_http_posts() {
    let Some(ep) = endpoint("ingest_s3_uploads_and_http_posts") else {
        return;
    };
    let env = Env::new(ep.clone());
    let bucket = env.bucket("media");
    let (bus, queue) = env.bus_with_queue("ingest");
    let graph = ingest_graph();
    env.rt
        .block_on(
            env.clients
                .s3
                .put_object()
                .bucket(&bucket)
                .key("shots/1.png")
                .content_type("image/png")
                .metadata(
                    "flow-detail",
                    r#"{"profile": {"session_id": "a"}, "data": {"n": 7}, "application": {"name": "editor"}}"#,
                )
                .body(aws_sdk_s3::primitives::ByteStream::from_static(b"png"))
                .send(),
        )
        .expect("upload");
    let mut s3 = config(&bus, "", &bucket, &ep);
    s3.role = Role::Ingest("Shots".into());
    let app = Arc::new(App::new(s3, graph.clone(), env.clients.clone()).expect("app"));
    let notification = json!({
        "version": "0", "id": "n-1", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": "2026-03-02T09:00:00Z", "region": "us-east-1",
        "resources": [format!("arn:aws:s3:::{bucket}")],
        "detail": {"version": "0", "bucket": {"name": bucket}, "object": {"key": "shots/1.png", "size": 3, "etag": "e1"},
                   "request-id": "r", "requester": "123456789012", "reason": "PutObject"}
    });
    let answer = env.rt.block_on(app.handle(notification)).expect("ingested");
    assert_eq!(answer["ids"].as_array().map(Vec::len), Some(1));

    let mut http = config(&bus, "", &bucket, &ep);
    http.role = Role::Ingest("Post".into());
    let app = Arc::new(App::new(http, graph, env.clients.clone()).expect("app"));
    let request = |body: &str| {
        json!({"version": "2.0", "routeKey": "POST /usage", "rawPath": "/usage", "rawQueryString": "",
               "headers": {"content-type": "application/json"}, "isBase64Encoded": false, "body": body,
               "requestContext": {"http": {"method": "POST", "path": "/usage", "protocol": "HTTP/1.1",
                                           "sourceIp": "127.0.0.1", "userAgent": "t"},
                                  "timeEpoch": 1_772_442_001_000_i64, "requestId": "q"}})
    };
    let ok = env
        .rt
        .block_on(app.handle(request(
            r#"{"profile": {"session_id": "b"}, "data": {"n": 8}}"#,
        )))
        .expect("posted");
    assert_eq!(ok["statusCode"], 202, "{ok}");
    let bad = env
        .rt
        .block_on(app.handle(request("[1]")))
        .expect("answered");
    assert_eq!(bad["statusCode"], 400, "{bad}");

    let mut got: Vec<Event> = env
        .drain(&queue)
        .iter()
        .map(|m| read_delivered(m, 0).expect("envelope"))
        .collect();
    got.sort_by_key(|e| e.time);
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].source.as_str(), got[0].detail_type.as_str()),
        ("acme", "usage")
    );
    assert_eq!(
        Value::clone(&got[0].detail),
        json!({"profile": {"session_id": "a"}, "application": {"name": "editor"},
               "data": {"n": 7, "shot": {"bucket": bucket, "key": "shots/1.png", "size": 3, "etag": "e1", "content_type": "image/png"}}})
    );
    assert_eq!(got[0].time, T0);
    assert_eq!(got[1].detail["data"]["n"], 8);
    assert_eq!(got[1].time, T0 + 1000);
}

#[test]
fn sinks_write_documents_and_records() {
    let Some(ep) = endpoint("sinks_write_documents_and_records") else {
        return;
    };
    let env = Env::new(ep.clone());
    let table = env.table("sinks");
    let bucket = env.bucket("docs");
    let mut g = serde_json::to_value(counter_graph(10, 60_000)).expect("graph");
    let span = g["nodes"]["Counter"]["span"].clone();
    g["apps"] = json!([{"name": "Report", "nodes": ["Counter"], "flows": [], "settings": {}, "span": span, "sinks": [
        {"name": "Json", "event": "Counted", "kind": "s3", "key_template": "counts/{{profile.session_id}}.json", "format": "json", "span": span},
        {"name": "Md", "event": "Counted", "kind": "s3", "key_template": "counts/{{profile.session_id}}.md", "format": "markdown",
         "body_template": "# {{profile.session_id}}: {{data.count}}", "span": span},
        {"name": "Rows", "event": "Counted", "kind": "dynamodb", "key": ["profile", "session_id"], "sort": ["data", "count"], "ttl_ms": 86_400_000, "span": span},
    ]}]);
    let graph: Graph = serde_json::from_value(g).expect("sink graph");
    let mut config = config("unused", &table, &bucket, &ep);
    config.role = Role::Sink("Report".into());
    let app = Arc::new(App::new(config, graph, env.clients.clone()).expect("app"));
    let counted = json!({"version": "0", "id": "eb-1", "detail-type": "Counted", "source": "flow.t",
        "account": "1", "time": "2026-03-02T09:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"profile": {"session_id": "a"}, "data": {"count": 10},
                   "flow": {"correlation_id": "c", "hops": 1, "node": "Counter", "id": "derived-1"}}});
    let answer = env
        .rt
        .block_on(app.handle(counted.clone()))
        .expect("delivered");
    assert_eq!(
        answer["delivered"].as_array().map(Vec::len),
        Some(3),
        "{answer}"
    );
    // A redelivery writes the same object and item again.
    env.rt
        .block_on(app.handle(counted))
        .expect("delivered again");

    let get = |key: &str| {
        let out = env
            .rt
            .block_on(env.clients.s3.get_object().bucket(&bucket).key(key).send())
            .expect("object");
        let bytes = env
            .rt
            .block_on(out.body.collect())
            .expect("body")
            .into_bytes();
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    };
    assert_eq!(get("counts/a.md"), "# a: 10");
    let doc: Value = serde_json::from_str(&get("counts/a.json")).expect("json document");
    assert_eq!(doc["id"], "derived-1");
    let item = env
        .rt
        .block_on(
            env.clients
                .dynamodb
                .get_item()
                .table_name(&table)
                .key(
                    "pk",
                    aws_sdk_dynamodb::types::AttributeValue::S("sink#Report#Rows#a".into()),
                )
                .key(
                    "sk",
                    aws_sdk_dynamodb::types::AttributeValue::S("10".into()),
                )
                .send(),
        )
        .expect("get item")
        .item
        .expect("record");
    assert_eq!(item["id"].as_s().expect("id"), "derived-1");
    assert!(item.contains_key("expires_at"));

    // A template that names a missing field fails in strict mode.
    let missing = json!({"version": "0", "id": "eb-2", "detail-type": "Counted", "source": "flow.t",
        "time": "2026-03-02T09:00:00Z", "detail": {"profile": {}, "data": {"count": 1}}});
    let e = env.rt.block_on(app.handle(missing)).expect_err("strict");
    assert_eq!(e.kind, ErrorType::FlowFailed);
    assert!(e.to_string().contains("Report.Json"), "{e}");
}
