//! App sinks in `flowc run --state DIR` and `flowc query`: documents,
//! records and webhooks (signed, retried, not posted twice) against a
//! receiver on loopback, and ranked full-text search over the documents.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use flow_runtime::sink::verify;
use serde_json::Value;

const PROJECT: &str = r#"
event Note {
  source      "test.notes"
  detail_type "note.captured"
  profile     { user_id: string }
  data        { note_id: string, title: string, body: string }
}

trigger Capture = sdk -> Note

app Notes {
  description "Notes kept as documents and records, and announced"

  sink Pages = s3(Note) {
    key      "notes/{{profile.user_id}}/{{data.note_id}}.md"
    format   "markdown"
    template """
# {{data.title}}

{{data.body}}
"""
  }

  sink Records = dynamodb(Note) {
    key  profile.user_id
    sort data.note_id
  }

  sink Hook = webhook(Note) {
    url     "https://notes.example/hook"
    secret  "notes-signing-key"
    timeout 5s
  }
}
"#;

const SECRET: &str = "s3cr3t-for-tests";

fn note(id: &str, title: &str, body: &str) -> String {
    serde_json::json!({
        "id": format!("evt-{id}"),
        "source": "test.notes",
        "detail-type": "note.captured",
        "time": "2026-01-05T10:00:00Z",
        "detail": {
            "profile": {"user_id": "u1"},
            "data": {"note_id": id, "title": title, "body": body},
        },
    })
    .to_string()
}

fn corpus() -> String {
    [
        note(
            "n1",
            "Quarterly budget review",
            "The budget for the quarter was approved. Budget owners report \
             spending against the budget every month.",
        ),
        note(
            "n2",
            "Team offsite",
            "Plans for the offsite in March: travel, rooms, and a short remark on budget.",
        ),
        note(
            "n3",
            "Kubernetes upgrade",
            "Upgrade the clusters to the new version; drain nodes one at a time.",
        ),
    ]
    .join("\n")
}

/// One request the receiver saw.
#[derive(Clone, Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
    answered: u16,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A webhook receiver on loopback that answers 503 to its first
/// `fail_first` requests and 200 after that.
fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!(
        "http://{}/hook",
        listener.local_addr().expect("local address")
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
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
            let mut log = log.lock().expect("log");
            let answered = if log.len() < fail_first { 503 } else { 200 };
            log.push(Received {
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
                answered,
            });
            let _ = write!(
                stream,
                "HTTP/1.1 {answered} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (url, seen)
}

fn flowc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).expect("project dir");
    std::fs::write(project.join("notes.flow"), PROJECT).expect("write project");
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, corpus()).expect("write events");
    (dir, project, events)
}

fn run_notes(project: &Path, events: &Path, state: &Path, url: &str, secret: bool) -> Output {
    let mut cmd = flowc();
    cmd.args(["run", "--color", "never", "--state"])
        .arg(state)
        .arg("--events")
        .arg(events)
        .arg("--webhook")
        .arg(format!("Notes.Hook={url}"))
        .arg(project)
        .env_remove("FLOWC_SECRET_NOTES_SIGNING_KEY");
    if secret {
        cmd.env("FLOWC_SECRET_NOTES_SIGNING_KEY", SECRET);
    }
    cmd.output().expect("flowc runs")
}

fn query(state: &Path, words: &str, json: bool) -> Output {
    let mut cmd = flowc();
    let project = state.parent().expect("state has a parent").join("project");
    cmd.arg("query")
        .arg(project)
        .arg("--state")
        .arg(state)
        .arg(words);
    if json {
        cmd.args(["--format", "json"]);
    }
    cmd.output().expect("flowc runs")
}

