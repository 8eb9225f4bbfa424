//! Parsing with recovery, for editors. The parser stops at the first
//! syntax error; an editor still wants the symbols of the rest of the file.
//! `parse_recovering` blanks out the top-level declaration that holds the
//! error (spaces, newlines kept, so every span stays where it was) and
//! parses again, a bounded number of times.
//!
//! Input: one source file. Output: the AST of the declarations that parse.
//! Invariant: spans in the result are spans of the original text.

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;
use crate::syntax::{self, ast, span::FileId};

/// Keywords that open a top-level declaration.
pub const TOP_LEVEL: [&str; 9] = [
    "event",
    "trigger",
    "filter",
    "transformer",
    "view",
    "route",
    "flow",
    "app",
    "test",
];

/// At most this many declarations are blanked before giving up.
const MAX_ATTEMPTS: usize = 16;

/// Parses `file`; when it does not parse, parses it again without the
/// declarations that hold syntax errors.
pub fn parse_recovering(id: FileId, file: &SourceFile) -> Option<ast::File> {
    let (ast, diagnostics) = syntax::parse_file(id, file);
    match ast {
        Some(ast) => Some(ast),
        None => recover(id, file, &diagnostics),
    }
}

/// The declarations of `file` that parse, given the diagnostics of its
/// failed parse.
pub fn recover(id: FileId, file: &SourceFile, diagnostics: &[Diagnostic]) -> Option<ast::File> {
    if file.invalid_utf8_at.is_some() {
        return None;
    }
    let mut text = file.text.clone().into_bytes();
    let mut at = diagnostics.first().and_then(|d| d.primary_span())?.start as usize;
    // A missing `}` is reported where the parser gives up, further down:
    // first blank every declaration whose brackets do not balance.
    let starts = declaration_starts(&file.text);
    for (i, &from) in starts.iter().enumerate() {
        let to = starts.get(i + 1).copied().unwrap_or(text.len());
        if !balanced(&file.text[from..to]) {
            blank(&mut text[from..to]);
        }
    }
    for _ in 0..MAX_ATTEMPTS {
        let as_str = String::from_utf8_lossy(&text).into_owned();
        let starts = declaration_starts(&as_str);
        let (mut from, mut to) = chunk_around(&starts, at, text.len());
        // A chunk blanked before cannot hold the error: blame the one
        // before it (a missing `}` shows up only further down).
        while is_blank(&text[from..to]) {
            let previous = starts.iter().rposition(|&s| s < from)?;
            to = from;
            from = starts[previous];
        }
        blank(&mut text[from..to]);
        let blanked = SourceFile::new(file.path.clone(), String::from_utf8_lossy(&text));
        let (ast, diagnostics) = syntax::parse_file(id, &blanked);
        if ast.is_some() {
            return ast;
        }
        at = diagnostics.first().and_then(|d| d.primary_span())?.start as usize;
    }
    None
}

fn blank(bytes: &mut [u8]) {
    for byte in bytes {
        if *byte != b'\n' {
            *byte = b' ';
        }
    }
}

/// Whether `{}` and `()` outside strings and comments balance.
fn balanced(text: &str) -> bool {
    let mut depth = 0i64;
    for token in super::complete::tokenize(text) {
        match token.text.as_str() {
            "{" | "(" => depth += 1,
            "}" | ")" => depth -= 1,
            _ => {}
        }
    }
    depth == 0
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Byte offsets of the lines that start (in column 0) with a top-level
/// keyword followed by a space or the end of the line.
pub fn declaration_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if starts_declaration(line) {
            starts.push(line_start);
        }
        line_start += line.len();
    }
    starts
}

fn starts_declaration(line: &str) -> bool {
    TOP_LEVEL.iter().any(|kw| {
        line.strip_prefix(kw)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
    })
}

/// The declaration around byte `at`: from the last start at or before it to
/// the next start. An error right at a start is
/// usually the previous declaration's fault (a missing `}`), so that one is
/// taken.
fn chunk_around(starts: &[usize], at: usize, len: usize) -> (usize, usize) {
    let at = at.min(len);
    let index = match starts.iter().rposition(|&s| s <= at) {
        None => return (0, starts.first().copied().unwrap_or(len)),
        Some(i) if i > 0 && starts[i] == at => i - 1,
        Some(i) => i,
    };
    let from = starts[index];
    let to = starts.get(index + 1).copied().unwrap_or(len);
    (from, to)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn names(text: &str) -> Vec<String> {
        let file = SourceFile::new("t.flow", text);
        let ast = parse_recovering(FileId(0), &file).unwrap();
        ast.decls
            .iter()
            .map(|d| match d {
                ast::Decl::Event(e) => e.name.node.clone(),
                ast::Decl::Node(n) => n.name.node.clone(),
                other => format!("{:?}", other.span()),
            })
            .collect()
    }

    #[test]
    fn keeps_the_declarations_that_parse() {
        let text = "event A { data { x: int } }\n\
                    filter F = counter(A) { key data. }\n\
                    event B { data { y: string } }\n";
        assert_eq!(names(text), ["A", "B"]);
    }

    #[test]
    fn spans_stay_in_place() {
        let text = "event A { data { x: int }\nevent B { data { y: é } }\nevent C {}\n";
        let file = SourceFile::new("t.flow", text);
        let ast = parse_recovering(FileId(0), &file).unwrap();
        let last = ast.decls.last().unwrap();
        let ast::Decl::Event(c) = last else {
            panic!("expected an event")
        };
        assert_eq!(&text[c.name.span.range()], "C");
    }

    #[test]
    fn hopeless_text_gives_no_declarations() {
        let file = SourceFile::new("t.flow", "}}}");
        let ast = parse_recovering(FileId(0), &file);
        assert!(ast.is_none_or(|ast| ast.decls.is_empty()));
    }
}
