//! `flowc pattern` end to end: the built binary on temporary files, every
//! exit path, a few semantic cases, and the rules/events stream mode.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A fresh directory under the target directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli_pattern_{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

fn flowc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .output()
        .expect("run flowc")
}

fn flowc_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flowc");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for flowc")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `flowc pattern match` on one pattern and one event (both as text).
fn match_one(dir: &Path, pattern: &str, event: &str, extra: &[&str]) -> Output {
    let p = write(dir, "p.json", pattern);
    let e = write(dir, "e.json", event);
    let mut args = vec![
        "pattern",
        "match",
        "--pattern",
        p.to_str().expect("utf-8 path"),
        "--event",
        e.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    flowc(&args)
}

/// Asserts the exit code and the first stdout line of a one-event match.
fn assert_match(dir: &Path, pattern: &str, event: &str, expected: bool) {
    let o = match_one(dir, pattern, event, &[]);
    let want = if expected { "true\n" } else { "false\n" };
    assert_eq!(stdout(&o), want, "pattern {pattern} event {event}");
    assert_eq!(o.status.code(), Some(if expected { 0 } else { 1 }));
}

#[test]
fn match_true_false_and_explain() {
    let dir = temp_dir("match");
    let pattern = r#"{"source": ["shop"], "detail": {"status": ["PAID"], "amount": [{"numeric": [">", 100]}]}}"#;
    assert_match(
        &dir,
        pattern,
        r#"{"source": "shop", "detail": {"status": "PAID", "amount": 250}}"#,
        true,
    );
    assert_match(
        &dir,
        pattern,
        r#"{"source": "shop", "detail": {"status": "PAID", "amount": 50}}"#,
        false,
    );

    let o = match_one(
        &dir,
        pattern,
        r#"{"source": "shop", "detail": {"status": "paid", "amount": 250}}"#,
        &["--explain"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o),
        "false\ndetail.status: expected one of [\"PAID\"], found \"paid\"\n"
    );

    let o = match_one(&dir, pattern, r#"{"source": "shop"}"#, &["--explain"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("detail.status: expected one of [\"PAID\"], found nothing"),
        "{}",
        stdout(&o)
    );

    let o = match_one(
        &dir,
        pattern,
        r#"{"source": "shop", "detail": {"status": "PAID", "amount": 101}}"#,
        &["--explain"],
    );
    assert_eq!((stdout(&o).as_str(), o.status.code()), ("true\n", Some(0)));
}

#[test]
fn invalid_pattern_and_unreadable_files_exit_2() {
    let dir = temp_dir("errors");
    // Scalar leaf instead of an array: the EventBridge-style message.
    let o = match_one(&dir, r#"{"source": "shop"}"#, r#"{"source": "shop"}"#, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).contains("Event pattern is not valid. Reason:"),
        "{}",
        stderr(&o)
    );
    // `{}` is an error, not match-all.
    let o = match_one(&dir, "{}", r#"{"source": "shop"}"#, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Event pattern is not valid"));
    // An event that is not JSON.
    let o = match_one(&dir, r#"{"source": ["a"]}"#, "{oops", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("invalid event"), "{}", stderr(&o));

    // Missing files: one clear line each.
    let missing = dir.join("missing.json");
    let missing = missing.to_str().expect("utf-8 path");
    let e = write(&dir, "ok-event.json", r#"{"source": "a"}"#);
    let e = e.to_str().expect("utf-8 path");
    let o = flowc(&["pattern", "match", "--pattern", missing, "--event", e]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).starts_with("error: cannot read pattern"));
    let p = write(&dir, "ok.json", r#"{"source": ["a"]}"#);
    let p = p.to_str().expect("utf-8 path");
    let o = flowc(&["pattern", "match", "--pattern", p, "--event", missing]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("error: cannot read event"));
    let o = flowc(&["pattern", "check", "--pattern", missing]);
    assert_eq!(o.status.code(), Some(2));
    let o = flowc(&["pattern", "match", "--rules", missing, "--events", e]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("error: cannot read rules"));
    let rules = write(&dir, "rules.json", r#"{"r": {"source": ["a"]}}"#);
    let rules = rules.to_str().expect("utf-8 path");
    let o = flowc(&["pattern", "match", "--rules", rules, "--events", missing]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("error: cannot read events"));

    // Usage errors are exit 2 too.
    let o = flowc(&["pattern", "match", "--pattern", p]);
    assert_eq!(o.status.code(), Some(2));
    let o = flowc(&["pattern", "match", "--pattern", p, "--events", e]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn check_valid_and_invalid() {
    let dir = temp_dir("check");
    let p = write(
        &dir,
        "p.json",
        r#"{"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}}"#,
    );
    let o = flowc(&["pattern", "check", "--pattern", p.to_str().expect("utf-8")]);
    assert_eq!((stdout(&o).as_str(), o.status.code()), ("valid\n", Some(0)));

    for bad in [
        r#"{"a": [{"cidr": "10.0.0.0/32"}]}"#,
        r#"{"a": [{"numeric": [">=", 5, "<=", 5]}]}"#,
        r#"{"a": [{"wildcard": "a**b"}]}"#,
        r#"{"$or": [{"a": ["x"]}]}"#,
        r#"{"a": []}"#,
        r#"{"a": [{"contains": "x"}]}"#,
    ] {
        let p = write(&dir, "bad.json", bad);
        let o = flowc(&["pattern", "check", "--pattern", p.to_str().expect("utf-8")]);
        assert_eq!(o.status.code(), Some(2), "{bad}");
        assert!(stdout(&o).is_empty());
        assert!(
            stderr(&o).contains("Event pattern is not valid. Reason:"),
            "{bad}: {}",
            stderr(&o)
        );
    }

    // The length quota counts the pattern without insignificant whitespace.
    let values: Vec<String> = (0..250).map(|i| format!("\"v{i:03}\"")).collect();
    let pretty = format!("{{\n  \"a\": [\n    {}\n  ]\n}}\n", values.join(",\n    "));
    assert!(pretty.len() > 2048 && pretty.split_whitespace().map(str::len).sum::<usize>() < 2048);
    let p = write(&dir, "pretty.json", &pretty);
    let o = flowc(&["pattern", "check", "--pattern", p.to_str().expect("utf-8")]);
    assert_eq!((stdout(&o).as_str(), o.status.code()), ("valid\n", Some(0)));
    let values: Vec<String> = (0..400).map(|i| format!("\"v{i:03}\"")).collect();
    let long = format!("{{\"a\": [{}]}}", values.join(","));
    let p = write(&dir, "long.json", &long);
    let o = flowc(&["pattern", "check", "--pattern", p.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("the limit is 2048"), "{}", stderr(&o));

    let rules = write(
        &dir,
        "rules.json",
        r#"{"ok": {"source": ["a"]}, "bad one": {"a": {}}, "worse": {"b": ["x", ["y"]]},
            "inexact": {"n": [{"numeric": [">", 1E309]}]}}"#,
    );
    let o = flowc(&[
        "pattern",
        "check",
        "--rules",
        rules.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("rule \"bad one\": Event pattern is not valid"),
        "{err}"
    );
    assert!(
        err.contains("rule \"worse\": Event pattern is not valid"),
        "{err}"
    );
    assert!(err.contains("rule \"inexact\": Event pattern"), "{err}");
    assert!(!err.contains("\"ok\""), "{err}");
}

#[test]
fn semantics() {
    let dir = temp_dir("semantics");
    // Type strictness.
    assert_match(&dir, r#"{"a": [5]}"#, r#"{"a": "5"}"#, false);
    assert_match(&dir, r#"{"a": ["5"]}"#, r#"{"a": 5}"#, false);
    assert_match(&dir, r#"{"a": [true]}"#, r#"{"a": 1}"#, false);
    assert_match(&dir, r#"{"a": [null]}"#, r#"{"b": 1}"#, false);
    assert_match(&dir, r#"{"a": [300]}"#, r#"{"a": 3.0e2}"#, true);
    // Event numbers are read from the text: not exactly representable
    // numbers never satisfy a numeric matcher.
    assert_match(
        &dir,
        r#"{"a": [{"numeric": [">", 0]}]}"#,
        r#"{"a": 123456789012345678901234567890}"#,
        false,
    );
    // anything-but needs the field; it is satisfied by other types.
    assert_match(
        &dir,
        r#"{"a": [{"anything-but": "x"}]}"#,
        r#"{"b": 1}"#,
        false,
    );
    assert_match(
        &dir,
        r#"{"a": [{"anything-but": "x"}]}"#,
        r#"{"a": null}"#,
        true,
    );
    assert_match(
        &dir,
        r#"{"a": [{"anything-but": "x"}]}"#,
        r#"{"a": []}"#,
        false,
    );
    // exists: [] and {} count as absent.
    assert_match(&dir, r#"{"a": [{"exists": false}]}"#, r#"{"a": {}}"#, true);
    assert_match(&dir, r#"{"a": [{"exists": true}]}"#, r#"{"a": []}"#, false);
    // Array consistency: both fields within one element.
    let items = r#"{"items": {"sku": ["A"], "qty": [2]}}"#;
    assert_match(
        &dir,
        items,
        r#"{"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}"#,
        false,
    );
    assert_match(
        &dir,
        items,
        r#"{"items": [{"sku": "B", "qty": 1}, {"sku": "A", "qty": 2}]}"#,
        true,
    );
    let o = match_one(
        &dir,
        items,
        r#"{"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]}"#,
        &["--explain"],
    );
    assert!(
        stdout(&o).contains("no single array element"),
        "{}",
        stdout(&o)
    );
    // $or, top level and nested.
    let or =
        r#"{"source": ["s"], "$or": [{"a": ["x"]}, {"b": {"$or": [{"c": [1]}, {"d": [2]}]}}]}"#;
    assert_match(&dir, or, r#"{"source": "s", "a": "x"}"#, true);
    assert_match(&dir, or, r#"{"source": "s", "b": {"d": 2}}"#, true);
    assert_match(&dir, or, r#"{"source": "s", "b": {"d": 3}}"#, false);
    assert_match(&dir, or, r#"{"source": "t", "a": "x"}"#, false);
    // A non-object event matches nothing.
    assert_match(&dir, r#"{"a": [{"exists": false}]}"#, "[1]", false);
}

const RULES: &str = r#"{
  "paid":      {"source": ["shop"], "detail": {"status": ["PAID"]}},
  "big":       {"source": ["shop"], "detail": {"amount": [{"numeric": [">=", 1000]}]}},
  "not-paid":  {"source": ["shop"], "detail": {"status": [{"anything-but": "PAID"}]}},
  "with \"quotes\"": {"detail": {"tag": [{"prefix": "x"}]}},
  "huge":      {"detail": {"amount": [{"numeric": [">", 9007199254740990]}]}}
}"#;

const EVENTS: &str = concat!(
    r#"{"id": "e-1", "source": "shop", "detail": {"status": "PAID", "amount": 5000}}"#,
    "\n",
    r#"{"id": "e-2", "source": "shop", "detail": {"status": "NEW", "amount": 10, "tag": "xy"}}"#,
    "\n",
    "\n",
    r#"{"id": "e-3", "source": "shop", "detail": {"status": "PAID"#,
    "\n",
    r#"[1, 2]"#,
    "\n",
    r#"{"source": "other", "detail": {"status": "PAID"}}"#,
    "\r\n",
    r#"{"id": 7, "detail": {"amount": 123456789012345678901234567890}}"#,
    "\n",
);

const EXPECTED: &str = concat!(
    r#"{"line":1,"id":"e-1","matches":["paid","big"]}"#,
    "\n",
    r#"{"line":2,"id":"e-2","matches":["not-paid","with \"quotes\""]}"#,
    "\n",
    r#"{"line":6,"id":null,"matches":[]}"#,
    "\n",
    r#"{"line":7,"id":7,"matches":[]}"#,
    "\n",
);

#[test]
fn rules_against_event_stream() {
    let dir = temp_dir("stream");
    let rules = write(&dir, "rules.json", RULES);
    let rules = rules.to_str().expect("utf-8");
    let events = write(&dir, "events.jsonl", EVENTS);
    let events_path = events.to_str().expect("utf-8");

    let o = flowc(&[
        "pattern",
        "match",
        "--rules",
        rules,
        "--events",
        events_path,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), EXPECTED);
    for line in stdout(&o).lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("output lines are JSON");
    }
    let err = stderr(&o);
    assert!(
        err.contains("events.jsonl:4: skipped: invalid event"),
        "{err}"
    );
    assert!(
        err.contains("events.jsonl:5: skipped: an event must be a JSON object"),
        "{err}"
    );
    assert!(err.contains("2 malformed line(s) skipped"), "{err}");

    // The same through stdin.
    let o = flowc_stdin(
        &["pattern", "match", "--rules", rules, "--events", "-"],
        EVENTS,
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), EXPECTED);
    assert!(stderr(&o).contains("stdin:4: skipped"), "{}", stderr(&o));

    // --explain says why each other rule did not match.
    let o = flowc_stdin(
        &[
            "pattern",
            "match",
            "--rules",
            rules,
            "--events",
            "-",
            "--explain",
        ],
        concat!(
            r#"{"id": "e-1", "source": "shop", "detail": {"status": "PAID", "amount": 5}}"#,
            "\n"
        ),
    );
    let line: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("JSON line");
    assert_eq!(line["matches"], serde_json::json!(["paid"]));
    assert_eq!(
        line["explain"]["big"],
        r#"detail.amount: expected one of [{"numeric":[">=",1000]}], found 5"#
    );
    assert_eq!(
        line["explain"]["not-paid"],
        r#"detail.status: expected one of [{"anything-but":"PAID"}], found "PAID""#
    );

    // A directory of `<rule>.json` files (the `rules/` of `flowc build`).
    let rules_dir = dir.join("rules");
    std::fs::create_dir_all(&rules_dir).expect("create rules dir");
    write(
        &rules_dir,
        "paid.json",
        "{\n  \"detail\": {\"status\": [\"PAID\"]}\n}\n",
    );
    write(
        &rules_dir,
        "big.json",
        r#"{"detail": {"amount": [{"numeric": [">=", 1000]}]}}"#,
    );
    write(&rules_dir, "notes.txt", "not a rule");
    let o = flowc(&[
        "pattern",
        "match",
        "--rules",
        rules_dir.to_str().expect("utf-8"),
        "--events",
        events_path,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().next(),
        Some(r#"{"line":1,"id":"e-1","matches":["big","paid"]}"#)
    );
    let o = flowc(&[
        "pattern",
        "check",
        "--rules",
        rules_dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        (stdout(&o).as_str(), o.status.code()),
        ("valid: 2 rule(s)\n", Some(0))
    );

    // An invalid rule is reported by name and nothing is matched.
    let bad = write(
        &dir,
        "bad-rules.json",
        r#"{"good": {"a": ["x"]}, "broken": {"a": [{"numeric": ["!=", 1]}]}}"#,
    );
    let o = flowc(&[
        "pattern",
        "match",
        "--rules",
        bad.to_str().expect("utf-8"),
        "--events",
        events_path,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).is_empty());
    assert!(
        stderr(&o).contains("rule \"broken\": Event pattern is not valid"),
        "{}",
        stderr(&o)
    );

    // A rule name given twice is an error (a JSON object would drop one).
    let twice = write(
        &dir,
        "twice.json",
        r#"{"r": {"a": ["x"]}, "s": {"a": ["y"]}, "r": {"a": ["z"]}}"#,
    );
    let o = flowc(&[
        "pattern",
        "check",
        "--rules",
        twice.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("rule \"r\" is defined twice"),
        "{}",
        stderr(&o)
    );

    // Rules must be an object of patterns.
    for (name, text) in [
        ("array.json", r#"[{"a": ["x"]}]"#),
        ("broken.json", r#"{"a": "#),
    ] {
        let p = write(&dir, name, text);
        let o = flowc(&[
            "pattern",
            "match",
            "--rules",
            p.to_str().expect("utf-8"),
            "--events",
            events_path,
        ]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
}
