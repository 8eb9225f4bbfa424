//! `flowc test PATH`: runs the project's `test` blocks on the local engine,
//! in the style of `cargo test`.

use std::path::PathBuf;
use std::process::ExitCode;

use flow_runtime::local::testing::{run_test, Outcome};

use super::run::{compile_graph, project_dir};
use super::Color;

/// `flowc test` arguments.
#[derive(clap::Args)]
pub struct TestArgs {
    /// The project directory (or a single file).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Run only tests whose name contains this text.
    pub filter: Option<String>,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

pub fn test(args: &TestArgs) -> ExitCode {
    let (path, filter, color) = (args.path.as_path(), args.filter.as_deref(), args.color);
    let graph = match compile_graph(path, color) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let dir = project_dir(path);
    let tests: Vec<_> = graph
        .tests
        .iter()
        .filter(|t| filter.is_none_or(|f| t.name.contains(f)))
        .collect();
    let filtered = graph.tests.len() - tests.len();
    println!("\nrunning {} test(s)", tests.len());
    let mut failed: Vec<Outcome> = Vec::new();
    let mut passed = 0;
    for t in tests {
        let outcome = run_test(&graph, t, &dir);
        if outcome.passed() {
            println!("test {} ... ok", t.name);
            passed += 1;
        } else {
            println!("test {} ... FAILED", t.name);
            failed.push(outcome);
        }
    }
    if !failed.is_empty() {
        println!("\nfailures:");
        for o in &failed {
            println!("\n---- {} ----", o.name);
            for f in &o.failures {
                println!(
                    "{}:{}:{}: {}",
                    dir.join(&f.span.file).display(),
                    f.span.line,
                    f.span.column,
                    f.message
                );
            }
            if !o.notes.is_empty() {
                println!("while running:");
                for n in &o.notes {
                    println!("  {n}");
                }
            }
            if !o.emitted.is_empty() {
                println!("emitted:");
                for (name, e) in &o.emitted {
                    println!("  {name} {}", e["detail"]);
                }
            }
        }
        println!("\nfailures:");
        for o in &failed {
            println!("    {}", o.name);
        }
    }
    println!(
        "\ntest result: {}. {passed} passed; {} failed; {filtered} filtered out\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
