//! The views' AWS adapters against a loopback server speaking Bedrock's
//! and Transcribe's wire formats (endpoint override; moto's bedrock-runtime
//! has InvokeModel but no Converse, and its Transcribe neither writes
//! transcripts nor puts job events): the requests the SDK sends
//! (snapshots), throttling retried by the client and then `Retryable`,
//! refused requests `FlowFailed`, and a transcriber's whole path (input →
//! job started; job event COMPLETED → transcript event; FAILED → the job's
//! failure reason). Under `scripts/with-moto`, the job start also runs
//! against moto's Transcribe.
#![cfg(feature = "aws")]

mod aws_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_bedrockruntime::config::{Credentials, SharedCredentialsProvider};
use flow_runtime::aws::bedrock::{client_config, BedrockSummarizer};
use flow_runtime::aws::driver::{NodeDriver, Outcome};
use flow_runtime::aws::fakes::RecordingOutlet;
use flow_runtime::aws::transcribe::{Jobs, Started, TranscribeJobs};
use flow_runtime::aws::{views, Bridge, ErrorType};
use flow_runtime::engine::route::Router;
use flow_runtime::engine::{Event, ObjectRef};
use flow_runtime::graph::Graph;
use flow_runtime::local::MemoryObjects;
use flow_runtime::ports::ObjectStore;
use serde_json::{json, Value};

struct Seen {
    path: String,
    target: Option<String>,
    body: Value,
}

/// Serves `replies` (status, `x-amzn-errortype`, JSON body) in order.
fn server(replies: Vec<(u16, Option<&'static str>, Value)>) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (status, error_type, body) in replies {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let (seen, mut stream) = read_request(stream);
            let _ = tx.send(seen);
            let body = body.to_string();
            let error_header =
                error_type.map_or(String::new(), |t| format!("x-amzn-errortype: {t}\r\n"));
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{error_header}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, rx)
}

fn read_request(stream: TcpStream) -> (Seen, TcpStream) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).expect("request line");
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let (mut length, mut target) = (0, None);
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).expect("header");
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            match n.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = v.trim().parse().expect("length"),
                "x-amz-target" => target = Some(v.trim().to_string()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("body");
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (Seen { path, target, body }, reader.into_inner())
}

fn shared_config(url: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        )))
        .endpoint_url(url)
        .build()
}

struct Rt {
    rt: tokio::runtime::Runtime,
}

impl Rt {
    fn new() -> Rt {
        Rt {
            rt: tokio::runtime::Runtime::new().expect("runtime"),
        }
    }
    fn bridge(&self) -> Bridge {
        Bridge::new(self.rt.handle().clone())
    }
    /// The production client configuration, with millisecond backoff.
    fn bedrock(&self, url: &str) -> BedrockSummarizer {
        let client = aws_sdk_bedrockruntime::Client::from_conf(client_config(
            &shared_config(url),
            Duration::from_millis(1),
        ));
        BedrockSummarizer::new(client, self.bridge())
    }
    fn transcribe(&self, url: &str) -> TranscribeJobs {
        let config = aws_sdk_transcribe::config::Builder::from(&shared_config(url))
            .retry_config(
                aws_config::retry::RetryConfig::standard()
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .build();
        TranscribeJobs::new(aws_sdk_transcribe::Client::from_conf(config), self.bridge())
    }
}

fn span() -> Value {
    json!({"file": "views.flow", "line": 3, "column": 1, "offset": 0, "length": 4})
}

/// `Shot` → `Describe` (summarizer) → `Described`; `Recording` →
/// `Speech` (transcriber) → `Spoken`.
fn graph() -> Graph {
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
            "Shot": ev("Shot", "acme", "shot", None),
            "Described": ev("Described", "flow.t", "Described", Some("Describe")),
            "Recording": ev("Recording", "acme", "recording", None),
            "Spoken": ev("Spoken", "flow.t", "Spoken", Some("Speech")),
        },
        "nodes": {
            "Describe": {"name": "Describe", "class": "view", "kind": "summarizer",
                "image": ["data", "image"], "model": "anthropic.claude-3-5-haiku-20241022-v1:0",
                "prompt": "The screen shows {{application.name}}. Describe it in one sentence.",
                "max_tokens": 300,
                "inputs": ["Shot"], "outputs": ["Described"], "emit": {"event": "Described"}, "span": span()},
            "Speech": {"name": "Speech", "class": "view", "kind": "transcriber",
                "media": ["data", "audio"], "language": "en-GB",
                "inputs": ["Recording"], "outputs": ["Spoken"], "emit": {"event": "Spoken"}, "span": span()},
        },
        "routes": [
            {"name": "ShotToDescribe", "event": "Shot", "targets": ["Describe"], "implicit": true,
             "span": span(), "pattern": {"source": ["acme"], "detail-type": ["shot"]}},
            {"name": "RecordingToSpeech", "event": "Recording", "targets": ["Speech"], "implicit": true,
             "span": span(), "pattern": {"source": ["acme"], "detail-type": ["recording"]}},
        ],
    }))
    .expect("graph")
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\nimage-bytes";

