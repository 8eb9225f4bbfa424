//! The local default summarizer: Tesseract OCR (`tesseract IMAGE stdout`,
//! English) reads the image's visible text, and [`extractive`] picks the
//! lines of the summary. It is labelled as extractive in the text and in
//! `detail.view`, because no model looked at the picture.

use std::ffi::OsStr;

use serde_json::{Map, Value};

use super::extractive;
use super::tools::{image_type, require, run, temp_file, SETUP_HINT};
use crate::engine::ViewRequest;
use crate::ports::{Summarizer, ViewAnswer, ViewInput};

#[derive(Debug)]
pub struct OcrSummarizer {
    _private: (),
}

impl OcrSummarizer {
    /// Checks that Tesseract and its English data are installed.
    pub fn open() -> Result<OcrSummarizer, String> {
        let langs = require("tesseract", "--list-langs")?;
        if !langs.lines().any(|l| l.trim() == "eng") {
            return Err(format!(
                "Tesseract has no English data (tesseract-ocr-eng); {SETUP_HINT}"
            ));
        }
        Ok(OcrSummarizer { _private: () })
    }
}

impl Summarizer for OcrSummarizer {
    fn summarize(&mut self, input: ViewInput<'_>) -> Result<ViewAnswer, String> {
        let ViewRequest::Summary {
            image,
            max_tokens,
            fields,
            ..
        } = input.request
        else {
            return Err("not a summary request".into());
        };
        let bytes = input.require_bytes()?;
        if image_type(bytes).is_none() {
            return Err(format!("{image} is not a PNG, JPEG, GIF or WebP image"));
        }
        let (_dir, path) = temp_file(&image.key, bytes)?;
        let ocr = run(
            "tesseract",
            &[
                path.as_os_str(),
                OsStr::new("stdout"),
                OsStr::new("-l"),
                OsStr::new("eng"),
            ],
        )
        .map_err(|e| format!("OCR of {image}: {e}"))?;
        let summary = extractive::summarize(&ocr, fields, *max_tokens);
        let mut metadata = Map::new();
        metadata.insert("engine".into(), Value::from("tesseract"));
        metadata.insert("method".into(), Value::from("extractive"));
        metadata.insert("ocr_lines".into(), Value::from(summary.lines));
        metadata.insert("lines_kept".into(), Value::from(summary.lines_kept));
        Ok(ViewAnswer {
            text: summary.text,
            metadata,
        })
    }
}
