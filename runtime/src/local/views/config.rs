//! Which engine each kind of view uses, and opening them.

use std::path::PathBuf;

use super::ocr::OcrSummarizer;
use super::openai::{ChatSummarizer, Endpoint, SpeechTranscriber};
use super::placeholder::PlaceholderViews;
use super::sphinx::{self, SphinxTranscriber, DEBIAN_MODEL_DIR};
use crate::graph::{Graph, NodeKind};
use crate::ports::{Summarizer, Transcriber, ViewAnswer, ViewInput};

#[derive(Clone, Debug, PartialEq)]
pub enum SummarizerEngine {
    /// Tesseract OCR and an extractive summary.
    Ocr,
    /// An OpenAI-compatible chat server.
    Chat(Endpoint),
    Placeholder,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TranscriberEngine {
    /// sox and PocketSphinx with the US English model in this directory.
    Sphinx {
        model_dir: PathBuf,
    },
    /// An OpenAI-compatible transcription server.
    Speech(Endpoint),
    Placeholder,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ViewConfig {
    pub summarizer: SummarizerEngine,
    pub transcriber: TranscriberEngine,
}

/// The open engines.
pub struct ViewEngines {
    pub summarizer: Box<dyn Summarizer>,
    pub transcriber: Box<dyn Transcriber>,
}

impl ViewConfig {
    /// Tesseract and PocketSphinx from the Debian packages.
    pub fn local_defaults() -> ViewConfig {
        ViewConfig {
            summarizer: SummarizerEngine::Ocr,
            transcriber: TranscriberEngine::Sphinx {
                model_dir: PathBuf::from(DEBIAN_MODEL_DIR),
            },
        }
    }

    pub fn placeholder() -> ViewConfig {
        ViewConfig {
            summarizer: SummarizerEngine::Placeholder,
            transcriber: TranscriberEngine::Placeholder,
        }
    }

    /// Opens the engines `graph`'s views use (an engine no view uses is
    /// not opened): a missing tool or model, a bad URL, or a language the
    /// engine cannot transcribe is an error here, before any event.
    pub fn open(&self, graph: &Graph) -> Result<ViewEngines, String> {
        let summarizers = graph
            .nodes
            .values()
            .filter(|n| matches!(n.kind, NodeKind::Summarizer { .. }))
            .count();
        let languages: Vec<(&str, &str)> = graph
            .nodes
            .values()
            .filter_map(|n| match &n.kind {
                NodeKind::Transcriber { language, .. } => {
                    Some((n.name.as_str(), language.as_str()))
                }
                _ => None,
            })
            .collect();
        let summarizer: Box<dyn Summarizer> = match (&self.summarizer, summarizers) {
            (_, 0) => Box::new(Unused),
            (SummarizerEngine::Ocr, _) => Box::new(
                OcrSummarizer::open().map_err(|e| format!("summarizer engine (Tesseract): {e}"))?,
            ),
            (SummarizerEngine::Chat(endpoint), _) => Box::new(
                ChatSummarizer::open(endpoint.clone())
                    .map_err(|e| format!("summarizer engine (--llm-url): {e}"))?,
            ),
            (SummarizerEngine::Placeholder, _) => Box::new(PlaceholderViews),
        };
        let transcriber: Box<dyn Transcriber> = match (&self.transcriber, languages.is_empty()) {
            (_, true) => Box::new(Unused),
            (TranscriberEngine::Sphinx { model_dir }, false) => {
                if let Some((node, language)) = languages.iter().find(|(_, l)| !sphinx::speaks(l)) {
                    return Err(format!(
                        "transcriber engine (PocketSphinx): {node} transcribes {language}, the local model is US English only; configure --transcribe-url"
                    ));
                }
                Box::new(
                    SphinxTranscriber::open(model_dir)
                        .map_err(|e| format!("transcriber engine (PocketSphinx): {e}"))?,
                )
            }
            (TranscriberEngine::Speech(endpoint), false) => Box::new(
                SpeechTranscriber::open(endpoint.clone())
                    .map_err(|e| format!("transcriber engine (--transcribe-url): {e}"))?,
            ),
            (TranscriberEngine::Placeholder, false) => Box::new(PlaceholderViews),
        };
        Ok(ViewEngines {
            summarizer,
            transcriber,
        })
    }
}

/// Stands for an engine the graph has no view for; never called by the
/// runner (it only calls the engines of its graph's views).
struct Unused;

impl Summarizer for Unused {
    fn summarize(&mut self, _: ViewInput<'_>) -> Result<ViewAnswer, String> {
        Err("no summarizer engine was opened: the graph has no summarizer".into())
    }
}

impl Transcriber for Unused {
    fn transcribe(&mut self, _: ViewInput<'_>) -> Result<ViewAnswer, String> {
        Err("no transcriber engine was opened: the graph has no transcriber".into())
    }
}
