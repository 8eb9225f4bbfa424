//! `flowc deploy`, `plan`, `status`, `destroy` (docs/deploy.md): the
//! project is built and checked locally first (pre-flight: diagnostics,
//! quotas, stage, template size), then the artifacts go to S3 under
//! content-addressed keys, a change set is created and shown as a table
//! and a semantic plan, executed with progress, and a failure is mapped
//! back to the `.flow` declaration of the failed resource.
//!
//! This is the only part of flowc that talks to AWS (the SDK is behind the
//! `deploy` feature); the library stays free of IO.

mod artifacts;
mod aws;
mod changeset;
mod failure;
mod parameters;
mod plan;
mod progress;
pub mod stack;

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use flowc::diagnostic::render::{render_text, TextStyle};
use flowc::syntax::span::Span;
use flowc::SourceSet;
use serde_json::Value;

use crate::cli::deploy::{AwsArgs, DeployArgs, PlanArgs, ProjectArgs};
use crate::cli::project::load_project;
use crate::cli::text_style;
use artifacts::Artifact;
use aws::Aws;
use changeset::{Created, ResourceChange};

/// Where a resource of the template came from.
pub struct OriginInfo {
    pub declaration: String,
    pub location: Option<String>,
    pub span: Option<Span>,
}

impl OriginInfo {
    /// `route Foo (routes.flow:12)`.
    pub fn describe(&self) -> String {
        match &self.location {
            Some(at) => format!("{} ({at})", self.declaration),
            None => self.declaration.clone(),
        }
    }
}

/// Origins by logical id.
pub type Origins = BTreeMap<String, OriginInfo>;

/// A project built for deployment.
struct Built {
    sources: SourceSet,
    project: String,
    template: Value,
    template_text: String,
    graph_json: String,
    origins: Origins,
}

/// A failure already reported to the user, with the exit code to return.
struct Reported(ExitCode);

fn fail(message: impl std::fmt::Display) -> Reported {
    eprintln!("error: {message}");
    Reported(ExitCode::from(1))
}

fn runtime() -> Result<tokio::runtime::Runtime, Reported> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the async runtime: {e}")))
}

fn exit(result: Result<ExitCode, Reported>) -> ExitCode {
    result.unwrap_or_else(|Reported(code)| code)
}

/// Pre-flight: the checks of `flowc build` (diagnostics, quotas), the
/// stage, and the template's size, before anything reaches AWS.
fn build_project(args: &ProjectArgs, style: TextStyle) -> Result<Built, Reported> {
    let sources = load_project(&args.path).map_err(|m| {
        eprintln!("error: {m}");
        Reported(ExitCode::from(2))
    })?;
    check_stage(&args.stage).map_err(fail)?;
    let options = flowc::CheckOptions::for_path(&args.path);
    let (outputs, warnings) =
        match flowc::build(&sources, &options, flowc::codegen::TemplateFormat::Json) {
            Ok(ok) => ok,
            Err(diagnostics) => {
                for d in diagnostics.iter() {
                    eprint!("{}", render_text(d, &sources, style));
                }
                eprintln!(
                    "error: {} has {} error(s); nothing was deployed",
                    args.path.display(),
                    diagnostics.error_count()
                );
                return Err(Reported(ExitCode::from(1)));
            }
        };
    for d in warnings.iter() {
        eprint!("{}", render_text(d, &sources, style));
    }
    let text = outputs.get("template.json").cloned().unwrap_or_default();
    let template: Value = serde_json::from_str(&text)
        .map_err(|e| fail(format!("internal error: the template is not JSON: {e}")))?;
    let template_text = serde_json::to_string(&template).unwrap_or_default();
    if template_text.len() > artifacts::S3_TEMPLATE_MAX {
        return Err(fail(format!(
            "the template has {} bytes; CloudFormation reads at most {} from S3; split the \
             project into several stacks",
            template_text.len(),
            artifacts::S3_TEMPLATE_MAX
        )));
    }
    let checked = flowc::check(&sources, &options);
    let model = checked
        .model
        .ok_or_else(|| fail("internal error: the project checked once and not twice"))?;
    let typed = flowc::codegen::cfn::emit_template(&model, &sources);
    let origins = typed
        .resources
        .iter()
        .map(|(id, resource)| {
            let flowc = &resource.metadata.flowc;
            (
                id.clone(),
                OriginInfo {
                    declaration: flowc.declaration.clone(),
                    location: flowc.source.clone(),
                    span: flowc.span,
                },
            )
        })
        .collect();
    Ok(Built {
        sources,
        project: model.project.clone(),
        template,
        template_text,
        graph_json: outputs.get("graph.json").cloned().unwrap_or_default(),
        origins,
    })
}

