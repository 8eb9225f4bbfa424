//! `flowc lsp`: the language server over stdio (see docs/editors.md). The
//! server is `flowc::lsp`; this only starts it.

use std::process::ExitCode;

use clap::Args;

/// Run the language server over stdin/stdout (for editors).
#[derive(Args)]
pub struct LspArgs {
    /// Accepted for clients that pass it (stdio is the only transport).
    #[arg(long)]
    stdio: bool,
}

#[cfg(not(feature = "lsp"))]
pub fn lsp(_: &LspArgs) -> ExitCode {
    eprintln!("error: this flowc was built without the `lsp` feature");
    ExitCode::from(2)
}

#[cfg(feature = "lsp")]
pub fn lsp(args: &LspArgs) -> ExitCode {
    let _ = args.stdio;
    match flowc::lsp::run_stdio() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: cannot start the language server: {err}");
            ExitCode::from(2)
        }
    }
}
