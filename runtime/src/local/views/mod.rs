//! The local engines of views, chosen by [`ViewConfig`] and opened (that
//! is, checked) before the first event:
//!
//! - summarizer: [`OcrSummarizer`] (Tesseract OCR + an extractive summary,
//!   the default) or [`ChatSummarizer`] (an OpenAI-compatible chat server
//!   with image input);
//! - transcriber: [`SphinxTranscriber`] (sox + PocketSphinx US English, the
//!   default) or [`SpeechTranscriber`] (an OpenAI-compatible transcription
//!   server);
//! - [`PlaceholderViews`] for both: no engine, a text that says so
//!   (`flowc test`).

// The engines need the `local` feature (an HTTP client, temporary files);
// the placeholder is what a build without it has.
#[cfg(feature = "local")]
mod config;
pub mod extractive;
#[cfg(feature = "local")]
mod ocr;
#[cfg(feature = "local")]
mod openai;
mod placeholder;
#[cfg(feature = "local")]
mod sphinx;
#[cfg(feature = "local")]
mod tools;

#[cfg(feature = "local")]
pub use config::{SummarizerEngine, TranscriberEngine, ViewConfig, ViewEngines};
#[cfg(feature = "local")]
pub use ocr::OcrSummarizer;
#[cfg(feature = "local")]
pub use openai::{chat_request, ChatSummarizer, Endpoint, SpeechTranscriber};
pub use placeholder::PlaceholderViews;
#[cfg(feature = "local")]
pub use sphinx::{parse_words, SphinxTranscriber, Word, DEBIAN_MODEL_DIR};
#[cfg(feature = "local")]
pub use tools::SETUP_HINT;
