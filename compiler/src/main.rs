//! The `flowc` command line: argument parsing and dispatch. Each subcommand
//! lives in `cli/`; all compiler logic lives in the library.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cli::{Color, Format, TemplateFormatArg};

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
    /// Validate EventBridge patterns and match events against them.
    Pattern {
        #[command(subcommand)]
        command: cli::pattern::PatternCommand,
    },
    /// Run a project's graph in-process over a stream of events.
    Run(cli::run::RunArgs),
    /// Run a project's `test` blocks on the local engine.
    Test(cli::test::TestArgs),
    #[command(flatten)]
    Tools(cli::fmt::ToolCommand),
    /// Serve the Event Store API and ingest over the local engine.
    Serve(cli::serve::ServeArgs),
    /// Register a project's events, routes and flows in an Event Store.
    Publish(cli::publish::PublishArgs),
    Lsp(cli::lsp::LspArgs),
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
        } => cli::check::check(&paths, format, deny_warnings, color),
        Command::Build {
            path,
            out,
            format,
            color,
        } => cli::build::build(&path, &out, format, color),
        Command::Pattern { command } => cli::pattern::run(command),
        Command::Run(args) => cli::run::run(&args),
        Command::Test(args) => cli::test::test(&args),
        Command::Tools(command) => command.run(),
        Command::Serve(args) => cli::serve::serve(&args),
        Command::Publish(args) => cli::publish::publish(&args),
        Command::Lsp(args) => cli::lsp::lsp(&args),
    }
}
