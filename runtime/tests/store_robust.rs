//! Hostile input: 12,000 generated requests through the router in-process
//! (random and mutated JSON, huge numbers, deep nesting, bad UTF-8, path
//! traversal in ids, wrong methods and content types, garbage headers),
//! then 600 raw requests over a real socket (broken request lines, huge
//! headers, lying Content-Length). No response may be a 5xx, nothing may
//! panic, and the server must answer `/healthz` afterwards.

#![cfg(feature = "store")]
#![allow(clippy::unwrap_used)]

#[path = "store_common.rs"]
mod common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use common::{graph, state_with, TOKEN};
use flow_runtime::local::{MemoryStore, Ports, Runner};
use flow_runtime::store::live::{Ingest, LiveRoutes};
use flow_runtime::store::local::LocalEngine;
use flow_runtime::store::{router, StoreState};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tower::ServiceExt;

async fn engine_state() -> Arc<StoreState> {
    let engine = Arc::new(
        LocalEngine::spawn(
            graph(),
            |g| Runner::new(g, MemoryStore::new(), Ports::offline(".")).map_err(|e| e.to_string()),
            Box::new(|_| {}),
        )
        .unwrap(),
    );
    let live: Arc<dyn LiveRoutes> = engine.clone();
    let ingest: Arc<dyn Ingest> = engine;
    state_with(live, Some(ingest)).await
}

const IDS: &[&str] = &[
    "Ping",
    "PingA",
    "Main",
    "Nope",
    "..",
    "%2e%2e",
    "..%2F..%2Fetc%2Fpasswd",
    "%2F",
    "%00",
    "a%00b",
    "%FF%FE",
    "%C3%A9",
    "%E2%80%AE",
    "x%20y",
    "%25",
    "%",
    "a.b",
    ".git",
    "-",
    "_",
    "CON",
    "~",
    "%5C..%5C",
];

fn random_id(rng: &mut StdRng) -> String {
    match rng.gen_range(0..4) {
        0 => IDS[rng.gen_range(0..IDS.len())].to_string(),
        1 => "A".repeat(rng.gen_range(100..3000)),
        2 => (0..rng.gen_range(1..20))
            .map(|_| format!("%{:02X}", rng.gen::<u8>()))
            .collect(),
        _ => (0..rng.gen_range(1..30))
            .map(|_| rng.gen_range(b'!'..=b'~') as char)
            .filter(|c| !"/?#".contains(*c))
            .collect(),
    }
}

fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    match rng.gen_range(0..if depth > 4 { 6 } else { 9 }) {
        0 => Value::Null,
        1 => json!(rng.gen::<bool>()),
        2 => json!(rng.gen::<i64>()),
        3 => json!(rng.gen::<f64>() * 1e300),
        4 => json!("x".repeat(rng.gen_range(0..100))),
        5 => json!(["Ping", "A", "PingA", "C", "B", "Ghost", "D", "Nope"][rng.gen_range(0..8)]),
        6 => Value::Array(
            (0..rng.gen_range(0..5))
                .map(|_| random_json(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let keys = [
                "name",
                "steps",
                "routes",
                "targets",
                "pattern",
                "version",
                "max_hops",
                "source",
                "detail-type",
                "detail_type",
                "detail",
                "schema",
                "id",
                "time",
                "numeric",
                "prefix",
                "anything-but",
                "$or",
                "exists",
            ];
            Value::Object(
                (0..rng.gen_range(0..6))
                    .map(|_| {
                        (
                            keys[rng.gen_range(0..keys.len())].to_string(),
                            random_json(rng, depth + 1),
                        )
                    })
                    .collect(),
            )
        }
    }
}

/// Plausible bodies with one thing wrong, or plain valid ones.
fn mutated_body(rng: &mut StdRng) -> Value {
    let mut v = match rng.gen_range(0..4) {
        0 => json!({"name": "F", "steps": ["Ping", "A", "PingA", "C"]}),
        1 => {
            json!({"routes": [{"targets": ["A"], "pattern": {"detail": {"data": {"n": [{"numeric": [">", 1]}]}}}}], "version": 1})
        }
        2 => json!({"name": "PingC", "source": "s", "detail_type": "d", "schema": {}}),
        _ => json!([{"source": "t.src", "detail-type": "ping", "detail": {"data": {"n": 1}}}]),
    };
    for _ in 0..rng.gen_range(0..3) {
        let extra = random_json(rng, 3);
        match &mut v {
            Value::Object(m) => {
                let keys: Vec<String> = m.keys().cloned().collect();
                let k = keys[rng.gen_range(0..keys.len())].clone();
                m.insert(k, extra);
            }
            Value::Array(a) => a.push(extra),
            _ => {}
        }
    }
    v
}

fn random_body(rng: &mut StdRng) -> Vec<u8> {
    match rng.gen_range(0..10) {
        0 => (0..rng.gen_range(0..200))
            .map(|_| rng.gen::<u8>())
            .collect(),
        1 => format!(
            "{}{}",
            "[".repeat(rng.gen_range(100..5000)),
            "]".repeat(rng.gen_range(0..5000))
        )
        .into_bytes(),
        2 => format!("{{\"a\":{}}}", "{\"a\":".repeat(rng.gen_range(100..2000))).into_bytes(),
        3 => [
            "1e999999",
            "-0",
            "123456789012345678901234567890",
            "1e-400",
            "NaN",
            "Infinity",
            "\"\\ud800\"",
            "{\"version\": 1e40}",
            "{\"version\": -1}",
            "{\"version\": 18446744073709551616}",
            "{\"limit\": 1.5}",
        ][rng.gen_range(0..11)]
        .as_bytes()
        .to_vec(),
        4 => {
            let mut b = mutated_body(rng).to_string().into_bytes();
            let at = rng.gen_range(0..b.len());
            b[at] = rng.gen();
            b
        }
        5 | 6 => mutated_body(rng).to_string().into_bytes(),
        7 => {
            let mut b = mutated_body(rng).to_string().into_bytes();
            b.truncate(rng.gen_range(0..b.len()));
            b
        }
        _ => random_json(rng, 0).to_string().into_bytes(),
    }
}

fn random_request(rng: &mut StdRng) -> Request<Body> {
    let methods = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "BREW",
    ];
    let mut method = methods[rng.gen_range(0..methods.len())];
    // Mostly the endpoint's own method, so that requests reach validation.
    let fits_now = rng.gen_bool(0.8);
    let pick = rng.gen_range(0..10);
    let mut uri = match pick {
        0 => "/events".to_string(),
        1 => "/flows".to_string(),
        2 => format!("/event/{}", random_id(rng)),
        3 => format!("/flow/{}", random_id(rng)),
        4 => "/flow".to_string(),
        5 => format!("/route/{}", random_id(rng)),
        6 => "/ingest".to_string(),
        7 => [
            "/",
            "/openapi.json",
            "/healthz",
            "/event",
            "/route",
            "/events/",
            "//events",
            "/event/Ping/x",
        ][rng.gen_range(0..8)]
        .to_string(),
        _ => format!("/{}/{}", random_id(rng), random_id(rng)),
    };
    let own = match pick {
        0 | 1 => Some("GET"),
        2 => Some(["GET", "PUT"][rng.gen_range(0..2)]),
        3 => Some(["GET", "DELETE"][rng.gen_range(0..2)]),
        4..=6 => Some("POST"),
        _ => None,
    };
    if let (true, Some(m)) = (fits_now, own) {
        method = m;
    }
    if rng.gen_bool(0.3) {
        let limits = [
            "0",
            "1",
            "-5",
            "1000",
            "1001",
            "abc",
            "1e3",
            "99999999999999999999999",
            "",
            "%FF",
        ];
        uri.push_str(&format!(
            "?limit={}",
            limits[rng.gen_range(0..limits.len())]
        ));
        if rng.gen_bool(0.5) {
            uri.push_str(&format!("&next_token={}", random_id(rng)));
        }
    }
    let mut b = Request::builder().method(method).uri(uri.as_str());
    if rng.gen_bool(0.9) {
        b = b.header("authorization", format!("Bearer {TOKEN}"));
    } else if rng.gen_bool(0.5) {
        b = b.header("authorization", "Bearer x".repeat(rng.gen_range(1..2000)));
    }
    let types = [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/problem+json",
        "multipart/form-data; boundary=x",
        "",
        "application/json\u{7f}",
    ];
    if rng.gen_bool(0.9) {
        if let Ok(v) =
            axum::http::HeaderValue::from_bytes(types[rng.gen_range(0..types.len())].as_bytes())
        {
            b = b.header("content-type", v);
        }
    }
    if rng.gen_bool(0.2) {
        let v: Vec<u8> = (0..rng.gen_range(1..40))
            .map(|_| rng.gen_range(0x20..0x7f))
            .collect();
        if let Ok(v) = axum::http::HeaderValue::from_bytes(&v) {
            b = b.header("if-match", v);
        }
    }
    if rng.gen_bool(0.05) {
        b = b.header("x-huge", "h".repeat(64 * 1024));
    }
    if rng.gen_bool(0.05) {
        b = b.header(
            "content-length",
            ["0", "999999999999", "-1", "abc"][rng.gen_range(0..4)],
        );
    }
    b.body(Body::from(random_body(rng)))
        .unwrap_or_else(|_| Request::new(Body::empty()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_thousand_hostile_requests_in_process() {
    let state = engine_state().await;
    let app = router(state.clone());
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let mut by_status = std::collections::BTreeMap::<u16, u32>::new();
    for i in 0..12_000 {
        let req = random_request(&mut rng);
        let shown = format!("{} {}", req.method(), req.uri());
        let head = req.method() == axum::http::Method::HEAD;
        let response = app.clone().oneshot(req).await.unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(
            status < 500,
            "request {i} ({shown}) got {status}: {}",
            String::from_utf8_lossy(&body)
        );
        if status >= 400 && !head {
            let v: Value = serde_json::from_slice(&body)
                .unwrap_or_else(|_| panic!("{shown}: non-JSON error {status}"));
            assert!(v["error"]["code"].is_string(), "{shown}: {v}");
        }
        *by_status.entry(status).or_default() += 1;
    }
    eprintln!("statuses: {by_status:?}");
    assert!(
        by_status.keys().any(|s| *s < 300),
        "some requests must succeed"
    );
    let ok = app
        .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

/// Sends `bytes` and returns the first line of the answer. `half_close`
/// shuts the write side after the request, so a truncated request ends
/// there; hyper closes a half-closed connection without waiting for its
/// answer, so a well-formed request that must be answered keeps it open.
fn raw_exchange(addr: std::net::SocketAddr, bytes: &[u8], half_close: bool) -> Option<String> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let _ = s.write_all(bytes);
    if half_close {
        let _ = s.shutdown(std::net::Shutdown::Write);
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    Some(
        String::from_utf8_lossy(&out)
            .lines()
            .next()
            .unwrap_or("")
            .to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_hundred_raw_requests_over_a_socket() {
    let state = engine_state().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    let lines = tokio::task::spawn_blocking(move || {
        let mut rng = StdRng::seed_from_u64(7);
        let auth = format!("Authorization: Bearer {TOKEN}\r\n");
        let mut first_lines = Vec::new();
        for i in 0..600 {
            let body = random_body(&mut rng);
            let request: Vec<u8> = match i % 8 {
                0 => [b"GET /event/".as_slice(), &(0..20).map(|_| rng.gen::<u8>()).collect::<Vec<_>>(), b" HTTP/1.1\r\nHost: x\r\n\r\n"].concat(),
                1 => format!("GET /events HTTP/1.1\r\nHost: x\r\n{auth}X-Big: {}\r\n\r\n", "b".repeat(rng.gen_range(10_000..200_000))).into_bytes(),
                2 => format!("POST /flow HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len() + rng.gen_range(1..100)).into_bytes().into_iter().chain(body).collect(),
                3 => (0..rng.gen_range(1..300)).map(|_| rng.gen::<u8>()).collect(),
                4 => format!("POST /route/Ping HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").into_bytes(),
                5 => format!("GET /../../../etc/passwd HTTP/1.1\r\nHost: x\r\n{auth}\r\n\r\n").into_bytes(),
                6 => format!("GET /events HTTP/1.1\r\nHost: x\r\n{auth}{}\r\n", (0..200).map(|n| format!("H{n}: v\r\n")).collect::<String>()).into_bytes(),
                _ => format!("POST /ingest HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes().into_iter().chain(body).collect(),
            };
            if let Some(line) = raw_exchange(addr, &request, true) {
                assert!(!line.starts_with("HTTP/1.1 5"), "raw request {i}: {line}");
                first_lines.push(line);
            }
        }
        let healthy = raw_exchange(addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false);
        (first_lines, healthy)
    })
    .await
    .unwrap();
    assert!(
        lines.0.len() >= 500,
        "the server answered only {} of 600",
        lines.0.len()
    );
    assert_eq!(lines.1.as_deref(), Some("HTTP/1.1 200 OK"));
}
