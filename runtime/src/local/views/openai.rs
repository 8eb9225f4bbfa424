//! Clients of OpenAI-compatible servers (Ollama, llama.cpp server, vLLM,
//! LocalAI, faster-whisper servers …): `POST /v1/chat/completions` with
//! the image as a data URL for summaries, `POST /v1/audio/transcriptions`
//! (multipart) for transcripts.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::tools::image_type;
use crate::engine::ViewRequest;
use crate::ports::{Summarizer, Transcriber, ViewAnswer, ViewInput};

/// An OpenAI-compatible server.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    /// The server's base URL (`http://127.0.0.1:11434`); a URL ending in
    /// `/v1` is taken as is.
    pub url: String,
    /// The model to ask for; `None`: the view's own (summaries) or
    /// `whisper-1` (transcripts).
    pub model: Option<String>,
    /// Sent as `Authorization: Bearer …`.
    pub api_key: Option<String>,
    /// For the whole request.
    pub timeout: Duration,
}

impl Endpoint {
    fn url_of(&self, path: &str) -> String {
        let base = self.url.trim_end_matches('/');
        if base.ends_with("/v1") {
            format!("{base}/{path}")
        } else {
            format!("{base}/v1/{path}")
        }
    }

    fn client(&self) -> Result<reqwest::blocking::Client, String> {
        let parsed = reqwest::Url::parse(&self.url)
            .map_err(|e| format!("{} is not a URL: {e}", self.url))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("{} is not an http(s) URL", self.url));
        }
        reqwest::blocking::Client::builder()
            .timeout(self.timeout)
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))
    }
}

/// Sends `request`; the JSON body of a 2xx answer, or a clear error.
fn send(
    url: &str,
    timeout: Duration,
    request: reqwest::blocking::RequestBuilder,
) -> Result<Value, String> {
    let response = request.send().map_err(|e| {
        if e.is_timeout() {
            format!("POST {url}: no answer within {} s", timeout.as_secs_f64())
        } else {
            format!("POST {url}: {e}")
        }
    })?;
    let status = response.status();
    let body = response.text().map_err(|e| {
        if e.is_timeout() {
            format!("POST {url}: no answer within {} s", timeout.as_secs_f64())
        } else {
            format!("POST {url}: {e}")
        }
    })?;
    let json: Option<Value> = serde_json::from_str(&body).ok();
    if !status.is_success() {
        // OpenAI's error shape is `{"error": {"message": …}}`; Ollama
        // and others send `{"error": "…"}`.
        let message = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .and_then(|e| e.get("message").or(Some(e)))
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| body.chars().take(300).collect());
        return Err(format!("POST {url}: HTTP {status}: {message}"));
    }
    json.ok_or_else(|| format!("POST {url}: the answer is not JSON"))
}

fn authorize(
    request: reqwest::blocking::RequestBuilder,
    key: &Option<String>,
) -> reqwest::blocking::RequestBuilder {
    match key {
        Some(k) => request.bearer_auth(k),
        None => request,
    }
}

/// Summaries by a chat model with image input.
pub struct ChatSummarizer {
    endpoint: Endpoint,
    client: reqwest::blocking::Client,
}

impl ChatSummarizer {
    pub fn open(endpoint: Endpoint) -> Result<ChatSummarizer, String> {
        let client = endpoint.client()?;
        Ok(ChatSummarizer { endpoint, client })
    }
}

/// The chat completion request for a summary (the OpenAI format).
pub fn chat_request(
    model: &str,
    prompt: &str,
    max_tokens: Option<u64>,
    image: &[u8],
    mime: &str,
) -> Value {
    let data_url = format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(image)
    );
    let mut body = json!({
        "model": model,
        "messages": [{
            "role": "user",
            "content": [
                { "type": "text", "text": prompt },
                { "type": "image_url", "image_url": { "url": data_url } },
            ],
        }],
    });
    if let Some(n) = max_tokens {
        body["max_tokens"] = Value::from(n);
    }
    body
}

