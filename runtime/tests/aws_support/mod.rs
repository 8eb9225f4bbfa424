//! Shared by the `aws_*` tests: the stand-in's endpoint (or a skip),
//! clients, a table, bucket and bus made like the template's, an SQS
//! queue behind a catch-all rule to read what reached the bus, and a small
//! graph with a counter node.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use flow_runtime::aws::{Bridge, Clients};
use flow_runtime::graph::Graph;
use serde_json::{json, Value};

/// The stand-in's endpoint, or `None` after printing a skip notice.
pub fn endpoint(test: &str) -> Option<String> {
    match std::env::var("FLOWC_AWS_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ => {
            eprintln!(
                "skipped {test}: FLOWC_AWS_ENDPOINT is not set (run under scripts/with-moto)"
            );
            None
        }
    }
}

pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub clients: Clients,
    pub endpoint: String,
}

impl Env {
    pub fn new(endpoint: String) -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let clients = rt.block_on(Clients::load(Some(&endpoint)));
        Env {
            rt,
            clients,
            endpoint,
        }
    }

    pub fn bridge(&self) -> Bridge {
        Bridge::new(self.rt.handle().clone())
    }

    /// A table like the template's: `pk`/`sk` strings, on demand.
    pub fn table(&self, name: &str) -> String {
        self.table_named(unique(name))
    }

    /// [`Env::table`] with exactly this name (to make it again after
    /// deleting it).
    pub fn table_named(&self, name: String) -> String {
        let key = |n: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(n)
                .key_type(t)
                .build()
                .expect("key")
        };
        let attr = |n: &str| {
            AttributeDefinition::builder()
                .attribute_name(n)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attr")
        };
        self.rt
            .block_on(
                self.clients
                    .dynamodb
                    .create_table()
                    .table_name(&name)
                    .key_schema(key("pk", KeyType::Hash))
                    .key_schema(key("sk", KeyType::Range))
                    .attribute_definitions(attr("pk"))
                    .attribute_definitions(attr("sk"))
                    .billing_mode(BillingMode::PayPerRequest)
                    .send(),
            )
            .expect("create table");
        name
    }

    pub fn bucket(&self, name: &str) -> String {
        let name = unique(name).to_lowercase();
        self.rt
            .block_on(self.clients.s3.create_bucket().bucket(&name).send())
            .expect("create bucket");
        name
    }

    /// A bus with a catch-all rule whose target is a new SQS queue;
    /// returns (bus name, queue URL).
    pub fn bus_with_queue(&self, name: &str) -> (String, String) {
        let bus = unique(name);
        let eb = &self.clients.eventbridge;
        self.rt
            .block_on(eb.create_event_bus().name(&bus).send())
            .expect("create bus");
        let created = self.sqs("CreateQueue", json!({"QueueName": format!("{bus}-q")}));
        let url = created["QueueUrl"].as_str().expect("queue url").to_string();
        let attrs = self.sqs(
            "GetQueueAttributes",
            json!({"QueueUrl": url, "AttributeNames": ["QueueArn"]}),
        );
        let arn = attrs["Attributes"]["QueueArn"]
            .as_str()
            .expect("arn")
            .to_string();
        self.rt
            .block_on(
                eb.put_rule()
                    .name(format!("{bus}-all"))
                    .event_bus_name(&bus)
                    .event_pattern(json!({"source": [{"prefix": ""}]}).to_string())
                    .send(),
            )
            .expect("rule");
        let target = aws_sdk_eventbridge::types::Target::builder()
            .id("queue")
            .arn(arn)
            .build()
            .expect("target");
        self.rt
            .block_on(
                eb.put_targets()
                    .rule(format!("{bus}-all"))
                    .event_bus_name(&bus)
                    .targets(target)
                    .send(),
            )
            .expect("targets");
        (bus, url)
    }

    /// Every message on the queue (EventBridge envelopes), read until the
    /// queue is empty.
    pub fn drain(&self, url: &str) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let got = self.sqs(
                "ReceiveMessage",
                json!({"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 0}),
            );
            let messages = got["Messages"].as_array().cloned().unwrap_or_default();
            if messages.is_empty() {
                return out;
            }
            for m in messages {
                let body: Value =
                    serde_json::from_str(m["Body"].as_str().expect("body")).expect("json body");
                out.push(body);
                self.sqs(
                    "DeleteMessage",
                    json!({"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"]}),
                );
            }
        }
    }

    /// One SQS call in the JSON protocol (no SQS SDK needed).
    pub fn sqs(&self, action: &str, body: Value) -> Value {
        let text = http_post(
            &self.endpoint,
            "/",
            &[
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", &format!("AmazonSQS.{action}")),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
                ),
            ],
            &body.to_string(),
        );
        if text.trim().is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("SQS {action}: {e}: {text}"))
    }
}

/// A name unique within this test process.
pub fn unique(base: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{base}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A minimal HTTP/1.1 POST (Connection: close); returns the body.
pub fn http_post(endpoint: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    let mut request = format!("POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let text = String::from_utf8_lossy(&response).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return dechunk(rest);
    }
    rest.to_string()
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

fn span() -> Value {
    json!({"file": "t.flow", "line": 3, "column": 8, "offset": 0, "length": 7})
}

/// A graph with `Usage` (raw) → `Counter` (counter by profile.session_id,
/// every `count` events or `window_ms`) → `Counted`.
pub fn counter_graph(count: u64, window_ms: u64) -> Graph {
    let ev = |name: &str, source: &str, dt: &str, by: Option<&str>| {
        let mut e = json!({"name": name, "source": source, "detail_type": dt, "schema": {}, "span": span()});
        if let Some(n) = by {
            e["emitted_by"] = json!(n);
        }
        e
    };
    serde_json::from_value(json!({
        "format_version": 1, "project": "t", "triggers": [], "flows": [], "apps": [], "tests": [],
        "events": {
            "Usage": ev("Usage", "acme", "usage", None),
            "Counted": ev("Counted", "flow.t", "Counted", Some("Counter")),
        },
        "nodes": {
            "Counter": {"name": "Counter", "class": "filter", "kind": "counter",
                "key": ["profile", "session_id"], "every": {"count": count, "window_ms": window_ms},
                "inputs": ["Usage"], "outputs": ["Counted"], "emit": {"event": "Counted"}, "span": span()},
        },
        "routes": [{"name": "UsageToCounter", "event": "Usage", "targets": ["Counter"], "implicit": true,
            "span": span(), "pattern": {"source": ["acme"], "detail-type": ["usage"]}}],
    }))
    .expect("graph")
}

/// The `n`-th raw `Usage` event of `session`, as EventBridge delivers it.
pub fn usage(n: u32, session: &str, time_ms: i64) -> Value {
    json!({
        "version": "0", "id": format!("usage-{session}-{n}"), "detail-type": "usage", "source": "acme",
        "account": "123456789012", "time": flow_runtime::engine::time::format_rfc3339(time_ms),
        "region": "us-east-1", "resources": [],
        "detail": {"profile": {"session_id": session}, "data": {"n": n}, "application": {"name": "editor"}},
    })
}
