//! `flowc fmt`: idempotence and meaning preservation over every example and
//! every valid fixture, whitespace-perturbed examples formatting to the same
//! text (proptest), snapshots of the formatted examples, and the CLI's exit
//! paths (`--check`, files that do not parse, atomic rewrite).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flowc::codegen::TemplateFormat;
use flowc::{format_source, CheckOptions, SourceFile, SourceSet};
use proptest::prelude::*;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Every `.flow` file below `dir`, sorted, as (path relative to dir, text).
fn flow_files(dir: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "flow") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    if dir.is_dir() {
        walk(dir, &mut paths);
    } else {
        paths.push(dir.to_path_buf());
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p
                .strip_prefix(dir)
                .ok()
                .filter(|n| !n.as_os_str().is_empty())
                .unwrap_or(&p)
                .display()
                .to_string();
            (name, std::fs::read_to_string(&p).expect("read flow file"))
        })
        .collect()
}

/// The examples and valid fixtures: each a project (directory or file).
fn projects() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["examples", "tests/fixtures/valid", "tests/fixtures/codegen"] {
        let Ok(entries) = std::fs::read_dir(root().join(dir)) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "flow"))
            .collect();
        found.sort();
        out.extend(found);
    }
    assert!(out.len() > 3, "no projects found");
    out
}

fn fmt(text: &str, what: &str) -> String {
    format_source(text).unwrap_or_else(|d| panic!("{what} does not format: {d:?}"))
}

/// What a project compiles to, without source positions: graph.json with
/// every source reference removed, the rules and the schemas.
fn compiled(path: &Path, files: &[(String, String)]) -> Vec<(String, Value)> {
    let mut sources = SourceSet::new();
    for (name, text) in files {
        sources.add(SourceFile::new(name.clone(), text.clone()));
    }
    let options = CheckOptions::for_path(path);
    let (outputs, _) = flowc::build(&sources, &options, TemplateFormat::Json)
        .unwrap_or_else(|d| panic!("{} does not build: {d:?}", path.display()));
    outputs
        .into_iter()
        .filter(|(name, _)| name != "template.json")
        .map(|(name, text)| {
            let mut value: Value = serde_json::from_str(&text).expect("json output");
            strip_positions(&mut value);
            (name, value)
        })
        .collect()
}

fn strip_positions(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !(v.get("offset").is_some() && v.get("line").is_some()));
            map.values_mut().for_each(strip_positions);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_positions),
        _ => {}
    }
}

#[test]
fn formatting_is_idempotent_and_keeps_the_meaning() {
    for project in projects() {
        let files = flow_files(&project);
        let formatted: Vec<(String, String)> = files
            .iter()
            .map(|(name, text)| {
                let once = fmt(text, name);
                let twice = fmt(&once, name);
                assert_eq!(once, twice, "{}/{name}: not idempotent", project.display());
                (name.clone(), once)
            })
            .collect();
        assert_eq!(
            compiled(&project, &files),
            compiled(&project, &formatted),
            "{}: formatting changed the compiled graph",
            project.display()
        );
    }
}

#[test]
fn formatted_examples() {
    for example in ["knowledge-base", "productivity-coach", "timecard"] {
        let mut text = String::new();
        for (name, source) in flow_files(&root().join("examples").join(example)) {
            text += &format!("=== {name}\n{}", fmt(&source, &name));
        }
        insta::assert_snapshot!(format!("fmt_{example}"), text);
    }
}

