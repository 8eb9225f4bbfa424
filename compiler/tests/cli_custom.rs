//! Custom nodes in `flowc run`: the declared command gets one event on
//! stdin and answers events as JSON lines; valid answers are emitted with
//! the flow metadata, and a schema violation, a crash or a timeout emits
//! nothing and names the node and its `.flow` line.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// `Usage` → `Scorer` (custom, `tools/node.py MODE`) → `Scored`.
fn project(dir: &Path, mode: &str, timeout: &str) {
    let flow = format!(
        r#"event Usage {{
  source      "acme"
  detail_type "usage"
  profile     {{ user_id: string }}
  data        {{ active_ms: int }}
}}

event Scored {{
  detail_type "scored"
  profile     {{ user_id: string }}
  data        {{ score: float, band: "low" | "high" }}
}}

trigger Agent = sdk -> Usage

transformer Scorer = custom(Usage) -> Scored {{
  lambda  "arn:aws:lambda:us-east-1:123456789012:function:scorer"
  command "python3 tools/node.py {mode}"
  timeout {timeout}
}}

app Scoring {{
  nodes Scorer
  sink Scores = dynamodb(Scored) {{ key profile.user_id }}
}}
"#
    );
    std::fs::write(dir.join("scoring.flow"), flow).expect("write flow");
    std::fs::create_dir_all(dir.join("tools")).expect("tools");
    std::fs::write(
        dir.join("tools/node.py"),
        r#"import json, sys, time
mode = sys.argv[1]
event = json.loads(sys.stdin.readline())
user = event["detail"]["profile"]
ms = event["detail"]["data"]["active_ms"]
def out(data):
    print(json.dumps({"detail-type": "scored", "detail": {"profile": user, "data": data}}))
if mode == "valid":
    out({"score": ms / 100.0, "band": "high" if ms > 5000 else "low"})
    out({"score": 1.0, "band": "low"})
elif mode == "invalid":
    out({"score": 1.0, "band": "low"})
    out({"band": "low"})
elif mode == "wrongtype":
    out({"score": "high", "band": "medium"})
elif mode == "crash":
    print("partial output is not emitted", file=sys.stdout)
    print("ZeroDivisionError: division by zero", file=sys.stderr)
    sys.exit(3)
elif mode == "slow":
    time.sleep(5)
"#,
    )
    .expect("write node");
    let events = r#"{"id":"u1","source":"acme","detail-type":"usage","time":"2026-03-02T09:00:00Z","detail":{"profile":{"user_id":"ana"},"data":{"active_ms":8000}}}"#;
    std::fs::write(dir.join("events.jsonl"), format!("{events}\n")).expect("events");
}

/// Runs the project; a run in which an event failed exits 1 (each failing
/// mode below fails exactly one event), a clean run 0.
fn run(mode: &str, timeout: &str) -> (Vec<Value>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    project(dir.path(), mode, timeout);
    let out = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(["run", "--color", "never", "--events"])
        .arg(dir.path().join("events.jsonl"))
        .arg(dir.path())
        .output()
        .expect("flowc runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let expected = if mode == "valid" { 0 } else { 1 };
    assert_eq!(out.status.code(), Some(expected), "{stderr}");
    if expected == 1 {
        assert!(
            stderr.contains("error: 1 event(s) failed in a node or sink"),
            "{stderr}"
        );
    }
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    (events, stderr)
}

#[test]
fn valid_answers_are_emitted_with_flow_metadata() {
    let (events, stderr) = run("valid", "10s");
    assert!(!stderr.contains("error:"), "{stderr}");
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["detail"]["data"]["score"], 80.0);
    assert_eq!(events[0]["detail"]["data"]["band"], "high");
    for e in &events {
        assert_eq!(e["detail-type"], "scored");
        assert_eq!(e["detail"]["flow"]["correlation_id"], "u1");
        assert_eq!(e["detail"]["flow"]["hops"], 1);
        assert_eq!(e["detail"]["flow"]["node"], "Scorer");
    }
    assert_ne!(events[0]["id"], events[1]["id"]);
}

#[test]
fn a_schema_violation_emits_nothing_and_names_the_node() {
    let (events, stderr) = run("invalid", "10s");
    assert!(
        events.is_empty(),
        "the valid first answer must not go out alone"
    );
    assert!(
        stderr.contains("error: Scorer (scoring.flow:16): ")
            && stderr.contains("detail.data.score"),
        "{stderr}"
    );
}

#[test]
fn a_field_of_the_wrong_type_emits_nothing() {
    let (events, stderr) = run("wrongtype", "10s");
    assert!(events.is_empty());
    assert!(
        stderr.contains("error: Scorer (scoring.flow:16): ")
            && stderr.contains("detail.data.score: expected number, found \"high\"")
            && stderr.contains("detail.data.band: \"medium\" is none of \"low\", \"high\""),
        "{stderr}"
    );
}

#[test]
fn a_crash_emits_nothing_and_reports_the_last_error_line() {
    let (events, stderr) = run("crash", "10s");
    assert!(events.is_empty());
    assert!(
        stderr.contains("error: Scorer (scoring.flow:16): ")
            && stderr.contains("ZeroDivisionError"),
        "{stderr}"
    );
}

#[test]
fn a_command_past_its_timeout_is_stopped() {
    let (events, stderr) = run("slow", "300ms");
    assert!(events.is_empty());
    assert!(
        stderr.contains("error: Scorer (scoring.flow:16): ")
            && stderr.contains("timed out after 300 ms"),
        "{stderr}"
    );
}
