//! Stacks and change sets: what state a stack is in (and whether it can be
//! changed), creating a change set of the right type, waiting for it,
//! listing its changes, and the "no changes" case in both of the forms
//! CloudFormation and its stand-ins report it.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter};

use super::aws::{sdk_message, service_code, service_message, Aws};
use super::Origins;

/// A stack as `describe_stacks` sees it.
pub struct StackInfo {
    pub id: String,
    pub status: String,
    pub reason: Option<String>,
    pub outputs: Vec<(String, String)>,
    pub parameters: BTreeMap<String, String>,
}

/// The stack, or `None` when there is none of that name.
pub async fn describe_stack(aws: &Aws, stack: &str) -> Result<Option<StackInfo>, String> {
    match aws.cfn.describe_stacks().stack_name(stack).send().await {
        Ok(out) => Ok(out.stacks().first().map(|s| StackInfo {
            id: s.stack_id().unwrap_or_default().to_string(),
            status: s
                .stack_status()
                .map(|st| st.as_str().to_string())
                .unwrap_or_default(),
            reason: s.stack_status_reason().map(String::from),
            outputs: s
                .outputs()
                .iter()
                .map(|o| {
                    (
                        o.output_key().unwrap_or_default().to_string(),
                        o.output_value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            parameters: s
                .parameters()
                .iter()
                .map(|p| {
                    (
                        p.parameter_key().unwrap_or_default().to_string(),
                        p.parameter_value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        })),
        Err(e)
            if service_code(&e).as_deref() == Some("ValidationError")
                && service_message(&e).is_some_and(|m| m.contains("does not exist")) =>
        {
            Ok(None)
        }
        Err(e) => Err(sdk_message("cloudformation:DescribeStacks", &e)),
    }
}

/// CREATE for a new stack (or one that only ever had change sets),
/// UPDATE for a stack that can be updated; a clear error for the states
/// in which CloudFormation refuses both.
pub fn change_set_type(stack: &str, info: Option<&StackInfo>) -> Result<ChangeSetType, String> {
    let Some(info) = info else {
        return Ok(ChangeSetType::Create);
    };
    match info.status.as_str() {
        "REVIEW_IN_PROGRESS" => Ok(ChangeSetType::Create),
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => Err(format!(
            "stack {stack} is in {}: its first deployment failed and CloudFormation cannot update \
             it; delete it with `flowc destroy --stack {stack}` and deploy again",
            info.status
        )),
        "UPDATE_ROLLBACK_FAILED" => Err(format!(
            "stack {stack} is in UPDATE_ROLLBACK_FAILED: a rollback could not finish; fix the cause \
             (see `flowc status --stack {stack}`), then run `aws cloudformation \
             continue-update-rollback --stack-name {stack}` and deploy again"
        )),
        "DELETE_FAILED" => Err(format!(
            "stack {stack} is in DELETE_FAILED; run `flowc destroy --stack {stack} \
             --empty-buckets` (a non-empty bucket is the usual cause) and deploy again"
        )),
        s if s.ends_with("_IN_PROGRESS") => Err(format!(
            "stack {stack} is busy ({s}); wait for it to finish (`flowc status --stack {stack}`)"
        )),
        _ => Ok(ChangeSetType::Update),
    }
}

/// What a change set is made of.
pub struct Request<'a> {
    pub stack: &'a str,
    pub kind: ChangeSetType,
    pub template_body: Option<&'a str>,
    pub template_url: Option<&'a str>,
    /// Parameter values; `None` keeps the stack's current value.
    pub parameters: Vec<(String, Option<String>)>,
    pub description: String,
}

/// One resource change of a change set.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceChange {
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub replacement: String,
}

/// A created change set, or the news that there is nothing to change.
pub enum Created {
    Ready {
        name: String,
        changes: Vec<ResourceChange>,
    },
    NoChanges,
}

fn is_no_changes(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

/// Creates a change set and waits until it is ready. An empty change set
/// is `NoChanges` whether CloudFormation fails it (FAILED, "didn't contain
/// changes") or refuses to create it ("No updates are to be performed.").
pub async fn create(aws: &Aws, request: &Request<'_>) -> Result<Created, String> {
    let name = format!("flowc-{}", unix_seconds());
    let mut call = aws
        .cfn
        .create_change_set()
        .stack_name(request.stack)
        .change_set_name(&name)
        .change_set_type(request.kind.clone())
        .description(&request.description)
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam);
    if let Some(body) = request.template_body {
        call = call.template_body(body);
    }
    if let Some(url) = request.template_url {
        call = call.template_url(url);
    }
    for (key, value) in &request.parameters {
        let parameter = Parameter::builder().parameter_key(key);
        let parameter = match value {
            Some(value) => parameter.parameter_value(value),
            None => parameter.use_previous_value(true),
        };
        call = call.parameters(parameter.build());
    }
    if let Err(e) = call.send().await {
        if service_message(&e).is_some_and(|m| is_no_changes(&m)) {
            return Ok(Created::NoChanges);
        }
        return Err(sdk_message("cloudformation:CreateChangeSet", &e));
    }
    let mut delay = Duration::from_millis(200);
    loop {
        let described = aws
            .cfn
            .describe_change_set()
            .stack_name(request.stack)
            .change_set_name(&name)
            .send()
            .await
            .map_err(|e| sdk_message("cloudformation:DescribeChangeSet", &e))?;
        match described.status() {
            Some(ChangeSetStatus::CreateComplete) => break,
            Some(ChangeSetStatus::Failed) => {
                let reason = described.status_reason().unwrap_or("").to_string();
                delete(aws, request.stack, &name).await;
                if is_no_changes(&reason) {
                    return Ok(Created::NoChanges);
                }
                return Err(format!("CloudFormation refused the change set: {reason}"));
            }
            _ => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(3));
            }
        }
    }
    let changes = list_changes(aws, request.stack, &name).await?;
    Ok(Created::Ready { name, changes })
}

async fn list_changes(aws: &Aws, stack: &str, name: &str) -> Result<Vec<ResourceChange>, String> {
    let mut changes = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws
            .cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| sdk_message("cloudformation:DescribeChangeSet", &e))?;
        for change in page.changes() {
            let Some(rc) = change.resource_change() else {
                continue;
            };
            changes.push(ResourceChange {
                action: rc
                    .action()
                    .map(|a| a.as_str().to_string())
                    .unwrap_or_default(),
                logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
                resource_type: rc.resource_type().unwrap_or_default().to_string(),
                replacement: rc
                    .replacement()
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default(),
            });
        }
        token = page.next_token().map(String::from);
        if token.is_none() {
            return Ok(changes);
        }
    }
}

