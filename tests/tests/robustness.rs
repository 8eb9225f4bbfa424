//! Robustness: `flowc::check` must never panic, whatever it is fed, and
//! every diagnostic it returns must point inside its file and render.
//!
//! Property tests feed random bytes, random text, token soup built from the
//! grammar's words and punctuation, and mutations (deletions, duplications,
//! swaps, insertions) of every `.flow` file under `examples/` and
//! `tests/fixtures/`. They run with a fixed seed and a fixed number of cases
//! so that CI is deterministic; fuzz longer with, for example,
//! `PROPTEST_CASES=20000 PROPTEST_RNG_SEED=7 cargo test --workspace --test robustness`.
//!
//! Deterministic tests cover the extremes: a 2 MB file, 10,000 nested
//! brackets of every kind, invalid UTF-8, empty and comment-only files.

#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use flowc::diagnostic::render::{render_json, render_text, TextStyle};
use flowc::{CheckOptions, Checked, Code, Severity, SourceFile, SourceSet};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

// ---------------------------------------------------------------- invariants

/// Checks a project and asserts the invariants; returns the result.
fn check_sound(sources: &SourceSet) -> Checked {
    let checked = flowc::check(sources, &CheckOptions::default());
    if let Err(e) = soundness(sources, &checked) {
        panic!("{e}");
    }
    checked
}

/// Every label lies inside its file on character boundaries, no diagnostic
/// is an internal error, and every diagnostic renders as text and JSON.
fn soundness(sources: &SourceSet, checked: &Checked) -> Result<(), String> {
    for d in checked.diagnostics.iter() {
        if d.severity == Severity::Bug {
            return Err(format!("internal error reported: {d:?}"));
        }
        for label in &d.labels {
            let file = sources
                .get(label.span.file)
                .ok_or_else(|| format!("label in unknown file: {d:?}"))?;
            let (start, end) = (label.span.start as usize, label.span.end as usize);
            let text = &file.text;
            if start > end || end > text.len() {
                return Err(format!(
                    "span {start}..{end} outside {} ({} bytes): {d:?}",
                    file.path,
                    text.len()
                ));
            }
            if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                return Err(format!(
                    "span {start}..{end} not on char boundaries of {}: {d:?}",
                    file.path
                ));
            }
        }
        for style in [
            TextStyle {
                color: false,
                unicode: true,
                width: 80,
            },
            TextStyle {
                color: true,
                unicode: false,
                width: 20,
            },
        ] {
            let text = render_text(d, sources, style);
            if !text.contains(d.code.as_str()) {
                return Err(format!("rendered text lacks the code: {text}"));
            }
        }
        let json = render_json(d, sources);
        if json["code"] != d.code.as_str() {
            return Err(format!("rendered JSON lacks the code: {json}"));
        }
    }
    Ok(())
}

fn single(text: &str) -> SourceSet {
    SourceSet::single("input.flow", text)
}

fn from_bytes(bytes: &[u8]) -> SourceSet {
    let mut set = SourceSet::new();
    set.add(SourceFile::from_bytes("input.flow", bytes.to_vec()));
    set
}

fn codes(checked: &Checked) -> Vec<Code> {
    checked.diagnostics.iter().map(|d| d.code).collect()
}

// ---------------------------------------------------------------- proptest setup

/// A fixed seed and case count unless `PROPTEST_RNG_SEED` / `PROPTEST_CASES`
/// say otherwise; no regression files (the seed reproduces a failure).
fn config(cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0x0f10_c0de);
    }
    config.failure_persistence = None;
    config
}

