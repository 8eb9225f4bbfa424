//! `flowc check`: diagnostics for humans (miette) or editors (JSON lines).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use flowc::diagnostic::render::{render_json, render_text};

use super::project::load_project;
use super::{text_style, Color, Format};

/// Parse and type-check projects; print diagnostics.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Project directories (every `.flow` file below) or single files.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format of the diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit with status 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

impl CheckArgs {
    pub fn run(&self) -> ExitCode {
        check(&self.paths, self.format, self.deny_warnings, self.color)
    }
}

pub fn check(paths: &[PathBuf], format: Format, deny_warnings: bool, color: Color) -> ExitCode {
    let style = text_style(color);
    let mut failed = false;
    for path in paths {
        let sources = match load_project(path) {
            Ok(sources) => sources,
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(2);
            }
        };
        let checked = flowc::check(&sources, &flowc::CheckOptions::for_path(path));
        let diagnostics = &checked.diagnostics;
        match format {
            Format::Json => {
                let mut out = std::io::stdout().lock();
                for d in diagnostics.iter() {
                    let _ = writeln!(out, "{}", render_json(d, &sources));
                }
            }
            Format::Human => {
                let mut err = std::io::stderr().lock();
                for d in diagnostics.iter() {
                    let _ = write!(err, "{}", render_text(d, &sources, style));
                }
                let _ = writeln!(
                    err,
                    "{}: {} file(s), {} error(s), {} warning(s)",
                    path.display(),
                    sources.len(),
                    diagnostics.error_count(),
                    diagnostics.warning_count()
                );
            }
        }
        failed |= diagnostics.has_errors() || (deny_warnings && diagnostics.warning_count() > 0);
    }
    ExitCode::from(u8::from(failed))
}
