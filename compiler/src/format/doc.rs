//! Layout of formatted text. `tree.rs` turns declarations into [`Doc`]s;
//! the [`Printer`] lays them out line by line, decides which bracketed
//! lists fit on one line, aligns keys and trailing comments, and prints
//! every comment of the file exactly once (through `Comments`).
//!
//! Invariant: every layout decision depends only on the tokens and the
//! comments of the input, plus whether an empty line separated two items;
//! never on other whitespace. That is what makes formatting idempotent.

use std::ops::Range;

use super::comments::Comments;

/// Lines are kept within this many characters where the layout allows.
pub(super) const WIDTH: usize = 100;
const INDENT: usize = 2;

pub(super) enum Doc {
    /// Text without a line break (or a verbatim triple-quoted string).
    Text(String),
    Concat(Vec<Doc>),
    /// `{ a: 1, b: 2 }` or `[1, 2]`: on one line when it fits and holds no
    /// comment, otherwise one entry per line with a trailing comma.
    List(List),
    /// `{` statements `}`: one entry per line.
    Block(Block),
    /// `A, B, C`, filled to the width; continuation lines start under `A`.
    Names(Vec<String>),
}

impl Doc {
    pub fn text(s: impl Into<String>) -> Doc {
        Doc::Text(s.into())
    }
}

/// An entry of a list or block: `key value` (`key` includes a `:` in
/// lists), with the source range used to place comments.
pub(super) struct Entry {
    pub key: Option<String>,
    pub value: Doc,
    pub range: Range<usize>,
}

pub(super) struct List {
    pub open: &'static str,
    pub close: &'static str,
    pub entries: Vec<Entry>,
    /// From the opening bracket to just after the closing one.
    pub range: Range<usize>,
}

/// How the keys of a block are aligned.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    /// One space after each key.
    None,
    /// Values of consecutive entries start in one column.
    All,
    /// Like `All`, but a value that spans lines (`emit E { … }`) keeps one
    /// space and ends the run.
    Params,
}

pub(super) struct Block {
    pub entries: Vec<Entry>,
    /// From `{` to just after `}`.
    pub range: Range<usize>,
    pub align: Align,
}

struct Line {
    text: String,
    trailing: Vec<String>,
}

pub(super) struct Printer<'a> {
    pub comments: Comments<'a>,
    src: &'a str,
    lines: Vec<Line>,
    cur: String,
    trailing: Vec<String>,
    indent: usize,
}

impl<'a> Printer<'a> {
    pub fn new(src: &'a str) -> Self {
        Printer {
            comments: Comments::new(src),
            src,
            lines: Vec::new(),
            cur: String::new(),
            trailing: Vec::new(),
            indent: 0,
        }
    }