/// Deletes a change set; a failure here only leaves a change set behind,
/// so it is reported and not fatal.
pub async fn delete(aws: &Aws, stack: &str, name: &str) {
    if let Err(e) = aws
        .cfn
        .delete_change_set()
        .stack_name(stack)
        .change_set_name(name)
        .send()
        .await
    {
        eprintln!(
            "warning: {}",
            sdk_message("cloudformation:DeleteChangeSet", &e)
        );
    }
}

/// The change set as a table: action, logical id, type, replacement and
/// the `.flow` declaration each resource comes from.
pub fn table(changes: &[ResourceChange], origins: &Origins) -> String {
    let rows: Vec<[String; 5]> = changes
        .iter()
        .map(|c| {
            let origin = origins
                .get(&c.logical_id)
                .map(|o| o.describe())
                .unwrap_or_default();
            let replacement = match c.replacement.as_str() {
                "" => "-".to_string(),
                r => r.to_string(),
            };
            [
                c.action.clone(),
                c.logical_id.clone(),
                c.resource_type.clone(),
                replacement,
                origin,
            ]
        })
        .collect();
    let header = [
        "Action".to_string(),
        "Logical id".to_string(),
        "Type".to_string(),
        "Replace".to_string(),
        "From".to_string(),
    ];
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: &[String; 5]| {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        format!("  {}\n", cells.join("  ").trim_end())
    };
    let mut out = line(&header);
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(status: &str) -> StackInfo {
        StackInfo {
            id: "s".into(),
            status: status.into(),
            reason: None,
            outputs: Vec::new(),
            parameters: BTreeMap::new(),
        }
    }

    #[test]
    fn the_stack_state_decides_the_change_set_type() {
        assert_eq!(change_set_type("s", None), Ok(ChangeSetType::Create));
        assert_eq!(
            change_set_type("s", Some(&info("REVIEW_IN_PROGRESS"))),
            Ok(ChangeSetType::Create)
        );
        assert_eq!(
            change_set_type("s", Some(&info("UPDATE_ROLLBACK_COMPLETE"))),
            Ok(ChangeSetType::Update)
        );
        let err = change_set_type("s", Some(&info("ROLLBACK_COMPLETE"))).expect_err("stuck");
        assert!(err.contains("flowc destroy --stack s"), "{err}");
        let err = change_set_type("s", Some(&info("UPDATE_ROLLBACK_FAILED"))).expect_err("stuck");
        assert!(err.contains("continue-update-rollback"), "{err}");
        let err = change_set_type("s", Some(&info("UPDATE_IN_PROGRESS"))).expect_err("busy");
        assert!(err.contains("busy"), "{err}");
    }

    #[test]
    fn both_forms_of_an_empty_change_set_are_no_changes() {
        assert!(is_no_changes("No updates are to be performed."));
        assert!(is_no_changes(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        ));
        assert!(!is_no_changes("Template format error"));
    }
}
