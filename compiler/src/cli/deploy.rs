//! `flowc deploy`, `flowc plan`, `flowc status`, `flowc destroy`: the
//! arguments; the work is in `crate::deploy` (docs/deploy.md).

use std::path::PathBuf;
use std::process::ExitCode;

use super::Color;

/// Where and as whom to talk to AWS: the standard credential chain and
/// region resolution, narrowed by these flags.
#[derive(clap::Args, Clone)]
pub struct AwsArgs {
    /// The CloudFormation stack.
    #[arg(long)]
    pub stack: String,
    /// AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region).
    #[arg(long)]
    pub region: Option<String>,
    /// Named profile of ~/.aws/config (default: AWS_PROFILE).
    #[arg(long)]
    pub profile: Option<String>,
    /// Endpoint of every AWS service, for stand-ins (moto, LocalStack).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// What `deploy` and `plan` build and upload.
#[derive(clap::Args, Clone)]
pub struct ProjectArgs {
    /// The project directory (or a single file).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Deployment stage: the template's `Stage` parameter, part of every
    /// resource name.
    #[arg(long, default_value = "dev")]
    pub stage: String,
    /// The `bootstrap` executable (provided.al2023); flowc zips it with this
    /// build's graph.json.
    #[arg(long, value_name = "FILE", conflicts_with = "bootstrap_zip")]
    pub bootstrap: Option<PathBuf>,
    /// A ready bootstrap.zip (scripts/package-bootstrap); its graph.json
    /// must be this build's.
    #[arg(long, value_name = "FILE")]
    pub bootstrap_zip: Option<PathBuf>,
    /// Build bootstrap.zip first with scripts/package-bootstrap (in a flowc
    /// checkout; a release build that takes minutes).
    #[arg(long, conflicts_with_all = ["bootstrap", "bootstrap_zip"])]
    pub build_bootstrap: bool,
    /// A value for a template parameter flowc does not set itself (repeat
    /// for several); an update keeps the stack's value of one not given.
    #[arg(long = "parameter", value_name = "KEY=VALUE")]
    pub parameters: Vec<String>,
    /// S3 bucket for the artifacts (default: flowc-artifacts-ACCOUNT-REGION,
    /// created when missing).
    #[arg(long, value_name = "NAME")]
    pub artifact_bucket: Option<String>,
}

/// Build, upload, preview the change set and semantic plan, execute it.
#[derive(clap::Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Execute without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Skip registering events, flows and routes in the deployed Event Store.
    #[arg(long)]
    pub no_publish: bool,
}

/// The change set and semantic plan of a deploy, without executing it.
#[derive(clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// A deployed stack's state, outputs and last events.
#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// How many of the last stack events to show.
    #[arg(long, default_value_t = 10)]
    pub events: usize,
}

/// Delete a deployed stack.
#[derive(clap::Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Delete without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Empty the buckets the stack owns first (their objects are lost);
    /// without it a non-empty bucket makes the deletion fail.
    #[arg(long)]
    pub empty_buckets: bool,
}

pub fn deploy(args: &DeployArgs) -> ExitCode {
    crate::deploy::deploy(args)
}

pub fn plan(args: &PlanArgs) -> ExitCode {
    crate::deploy::plan(args)
}

pub fn status(args: &StatusArgs) -> ExitCode {
    crate::deploy::stack::status(args)
}

pub fn destroy(args: &DestroyArgs) -> ExitCode {
    crate::deploy::stack::destroy(args)
}
