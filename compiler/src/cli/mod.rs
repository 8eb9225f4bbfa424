//! The subcommands of `flowc`, one module each. They read and write files
//! and render; all compiler logic is in the library.

pub mod build;
pub mod check;
#[cfg(feature = "deploy")]
pub mod deploy;
pub mod fmt;
pub mod graph;
pub mod index;
pub mod lsp;
pub mod pattern;
pub mod project;
pub mod publish;
pub mod query;
pub mod run;
pub mod serve;
pub mod test;
pub mod views;

use std::io::IsTerminal;

use clap::ValueEnum;
use flowc::diagnostic::render::TextStyle;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TemplateFormatArg {
    Json,
    Yaml,
}

/// Human output style: colour only on a terminal (and never with NO_COLOR).
pub fn text_style(color: Color) -> TextStyle {
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
