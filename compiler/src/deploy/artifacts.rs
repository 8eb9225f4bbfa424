//! The deploy's artifacts: `bootstrap.zip` (the Lambda binary with this
//! build's graph.json) and, when it is too large to send inline, the
//! template. Keys are content-addressed (sha256), so an unchanged artifact
//! is found with HeadObject and not uploaded again.

use std::io::{Cursor, Read, Write};
use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use sha2::{Digest, Sha256};

use super::aws::{sdk_message, service_code, Aws};

/// CloudFormation's limit on a template sent in the request body.
pub const INLINE_TEMPLATE_MAX: usize = 51_200;
/// CloudFormation's limit on a template read from S3.
pub const S3_TEMPLATE_MAX: usize = 1_000_000;

/// Bytes to upload under a key derived from their hash.
pub struct Artifact {
    pub key: String,
    pub bytes: Vec<u8>,
}

impl Artifact {
    pub fn new(prefix: &str, extension: &str, bytes: Vec<u8>) -> Artifact {
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Artifact {
            key: format!("{prefix}/{hex}.{extension}"),
            bytes,
        }
    }
}

/// The Lambda artifact: a `bootstrap` executable zipped with `graph.json`,
/// or a ready zip whose graph.json must be this build's (a zip of another
/// build would run another graph).
pub fn bootstrap_zip(
    bootstrap: Option<&Path>,
    ready_zip: Option<&Path>,
    graph_json: &str,
) -> Result<Vec<u8>, String> {
    match (bootstrap, ready_zip) {
        (Some(binary), _) => {
            let bytes = std::fs::read(binary)
                .map_err(|e| format!("cannot read {}: {e}", binary.display()))?;
            zip_bootstrap(&bytes, graph_json)
        }
        (None, Some(zip)) => {
            let bytes =
                std::fs::read(zip).map_err(|e| format!("cannot read {}: {e}", zip.display()))?;
            let inside = zipped_graph(&bytes)
                .map_err(|e| format!("{} is not a bootstrap zip: {e}", zip.display()))?;
            if same_json(&inside, graph_json) {
                Ok(bytes)
            } else {
                Err(format!(
                    "{} holds the graph.json of another build of this project; rebuild it \
                     (scripts/package-bootstrap PROJECT OUT.zip) or pass the binary with --bootstrap",
                    zip.display()
                ))
            }
        }
        (None, None) => Err(
            "deploy needs the Lambda binary: pass --bootstrap FILE (the `bootstrap` executable for \
             provided.al2023, e.g. from `cargo lambda build --release --arm64 --features \
             flow-runtime/aws --bin bootstrap`) or --bootstrap-zip FILE (from \
             scripts/package-bootstrap PROJECT OUT.zip), or --build-bootstrap in a flowc checkout"
                .into(),
        ),
    }
}

/// Builds `bootstrap.zip` for a project with `scripts/package-bootstrap`
/// of the flowc checkout the current directory is in (the Lambda binary is
/// a release build of this workspace); returns the zip's path.
pub fn package_bootstrap(project: &Path) -> Result<std::path::PathBuf, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let script = cwd
        .ancestors()
        .map(|dir| dir.join("scripts/package-bootstrap"))
        .find(|path| path.is_file())
        .ok_or(
            "--build-bootstrap runs scripts/package-bootstrap of a flowc checkout, and there is \
             none in this directory or above; pass --bootstrap FILE or --bootstrap-zip FILE",
        )?;
    let out = std::env::temp_dir().join(format!("flowc-bootstrap-{}.zip", std::process::id()));
    eprintln!(
        "building bootstrap.zip with {} (a release build: minutes)",
        script.display()
    );
    let mut command = std::process::Command::new(&script);
    command.arg(project).arg(&out);
    if let Ok(flowc) = std::env::current_exe() {
        // The script builds graph.json with this flowc, not a fresh `cargo run`.
        command.env("FLOWC", flowc);
    }
    let status = command
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if status.success() {
        Ok(out)
    } else {
        Err(format!("{} failed ({status})", script.display()))
    }
}

/// A deterministic zip (fixed timestamps, fixed order), so the same inputs
/// give the same key.
pub fn zip_bootstrap(binary: &[u8], graph_json: &str) -> Result<Vec<u8>, String> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::DEFAULT);
    let failed = |e: zip::result::ZipError| format!("cannot write bootstrap.zip: {e}");
    writer
        .start_file("bootstrap", options.unix_permissions(0o755))
        .map_err(failed)?;
    writer
        .write_all(binary)
        .map_err(|e| format!("cannot write bootstrap.zip: {e}"))?;
    writer
        .start_file("graph.json", options.unix_permissions(0o644))
        .map_err(failed)?;
    writer
        .write_all(graph_json.as_bytes())
        .map_err(|e| format!("cannot write bootstrap.zip: {e}"))?;
    Ok(writer.finish().map_err(failed)?.into_inner())
}

