//! The formatter behind `flowc fmt`: `.flow` text → the same file in the
//! canonical style of docs/format.md.
//!
//! Input: the text of one file. Output: the formatted text, or the syntax
//! diagnostics when the file does not parse (nothing is formatted then).
//! The structure comes from the AST; comments, which the AST does not keep,
//! are collected from the text (`comments.rs`) and re-attached to the item
//! that follows them or trails on the same line; literals are copied from
//! the source byte for byte. `tree.rs` builds the layout, `doc.rs` prints it.
//!
//! **Invariant:** formatting never changes meaning and never loses text. The
//! result is checked before it is returned: it must parse to the same tree
//! (spans aside), hold the same comments in the same order and the same
//! tokens; otherwise the file is reported (E000) and left alone.
//! **Invariant:** `format(format(x)) == format(x)`.

mod comments;
mod doc;
mod tree;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::SourceFile;
use crate::syntax::ast;
use crate::syntax::parse_file;
use crate::syntax::span::{FileId, Span};

/// Formats the text of one `.flow` file.
pub fn format_source(text: &str) -> Result<String, Vec<Diagnostic>> {
    format_file(FileId(0), &SourceFile::new("input.flow", text))
}

/// Formats one file of a source set; diagnostics carry `id`.
pub fn format_file(id: FileId, file: &SourceFile) -> Result<String, Vec<Diagnostic>> {
    let (ast, diagnostics) = parse_file(id, file);
    let errors: Vec<Diagnostic> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
    let Some(ast) = ast else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let text = &file.text;
    let formatted = tree::format_file(text, &ast);
    match verify(text, &ast, &formatted) {
        Ok(()) => Ok(formatted),
        Err(what) => {
            let whole = Span::new(id, 0..text.len().min(1));
            Err(vec![Diagnostic::new(
                Code::InternalError,
                format!("the formatter would {what}; the file was left unchanged"),
            )
            .primary(whole, "in this file")
            .help(
                "this is a bug in flowc fmt: please report it with the file",
            )])
        }
    }
}

/// Checks that `formatted` means what `original` meant and keeps all of its
/// text: same tree, same comments, same tokens.
fn verify(original: &str, ast: &ast::File, formatted: &str) -> Result<(), &'static str> {
    let reparsed = parse_file(ast.file, &SourceFile::new("formatted.flow", formatted));
    let Some(new_ast) = reparsed.0 else {
        return Err("produce text that does not parse");
    };
    if reparsed.1.iter().any(Diagnostic::is_error) {
        return Err("produce text that does not parse");
    }
    if strip_spans(&format!("{ast:?}")) != strip_spans(&format!("{new_ast:?}")) {
        return Err("change the meaning of the file");
    }
    let before = comments::scan(original);
    let after = comments::scan(formatted);
    let texts = |c: &[comments::Comment]| c.iter().map(|c| c.text.clone()).collect::<Vec<_>>();
    if texts(&before) != texts(&after) {
        return Err("lose or reorder comments");
    }
    let mut a = tokens(original, &before);
    let mut b = tokens(formatted, &after);
    a.sort_unstable();
    b.sort_unstable();
    if a != b {
        return Err("drop text");
    }
    Ok(())
}

/// Removes every `Span { … }` from a debug rendering.
fn strip_spans(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(at) = rest.find("Span { file: ") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match rest.find(" }") {
            Some(end) => rest = &rest[end + 2..],
            None => break,
        }
    }
    out.push_str(rest);
    out
}

/// The tokens of a file outside comments, as a list: words (names,
/// numbers, durations, paths), whole strings, and single punctuation marks
/// except commas and parentheses (which the style adds and removes).
fn tokens<'a>(src: &'a str, comments: &[comments::Comment]) -> Vec<&'a str> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut next_comment = comments.iter().peekable();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(c) = next_comment.peek() {
            if c.range.start == i {
                i = c.range.end;
                next_comment.next();
                continue;
            }
        }
        let b = bytes[i];
        let start = i;
        if bytes[i..].starts_with(b"\"\"\"") {
            i = comments::skip_triple(bytes, i + 3);
        } else if b == b'"' {
            i = comments::skip_simple(bytes, i + 1);
        } else if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
            {
                i += 1;
            }
        } else {
            i += src[i..].chars().next().map_or(1, char::len_utf8);
            if b.is_ascii_whitespace() || matches!(b, b',' | b'(' | b')') || b >= 0x80 {
                continue;
            }
        }
        if let Some(token) = src.get(start..i) {
            out.push(token);
        }
    }
    out
}

#[cfg(test)]
mod tests;