fn shot() -> Event {
    Event::from_envelope(
        &json!({
            "id": "shot-1", "source": "acme", "detail-type": "shot", "time": "2026-03-02T09:00:00Z",
            "detail": {"data": {"image": {"bucket": "media", "key": "frames/f1.png"}},
                       "application": {"name": "Visual Studio Code"}},
        }),
        0,
    )
    .expect("event")
}

fn converse_answer() -> Value {
    json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "Editing billing.rs in VS Code."}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1234, "outputTokens": 11, "totalTokens": 1245},
        "metrics": {"latencyMs": 812},
    })
}

fn throttled() -> (u16, Option<&'static str>, Value) {
    (
        429,
        Some("ThrottlingException"),
        json!({"message": "Too many requests, please wait before trying again."}),
    )
}

#[test]
fn summarizer_calls_converse_and_records_the_usage() {
    let rt = Rt::new();
    let (url, seen) = server(vec![(200, None, converse_answer())]);
    let graph = graph();
    let router = Router::new(&graph).expect("router");
    let driver = NodeDriver::new(&graph, &router, "Describe").expect("driver");
    let mut objects = MemoryObjects::default();
    let image = ObjectRef {
        bucket: "media".into(),
        key: "frames/f1.png".into(),
    };
    objects.put(&image, PNG).expect("put");
    let mut out = RecordingOutlet::default();
    let outcome = views::summarize(&driver, &rt.bedrock(&url), &mut objects, &mut out, &shot())
        .expect("summary");
    assert!(matches!(outcome, Outcome::Done(ref e) if e.len() == 1));
    let detail: Value = serde_json::from_str(&out.entries[0].detail).expect("detail");
    assert_eq!(detail["data"]["summary"], "Editing billing.rs in VS Code.");
    assert_eq!(
        detail["view"],
        json!({
            "engine": "bedrock",
            "model": "anthropic.claude-3-5-haiku-20241022-v1:0",
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 1234, "output_tokens": 11},
        })
    );
    let request = seen.recv().expect("request");
    assert_eq!(
        request.path,
        "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    );
    insta::assert_json_snapshot!("bedrock_converse_request", request.body);
}

#[test]
fn summarizer_retries_throttling_then_gives_up_as_retryable() {
    let rt = Rt::new();
    let (url, seen) = server(vec![
        throttled(),
        throttled(),
        (200, None, converse_answer()),
        throttled(),
        throttled(),
        throttled(),
        throttled(),
        (
            400,
            Some("ValidationException"),
            json!({"message": "The model returned the following errors: image exceeds 5 MB maximum"}),
        ),
    ]);
    let graph = graph();
    let router = Router::new(&graph).expect("router");
    let driver = NodeDriver::new(&graph, &router, "Describe").expect("driver");
    let mut objects = MemoryObjects::default();
    objects
        .put(
            &ObjectRef {
                bucket: "media".into(),
                key: "frames/f1.png".into(),
            },
            PNG,
        )
        .expect("put");
    let bedrock = rt.bedrock(&url);
    let mut out = RecordingOutlet::default();
    // Two throttled attempts, then an answer: one call succeeds.
    views::summarize(&driver, &bedrock, &mut objects, &mut out, &shot()).expect("third attempt");
    assert_eq!(out.entries.len(), 1);
    assert_eq!(seen.try_iter().count(), 3);
    // Throttled on all four attempts: Retryable (EventBridge tries later).
    let err = views::summarize(&driver, &bedrock, &mut objects, &mut out, &shot())
        .expect_err("throttled");
    assert_eq!(err.kind, ErrorType::Retryable, "{err:?}");
    assert!(
        err.message.contains("ThrottlingException"),
        "{}",
        err.message
    );
    assert_eq!(err.node.as_deref(), Some("Describe"));
    // A refused request is not retried.
    let err = views::summarize(&driver, &bedrock, &mut objects, &mut out, &shot())
        .expect_err("validation");
    assert_eq!(err.kind, ErrorType::FlowFailed, "{err:?}");
    assert!(
        err.message.contains("image exceeds 5 MB"),
        "{}",
        err.message
    );
    assert_eq!(seen.try_iter().count(), 5);
}

