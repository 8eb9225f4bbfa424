//! `flowc status` and `flowc destroy`: a stack's state, outputs and last
//! events; its deletion with progress, and the emptying of its buckets
//! only when asked.

use std::process::ExitCode;

use super::aws::{self, Aws};
use super::{changeset, exit, fail, failure, plan, progress, require_terminal_or_yes, runtime};
use super::{confirm, Reported};
use crate::cli::deploy::{DestroyArgs, StatusArgs};

pub fn status(args: &StatusArgs) -> ExitCode {
    exit(runtime().and_then(|rt| rt.block_on(status_async(args))))
}

async fn status_async(args: &StatusArgs) -> Result<ExitCode, Reported> {
    let stack = args.aws.stack.as_str();
    let aws = aws::connect(&args.aws).await.map_err(fail)?;
    let Some(info) = changeset::describe_stack(&aws, stack).await.map_err(fail)? else {
        return Err(fail(format!("stack {stack} does not exist")));
    };
    let reason = info
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    println!("stack {stack}: {}{reason}", info.status);
    if !info.outputs.is_empty() {
        println!("outputs:");
        for line in plan::sorted_outputs(info.outputs.clone()) {
            println!("{line}");
        }
    }
    let mut events = progress::recent_events(&aws, stack).await.map_err(fail)?;
    events.truncate(args.events);
    if !events.is_empty() {
        println!("last events:");
        for event in events.iter().rev() {
            println!("  {}", event.line());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn destroy(args: &DestroyArgs) -> ExitCode {
    exit(runtime().and_then(|rt| rt.block_on(destroy_async(args))))
}

async fn destroy_async(args: &DestroyArgs) -> Result<ExitCode, Reported> {
    let stack = args.aws.stack.as_str();
    require_terminal_or_yes(args.yes, "flowc destroy")?;
    let aws = aws::connect(&args.aws).await.map_err(fail)?;
    let Some(info) = changeset::describe_stack(&aws, stack).await.map_err(fail)? else {
        eprintln!("stack {stack} does not exist; nothing to destroy");
        return Ok(ExitCode::SUCCESS);
    };
    if !args.yes && !confirm(&format!("delete stack {stack} and every resource in it?"))? {
        eprintln!("not deleted");
        return Ok(ExitCode::from(1));
    }
    let buckets = match stack_buckets(&aws, stack).await {
        Ok(buckets) => buckets,
        // Emptying needs the list; a plain delete does not.
        Err(e) if args.empty_buckets => return Err(fail(e)),
        Err(e) => {
            eprintln!("warning: {e}");
            Vec::new()
        }
    };
    if args.empty_buckets {
        for bucket in &buckets {
            let removed = empty_bucket(&aws, bucket).await.map_err(fail)?;
            eprintln!("emptied bucket {bucket} ({removed} object version(s))");
        }
    } else if !buckets.is_empty() {
        eprintln!(
            "note: buckets are kept as they are ({}); a bucket that is not empty makes the \
             deletion fail; --empty-buckets empties them first",
            buckets.join(", ")
        );
    }
    let seen = progress::seen_events(&aws, &info.id).await;
    aws.cfn
        .delete_stack()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| fail(aws::sdk_message("cloudformation:DeleteStack", &e)))?;
    let resources = stack_resource_count(&aws, stack).await;
    let outcome = progress::watch(&aws, &info.id, seen, resources, "deleting")
        .await
        .map_err(fail)?;
    if outcome.status == "DELETE_COMPLETE" {
        eprintln!("stack {stack}: DELETE_COMPLETE");
        return Ok(ExitCode::SUCCESS);
    }
    for event in failure::root_causes(&outcome.failures) {
        eprintln!(
            "error: {} {} failed: {}",
            event.resource_type,
            event.logical_id,
            event.reason.as_deref().unwrap_or("no reason given")
        );
    }
    Err(fail(format!(
        "stack {stack} was not deleted ({}); a non-empty bucket is the usual cause: \
         `flowc destroy --stack {stack} --empty-buckets`",
        outcome.status
    )))
}

/// The physical names of the stack's buckets.
async fn stack_buckets(aws: &Aws, stack: &str) -> Result<Vec<String>, String> {
    let out = aws
        .cfn
        .describe_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| aws::sdk_message("cloudformation:DescribeStackResources", &e))?;
    Ok(out
        .stack_resources()
        .iter()
        .filter(|r| r.resource_type() == Some("AWS::S3::Bucket"))
        .filter_map(|r| r.physical_resource_id().map(String::from))
        .collect())
}

async fn stack_resource_count(aws: &Aws, stack: &str) -> u64 {
    aws.cfn
        .describe_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .map(|out| out.stack_resources().len() as u64)
        .unwrap_or(0)
}

/// Deletes every object version and delete marker of a bucket.
async fn empty_bucket(aws: &Aws, bucket: &str) -> Result<usize, String> {
    use aws_sdk_s3::types::{Delete, ObjectIdentifier};
    let mut removed = 0;
    loop {
        let page = aws
            .s3
            .list_object_versions()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| aws::sdk_message(&format!("s3:ListObjectVersions {bucket}"), &e))?;
        let mut ids = Vec::new();
        let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = page
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        for (key, version) in versions.chain(markers) {
            let Some(key) = key else { continue };
            let id = ObjectIdentifier::builder()
                .key(key)
                .set_version_id(version.map(String::from))
                .build()
                .map_err(|e| e.to_string())?;
            ids.push(id);
        }
        if ids.is_empty() {
            return Ok(removed);
        }
        removed += ids.len();
        let delete = Delete::builder()
            .set_objects(Some(ids))
            .quiet(true)
            .build()
            .map_err(|e| e.to_string())?;
        aws.s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| aws::sdk_message(&format!("s3:DeleteObjects {bucket}"), &e))?;
    }
}