    pub fn src(&self) -> &'a str {
        self.src
    }

    /// The column of the end of the current line, in characters.
    pub fn col(&self) -> usize {
        let last = self.cur.rsplit('\n').next().unwrap_or_default();
        last.chars().count()
    }

    pub fn text(&mut self, s: &str) {
        self.cur.push_str(s);
    }

    /// Ends the current line and starts one indented by `indent`.
    pub fn newline(&mut self, indent: usize) {
        let text = std::mem::replace(&mut self.cur, " ".repeat(indent));
        let trailing = std::mem::take(&mut self.trailing);
        self.lines.push(Line { text, trailing });
        self.indent = indent;
    }

    /// An empty line before the current one (never two in a row).
    pub fn blank(&mut self) {
        if self.lines.last().is_some_and(|l| !l.text.trim().is_empty()) {
            self.lines.push(Line {
                text: String::new(),
                trailing: Vec::new(),
            });
        }
    }

    /// Prints the comments before `upto` on lines of their own, keeping one
    /// empty line where the source had one (when `allow_blank`), then the
    /// empty line before `start`. The current line must be empty. Returns
    /// the end of the last comment printed (or `prev`).
    pub fn leading(&mut self, upto: usize, start: usize, mut prev: usize, allow_blank: bool) {
        let indent = self.indent;
        let mut allow = allow_blank;
        for c in self.comments.take_before(upto) {
            if allow && self.comments.blank_between(prev, c.range.start) {
                self.blank();
            }
            self.text(&c.text);
            self.newline(indent);
            prev = c.range.end;
            allow = true;
        }
        if allow && self.comments.blank_between(prev, start) {
            self.blank();
        }
    }

    /// Attaches the comments trailing `end` to the current line; returns
    /// where they end.
    pub fn trailing(&mut self, end: usize) -> usize {
        let mut last = end;
        for c in self.comments.take_trailing(end) {
            last = c.range.end;
            self.trailing.push(c.text);
        }
        last
    }

    pub fn print(&mut self, doc: &Doc, tail: usize) {
        match doc {
            Doc::Text(s) => self.text(s),
            Doc::Concat(parts) => {
                for (i, part) in parts.iter().enumerate() {
                    let rest: usize = parts[i + 1..].iter().map(|d| self.flat_width(d)).sum();
                    self.print(part, tail + rest);
                }
            }
            Doc::List(list) => match self.flat(doc) {
                Some(flat) if self.col() + width(&flat) + tail <= WIDTH => self.text(&flat),
                _ => self.list(list),
            },
            Doc::Block(block) => self.block(block),
            Doc::Names(names) => self.names(names, tail),
        }
    }

    /// The one-line form of a doc, if it has one.
    fn flat(&self, doc: &Doc) -> Option<String> {
        match doc {
            Doc::Text(s) => (!s.contains('\n')).then(|| s.clone()),
            Doc::Concat(parts) => parts.iter().map(|d| self.flat(d)).collect(),
            Doc::List(list) => {
                if self.comments.any_in(list.range.clone()) {
                    return None;
                }
                let mut entries = Vec::new();
                for e in &list.entries {
                    let value = self.flat(&e.value)?;
                    entries.push(match &e.key {
                        Some(k) => format!("{k} {value}"),
                        None => value,
                    });
                }
                let inner = entries.join(", ");
                Some(match (list.open, inner.is_empty()) {
                    (open, true) => format!("{open}{}", list.close),
                    ("{", false) => format!("{{ {inner} }}"),
                    (open, false) => format!("{open}{inner}{}", list.close),
                })
            }
            Doc::Block(_) => None,
            Doc::Names(names) => Some(names.join(", ")),
        }
    }

    fn flat_width(&self, doc: &Doc) -> usize {
        self.flat(doc).map_or(0, |s| width(&s))
    }

    /// Whether a doc would take several lines when it starts at `col`.
    fn breaks(&self, doc: &Doc, col: usize, tail: usize) -> bool {
        match doc {
            Doc::Text(_) | Doc::Names(_) => false,
            Doc::Block(_) => true,
            Doc::Concat(parts) if !parts.iter().any(|p| matches!(p, Doc::List(_))) => {
                parts.iter().any(|p| matches!(p, Doc::Block(_)))
            }
            Doc::Concat(_) | Doc::List(_) => self
                .flat(doc)
                .is_none_or(|flat| col + width(&flat) + tail > WIDTH),
        }
    }

    fn list(&mut self, list: &List) {
        self.text(list.open);
        self.entries(&list.entries, list.range.clone(), Align::All, ",");
        self.text(list.close);
    }

    fn block(&mut self, block: &Block) {
        if block.entries.is_empty() && !self.comments.any_in(block.range.clone()) {
            self.text("{}");
            return;
        }
        self.text("{");
        self.entries(&block.entries, block.range.clone(), block.align, "");
        self.text("}");
    }

    /// The entries of a list or block, each on its own line, then the
    /// comments before the closing bracket, then the line of the bracket.
    fn entries(&mut self, entries: &[Entry], range: Range<usize>, align: Align, comma: &str) {
        let outer = self.indent;
        let inner = outer + INDENT;
        let widths = self.key_widths(entries, align, inner, comma.len());
        let mut prev = range.start + 1;
        for (i, e) in entries.iter().enumerate() {
            self.newline(inner);
            self.leading(e.range.start, e.range.start, prev, i > 0);
            if let Some(key) = &e.key {
                self.text(key);
                let pad = widths[i].map_or(1, |w| w + 1 - width(key));
                self.text(&" ".repeat(pad));
            }
            self.print(&e.value, comma.len());
            self.text(comma);
            prev = self.trailing(e.range.end);
        }
        let close = range.end.saturating_sub(1);
        let mut allow = !entries.is_empty();
        for c in self.comments.take_before(close) {
            self.newline(inner);
            if allow && self.comments.blank_between(prev, c.range.start) {
                self.blank();
            }
            self.text(&c.text);
            prev = c.range.end;
            allow = true;
        }
        self.newline(outer);
    }

    /// The width each key is padded to (`None`: one space).
    fn key_widths(
        &self,
        entries: &[Entry],
        align: Align,
        col: usize,
        tail: usize,
    ) -> Vec<Option<usize>> {
        let mut widths = vec![None; entries.len()];
        if align == Align::None {
            return widths;
        }
        let mut run: Vec<usize> = Vec::new();
        let flush = |run: &mut Vec<usize>, widths: &mut Vec<Option<usize>>| {
            let w = run
                .iter()
                .filter_map(|&i| entries[i].key.as_deref().map(width))
                .max();
            for &i in run.iter() {
                widths[i] = w;
            }
            run.clear();
        };
        for (i, e) in entries.iter().enumerate() {
            let Some(key) = &e.key else {
                flush(&mut run, &mut widths);
                continue;
            };
            if i > 0 && has_empty_line(self.src, entries[i - 1].range.end, e.range.start) {
                flush(&mut run, &mut widths);
            }
            if align == Align::Params && self.breaks(&e.value, col + width(key) + 1, tail) {
                flush(&mut run, &mut widths);
                continue;
            }
            run.push(i);
        }
        flush(&mut run, &mut widths);
        widths
    }

    /// Names separated by commas, wrapped under the first one.
    fn names(&mut self, names: &[String], tail: usize) {
        let start = self.col();
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                self.text(",");
                let after = if i + 1 == names.len() { tail } else { 1 };
                if self.col() + 1 + width(name) + after > WIDTH {
                    self.newline(start);
                } else {
                    self.text(" ");
                }
            }
            self.text(name);
        }
    }

    /// The formatted text: trailing comments aligned within runs of lines
    /// with the same indentation, one line break at the end.
    pub fn finish(mut self) -> String {
        if !self.cur.trim().is_empty() || !self.trailing.is_empty() {
            self.newline(0);
        }
        let lines = self.lines;
        let mut out = String::new();
        let mut i = 0;
        while i < lines.len() {
            let mut j = i + 1;
            if is_code(&lines[i].text) {
                let indent = indentation(&lines[i].text);
                while j < lines.len()
                    && is_code(&lines[j].text)
                    && indentation(&lines[j].text) == indent
                {
                    j += 1;
                }
            }
            let column = lines[i..j]
                .iter()
                .filter(|l| !l.trailing.is_empty())
                .map(|l| width(last_line(&l.text)))
                .max()
                .unwrap_or(0);
            for line in &lines[i..j] {
                if line.text.trim().is_empty() {
                    if !line.trailing.is_empty() {
                        out.push_str(&line.trailing.join(" "));
                    }
                } else {
                    out.push_str(&line.text);
                    if !line.trailing.is_empty() {
                        let pad = column + 2 - width(last_line(&line.text));
                        out.push_str(&" ".repeat(pad));
                        out.push_str(&line.trailing.join(" "));
                    }
                }
                out.push('\n');
            }
            i = j;
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        if out.trim().is_empty() {
            out.clear();
        }
        out
    }
}

/// Width in characters.
pub(super) fn width(s: &str) -> usize {
    s.chars().count()
}

fn last_line(s: &str) -> &str {
    s.rsplit('\n').next().unwrap_or_default()
}

fn indentation(s: &str) -> usize {
    s.len() - s.trim_start_matches(' ').len()
}

/// A line of code (not empty, not a comment of its own, not part of a
/// multi-line string) that can take part in trailing-comment alignment.
fn is_code(s: &str) -> bool {
    let t = s.trim_start();
    !t.is_empty() && !t.starts_with("//") && !t.starts_with("/*") && !s.contains('\n')
}

/// Whether some line between two positions is empty (comments in between
/// allowed): the source separated the two items by an empty line.
pub(super) fn has_empty_line(src: &str, from: usize, to: usize) -> bool {
    let Some(gap) = src.get(from..to) else {
        return false;
    };
    let parts: Vec<&str> = gap.split('\n').collect();
    parts.len() > 2
        && parts[1..parts.len() - 1]
            .iter()
            .any(|l| l.trim().is_empty())
}