fn recording() -> Event {
    Event::from_envelope(
        &json!({
            "id": "rec-1", "source": "acme", "detail-type": "recording", "time": "2026-03-02T09:05:00Z",
            "detail": {"data": {"audio": {"bucket": "media", "key": "meetings/m1.wav"}, "room": "2A"}},
        }),
        0,
    )
    .expect("event")
}

fn job_event(job: &str, status: &str) -> Event {
    Event::from_envelope(
        &json!({
            "id": format!("job-event-{status}"), "source": "aws.transcribe",
            "detail-type": "Transcribe Job State Change", "time": "2026-03-02T09:06:00Z",
            "detail": {"TranscriptionJobName": job, "TranscriptionJobStatus": status},
        }),
        0,
    )
    .expect("event")
}

#[test]
fn transcriber_starts_a_job_and_finishes_on_its_event() {
    let rt = Rt::new();
    let started = json!({"TranscriptionJob": {"TranscriptionJobName": "j", "TranscriptionJobStatus": "IN_PROGRESS"}});
    let (url, seen) = server(vec![
        (200, None, started),
        (
            400,
            None,
            json!({"__type": "ConflictException", "Message": "The requested job name already exists. Use a different job name."}),
        ),
        (
            200,
            None,
            json!({"TranscriptionJob": {"TranscriptionJobName": "j", "TranscriptionJobStatus": "FAILED",
                "FailureReason": "The media format provided does not match the detected media format."}}),
        ),
    ]);
    let graph = graph();
    let router = Router::new(&graph).expect("router");
    let driver = NodeDriver::new(&graph, &router, "Speech").expect("driver");
    let jobs = rt.transcribe(&url);
    let names = Jobs {
        prefix: "t-test-Speech".into(),
        node: "Speech".into(),
        bucket: "project-objects".into(),
    };
    let mut objects = MemoryObjects::default();
    let mut out = RecordingOutlet::default();

    let outcome = views::transcribe(&driver, &jobs, &names, &mut objects, &mut out, &recording())
        .expect("start");
    assert_eq!(outcome, Outcome::Done(Vec::new()));
    let job = names.job_name("rec-1");
    let request = seen.recv().expect("start request");
    assert_eq!(
        request.target.as_deref(),
        Some("Transcribe.StartTranscriptionJob")
    );
    assert_eq!(
        request.body["TranscriptionJobName"],
        Value::from(job.as_str())
    );
    let mut body = request.body.clone();
    body["TranscriptionJobName"] = Value::from("<job>");
    body["OutputKey"] = Value::from(
        body["OutputKey"]
            .as_str()
            .expect("output key")
            .replace(&job, "<job>"),
    );
    insta::assert_json_snapshot!("transcribe_start_request", body);
    assert!(objects.get(&names.input(&job)).expect("get").is_some());

    // A redelivery finds the job already there.
    let outcome = views::transcribe(&driver, &jobs, &names, &mut objects, &mut out, &recording())
        .expect("redelivery");
    assert_eq!(outcome, Outcome::Done(Vec::new()));

    // Transcribe wrote the transcript; its job event finishes the view.
    let transcript = json!({
        "jobName": job, "accountId": "123456789012", "status": "COMPLETED",
        "results": {
            "transcripts": [{"transcript": "Ship the billing fix."}],
            "items": [
                {"type": "pronunciation", "start_time": "0.1", "end_time": "0.4",
                 "alternatives": [{"confidence": "0.99", "content": "Ship"}]},
                {"type": "pronunciation", "start_time": "0.4", "end_time": "0.55",
                 "alternatives": [{"confidence": "0.97", "content": "the"}]},
                {"type": "pronunciation", "start_time": "0.55", "end_time": "1.0",
                 "alternatives": [{"confidence": "0.93", "content": "billing"}]},
                {"type": "pronunciation", "start_time": "1.0", "end_time": "1.3",
                 "alternatives": [{"confidence": "0.95", "content": "fix"}]},
                {"type": "punctuation", "alternatives": [{"confidence": "0.0", "content": "."}]},
            ],
        },
    });
    objects
        .put(&names.transcript(&job), transcript.to_string().as_bytes())
        .expect("transcript");
    let outcome = views::transcribe(
        &driver,
        &jobs,
        &names,
        &mut objects,
        &mut out,
        &job_event(&job, "COMPLETED"),
    )
    .expect("finish");
    assert!(matches!(outcome, Outcome::Done(ref e) if e.len() == 1));
    let entry = &out.entries[0];
    assert_eq!(entry.detail_type, "Spoken");
    let detail: Value = serde_json::from_str(&entry.detail).expect("detail");
    assert_eq!(detail["data"]["transcript"], "Ship the billing fix.");
    assert_eq!(detail["data"]["room"], "2A");
    assert_eq!(detail["view"]["engine"], "amazon-transcribe");
    assert_eq!(
        detail["view"]["words"][2],
        json!({"word": "billing", "start_ms": 550, "end_ms": 1000, "confidence": 0.93})
    );
    // The output carries the input's id chain, not the job event's.
    assert_eq!(detail["flow"]["correlation_id"], "rec-1");

    // A failed job is FlowFailed with Transcribe's reason.
    let err = views::transcribe(
        &driver,
        &jobs,
        &names,
        &mut objects,
        &mut out,
        &job_event(&job, "FAILED"),
    )
    .expect_err("failed job");
    assert_eq!(err.kind, ErrorType::FlowFailed);
    assert!(
        err.message.ends_with(
            "failed: The media format provided does not match the detected media format."
        ),
        "{}",
        err.message
    );
    let seen: Vec<Seen> = seen.try_iter().collect();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[1].target.as_deref(),
        Some("Transcribe.GetTranscriptionJob")
    );
    assert_eq!(seen[1].body, json!({"TranscriptionJobName": job}));

    // Another node's job is not this function's.
    let err = views::transcribe(
        &driver,
        &jobs,
        &names,
        &mut objects,
        &mut out,
        &job_event(
            "t-test-Other-00000000-0000-0000-0000-000000000000",
            "COMPLETED",
        ),
    )
    .expect_err("not ours");
    assert_eq!(err.kind, ErrorType::BadInput);
}