#[test]
fn sinks_write_documents_records_and_signed_webhooks_once() {
    let (dir, project, events) = setup();
    let state = dir.path().join("state");
    let (url, seen) = receiver(2);

    let out = run_notes(&project, &events, &state, &url, true);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("error:"), "{stderr}");

    // Documents, rendered through the template.
    let page = std::fs::read_to_string(state.join("documents/notes/u1/n3.md")).expect("n3.md");
    assert_eq!(
        page,
        "# Kubernetes upgrade\n\nUpgrade the clusters to the new version; drain nodes one at a time."
    );
    // Records, in the sinks database.
    let db = rusqlite_free_record(&state, "sink#Notes#Records#u1", "n2");
    assert!(db.contains("evt-n2"), "{db}");

    // Webhooks: the first event took three attempts (503, 503, 200), the
    // others one; every attempt is signed and carries the event id.
    let requests = seen.lock().expect("log").clone();
    assert_eq!(requests.len(), 5, "{requests:#?}");
    let statuses: Vec<u16> = requests.iter().map(|r| r.answered).collect();
    assert_eq!(statuses, [503, 503, 200, 200, 200]);
    let keys: Vec<&str> = requests
        .iter()
        .map(|r| r.header("Idempotency-Key").expect("Idempotency-Key"))
        .collect();
    assert_eq!(keys, ["evt-n1", "evt-n1", "evt-n1", "evt-n2", "evt-n3"]);
    for r in &requests {
        let timestamp: i64 = r
            .header("X-Flowc-Timestamp")
            .expect("timestamp header")
            .parse()
            .expect("unix seconds");
        let signature = r.header("X-Flowc-Signature").expect("signature header");
        assert!(verify(
            SECRET.as_bytes(),
            timestamp,
            r.body.as_bytes(),
            signature
        ));
        assert!(!verify(
            b"wrong secret",
            timestamp,
            r.body.as_bytes(),
            signature
        ));
        let body: Value = serde_json::from_str(&r.body).expect("JSON body");
        assert_eq!(body["id"], r.header("Idempotency-Key").expect("key"));
        assert_eq!(body["detail-type"], "note.captured");
    }

    // Redelivery of the same events: nothing is posted again, the
    // documents are rewritten in place (the index holds each once).
    let again = run_notes(&project, &events, &state, &url, true);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(seen.lock().expect("log").len(), 5);
    let hits = query_json(&state, "budget");
    assert_eq!(hits.len(), 2, "{hits:#?}");
}

/// Reads one record through `flowc`'s own database file with the sqlite3
/// CLI-free route: the runtime's `LocalSinks::record`.
fn rusqlite_free_record(state: &Path, pk: &str, sk: &str) -> String {
    let sinks = flow_runtime::local::LocalSinks::open(Some(state)).expect("open sinks");
    let (id, detail) = sinks
        .record(pk, sk)
        .expect("read record")
        .expect("record exists");
    format!("{id} {detail}")
}

fn query_json(state: &Path, words: &str) -> Vec<Value> {
    let out = query(state, words, true);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let value: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    value["hits"].as_array().expect("hits").clone()
}

