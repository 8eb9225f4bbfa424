//! `flowc deploy`, `plan`, `status`, `destroy`: the real binary against
//! moto server (`scripts/with-moto` sets FLOWC_AWS_ENDPOINT; without it the
//! moto tests print a notice and pass). The errors that come before any
//! AWS call (region, credentials, pre-flight) are tested without a server.
//!
//! moto does not run Lambda, so the `bootstrap` deployed here is a
//! placeholder file: what is tested is the deployment (artifacts, change
//! sets, plan, progress, failures), not the runtime (runtime/tests/aws_*).
//! The tests share one moto server and reset it, so they take turns.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};

static MOTO: Mutex<()> = Mutex::new(());

/// moto's account id, part of the trigger buckets' names.
const ACCOUNT: &str = "123456789012";

const SHOP: &str = r#"// A small shop: clicks counted per user (long clicks only), uploads
// recorded.
event Click {
  source      "acme.shop"
  detail_type "click"
  profile     { user_id: string }
  data        { page: string, ms: int }
}

event Upload {
  profile { user_id: string }
  data    { file: object }
}

trigger Clicks  = sdk -> Click
trigger Uploads = s3 "shop-uploads" -> Upload

filter ByUser = counter(Click) {
  key   profile.user_id
  every 10 events
  emit  UserClicks
}

route LongClicks = Click -> ByUser
  when data.ms > 100

app Shop {
  nodes ByUser
  sink Users   = dynamodb(UserClicks) { key profile.user_id }
  sink Uploads = dynamodb(Upload) { key profile.user_id }
}
"#;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The stand-in's endpoint, or `None` after printing a skip notice.
fn endpoint(test: &str) -> Option<String> {
    match std::env::var("FLOWC_AWS_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ => {
            eprintln!(
                "skipped {test}: FLOWC_AWS_ENDPOINT is not set (run under scripts/with-moto)"
            );
            None
        }
    }
}

/// The moto server to ourselves, emptied.
fn moto(endpoint: &str) -> MutexGuard<'static, ()> {
    let guard = MOTO.lock().unwrap_or_else(|e| e.into_inner());
    reqwest::blocking::Client::new()
        .post(format!("{endpoint}/moto-api/reset"))
        .send()
        .expect("moto reset")
        .error_for_status()
        .expect("moto reset ok");
    guard
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// `flowc ARGS --endpoint-url E --color never` with dummy credentials.
fn flowc(endpoint: &str, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowc"));
    cmd.args(args)
        .args(["--endpoint-url", endpoint, "--color", "never"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_SESSION_TOKEN", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE");
    cmd.output().expect("run flowc").into()
}

/// A scratch directory with the shop project (as `shop/`, which names the
/// project) and a placeholder `bootstrap`.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("shop")).expect("mkdir");
        std::fs::write(dir.path().join("shop/shop.flow"), SHOP).expect("write");
        std::fs::write(dir.path().join("bootstrap"), "#!/bin/sh\nexit 0\n").expect("write");
        Scratch { dir }
    }
    fn shop(&self) -> String {
        self.dir.path().join("shop").display().to_string()
    }
    fn bootstrap(&self) -> String {
        self.dir.path().join("bootstrap").display().to_string()
    }
    fn edit(&self, from: &str, to: &str) {
        let path = self.dir.path().join("shop/shop.flow");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains(from));
        std::fs::write(&path, text.replace(from, to)).expect("write");
    }
}

