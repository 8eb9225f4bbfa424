//! Custom nodes and webhook sinks on AWS.
//!
//! * A custom node's function against a loopback server speaking the
//!   Lambda Invoke API (moto cannot run Lambda code): valid answers are
//!   put with the flow metadata, an answer that breaks its schema, a
//!   function error (`X-Amz-Function-Error`) and a timeout put nothing and
//!   name the node and its `.flow` span. Needs no stand-in.
//! * A webhook sink's POST with its secret from Secrets Manager (moto,
//!   `scripts/with-moto`; skipped with a notice without
//!   `FLOWC_AWS_ENDPOINT`) to a loopback receiver that checks the
//!   signature and fails the first attempts.
#![cfg(feature = "aws")]

mod aws_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_support::{endpoint, Env};
use flow_runtime::aws::driver::{NodeDriver, Outcome};
use flow_runtime::aws::error::ErrorType;
use flow_runtime::aws::fakes::RecordingOutlet;
use flow_runtime::aws::lambda_invoke::{self, LambdaNodes};
use flow_runtime::aws::secrets::Secrets;
use flow_runtime::aws::sinks::{self, Delivery, Webhooks};
use flow_runtime::aws::wire::read_delivered;
use flow_runtime::aws::Bridge;
use flow_runtime::engine::route::Router;
use flow_runtime::graph::Graph;
use flow_runtime::sink::verify;
use serde_json::{json, Value};

