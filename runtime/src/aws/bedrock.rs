//! The summarizer on AWS: Amazon Bedrock's Converse API with the view's
//! rendered prompt and the image's bytes (read from S3 by the caller), the
//! model id from `.flow`, `max_tokens` as `inferenceConfig.maxTokens`.
//! The token usage goes into the emitted event's `detail.view.usage`.
//!
//! Timeouts and retries are the client's ([`client_config`]): the SDK's
//! standard retry mode retries throttling (`ThrottlingException`, HTTP
//! 429), `ServiceUnavailableException` and timeouts with backoff; what is
//! still throttled afterwards is `Retryable` (EventBridge delivers the
//! event again later), what the model refuses is `FlowFailed`.

use std::time::Duration;

use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseOutput, ImageBlock, ImageFormat, ImageSource,
    InferenceConfiguration, Message,
};
use serde_json::{json, Map, Value};

use super::error::FlowError;
use super::Bridge;
use crate::engine::ViewRequest;
use crate::ports::{Summarizer, ViewAnswer, ViewInput};

/// A whole Converse call, retries included, may take this long.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(100);
/// One attempt may take this long (a model answering 1 500 tokens).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts per call (the first one and three retries).
pub const MAX_ATTEMPTS: u32 = 4;

/// Timeouts and retries of the Bedrock client.
pub fn client_config(
    shared: &aws_config::SdkConfig,
    initial_backoff: Duration,
) -> aws_sdk_bedrockruntime::Config {
    aws_sdk_bedrockruntime::config::Builder::from(shared)
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(OPERATION_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        )
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(initial_backoff),
        )
        .build()
}

pub struct BedrockSummarizer {
    client: aws_sdk_bedrockruntime::Client,
    bridge: Bridge,
}

impl BedrockSummarizer {
    pub fn new(client: aws_sdk_bedrockruntime::Client, bridge: Bridge) -> BedrockSummarizer {
        BedrockSummarizer { client, bridge }
    }

    /// One Converse call for `request` with the image `bytes`.
    pub fn converse(&self, request: &ViewRequest, bytes: &[u8]) -> Result<ViewAnswer, FlowError> {
        let ViewRequest::Summary {
            image,
            model,
            prompt,
            max_tokens,
            ..
        } = request
        else {
            return Err(FlowError::failed("not a summary request"));
        };
        let format = image_format(bytes).ok_or_else(|| {
            FlowError::failed(format!("{image} is not a PNG, JPEG, GIF or WebP image"))
        })?;
        let image_block = ImageBlock::builder()
            .format(format)
            .source(ImageSource::Bytes(Blob::new(bytes)))
            .build()
            .map_err(|e| FlowError::failed(format!("image block: {e}")))?;
        let message = Message::builder()
            .role(ConversationRole::User)
            .content(ContentBlock::Text(prompt.clone()))
            .content(ContentBlock::Image(image_block))
            .build()
            .map_err(|e| FlowError::failed(format!("message: {e}")))?;
        let mut call = self.client.converse().model_id(model).messages(message);
        if let Some(n) = max_tokens {
            let n = i32::try_from(*n).unwrap_or(i32::MAX);
            call = call.inference_config(InferenceConfiguration::builder().max_tokens(n).build());
        }
        let output = self
            .bridge
            .run(call.send())
            .map_err(|e| converse_error(model, e))?;
        let text: String = match output.output() {
            Some(ConverseOutput::Message(m)) => m
                .content()
                .iter()
                .filter_map(|c| c.as_text().ok())
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(""),
            _ => String::new(),
        };
        if text.trim().is_empty() {
            return Err(FlowError::failed(format!(
                "Bedrock model {model} answered no text (stop reason {})",
                output.stop_reason().as_str()
            )));
        }
        let mut metadata = Map::new();
        metadata.insert("engine".into(), Value::from("bedrock"));
        metadata.insert("model".into(), Value::from(model.as_str()));
        metadata.insert(
            "stop_reason".into(),
            Value::from(output.stop_reason().as_str()),
        );
        if let Some(u) = output.usage() {
            metadata.insert(
                "usage".into(),
                json!({ "input_tokens": u.input_tokens(), "output_tokens": u.output_tokens() }),
            );
        }
        Ok(ViewAnswer {
            text: text.trim().to_string(),
            metadata,
        })
    }
}

impl Summarizer for BedrockSummarizer {
    fn summarize(&mut self, input: ViewInput<'_>) -> Result<ViewAnswer, String> {
        let bytes = input.require_bytes()?;
        self.converse(input.request, bytes).map_err(|e| e.message)
    }
}

/// The Converse image format of `bytes`, by magic number.
pub fn image_format(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

/// Throttling, unavailability and timeouts that outlived the client's
/// retries are `Retryable`; a refused request is `FlowFailed`.
fn converse_error<R>(model: &str, e: SdkError<ConverseError, R>) -> FlowError
where
    R: std::fmt::Debug,
{
    let message = |what: &str| format!("Bedrock Converse with {model}: {what}");
    match &e {
        SdkError::ServiceError(service) => {
            let err = service.err();
            let text = format!(
                "{}: {}",
                err.code().unwrap_or("error"),
                err.message().unwrap_or("no message")
            );
            match err {
                ConverseError::ThrottlingException(_)
                | ConverseError::ServiceUnavailableException(_)
                | ConverseError::ModelTimeoutException(_)
                | ConverseError::ModelNotReadyException(_)
                | ConverseError::InternalServerException(_) => FlowError::retryable(message(&text)),
                _ => FlowError::failed(message(&text)),
            }
        }
        SdkError::TimeoutError(_) => FlowError::retryable(message(&format!(
            "no answer within {} s",
            OPERATION_TIMEOUT.as_secs()
        ))),
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            FlowError::retryable(message(&format!("{e:?}")))
        }
        _ => FlowError::failed(message(&format!("{e:?}"))),
    }
}