/// The template's `Stage` parameter pattern, checked here so that a bad
/// stage is one line and not a CloudFormation validation error.
fn check_stage(stage: &str) -> Result<(), String> {
    let max = flowc::codegen::cfn::names::STAGE_MAX;
    let ok = stage.len() <= max
        && stage.starts_with(|c: char| c.is_ascii_lowercase())
        && stage
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--stage {stage:?}: use lowercase letters, digits and dashes, starting with a letter, \
             at most {max} characters (it is part of bucket and function names)"
        ))
    }
}

/// A change set ready to show and execute.
struct Prepared {
    built: Built,
    aws: Aws,
    stack_existed: bool,
    name: Option<String>,
    changes: Vec<ResourceChange>,
    stage: String,
}

/// Pre-flight, artifacts and the change set, shown. `need_code`: the
/// Lambda binary is required (deploy); a plan may go without it.
async fn prepare(
    project: &ProjectArgs,
    aws_args: &AwsArgs,
    need_code: bool,
) -> Result<Prepared, Reported> {
    let style = text_style(aws_args.color);
    let built = build_project(project, style)?;
    let user_parameters =
        parameters::parse_parameters(&project.parameters, &built.template).map_err(fail)?;
    let built_zip = if project.build_bootstrap {
        Some(artifacts::package_bootstrap(&project.path).map_err(fail)?)
    } else {
        None
    };
    let binary_given =
        project.bootstrap.is_some() || project.bootstrap_zip.is_some() || built_zip.is_some();
    // A plan without a binary compares the template only.
    let zip = (binary_given || need_code).then(|| {
        artifacts::bootstrap_zip(
            project.bootstrap.as_deref(),
            built_zip.as_deref().or(project.bootstrap_zip.as_deref()),
            &built.graph_json,
        )
    });
    if let Some(path) = &built_zip {
        let _ = std::fs::remove_file(path);
    }
    let zip = zip.transpose().map_err(fail)?;
    let aws = aws::connect(aws_args).await.map_err(fail)?;
    let stack = aws_args.stack.as_str();
    let info = changeset::describe_stack(&aws, stack).await.map_err(fail)?;
    let kind = changeset::change_set_type(stack, info.as_ref()).map_err(fail)?;
    let bucket = project
        .artifact_bucket
        .clone()
        .unwrap_or_else(|| artifacts::default_bucket(&aws.account, &aws.region));
    let prefix = format!("flowc/{}", built.project);
    let code = zip.map(|zip| Artifact::new(&prefix, "zip", zip));
    let current_key = info
        .as_ref()
        .and_then(|i| i.parameters.get("ArtifactKey"))
        .cloned();
    let artifact_key = match (&code, &current_key) {
        (Some(code), _) => Some(code.key.clone()),
        // Keep the deployed code.
        (None, Some(_)) => None,
        // A change set that is only shown, never executed.
        (None, None) => Some(format!("{prefix}/not-built.zip")),
    };
    // Every parameter has a value before anything is uploaded.
    let parameters = parameters::template_parameters(
        &built.template,
        [
            ("ArtifactBucket", Some(bucket.clone())),
            ("ArtifactKey", artifact_key),
            ("Stage", Some(project.stage.clone())),
        ],
        &user_parameters,
        info.as_ref().map(|i| &i.parameters),
    )
    .map_err(fail)?;
    artifacts::ensure_bucket(&aws, &bucket)
        .await
        .map_err(fail)?;
    if let Some(code) = &code {
        report_upload(&aws, &bucket, code, "bootstrap.zip").await?;
    }
    let template_url = if built.template_text.len() > artifacts::INLINE_TEMPLATE_MAX {
        let template = Artifact::new(&prefix, "template.json", built.template_text.clone().into());
        report_upload(&aws, &bucket, &template, "template.json").await?;
        Some(artifacts::template_url(&aws.region, &bucket, &template.key))
    } else {
        None
    };
    let old_template = match (&info, &kind) {
        (Some(_), aws_sdk_cloudformation::types::ChangeSetType::Update) => {
            deployed_template(&aws, stack).await
        }
        _ => None,
    };
    let stack_existed = info
        .as_ref()
        .is_some_and(|i| i.status != "REVIEW_IN_PROGRESS");
    // The same template with the same parameters is no change; checked
    // here because not every stand-in recognises it.
    let unchanged = old_template.as_ref() == Some(&built.template)
        && info.as_ref().is_some_and(|i| {
            parameters.iter().all(|(k, v)| match v {
                Some(v) => i.parameters.get(k) == Some(v),
                None => true,
            })
        });
    if unchanged {
        return Ok(Prepared {
            built,
            aws,
            stack_existed,
            name: None,
            changes: Vec::new(),
            stage: project.stage.clone(),
        });
    }
    let request = changeset::Request {
        stack,
        kind: kind.clone(),
        template_body: template_url
            .is_none()
            .then_some(built.template_text.as_str()),
        template_url: template_url.as_deref(),
        parameters,
        description: format!("flowc deploy of project {}", built.project),
    };
    let created = changeset::create(&aws, &request).await.map_err(fail)?;
    let (name, changes) = match created {
        Created::NoChanges => (None, Vec::new()),
        Created::Ready { name, changes } => {
            eprintln!(
                "\nchange set {name} ({} of stack {stack}):",
                kind.as_str().to_lowercase()
            );
            eprint!("{}", changeset::table(&changes, &built.origins));
            print_plan(
                current_key.as_deref(),
                code.as_ref().map(|c| c.key.as_str()),
                old_template.as_ref(),
                &built.template,
            );
            (Some(name), changes)
        }
    };
    Ok(Prepared {
        built,
        aws,
        stack_existed,
        name,
        changes,
        stage: project.stage.clone(),
    })
}

