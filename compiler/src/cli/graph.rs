//! `flowc graph`: the event graph of a checked project as Mermaid, Graphviz
//! dot, or SVG (through `dot -Tsvg`, when Graphviz is installed).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use clap::{Args, ValueEnum};
use flowc::diagnostic::render::render_text;
use flowc::picture::Picture;

use super::project::load_project;
use super::{text_style, Color};

#[derive(Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
    Svg,
}

#[derive(Args)]
pub struct GraphArgs {
    /// The project directory (or a single file).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    format: GraphFormat,
    /// Draw only the path of this flow.
    #[arg(long)]
    flow: Option<String>,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

pub fn graph(args: &GraphArgs) -> ExitCode {
    let sources = match load_project(&args.path) {
        Ok(sources) => sources,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let checked = flowc::check(&sources, &flowc::CheckOptions::for_path(&args.path));
    let Some(model) = checked.model else {
        let style = text_style(args.color);
        for d in checked.diagnostics.iter() {
            eprint!("{}", render_text(d, &sources, style));
        }
        eprintln!("error: the project has errors; no graph drawn");
        return ExitCode::from(1);
    };
    let picture = match Picture::of(&model, args.flow.as_deref()) {
        Ok(picture) => picture,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let text = match args.format {
        GraphFormat::Mermaid => picture.to_mermaid(),
        GraphFormat::Dot => picture.to_dot(),
        GraphFormat::Svg => match svg(&picture.to_dot()) {
            Ok(svg) => svg,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        },
    };
    print!("{text}");
    ExitCode::SUCCESS
}

/// Runs Graphviz `dot -Tsvg` on the dot text.
fn svg(dot: &str) -> Result<String, String> {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot run Graphviz `dot` ({e}); install Graphviz (e.g. `apt-get install graphviz`) or use --format dot")
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| format!("cannot write to `dot`: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("`dot` failed: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`dot` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|_| "`dot` wrote invalid UTF-8".to_string())
}