fn deploy(
    endpoint: &str,
    project: &str,
    stack: &str,
    bootstrap: &str,
    parameters: &[(String, String)],
) -> Run {
    let mut args = vec![
        "deploy".to_string(),
        project.to_string(),
        "--stack".to_string(),
        stack.to_string(),
        "--bootstrap".to_string(),
        bootstrap.to_string(),
        "--yes".to_string(),
    ];
    for (key, value) in parameters {
        args.push("--parameter".into());
        args.push(format!("{key}={value}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    flowc(endpoint, &args)
}

/// Resource types moto 5.x does not implement and that the stack cannot
/// complete without (a `Fn::GetAtt` of them fails the whole template).
const NOT_IN_MOTO: [&str; 1] = ["AWS::QBusiness::"];

/// The first resource type of the last built template (`required_parameters`
/// builds it) that moto cannot represent.
fn unrepresentable(scratch: &Scratch) -> Option<String> {
    let text = std::fs::read_to_string(scratch.dir.path().join("build/template.json")).ok()?;
    let template: serde_json::Value = serde_json::from_str(&text).ok()?;
    let resources = template["Resources"].as_object()?;
    resources
        .values()
        .filter_map(|r| r["Type"].as_str())
        .find(|t| NOT_IN_MOTO.iter().any(|prefix| t.starts_with(prefix)))
        .map(String::from)
}

/// The template parameters a project needs a value for besides flowc's
/// own, each with a value its `AllowedPattern` accepts.
fn required_parameters(project: &str, scratch: &Scratch) -> Vec<(String, String)> {
    let out = scratch.dir.path().join("build");
    let built = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(["build", project, "-o"])
        .arg(&out)
        .output()
        .expect("flowc build");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let text = std::fs::read_to_string(out.join("template.json")).expect("template");
    let template: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut required = Vec::new();
    for (name, declared) in template["Parameters"].as_object().expect("parameters") {
        let own = ["ArtifactBucket", "ArtifactKey", "Stage"].contains(&name.as_str());
        if own || declared.get("Default").is_some() {
            continue;
        }
        let value = match name.as_str() {
            "AmazonQIdentityCenterInstanceArn" => "arn:aws:sso:::instance/ssoins-0123456789abcdef",
            other => panic!("no sample value for the template parameter {other}; add one here"),
        };
        required.push((name.clone(), value.to_string()));
    }
    required
}

#[test]
fn every_example_deploys_redeploys_without_changes_and_is_destroyed() {
    let Some(endpoint) =
        endpoint("every_example_deploys_redeploys_without_changes_and_is_destroyed")
    else {
        return;
    };
    let _moto = moto(&endpoint);
    let scratch = Scratch::new();
    for example in ["timecard", "productivity-coach", "knowledge-base"] {
        let project = root().join("examples").join(example).display().to_string();
        let parameters = required_parameters(&project, &scratch);
        if let Some((name, _)) = parameters.first() {
            let refused = deploy(&endpoint, &project, example, &scratch.bootstrap(), &[]);
            assert_eq!(refused.code, 1, "{}", refused.all());
            assert!(
                refused
                    .stderr
                    .contains(&format!("error: the template needs a value for {name} (")),
                "{}",
                refused.stderr
            );
        }
        if let Some(kind) = unrepresentable(&scratch) {
            eprintln!(
                "not deploying {example} on moto: its template uses {kind}, which moto 5.x does \
                 not implement (docs/deploy.md)"
            );
            continue;
        }
        let first = deploy(
            &endpoint,
            &project,
            example,
            &scratch.bootstrap(),
            &parameters,
        );
        assert_eq!(first.code, 0, "{example}: {}", first.all());
        // Over 51,200 bytes: the template goes through S3.
        assert!(
            first
                .stderr
                .contains("uploaded template.json s3://flowc-artifacts-"),
            "{}",
            first.stderr
        );
        assert!(
            first.stderr.contains("uploaded bootstrap.zip"),
            "{}",
            first.stderr
        );
        assert!(
            first
                .stderr
                .contains(&format!("(create of stack {example})")),
            "{}",
            first.stderr
        );
        assert!(
            first
                .stderr
                .contains(&format!("stack {example}: CREATE_COMPLETE")),
            "{}",
            first.stderr
        );

        // An update keeps the values it is not given.
        let again = deploy(&endpoint, &project, example, &scratch.bootstrap(), &[]);
        assert_eq!(again.code, 0, "{}", again.all());
        assert!(
            again.stderr.contains("unchanged bootstrap.zip"),
            "{}",
            again.stderr
        );
        assert!(
            again
                .stderr
                .contains(&format!("no changes: stack {example} is up to date")),
            "{}",
            again.stderr
        );

        let status = flowc(&endpoint, &["status", "--stack", example]);
        assert_eq!(status.code, 0, "{}", status.all());
        assert!(
            status
                .stdout
                .contains(&format!("stack {example}: CREATE_COMPLETE")),
            "{}",
            status.stdout
        );
        assert!(status.stdout.contains("last events:"), "{}", status.stdout);

        let gone = flowc(
            &endpoint,
            &["destroy", "--stack", example, "--yes", "--empty-buckets"],
        );
        assert_eq!(gone.code, 0, "{}", gone.all());
        assert!(
            gone.stderr
                .contains(&format!("stack {example}: DELETE_COMPLETE")),
            "{}",
            gone.stderr
        );
        let after = flowc(&endpoint, &["status", "--stack", example]);
        assert_eq!(after.code, 1, "{}", after.all());
        assert!(
            after
                .stderr
                .contains(&format!("stack {example} does not exist")),
            "{}",
            after.stderr
        );
    }
}

#[test]
fn a_changed_route_condition_is_an_update_naming_its_rule() {
    let Some(endpoint) = endpoint("a_changed_route_condition_is_an_update_naming_its_rule") else {
        return;
    };
    let _moto = moto(&endpoint);
    let scratch = Scratch::new();
    let first = deploy(
        &endpoint,
        &scratch.shop(),
        "shop",
        &scratch.bootstrap(),
        &[],
    );
    assert_eq!(first.code, 0, "{}", first.all());
    // Under 51,200 bytes: the template is sent inline.
    assert!(
        !first.stderr.contains("template.json s3://"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("Add     LongClicksRule"),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains(r#"+ route LongClicks (shop.flow:24): rule LongClicksRule pattern {"detail":{"data":{"ms":[{"numeric":[">",100]}]}}"#),
        "{}",
        first.stderr
    );

    scratch.edit("when data.ms > 100", "when data.ms > 250");
    let plan = flowc(
        &endpoint,
        &[
            "plan",
            &scratch.shop(),
            "--stack",
            "shop",
            "--bootstrap",
            &scratch.bootstrap(),
        ],
    );
    assert_eq!(plan.code, 0, "{}", plan.all());
    let table_row = plan
        .stderr
        .lines()
        .find(|l| l.contains("LongClicksRule "))
        .unwrap_or_else(|| panic!("no row for the rule: {}", plan.stderr));
    assert!(table_row.trim_start().starts_with("Modify"), "{table_row}");
    assert!(table_row.contains("AWS::Events::Rule"), "{table_row}");
    assert!(
        table_row.contains("route LongClicks (shop.flow:24)"),
        "{table_row}"
    );
    assert!(
        plan.stderr.contains("(update of stack shop)"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr
            .contains("~ route LongClicks (shop.flow:24): AWS::Events::Rule LongClicksRule"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr
            .contains(r#"- pattern {"detail":{"data":{"ms":[{"numeric":[">",100]}]}}"#),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr
            .contains(r#"+ pattern {"detail":{"data":{"ms":[{"numeric":[">",250]}]}}"#),
        "{}",
        plan.stderr
    );
    // Without a binary, the deployed code is kept and only the template compared.
    let template_only = flowc(&endpoint, &["plan", &scratch.shop(), "--stack", "shop"]);
    assert_eq!(template_only.code, 0, "{}", template_only.all());
    assert!(
        template_only
            .stderr
            .contains("code: not compared (no --bootstrap given)")
            && template_only.stderr.contains("Modify  LongClicksRule")
            && template_only
                .stderr
                .contains(r#"+ pattern {"detail":{"data":{"ms":[{"numeric":[">",250]}]}}"#),
        "{}",
        template_only.stderr
    );
    // The graph changed, so the artifact did too.
    assert!(
        plan.stderr.contains("~ code: bootstrap.zip"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains("plan only: nothing was changed"),
        "{}",
        plan.stderr
    );

    let update = deploy(
        &endpoint,
        &scratch.shop(),
        "shop",
        &scratch.bootstrap(),
        &[],
    );
    assert_eq!(update.code, 0, "{}", update.all());
    assert!(
        update.stderr.contains("Modify  LongClicksRule"),
        "{}",
        update.stderr
    );
    assert!(
        update.stderr.contains("stack shop: UPDATE_COMPLETE"),
        "{}",
        update.stderr
    );

    let again = deploy(
        &endpoint,
        &scratch.shop(),
        "shop",
        &scratch.bootstrap(),
        &[],
    );
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again
            .stderr
            .contains("no changes: stack shop is up to date"),
        "{}",
        again.stderr
    );

    // A new field is a schema change, field by field.
    scratch.edit(
        "data        { page: string, ms: int }",
        "data        { page: string, ms: int, tag: string }",
    );
    let plan = flowc(
        &endpoint,
        &[
            "plan",
            &scratch.shop(),
            "--stack",
            "shop",
            "--bootstrap",
            &scratch.bootstrap(),
        ],
    );
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stderr.contains("~ event Click (shop.flow:3): AWS::EventSchemas::Schema ClickSchema\n      + field detail.data.tag: string\n"),
        "{}",
        plan.stderr
    );
}

#[test]
fn a_failed_resource_is_shown_at_its_declaration() {
    let Some(endpoint) = endpoint("a_failed_resource_is_shown_at_its_declaration") else {
        return;
    };
    let _moto = moto(&endpoint);
    let scratch = Scratch::new();
    // Someone else owns the bucket the S3 trigger needs.
    let taken = format!("shop-uploads-{ACCOUNT}-dev");
    reqwest::blocking::Client::new()
        .put(format!("{endpoint}/{taken}"))
        .send()
        .expect("create bucket")
        .error_for_status()
        .expect("bucket created");
    let failed = deploy(
        &endpoint,
        &scratch.shop(),
        "shop",
        &scratch.bootstrap(),
        &[],
    );
    assert_eq!(failed.code, 1, "{}", failed.all());
    let err = &failed.stderr;
    assert!(
        err.contains("AWS::S3::Bucket ShopUploadsTriggerBucket failed: BucketAlreadyExists"),
        "{err}"
    );
    // The miette frame at the trigger's declaration.
    assert!(err.contains("[shop.flow:16:9]"), "{err}");
    assert!(
        err.contains(r#"trigger Uploads = s3 "shop-uploads" -> Upload"#),
        "{err}"
    );
    assert!(
        err.contains(
            "ShopUploadsTriggerBucket comes from this trigger Uploads (s3 \"shop-uploads\")"
        ),
        "{err}"
    );
    assert!(
        err.contains("error: the deployment of stack shop failed"),
        "{err}"
    );
    assert!(err.contains("flowc destroy --stack shop"), "{err}");

    let gone = flowc(&endpoint, &["destroy", "--stack", "shop", "--yes"]);
    assert_eq!(gone.code, 0, "{}", gone.all());
}

#[test]
fn a_plan_of_a_new_stack_leaves_nothing_behind() {
    let Some(endpoint) = endpoint("a_plan_of_a_new_stack_leaves_nothing_behind") else {
        return;
    };
    let _moto = moto(&endpoint);
    let scratch = Scratch::new();
    let plan = flowc(&endpoint, &["plan", &scratch.shop(), "--stack", "fresh"]);
    // Without a binary the plan compares the template only.
    assert!(
        plan.stderr
            .contains("  code: not compared (no --bootstrap given)"),
        "{}",
        plan.stderr
    );
    assert!(!plan.stderr.contains("bootstrap.zip"), "{}", plan.stderr);
    assert_eq!(plan.code, 0, "{}", plan.all());
    assert!(
        plan.stderr.contains("(create of stack fresh)"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr
            .contains("+ filter ByUser = counter (shop.flow:18): function ByUserFunction"),
        "{}",
        plan.stderr
    );
    let status = flowc(&endpoint, &["status", "--stack", "fresh"]);
    assert_eq!(status.code, 1, "{}", status.all());
    assert!(
        status.stderr.contains("stack fresh does not exist"),
        "{}",
        status.stderr
    );
    let destroy = flowc(&endpoint, &["destroy", "--stack", "fresh", "--yes"]);
    assert_eq!(destroy.code, 0, "{}", destroy.all());
    assert!(
        destroy.stderr.contains("nothing to destroy"),
        "{}",
        destroy.stderr
    );
}

/// `flowc` with no AWS configuration at all: no credentials, no region, no
/// config files.
fn bare_flowc(home: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowc"));
    cmd.args(args).arg("--color").arg("never");
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.stdin(std::process::Stdio::null())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd.output().expect("run flowc").into()
}

#[test]
fn missing_region_and_credentials_are_one_line_each() {
    let scratch = Scratch::new();
    let home = scratch.dir.path();
    let no_region = bare_flowc(home, &["status", "--stack", "s"]);
    assert_eq!(no_region.code, 1, "{}", no_region.all());
    assert_eq!(
        no_region.stderr,
        "error: no AWS region: pass --region, set AWS_REGION, or give the profile a region\n"
    );
    let no_credentials = bare_flowc(home, &["status", "--stack", "s", "--region", "eu-west-1"]);
    assert_eq!(no_credentials.code, 1, "{}", no_credentials.all());
    assert_eq!(
        no_credentials.stderr.lines().count(),
        1,
        "{}",
        no_credentials.stderr
    );
    assert!(
        no_credentials
            .stderr
            .starts_with("error: no AWS credentials: "),
        "{}",
        no_credentials.stderr
    );
    // A profile gives the region; a profile that is not there is named.
    std::fs::write(home.join("config"), "[profile dev]\nregion = eu-west-1\n").expect("config");
    let profile = bare_flowc(home, &["status", "--stack", "s", "--profile", "dev"]);
    assert_eq!(profile.code, 1, "{}", profile.all());
    assert!(
        profile.stderr.starts_with("error: no AWS credentials: "),
        "{}",
        profile.stderr
    );
    let unknown = bare_flowc(home, &["status", "--stack", "s", "--profile", "nope"]);
    assert_eq!(unknown.code, 1, "{}", unknown.all());
    assert!(
        unknown
            .stderr
            .starts_with("error: the AWS profile nope is in neither "),
        "{}",
        unknown.stderr
    );
    assert_eq!(unknown.stderr.lines().count(), 1, "{}", unknown.stderr);
    std::fs::remove_file(home.join("config")).expect("remove config");
    // deploy checks the project and its inputs before it looks for AWS.
    let deploy = bare_flowc(
        home,
        &[
            "deploy",
            &scratch.shop(),
            "--stack",
            "s",
            "--bootstrap",
            &scratch.bootstrap(),
            "--yes",
        ],
    );
    assert_eq!(deploy.code, 1, "{}", deploy.all());
    assert!(
        deploy.stderr.starts_with("error: no AWS region"),
        "{}",
        deploy.stderr
    );
}

#[test]
fn preflight_refuses_what_would_fail_before_anything_is_deployed() {
    let scratch = Scratch::new();
    let home = scratch.dir.path();
    let no_binary = bare_flowc(home, &["deploy", &scratch.shop(), "--stack", "s", "--yes"]);
    assert_eq!(no_binary.code, 1, "{}", no_binary.all());
    assert!(
        no_binary
            .stderr
            .starts_with("error: deploy needs the Lambda binary: pass --bootstrap FILE"),
        "{}",
        no_binary.stderr
    );

    let outside = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(["plan", &scratch.shop(), "--stack", "s", "--build-bootstrap"])
        .current_dir(home)
        .output()
        .expect("run flowc");
    let outside = Run::from(outside);
    assert_eq!(outside.code, 1, "{}", outside.all());
    assert!(
        outside.stderr.starts_with(
            "error: --build-bootstrap runs scripts/package-bootstrap of a flowc checkout"
        ),
        "{}",
        outside.stderr
    );

    // Without a terminal to ask on, --yes is required, before anything starts.
    let unasked = bare_flowc(
        home,
        &[
            "deploy",
            &scratch.shop(),
            "--stack",
            "s",
            "--bootstrap",
            &scratch.bootstrap(),
        ],
    );
    assert_eq!(unasked.code, 1, "{}", unasked.all());
    assert_eq!(
        unasked.stderr,
        "error: flowc deploy asks before it changes a stack and stdin is not a terminal; pass --yes\n"
    );
    let unasked = bare_flowc(home, &["destroy", "--stack", "s"]);
    assert_eq!(unasked.code, 1, "{}", unasked.all());
    assert!(
        unasked.stderr.starts_with("error: flowc destroy asks"),
        "{}",
        unasked.stderr
    );

    let bad_stage = bare_flowc(
        home,
        &[
            "deploy",
            &scratch.shop(),
            "--stack",
            "s",
            "--stage",
            "Prod",
            "--bootstrap",
            &scratch.bootstrap(),
            "--yes",
        ],
    );
    assert_eq!(bad_stage.code, 1, "{}", bad_stage.all());
    assert!(
        bad_stage
            .stderr
            .starts_with("error: --stage \"Prod\": use lowercase letters"),
        "{}",
        bad_stage.stderr
    );

    scratch.edit("key   profile.user_id", "key   profile.user");
    let broken = bare_flowc(
        home,
        &[
            "plan",
            &scratch.shop(),
            "--stack",
            "s",
            "--bootstrap",
            &scratch.bootstrap(),
        ],
    );
    assert_eq!(broken.code, 1, "{}", broken.all());
    assert!(broken.stderr.contains("shop.flow:"), "{}", broken.stderr);
    assert!(
        broken
            .stderr
            .contains("has 1 error(s); nothing was deployed"),
        "{}",
        broken.stderr
    );
}

/// A moto server of its own that checks credentials and IAM permissions
/// (`INITIAL_NO_AUTH_ACTION_COUNT`: the first two calls, which make the
/// user and its key, go unchecked).
struct StrictMoto {
    child: std::process::Child,
    endpoint: String,
}

impl Drop for StrictMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl StrictMoto {
    fn start() -> StrictMoto {
        let venv = std::env::var("FLOWC_MOTO_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root().join(".venv-moto"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "2")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start moto_server (scripts/with-moto installs it)");
        let server = StrictMoto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::blocking::Client::new();
        let ready = (0..200).any(|_| {
            let up = client
                .get(format!("{}/moto-api/", server.endpoint))
                .send()
                .is_ok_and(|r| r.status().is_success());
            if !up {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            up
        });
        assert!(ready, "moto_server did not start");
        server
    }

    /// An IAM user with an access key and no permissions.
    fn user_without_permissions(&self) -> (String, String) {
        let client = reqwest::blocking::Client::new();
        let iam = |action: &str| {
            client
                .post(format!("{}/", self.endpoint))
                .header(
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, \
                     SignedHeaders=host, Signature=0",
                )
                .form(&[
                    ("Action", action),
                    ("UserName", "deployer"),
                    ("Version", "2010-05-08"),
                ])
                .send()
                .and_then(|r| r.error_for_status())
                .and_then(|r| r.text())
                .expect("iam call")
        };
        iam("CreateUser");
        let key = iam("CreateAccessKey");
        let tag = |name: &str| {
            let start = key.find(&format!("<{name}>")).expect("tag") + name.len() + 2;
            let end = key[start..].find('<').expect("end") + start;
            key[start..end].to_string()
        };
        (tag("AccessKeyId"), tag("SecretAccessKey"))
    }
}

#[test]
fn invalid_credentials_and_missing_permissions_are_one_line_each() {
    if endpoint("invalid_credentials_and_missing_permissions_are_one_line_each").is_none() {
        return;
    }
    let strict = StrictMoto::start();
    let (key, secret) = strict.user_without_permissions();
    let scratch = Scratch::new();
    let run = |key: &str, secret: &str| -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowc"));
        cmd.args(["status", "--stack", "s", "--color", "never"])
            .args(["--endpoint-url", &strict.endpoint]);
        for (name, _) in std::env::vars() {
            if name.starts_with("AWS_") {
                cmd.env_remove(name);
            }
        }
        cmd.env("HOME", scratch.dir.path())
            .env("AWS_CONFIG_FILE", scratch.dir.path().join("config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                scratch.dir.path().join("credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret);
        cmd.output().expect("run flowc").into()
    };
    let invalid = run("AKIAUNKNOWNKEY000000", "secret");
    assert_eq!(invalid.code, 1, "{}", invalid.all());
    assert_eq!(
        invalid.stderr,
        "error: the AWS credentials are not valid (check the access key and secret)\n"
    );
    let denied = run(&key, &secret);
    assert_eq!(denied.code, 1, "{}", denied.all());
    assert_eq!(denied.stderr.lines().count(), 1, "{}", denied.stderr);
    assert!(
        denied.stderr.starts_with(
            "error: permission denied for cloudformation:DescribeStacks: AccessDenied: User: \
             arn:aws:iam::123456789012:user/deployer is not authorized"
        ),
        "{}",
        denied.stderr
    );
    assert!(
        denied.stderr.contains("docs/deploy.md"),
        "{}",
        denied.stderr
    );
}
