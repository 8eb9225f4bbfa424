//! The OpenAI-compatible view clients against a loopback server that
//! speaks the real formats: the chat completion request with the image as
//! a data URL, the multipart transcription request, OpenAI's answers,
//! error answers, and a server that never answers (the client's timeout).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine as _;
use flow_runtime::engine::{ObjectRef, ViewRequest};
use flow_runtime::local::views::{ChatSummarizer, Endpoint, SpeechTranscriber};
use flow_runtime::ports::{Summarizer, Transcriber, ViewInput};
use serde_json::{json, Value};

/// One request as the server read it.
#[derive(Debug)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

enum Reply {
    Json(u16, Value),
    /// Keeps the connection open without answering.
    Never,
}

/// Serves `replies` in order on 127.0.0.1; returns the base URL and the
/// requests seen.
fn server(replies: Vec<Reply>) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for reply in replies {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let (seen, mut stream) = read_request(stream);
            let _ = tx.send(seen);
            match reply {
                Reply::Json(status, body) => {
                    let body = body.to_string();
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
                Reply::Never => held.push(stream),
            }
        }
        // Held connections close when the test process ends.
        std::thread::park();
        drop(held);
    });
    (url, rx)
}

fn read_request(stream: TcpStream) -> (Seen, TcpStream) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).expect("request line");
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).expect("header");
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if let Some(len) = find("content-length") {
        body.resize(len.parse().expect("length"), 0);
        reader.read_exact(&mut body).expect("body");
    } else if find("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).expect("chunk size");
            let n = usize::from_str_radix(size.trim(), 16).expect("hex size");
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).expect("chunk");
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    let seen = Seen {
        method,
        path,
        headers,
        body,
    };
    (seen, reader.into_inner())
}

fn endpoint(url: &str, model: Option<&str>, timeout: Duration) -> Endpoint {
    Endpoint {
        url: url.to_string(),
        model: model.map(String::from),
        api_key: Some("test-key".into()),
        timeout,
    }
}

/// A PNG signature and a few bytes: enough for the format sniffing.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\nrest-of-image";

fn summary() -> ViewRequest {
    ViewRequest::Summary {
        image: ObjectRef {
            bucket: "media".into(),
            key: "frames/f1.png".into(),
        },
        model: "llava:7b".into(),
        prompt: "The screenshot shows Visual Studio Code. Describe it.".into(),
        max_tokens: Some(300),
        fields: Vec::new(),
    }
}

fn summarize(engine: &mut ChatSummarizer) -> Result<flow_runtime::ports::ViewAnswer, String> {
    let request = summary();
    engine.summarize(ViewInput {
        request: &request,
        bytes: Some(PNG),
        detail: &json!({}),
    })
}

#[test]
fn chat_completion_request_and_answer() {
    let (url, seen) = server(vec![Reply::Json(
        200,
        json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": "llava:7b",
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": " Editing billing.rs in VS Code. " },
                "finish_reason": "stop",
            }],
            "usage": { "prompt_tokens": 812, "completion_tokens": 9, "total_tokens": 821 },
        }),
    )]);
    let mut engine =
        ChatSummarizer::open(endpoint(&url, None, Duration::from_secs(30))).expect("open");
    let answer = summarize(&mut engine).expect("answer");
    assert_eq!(answer.text, "Editing billing.rs in VS Code.");
    assert_eq!(
        Value::Object(answer.metadata),
        json!({
            "engine": "openai-chat",
            "model": "llava:7b",
            "usage": { "input_tokens": 812, "output_tokens": 9 },
        })
    );
    let req = seen.recv().expect("request");
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(req.header("authorization"), Some("Bearer test-key"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&req.body).expect("JSON body");
    let data_url = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(PNG)
    );
    assert_eq!(
        body,
        json!({
            "model": "llava:7b",
            "max_tokens": 300,
            "messages": [{
                "role": "user",
                "content": [
                    { "type": "text", "text": "The screenshot shows Visual Studio Code. Describe it." },
                    { "type": "image_url", "image_url": { "url": data_url } },
                ],
            }],
        })
    );
}

