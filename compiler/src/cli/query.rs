//! `flowc query PATH [--state DIR] "words"`: full-text search over the
//! documents an app's `s3` sinks stored during `flowc run --state DIR`.
//! Ranked results with a snippet and the event id each came from.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use flow_runtime::local::sinks::{DOCUMENTS_DIR, INDEX_DIR};

use super::index::{search, Hit};
use super::Format;

/// `flowc query` arguments.
#[derive(clap::Args)]
pub struct QueryArgs {
    /// The project directory (its state directory defaults to PATH/.flowc).
    pub path: PathBuf,
    /// The words to search for (`"a phrase"`, `+required`, `-excluded`,
    /// `title:word` also work).
    pub words: String,
    /// The state directory the run wrote (`flowc run --state DIR`).
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// At most this many results.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Human output, or one JSON object with every hit.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn query(args: &QueryArgs) -> ExitCode {
    let state = args
        .state
        .clone()
        .unwrap_or_else(|| args.path.join(".flowc"));
    let hits = match search(&state.join(INDEX_DIR), &args.words, args.limit) {
        Ok(hits) => hits,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        Format::Json => {
            let value = serde_json::json!({
                "query": args.words,
                "documents": state.join(DOCUMENTS_DIR),
                "hits": hits,
            });
            writeln!(out, "{value}")
        }
        Format::Human => write_human(&mut out, &hits, &state.join(DOCUMENTS_DIR)),
    };
    // A closed pipe (`| head`) is not an error of the query.
    drop(written);
    if hits.is_empty() {
        eprintln!("no document matches {:?}", args.words);
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn write_human(
    out: &mut impl Write,
    hits: &[Hit],
    documents: &std::path::Path,
) -> std::io::Result<()> {
    for hit in hits {
        writeln!(
            out,
            "{}. {}  (score {:.2})\n   {}\n   event {}  sink {}.{}\n   {}\n",
            hit.rank,
            hit.title,
            hit.score,
            documents.join(&hit.key).display(),
            hit.event_id,
            hit.app,
            hit.sink,
            emphasize(&hit.snippet, &hit.highlights).replace('\n', " ")
        )?;
    }
    Ok(())
}

/// The snippet with each matched word between `**`.
fn emphasize(snippet: &str, highlights: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(snippet.len() + highlights.len() * 4);
    let mut at = 0;
    for &(start, end) in highlights {
        let (Some(before), Some(word)) = (snippet.get(at..start), snippet.get(start..end)) else {
            continue;
        };
        out.push_str(before);
        out.push_str("**");
        out.push_str(word);
        out.push_str("**");
        at = end;
    }
    out.push_str(snippet.get(at..).unwrap_or_default());
    out
}
