//! Build fixtures: `tests/fixtures/build/*.flow` check clean but break a
//! quota of the generated CloudFormation stack, so `flowc::build` (not
//! `flowc::check`) must refuse them with the codes their `// expect:` header
//! lists. Snapshots: `tests/snapshots/quotas@<name>.snap` (diagnostics only;
//! the sources are long and generated).

use std::path::Path;

use flowc::check::Checked;
use flowc::codegen::TemplateFormat;
use flowc_tests::fixture::{verify, Fixture, Outcome, SNAPSHOT_STYLE};

fn run(path: &Path) {
    let fixture = Fixture::load(path)
        .expect("readable fixture")
        .expect("a .flow fixture");
    let sources = fixture.sources();
    let checked = flowc::check(&sources, &fixture.options());
    assert!(
        !checked.diagnostics.has_errors(),
        "{}: a build fixture must check clean: {:?}",
        path.display(),
        checked.diagnostics
    );
    let diagnostics = match flowc::build(&sources, &fixture.options(), TemplateFormat::Json) {
        Ok(_) => panic!(
            "{}: build succeeded, a quota should have stopped it",
            path.display()
        ),
        Err(d) => d,
    };
    let expected = fixture.expected().expect("a valid header");
    if let Err(problems) = verify(Outcome::Fails, expected.as_ref(), &diagnostics) {
        panic!("{}: {}", path.display(), problems.join("; "));
    }
    let checked = Checked {
        model: None,
        diagnostics,
    };
    let mut text = String::new();
    for d in checked.diagnostics.iter() {
        text.push_str(&flowc::diagnostic::render::render_text(
            d,
            &sources,
            SNAPSHOT_STYLE,
        ));
        text.push('\n');
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_suffix(fixture.name.clone());
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("quotas", text));
}

#[test]
fn quotas() {
    insta::glob!("../fixtures/build", "*.flow", run);
}