impl Summarizer for ChatSummarizer {
    fn summarize(&mut self, input: ViewInput<'_>) -> Result<ViewAnswer, String> {
        let ViewRequest::Summary {
            image,
            model,
            prompt,
            max_tokens,
            ..
        } = input.request
        else {
            return Err("not a summary request".into());
        };
        let bytes = input.require_bytes()?;
        let mime = image_type(bytes)
            .ok_or_else(|| format!("{image} is not a PNG, JPEG, GIF or WebP image"))?;
        let model = self.endpoint.model.as_deref().unwrap_or(model);
        let url = self.endpoint.url_of("chat/completions");
        let body = chat_request(model, prompt, *max_tokens, bytes, mime);
        let request = authorize(self.client.post(&url).json(&body), &self.endpoint.api_key);
        let answer = send(&url, self.endpoint.timeout, request)?;
        let text = answer
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("POST {url}: the answer has no choices[0].message.content"))?;
        let mut metadata = Map::new();
        metadata.insert("engine".into(), Value::from("openai-chat"));
        metadata.insert("model".into(), Value::from(model));
        if let Some(usage) = answer.get("usage") {
            metadata.insert(
                "usage".into(),
                json!({
                    "input_tokens": usage.get("prompt_tokens").cloned().unwrap_or(Value::Null),
                    "output_tokens": usage.get("completion_tokens").cloned().unwrap_or(Value::Null),
                }),
            );
        }
        Ok(ViewAnswer {
            text: text.trim().to_string(),
            metadata,
        })
    }
}

/// Transcripts by a speech-to-text server.
pub struct SpeechTranscriber {
    endpoint: Endpoint,
    client: reqwest::blocking::Client,
}

impl SpeechTranscriber {
    pub fn open(endpoint: Endpoint) -> Result<SpeechTranscriber, String> {
        let client = endpoint.client()?;
        Ok(SpeechTranscriber { endpoint, client })
    }
}

impl Transcriber for SpeechTranscriber {
    fn transcribe(&mut self, input: ViewInput<'_>) -> Result<ViewAnswer, String> {
        let ViewRequest::Transcript { media, language } = input.request else {
            return Err("not a transcription request".into());
        };
        let bytes = input.require_bytes()?;
        let model = self.endpoint.model.as_deref().unwrap_or("whisper-1");
        let file_name = media.key.rsplit('/').next().unwrap_or("audio").to_string();
        // The API takes ISO 639-1 (`en`), the language of `.flow` is BCP 47.
        let iso = language.split('-').next().unwrap_or(language).to_string();
        let form = reqwest::blocking::multipart::Form::new()
            .part(
                "file",
                reqwest::blocking::multipart::Part::bytes(bytes.to_vec()).file_name(file_name),
            )
            .text("model", model.to_string())
            .text("language", iso)
            .text("response_format", "verbose_json")
            .text("timestamp_granularities[]", "word");
        let url = self.endpoint.url_of("audio/transcriptions");
        let request = authorize(
            self.client.post(&url).multipart(form),
            &self.endpoint.api_key,
        );
        let answer = send(&url, self.endpoint.timeout, request)?;
        let text = answer
            .get("text")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("POST {url}: the answer has no `text`"))?;
        let mut metadata = Map::new();
        metadata.insert("engine".into(), Value::from("openai-transcription"));
        metadata.insert("model".into(), Value::from(model));
        if let Some(words) = answer.get("words").and_then(Value::as_array) {
            let words: Vec<Value> = words
                .iter()
                .map(|w| {
                    let ms = |k: &str| {
                        w.get(k)
                            .and_then(Value::as_f64)
                            .map(|s| Value::from((s * 1000.0).round() as u64))
                            .unwrap_or(Value::Null)
                    };
                    json!({
                        "word": w.get("word").cloned().unwrap_or(Value::Null),
                        "start_ms": ms("start"),
                        "end_ms": ms("end"),
                    })
                })
                .collect();
            metadata.insert("words".into(), Value::Array(words));
        }
        if let Some(d) = answer.get("duration").and_then(Value::as_f64) {
            metadata.insert(
                "duration_ms".into(),
                Value::from((d * 1000.0).round() as u64),
            );
        }
        Ok(ViewAnswer {
            text: text.trim().to_string(),
            metadata,
        })
    }
}