#[test]
fn query_ranks_documents_with_snippets_and_event_ids() {
    let (dir, project, events) = setup();
    let state = dir.path().join("state");
    let (url, _seen) = receiver(0);
    let out = run_notes(&project, &events, &state, &url, true);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The note about the budget (title and three mentions) outranks the
    // note that mentions it once; the third does not match.
    let hits = query_json(&state, "budget");
    let ids: Vec<&str> = hits
        .iter()
        .map(|h| h["event_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["evt-n1", "evt-n2"]);
    assert!(hits[0]["score"].as_f64() > hits[1]["score"].as_f64());
    assert_eq!(hits[0]["title"], "Quarterly budget review");
    assert_eq!(hits[0]["key"], "notes/u1/n1.md");
    assert_eq!(hits[0]["sink"], "Pages");
    let snippet = hits[1]["snippet"].as_str().expect("snippet");
    let (start, end) = (
        hits[1]["highlights"][0][0].as_u64().expect("start") as usize,
        hits[1]["highlights"][0][1].as_u64().expect("end") as usize,
    );
    assert_eq!(&snippet[start..end], "budget");

    // Phrases and required words.
    let hits = query_json(&state, "\"drain nodes\"");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["event_id"], "evt-n3");
    let hits = query_json(&state, "+budget +offsite");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["event_id"], "evt-n2");

    // Human output: ranked, with the event id and the word emphasized.
    let out = query(&state, "kubernetes", false);
    let stdout = text(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.starts_with("1. Kubernetes upgrade"), "{stdout}");
    assert!(stdout.contains("event evt-n3"), "{stdout}");
    assert!(stdout.contains("**Kubernetes**"), "{stdout}");

    // No match: exit 1 and a message; no index: exit 2 and what to do.
    let out = query(&state, "zeppelin", false);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no document matches"));
    let out = query(&dir.path().join("nowhere"), "budget", false);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("flowc run --state"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_webhook_without_its_secret_is_not_posted() {
    let (dir, project, events) = setup();
    let state = dir.path().join("state");
    let (url, seen) = receiver(0);
    let out = run_notes(&project, &events, &state, &url, false);
    let stderr = text(&out.stderr);
    // Undelivered events make the run exit 1 (each reported).
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("FLOWC_SECRET_NOTES_SIGNING_KEY") && stderr.contains("Notes.Hook"),
        "{stderr}"
    );
    assert!(seen.lock().expect("log").is_empty());

    // The secret in the state directory works as well, and the events
    // that were not delivered are delivered on redelivery.
    std::fs::create_dir_all(state.join("secrets")).expect("secrets dir");
    std::fs::write(
        state.join("secrets/notes-signing-key"),
        format!("{SECRET}\n"),
    )
    .expect("secret file");
    let out = run_notes(&project, &events, &state, &url, false);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let requests = seen.lock().expect("log").clone();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        let timestamp: i64 = r
            .header("X-Flowc-Timestamp")
            .expect("ts")
            .parse()
            .expect("int");
        let signature = r.header("X-Flowc-Signature").expect("signature");
        assert!(verify(
            SECRET.as_bytes(),
            timestamp,
            r.body.as_bytes(),
            signature
        ));
    }
}

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .join("examples")
        .join(name)
}

/// Runs an example on its sample stream with placeholder views (no media
/// needed) and returns the emitted envelopes.
fn run_example(name: &str, state: &Path, extra: &[&str], env: &[(&str, &str)]) -> Vec<Value> {
    let dir = example(name);
    let mut cmd = flowc();
    cmd.args([
        "run",
        "--color",
        "never",
        "--views",
        "placeholder",
        "--state",
    ])
    .arg(state)
    .arg("--events")
    .arg(dir.join("events.jsonl"))
    .args(extra)
    .arg(&dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("flowc runs");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("error:"), "{stderr}");
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn ids_of<'v>(events: &'v [Value], detail_type: &str) -> Vec<&'v str> {
    events
        .iter()
        .filter(|e| e["detail-type"] == detail_type)
        .map(|e| e["id"].as_str().expect("id"))
        .collect()
}

#[test]
fn knowledge_base_documents_are_searchable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let emitted = run_example("knowledge-base", &state, &[], &[]);
    let docs = ids_of(&emitted, "kb.document");
    assert_eq!(docs.len(), 8, "{docs:?}");

    // One Markdown page per captured item (and its JSON copy).
    let pages = std::fs::read_dir(state.join("documents/wiki/ws-acme-eng"))
        .expect("wiki pages")
        .count();
    assert_eq!(pages, 8);

    let query = |words: &str| {
        let out = flowc()
            .arg("query")
            .arg(example("knowledge-base"))
            .arg("--state")
            .arg(&state)
            .arg(words)
            .args(["--format", "json"])
            .output()
            .expect("flowc runs");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let value: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        value["hits"].as_array().expect("hits").clone()
    };
    // The note and its Markdown page rank above the attachment that only
    // names the note.
    let hits = query("payments architecture");
    assert_eq!(
        hits[0]["title"], "Payments architecture review",
        "{hits:#?}"
    );
    assert!(hits[0]["key"]
        .as_str()
        .is_some_and(|k| k.contains("note-7f3e21")));
    for hit in &hits {
        let id = hit["event_id"].as_str().expect("event id");
        assert!(docs.contains(&id), "{id} is not an emitted KnowledgeDoc");
    }
    // Both whiteboard photos, nothing else, for words only they contain.
    let hits = query("+whiteboard +room");
    let keys: Vec<&str> = hits
        .iter()
        .map(|h| h["key"].as_str().expect("key"))
        .collect();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k.contains("wb-room-4b")),
        "{keys:?}"
    );
}

