//! The `flowc` command line: argument parsing and dispatch. Each subcommand
//! lives in `cli/`; all compiler logic lives in the library.

mod cli;
#[cfg(feature = "deploy")]
mod deploy;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    Check(cli::check::CheckArgs),
    Build(cli::build::BuildArgs),
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
    /// Search the documents an app stored locally (full text, ranked).
    Query(cli::query::QueryArgs),
    /// Register a project's events, routes and flows in an Event Store.
    Publish(cli::publish::PublishArgs),
    /// Serve the Language Server Protocol over stdio (for editors).
    Lsp(cli::lsp::LspArgs),
    /// Deploy a project to AWS with a CloudFormation change set.
    #[cfg(feature = "deploy")]
    Deploy(cli::deploy::DeployArgs),
    /// Show the change set and semantic plan of a deploy without applying it.
    #[cfg(feature = "deploy")]
    Plan(cli::deploy::PlanArgs),
    /// Show a deployed stack: state, outputs, last events.
    #[cfg(feature = "deploy")]
    Status(cli::deploy::StatusArgs),
    /// Delete a deployed stack.
    #[cfg(feature = "deploy")]
    Destroy(cli::deploy::DestroyArgs),
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
        Command::Check(args) => args.run(),
        Command::Build(args) => args.run(),
        Command::Pattern { command } => cli::pattern::run(command),
        Command::Run(args) => cli::run::run(&args),
        Command::Test(args) => cli::test::test(&args),
        Command::Tools(command) => command.run(),
        Command::Serve(args) => cli::serve::serve(&args),
        Command::Publish(args) => cli::publish::publish(&args),
        Command::Query(args) => cli::query::query(&args),
        Command::Lsp(args) => cli::lsp::lsp(&args),
        #[cfg(feature = "deploy")]
        Command::Deploy(args) => cli::deploy::deploy(&args),
        #[cfg(feature = "deploy")]
        Command::Plan(args) => cli::deploy::plan(&args),
        #[cfg(feature = "deploy")]
        Command::Status(args) => cli::deploy::status(&args),
        #[cfg(feature = "deploy")]
        Command::Destroy(args) => cli::deploy::destroy(&args),
    }
}