/// Words and punctuation of `grammar/flow.pest`, plus a few names and
/// literals, as raw material for token soup.
const TOKENS: &[&str] = &[
    "event",
    "trigger",
    "filter",
    "transformer",
    "view",
    "route",
    "flow",
    "app",
    "test",
    "when",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "null",
    "exists",
    "starts_with",
    "ends_with",
    "matches",
    "cidr",
    "ignore_case",
    "events",
    "max_hops",
    "sink",
    "given",
    "expect",
    "advance",
    "at",
    "none",
    "state",
    "nodes",
    "flows",
    "source",
    "detail_type",
    "profile",
    "data",
    "application",
    "list",
    "sdk",
    "http",
    "s3",
    "prefix",
    "suffix",
    "every",
    "emit",
    "collect",
    "aggregate",
    "key",
    "window",
    "counter",
    "aggregator",
    "splitter",
    "combiner",
    "summarizer",
    "custom",
    "dynamodb",
    "webhook",
    "string",
    "int",
    "float",
    "timestamp",
    "object",
    "count",
    "sum",
    "Click",
    "Counter",
    "data.page",
    "profile.session_id",
    "A.data.x",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    "=",
    "==",
    "!=",
    "<=",
    ">=",
    "->",
    ",",
    ":",
    ".",
    "?",
    "|",
    "-",
    ";",
    "!",
    "&&",
    "'",
    "\"",
    "\"\"\"",
    "\"text\"",
    "\"a\\qb\"",
    "\"\\u{1F600}\"",
    "\"\\u{110000}\"",
    "\"{{data.x}}\"",
    "\"\"\"multi\nline\"\"\"",
    "0",
    "1",
    "42",
    "-7",
    "3.14",
    "1e999",
    "2.5e-3",
    "0s",
    "30s",
    "500ms",
    "15m",
    "2h",
    "1d",
    "400d",
    "99999999999999999999d",
    "5x",
    "//",
    "/*",
    "*/",
    "// comment\n",
    "/* c */",
    "\\",
    "\u{feff}",
    "é",
    "𝄞",
    "\u{0}",
    "\t",
    "\r\n",
];

fn token_soup() -> impl Strategy<Value = String> {
    let piece = (
        prop::sample::select(TOKENS),
        prop::sample::select(&[" ", "\n", ""][..]),
    );
    prop::collection::vec(piece, 0..200).prop_map(|pieces| {
        let mut out = String::new();
        for (token, gap) in pieces {
            out.push_str(token);
            out.push_str(gap);
        }
        out
    })
}

/// The bytes of every `.flow` file under `examples/` and `tests/fixtures/`.
fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = flowc_tests::workspace_root();
        let mut files = Vec::new();
        for dir in ["examples", "tests/fixtures"] {
            for path in flowc_tests::fixture::flow_files_under(&root.join(dir)).unwrap() {
                files.push(std::fs::read(path).unwrap());
            }
        }
        assert!(!files.is_empty(), "no .flow files found under {root:?}");
        files
    })
}

