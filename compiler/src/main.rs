//! The `flowc` command line: argument parsing, file IO and rendering. All
//! compiler logic lives in the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use flowc::diagnostic::render::{render_json, render_text, TextStyle};
use flowc::{SourceFile, SourceSet};

#[derive(Parser)]
#[command(
    name = "flowc",
    version,
    about = "Compiler for .flow event-flow projects"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and type-check projects; print diagnostics.
    Check {
        /// Project directories (every `.flow` file below) or single files.
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
        /// Output format of the diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Exit with status 1 on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// Colour in human output.
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Check a project and write template, rules, schemas and graph.json.
    Build {
        /// The project directory (or a single file).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Output directory.
        #[arg(short, long, default_value = "build")]
        out: PathBuf,
        /// Template format.
        #[arg(long, value_enum, default_value_t = TemplateFormatArg::Json)]
        format: TemplateFormatArg,
        /// Colour in human output.
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum TemplateFormatArg {
    Json,
    Yaml,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
            color,
        } => check(&paths, format, deny_warnings, color),
        Command::Build {
            path,
            out,
            format,
            color,
        } => build(&path, &out, format, color),
    }
}

fn text_style(color: Color) -> TextStyle {
    TextStyle {
        color: match color {
            Color::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
            Color::Always => true,
            Color::Never => false,
        },
        unicode: true,
        width: 100,
    }
}

fn build(path: &Path, out: &Path, format: TemplateFormatArg, color: Color) -> ExitCode {
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
    for (rel, text) in outputs {
        let target = out.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, text)?;
    }
    Ok(())
}

fn check(paths: &[PathBuf], format: Format, deny_warnings: bool, color: Color) -> ExitCode {
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

/// Reads a project: a single file, or every `.flow` file below a directory
/// (sorted, so that diagnostics come in a stable order).
fn load_project(path: &Path) -> Result<SourceSet, String> {
    let mut files = Vec::new();
    if path.is_dir() {
        collect_flow_files(path, &mut files)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if files.is_empty() {
            return Err(format!("no .flow files in {}", path.display()));
        }
    } else if path.exists() {
        files.push(path.to_path_buf());
    } else {
        return Err(format!("{}: no such file or directory", path.display()));
    }
    files.sort();
    let mut sources = SourceSet::new();
    for file in files {
        let bytes =
            std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let shown = file.strip_prefix(path).unwrap_or(&file);
        let shown = if shown.as_os_str().is_empty() {
            &file
        } else {
            shown
        };
        sources.add(SourceFile::from_bytes(shown.display().to_string(), bytes));
    }
    Ok(sources)
}

fn collect_flow_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden || path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if path.is_dir() {
            collect_flow_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "flow") {
            out.push(path);
        }
    }
    Ok(())
}