#[test]
fn timecard_writes_one_document_per_session_and_time_slice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let emitted = run_example("timecard", &state, &[], &[]);
    let entries: Vec<&Value> = emitted
        .iter()
        .filter(|e| e["detail-type"] == "timecard.entry")
        .collect();
    assert!(!entries.is_empty());
    for entry in &entries {
        let d = &entry["detail"];
        let key = format!(
            "documents/timecards/{}/{}/{}.md",
            d["profile"]["user_id"].as_str().expect("user"),
            d["profile"]["session_id"].as_str().expect("session"),
            d["data"]["started_at"].as_str().expect("start"),
        );
        let page = std::fs::read_to_string(state.join(&key)).expect(&key);
        assert!(page.starts_with("# Timecard "), "{page}");
        assert!(page.contains(d["data"]["summary"].as_str().expect("summary")));
    }
}

#[test]
fn productivity_coach_posts_signed_insights_to_its_webhook() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("state");
    let (url, seen) = receiver(1);
    let emitted = run_example(
        "productivity-coach",
        &state,
        &["--webhook", &format!("Notes={url}")],
        &[("FLOWC_SECRET_COACH_WEBHOOK_SIGNING_KEY", SECRET)],
    );
    let notes = ids_of(&emitted, "CoachingNote");
    assert_eq!(notes.len(), 1);
    let requests = seen.lock().expect("log").clone();
    // One retry after the receiver's 503, then delivered.
    let statuses: Vec<u16> = requests.iter().map(|r| r.answered).collect();
    assert_eq!(statuses, [503, 200]);
    for r in &requests {
        assert_eq!(r.header("Idempotency-Key"), Some(notes[0]));
        let timestamp: i64 = r
            .header("X-Flowc-Timestamp")
            .expect("ts")
            .parse()
            .expect("int");
        let signature = r.header("X-Flowc-Signature").expect("signature");
        assert!(verify(
            SECRET.as_bytes(),
            timestamp,
            r.body.as_bytes(),
            signature
        ));
        let body: Value = serde_json::from_str(&r.body).expect("JSON");
        assert_eq!(body["detail-type"], "CoachingNote");
    }
}

#[test]
fn a_receiver_that_answers_too_late_gets_every_attempt_then_the_event_again() {
    let (dir, project, events) = setup();
    // One second per attempt; the receiver takes two.
    let slow = PROJECT.replace("timeout 5s", "timeout 1s");
    std::fs::write(project.join("notes.flow"), slow).expect("write project");
    let events_one = dir.path().join("one.jsonl");
    let first = corpus().lines().next().expect("a note").to_string();
    std::fs::write(&events_one, format!("{first}\n")).expect("write event");
    let state = dir.path().join("state");

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}/hook", listener.local_addr().expect("address"));
    let attempts = Arc::new(Mutex::new(0usize));
    let counted = attempts.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            *counted.lock().expect("count") += 1;
            // Read nothing, answer nothing, hold the connection past the timeout.
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_secs(2));
                drop(stream);
            });
        }
    });
    let out = run_notes(&project, &events_one, &state, &url, true);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: 1 event(s) failed in a node or sink"),
        "{stderr}"
    );
    assert!(
        stderr.contains("failed after 4 attempt(s): timed out")
            && stderr.contains("error: sink Notes.Hook (notes.flow:"),
        "{stderr}"
    );
    assert_eq!(*attempts.lock().expect("count"), 4);

    // Not recorded as delivered: the same event goes out again next time.
    let (url, seen) = receiver(0);
    let again = run_notes(&project, &events_one, &state, &url, true);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(seen.lock().expect("log").len(), 1);
    drop(events);
}