/// Widens the whitespace between tokens without creating or removing an
/// empty line, and without touching the whitespace around comments (which
/// decides whether a comment trails a line). `choices` picks, per gap,
/// nothing, extra spaces, or a line break with indentation.
fn perturb(src: &str, choices: &[u8]) -> String {
    let bytes = src.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut gap = 0;
    while i < bytes.len() {
        let rest = &src[i..];
        let token_end = if let Some(inner) = rest.strip_prefix("\"\"\"") {
            3 + inner.find("\"\"\"").map_or(inner.len(), |n| n + 3)
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() && rest.as_bytes()[j] != b'"' {
                j += if rest.as_bytes()[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(rest.len())
        } else if rest.starts_with("//") {
            rest.find('\n').unwrap_or(rest.len())
        } else if rest.starts_with("/*") {
            block_comment_len(rest)
        } else if bytes[i].is_ascii_whitespace() {
            let len = rest
                .find(|c: char| !c.is_ascii_whitespace())
                .unwrap_or(rest.len());
            let ws = &rest[..len];
            let after = &rest[len..];
            let before_comment = after.starts_with("//") || after.starts_with("/*");
            let after_comment = out.trim_end_matches([' ', '\t']).ends_with("*/")
                || out.lines().last().is_some_and(|l| l.contains("//"));
            let choice = choices
                .get(gap % choices.len().max(1))
                .copied()
                .unwrap_or(0);
            gap += 1;
            out.push_str(ws);
            if !before_comment && !after_comment && !after.is_empty() {
                match choice % 3 {
                    1 => out.push_str("   "),
                    2 if !ws.contains('\n') => out.push_str("\n      "),
                    2 => out.push_str("\t "),
                    _ => {}
                }
            }
            i += len;
            continue;
        } else {
            rest.chars().next().map_or(1, char::len_utf8)
        };
        out.push_str(&rest[..token_end]);
        i += token_end;
    }
    out
}

fn block_comment_len(text: &str) -> usize {
    let mut depth = 0;
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with("/*") {
            depth += 1;
            i += 2;
        } else if text[i..].starts_with("*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    text.len()
}

fn example_files() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for example in ["knowledge-base", "productivity-coach", "timecard"] {
        out.extend(flow_files(&root().join("examples").join(example)));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
    #[test]
    fn perturbed_whitespace_formats_the_same(choices in proptest::collection::vec(0u8..3, 1..64)) {
        for (name, text) in example_files() {
            let perturbed = perturb(&text, &choices);
            let expected = fmt(&text, &name);
            let got = fmt(&perturbed, &name);
            prop_assert_eq!(got, expected, "{} perturbed:\n{}", name, perturbed);
        }
    }
}

// ------------------------------------------------------------------ CLI

fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli_fmt_{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn flowc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run flowc")
}

const UGLY: &str = "event  E{data{a:string}}\n// keep me\nroute   E->N when data.a==\"x\"\nfilter N=dedupe(E){key data.a window 1m emit F}\n";

#[test]
fn check_names_the_files_that_would_change() {
    let dir = temp_dir("check");
    std::fs::write(dir.join("ugly.flow"), UGLY).expect("write");
    std::fs::write(dir.join("fine.flow"), fmt(UGLY, "ugly")).expect("write");
    let out = flowc(&dir, &["fmt", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ugly.flow"), "{stdout}");
    assert!(!stdout.contains("fine.flow"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.join("ugly.flow")).expect("read"),
        UGLY
    );
}

#[test]
fn fmt_rewrites_the_current_project_and_then_has_nothing_to_do() {
    let dir = temp_dir("rewrite");
    std::fs::create_dir_all(dir.join("sub")).expect("mkdir");
    std::fs::write(dir.join("sub/ugly.flow"), UGLY).expect("write");
    let out = flowc(&dir, &["fmt"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = std::fs::read_to_string(dir.join("sub/ugly.flow")).expect("read");
    assert_eq!(text, fmt(UGLY, "ugly"));
    assert!(text.contains("// keep me"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("sub"))
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "temporary files left: {leftovers:?}");
    let again = flowc(&dir, &["fmt", "--check", "sub/ugly.flow"]);
    assert_eq!(again.status.code(), Some(0), "{again:?}");
}

#[test]
fn a_file_that_does_not_parse_is_not_touched() {
    let dir = temp_dir("broken");
    let broken = "event E {\n  data { a: string \n";
    std::fs::write(dir.join("broken.flow"), broken).expect("write");
    std::fs::write(dir.join("ugly.flow"), UGLY).expect("write");
    let out = flowc(&dir, &["fmt", "."]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("E001"), "{stderr}");
    assert!(stderr.contains("broken.flow"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.join("broken.flow")).expect("read"),
        broken
    );
    // The other file is formatted all the same.
    assert_eq!(
        std::fs::read_to_string(dir.join("ugly.flow")).expect("read"),
        fmt(UGLY, "ugly")
    );
}

#[test]
fn perturbation_changes_the_text_but_not_the_result() {
    for (name, text) in example_files() {
        let perturbed = perturb(&text, &[2, 1]);
        assert_ne!(perturbed, text, "{name}: nothing perturbed");
        assert_eq!(fmt(&perturbed, &name), fmt(&text, &name), "{name}");
    }
}

// ------------------------------------------------------------------ editor support

/// Every `match`/`begin`/`end` regex of the TextMate grammar.
fn grammar_regexes(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("match" | "begin" | "end", Value::String(re)) => out.push(re.clone()),
                    _ => grammar_regexes(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| grammar_regexes(v, out)),
        _ => {}
    }
}

#[test]
fn the_textmate_grammar_is_valid_and_wired_into_the_extension() {
    let text =
        std::fs::read_to_string(root().join("grammar/flow.tmLanguage.json")).expect("read grammar");
    let grammar: Value = serde_json::from_str(&text).expect("grammar is JSON");
    assert_eq!(grammar["scopeName"], "source.flow");
    let mut regexes = Vec::new();
    grammar_regexes(&grammar, &mut regexes);
    assert!(regexes.len() > 20, "{regexes:?}");
    for re in &regexes {
        // The grammar keeps to the common subset of Oniguruma and `regex`.
        regex::Regex::new(re).unwrap_or_else(|e| panic!("{re}: {e}"));
    }
    let duration = regexes
        .iter()
        .find(|r| r.contains("ms|s|m|h|d"))
        .expect("a duration rule");
    let duration = regex::Regex::new(duration).expect("duration regex");
    assert!(duration.is_match("every 90s"));
    assert!(!duration.is_match("every 90sec"));

    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("editors/vscode/package.json")).expect("read"),
    )
    .expect("package.json is JSON");
    let contributes = &manifest["contributes"];
    assert_eq!(contributes["languages"][0]["extensions"][0], ".flow");
    let grammar_path = contributes["grammars"][0]["path"]
        .as_str()
        .expect("grammar path");
    assert!(root().join("editors/vscode").join(grammar_path).exists());
    assert!(manifest["dependencies"]["vscode-languageclient"].is_string());
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("editors/vscode/language-configuration.json"))
            .expect("read"),
    )
    .expect("language-configuration.json is JSON");
    assert_eq!(config["comments"]["lineComment"], "//");
}
