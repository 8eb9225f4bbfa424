//! Meta test: every diagnostic code is documented and tested. Each `Code`
//! in `flowc::Code::ALL` needs
//!
//! - a section in `docs/diagnostics.md`: a Markdown heading that contains
//!   the code (`## E013 unknown field`), and
//! - at least one fixture under `tests/fixtures/` (outside `fixme/`) whose
//!   `// expect:` header lists it. E000 (internal compiler error) is exempt:
//!   a fixture for it would be a compiler bug.

use std::collections::BTreeSet;

use flowc::Code;
use flowc_tests::fixture::{flow_files_under, parse_expect_header};

/// The codes named in the Markdown headings of `text`.
fn documented_codes(text: &str) -> BTreeSet<Code> {
    text.lines()
        .filter(|line| line.trim_start().starts_with('#'))
        .flat_map(|line| {
            line.split(|c: char| !c.is_ascii_alphanumeric())
                .filter_map(flowc_tests::fixture::code_from_str)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_code_has_a_doc_section() {
    let path = flowc_tests::workspace_root().join("docs/diagnostics.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let documented = documented_codes(&text);
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !documented.contains(c))
        .map(|c| c.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "docs/diagnostics.md has no heading for {}",
        missing.join(", ")
    );
}

#[test]
fn every_code_has_a_fixture() {
    let root = flowc_tests::workspace_root().join("tests/fixtures");
    let mut covered = BTreeSet::new();
    let files = flow_files_under(&root).unwrap_or_else(|e| panic!("cannot list fixtures: {e}"));
    for path in files {
        let relative = path.strip_prefix(&root).unwrap_or(&path);
        if relative.starts_with("fixme") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match parse_expect_header(&String::from_utf8_lossy(&bytes)) {
            Ok(codes) => covered.extend(codes.unwrap_or_default()),
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| **c != Code::InternalError && !covered.contains(c))
        .map(|c| c.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "no fixture lists {} in its `// expect:` header",
        missing.join(", ")
    );
}

#[test]
fn headings_are_found() {
    let text =
        "# Diagnostics\n\n## E013 unknown field\ntext E014\n### `W001`: event nobody consumes\n";
    let codes: Vec<Code> = documented_codes(text).into_iter().collect();
    assert_eq!(codes, vec![Code::UnknownField, Code::UnconsumedEvent]);
}
