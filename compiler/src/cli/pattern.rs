//! `flowc pattern`: validate EventBridge event patterns and match events
//! against them locally (the `aws events test-event-pattern` of flowc).
//!
//! * `check --pattern P.json` / `check --rules RULES.json`: `valid` or the
//!   EventBridge-style error (exit 0 / 2).
//! * `match --pattern P.json --event E.json [--explain]`: `true` / `false`
//!   (exit 0 / 1; 2 for an invalid pattern, an unreadable file or an event
//!   that is not JSON).
//! * `match --rules RULES.json --events EVENTS.jsonl [--explain]`: one JSON
//!   line per event, `{"line": n, "id": <event id>, "matches": [names]}`;
//!   malformed lines go to stderr and are skipped; exit 2 if a rule is
//!   invalid or a file cannot be read.
//!
//! Patterns are given to the engine as text and events are matched from
//! their text (`matches_json`, `matching_json`), so number text keeps the
//! exactness rules of EventBridge. Patterns are measured against the
//! 2048-character quota with whitespace outside strings removed (the rule
//! files of `flowc build` are pretty-printed; the template carries them as
//! JSON objects); keys, number text and duplicate keys are kept as written.

use std::fs;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgGroup, Subcommand};
use flow_runtime::pattern::{Pattern, RuleSet};
use serde::de::IgnoredAny;

#[derive(Subcommand)]
pub enum PatternCommand {
    /// Validate a pattern (or every pattern of a rules file) as EventBridge does.
    #[command(group(ArgGroup::new("input").required(true).args(["pattern", "rules"])))]
    Check {
        /// A file holding one event pattern.
        #[arg(long, value_name = "P.json")]
        pattern: Option<PathBuf>,
        /// A JSON object of rule name to pattern, or a directory of `<rule>.json` files.
        #[arg(long, value_name = "RULES.json")]
        rules: Option<PathBuf>,
    },
    /// Match one event against one pattern, or a stream of events against many rules.
    #[command(group(ArgGroup::new("input").required(true).args(["pattern", "rules"])))]
    Match {
        /// A file holding one event pattern (with --event).
        #[arg(long, value_name = "P.json", requires = "event")]
        pattern: Option<PathBuf>,
        /// A file holding one event (with --pattern).
        #[arg(long, value_name = "E.json", requires = "pattern")]
        event: Option<PathBuf>,
        /// A JSON object of rule name to pattern, or a directory of `<rule>.json` files (with --events).
        #[arg(long, value_name = "RULES.json", requires = "events")]
        rules: Option<PathBuf>,
        /// Events, one JSON object per line (with --rules); `-` reads stdin.
        #[arg(long, value_name = "EVENTS.jsonl", requires = "rules")]
        events: Option<PathBuf>,
        /// Say why an event does not match: the first field and matcher that failed.
        #[arg(long)]
        explain: bool,
    },
}