/// The semantic plan, after the change set's table.
fn print_plan(old_key: Option<&str>, new_key: Option<&str>, old: Option<&Value>, new: &Value) {
    let mut lines = Vec::new();
    match new_key {
        Some(new_key) => lines.extend(plan::artifact_line(old_key, new_key)),
        None => lines.push("code: not compared (no --bootstrap given)".to_string()),
    }
    lines.extend(plan::semantic_plan(old, new));
    eprintln!("\nplan:");
    for line in &lines {
        eprintln!("  {line}");
    }
}

async fn report_upload(
    aws: &Aws,
    bucket: &str,
    artifact: &Artifact,
    what: &str,
) -> Result<(), Reported> {
    let uploaded = artifacts::upload(aws, bucket, artifact)
        .await
        .map_err(fail)?;
    eprintln!(
        "{} {what} s3://{bucket}/{} ({} bytes)",
        if uploaded { "uploaded" } else { "unchanged" },
        artifact.key,
        artifact.bytes.len()
    );
    Ok(())
}

/// The template the stack runs now, for the semantic plan; `None` (and
/// a note) when it cannot be read as JSON.
async fn deployed_template(aws: &Aws, stack: &str) -> Option<Value> {
    let out = aws
        .cfn
        .get_template()
        .stack_name(stack)
        .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
        .send()
        .await;
    let body = match out {
        Ok(out) => out.template_body().map(String::from),
        Err(e) => {
            eprintln!(
                "note: {}",
                aws::sdk_message("cloudformation:GetTemplate", &e)
            );
            None
        }
    }?;
    match serde_json::from_str(&body) {
        Ok(value) => Some(value),
        Err(_) => {
            eprintln!(
                "note: the deployed template is not JSON; the plan lists every resource as new"
            );
            None
        }
    }
}

/// Without a terminal to ask on, `--yes` is required, and that is said
/// before anything is built, uploaded or created.
fn require_terminal_or_yes(yes: bool, command: &str) -> Result<(), Reported> {
    if yes || std::io::stdin().is_terminal() {
        Ok(())
    } else {
        Err(fail(format!(
            "{command} asks before it changes a stack and stdin is not a terminal; pass --yes"
        )))
    }
}

/// Deletes a change set that will not be executed, and the empty stack a
/// CREATE change set made (`REVIEW_IN_PROGRESS`), so nothing is left behind.
async fn discard(prepared: &Prepared, stack: &str, name: &str) {
    changeset::delete(&prepared.aws, stack, name).await;
    if !prepared.stack_existed {
        if let Err(e) = prepared
            .aws
            .cfn
            .delete_stack()
            .stack_name(stack)
            .send()
            .await
        {
            eprintln!(
                "warning: {}",
                aws::sdk_message("cloudformation:DeleteStack", &e)
            );
        }
    }
}