fn zipped_graph(zip: &[u8]) -> Result<String, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(|e| e.to_string())?;
    if archive.by_name("bootstrap").is_err() {
        return Err("it has no `bootstrap` file".into());
    }
    let mut file = archive
        .by_name("graph.json")
        .map_err(|_| "it has no graph.json".to_string())?;
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(|e| e.to_string())?;
    Ok(text)
}

fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The default artifact bucket of an account and region.
pub fn default_bucket(account: &str, region: &str) -> String {
    format!("flowc-artifacts-{account}-{region}")
}

/// Creates the artifact bucket when it does not exist (private, as every
/// new bucket is).
pub async fn ensure_bucket(aws: &Aws, bucket: &str) -> Result<(), String> {
    // The expected owner guards against a bucket of that name in another
    // account (the default name is predictable).
    match aws
        .s3
        .head_bucket()
        .bucket(bucket)
        .expected_bucket_owner(&aws.account)
        .send()
        .await
    {
        Ok(_) => return Ok(()),
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {}
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
            return Err(format!(
                "the artifact bucket {bucket} belongs to another account or is not readable; \
                 pass --artifact-bucket NAME"
            ))
        }
        Err(e) => return Err(sdk_message(&format!("s3:HeadBucket {bucket}"), &e)),
    }
    let mut create = aws.s3.create_bucket().bucket(bucket);
    if aws.region != "us-east-1" {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    aws.region.as_str(),
                ))
                .build(),
        );
    }
    create
        .send()
        .await
        .map_err(|e| sdk_message(&format!("s3:CreateBucket {bucket}"), &e))?;
    eprintln!("created artifact bucket {bucket}");
    Ok(())
}

/// Uploads an artifact unless an object with its key (its hash) is there.
/// Returns whether it was uploaded.
pub async fn upload(aws: &Aws, bucket: &str, artifact: &Artifact) -> Result<bool, String> {
    match aws
        .s3
        .head_object()
        .bucket(bucket)
        .key(&artifact.key)
        .expected_bucket_owner(&aws.account)
        .send()
        .await
    {
        Ok(_) => return Ok(false),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {}
        Err(e) if service_code(&e).as_deref() == Some("NotFound") => {}
        Err(e) => {
            return Err(sdk_message(
                &format!("s3:HeadObject s3://{bucket}/{}", artifact.key),
                &e,
            ))
        }
    }
    aws.s3
        .put_object()
        .bucket(bucket)
        .key(&artifact.key)
        .expected_bucket_owner(&aws.account)
        .body(ByteStream::from(artifact.bytes.clone()))
        .send()
        .await
        .map_err(|e| sdk_message(&format!("s3:PutObject s3://{bucket}/{}", artifact.key), &e))?;
    Ok(true)
}

/// The URL CloudFormation reads a template from (path style, which both
/// CloudFormation and the stand-ins accept).
pub fn template_url(region: &str, bucket: &str, key: &str) -> String {
    format!("https://s3.{region}.amazonaws.com/{bucket}/{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_is_deterministic_and_holds_both_files() {
        let a = zip_bootstrap(b"\x7fELF binary", "{\"format_version\":1}").expect("zip");
        let b = zip_bootstrap(b"\x7fELF binary", "{\"format_version\":1}").expect("zip");
        assert_eq!(a, b);
        assert_eq!(
            Artifact::new("p", "zip", a.clone()).key,
            Artifact::new("p", "zip", b).key
        );
        assert_eq!(zipped_graph(&a).expect("graph"), "{\"format_version\":1}");
        let other = zip_bootstrap(b"\x7fELF binary", "{\"format_version\":2}").expect("zip");
        assert_ne!(
            Artifact::new("p", "zip", a).key,
            Artifact::new("p", "zip", other).key
        );
    }

    #[test]
    fn a_ready_zip_of_another_graph_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("bootstrap.zip");
        let zip = zip_bootstrap(b"bin", "{\"a\": 1}").expect("zip");
        std::fs::write(&path, &zip).expect("write");
        assert_eq!(
            bootstrap_zip(None, Some(&path), "{\"a\":1}").expect("same graph"),
            zip
        );
        let err = bootstrap_zip(None, Some(&path), "{\"a\":2}").expect_err("other graph");
        assert!(err.contains("another build"), "{err}");
        let err = bootstrap_zip(None, None, "{}").expect_err("nothing");
        assert!(err.contains("--bootstrap FILE"), "{err}");
    }
}