/// One HTTP request as the loopback servers saw it.
#[derive(Clone, Debug)]
struct Request {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a server answers: status, headers, body, and a delay first.
type Answer = (u16, Vec<(&'static str, String)>, String, Duration);

/// A one-request-per-connection HTTP/1.1 server on loopback; `answer`
/// decides the response of the `n`-th request.
fn serve(
    answer: impl Fn(usize, &Request) -> Answer + Send + 'static,
) -> (String, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() || line.is_empty() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.trim_end().split_once(':') {
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            let length = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let request = Request {
                path,
                headers,
                body,
            };
            let n = {
                let mut log = log.lock().expect("log");
                log.push(request.clone());
                log.len()
            };
            let (status, extra, body, delay) = answer(n, &request);
            std::thread::sleep(delay);
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in extra {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            let _ = write!(stream, "{head}\r\n{body}");
        }
    });
    (url, seen)
}

fn span() -> Value {
    json!({"file": "nodes.flow", "line": 12, "column": 13, "offset": 0, "length": 6})
}

/// `Usage` (raw) → `Scorer` (custom, the given function) → `Scored`
/// (`data.score` required).
fn custom_graph(function: &str, timeout_ms: u64) -> Graph {
    let schema = json!({"type": "object", "properties": {"detail": {
        "type": "object", "required": ["data"],
        "properties": {"data": {"type": "object", "required": ["score"],
            "properties": {"score": {"type": "number"}}}}}}});
    serde_json::from_value(json!({
        "format_version": 1, "project": "t", "triggers": [], "flows": [], "apps": [], "tests": [],
        "events": {
            "Usage": {"name": "Usage", "source": "acme", "detail_type": "usage", "schema": {}, "span": span()},
            "Scored": {"name": "Scored", "source": "flow.t", "detail_type": "Scored", "schema": schema,
                "emitted_by": "Scorer", "span": span()},
        },
        "nodes": {
            "Scorer": {"name": "Scorer", "class": "transformer", "kind": "custom",
                "lambda_arn": format!("arn:aws:lambda:us-east-1:123456789012:function:{function}"),
                "command": "python3 tools/score.py", "timeout_ms": timeout_ms,
                "inputs": ["Usage"], "outputs": ["Scored"], "span": span()},
        },
        "routes": [{"name": "UsageToScorer", "event": "Usage", "targets": ["Scorer"], "implicit": true,
            "span": span(), "pattern": {"source": ["acme"], "detail-type": ["usage"]}}],
    }))
    .expect("graph")
}

fn usage_event() -> Value {
    json!({
        "version": "0", "id": "usage-1", "detail-type": "usage", "source": "acme",
        "account": "123456789012", "time": "2026-03-02T09:00:00Z", "region": "us-east-1",
        "resources": [],
        "detail": {"profile": {"user_id": "ana"}, "data": {"active_ms": 5000}},
    })
}

/// The Lambda client of the loopback server, with static credentials.
fn lambda_client(url: &str) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(url)
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

/// The Lambda Invoke API of the loopback server: the function's name
/// selects what it does.
fn lambda_answer(_: usize, request: &Request) -> Answer {
    let ok = |body: Value| (200, Vec::new(), body.to_string(), Duration::ZERO);
    let function = request
        .path
        .split('/')
        .nth(3)
        .map(|f| f.replace("%3A", ":"))
        .unwrap_or_default();
    let name = function.rsplit(':').next().unwrap_or_default().to_string();
    match name.as_str() {
        "valid" => ok(json!([
            {"detail-type": "Scored", "detail": {"profile": {"user_id": "ana"}, "data": {"score": 81.5}}},
            {"detail-type": "Scored", "detail": {"profile": {"user_id": "ana"}, "data": {"score": 12}}},
        ])),
        "single" => ok(json!({"detail-type": "Scored", "detail": {"data": {"score": 3}}})),
        "none" => ok(Value::Null),
        "invalid" => ok(json!([
            {"detail-type": "Scored", "detail": {"data": {"score": 1}}},
            {"detail-type": "Scored", "detail": {"data": {"points": 2}}},
        ])),
        "crash" => (
            200,
            vec![("X-Amz-Function-Error", "Unhandled".to_string())],
            json!({"errorMessage": "division by zero", "errorType": "ZeroDivisionError"})
                .to_string(),
            Duration::ZERO,
        ),
        "slow" => (
            200,
            Vec::new(),
            "[]".to_string(),
            Duration::from_millis(1500),
        ),
        other => (
            404,
            Vec::new(),
            format!("{{\"Message\":\"no function {other}\"}}"),
            Duration::ZERO,
        ),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Delivers the usage event to `Scorer` calling `function`.
fn deliver(
    url: &str,
    function: &str,
    timeout_ms: u64,
) -> (
    Result<Outcome, flow_runtime::aws::FlowError>,
    RecordingOutlet,
) {
    let rt = runtime();
    let graph = custom_graph(function, timeout_ms);
    let router = Router::new(&graph).expect("router");
    let driver = NodeDriver::new(&graph, &router, "Scorer").expect("driver");
    let functions = LambdaNodes::new(lambda_client(url), Bridge::new(rt.handle().clone()));
    let event = read_delivered(&usage_event(), 0).expect("event");
    let mut out = RecordingOutlet::default();
    let result = lambda_invoke::deliver(&driver, &functions, &mut out, &event);
    (result, out)
}

#[test]
fn a_custom_function_answers_valid_events() {
    let (url, seen) = serve(lambda_answer);
    let (result, out) = deliver(&url, "valid", 5_000);
    let Ok(Outcome::Done(emitted)) = result else {
        panic!("{result:?}");
    };
    assert_eq!(emitted.len(), 2);
    assert_eq!(out.entries.len(), 2);
    for (e, entry) in emitted.iter().zip(&out.entries) {
        assert_eq!(e.event.source, "flow.t");
        assert_eq!(entry.detail_type, "Scored");
        // The envelope guarantees: correlation id and hops from the input.
        let detail: Value = serde_json::from_str(&entry.detail).expect("detail");
        assert_eq!(detail["flow"]["correlation_id"], "usage-1");
        assert_eq!(detail["flow"]["hops"], 1);
        assert_eq!(detail["flow"]["node"], "Scorer");
    }
    assert_ne!(emitted[0].event.id, emitted[1].event.id);
    // The function got the input's envelope, synchronously.
    let requests = seen.lock().expect("log").clone();
    assert_eq!(requests.len(), 1);
    assert!(
        requests[0].path.starts_with("/2015-03-31/functions/")
            && requests[0].path.ends_with("/invocations"),
        "{}",
        requests[0].path
    );
    assert_eq!(
        requests[0].header("X-Amz-Invocation-Type"),
        Some("RequestResponse")
    );
    let payload: Value = serde_json::from_slice(&requests[0].body).expect("payload");
    assert_eq!(payload["id"], "usage-1");
    assert_eq!(payload["detail"]["data"]["active_ms"], 5000);

    // One object and `null` are answers too.
    let (result, out) = deliver(&url, "single", 5_000);
    assert!(
        matches!(result, Ok(Outcome::Done(ref e)) if e.len() == 1),
        "{result:?}"
    );
    assert_eq!(out.entries.len(), 1);
    let (result, out) = deliver(&url, "none", 5_000);
    assert!(
        matches!(result, Ok(Outcome::Done(ref e)) if e.is_empty()),
        "{result:?}"
    );
    assert!(out.entries.is_empty());
}

#[test]
fn a_schema_violation_puts_nothing_and_names_the_node() {
    let (url, _) = serve(lambda_answer);
    let (result, out) = deliver(&url, "invalid", 5_000);
    let e = result.expect_err("the second event lacks data.score");
    assert_eq!(e.kind, ErrorType::FlowFailed);
    assert_eq!(e.node.as_deref(), Some("Scorer"));
    assert_eq!(
        e.span.as_ref().map(|s| (s.file.as_str(), s.line)),
        Some(("nodes.flow", 12))
    );
    assert!(e.message.contains("detail.data.score"), "{}", e.message);
    assert!(
        out.entries.is_empty(),
        "the valid first event must not be put alone"
    );
}

#[test]
fn a_function_error_fails_the_delivery() {
    let (url, _) = serve(lambda_answer);
    let (result, out) = deliver(&url, "crash", 5_000);
    let e = result.expect_err("the function failed");
    assert_eq!(e.kind, ErrorType::FlowFailed);
    assert_eq!(e.node.as_deref(), Some("Scorer"));
    assert!(
        e.message.contains("Unhandled") && e.message.contains("division by zero"),
        "{}",
        e.message
    );
    assert!(out.entries.is_empty());
}

#[test]
fn a_function_that_does_not_answer_in_time_is_retried_later() {
    let (url, _) = serve(lambda_answer);
    let (result, out) = deliver(&url, "slow", 200);
    let e = result.expect_err("timed out");
    assert_eq!(e.kind, ErrorType::Retryable);
    assert_eq!(e.node.as_deref(), Some("Scorer"));
    assert!(e.message.contains("within 200 ms"), "{}", e.message);
    assert!(out.entries.is_empty());
}

/// A graph whose app posts `Note` to a webhook.
fn webhook_graph(url: &str) -> Graph {
    serde_json::from_value(json!({
        "format_version": 1, "project": "t", "triggers": [], "flows": [], "nodes": {}, "routes": [],
        "tests": [],
        "events": {"Note": {"name": "Note", "source": "acme", "detail_type": "note", "schema": {}, "span": span()}},
        "apps": [{"name": "Notes", "nodes": [], "flows": [], "settings": {}, "span": span(),
            "sinks": [{"name": "Hook", "event": "Note", "kind": "webhook", "url": url,
                "secret": "notes-signing-key", "timeout_ms": 2000, "span": span()}]}],
    }))
    .expect("graph")
}

#[test]
fn a_webhook_is_signed_with_its_secret_from_secrets_manager_and_retried() {
    let Some(endpoint) = endpoint("a_webhook_is_signed_with_its_secret_from_secrets_manager")
    else {
        return;
    };
    let env = Env::new(endpoint);
    let prefix = format!("t/test-{}/", std::process::id());
    let secret = "0123456789abcdef0123456789abcdef";
    env.rt
        .block_on(
            env.clients
                .secrets
                .create_secret()
                .name(format!("{prefix}notes-signing-key"))
                .secret_string(secret)
                .send(),
        )
        .expect("create the secret in moto");

    // The receiver answers 503 twice, then 200.
    let (url, seen) = serve(|n, _| {
        let status = if n <= 2 { 503 } else { 200 };
        (status, Vec::new(), "{}".to_string(), Duration::ZERO)
    });
    let graph = webhook_graph(&format!("{url}/hooks/notes"));
    let event = read_delivered(
        &json!({"version": "0", "id": "note-1", "source": "acme", "detail-type": "note",
            "account": "1", "time": "2026-03-02T09:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"data": {"text": "hello"}}}),
        0,
    )
    .expect("event");
    let planned = sinks::plan(&graph, &graph.apps[0], &event, 0).expect("plan");
    let [(
        kind,
        Delivery::Webhook {
            url,
            secret: name,
            body,
            event_id,
            timeout_ms,
        },
        sink,
    )] = planned.as_slice()
    else {
        panic!("{planned:?}");
    };
    assert_eq!((*kind, sink.as_str()), ("webhook", "Hook"));
    let webhooks = Webhooks::new(
        reqwest::Client::new(),
        Secrets::new(env.clients.secrets.clone(), prefix.clone()),
    );
    let (status, attempts) = env
        .rt
        .block_on(webhooks.post(
            url,
            name,
            body,
            event_id,
            Duration::from_millis(*timeout_ms),
        ))
        .expect("delivered on the third attempt");
    assert_eq!((status, attempts), (200, 3));
    let requests = seen.lock().expect("log").clone();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert_eq!(r.path, "/hooks/notes");
        assert_eq!(r.header("Idempotency-Key"), Some("note-1"));
        let ts: i64 = r
            .header("X-Flowc-Timestamp")
            .expect("ts")
            .parse()
            .expect("int");
        let sig = r.header("X-Flowc-Signature").expect("signature");
        assert!(verify(secret.as_bytes(), ts, &r.body, sig));
        let sent: Value = serde_json::from_slice(&r.body).expect("JSON");
        assert_eq!(sent["detail"]["data"]["text"], "hello");
    }

    // A secret that does not exist is an error that names it.
    let missing = Webhooks::new(
        reqwest::Client::new(),
        Secrets::new(env.clients.secrets.clone(), format!("{prefix}nope/")),
    );
    let e = env
        .rt
        .block_on(missing.post(url, name, body, event_id, Duration::from_secs(1)))
        .expect_err("no such secret");
    assert!(e.message.contains("notes-signing-key"), "{}", e.message);
    assert_eq!(
        seen.lock().expect("log").len(),
        3,
        "nothing posted without a secret"
    );
}
