//! The real `bootstrap` binary behind a Lambda Runtime API of our own on
//! loopback (`/2018-06-01/runtime/invocation/next`, `/response`, `/error`,
//! `/init/error`):
//! * start-up: time from process start to the first `/next`, beside the
//!   hello-world `lambda_runtime` example built with the same profile
//!   (no stand-in needed);
//! * an init error is reported with its type;
//! * with the moto stand-in: a stream of EventBridge events for a counter
//!   node, the state in DynamoDB, the events on the bus, and the binary's
//!   peak memory (`FLOWC_BENCH_EVENTS` events, default 300).
//!
//! `FLOWC_BOOTSTRAP=target/aws/release-lambda/bootstrap` measures a release
//! build (its `examples/hello-lambda` beside it is the baseline).
#![cfg(feature = "aws")]

mod aws_support;

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use aws_support::{counter_graph, endpoint, usage, Env};
use flow_runtime::aws::dynamodb::DynamoStore;
use flow_runtime::engine::state_view;
use flow_runtime::ports::StateStore;
use serde_json::{json, Value};

/// What the harness saw.
#[derive(Default)]
struct Seen {
    first_next: Option<Instant>,
    queue: VecDeque<(String, Value)>,
    responses: HashMap<String, Value>,
    errors: HashMap<String, (String, Value)>,
    init_error: Option<(String, Value)>,
}

/// A Lambda Runtime API on 127.0.0.1.
struct Harness {
    addr: String,
    seen: Arc<(Mutex<Seen>, Condvar)>,
}

impl Harness {
    fn start() -> Harness {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let seen = Arc::new((Mutex::new(Seen::default()), Condvar::new()));
        let shared = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        Harness { addr, seen }
    }

    fn invoke(&self, id: &str, payload: Value) {
        let (lock, cv) = &*self.seen;
        lock.lock()
            .expect("lock")
            .queue
            .push_back((id.to_string(), payload));
        cv.notify_all();
    }

    /// Waits until `pred` holds (or `timeout`).
    fn wait(&self, timeout: Duration, pred: impl Fn(&Seen) -> bool) -> bool {
        let (lock, cv) = &*self.seen;
        let deadline = Instant::now() + timeout;
        let mut seen = lock.lock().expect("lock");
        while !pred(&seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            seen = cv.wait_timeout(seen, left).expect("wait").0;
        }
        true
    }
}

/// One connection: HTTP/1.1 with keep-alive, Content-Length bodies.
fn serve(stream: TcpStream, shared: &Arc<(Mutex<Seen>, Condvar)>) {
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let error_type = headers
            .get("lambda-runtime-function-error-type")
            .cloned()
            .unwrap_or_default();
        let (lock, cv) = &**shared;
        let reply = if method == "GET" && path.ends_with("/runtime/invocation/next") {
            let mut seen = lock.lock().expect("lock");
            seen.first_next.get_or_insert_with(Instant::now);
            cv.notify_all();
            let (id, payload) = loop {
                if let Some(next) = seen.queue.pop_front() {
                    break next;
                }
                seen = cv.wait(seen).expect("wait");
            };
            drop(seen);
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
                + 30_000;
            let text = payload.to_string();
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\n\
                 Lambda-Runtime-Deadline-Ms: {deadline}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:f\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\n\
                 Content-Length: {}\r\n\r\n{text}",
                text.len()
            )
        } else {
            let mut seen = lock.lock().expect("lock");
            let segments: Vec<&str> = path.split('/').collect();
            if path.ends_with("/runtime/init/error") {
                seen.init_error = Some((error_type, body));
            } else if path.ends_with("/response") {
                seen.responses
                    .insert(segments[segments.len() - 2].to_string(), body);
            } else if path.ends_with("/error") {
                seen.errors
                    .insert(segments[segments.len() - 2].to_string(), (error_type, body));
            }
            cv.notify_all();
            "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}".to_string()
        };
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// The binary under test: `FLOWC_BOOTSTRAP` (e.g. a release build for
/// the figures), else the one cargo built for this test.
fn bootstrap() -> PathBuf {
    match std::env::var_os("FLOWC_BOOTSTRAP") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_BIN_EXE_bootstrap")),
    }
}