#[test]
fn transcribe_limits_are_retried_then_retryable() {
    let rt = Rt::new();
    let limit = (
        400,
        None,
        json!({"__type": "LimitExceededException", "Message": "You have exceeded your transcription job limit."}),
    );
    let (url, seen) = server(vec![limit.clone(), limit.clone(), limit]);
    let graph = graph();
    let router = Router::new(&graph).expect("router");
    let driver = NodeDriver::new(&graph, &router, "Speech").expect("driver");
    let names = Jobs {
        prefix: "t-test-Speech".into(),
        node: "Speech".into(),
        bucket: "project-objects".into(),
    };
    let err = views::transcribe(
        &driver,
        &rt.transcribe(&url),
        &names,
        &mut MemoryObjects::default(),
        &mut RecordingOutlet::default(),
        &recording(),
    )
    .expect_err("limit");
    assert_eq!(err.kind, ErrorType::Retryable, "{err:?}");
    assert!(
        err.message.contains("LimitExceededException"),
        "{}",
        err.message
    );
    assert_eq!(seen.try_iter().count(), 3, "the client's three attempts");
}

#[test]
fn transcribe_jobs_start_once_on_moto() {
    let Some(ep) = aws_support::endpoint("transcribe_jobs_start_once_on_moto") else {
        return;
    };
    let env = aws_support::Env::new(ep);
    let bucket = env.bucket("transcripts");
    let jobs = TranscribeJobs::new(env.clients.transcribe.clone(), env.bridge());
    let names = Jobs {
        prefix: bucket.clone(),
        node: "Speech".into(),
        bucket: bucket.clone(),
    };
    let job = names.job_name("rec-1");
    let media = ObjectRef {
        bucket: bucket.clone(),
        key: "meetings/m1.ogg".into(),
    };
    let output = names.transcript(&job);
    assert_eq!(jobs.start(&job, &media, "en-GB", &output), Ok(Started::New));
    // A redelivered input finds its job.
    assert_eq!(
        jobs.start(&job, &media, "en-GB", &output),
        Ok(Started::Existing)
    );
}
