#![allow(clippy::unwrap_used)]

use super::format_source;

fn fmt(text: &str) -> String {
    let once = format_source(text).unwrap_or_else(|d| panic!("{d:?}"));
    let twice = format_source(&once).unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(once, twice, "not idempotent");
    once
}

#[test]
fn node_parameters_are_aligned() {
    let text = "filter F = dedupe(A){key data.k\nwindow 5m emit B}";
    assert_eq!(
        fmt(text),
        "filter F = dedupe(A) {\n  key    data.k\n  window 5m\n  emit   B\n}\n"
    );
}

#[test]
fn comments_are_kept() {
    let text = "// head\nevent E { // after brace\n  data { a: string, // trailing\n b: int }\n /* end */ }\n// tail\n";
    let out = fmt(text);
    for c in [
        "// head",
        "// after brace",
        "// trailing",
        "/* end */",
        "// tail",
    ] {
        assert!(out.contains(c), "{c} missing in\n{out}");
    }
}

#[test]
fn conditions_keep_their_tree() {
    let text = "route A -> B when (a == 1 or b == 2) and not c exists and ((d == 1 and e == 2))";
    assert_eq!(
        fmt(text),
        "route A -> B\n  when (a == 1 or b == 2) and not (c exists) and (d == 1 and e == 2)\n"
    );
}

#[test]
fn long_conditions_break_at_the_top_operator() {
    let text = format!(
        "route A -> B when data.first_field == \"{}\" or data.second_field starts_with \"x\"",
        "v".repeat(60)
    );
    let out = fmt(&text);
    assert!(out.contains("\n    or data.second_field"), "{out}");
}

#[test]
fn strings_are_kept_byte_for_byte() {
    let text = "sink S = s3(E) { template \"\"\"\n  a  \\\"b\n\"\"\" key \"x\\ty\" }";
    let app = format!("app A {{ {text} }}");
    let out = fmt(&app);
    assert!(out.contains("\"\"\"\n  a  \\\"b\n\"\"\""), "{out}");
    assert!(out.contains("\"x\\ty\""), "{out}");
}

#[test]
fn a_file_that_does_not_parse_is_refused() {
    assert!(format_source("event {").is_err());
}

#[test]
fn triggers_without_empty_lines_form_a_table() {
    let text = "trigger A = sdk -> E\ntrigger Long = sdk -> E\n\ntrigger C = sdk -> E";
    assert_eq!(
        fmt(text),
        "trigger A    = sdk -> E\ntrigger Long = sdk -> E\n\ntrigger C = sdk -> E\n"
    );
}
