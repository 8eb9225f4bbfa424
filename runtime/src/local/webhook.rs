//! Webhook deliveries from the local engine: real HTTP(S) POSTs, signed,
//! retried with exponential backoff, each attempt bounded by a timeout.
//!
//! A delivery is one JSON body (the event's envelope) with the headers
//! `Content-Type: application/json`, `Idempotency-Key: <event id>`,
//! `X-Flowc-Timestamp: <unix seconds>` and `X-Flowc-Signature:
//! sha256=<hex>` (`crate::sink::signature` over `timestamp.body`, signed
//! again on every attempt). Connection errors, timeouts, 408, 429 and 5xx
//! are retried; any other status is final.

use std::time::Duration;

use crate::sink::{signature, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// How many times and how patiently a webhook is tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the first retry; each later wait doubles.
    pub first_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_backoff: Duration::from_millis(250),
        }
    }
}

/// What became of a delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posted {
    pub status: u16,
    pub attempts: u32,
}

/// One webhook POST to make.
pub struct WebhookPost<'a> {
    pub url: &'a str,
    pub secret: &'a [u8],
    pub body: &'a str,
    pub event_id: &'a str,
    pub timeout: Duration,
}

pub struct WebhookClient {
    http: reqwest::blocking::Client,
    pub policy: RetryPolicy,
}

impl WebhookClient {
    pub fn new(policy: RetryPolicy) -> Result<WebhookClient, String> {
        let http = reqwest::blocking::Client::builder()
            .user_agent(concat!("flowc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        Ok(WebhookClient { http, policy })
    }

    /// Posts until a 2xx, a final status or the last attempt; the error
    /// says what the last attempt saw and how many were made.
    pub fn post(&self, post: &WebhookPost<'_>) -> Result<Posted, String> {
        let mut last = String::new();
        let attempts = self.policy.attempts.max(1);
        for attempt in 1..=attempts {
            if attempt > 1 {
                std::thread::sleep(self.backoff(attempt - 1));
            }
            match self.attempt(post) {
                Ok(status) if (200..300).contains(&status) => {
                    return Ok(Posted {
                        status,
                        attempts: attempt,
                    })
                }
                Ok(status) if !retryable(status) => {
                    return Err(format!("POST {} answered {status} (not retried)", post.url))
                }
                Ok(status) => last = format!("answered {status}"),
                Err(Failure::Final(e)) => return Err(format!("POST {}: {e}", post.url)),
                Err(Failure::Transient(e)) => last = e,
            }
        }
        Err(format!(
            "POST {} failed after {attempts} attempt(s): {last}",
            post.url
        ))
    }

    /// The wait before retry `n` (1-based): `first_backoff * 2^(n-1)`.
    pub fn backoff(&self, n: u32) -> Duration {
        self.policy
            .first_backoff
            .saturating_mul(1u32 << (n - 1).min(16))
    }

    fn attempt(&self, post: &WebhookPost<'_>) -> Result<u16, Failure> {
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let response = self
            .http
            .post(post.url)
            .timeout(post.timeout)
            .header("Content-Type", "application/json")
            .header(IDEMPOTENCY_HEADER, post.event_id)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(
                SIGNATURE_HEADER,
                signature(post.secret, timestamp, post.body.as_bytes()),
            )
            .body(post.body.to_string())
            .send()
            .map_err(|e| {
                // A URL the client cannot even build a request for will
                // not work on a retry either.
                if e.is_builder() {
                    Failure::Final(describe(&e))
                } else {
                    Failure::Transient(describe(&e))
                }
            })?;
        Ok(response.status().as_u16())
    }
}

/// Why an attempt failed: worth another attempt or not.
enum Failure {
    Transient(String),
    Final(String),
}

fn retryable(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

/// reqwest's error with its causes (the top level alone says only
/// "error sending request").
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles() {
        let client = WebhookClient::new(RetryPolicy {
            attempts: 5,
            first_backoff: Duration::from_millis(100),
        })
        .expect("client");
        let waits: Vec<u128> = (1..=4).map(|n| client.backoff(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800]);
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        assert!(retryable(500) && retryable(503) && retryable(429) && retryable(408));
        assert!(!retryable(400) && !retryable(401) && !retryable(404) && !retryable(410));
    }
}
