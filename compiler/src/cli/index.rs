//! The full-text index of the documents local sinks write (tantivy), and
//! the search behind `flowc query`.
//!
//! Input: each document as a sink writes it ([`StoredDocument`]). Output:
//! ranked [`Hit`]s (BM25 over title and text, the title weighted double)
//! with a snippet and the event id the document came from.
//!
//! What is indexed: for a Markdown document its text, its title being the
//! front matter's `title:` or the first `# ` heading; for a JSON document
//! (an event envelope) the string values of its `detail` except the flow
//! metadata, its title being `detail.data.title` when there is one. A
//! document is keyed by its object key: writing the key again replaces it.
//!
//! Invariant: the index lives in `STATE/index` and is only written by the
//! run that holds its lock; `flowc query` only reads.
//!
//! It lives in the CLI, not the runtime, so that tantivy is no dependency
//! of the Lambda `bootstrap` build.

use std::path::Path;

use serde_json::Value;
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{Field, Schema, Value as _, STORED, STRING, TEXT};
use tantivy::snippet::SnippetGenerator;
use tantivy::{doc, Index, IndexWriter, TantivyDocument, Term};

use flow_runtime::local::sinks::{DocumentIndex, StoredDocument};

/// The writer's memory budget (tantivy's minimum is 15 MB).
const WRITER_BUDGET: usize = 20_000_000;
/// The longest snippet, in characters.
const SNIPPET_CHARS: usize = 180;

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    app: Field,
    sink: Field,
    event_id: Field,
    title: Field,
    text: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        app: b.add_text_field("app", STRING | STORED),
        sink: b.add_text_field("sink", STRING | STORED),
        event_id: b.add_text_field("event_id", STRING | STORED),
        title: b.add_text_field("title", TEXT | STORED),
        text: b.add_text_field("text", TEXT | STORED),
    };
    (b.build(), fields)
}

fn open(dir: &Path) -> Result<(Index, Fields), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let (schema, fields) = schema();
    let directory = tantivy::directory::MmapDirectory::open(dir)
        .map_err(|e| format!("index {}: {e}", dir.display()))?;
    let index = Index::open_or_create(directory, schema)
        .map_err(|e| format!("index {}: {e}", dir.display()))?;
    Ok((index, fields))
}

/// The index, open for writing.
pub struct SearchIndex {
    writer: IndexWriter,
    fields: Fields,
    pending: bool,
}

impl SearchIndex {
    /// Opens (or creates) the index in `dir` and takes its writer lock.
    pub fn open(dir: &Path) -> Result<SearchIndex, String> {
        let (index, fields) = open(dir)?;
        let writer = index
            .writer_with_num_threads(1, WRITER_BUDGET)
            .map_err(|e| format!("index {}: {e}", dir.display()))?;
        Ok(SearchIndex {
            writer,
            fields,
            pending: false,
        })
    }
}

impl DocumentIndex for SearchIndex {
    fn put(&mut self, stored: &StoredDocument<'_>) -> Result<(), String> {
        let f = self.fields;
        let (title, text) = indexed_text(stored);
        self.writer
            .delete_term(Term::from_field_text(f.key, stored.key));
        self.writer
            .add_document(doc!(
                f.key => stored.key,
                f.app => stored.app,
                f.sink => stored.sink,
                f.event_id => stored.event_id,
                f.title => title,
                f.text => text,
            ))
            .map_err(|e| format!("index: {e}"))?;
        self.pending = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), String> {
        if self.pending {
            self.writer.commit().map_err(|e| format!("index: {e}"))?;
            self.pending = false;
        }
        Ok(())
    }
}

impl Drop for SearchIndex {
    fn drop(&mut self) {
        // A run that ends without a final commit still leaves its documents
        // searchable; an error here has nobody left to report to.
        let _ = self.commit();
    }
}

/// One search result.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Hit {
    pub rank: usize,
    pub score: f32,
    /// The object key (`documents/<key>` under the state directory).
    pub key: String,
    pub app: String,
    pub sink: String,
    pub event_id: String,
    pub title: String,
    /// Plain text around the best match.
    pub snippet: String,
    /// Byte ranges of the matched words inside `snippet`.
    pub highlights: Vec<(usize, usize)>,
}

