//! The transcriber on AWS: an Amazon Transcribe job per input, no Lambda
//! waiting on it.
//!
//! 1. The input event arrives: the function saves it next to where the
//!    transcript will be (`transcripts/<node>/<job>.input.json` in the
//!    project bucket) and starts the job `<FLOW_JOB_PREFIX>-<id>` on the
//!    S3 media, its output `transcripts/<node>/<job>.json`. The job name is
//!    derived from the node and the event id, so a redelivery finds the
//!    job already there (`ConflictException`) and starts nothing.
//! 2. Transcribe puts `Transcribe Job State Change` on the default bus; a
//!    rule (prefix of the job name) invokes the same function. `COMPLETED`:
//!    the transcript and the saved input are read from S3 and the view's
//!    event emitted; `FAILED`: the job's failure reason is a `FlowFailed`
//!    error (the event goes to the function's dead-letter queue).

use aws_sdk_transcribe::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_transcribe::operation::get_transcription_job::GetTranscriptionJobError;
use aws_sdk_transcribe::operation::start_transcription_job::StartTranscriptionJobError;
use aws_sdk_transcribe::types::{LanguageCode, Media};
use serde_json::{json, Map, Value};

use super::error::FlowError;
use super::Bridge;
use crate::engine::{derive_id, ObjectRef};
use crate::ports::ViewAnswer;

/// The `source` and `detail-type` of Transcribe's job events.
pub const JOB_EVENT_SOURCE: &str = "aws.transcribe";
pub const JOB_EVENT_TYPE: &str = "Transcribe Job State Change";

/// Names and keys of one node's jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jobs {
    /// `FLOW_JOB_PREFIX` (`<project>-<stage>-<node>`): the rule routing
    /// job events to this function matches it.
    pub prefix: String,
    pub node: String,
    /// The project bucket (`FLOW_BUCKET`): inputs and transcripts.
    pub bucket: String,
}

impl Jobs {
    /// The job of the input event `event_id` (at most 200 characters of
    /// `[0-9a-zA-Z._-]`, as Transcribe requires).
    pub fn job_name(&self, event_id: &str) -> String {
        format!(
            "{}{}",
            self.name_prefix(),
            derive_id(&[&self.node, event_id])
        )
    }

    /// What every job name of this node starts with (the job rule's
    /// prefix): the prefix in Transcribe's alphabet, and a dash.
    pub fn name_prefix(&self) -> String {
        let mut prefix: String = self
            .prefix
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .take(160)
            .collect();
        prefix.push('-');
        prefix
    }

    /// Whether `job` is one of this node's.
    pub fn owns(&self, job: &str) -> bool {
        job.strip_prefix(&self.name_prefix())
            .is_some_and(|id| id.len() == 36)
    }

    /// Where the transcript of `job` goes.
    pub fn transcript(&self, job: &str) -> ObjectRef {
        ObjectRef {
            bucket: self.bucket.clone(),
            key: format!("transcripts/{}/{job}.json", self.node),
        }
    }

    /// Where the input event of `job` waits for the transcript.
    pub fn input(&self, job: &str) -> ObjectRef {
        ObjectRef {
            bucket: self.bucket.clone(),
            key: format!("transcripts/{}/{job}.input.json", self.node),
        }
    }
}

/// What a job-state-change event says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobState {
    pub job: String,
    /// `COMPLETED` or `FAILED`.
    pub status: String,
}

/// Reads a `Transcribe Job State Change` event's detail.
pub fn job_state(detail: &Value) -> Result<JobState, String> {
    let field = |name: &str| {
        detail
            .get(name)
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| format!("a Transcribe job event without {name}"))
    };
    Ok(JobState {
        job: field("TranscriptionJobName")?,
        status: field("TranscriptionJobStatus")?,
    })
}

/// Whether a job was started by this call or already existed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Started {
    New,
    Existing,
}

pub struct TranscribeJobs {
    client: aws_sdk_transcribe::Client,
    bridge: Bridge,
}

impl TranscribeJobs {
    pub fn new(client: aws_sdk_transcribe::Client, bridge: Bridge) -> TranscribeJobs {
        TranscribeJobs { client, bridge }
    }

    /// Starts `job` on `media` in `language`, its transcript written to
    /// `output`.
    pub fn start(
        &self,
        job: &str,
        media: &ObjectRef,
        language: &str,
        output: &ObjectRef,
    ) -> Result<Started, FlowError> {
        let call = self
            .client
            .start_transcription_job()
            .transcription_job_name(job)
            .language_code(LanguageCode::from(language))
            .media(
                Media::builder()
                    .media_file_uri(format!("s3://{}/{}", media.bucket, media.key))
                    .build(),
            )
            .output_bucket_name(&output.bucket)
            .output_key(&output.key);
        match self.bridge.run(call.send()) {
            Ok(_) => Ok(Started::New),
            Err(SdkError::ServiceError(s))
                if matches!(s.err(), StartTranscriptionJobError::ConflictException(_)) =>
            {
                Ok(Started::Existing)
            }
            Err(e) => Err(start_error(job, e)),
        }
    }

    /// The failure reason of a failed job.
    pub fn failure_reason(&self, job: &str) -> Result<String, FlowError> {
        let out = self
            .bridge
            .run(
                self.client
                    .get_transcription_job()
                    .transcription_job_name(job)
                    .send(),
            )
            .map_err(|e| get_error(job, e))?;
        Ok(out
            .transcription_job()
            .and_then(|j| j.failure_reason())
            .unwrap_or("no reason given")
            .to_string())
    }
}

