//! Syntax: text → AST. `parse_file` runs the pest parser and lowers its
//! pairs; nothing outside this module sees pest.

pub mod ast;
mod lower;
pub(crate) mod parser;
pub mod span;

pub use lower::MAX_DURATION_MS;
pub use parser::MAX_NESTING;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::SourceFile;
use span::{FileId, Span};

/// Parses one file. Returns the AST when the file parsed (possibly with
/// literal errors in the diagnostics), or only diagnostics.
pub fn parse_file(id: FileId, file: &SourceFile) -> (Option<ast::File>, Vec<Diagnostic>) {
    if let Some(at) = file.invalid_utf8_at {
        // `text` is a lossy copy where the invalid bytes became U+FFFD, so
        // the label covers that whole character (a span on char boundaries).
        let len = file
            .text
            .get(at..)
            .and_then(|rest| rest.chars().next())
            .map_or(0, char::len_utf8);
        let d = Diagnostic::new(Code::InvalidEncoding, "file is not valid UTF-8")
            .primary(Span::new(id, at..at + len), "invalid byte here")
            .help("save the file as UTF-8");
        return (None, vec![d]);
    }
    match parser::parse_pairs(id, &file.text) {
        Ok(pair) => {
            let mut lowerer = lower::Lowerer::new(id);
            let ast = lowerer.lower_file(pair);
            (Some(ast), lowerer.diagnostics)
        }
        Err(d) => (None, vec![d]),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> (Option<ast::File>, Vec<Diagnostic>) {
        parse_file(FileId(0), &SourceFile::new("t.flow", text))
    }

    #[test]
    fn keywords_need_a_word_boundary() {
        let (ast, d) = parse("route A -> B when notes exists and order == 1 or android == 2");
        assert!(d.is_empty(), "{d:?}");
        let Some(ast::Decl::Route(route)) = ast.unwrap().decls.into_iter().next() else {
            panic!("expected a route");
        };
        let Some(ast::Condition::Or(parts, _)) = route.when else {
            panic!("expected `or` at the top");
        };
        let ast::Condition::And(left, _) = &parts[0] else {
            panic!("expected `and` on the left");
        };
        let ast::Condition::Compare(first) = &left[0] else {
            panic!("expected a comparison");
        };
        assert_eq!(first.path.dotted(), "notes");
        assert_eq!(first.op.node, ast::CompareOp::Exists);
    }

    #[test]
    fn spans_exclude_trailing_whitespace() {
        let text = "event E { data { a: string   } }";
        let (ast, _) = parse(text);
        let Some(ast::Decl::Event(e)) = ast.unwrap().decls.into_iter().next() else {
            panic!("expected an event");
        };
        let ty = &e.records[0].ty.fields[0].ty;
        assert_eq!(&text[ty.span.range()], "string");
    }

    #[test]
    fn bad_escape_is_reported_at_the_escape() {
        let text = r#"event E { source "a\qb" }"#;
        let (_, d) = parse(text);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::InvalidEscape);
        assert_eq!(&text[d[0].primary_span().unwrap().range()], "\\q");
    }

    #[test]
    fn spans_exclude_trailing_comments() {
        let text = "filter F = counter(E) {\n  key profile.a // the key\n  every 10 events /* why */\n  emit X\n}\n";
        let (ast, d) = parse(text);
        assert!(d.is_empty(), "{d:?}");
        let Some(ast::Decl::Node(n)) = ast.unwrap().decls.into_iter().next() else {
            panic!("expected a node");
        };
        assert_eq!(&text[n.params[0].span.range()], "key profile.a");
        assert_eq!(&text[n.params[1].span.range()], "every 10 events");
    }

    #[test]
    fn repeated_settings_are_reported() {
        let (_, d) = parse("event E { source \"a\" source \"b\" }\ntrigger T = s3 \"bkt\" prefix \"a/\" prefix \"b/\" -> E");
        let codes: Vec<Code> = d.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec![Code::DuplicateEntry, Code::DuplicateEntry]);
    }
}
