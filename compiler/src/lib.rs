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
    let Some(model) = checked.model else {
        return Err(checked.diagnostics);
    };
    let template = codegen::cfn::emit_template(&model, sources);
    let quota = stack_quotas(&model, template.resources.len());
    if !quota.is_empty() {
        let mut all = checked.diagnostics;
        all.0.extend(quota);
        return Err(all);
    }
    Ok((
        codegen::emit_all_with(&model, sources, format, &template),
        checked.diagnostics,
    ))
}

/// CloudFormation's per-stack quotas: they depend on the generated template,
/// so they are checked here, after `check` and before writing anything.
fn stack_quotas(model: &check::model::Model, resources: usize) -> Vec<Diagnostic> {
    let anchor = model
        .nodes
        .values()
        .map(|n| n.span)
        .min()
        .or_else(|| model.events.values().map(|e| e.span).min());
    let mut out = Vec::new();
    if resources > codegen::MAX_STACK_RESOURCES {
        let mut d = Diagnostic::new(
            Code::TooManyResources,
            format!(
                "the template has {} resources; a CloudFormation stack holds at most {}",
                resources,
                codegen::MAX_STACK_RESOURCES
            ),
        )
        .help(
            "every node costs about eight resources (function, role, log group, queue, \
             permissions); split the project into several stacks",
        );
        if let Some(span) = anchor {
            d = d.primary(
                span,
                format!(
                    "this project's {} nodes and {} routes need them",
                    model.nodes.len(),
                    model.routes.len()
                ),
            );
        }
        out.push(d);
    }
    out
}
