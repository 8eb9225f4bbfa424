//! The `sink` role: an app's sinks deliver the events they name.
//!
//! What each sink writes is `crate::sink::plan` (pure, shared with the
//! local engine); this module maps its errors to [`FlowError`] (naming
//! `App.Sink` and its `.flow` span) and posts webhooks:
//!
//! * `s3`, `dynamodb`: written by the handler (PutObject, PutItem); the
//!   same event writes the same object or item again.
//! * `webhook`: an HTTPS POST of the event's envelope, signed with the
//!   sink's secret from Secrets Manager (read once per cold start, see
//!   [`super::secrets`]), `Idempotency-Key: <event id>` on every attempt,
//!   retried with exponential backoff on connection errors, timeouts, 408,
//!   429 and 5xx. When the attempts run out the invocation fails
//!   (`Retryable`): EventBridge delivers again and finally dead-letters
//!   the event, and the receiver recognises a repeat by its key.

use std::sync::OnceLock;
use std::time::Duration;

use super::error::FlowError;
use super::secrets::Secrets;
use crate::engine::Event;
use crate::graph::{AppDef, Graph};
pub use crate::sink::Delivery;
use crate::sink::{signature, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// Attempts of one webhook POST within one invocation.
pub const WEBHOOK_ATTEMPTS: u32 = 4;
/// The wait before the first retry; each later wait doubles.
pub const WEBHOOK_FIRST_BACKOFF: Duration = Duration::from_millis(250);

/// The app a sink function serves.
pub fn app<'g>(graph: &'g Graph, name: &str) -> Result<&'g AppDef, FlowError> {
    graph
        .apps
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| FlowError::bad_input(format!("graph.json has no app {name:?} (FLOW_APP)")))
}

/// The writes of every sink of `app` that takes `event` (by source and
/// detail-type), each with its kind and sink name; `now` dates a
/// DynamoDB sink's `ttl`.
pub fn plan(
    graph: &Graph,
    app: &AppDef,
    event: &Event,
    now: i64,
) -> Result<Vec<(&'static str, Delivery, String)>, FlowError> {
    let planned = crate::sink::plan(graph, app, event, now).map_err(|e| {
        let span = app
            .sinks
            .iter()
            .find(|s| e.sink == format!("{}.{}", app.name, s.name))
            .map_or(&app.span, |s| &s.span);
        let error = if e.bad_input {
            FlowError::bad_input(e.message)
        } else {
            FlowError::failed(e.message)
        };
        error.at(&e.sink, span)
    })?;
    Ok(planned
        .into_iter()
        .map(|p| {
            (
                crate::sink::kind_name(&p.sink.kind),
                p.delivery,
                p.sink.name.clone(),
            )
        })
        .collect())
}

/// The HTTP client and secrets of webhook sinks, made on first use and
/// kept for the life of the execution environment.
pub struct Webhooks {
    http: reqwest::Client,
    secrets: Secrets,
}

static WEBHOOKS: OnceLock<Result<Webhooks, String>> = OnceLock::new();

impl Webhooks {
    /// The process's webhook sender (built once).
    pub fn get(
        secrets: &aws_sdk_secretsmanager::Client,
        prefix: &str,
    ) -> Result<&'static Webhooks, FlowError> {
        WEBHOOKS
            .get_or_init(|| {
                let http = reqwest::Client::builder()
                    .user_agent(concat!("flowc/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
                Ok(Webhooks {
                    http,
                    secrets: Secrets::new(secrets.clone(), prefix),
                })
            })
            .as_ref()
            .map_err(|e| FlowError::failed(e.clone()))
    }

    pub fn new(http: reqwest::Client, secrets: Secrets) -> Webhooks {
        Webhooks { http, secrets }
    }

    /// Posts one webhook delivery (see the module docs); returns the
    /// status and the number of attempts.
    pub async fn post(
        &self,
        url: &str,
        secret: &str,
        body: &str,
        event_id: &str,
        timeout: Duration,
    ) -> Result<(u16, u32), FlowError> {
        let key = self.secrets.get(secret).await?;
        let mut last = String::new();
        for attempt in 1..=WEBHOOK_ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(WEBHOOK_FIRST_BACKOFF * (1 << (attempt - 2))).await;
            }
            let timestamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let sent = self
                .http
                .post(url)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header(IDEMPOTENCY_HEADER, event_id)
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(
                    SIGNATURE_HEADER,
                    signature(&key, timestamp, body.as_bytes()),
                )
                .body(body.to_string())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => return Ok((r.status().as_u16(), attempt)),
                Ok(r) => {
                    let status = r.status().as_u16();
                    if !(status == 408 || status == 429 || status >= 500) {
                        return Err(FlowError::failed(format!(
                            "POST {url} answered {status} (not retried)"
                        )));
                    }
                    last = format!("answered {status}");
                }
                Err(e) if e.is_timeout() => {
                    last = format!("timed out after {} ms", timeout.as_millis())
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(FlowError::retryable(format!(
            "POST {url} failed after {WEBHOOK_ATTEMPTS} attempt(s): {last}"
        )))
    }
}