/// Runs a `flowc pattern` subcommand.
pub fn run(command: PatternCommand) -> ExitCode {
    let result = match command {
        PatternCommand::Check { pattern, rules } => match (pattern, rules) {
            (Some(p), _) => check_pattern(&p),
            (None, Some(r)) => check_rules(&r),
            (None, None) => Err(Failure::Usage),
        },
        PatternCommand::Match {
            pattern,
            event,
            rules,
            events,
            explain,
        } => match (pattern, event, rules, events) {
            (Some(p), Some(e), _, _) => match_one(&p, &e, explain),
            (_, _, Some(r), Some(e)) => match_stream(&r, &e, explain),
            _ => Err(Failure::Usage),
        },
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage) => {
            eprintln!("error: give --pattern with --event, or --rules with --events");
            ExitCode::from(2)
        }
        Err(Failure::Reported) => ExitCode::from(2),
        Err(Failure::Message(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
    }
}

/// Why a subcommand exits with status 2.
enum Failure {
    Usage,
    /// Already printed on stderr.
    Reported,
    Message(String),
}

fn read(path: &Path, what: &str) -> Result<String, Failure> {
    fs::read_to_string(path)
        .map_err(|e| Failure::Message(format!("cannot read {what} {}: {e}", path.display())))
}

fn load_pattern(path: &Path) -> Result<Pattern, Failure> {
    let mut text = read(path, "pattern")?;
    if is_json(&text) {
        text = compact(&text);
    }
    Pattern::parse(&text).map_err(|e| Failure::Message(format!("{}: {e}", path.display())))
}

fn check_pattern(path: &Path) -> Result<ExitCode, Failure> {
    load_pattern(path)?;
    println!("valid");
    Ok(ExitCode::SUCCESS)
}

fn check_rules(path: &Path) -> Result<ExitCode, Failure> {
    let rules = load_rules(path)?;
    println!("valid: {} rule(s)", rules.len());
    Ok(ExitCode::SUCCESS)
}

fn match_one(pattern: &Path, event: &Path, explain: bool) -> Result<ExitCode, Failure> {
    let pattern = load_pattern(pattern)?;
    let text = read(event, "event")?;
    let invalid = |e| Failure::Message(format!("{}: {e}", event.display()));
    if explain {
        match pattern.explain_json(&text).map_err(invalid)? {
            None => println!("true"),
            Some(why) => {
                println!("false");
                println!("{why}");
                return Ok(ExitCode::from(1));
            }
        }
        Ok(ExitCode::SUCCESS)
    } else if pattern.matches_json(&text).map_err(invalid)? {
        println!("true");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("false");
        Ok(ExitCode::from(1))
    }
}

/// Reads RULES.json (or a directory of `<rule>.json` pattern files, such
/// as the `rules/` of `flowc build`) and compiles it; every invalid rule is
/// reported.
fn load_rules(path: &Path) -> Result<Vec<(String, Pattern)>, Failure> {
    let entries = if path.is_dir() {
        rules_dir(path)?
    } else {
        let text = read(path, "rules")?;
        split_rules(&text).map_err(|m| Failure::Message(format!("{}: {m}", path.display())))?
    };
    let mut rules = Vec::with_capacity(entries.len());
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    let mut failed = false;
    for (name, pattern) in entries {
        if !seen.insert(name.clone()) {
            eprintln!(
                "error: {}: rule \"{name}\" is defined twice",
                path.display()
            );
            failed = true;
            continue;
        }
        match Pattern::parse(&pattern) {
            Ok(p) => rules.push((name, p)),
            Err(e) => {
                eprintln!("error: {}: rule \"{name}\": {e}", path.display());
                failed = true;
            }
        }
    }
    if failed {
        Err(Failure::Reported)
    } else {
        Ok(rules)
    }
}

/// The `*.json` files of a directory, by name, as (file stem, pattern).
fn rules_dir(dir: &Path) -> Result<Vec<(String, String)>, Failure> {
    let unreadable =
        |e: io::Error| Failure::Message(format!("cannot read rules {}: {e}", dir.display()));
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().is_some_and(|e| e == "json") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let name = f
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let text = read(&f, "pattern")?;
            Ok((name, if is_json(&text) { compact(&text) } else { text }))
        })
        .collect()
}

/// Splits a RULES.json object into (name, compact pattern text) pairs in
/// file order, without going through `serde_json::Value` (which would sort
/// the names, round numbers and drop duplicate keys inside patterns).
fn split_rules(text: &str) -> Result<Vec<(String, String)>, String> {
    serde_json::from_str::<IgnoredAny>(text).map_err(|e| format!("not valid JSON: {e}"))?;
    if !text.trim_start().starts_with('{') {
        return Err("expected a JSON object of rule name to pattern".into());
    }
    // The text is valid JSON, so a plain scan of the top-level object works.
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0) + 1; // past `{`
    let mut out = Vec::new();
    loop {
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b'}') | None => break,
            Some(b',') => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let key_end = value_end(text, i);
        let name: String =
            serde_json::from_str(&text[i..key_end]).map_err(|e| format!("bad rule name: {e}"))?;
        i = skip_ws(b, key_end) + 1; // past `:`
        i = skip_ws(b, i);
        let end = value_end(text, i);
        out.push((name, compact(&text[i..end])));
        i = end;
    }
    Ok(out)
}

