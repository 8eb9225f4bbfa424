//! `flowc build`: check, then write template, rules, schemas and graph.json.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use flowc::diagnostic::render::render_text;

use super::project::load_project;
use super::{text_style, Color, TemplateFormatArg};

/// Check a project and write template, rules, schemas and graph.json.
#[derive(clap::Args)]
pub struct BuildArgs {
    /// The project directory (or a single file).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Output directory.
    #[arg(short, long, default_value = "build")]
    pub out: PathBuf,
    /// Template format.
    #[arg(long, value_enum, default_value_t = TemplateFormatArg::Json)]
    pub format: TemplateFormatArg,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

impl BuildArgs {
    pub fn run(&self) -> ExitCode {
        build(&self.path, &self.out, self.format, self.color)
    }
}

pub fn build(path: &Path, out: &Path, format: TemplateFormatArg, color: Color) -> ExitCode {
    let sources = match load_project(path) {
        Ok(sources) => sources,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let format = match format {
        TemplateFormatArg::Json => flowc::codegen::TemplateFormat::Json,
        TemplateFormatArg::Yaml => flowc::codegen::TemplateFormat::Yaml,
    };
    let style = text_style(color);
    let result = flowc::build(&sources, &flowc::CheckOptions::for_path(path), format);
    let (outputs, diagnostics) = match result {
        Ok(ok) => ok,
        Err(diagnostics) => {
            for d in diagnostics.iter() {
                eprint!("{}", render_text(d, &sources, style));
            }
            eprintln!("build failed: {} error(s)", diagnostics.error_count());
            return ExitCode::from(1);
        }
    };
    for d in diagnostics.iter() {
        eprint!("{}", render_text(d, &sources, style));
    }
    match write_outputs(out, &outputs) {
        Ok(()) => {
            eprintln!("wrote {} file(s) to {}", outputs.len(), out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", out.display());
            ExitCode::from(2)
        }
    }
}

/// Writes generated files; the generated subdirectories are emptied first so
/// that a removed route leaves no stale rule file behind.
fn write_outputs(out: &Path, outputs: &flowc::codegen::Outputs) -> std::io::Result<()> {
    for sub in ["rules", "schemas"] {
        let dir = out.join(sub);
        if dir.is_dir() {
            std::fs::remove_dir_all(&dir)?;
        }
    }
    // A template in the other format would be stale.
    for stale in ["template.json", "template.yaml"] {
        let file = out.join(stale);
        if file.is_file() && !outputs.contains_key(stale) {
            std::fs::remove_file(file)?;
        }
    }
    for (rel, text) in outputs {
        let target = out.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, text)?;
    }
    Ok(())
}