/// Searches the index in `dir` for `words` (tantivy's query syntax: words,
/// `"phrases"`, `+required`, `-excluded`, `title:word`); best first.
pub fn search(dir: &Path, words: &str, limit: usize) -> Result<Vec<Hit>, String> {
    if words.trim().is_empty() {
        return Err("nothing to search for: give one or more words".into());
    }
    if !dir.join("meta.json").is_file() {
        return Err(format!(
            "no index at {}: documents are indexed when an app's s3 sinks write them \
             during `flowc run --state DIR`",
            dir.display()
        ));
    }
    let (index, f) = open(dir)?;
    let reader = index.reader().map_err(|e| format!("index: {e}"))?;
    let searcher = reader.searcher();
    let mut parser = QueryParser::for_index(&index, vec![f.title, f.text]);
    parser.set_field_boost(f.title, 2.0);
    // Lenient: a stray `:` or quote in user words is searched, not refused.
    let (query, _) = parser.parse_query_lenient(words);
    let top = searcher
        .search(&query, &TopDocs::with_limit(limit.max(1)))
        .map_err(|e| format!("search: {e}"))?;
    let mut snippets =
        SnippetGenerator::create(&searcher, &*query, f.text).map_err(|e| format!("search: {e}"))?;
    snippets.set_max_num_chars(SNIPPET_CHARS);
    let mut hits = Vec::with_capacity(top.len());
    for (i, (score, address)) in top.into_iter().enumerate() {
        let doc: TantivyDocument = searcher.doc(address).map_err(|e| format!("index: {e}"))?;
        let text_of = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let snippet = snippets.snippet_from_doc(&doc);
        let (fragment, highlights) = if snippet.fragment().is_empty() {
            (leading(&text_of(f.text)), Vec::new())
        } else {
            (
                snippet.fragment().to_string(),
                snippet
                    .highlighted()
                    .iter()
                    .map(|r| (r.start, r.end))
                    .collect(),
            )
        };
        hits.push(Hit {
            rank: i + 1,
            score,
            key: text_of(f.key),
            app: text_of(f.app),
            sink: text_of(f.sink),
            event_id: text_of(f.event_id),
            title: text_of(f.title),
            snippet: fragment,
            highlights,
        });
    }
    Ok(hits)
}

/// The first characters of a text, cut at a character boundary.
fn leading(text: &str) -> String {
    text.chars().take(SNIPPET_CHARS).collect()
}

/// `(title, text)` of a stored document.
fn indexed_text(doc: &StoredDocument<'_>) -> (String, String) {
    if doc.content_type.starts_with("application/json") {
        let envelope: Value = serde_json::from_str(doc.body).unwrap_or(Value::Null);
        let detail = envelope.get("detail").unwrap_or(&envelope);
        let title = detail
            .pointer("/data/title")
            .and_then(Value::as_str)
            .unwrap_or(doc.key)
            .to_string();
        let mut parts = Vec::new();
        collect_strings(detail, &mut parts, true);
        return (title, parts.join("\n"));
    }
    (
        markdown_title(doc.body).unwrap_or(doc.key).to_string(),
        doc.body.to_string(),
    )
}

fn collect_strings<'v>(value: &'v Value, out: &mut Vec<&'v str>, top: bool) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out, false)),
        Value::Object(map) => {
            for (k, v) in map {
                if !(top && k == "flow") {
                    collect_strings(v, out, false);
                }
            }
        }
        _ => {}
    }
}

/// The front matter's `title:` or the first `# ` heading.
fn markdown_title(body: &str) -> Option<&str> {
    let mut lines = body.lines();
    if body.starts_with("---") {
        lines.next();
        for line in lines.by_ref() {
            if line.trim() == "---" {
                break;
            }
            if let Some(t) = line.strip_prefix("title:") {
                let t = t.trim().trim_matches('"');
                if !t.is_empty() {
                    return Some(t);
                }
            }
        }
    }
    lines
        .find_map(|l| l.strip_prefix("# "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_from_front_matter_then_heading() {
        assert_eq!(
            markdown_title("---\ntitle: \"Q3 plan\"\nkind: x\n---\n\n# Other\n"),
            Some("Q3 plan")
        );
        assert_eq!(markdown_title("intro\n# Heading\ntext"), Some("Heading"));
        assert_eq!(markdown_title("no heading"), None);
    }
}