/// Whether `text` is one JSON value (numbers are checked for syntax only).
fn is_json(text: &str) -> bool {
    serde_json::from_str::<IgnoredAny>(text).is_ok()
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// End of the JSON value starting at `i` in valid JSON text.
fn value_end(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = string_end(s, i);
                if depth == 0 {
                    return i;
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return i;
                }
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b',' | b':' if depth == 0 => return i,
            c if c.is_ascii_whitespace() && depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    i
}

/// Index just past the string literal starting at `i` (the quote is
/// found with `str::find`, which uses memchr: strings are most of the text).
fn string_end(s: &str, i: usize) -> usize {
    let b = s.as_bytes();
    let mut from = i + 1;
    while let Some(q) = s.get(from..).and_then(|rest| rest.find('"')) {
        let q = from + q;
        // The quote is escaped when an odd number of backslashes precede it.
        let backslashes = b[from..q].iter().rev().take_while(|&&c| c == b'\\').count();
        if backslashes % 2 == 0 {
            return q + 1;
        }
        from = q + 1;
    }
    b.len()
}

/// Valid JSON text without whitespace outside strings.
fn compact(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let end = string_end(text, i);
            out.push_str(&text[i..end]);
            i = end;
        } else {
            let start = i;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            out.extend(text[start..i].chars().filter(|c| !c.is_ascii_whitespace()));
        }
    }
    out
}

/// The raw text of the top-level `"id"` of a valid JSON object, if any.
fn event_id(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let mut i = skip_ws(b, 0) + 1;
    loop {
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b'}') | None => return None,
            Some(b',') => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let key_end = string_end(line, i);
        let key = &line[i..key_end];
        i = skip_ws(b, skip_ws(b, key_end) + 1);
        let end = value_end(line, i);
        let is_id = key == "\"id\""
            || (key.contains('\\') && serde_json::from_str::<String>(key).is_ok_and(|k| k == "id"));
        if is_id {
            return Some(&line[i..end]);
        }
        i = end;
    }
}

fn match_stream(rules: &Path, events: &Path, explain: bool) -> Result<ExitCode, Failure> {
    let rules = load_rules(rules)?;
    let patterns: Vec<Pattern> = if explain {
        rules.iter().map(|(_, p)| p.clone()).collect()
    } else {
        Vec::new()
    };
    let names: Vec<String> = rules
        .iter()
        .map(|(n, _)| serde_json::Value::from(n.as_str()).to_string())
        .collect();
    let set = RuleSet::new(rules);
    // Rule names as JSON strings, by name, for the output lines.
    let quoted: std::collections::HashMap<&str, &str> =
        set.names().zip(names.iter().map(String::as_str)).collect();

    let input: Box<dyn Read> = if events.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(fs::File::open(events).map_err(|e| {
            Failure::Message(format!("cannot read events {}: {e}", events.display()))
        })?)
    };
    let mut input = BufReader::with_capacity(1 << 16, input);
    let label = if events.as_os_str() == "-" {
        "stdin".to_string()
    } else {
        events.display().to_string()
    };
    let stdout = io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 16, stdout);
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    let mut skipped = 0u64;
    loop {
        buf.clear();
        // Flush before a read that may block, so that a live stream
        // (`tail -f … | flowc pattern match … --events -`) sees its results.
        if input.buffer().is_empty() {
            if let Err(e) = out.flush() {
                return write_failed(e);
            }
        }
        let n = input.read_until(b'\n', &mut buf).map_err(|e| {
            Failure::Message(format!("cannot read events {}: {e}", events.display()))
        })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let Ok(line) = std::str::from_utf8(&buf) else {
            eprintln!("{label}:{line_no}: skipped: not valid UTF-8");
            skipped += 1;
            continue;
        };
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if !line.starts_with('{') {
            eprintln!("{label}:{line_no}: skipped: an event must be a JSON object");
            skipped += 1;
            continue;
        }
        let matches = match set.matching_json(line) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("{label}:{line_no}: skipped: {e}");
                skipped += 1;
                continue;
            }
        };
        let written = write_result(&mut out, line_no, event_id(line), &matches, &quoted)
            .and_then(|()| {
                if explain {
                    write_explain(&mut out, line, &matches, &patterns, &set, &names)
                } else {
                    Ok(())
                }
            })
            .and_then(|()| out.write_all(b"}\n"));
        if let Err(e) = written {
            return write_failed(e);
        }
    }
    if let Err(e) = out.flush() {
        return write_failed(e);
    }
    if skipped > 0 {
        eprintln!("{skipped} malformed line(s) skipped");
    }
    Ok(ExitCode::SUCCESS)
}