/// The hello-world example built with the same profile, next to the
/// binary (`cargo test` builds examples).
fn hello() -> Option<PathBuf> {
    let p = bootstrap().parent()?.join("examples").join("hello-lambda");
    p.exists().then_some(p)
}

fn start(exe: &Path, api: &str, dir: &Path, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(exe);
    cmd.current_dir(dir)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "f")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/f")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "s")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Where the HTTPS client finds root certificates (start-up experiments).
    for k in ["SSL_CERT_FILE", "SSL_CERT_DIR"] {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    cmd.spawn().expect("spawn")
}

/// Milliseconds from spawn to the first `/next`.
fn startup(exe: &Path, dir: &Path, env: &[(&str, &str)]) -> f64 {
    let h = Harness::start();
    let t0 = Instant::now();
    let mut child = start(exe, &h.addr, dir, env);
    let ok = h.wait(Duration::from_secs(30), |s| s.first_next.is_some());
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "{} never asked for an invocation", exe.display());
    let first = h
        .seen
        .0
        .lock()
        .expect("lock")
        .first_next
        .expect("first /next");
    first.duration_since(t0).as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn project_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("graph.json"),
        counter_graph(10, 60_000).to_json(),
    )
    .expect("graph");
    dir
}

fn node_env<'a>(endpoint: &'a str, bus: &'a str, table: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("FLOW_ROLE", "node"),
        ("FLOW_NODE", "Counter"),
        ("FLOW_GRAPH", "graph.json"),
        ("FLOW_BUS", bus),
        ("FLOW_TABLE", table),
        ("FLOW_BUCKET", "unused"),
        ("FLOW_STAGE", "test"),
        ("FLOWC_CLOCK", "events"),
        ("FLOWC_AWS_ENDPOINT", endpoint),
    ]
}

#[test]
fn startup_to_first_next() {
    let dir = project_dir();
    let env = node_env("http://127.0.0.1:9", "bus", "table");
    let runs = 21;
    let ours = median(
        (0..runs)
            .map(|_| startup(&bootstrap(), dir.path(), &env))
            .collect(),
    );
    match hello() {
        Some(h) => {
            let base = median((0..runs).map(|_| startup(&h, dir.path(), &[])).collect());
            eprintln!(
                "start-up to first /next (median of {runs}): bootstrap {ours:.1} ms, hello-lambda {base:.1} ms, ratio {:.2}",
                ours / base
            );
        }
        None => eprintln!("start-up to first /next (median of {runs}): bootstrap {ours:.1} ms (hello-lambda example not built)"),
    }
}

#[test]
fn init_error_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let h = Harness::start();
    let mut child = start(
        &bootstrap(),
        &h.addr,
        dir.path(),
        &[("FLOW_ROLE", "node"), ("FLOW_NODE", "N"), ("FLOW_BUS", "b")],
    );
    let ok = h.wait(Duration::from_secs(30), |s| s.init_error.is_some());
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "no init error reported");
    let (kind, body) = h
        .seen
        .0
        .lock()
        .expect("lock")
        .init_error
        .clone()
        .expect("init error");
    assert_eq!(kind, "BadInput");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap_or("")
            .contains("graph.json"),
        "{body}"
    );
}

