//! Fixture-driven snapshot tests. Every file `tests/fixtures/<kind>/*.flow`
//! and every directory `tests/fixtures/<kind>/*/` (a multi-file project) is
//! checked; its diagnostics are rendered and compared with
//! `tests/snapshots/<kind>@<name>.snap`.
//!
//! The folder sets the expectation: `syntax/` and `check/` must produce an
//! error, `valid/` must not. An `// expect: E021, W001` first line is
//! asserted too (see `flowc_tests::fixture`). A fixture that breaks its
//! expectations fails without writing a snapshot, so `INSTA_UPDATE=always`
//! cannot accept a wrong one.
//!
//! Update snapshots with `INSTA_UPDATE=always cargo test --workspace --test
//! fixtures` (or `cargo insta review`), then read every changed `.snap`.

use std::path::Path;
use std::sync::Mutex;

use flowc_tests::fixture::{snapshot, verify, Fixture, Outcome};

/// Checks one fixture path found by `insta::glob!`; expectation failures are
/// collected so that one broken fixture does not hide the others.
fn run_fixture(kind: &str, outcome: Outcome, path: &Path, failures: &Mutex<Vec<String>>) {
    let fail = |message: String| {
        if let Ok(mut f) = failures.lock() {
            f.push(format!("{kind}/{}: {message}", display_name(path)));
        }
    };
    let fixture = match Fixture::load(path) {
        Ok(Some(fixture)) => fixture,
        Ok(None) => return,
        Err(e) => return fail(format!("cannot read: {e}")),
    };
    let expected = match fixture.expected() {
        Ok(expected) => expected,
        Err(e) => return fail(e),
    };
    let (sources, checked) = fixture.check();
    if let Err(problems) = verify(outcome, expected.as_ref(), &checked.diagnostics) {
        let codes: Vec<&str> = checked
            .diagnostics
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        return fail(format!(
            "{} (diagnostics: [{}])",
            problems.join("; "),
            codes.join(", ")
        ));
    }
    let content = snapshot(&fixture, &sources, &checked);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    // Name snapshots after the fixture alone, whatever else the glob found.
    settings.set_snapshot_suffix(fixture.name.clone());
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(kind, content));
}

fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn finish(failures: Mutex<Vec<String>>) {
    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    assert!(
        failures.is_empty(),
        "{} fixture(s) broke their expectations:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

#[test]
fn syntax() {
    let failures = Mutex::new(Vec::new());
    insta::glob!("../fixtures/syntax", "?*", |path| {
        run_fixture("syntax", Outcome::Fails, path, &failures)
    });
    finish(failures);
}

#[test]
fn check() {
    // The folder is filled as the checker lands; an absent or empty one is
    // fine.
    let failures = Mutex::new(Vec::new());
    let mut settings = insta::Settings::clone_current();
    settings.set_allow_empty_glob(true);
    settings.bind(|| {
        insta::glob!("../fixtures/check", "?*", |path| {
            run_fixture("check", Outcome::Fails, path, &failures)
        });
    });
    finish(failures);
}

#[test]
fn valid() {
    let failures = Mutex::new(Vec::new());
    insta::glob!("../fixtures/valid", "?*", |path| {
        run_fixture("valid", Outcome::Passes, path, &failures)
    });
    finish(failures);
}