#[test]
fn the_configured_model_and_a_v1_url_are_used_as_given() {
    let (url, seen) = server(vec![Reply::Json(
        200,
        json!({ "choices": [{ "message": { "content": "ok" } }] }),
    )]);
    let mut engine = ChatSummarizer::open(endpoint(
        &format!("{url}/v1/"),
        Some("qwen2.5vl"),
        Duration::from_secs(30),
    ))
    .expect("open");
    let answer = summarize(&mut engine).expect("answer");
    assert_eq!(answer.text, "ok");
    assert_eq!(answer.metadata["model"], "qwen2.5vl");
    let req = seen.recv().expect("request");
    assert_eq!(req.path, "/v1/chat/completions");
    let body: Value = serde_json::from_slice(&req.body).expect("JSON body");
    assert_eq!(body["model"], "qwen2.5vl");
}

#[test]
fn an_error_answer_is_reported_with_the_servers_message() {
    let (url, _seen) = server(vec![
        Reply::Json(
            404,
            json!({ "error": { "message": "model \"llava:7b\" not found", "type": "invalid_request_error" } }),
        ),
        Reply::Json(500, json!({ "error": "out of memory" })),
        Reply::Json(200, json!({ "choices": [] })),
    ]);
    let mut engine =
        ChatSummarizer::open(endpoint(&url, None, Duration::from_secs(30))).expect("open");
    let chat = format!("POST {url}/v1/chat/completions");
    assert_eq!(
        summarize(&mut engine).expect_err("404"),
        format!("{chat}: HTTP 404 Not Found: model \"llava:7b\" not found")
    );
    assert_eq!(
        summarize(&mut engine).expect_err("500"),
        format!("{chat}: HTTP 500 Internal Server Error: out of memory")
    );
    assert_eq!(
        summarize(&mut engine).expect_err("no choices"),
        format!("{chat}: the answer has no choices[0].message.content")
    );
}

#[test]
fn a_server_that_does_not_answer_times_out() {
    let (url, seen) = server(vec![Reply::Never]);
    let mut engine =
        ChatSummarizer::open(endpoint(&url, None, Duration::from_secs(1))).expect("open");
    let err = summarize(&mut engine).expect_err("timeout");
    assert_eq!(
        err,
        format!("POST {url}/v1/chat/completions: no answer within 1 s")
    );
    assert_eq!(seen.recv().expect("request").path, "/v1/chat/completions");
}

#[test]
fn a_bad_url_is_refused_when_the_engine_opens() {
    let err = ChatSummarizer::open(endpoint("localhost:11434", None, Duration::from_secs(1)))
        .err()
        .expect("not a URL");
    assert!(err.contains("localhost:11434 is not"), "{err}");
}

#[test]
fn transcription_request_and_answer() {
    let (url, seen) = server(vec![Reply::Json(
        200,
        json!({
            "task": "transcribe",
            "language": "english",
            "duration": 2.5,
            "text": " Please send me the report. ",
            "words": [
                { "word": "Please", "start": 0.0, "end": 0.42 },
                { "word": "send", "start": 0.42, "end": 0.7 },
            ],
        }),
    )]);
    let mut engine =
        SpeechTranscriber::open(endpoint(&url, None, Duration::from_secs(30))).expect("open");
    let wav = b"RIFF\x24\x00\x00\x00WAVEfmt fake-audio".to_vec();
    let request = ViewRequest::Transcript {
        media: ObjectRef {
            bucket: "media".into(),
            key: "meetings/m1.wav".into(),
        },
        language: "en-GB".into(),
    };
    let answer = engine
        .transcribe(ViewInput {
            request: &request,
            bytes: Some(&wav),
            detail: &json!({}),
        })
        .expect("answer");
    assert_eq!(answer.text, "Please send me the report.");
    assert_eq!(
        Value::Object(answer.metadata),
        json!({
            "engine": "openai-transcription",
            "model": "whisper-1",
            "duration_ms": 2500,
            "words": [
                { "word": "Please", "start_ms": 0, "end_ms": 420 },
                { "word": "send", "start_ms": 420, "end_ms": 700 },
            ],
        })
    );
    let req = seen.recv().expect("request");
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v1/audio/transcriptions")
    );
    let content_type = req.header("content-type").expect("content type");
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .expect("multipart");
    let body = String::from_utf8_lossy(&req.body).into_owned();
    let field = |name: &str, value: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
    };
    for (name, value) in [
        ("model", "whisper-1"),
        ("language", "en"),
        ("response_format", "verbose_json"),
        ("timestamp_granularities[]", "word"),
    ] {
        assert!(body.contains(&field(name, value)), "{name} in {body}");
    }
    assert!(
        body.contains(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m1.wav\"\r\n"
        )),
        "{body}"
    );
    assert!(body.contains("WAVEfmt fake-audio"), "{body}");
}