/// VmHWM of a process, in KiB.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn counter_stream_through_the_binary() {
    let Some(ep) = endpoint("counter_stream_through_the_binary") else {
        return;
    };
    let n: u32 = std::env::var("FLOWC_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let aws = Env::new(ep.clone());
    let table = aws.table("bin");
    let (bus, queue) = aws.bus_with_queue("bin");
    let dir = project_dir();
    let h = Harness::start();
    let mut child = start(
        &bootstrap(),
        &h.addr,
        dir.path(),
        &node_env(&ep, &bus, &table),
    );
    let t0 = Instant::now();
    const T0: i64 = 1_772_442_000_000;
    let sessions = 20;
    for i in 0..n {
        let e = usage(i, &format!("s{}", i % sessions), T0 + i64::from(i) * 10);
        h.invoke(&format!("req-{i}"), e);
    }
    // One redelivery and one event with no route (an error with a type).
    h.invoke("dup", usage(0, "s0", T0));
    h.invoke("bad", json!({"id": "x", "source": "nobody", "detail-type": "usage", "time": "2026-03-02T09:00:00Z", "detail": {}}));
    let limit = Duration::from_secs(600 + u64::from(n) / 10);
    let done = h.wait(limit, |s| {
        s.responses.len() + s.errors.len() == n as usize + 2
    });
    let elapsed = t0.elapsed();
    let peak = peak_kib(child.id());
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    assert!(
        done,
        "the binary stopped answering: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = h.seen.0.lock().expect("lock");
    assert_eq!(
        seen.responses.len(),
        n as usize + 1,
        "errors: {:?}",
        seen.errors
    );
    assert_eq!(
        seen.responses["dup"],
        json!({"duplicate": true, "republished": 0})
    );
    // lambda_runtime sends the header `Unhandled`; the type is in the body.
    let (_, body) = &seen.errors["bad"];
    assert_eq!(body["errorType"], "BadInput");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap_or("")
            .contains("matches no route"),
        "{body}"
    );

    let emitted = aws.drain(&queue);
    let per_session = n / sessions; // Events per session (n a multiple of 20).
    assert_eq!(
        emitted.len() as u32,
        sessions * (per_session / 10),
        "one Counted per 10 events of a session"
    );
    let mut store = DynamoStore::new(aws.clients.dynamodb.clone(), &table, aws.bridge());
    let graph = counter_graph(10, 60_000);
    let left = per_session % 10;
    for s in 0..sessions {
        let state = store.load("Counter", &format!("s{s}")).expect("load");
        let count = state.map_or(json!(0), |st| {
            state_view(&graph.nodes["Counter"], Some(&st.state))["count"].clone()
        });
        assert_eq!(count, json!(left));
    }
    eprintln!(
        "bootstrap against moto: {n} events in {:.1} s ({:.2} ms/event incl. moto), peak RSS {} KiB",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / f64::from(n),
        peak.map_or("?".into(), |p| p.to_string())
    );
}

/// An API Gateway HTTP API (payload 2.0) request, as the gateway sends it
/// to the API function after IAM authorised the caller.
fn http_request(method: &str, route: &str, path: &str, body: Option<&str>) -> Value {
    let route_key = format!("{method} {route}");
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "if-match": "\"1\"",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "aws_bootstrap"},
            "requestId": "req",
            "routeKey": route_key,
            "stage": "$default",
            "time": "02/Mar/2026:09:00:00 +0000",
            "timeEpoch": 1_772_442_000_000_i64,
            "authorizer": {"iam": {"accessKey": "AKIA", "accountId": "123456789012",
                "callerId": "AIDA", "principalOrgId": null,
                "userArn": "arn:aws:iam::123456789012:user/publisher", "userId": "AIDA"}},
        },
        "body": body,
        "isBase64Encoded": false,
    })
}

/// One request through the API function: (status, JSON body).
fn call(h: &Harness, id: &str, request: Value) -> (u16, Value) {
    h.invoke(id, request);
    let answered = h.wait(Duration::from_secs(60), |s| {
        s.responses.contains_key(id) || s.errors.contains_key(id)
    });
    assert!(answered, "no answer to {id}");
    let (response, error) = {
        let seen = h.seen.0.lock().expect("lock");
        (
            seen.responses.get(id).cloned(),
            seen.errors.get(id).cloned(),
        )
    };
    let Some(response) = response else {
        panic!("{id} failed: {error:?}");
    };
    let status = response["statusCode"].as_u64().unwrap_or(0) as u16;
    let body = response["body"].as_str().unwrap_or("");
    if !body.is_empty() {
        assert_eq!(
            response["headers"]["content-type"], "application/json",
            "{id}: {response}"
        );
    }
    let body = serde_json::from_str(body).unwrap_or(Value::String(body.into()));
    (status, body)
}