/// Asks on a terminal; refuses without one (pass `--yes`).
fn confirm(question: &str) -> Result<bool, Reported> {
    if !std::io::stdin().is_terminal() {
        return Err(fail(format!(
            "{question} needs confirmation and stdin is not a terminal; pass --yes"
        )));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| fail(format!("cannot read the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

pub fn deploy(args: &DeployArgs) -> ExitCode {
    exit(runtime().and_then(|rt| rt.block_on(deploy_async(args))))
}

async fn deploy_async(args: &DeployArgs) -> Result<ExitCode, Reported> {
    let stack = args.aws.stack.as_str();
    require_terminal_or_yes(args.yes, "flowc deploy")?;
    let prepared = prepare(&args.project, &args.aws, true).await?;
    let Some(name) = prepared.name.clone() else {
        eprintln!("no changes: stack {stack} is up to date");
        return Ok(ExitCode::SUCCESS);
    };
    if !args.yes && !confirm(&format!("execute change set {name} on stack {stack}?"))? {
        discard(&prepared, stack, &name).await;
        eprintln!("not deployed; the change set was deleted");
        return Ok(ExitCode::from(1));
    }
    let aws = &prepared.aws;
    let seen = progress::seen_events(aws, stack).await;
    if let Err(e) = aws
        .cfn
        .execute_change_set()
        .stack_name(stack)
        .change_set_name(&name)
        .send()
        .await
    {
        let message = aws::sdk_message("cloudformation:ExecuteChangeSet", &e);
        return Err(stand_in_failure(&prepared, &message, &args.aws).await);
    }
    let verb = if prepared.stack_existed {
        "updating"
    } else {
        "creating"
    };
    let outcome = progress::watch(aws, stack, seen, prepared.changes.len() as u64, verb)
        .await
        .map_err(fail)?;
    if !matches!(
        outcome.status.as_str(),
        "CREATE_COMPLETE" | "UPDATE_COMPLETE"
    ) {
        return Err(stack_failure(&prepared, &outcome, &args.aws));
    }
    eprintln!("stack {stack}: {}", outcome.status);
    let info = changeset::describe_stack(aws, stack).await.map_err(fail)?;
    let outputs = info.map(|i| i.outputs).unwrap_or_default();
    if !outputs.is_empty() {
        println!("outputs:");
        for line in plan::sorted_outputs(outputs.clone()) {
            println!("{line}");
        }
    } else if prepared.built.template["Outputs"]
        .as_object()
        .is_some_and(|o| !o.is_empty())
    {
        eprintln!(
            "note: the stack reports no outputs (moto does not for stacks made with change sets)"
        );
    }
    register(&prepared, &outputs, args).await
}

/// A failure the stack reports with events (CloudFormation): each failed
/// resource at its declaration, then how the stack ended.
fn stack_failure(prepared: &Prepared, outcome: &progress::Outcome, aws_args: &AwsArgs) -> Reported {
    let style = text_style(aws_args.color);
    let stack = aws_args.stack.as_str();
    for event in failure::root_causes(&outcome.failures) {
        eprint!(
            "{}",
            failure::render(
                &event.logical_id,
                &event.resource_type,
                event.reason.as_deref().unwrap_or("no reason given"),
                &prepared.built.origins,
                &prepared.built.sources,
                style,
            )
        );
    }
    let reason = outcome
        .reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    if outcome.status.ends_with("ROLLBACK_FAILED") {
        eprintln!(
            "error: the deployment of stack {stack} failed, and so did its rollback ({}{reason}); \
             `flowc status --stack {stack}` shows what is left",
            outcome.status
        );
    } else {
        eprintln!(
            "error: the deployment of stack {stack} failed and was rolled back ({}{reason})",
            outcome.status
        );
    }
    if outcome.status == "ROLLBACK_COMPLETE" {
        eprintln!(
            "  the stack was never created; delete it with `flowc destroy --stack {stack}` before deploying again"
        );
    }
    Reported(ExitCode::from(1))
}

/// A failure the service reports on ExecuteChangeSet itself (moto does
/// this instead of stack events): the resource is found by the physical
/// name its message quotes.
async fn stand_in_failure(prepared: &Prepared, message: &str, aws_args: &AwsArgs) -> Reported {
    let style = text_style(aws_args.color);
    let stack = aws_args.stack.as_str();
    let vars = [
        ("Stage", prepared.stage.as_str()),
        ("AWS::StackName", stack),
        ("AWS::Region", prepared.aws.region.as_str()),
        ("AWS::AccountId", prepared.aws.account.as_str()),
        ("AWS::URLSuffix", "amazonaws.com"),
    ];
    let names = failure::physical_names(&prepared.built.template, &vars);
    let reason = message
        .strip_prefix("cloudformation:ExecuteChangeSet failed: ")
        .unwrap_or(message);
    let named = failure::resource_named_in(reason, &names).map(|n| n.logical_id.clone());
    let found = match named {
        Some(id) => Some(id),
        None => existing_bucket(&prepared.aws, reason, &names).await,
    };
    match found.as_deref() {
        Some(id) => {
            let kind = prepared.built.template["Resources"][id]["Type"]
                .as_str()
                .unwrap_or("resource");
            eprint!(
                "{}",
                failure::render(
                    id,
                    kind,
                    reason,
                    &prepared.built.origins,
                    &prepared.built.sources,
                    style
                )
            );
        }
        None => eprintln!("error: {message}"),
    }
    let status = changeset::describe_stack(&prepared.aws, stack)
        .await
        .ok()
        .flatten()
        .map(|i| i.status)
        .unwrap_or_else(|| "unknown".into());
    eprintln!(
        "error: the deployment of stack {stack} failed; the stack is in {status} \
         (`flowc status --stack {stack}`; `flowc destroy --stack {stack}` to start over)"
    );
    Reported(ExitCode::from(1))
}

/// S3 does not quote the bucket in "BucketAlreadyExists": of the buckets
/// the template names, the one that exists already is the one that failed
/// (a bucket with a generated name cannot collide).
async fn existing_bucket(aws: &Aws, reason: &str, names: &[failure::Named]) -> Option<String> {
    if !failure::kind_is_mentioned(&reason.to_ascii_lowercase(), "AWS::S3::Bucket") {
        return None;
    }
    for named in names
        .iter()
        .filter(|n| n.resource_type == "AWS::S3::Bucket")
    {
        let exists = match aws.s3.head_bucket().bucket(&named.name).send().await {
            Ok(_) => true,
            Err(e) => e.raw_response().is_some_and(|r| r.status().as_u16() == 403),
        };
        if exists {
            return Some(named.logical_id.clone());
        }
    }
    None
}

/// After a successful deploy: the project's events, flows and routes into
/// the deployed Event Store, as `flowc publish --sigv4` does.
async fn register(
    prepared: &Prepared,
    outputs: &[(String, String)],
    args: &DeployArgs,
) -> Result<ExitCode, Reported> {
    let Some(url) = outputs
        .iter()
        .find(|(k, _)| k == "EventStoreApiUrl")
        .map(|(_, v)| v.clone())
    else {
        return Ok(ExitCode::SUCCESS);
    };
    if args.no_publish {
        return Ok(ExitCode::SUCCESS);
    }
    if args.aws.endpoint_url.is_some() {
        eprintln!(
            "note: not registering in the Event Store: with --endpoint-url its API ({url}) is not served"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let graph = flow_runtime::graph::Graph::from_json(&prepared.built.graph_json)
        .map_err(|e| fail(format!("internal error: graph.json: {e:?}")))?;
    let signer = crate::cli::publish::Signer::new(
        prepared.aws.credentials.clone(),
        prepared.aws.region.clone(),
    );
    let stack = args.aws.stack.clone();
    let published = tokio::task::spawn_blocking(move || {
        crate::cli::publish::publish_signed(&url, &graph, signer)
    })
    .await
    .map_err(|e| fail(format!("internal error: {e}")))?;
    match published {
        Ok(changes) if changes.is_empty() => {
            eprintln!("event store: up to date");
            Ok(ExitCode::SUCCESS)
        }
        Ok(changes) => {
            for c in &changes {
                eprintln!("  {c}");
            }
            eprintln!("event store: {} change(s) registered", changes.len());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(fail(format!(
            "stack {stack} is deployed, but registering in its Event Store failed: {e}; retry \
             with `flowc publish PATH --api URL --sigv4`"
        ))),
    }
}

pub fn plan(args: &PlanArgs) -> ExitCode {
    exit(runtime().and_then(|rt| rt.block_on(plan_async(args))))
}

async fn plan_async(args: &PlanArgs) -> Result<ExitCode, Reported> {
    let stack = args.aws.stack.as_str();
    let prepared = prepare(&args.project, &args.aws, false).await?;
    let Some(name) = &prepared.name else {
        eprintln!("no changes: stack {stack} is up to date");
        return Ok(ExitCode::SUCCESS);
    };
    discard(&prepared, stack, name).await;
    eprintln!("plan only: nothing was changed (run `flowc deploy` to apply)");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::check_stage;

    #[test]
    fn the_stage_is_checked_before_anything_is_deployed() {
        assert!(check_stage("dev").is_ok());
        assert!(check_stage("prod-2").is_ok());
        assert!(check_stage("Prod").is_err());
        assert!(check_stage("2dev").is_err());
        assert!(check_stage("a-very-long-stage").is_err());
    }
}
