//! The text the compiler reads. The library never touches the file system:
//! the CLI (or a test, or the language server) loads files into a
//! [`SourceSet`] and hands it over.

use crate::syntax::span::{FileId, Span};

/// One `.flow` file: the path it is known by (relative to the project,
/// used in messages) and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    /// Set when the bytes on disk were not UTF-8; `text` then holds a lossy
    /// copy so that positions can still be shown.
    pub invalid_utf8_at: Option<usize>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = line_starts(&text);
        SourceFile {
            path: path.into(),
            text,
            invalid_utf8_at: None,
            line_starts,
        }
    }

    /// Builds a file from raw bytes, remembering where UTF-8 decoding failed.
    pub fn from_bytes(path: impl Into<String>, bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => SourceFile::new(path, text),
            Err(err) => {
                let at = err.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
                let mut file = SourceFile::new(path, text);
                file.invalid_utf8_at = Some(at);
                file
            }
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// The 1-based line number of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_col(offset).0
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// All files of one project, in a stable order (sorted by path).
#[derive(Clone, Debug, Default)]
pub struct SourceSet {
    files: Vec<SourceFile>,
}

impl SourceSet {
    pub fn new() -> Self {
        SourceSet::default()
    }

    pub fn single(path: impl Into<String>, text: impl Into<String>) -> Self {
        let mut set = SourceSet::new();
        set.add(SourceFile::new(path, text));
        set
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX))
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// `file.flow:12` for a span, used in notes and generated metadata.
    pub fn describe(&self, span: Span) -> String {
        match self.get(span.file) {
            Some(file) => format!("{}:{}", file.path, file.line_of(span.start as usize)),
            None => "<unknown>".to_string(),
        }
    }
}