fn start_error<R: std::fmt::Debug>(
    job: &str,
    e: SdkError<StartTranscriptionJobError, R>,
) -> FlowError {
    let text = |code: Option<&str>, message: Option<&str>| {
        format!(
            "StartTranscriptionJob {job}: {}: {}",
            code.unwrap_or("error"),
            message.unwrap_or("no message")
        )
    };
    match &e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            let t = text(err.code(), err.message());
            match err {
                // Throttling or too many jobs at once outlived the client's
                // retries: EventBridge delivers again later.
                StartTranscriptionJobError::LimitExceededException(_)
                | StartTranscriptionJobError::InternalFailureException(_) => {
                    FlowError::retryable(t)
                }
                _ => FlowError::failed(t),
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            FlowError::retryable(format!("StartTranscriptionJob {job}: {e:?}"))
        }
        _ => FlowError::failed(format!("StartTranscriptionJob {job}: {e:?}")),
    }
}

fn get_error<R: std::fmt::Debug>(job: &str, e: SdkError<GetTranscriptionJobError, R>) -> FlowError {
    match &e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            let t = format!(
                "GetTranscriptionJob {job}: {}: {}",
                err.code().unwrap_or("error"),
                err.message().unwrap_or("no message")
            );
            match err {
                GetTranscriptionJobError::LimitExceededException(_)
                | GetTranscriptionJobError::InternalFailureException(_) => FlowError::retryable(t),
                _ => FlowError::failed(t),
            }
        }
        _ => FlowError::retryable(format!("GetTranscriptionJob {job}: {e:?}")),
    }
}

/// The text, word timings and confidences of a Transcribe output file
/// (`results.transcripts[0].transcript`, `results.items`).
pub fn read_transcript(job: &str, bytes: &[u8]) -> Result<ViewAnswer, String> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("the transcript of {job} is not JSON: {e}"))?;
    let text = doc
        .pointer("/results/transcripts/0/transcript")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the transcript of {job} has no results.transcripts[0]"))?;
    let seconds_to_ms = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .and_then(|s| s.parse::<f64>().ok())
            .map(|s| Value::from((s * 1000.0).round() as u64))
            .unwrap_or(Value::Null)
    };
    let words: Vec<Value> = doc
        .pointer("/results/items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|i| i.get("type").and_then(Value::as_str) == Some("pronunciation"))
                .map(|i| {
                    let best = i.pointer("/alternatives/0");
                    json!({
                        "word": best.and_then(|b| b.get("content")).cloned().unwrap_or(Value::Null),
                        "start_ms": seconds_to_ms(i.get("start_time")),
                        "end_ms": seconds_to_ms(i.get("end_time")),
                        "confidence": best
                            .and_then(|b| b.get("confidence"))
                            .and_then(Value::as_str)
                            .and_then(|c| c.parse::<f64>().ok())
                            .map_or(Value::Null, Value::from),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut metadata = Map::new();
    metadata.insert("engine".into(), Value::from("amazon-transcribe"));
    metadata.insert("job".into(), Value::from(job));
    metadata.insert("words".into(), Value::Array(words));
    Ok(ViewAnswer {
        text: text.to_string(),
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs() -> Jobs {
        Jobs {
            prefix: "kb-prod-MeetingTranscriber".into(),
            node: "MeetingTranscriber".into(),
            bucket: "kb-objects".into(),
        }
    }

    #[test]
    fn job_names_are_deterministic_and_owned_by_their_node() {
        let j = jobs();
        let name = j.job_name("evt-1");
        assert_eq!(name, j.job_name("evt-1"));
        assert_ne!(name, j.job_name("evt-2"));
        assert!(name.starts_with("kb-prod-MeetingTranscriber-"));
        assert!(name.len() <= 200);
        assert!(name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
        assert!(j.owns(&name));
        let other = Jobs {
            prefix: "kb-prod-Other".into(),
            ..jobs()
        };
        assert!(!j.owns(&other.job_name("evt-1")));
        assert_eq!(
            j.transcript(&name).key,
            format!("transcripts/MeetingTranscriber/{name}.json")
        );
    }

    #[test]
    fn reads_words_and_confidences_and_skips_punctuation() {
        let doc = json!({
            "jobName": "j",
            "status": "COMPLETED",
            "results": {
                "transcripts": [{ "transcript": "Hello there." }],
                "items": [
                    { "type": "pronunciation", "start_time": "0.04", "end_time": "0.5",
                      "alternatives": [{ "confidence": "0.998", "content": "Hello" }] },
                    { "type": "pronunciation", "start_time": "0.5", "end_time": "0.91",
                      "alternatives": [{ "confidence": "0.87", "content": "there" }] },
                    { "type": "punctuation", "alternatives": [{ "confidence": "0.0", "content": "." }] },
                ],
            },
        });
        let answer = read_transcript("j", doc.to_string().as_bytes()).expect("transcript");
        assert_eq!(answer.text, "Hello there.");
        assert_eq!(
            answer.metadata["words"],
            json!([
                { "word": "Hello", "start_ms": 40, "end_ms": 500, "confidence": 0.998 },
                { "word": "there", "start_ms": 500, "end_ms": 910, "confidence": 0.87 },
            ])
        );
        assert!(read_transcript("j", b"{}").is_err());
    }

    #[test]
    fn reads_job_state_events() {
        let detail = json!({ "TranscriptionJobName": "j-1", "TranscriptionJobStatus": "FAILED" });
        assert_eq!(
            job_state(&detail),
            Ok(JobState {
                job: "j-1".into(),
                status: "FAILED".into()
            })
        );
        assert!(job_state(&json!({})).is_err());
    }
}