/// The api role end to end: the real binary serves the Event Store router
/// through lambda_http; records land in DynamoDB and route changes on the
/// EventBridge rules of the stand-in.
#[test]
fn event_store_api_through_the_binary() {
    let Some(ep) = endpoint("event_store_api_through_the_binary") else {
        return;
    };
    let aws = Env::new(ep.clone());
    let table = aws.table("api");
    let (bus, _queue) = aws.bus_with_queue("api");
    let dir = project_dir();
    let h = Harness::start();
    let env = vec![
        ("FLOW_ROLE", "api"),
        ("FLOW_GRAPH", "graph.json"),
        ("FLOW_BUS", bus.as_str()),
        ("FLOW_TABLE", table.as_str()),
        ("FLOW_STAGE", "test"),
        ("FLOW_RULE_PREFIX", "t-test-"),
        (
            "FLOW_TARGETS",
            r#"{"Counter":["t-test-Counter","t-test-CounterDLQ"]}"#,
        ),
        (
            "FLOW_FUNCTION_ARN_PREFIX",
            "arn:aws:lambda:us-east-1:123456789012:function:",
        ),
        (
            "FLOW_QUEUE_ARN_PREFIX",
            "arn:aws:sqs:us-east-1:123456789012:",
        ),
        ("FLOWC_AWS_ENDPOINT", ep.as_str()),
    ];
    let mut child = start(&bootstrap(), &h.addr, dir.path(), &env);
    let graph = counter_graph(10, 60_000);
    let usage_event = |dt: &str| {
        json!({"name": "Usage", "source": "acme", "detail_type": dt,
               "schema": graph.events["Usage"].schema})
        .to_string()
    };

    let (status, body) = call(
        &h,
        "health",
        http_request("GET", "/healthz", "/healthz", None),
    );
    assert_eq!((status, &body["status"]), (200, &json!("ok")));
    let (status, body) = call(&h, "empty", http_request("GET", "/events", "/events", None));
    assert_eq!((status, &body["items"]), (200, &json!([])), "{body}");

    // What `flowc publish` does: register the events, then route them.
    let put = |id: &str, name: &str, text: String| {
        let mut r = http_request("PUT", "/event/{id}", &format!("/event/{name}"), Some(&text));
        r["headers"]
            .as_object_mut()
            .expect("headers")
            .remove("if-match");
        call(&h, id, r)
    };
    let (status, body) = put("put-usage", "Usage", usage_event("usage"));
    assert_eq!((status, &body["version"]), (201, &json!(1)), "{body}");
    let counted = json!({"name": "Counted", "source": "flow.t", "detail_type": "Counted",
        "schema": graph.events["Counted"].schema, "emitted_by": "Counter"});
    let (status, _) = put("put-counted", "Counted", counted.to_string());
    assert_eq!(status, 201);
    let (status, body) = call(&h, "list", http_request("GET", "/events", "/events", None));
    assert_eq!(status, 200);
    let names: Vec<&str> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, ["Counted", "Usage"]);

    // Routing: a new rule with the node's function and dead-letter queue.
    let routes = |pattern: Value| {
        json!({"routes": [{"name": "UsageToCounter", "targets": ["Counter"], "pattern": pattern}]})
            .to_string()
    };
    let mut first = http_request(
        "POST",
        "/route/{id}",
        "/route/Usage",
        Some(&routes(
            json!({"detail": {"data": {"n": [{"numeric": [">", 1]}]}}}),
        )),
    );
    first["headers"]["if-match"] = json!("\"0\"");
    let (status, body) = call(&h, "route-1", first);
    assert_eq!((status, &body["version"]), (200, &json!(1)), "{body}");
    let eb = &aws.clients.eventbridge;
    let rule = |name: &str| {
        aws.rt
            .block_on(eb.describe_rule().name(name).event_bus_name(&bus).send())
            .expect("describe rule")
    };
    let pattern: Value =
        serde_json::from_str(rule("t-test-UsageToCounter").event_pattern().unwrap_or(""))
            .expect("pattern");
    assert_eq!(
        pattern,
        json!({"source": ["acme"], "detail-type": ["usage"],
               "detail": {"data": {"n": [{"numeric": [">", 1]}]}}})
    );
    let targets = aws
        .rt
        .block_on(
            eb.list_targets_by_rule()
                .rule("t-test-UsageToCounter")
                .event_bus_name(&bus)
                .send(),
        )
        .expect("targets");
    let target = &targets.targets()[0];
    assert_eq!(
        target.arn(),
        "arn:aws:lambda:us-east-1:123456789012:function:t-test-Counter"
    );
    assert_eq!(
        target.dead_letter_config().and_then(|d| d.arn()),
        Some("arn:aws:sqs:us-east-1:123456789012:t-test-CounterDLQ")
    );

    // Replacing it (If-Match: "1") changes the rule's pattern on the bus;
    // a stale version changes nothing.
    let second = http_request(
        "POST",
        "/route/{id}",
        "/route/Usage",
        Some(&routes(
            json!({"detail": {"data": {"n": [{"numeric": [">", 5]}]}}}),
        )),
    );
    let (status, body) = call(&h, "route-2", second.clone());
    assert_eq!((status, &body["version"]), (200, &json!(2)), "{body}");
    let (status, body) = call(&h, "route-stale", second);
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("version_conflict")),
        "{body}"
    );
    let pattern: Value =
        serde_json::from_str(rule("t-test-UsageToCounter").event_pattern().unwrap_or(""))
            .expect("pattern");
    assert_eq!(
        pattern["detail"]["data"]["n"],
        json!([{"numeric": [">", 5]}])
    );

    // An invalid pattern is a 422 with the reason and leaves the rule alone.
    let mut bad = http_request(
        "POST",
        "/route/{id}",
        "/route/Usage",
        Some(&routes(
            json!({"detail": {"data": {"n": [{"numeric": [">"]}]}}}),
        )),
    );
    bad["headers"]["if-match"] = json!("\"2\"");
    let (status, body) = call(&h, "route-bad", bad);
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("invalid_route")),
        "{body}"
    );

    // Flows: created, deleted, deleted again.
    let flow = json!({"name": "Counting", "steps": ["Usage", "Counter", "Counted"]}).to_string();
    let (status, body) = call(
        &h,
        "flow",
        http_request("POST", "/flow", "/flow", Some(&flow)),
    );
    assert_eq!((status, &body["id"]), (201, &json!("Counting")), "{body}");
    let (status, body) = call(
        &h,
        "flow-get",
        http_request("GET", "/flow/{id}", "/flow/Counting", None),
    );
    assert_eq!(
        (status, &body["routes"]),
        (200, &json!(["UsageToCounter"])),
        "{body}"
    );
    let mut delete = http_request("DELETE", "/flow/{id}", "/flow/Counting", None);
    delete["headers"]
        .as_object_mut()
        .expect("headers")
        .remove("if-match");
    let (status, _) = call(&h, "delete-1", delete.clone());
    assert_eq!(status, 204);
    let (status, body) = call(&h, "delete-2", delete);
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("unknown_flow")),
        "{body}"
    );

    // Malformed input is a 4xx JSON error, never a failed invocation.
    let (status, body) = call(
        &h,
        "malformed",
        http_request("POST", "/flow", "/flow", Some("{\"name\": ")),
    );
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("malformed_json")),
        "{body}"
    );
    let (status, body) = call(
        &h,
        "unknown-event",
        http_request("GET", "/event/{id}", "/event/Nope", None),
    );
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("unknown_event")),
        "{body}"
    );

    // The records are the repository's items in the project table.
    let item = |pk: &str, sk: &str| {
        use aws_sdk_dynamodb::types::AttributeValue as A;
        aws.rt
            .block_on(
                aws.clients
                    .dynamodb
                    .get_item()
                    .table_name(&table)
                    .key("pk", A::S(pk.into()))
                    .key("sk", A::S(sk.into()))
                    .send(),
            )
            .expect("get item")
            .item()
            .cloned()
    };
    let routing = item("store#route", "Usage").expect("routing record");
    assert_eq!(routing["v"].as_n().map(String::as_str), Ok("2"));
    assert!(item("store#event", "Counted").is_some());
    assert!(item("store#flow", "Counting").is_none());

    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    let seen = h.seen.0.lock().expect("lock");
    assert!(
        seen.errors.is_empty() && seen.init_error.is_none(),
        "failed invocations: {:?} {:?}\n{}",
        seen.errors,
        seen.init_error,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The shared HTTPS client defers its TLS set-up to the first request
/// (start-up): an `https://` endpoint must still get a TLS handshake. A
/// listener on loopback reads the first bytes the client sends: a TLS
/// record (0x16 0x03), not plain HTTP. Needs the credentials
/// `scripts/with-moto` exports (requests are signed before they are sent).
#[test]
fn https_endpoints_get_tls_after_deferred_setup() {
    if endpoint("https_endpoints_get_tls_after_deferred_setup").is_none() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if let Some(Ok(mut stream)) = listener.incoming().next() {
            let mut first = [0u8; 2];
            if stream.read_exact(&mut first).is_ok() {
                let _ = tx.send(first);
            }
        }
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let clients = rt.block_on(flow_runtime::aws::Clients::load(Some(&format!(
        "https://127.0.0.1:{port}"
    ))));
    let result = rt.block_on(clients.eventbridge.list_event_buses().send());
    assert!(result.is_err(), "a listener that speaks no TLS answered");
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the client connected");
    assert_eq!(first, [0x16, 0x03], "not a TLS handshake record");
}

/// VmRSS of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn env_count(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The binary's memory over a long stream of counter events
/// (`FLOWC_MEMORY_EVENTS`, default 400) fed in chunks
/// (`FLOWC_MEMORY_CHUNK`, default 200; multiples of 200). After each chunk
/// the emitted events and the state are checked, and the table is deleted
/// and made again: the stand-in keeps every item (TTL never expires
/// there) and slowed down and grew to gigabytes over a 10,000-event
/// run, while the binary keeps nothing per event. Its resident memory
/// after the last chunk stays within 4 MiB of that after the first.
#[test]
fn memory_over_a_long_stream() {
    let Some(ep) = endpoint("memory_over_a_long_stream") else {
        return;
    };
    let n = env_count("FLOWC_MEMORY_EVENTS", 400);
    let chunk = env_count("FLOWC_MEMORY_CHUNK", 200);
    assert!(
        chunk % 200 == 0 && n % chunk == 0 && n >= 2 * chunk,
        "FLOWC_MEMORY_CHUNK must be a multiple of 200 and divide FLOWC_MEMORY_EVENTS at least twice"
    );
    let aws = Env::new(ep.clone());
    let table = aws.table("mem");
    let (bus, queue) = aws.bus_with_queue("mem");
    let dir = project_dir();
    let h = Harness::start();
    let mut child = start(
        &bootstrap(),
        &h.addr,
        dir.path(),
        &node_env(&ep, &bus, &table),
    );
    const T0: i64 = 1_772_442_000_000;
    let sessions = 20;
    let graph = counter_graph(10, 60_000);
    let t0 = Instant::now();
    let mut rss = Vec::new();
    for c in 0..n / chunk {
        for i in c * chunk..(c + 1) * chunk {
            let e = usage(i, &format!("s{}", i % sessions), T0 + i64::from(i) * 10);
            h.invoke(&format!("m-{i}"), e);
        }
        let answered = ((c + 1) * chunk) as usize;
        let done = h.wait(Duration::from_secs(600 + u64::from(chunk) / 10), |s| {
            s.responses.len() + s.errors.len() == answered
        });
        assert!(done, "the binary stopped answering in chunk {c}");
        assert!(
            h.seen.0.lock().expect("lock").errors.is_empty(),
            "failed deliveries in chunk {c}"
        );
        // Ten events per session and chunk: one Counted each, counts back at 0.
        let emitted = aws.drain(&queue);
        assert_eq!(emitted.len() as u32, sessions * (chunk / sessions / 10));
        let mut store = DynamoStore::new(aws.clients.dynamodb.clone(), &table, aws.bridge());
        for s in 0..sessions {
            let state = store.load("Counter", &format!("s{s}")).expect("load");
            let count = state.map_or(json!(0), |st| {
                state_view(&graph.nodes["Counter"], Some(&st.state))["count"].clone()
            });
            assert_eq!(count, json!(0), "session s{s} after chunk {c}");
        }
        rss.push(rss_kib(child.id()).expect("VmRSS"));
        aws.rt
            .block_on(
                aws.clients
                    .dynamodb
                    .delete_table()
                    .table_name(&table)
                    .send(),
            )
            .expect("delete table");
        aws.table_named(table.clone());
    }
    let elapsed = t0.elapsed();
    let peak = peak_kib(child.id()).expect("VmHWM");
    let _ = child.kill();
    let _ = child.wait();
    eprintln!(
        "bootstrap memory: {n} events in chunks of {chunk} in {:.1} s; VmRSS after each chunk (KiB) {rss:?}; peak (VmHWM) {peak} KiB",
        elapsed.as_secs_f64()
    );
    let (first, last) = (rss[0], rss[rss.len() - 1]);
    assert!(
        last <= first + 4096,
        "resident memory grew from {first} KiB to {last} KiB"
    );
}
