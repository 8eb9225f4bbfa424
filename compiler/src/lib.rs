//! flowc: the compiler of the `.flow` language.
//!
//! The pipeline is `syntax` (text → AST) → `check` (names, types, graph →
//! a checked model) → backends. The library does no IO: callers hand in a
//! [`SourceSet`] and get data and diagnostics back.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod diagnostic;
pub mod source;
pub mod syntax;

pub use diagnostic::{Code, Diagnostic, Diagnostics, Severity};
pub use source::{SourceFile, SourceSet};
pub mod check;

pub use check::{check, CheckOptions, Checked};
pub mod codegen;
pub mod format;
pub mod picture;

pub use format::format_source;

pub mod analysis;
#[cfg(feature = "lsp")]
pub mod lsp;

/// Checks a project and, when it has no errors, generates every artifact.
/// Warnings come back with the outputs; errors instead of them.
pub fn build(
    sources: &SourceSet,
    options: &CheckOptions,
    format: codegen::TemplateFormat,
) -> Result<(codegen::Outputs, Diagnostics), Diagnostics> {
    let checked = check(sources, options);
    match checked.model {
        Some(model) => Ok((
            codegen::emit_all(&model, sources, format),
            checked.diagnostics,
        )),
        None => Err(checked.diagnostics),
    }
}