fn write_result(
    out: &mut impl Write,
    line_no: u64,
    id: Option<&str>,
    matches: &[&str],
    quoted: &std::collections::HashMap<&str, &str>,
) -> io::Result<()> {
    write!(
        out,
        "{{\"line\":{line_no},\"id\":{},\"matches\":[",
        id.unwrap_or("null")
    )?;
    for (i, name) in matches.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(quoted.get(name).copied().unwrap_or("\"?\"").as_bytes())?;
    }
    out.write_all(b"]")
}

/// `,"explain":{"rule":"why",...}` for the rules that did not match.
fn write_explain(
    out: &mut impl Write,
    line: &str,
    matches: &[&str],
    patterns: &[Pattern],
    set: &RuleSet,
    quoted: &[String],
) -> io::Result<()> {
    out.write_all(b",\"explain\":{")?;
    let mut first = true;
    for ((name, pattern), q) in set.names().zip(patterns).zip(quoted) {
        if matches.contains(&name) {
            continue;
        }
        let why = match pattern.explain_json(line) {
            Ok(Some(m)) => m.to_string(),
            Ok(None) | Err(_) => continue,
        };
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        write!(out, "{q}:{}", serde_json::Value::from(why))?;
    }
    out.write_all(b"}")
}

/// A closed stdout (`| head`) ends the run quietly; other errors are reported.
fn write_failed(e: io::Error) -> Result<ExitCode, Failure> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Failure::Message(format!("cannot write output: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_rules_in_file_order_keeping_number_text() {
        let text = r#" { "b" : {"n": [ 9007199254740993 ]},
            "a\"x": { "s": ["a b", {"prefix": "}"}] } } "#;
        let rules = split_rules(text).expect("valid");
        assert_eq!(
            rules,
            vec![
                ("b".to_string(), r#"{"n":[9007199254740993]}"#.to_string()),
                (
                    "a\"x".to_string(),
                    r#"{"s":["a b",{"prefix":"}"}]}"#.to_string()
                ),
            ]
        );
        assert!(split_rules("[1]").is_err());
        assert!(split_rules("{").is_err());
        assert_eq!(split_rules("{}").expect("valid"), vec![]);
    }

    #[test]
    fn finds_top_level_id() {
        assert_eq!(event_id(r#"{"a":{"id":1},"id":"x-1"}"#), Some("\"x-1\""));
        assert_eq!(event_id(r#"{ "id" : 42 , "b": []}"#), Some("42"));
        assert_eq!(event_id(r#"{"\u0069d":"y"}"#), Some("\"y\""));
        assert_eq!(event_id(r#"{"detail":{"id":"z"}}"#), None);
        assert_eq!(event_id("{}"), None);
        assert_eq!(
            event_id(r#"{"a":"x\\\"}\\","b":["]",{"id":1}],"id":"q\\"}"#),
            Some(r#""q\\""#)
        );
    }
}
