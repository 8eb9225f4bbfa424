//! The bus port on EventBridge: `PutEvents` in batches of at most 10
//! entries and 256 KB, each entry's size checked before sending, failed
//! entries of a partial failure retried (with backoff) and then surfaced.
//!
//! [`EventBridgeBus::publish`] only buffers; [`EventBridgeBus::send`]
//! delivers everything buffered, so the driver decides when events leave
//! (after the state that caused them is committed).

use std::time::Duration;

use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use super::bridge::Bridge;
use super::error::FlowError;
use super::wire::{entry_of, Entry};
use crate::engine::Emitted;
use crate::ports::EventBus;

/// EventBridge's limits: entries per PutEvents and bytes per request.
pub const MAX_ENTRIES: usize = 10;
pub const MAX_BYTES: usize = 256 * 1024;
/// Attempts for entries that failed in a partial failure.
const ATTEMPTS: u32 = 4;

/// Entries that could not be put.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublishError {
    /// One entry is over the size limit (nothing was sent).
    TooLarge { detail_type: String, size: usize },
    /// Entries still failing after the retries, or the request failed.
    Failed { sent: usize, failed: Vec<String> },
}

impl std::fmt::Display for PublishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublishError::TooLarge { detail_type, size } => write!(
                f,
                "a `{detail_type}` event is {size} bytes, over EventBridge's limit of {MAX_BYTES} bytes per entry"
            ),
            PublishError::Failed { sent, failed } => write!(
                f,
                "PutEvents: {} event(s) not delivered after {ATTEMPTS} attempts ({sent} delivered): {}",
                failed.len(),
                failed.join("; ")
            ),
        }
    }
}

impl std::error::Error for PublishError {}

impl From<PublishError> for FlowError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::TooLarge { .. } => FlowError::failed(e.to_string()),
            PublishError::Failed { .. } => FlowError::retryable(e.to_string()),
        }
    }
}

/// Splits entries into PutEvents requests (at most 10 entries and 256 KB
/// each), refusing an entry that is too large on its own.
pub fn batches(entries: &[Entry]) -> Result<Vec<&[Entry]>, PublishError> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, e) in entries.iter().enumerate() {
        let size = e.size();
        if size > MAX_BYTES {
            return Err(PublishError::TooLarge {
                detail_type: e.detail_type.clone(),
                size,
            });
        }
        if i - start == MAX_ENTRIES || bytes + size > MAX_BYTES {
            out.push(&entries[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < entries.len() {
        out.push(&entries[start..]);
    }
    Ok(out)
}

/// Puts `entries` on `bus`; returns the ids EventBridge gave them.
pub async fn put_events(
    client: &aws_sdk_eventbridge::Client,
    bus: &str,
    entries: &[Entry],
) -> Result<Vec<String>, PublishError> {
    let mut ids = Vec::with_capacity(entries.len());
    for batch in batches(entries)? {
        ids.extend(put_batch(client, bus, batch, ids.len()).await?);
    }
    Ok(ids)
}

async fn put_batch(
    client: &aws_sdk_eventbridge::Client,
    bus: &str,
    batch: &[Entry],
    sent_before: usize,
) -> Result<Vec<String>, PublishError> {
    let mut ids = vec![String::new(); batch.len()];
    let mut pending: Vec<usize> = (0..batch.len()).collect();
    let mut failed = Vec::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(50 << (2 * attempt))).await;
        }
        let request = pending
            .iter()
            .map(|&i| request_entry(bus, &batch[i]))
            .collect();
        let out = match client.put_events().set_entries(Some(request)).send().await {
            Ok(out) => out,
            Err(e) => {
                failed = vec![format!(
                    "{}",
                    aws_sdk_eventbridge::error::DisplayErrorContext(e)
                )];
                continue;
            }
        };
        failed.clear();
        let mut again = Vec::new();
        for (slot, result) in pending.iter().zip(out.entries()) {
            match (result.event_id(), result.error_code()) {
                (Some(id), None) => ids[*slot] = id.to_string(),
                (_, code) => {
                    let code = code.unwrap_or("Unknown");
                    failed.push(format!(
                        "{code}: {}",
                        result.error_message().unwrap_or("no message")
                    ));
                    again.push(*slot);
                }
            }
        }
        pending = again;
        if pending.is_empty() {
            return Ok(ids);
        }
    }
    Err(PublishError::Failed {
        sent: sent_before + batch.len() - pending.len(),
        failed,
    })
}

fn request_entry(bus: &str, e: &Entry) -> PutEventsRequestEntry {
    PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source(&e.source)
        .detail_type(&e.detail_type)
        .detail(&e.detail)
        .time(DateTime::from_millis(e.time))
        .build()
}

/// The bus port: buffers what nodes emit; [`send`](Self::send) puts it.
pub struct EventBridgeBus {
    client: aws_sdk_eventbridge::Client,
    bus: String,
    bridge: Bridge,
    buffered: Vec<Entry>,
}

impl EventBridgeBus {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: &str, bridge: Bridge) -> EventBridgeBus {
        EventBridgeBus {
            client,
            bus: bus.to_string(),
            bridge,
            buffered: Vec::new(),
        }
    }

    /// Adds an entry to the buffer.
    pub fn buffer(&mut self, entry: Entry) {
        self.buffered.push(entry);
    }

    /// Puts everything buffered (the buffer is empty afterwards, whatever
    /// the outcome).
    pub fn send(&mut self) -> Result<(), PublishError> {
        let entries = std::mem::take(&mut self.buffered);
        if entries.is_empty() {
            return Ok(());
        }
        self.bridge
            .run(put_events(&self.client, &self.bus, &entries))
            .map(drop)
    }
}

impl EventBus for EventBridgeBus {
    fn publish(&mut self, event: &Emitted) -> Result<(), String> {
        self.buffered.push(entry_of(event));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(bytes: usize) -> Entry {
        Entry {
            source: "s".into(),
            detail_type: "d".into(),
            detail: "x".repeat(bytes),
            time: 0,
        }
    }

    #[test]
    fn batches_by_count_and_size() {
        let entries: Vec<Entry> = (0..23).map(|_| entry(10)).collect();
        let sizes: Vec<usize> = batches(&entries)
            .expect("ok")
            .iter()
            .map(|b| b.len())
            .collect();
        assert_eq!(sizes, [10, 10, 3]);
        let big: Vec<Entry> = (0..3).map(|_| entry(100 * 1024)).collect();
        let sizes: Vec<usize> = batches(&big).expect("ok").iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [2, 1]);
        let too_big = [entry(MAX_BYTES)];
        assert!(matches!(
            batches(&too_big),
            Err(PublishError::TooLarge { .. })
        ));
        assert!(batches(&[]).expect("ok").is_empty());
    }
}
