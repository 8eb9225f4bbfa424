//! Comments of a `.flow` file. The AST has none, so the formatter collects
//! them from the text: every `// …` and `/* … */` (nested) outside string
//! literals, with its byte range. The printer hands them out in source order
//! through a cursor, so each comment is printed exactly once.

use std::ops::Range;

/// One comment as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Comment {
    pub range: Range<usize>,
    /// The text: a line comment without its line break and trailing spaces,
    /// a block comment byte for byte.
    pub text: String,
}

/// Scans `src` for comments, skipping simple and triple-quoted strings.
/// The text is assumed to have parsed; an unterminated construct simply
/// runs to the end.
pub(super) fn scan(src: &str) -> Vec<Comment> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\"\"\"") {
            i = skip_triple(bytes, i + 3);
        } else if bytes[i] == b'"' {
            i = skip_simple(bytes, i + 1);
        } else if bytes[i..].starts_with(b"//") {
            let end = src[i..].find('\n').map_or(src.len(), |n| i + n);
            out.push(Comment {
                range: i..end,
                text: src[i..end].trim_end().to_string(),
            });
            i = end;
        } else if bytes[i..].starts_with(b"/*") {
            let end = skip_block(bytes, i);
            out.push(Comment {
                range: i..end,
                text: src[i..end].to_string(),
            });
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

pub(super) fn skip_simple(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' | b'\n' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

pub(super) fn skip_triple(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\"\"\"") {
            return i + 3;
        }
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    bytes.len()
}

fn skip_block(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if bytes[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// The comments of a file with a cursor: everything before the cursor has
/// been printed.
pub(super) struct Comments<'a> {
    src: &'a str,
    all: Vec<Comment>,
    next: usize,
}

impl<'a> Comments<'a> {
    pub fn new(src: &'a str) -> Self {
        Comments {
            src,
            all: scan(src),
            next: 0,
        }
    }

    /// Takes every unprinted comment that starts before `pos`.
    pub fn take_before(&mut self, pos: usize) -> Vec<Comment> {
        let start = self.next;
        while self.next < self.all.len() && self.all[self.next].range.start < pos {
            self.next += 1;
        }
        self.all[start..self.next].to_vec()
    }

    /// Takes the comments that trail `end` on the same line: only spaces
    /// and commas between them.
    pub fn take_trailing(&mut self, mut end: usize) -> Vec<Comment> {
        let mut out = Vec::new();
        while let Some(c) = self.all.get(self.next) {
            let Some(gap) = self.src.get(end..c.range.start) else {
                break;
            };
            if !gap.chars().all(|ch| ch == ' ' || ch == '\t' || ch == ',') {
                break;
            }
            end = c.range.end;
            out.push(c.clone());
            self.next += 1;
        }
        out
    }

    /// Whether an unprinted comment starts inside `range`.
    pub fn any_in(&self, range: Range<usize>) -> bool {
        self.all[self.next..]
            .iter()
            .take_while(|c| c.range.start < range.end)
            .any(|c| c.range.start >= range.start)
    }

    /// The position of the first `ch` at or after `pos` outside comments.
    pub fn find_forward(&self, mut pos: usize, ch: u8) -> Option<usize> {
        let bytes = self.src.as_bytes();
        while pos < bytes.len() {
            if let Ok(i) = self.all.binary_search_by_key(&pos, |c| c.range.start) {
                pos = self.all[i].range.end;
                continue;
            }
            if bytes[pos] == ch {
                return Some(pos);
            }
            pos += 1;
        }
        None
    }

    /// Whether the text between two positions is only whitespace (and
    /// commas) holding an empty line.
    pub fn blank_between(&self, from: usize, to: usize) -> bool {
        let Some(gap) = self.src.get(from..to) else {
            return false;
        };
        gap.chars().all(|c| c.is_whitespace() || c == ',')
            && gap.chars().filter(|&c| c == '\n').count() >= 2
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn comments_outside_strings_only() {
        let src = "a \"// no\" /* x /* y */ z */ b // c  \n\"\"\"/* no */\"\"\" // d";
        let texts: Vec<String> = scan(src).into_iter().map(|c| c.text).collect();
        assert_eq!(texts, ["/* x /* y */ z */", "// c", "// d"]);
    }

    #[test]
    fn escaped_quotes_do_not_end_strings() {
        let src = r#"x "a\"// b" // c"#;
        let texts: Vec<String> = scan(src).into_iter().map(|c| c.text).collect();
        assert_eq!(texts, ["// c"]);
    }
}
