//! [`PlaceholderViews`]: answers every view without an engine and without
//! the object, with a text that says so (`[placeholder summary of
//! s3://bucket/key]`). `flowc test` uses it, so test blocks run anywhere and
//! their given events need no media; `flowc run --views placeholder` too.

use serde_json::{Map, Value};

use crate::engine::ViewRequest;
use crate::ports::{Summarizer, Transcriber, ViewAnswer, ViewInput};

#[derive(Clone, Copy, Debug, Default)]
pub struct PlaceholderViews;

fn answer(text: String) -> ViewAnswer {
    let mut metadata = Map::new();
    metadata.insert("engine".into(), Value::from("placeholder"));
    ViewAnswer { text, metadata }
}

impl Summarizer for PlaceholderViews {
    fn summarize(&mut self, input: ViewInput<'_>) -> Result<ViewAnswer, String> {
        match input.request {
            ViewRequest::Summary { image, .. } => {
                Ok(answer(format!("[placeholder summary of {image}]")))
            }
            ViewRequest::Transcript { .. } => Err("not a summary request".into()),
        }
    }
}

impl Transcriber for PlaceholderViews {
    fn transcribe(&mut self, input: ViewInput<'_>) -> Result<ViewAnswer, String> {
        match input.request {
            ViewRequest::Transcript { media, .. } => {
                Ok(answer(format!("[placeholder transcript of {media}]")))
            }
            ViewRequest::Summary { .. } => Err("not a transcription request".into()),
        }
    }
}
