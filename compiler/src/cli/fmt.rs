//! `flowc fmt`: rewrites `.flow` files in the canonical style (see
//! docs/format.md), or with `--check` names the files that would change.
//! A file that does not parse is left alone and its diagnostics printed.
//! Files are replaced atomically (a temporary file next to them, renamed).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use flowc::diagnostic::render::render_text;
use flowc::SourceSet;

use super::project::load_project;
use super::{text_style, Color};

/// The editor-tooling subcommands, flattened into `flowc`'s list (this
/// keeps main.rs short).
#[derive(Subcommand)]
pub enum ToolCommand {
    /// Format `.flow` files in the canonical style (docs/format.md).
    Fmt(FmtArgs),
    /// Draw a checked project's event graph (Mermaid, dot or SVG).
    Graph(super::graph::GraphArgs),
}

impl ToolCommand {
    pub fn run(&self) -> ExitCode {
        match self {
            ToolCommand::Fmt(args) => fmt(args),
            ToolCommand::Graph(args) => super::graph::graph(args),
        }
    }
}

#[derive(Args)]
pub struct FmtArgs {
    /// Project directories (every `.flow` file below) or single files.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Change nothing; exit with status 1 and name the files that would change.
    #[arg(long)]
    check: bool,
    /// Colour in diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

pub fn fmt(args: &FmtArgs) -> ExitCode {
    let style = text_style(args.color);
    let mut failed = false;
    let mut changed = 0usize;
    for path in &args.paths {
        let sources = match load_project(path) {
            Ok(sources) => sources,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        };
        for (_, file) in sources.iter() {
            let real = if path.is_dir() {
                path.join(&file.path)
            } else {
                path.clone()
            };
            let mut one = SourceSet::new();
            let id = one.add(file.clone());
            let formatted = match flowc::format::format_file(id, file) {
                Ok(text) => text,
                Err(diagnostics) => {
                    let mut err = std::io::stderr().lock();
                    for d in &diagnostics {
                        let _ = write!(err, "{}", render_text(d, &one, style));
                    }
                    let _ = writeln!(err, "{}: not formatted", real.display());
                    failed = true;
                    continue;
                }
            };
            if formatted == file.text {
                continue;
            }
            changed += 1;
            if args.check {
                println!("{}", real.display());
                failed = true;
            } else if let Err(e) = write_atomically(&real, &formatted) {
                eprintln!("error: cannot write {}: {e}", real.display());
                return ExitCode::from(2);
            }
        }
    }
    if !args.check && changed > 0 {
        eprintln!("formatted {changed} file(s)");
    }
    ExitCode::from(u8::from(failed))
}

/// Writes `text` to a temporary file in the same directory, with the
/// permissions of the original, and renames it over `path`.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.fmt-{}.tmp", std::process::id()));
    let result = (|| {
        std::fs::write(&tmp, text)?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
