//! End-to-end tests of `flowc run` and `flowc test` over the examples and
//! small projects written here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;
use common::copy_dir;

fn flowc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn example(name: &str) -> PathBuf {
    root().join("examples").join(name)
}

fn run(args: &[&str]) -> Output {
    flowc().args(args).output().expect("flowc runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run_example(name: &str, extra: &[&str]) -> Output {
    let dir = example(name);
    let events = dir.join("events.jsonl");
    let mut args = vec![
        "run",
        dir.to_str().expect("utf-8"),
        "--events",
        events.to_str().expect("utf-8"),
    ];
    args.extend(extra);
    run(&args)
}

#[test]
fn run_timecard_emits_envelopes_and_a_summary() {
    // Views on real media are cli_views.rs's; here objects are in memory.
    let out = run_example("timecard", &["--views", "placeholder"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let events: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(events.len() > 20, "{}", events.len());
    for e in &events {
        for field in ["id", "source", "detail-type", "time", "detail"] {
            assert!(e.get(field).is_some(), "{field} missing in {e}");
        }
        assert!(e["detail"]["flow"]["hops"].as_u64().is_some_and(|h| h >= 1));
    }
    assert!(events.iter().any(|e| e["detail-type"] == "timecard.entry"));
    assert!(
        stderr.contains("events.jsonl:61: skipped: invalid JSON"),
        "{stderr}"
    );
    assert!(stderr.contains("FrameDedupe"), "{stderr}");
    assert!(stderr.contains("flushed"), "{stderr}");
}

#[test]
fn run_is_deterministic_and_reads_stdin() {
    let first = run_example("productivity-coach", &[]);
    let second = run_example("productivity-coach", &[]);
    assert_eq!(text(&first.stdout), text(&second.stdout));
    let dir = example("productivity-coach");
    let mut child = flowc()
        .args(["run", dir.to_str().expect("utf-8"), "--events", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let input = std::fs::read(dir.join("events.jsonl")).expect("events");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&input).expect("write");
    }
    let piped = child.wait_with_output().expect("wait");
    assert_eq!(text(&piped.stdout), text(&first.stdout));
    assert!(
        text(&piped.stderr).contains("-:9: skipped"),
        "{}",
        text(&piped.stderr)
    );
}

/// Split in two runs over one state directory, the stream gives what one
/// run gives. The example's media are the objects (copied: the stitcher
/// writes beside them); placeholder views keep it fast, so every event
/// succeeds and each run exits 0.
#[test]
fn run_with_state_continues_across_runs() {
    let dir = example("timecard");
    let all = std::fs::read_to_string(dir.join("events.jsonl")).expect("events");
    let lines: Vec<&str> = all.lines().collect();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("a.jsonl"), tmp.path().join("b.jsonl"));
    std::fs::write(&a, lines[..70].join("\n")).expect("write");
    std::fs::write(&b, lines[70..].join("\n")).expect("write");
    let state = tmp.path().join("state");
    copy_dir(&dir.join("media"), &state.join("objects"));
    let whole_objects = tmp.path().join("whole-objects");
    copy_dir(&dir.join("media"), &whole_objects);
    let project = dir.to_str().expect("utf-8");
    let state_arg = state.to_str().expect("utf-8");
    let part = |events: &Path, extra: &[&str]| {
        let mut args = vec![
            "run",
            project,
            "--events",
            events.to_str().expect("utf-8"),
            "--state",
            state_arg,
            "--views",
            "placeholder",
        ];
        args.extend(extra);
        run(&args)
    };
    let first = part(&a, &["--no-flush"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stderr).contains("continue in the next run"));
    let second = part(&b, &[]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    let whole = run_example(
        "timecard",
        &[
            "--views",
            "placeholder",
            "--objects",
            whole_objects.to_str().expect("utf-8"),
        ],
    );
    assert!(whole.status.success(), "{}", text(&whole.stderr));
    let joined = text(&first.stdout) + &text(&second.stdout);
    assert!(!joined.is_empty());
    assert_eq!(joined, text(&whole.stdout));
    // Running the same input again with the same state emits nothing new.
    let again = part(&b, &[]);
    assert_eq!(text(&again.stdout), "");
    assert!(state.join("state.sqlite").exists());
}

/// An event that fails in a node is reported, the run goes on to the end,
/// and the exit status says it was not clean (on AWS it would be in a
/// dead-letter queue).
#[test]
fn a_failed_event_makes_the_run_exit_1() {
    // The local view engines (scripts/setup-media) with no objects: the
    // summarizer cannot read its frames.
    let out = run_example("timecard", &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let failed = stderr
        .lines()
        .filter(|l| l.starts_with("error: ") && l.contains(" (nodes.flow:"))
        .count();
    assert!(
        stderr.contains("error: ScreenSummary (nodes.flow:22): object s3://"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "error: {failed} event(s) failed in a node or sink"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("node "),
        "the summary is still printed: {stderr}"
    );
}

#[test]
fn flowc_test_passes_on_every_example() {
    for name in ["timecard", "productivity-coach", "knowledge-base"] {
        let out = run(&["test", example(name).to_str().expect("utf-8")]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{name}:\n{stdout}");
        assert!(stdout.contains("test result: ok."), "{stdout}");
    }
}

/// A project whose custom node feeds its own input, bounded by `max_hops`.
fn write_loop_project(dir: &Path, test_block: &str) {
    let flow = format!(
        r#"
event Doc {{
  source      "acme.docs"
  detail_type "doc"
  data        {{ title: string, links: int }}
}}

trigger Docs = sdk -> Doc

transformer Resolver = custom(Doc) -> Doc {{
  lambda  "arn:aws:lambda:eu-west-1:123456789012:function:resolver"
  command "sh strip-id.sh"
}}

filter Passes = counter(Doc) {{
  key   data.title
  every 100 events
  emit  Counted
}}

route Loop = Doc -> Resolver when data.links > 0 max_hops 3

{test_block}
"#
    );
    std::fs::write(dir.join("app.flow"), flow).expect("write");
    // Echo the event without its id, so that each pass is a new event.
    std::fs::write(dir.join("strip-id.sh"), "sed -e 's/\"id\":\"[^\"]*\",//'\n").expect("write");
}

#[test]
fn custom_loops_stop_at_max_hops() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_loop_project(
        tmp.path(),
        r#"
test "the resolver runs three times" {
  given Doc { data: { title: "Q3 plan", links: 2 } }
  expect state Passes["Q3 plan"] { count: 4 }
}
"#,
    );
    let events = tmp.path().join("events.jsonl");
    std::fs::write(
        &events,
        r#"{"id":"d1","source":"acme.docs","detail-type":"doc","time":"2026-03-04T10:00:00Z","detail":{"data":{"title":"Q3 plan","links":2}}}"#,
    )
    .expect("write");
    let project = tmp.path().to_str().expect("utf-8");
    let out = run(&["run", project, "--events", events.to_str().expect("utf-8")]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(text(&out.stdout).lines().count(), 3, "{stderr}");
    assert!(stderr.contains("max_hops 3 reached"), "{stderr}");
    let resolver = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("Resolver"))
        .expect("summary row");
    let cols: Vec<&str> = resolver.split_whitespace().collect();
    assert_eq!(&cols[2..], ["3", "3", "1", "0"], "{resolver}");
    let tested = run(&["test", project]);
    assert!(tested.status.success(), "{}", text(&tested.stdout));
}

#[test]
fn failing_tests_show_a_diff_and_exit_1() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_loop_project(
        tmp.path(),
        r#"
test "wrong count" {
  given Doc { data: { title: "Q3 plan", links: 0 } }
  expect state Passes["Q3 plan"] { count: 2 }
  expect Counted
}
"#,
    );
    let out = run(&["test", tmp.path().to_str().expect("utf-8")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("test wrong count ... FAILED"), "{stdout}");
    assert!(stdout.contains("count: expected 2, found 1"), "{stdout}");
    assert!(
        stdout.contains("expected an event Counted, but none was emitted"),
        "{stdout}"
    );
    assert!(
        stdout.contains("test result: FAILED. 0 passed; 1 failed"),
        "{stdout}"
    );
}
