//! Shared by the store tests (`#[path]`-included): a small compiled graph
//! and an in-process router over it.
//!
//! Graph: `Ping` (raw) is read by dedupe nodes `A` and `B`; `A` emits
//! `PingA`, read by `C`, which emits `Ping` again (a loop, bounded by
//! `max_hops` on `PingAToC`); `B` emits `PingB`, read by nobody;
//! `D` reads `Ghost`, an event the graph mentions but does not declare.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response};
use flow_runtime::graph::Graph;
use flow_runtime::store::live::{Ingest, LiveRoutes, RecordingRoutes};
use flow_runtime::store::repo::Repository;
use flow_runtime::store::{router, seed, Auth, SqliteRepo, StoreState};
use serde_json::{json, Value};
use tower::ServiceExt;

pub const TOKEN: &str = "test-token";

fn span() -> Value {
    json!({"file": "t.flow", "line": 1, "column": 1, "offset": 0, "length": 1})
}

fn event(name: &str, dt: &str, emitted_by: Option<&str>) -> Value {
    let mut e = json!({
        "name": name, "source": "t.src", "detail_type": dt,
        "schema": {"type": "object"}, "span": span()
    });
    if let Some(n) = emitted_by {
        e["emitted_by"] = json!(n);
    }
    e
}

fn node(name: &str, input: &str, output: &str) -> Value {
    json!({
        "name": name, "class": "filter", "kind": "dedupe", "key": ["data", "n"], "window_ms": 1000,
        "inputs": [input], "outputs": [output], "emit": {"event": output}, "span": span()
    })
}

fn route(name: &str, event: &str, dt: &str, targets: &[&str]) -> Value {
    json!({
        "name": name, "event": event, "targets": targets,
        "pattern": {"source": ["t.src"], "detail-type": [dt]},
        "implicit": false, "span": span()
    })
}

fn bounded(mut route: Value, hops: u64) -> Value {
    route["max_hops"] = json!(hops);
    route
}

pub fn graph() -> Graph {
    let g = json!({
        "format_version": 1,
        "project": "t",
        "events": {
            "Ping": event("Ping", "ping", None),
            "PingA": event("PingA", "ping.a", Some("A")),
            "PingB": event("PingB", "ping.b", Some("B")),
        },
        "triggers": [],
        "nodes": {
            "A": node("A", "Ping", "PingA"),
            "B": node("B", "Ping", "PingB"),
            "C": node("C", "PingA", "Ping"),
            "D": node("D", "Ghost", "PingB"),
        },
        "routes": [
            route("PingToA", "Ping", "ping", &["A"]),
            bounded(route("PingAToC", "PingA", "ping.a", &["C"]), 3),
        ],
        "flows": [{"name": "Main", "steps": ["Ping", "A", "PingA", "C"], "span": span()}],
        "apps": [],
        "tests": []
    });
    Graph::from_json(&g.to_string()).expect("test graph")
}

/// A store over an in-memory SQLite repository, seeded with [`graph`].
pub async fn state_with(
    live: Arc<dyn LiveRoutes>,
    ingest: Option<Arc<dyn Ingest>>,
) -> Arc<StoreState> {
    let repo: Arc<dyn Repository> = Arc::new(SqliteRepo::in_memory().expect("repo"));
    let g = graph();
    seed(repo.as_ref(), &g).await.expect("seed");
    Arc::new(StoreState::new(
        repo,
        Arc::new(g),
        live,
        ingest,
        Auth::Token(TOKEN.into()),
    ))
}

pub async fn state() -> (Arc<StoreState>, Arc<RecordingRoutes>) {
    let live = Arc::new(RecordingRoutes::default());
    (state_with(live.clone(), None).await, live)
}

/// A request with the token; `body` as JSON when given.
pub fn request(method: &str, uri: &str, body: Option<Value>) -> Request<Body> {
    let b = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {TOKEN}"));
    match body {
        Some(v) => b
            .header("content-type", "application/json")
            .body(Body::from(v.to_string()))
            .expect("request"),
        None => b.body(Body::empty()).expect("request"),
    }
}

pub async fn send(state: &Arc<StoreState>, req: Request<Body>) -> (u16, Value, Response<()>) {
    let response = router(state.clone())
        .oneshot(req)
        .await
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (
        parts.status.as_u16(),
        value,
        Response::from_parts(parts, ()),
    )
}

pub fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

pub fn diagnostics(v: &Value) -> Vec<String> {
    v["error"]["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| d["code"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}