/// One edit of a byte string; positions are taken modulo the length.
#[derive(Clone, Debug)]
enum Mutation {
    Delete {
        at: usize,
        len: usize,
    },
    Duplicate {
        at: usize,
        len: usize,
    },
    Swap {
        a: usize,
        b: usize,
        len: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    InsertSlice {
        at: usize,
        file: usize,
        from: usize,
        len: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let pos = any::<usize>();
    prop_oneof![
        (pos, 1..64usize).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (pos, 1..64usize).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (pos, pos, 1..32usize).prop_map(|(a, b, len)| Mutation::Swap { a, b, len }),
        (pos, prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (pos, pos, pos, 1..256usize).prop_map(|(at, file, from, len)| Mutation::InsertSlice {
            at,
            file,
            from,
            len
        }),
    ]
}

fn apply(text: &mut Vec<u8>, m: &Mutation) {
    let n = text.len();
    let at = |p: usize| if n == 0 { 0 } else { p % (n + 1) };
    match m {
        Mutation::Delete { at: p, len } => {
            let s = at(*p);
            let e = (s + len).min(n);
            text.drain(s..e);
        }
        Mutation::Duplicate { at: p, len } => {
            let s = at(*p);
            let e = (s + len).min(n);
            let copy = text[s..e].to_vec();
            text.splice(e..e, copy);
        }
        Mutation::Swap { a, b, len } => {
            if n >= 2 * len {
                let a = a % (n - 2 * len + 1);
                let b = a + len + b % (n - a - 2 * len + 1);
                for i in 0..*len {
                    text.swap(a + i, b + i);
                }
            }
        }
        Mutation::Insert { at: p, bytes } => {
            let s = at(*p);
            text.splice(s..s, bytes.iter().copied());
        }
        Mutation::InsertSlice {
            at: p,
            file,
            from,
            len,
        } => {
            let corpus = corpus();
            let source = &corpus[file % corpus.len()];
            if !source.is_empty() {
                let f = from % source.len();
                let e = (f + len).min(source.len());
                let s = at(*p);
                text.splice(s..s, source[f..e].iter().copied());
            }
        }
    }
}

fn mutated_input() -> impl Strategy<Value = Vec<u8>> {
    (any::<usize>(), prop::collection::vec(mutation(), 1..8)).prop_map(|(file, mutations)| {
        let corpus = corpus();
        let mut text = corpus[file % corpus.len()].clone();
        for m in &mutations {
            apply(&mut text, m);
        }
        text
    })
}

proptest! {
    #![proptest_config(config(200))]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let sources = from_bytes(&bytes);
        let checked = flowc::check(&sources, &CheckOptions::default());
        prop_assert!(soundness(&sources, &checked).is_ok(), "{:?}", soundness(&sources, &checked));
    }

    #[test]
    fn random_text(text in any::<String>()) {
        let sources = single(&text);
        let checked = flowc::check(&sources, &CheckOptions::default());
        prop_assert!(soundness(&sources, &checked).is_ok(), "{:?}", soundness(&sources, &checked));
    }

    #[test]
    fn token_soups(text in token_soup()) {
        let sources = single(&text);
        let checked = flowc::check(&sources, &CheckOptions::default());
        prop_assert!(soundness(&sources, &checked).is_ok(), "{:?}", soundness(&sources, &checked));
    }
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn mutated_real_files(bytes in mutated_input()) {
        let sources = from_bytes(&bytes);
        let checked = flowc::check(&sources, &CheckOptions::default());
        prop_assert!(soundness(&sources, &checked).is_ok(), "{:?}", soundness(&sources, &checked));
    }

    /// A mutated file inside a valid multi-file project: the other files'
    /// diagnostics (unknown names, …) must stay sound too.
    #[test]
    fn mutated_file_in_a_project(bytes in mutated_input(), file in any::<usize>()) {
        let corpus = corpus();
        let mut sources = SourceSet::new();
        sources.add(SourceFile::from_bytes("a.flow", corpus[file % corpus.len()].clone()));
        sources.add(SourceFile::from_bytes("b.flow", bytes));
        let checked = flowc::check(&sources, &CheckOptions::default());
        prop_assert!(soundness(&sources, &checked).is_ok(), "{:?}", soundness(&sources, &checked));
    }
}

#[test]
fn real_files_are_sound() {
    for bytes in corpus() {
        check_sound(&from_bytes(bytes));
    }
}

// ---------------------------------------------------------------- extremes

#[test]
fn empty_file() {
    let checked = check_sound(&single(""));
    assert!(checked.diagnostics.is_empty(), "{:?}", codes(&checked));
}

#[test]
fn empty_project() {
    let checked = check_sound(&SourceSet::new());
    assert!(checked.diagnostics.is_empty(), "{:?}", codes(&checked));
}

#[test]
fn only_comments() {
    let text = "// a line comment\n/* a block\n   /* nested */ comment */\n//\n/**/\n\u{feff}  \n";
    let checked = check_sound(&single(text));
    assert!(checked.diagnostics.is_empty(), "{:?}", codes(&checked));
    let checked = check_sound(&single("// no newline at the end"));
    assert!(checked.diagnostics.is_empty(), "{:?}", codes(&checked));
}

#[test]
fn whitespace_only() {
    let checked = check_sound(&single(" \t\r\n\n   \r\n"));
    assert!(checked.diagnostics.is_empty(), "{:?}", codes(&checked));
}

#[test]
fn invalid_utf8_is_e004() {
    for bytes in [
        &b"\xff"[..],
        b"event E {\n  source \"caf\xe9\"\n}\n",
        b"event E { data { a: string } }\n\xc3",
        b"\xf0\x9f\x98",
        b"// \xed\xa0\x80 a surrogate\n",
    ] {
        let checked = check_sound(&from_bytes(bytes));
        assert_eq!(codes(&checked), vec![Code::InvalidEncoding], "{bytes:?}");
    }
}

#[test]
fn nul_and_control_bytes_are_e004() {
    for text in [
        "\0",
        "event E {}\0",
        "event E { source \"a\u{1}b\" }",
        "\u{7f}",
    ] {
        let checked = check_sound(&single(text));
        assert_eq!(codes(&checked), vec![Code::InvalidEncoding], "{text:?}");
    }
}

/// Two megabytes of valid declarations in one file.
#[test]
fn two_megabyte_file() {
    let mut declarations = 6_000;
    let project = loop {
        let project = flowc_tests::synth::project(declarations);
        if project.bytes >= 2 << 20 {
            break project;
        }
        declarations += 1_200;
    };
    let checked = check_sound(&single(&project.concatenated()));
    // A project this size breaks only the rules-per-bus limit (E042).
    assert_eq!(codes(&checked), project.expected_codes());
}

/// Chains that nest without brackets: `not not … x exists` and `list<`
/// hidden behind comments. They must fail cleanly, not overflow the stack.
#[test]
fn deep_nesting_without_brackets() {
    let depth = 10_000;
    let cases = [
        format!("route A -> B when {}data.x exists", "not ".repeat(depth)),
        format!(
            "event E {{ data {{ a: {} }} }}",
            nested("list/**/<", "int", ">", depth)
        ),
        format!(
            "/* \" */ route A -> B when {}",
            nested("(", "data.x == 1", ")", depth)
        ),
    ];
    for text in &cases {
        let checked = check_sound(&single(text));
        assert!(
            checked.diagnostics.has_errors(),
            "{}",
            &text[..60.min(text.len())]
        );
    }
}

/// Half a megabyte of one comment, one string, one line of garbage (half
/// a megabyte each keeps the test quick in debug builds).
#[test]
fn huge_tokens() {
    let big = "x".repeat(1 << 19);
    check_sound(&single(&format!("// {big}")));
    check_sound(&single(&format!("/* {big} */")));
    check_sound(&single(&format!("event E {{ source \"{big}\" }}")));
    check_sound(&single(&format!("event E {{ source \"\"\"{big}\"\"\" }}")));
    check_sound(&single(&format!("event E {{ source \"{big}")));
    check_sound(&single(&big));
    check_sound(&single(&"é".repeat(1 << 18)));
}

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

/// Deep nesting of every bracket is refused with E005, not by overflowing
/// the stack (tests run on threads with small stacks).
#[test]
fn ten_thousand_nested_brackets() {
    let depth = 10_000;
    let cases = [
        format!(
            "route A -> B when {}",
            nested("(", "data.x == 1", ")", depth)
        ),
        nested("(", "", ")", depth),
        nested("{", "", "}", depth),
        nested("[", "", "]", depth),
        format!("event E {{ data {} }}", nested("{ a: ", "int", " }", depth)),
        format!(
            "event E {{ data {{ a: {} }} }}",
            nested("list<", "int", ">", depth)
        ),
        format!(
            "test \"t\" {{ given E {} }}",
            nested("{ a: ", "1", " }", depth)
        ),
        format!(
            "test \"t\" {{ given E {{ a: {} }} }}",
            nested("[", "1", "]", depth)
        ),
        format!(
            "filter N = counter(E) {{ emit X {} }}",
            nested("{ a: ", "data.x", " }", depth)
        ),
        nested("/*", "", "*/", depth),
        "(".repeat(depth),
        "{".repeat(depth),
        "/*".repeat(depth),
    ];
    for text in &cases {
        let checked = check_sound(&single(text));
        assert_eq!(
            codes(&checked),
            vec![Code::NestingTooDeep],
            "{}",
            &text[..60.min(text.len())]
        );
    }
}

/// The deepest nesting flowc accepts must not overflow the stack either,
/// in the parser, the lowering or the checker.
#[test]
fn nesting_at_the_limit() {
    let depth = flowc::syntax::MAX_NESTING;
    let cases = [
        format!(
            "route A -> B when {}",
            nested("(", "data.x == 1", ")", depth)
        ),
        format!(
            "event E {{ data {} }}",
            nested("{ a: ", "int", " }", depth - 1)
        ),
        format!(
            "event E {{ data {{ a: {} }} }}",
            nested("list<", "int", ">", depth - 2)
        ),
        format!(
            "test \"t\" {{ given E {} }}",
            nested("{ a: ", "1", " }", depth - 1)
        ),
        nested("/*", "", "*/", depth),
    ];
    for text in &cases {
        let checked = check_sound(&single(text));
        assert!(
            !codes(&checked).contains(&Code::NestingTooDeep),
            "{}",
            &text[..60.min(text.len())]
        );
    }
}
