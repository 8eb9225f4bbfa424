//! Following a stack operation: polls the stack's status and streams its
//! new events (a progress bar on a terminal, one line per event
//! otherwise) until the stack leaves `*_IN_PROGRESS`.

use std::collections::HashSet;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::aws::{sdk_message, Aws};

/// One stack event.
#[derive(Clone, Debug, PartialEq)]
pub struct StackEvent {
    pub id: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
    pub timestamp: String,
}

impl StackEvent {
    pub fn line(&self) -> String {
        let reason = self
            .reason
            .as_deref()
            .map(|r| format!("  {r}"))
            .unwrap_or_default();
        format!(
            "{}  {:<32} {:<28} {}{reason}",
            self.timestamp, self.status, self.logical_id, self.resource_type
        )
    }

    pub fn is_failure(&self) -> bool {
        self.status.ends_with("_FAILED")
    }
}

/// How an operation ended.
pub struct Outcome {
    pub status: String,
    pub reason: Option<String>,
    /// Every failure event of the operation, oldest first.
    pub failures: Vec<StackEvent>,
}

/// The newest events of a stack, newest first (one page: CloudFormation
/// returns up to 100).
pub async fn recent_events(aws: &Aws, stack: &str) -> Result<Vec<StackEvent>, String> {
    Ok(events_page(aws, stack, None).await?.0)
}

/// The events not seen yet, newest first: pages are read until one holds
/// an event already seen, so a busy stack loses none between two polls.
async fn unseen_events(
    aws: &Aws,
    stack: &str,
    seen: &HashSet<String>,
) -> Result<Vec<StackEvent>, String> {
    let mut out = Vec::new();
    let mut token = None;
    // A bound for safety: a stack has at most 500 resources.
    for _ in 0..50 {
        let (page, next) = events_page(aws, stack, token).await?;
        let reached_seen = page.iter().any(|e| seen.contains(&e.id));
        out.extend(page.into_iter().filter(|e| !seen.contains(&e.id)));
        if reached_seen || next.is_none() {
            break;
        }
        token = next;
    }
    Ok(out)
}

async fn events_page(
    aws: &Aws,
    stack: &str,
    token: Option<String>,
) -> Result<(Vec<StackEvent>, Option<String>), String> {
    let out = aws
        .cfn
        .describe_stack_events()
        .stack_name(stack)
        .set_next_token(token)
        .send()
        .await
        .map_err(|e| sdk_message("cloudformation:DescribeStackEvents", &e))?;
    let events = out
        .stack_events()
        .iter()
        .map(|e| StackEvent {
            id: e.event_id().unwrap_or_default().to_string(),
            logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
            resource_type: e.resource_type().unwrap_or_default().to_string(),
            status: e
                .resource_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            reason: e
                .resource_status_reason()
                .filter(|r| !r.is_empty())
                .map(String::from),
            timestamp: e
                .timestamp()
                .and_then(|t| {
                    t.fmt(aws_sdk_cloudformation::primitives::DateTimeFormat::DateTime)
                        .ok()
                })
                .unwrap_or_default(),
        })
        .collect();
    Ok((events, out.next_token().map(String::from)))
}

/// The ids of the events a stack has now, so that `watch` shows only what
/// comes after.
pub async fn seen_events(aws: &Aws, stack: &str) -> HashSet<String> {
    recent_events(aws, stack)
        .await
        .map(|events| events.into_iter().map(|e| e.id).collect())
        .unwrap_or_default()
}

/// Follows `stack_id` until its status is final. `resources` is how many
/// resources the operation touches (the bar's length).
pub async fn watch(
    aws: &Aws,
    stack_id: &str,
    mut seen: HashSet<String>,
    resources: u64,
    verb: &str,
) -> Result<Outcome, String> {
    let bar = ProgressBar::new(resources.max(1));
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:40!} [{bar:30}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(verb.to_string());
    let mut failures = Vec::new();
    let mut delay = Duration::from_millis(250);
    loop {
        let info = super::changeset::describe_stack(aws, stack_id).await?;
        let mut events = unseen_events(aws, stack_id, &seen)
            .await
            .unwrap_or_default();
        events.reverse();
        for event in events {
            if !seen.insert(event.id.clone()) {
                continue;
            }
            if event.resource_type != "AWS::CloudFormation::Stack"
                && (event.status.ends_with("_COMPLETE") || event.is_failure())
            {
                bar.inc(1);
            }
            bar.set_message(format!("{} {}", event.logical_id, event.status));
            if bar.is_hidden() {
                eprintln!("  {}", event.line());
            } else {
                bar.println(format!("  {}", event.line()));
            }
            if event.is_failure() {
                failures.push(event);
            }
        }
        let Some(info) = info else {
            // A deleted stack looked up by name is gone.
            bar.finish_and_clear();
            return Ok(Outcome {
                status: "DELETE_COMPLETE".into(),
                reason: None,
                failures,
            });
        };
        if !info.status.ends_with("_IN_PROGRESS") {
            bar.finish_and_clear();
            return Ok(Outcome {
                status: info.status,
                reason: info.reason,
                failures,
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
