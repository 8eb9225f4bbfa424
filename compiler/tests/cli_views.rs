//! `flowc run` with the local view engines on the Timecard example's real
//! media (screen frames read by Tesseract, spoken audio chunks stitched and
//! transcribed by PocketSphinx), and the start-up check of the engines.
//! The Debian tools come from scripts/setup-media (scripts/test runs it
//! first); without them the run fails at start-up and these tests fail
//! saying so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::copy_dir;

fn timecard() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/timecard")
}

fn flowc(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowc"));
    cmd.args(args);
    for var in [
        "FLOWC_LLM_URL",
        "FLOWC_TRANSCRIBE_URL",
        "FLOWC_POCKETSPHINX_MODEL",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("flowc runs")
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[test]
fn timecard_entries_carry_text_from_the_frames_and_the_audio() {
    let state = tempfile::tempdir().expect("tempdir");
    // The run writes stitched audio next to the objects: a copy, not the example.
    copy_dir(&timecard().join("media"), &state.path().join("objects"));
    let dir = timecard();
    let events = dir.join("events.jsonl");
    let out = flowc(
        &[
            "run",
            dir.to_str().expect("utf-8"),
            "--events",
            events.to_str().expect("utf-8"),
            "--state",
            state.path().to_str().expect("utf-8"),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{stderr}\n(run scripts/setup-media if a tool is missing)"
    );
    assert!(!stderr.lines().any(|l| l.starts_with("error:")), "{stderr}");
    let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let of =
        |dt: &str| -> Vec<&Value> { events.iter().filter(|e| e["detail-type"] == dt).collect() };

    // Every summary is extractive text read from its frame.
    let described = of("ScreenDescribed");
    assert_eq!(described.len(), 8, "{stderr}");
    for e in &described {
        let summary = e["detail"]["data"]["summary"].as_str().expect("summary");
        assert!(
            summary.starts_with("[extractive summary: OCR text, no language model]"),
            "{summary}"
        );
        assert_eq!(e["detail"]["view"]["engine"], "tesseract");
    }
    let all_summaries: Vec<String> = described
        .iter()
        .flat_map(|e| words(e["detail"]["data"]["summary"].as_str().unwrap_or("")))
        .collect();
    for w in [
        "invoice", "stripe", "webhook", "reminder", "payments", "overdue",
    ] {
        assert!(all_summaries.iter().any(|s| s == w), "{w:?} in no summary");
    }

    // The first session's twelve stitched chunks come back mostly as spoken.
    let spoken = "today i am working on the new payment page for our customers i need to finish the report for the team before the end of the day and then we will have a meeting at three please send me the numbers when you can thank you very much see you later";
    let transcripts = of("SpokenTranscript");
    assert_eq!(transcripts.len(), 4, "{stderr}");
    let first = transcripts
        .iter()
        .find(|e| e["detail"]["data"]["pieces"] == 12)
        .expect("a 12-piece transcript");
    let mut heard = words(
        first["detail"]["data"]["transcript"]
            .as_str()
            .expect("text"),
    );
    let reference = words(spoken);
    let found = reference
        .iter()
        .filter(|w| {
            heard
                .iter()
                .position(|h| h == *w)
                .map(|i| heard.swap_remove(i))
                .is_some()
        })
        .count();
    let ratio = found as f64 / reference.len() as f64;
    println!(
        "stitched transcript word overlap {found}/{} = {ratio:.2}",
        reference.len()
    );
    assert!(ratio >= 0.6, "{ratio:.2}: {first}");
    assert!(first["detail"]["view"]["words"]
        .as_array()
        .is_some_and(|w| !w.is_empty()));

    // The timecard entries join both.
    let entries = of("timecard.entry");
    assert!(!entries.is_empty(), "{stderr}");
    for e in entries {
        let data = &e["detail"]["data"];
        assert!(
            data["summary"]
                .as_str()
                .is_some_and(|s| s.contains("Text: ")),
            "{data}"
        );
        assert!(
            data["transcript"].as_str().is_some_and(|t| !t.is_empty()),
            "{data}"
        );
    }
}

#[test]
fn a_missing_engine_stops_the_run_before_any_event() {
    let dir = timecard();
    let events = dir.join("events.jsonl");
    let out = flowc(
        &[
            "run",
            dir.to_str().expect("utf-8"),
            "--events",
            events.to_str().expect("utf-8"),
        ],
        &[("FLOWC_POCKETSPHINX_MODEL", "/nonexistent/pocketsphinx")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing ran");
    assert!(
        stderr.contains("error: transcriber engine (PocketSphinx): the PocketSphinx US English model is missing (/nonexistent/pocketsphinx has no en-us)"),
        "{stderr}"
    );
    assert!(stderr.contains("scripts/setup-media"), "{stderr}");

    let out = flowc(
        &[
            "run",
            dir.to_str().expect("utf-8"),
            "--events",
            events.to_str().expect("utf-8"),
            "--llm-url",
            "localhost:11434",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "error: summarizer engine (--llm-url): localhost:11434 is not an http(s) URL"
        ),
        "{stderr}"
    );
}

#[test]
fn knowledge_base_documents_carry_text_from_images_and_meetings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/knowledge-base");
    let state = tempfile::tempdir().expect("tempdir");
    copy_dir(&dir.join("media"), &state.path().join("objects"));
    let events = dir.join("events.jsonl");
    let out = flowc(
        &[
            "run",
            dir.to_str().expect("utf-8"),
            "--events",
            events.to_str().expect("utf-8"),
            "--state",
            state.path().to_str().expect("utf-8"),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.lines().any(|l| l.starts_with("error:")), "{stderr}");
    let docs: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .filter(|e| {
            e["detail"]["data"]["doc_id"].is_string() && e["detail"]["data"]["body"].is_string()
        })
        .collect();
    let body = |doc_id: &str| -> String {
        docs.iter()
            .find(|e| e["detail"]["data"]["doc_id"] == doc_id)
            .and_then(|e| e["detail"]["data"]["body"].as_str())
            .unwrap_or_else(|| panic!("no document {doc_id}"))
            .to_lowercase()
    };
    // A whiteboard photo read by Tesseract.
    let board = body("wb-room-4b-board-0931");
    for w in ["architecture review", "search indexer", "document schema"] {
        assert!(board.contains(w), "{w:?} in {board:?}");
    }
    // A meeting transcribed by PocketSphinx: most words of what was said.
    let meeting = words(&body("mtg-2026-03-04-arch"));
    let said = words("good morning everyone today we talk about the new search page we will index every meeting and every note please send me your questions by friday");
    let found = said.iter().filter(|w| meeting.contains(w)).count();
    println!("meeting transcript: {found}/{} words", said.len());
    assert!(found * 2 >= said.len(), "{meeting:?}");
}

/// Answers every request on 127.0.0.1 with an OpenAI chat completion and
/// sends each request body to the returned channel.
fn chat_server() -> (String, std::sync::mpsc::Receiver<Value>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let _ = tx.send(serde_json::from_slice(&body).unwrap_or(Value::Null));
            let answer = serde_json::json!({
                "choices": [{"message": {"role": "assistant", "content": "The user edits invoice code."}}],
                "usage": {"prompt_tokens": 900, "completion_tokens": 6},
            })
            .to_string();
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, rx)
}

#[test]
fn llm_url_sends_the_summaries_to_an_openai_compatible_server() {
    let (url, requests) = chat_server();
    let state = tempfile::tempdir().expect("tempdir");
    copy_dir(&timecard().join("media"), &state.path().join("objects"));
    let dir = timecard();
    let events = dir.join("events.jsonl");
    let out = flowc(
        &[
            "run",
            dir.to_str().expect("utf-8"),
            "--events",
            events.to_str().expect("utf-8"),
            "--state",
            state.path().to_str().expect("utf-8"),
            "--llm-url",
            &url,
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let described: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .filter(|e| e["detail-type"] == "ScreenDescribed")
        .collect();
    assert_eq!(described.len(), 8, "{stderr}");
    for e in &described {
        assert_eq!(
            e["detail"]["data"]["summary"],
            "The user edits invoice code."
        );
        assert_eq!(e["detail"]["view"]["engine"], "openai-chat");
        assert_eq!(e["detail"]["view"]["usage"]["input_tokens"], 900);
    }
    let bodies: Vec<Value> = requests.try_iter().collect();
    assert_eq!(bodies.len(), 8);
    let first = &bodies[0];
    assert_eq!(first["model"], "anthropic.claude-3-5-haiku-20241022-v1:0");
    assert_eq!(first["max_tokens"], 300);
    let prompt = first["messages"][0]["content"][0]["text"]
        .as_str()
        .expect("prompt");
    assert!(
        prompt.contains(
            "The screenshot shows Visual Studio Code (window: \"billing.rs — invoices\")"
        ),
        "{prompt}"
    );
    let image = first["messages"][0]["content"][1]["image_url"]["url"]
        .as_str()
        .expect("image");
    assert!(
        image.starts_with("data:image/png;base64,iVBORw0KGgo"),
        "{image:.40}"
    );
}
