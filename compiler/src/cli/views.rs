//! The view engines of `flowc run` and `flowc serve`, from flags and the
//! environment (a flag wins), opened before the first event
//! (docs/views.md).

use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;
use flow_runtime::graph::Graph;
use flow_runtime::local::views::{Endpoint, SummarizerEngine, TranscriberEngine, DEBIAN_MODEL_DIR};
use flow_runtime::local::{ViewConfig, ViewEngines};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViewsArg {
    /// Real engines: Tesseract OCR and PocketSphinx, or the servers of
    /// --llm-url / --transcribe-url.
    Local,
    /// No engine: a text naming the object (as `flowc test`).
    Placeholder,
}

/// Flags choosing the view engines.
#[derive(clap::Args)]
pub struct ViewArgs {
    /// Summarize images with this OpenAI-compatible server
    /// (`/v1/chat/completions`) instead of Tesseract OCR [env: FLOWC_LLM_URL;
    /// model FLOWC_LLM_MODEL, key FLOWC_LLM_API_KEY].
    #[arg(long, value_name = "URL")]
    pub llm_url: Option<String>,
    /// Transcribe with this OpenAI-compatible server
    /// (`/v1/audio/transcriptions`) instead of PocketSphinx
    /// [env: FLOWC_TRANSCRIBE_URL; model FLOWC_TRANSCRIBE_MODEL, key
    /// FLOWC_TRANSCRIBE_API_KEY].
    #[arg(long, value_name = "URL")]
    pub transcribe_url: Option<String>,
    /// Real view engines, or placeholders that need no tool and no media.
    #[arg(long, value_enum, default_value_t = ViewsArg::Local)]
    pub views: ViewsArg,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl ViewArgs {
    /// The configuration these flags and the environment describe.
    pub fn config(&self) -> Result<ViewConfig, String> {
        if self.views == ViewsArg::Placeholder {
            return Ok(ViewConfig::placeholder());
        }
        let timeout = match env("FLOWC_VIEW_TIMEOUT_SECS") {
            Some(t) => t
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    format!("FLOWC_VIEW_TIMEOUT_SECS={t:?} is not a number of seconds")
                })?,
            None => Duration::from_secs(120),
        };
        let endpoint = |url: String, prefix: &str| Endpoint {
            url,
            model: env(&format!("{prefix}_MODEL")),
            api_key: env(&format!("{prefix}_API_KEY")),
            timeout,
        };
        let summarizer = match self.llm_url.clone().or_else(|| env("FLOWC_LLM_URL")) {
            Some(url) => SummarizerEngine::Chat(endpoint(url, "FLOWC_LLM")),
            None => SummarizerEngine::Ocr,
        };
        let transcriber = match self
            .transcribe_url
            .clone()
            .or_else(|| env("FLOWC_TRANSCRIBE_URL"))
        {
            Some(url) => TranscriberEngine::Speech(endpoint(url, "FLOWC_TRANSCRIBE")),
            None => TranscriberEngine::Sphinx {
                model_dir: env("FLOWC_POCKETSPHINX_MODEL")
                    .map_or_else(|| PathBuf::from(DEBIAN_MODEL_DIR), PathBuf::from),
            },
        };
        Ok(ViewConfig {
            summarizer,
            transcriber,
        })
    }

    /// Opens the engines `graph`'s views need.
    pub fn open(&self, graph: &Graph) -> Result<ViewEngines, String> {
        self.config()?.open(graph)
    }
}
