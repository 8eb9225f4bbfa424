//! The AWS connection of the deploy commands: the standard credential and
//! region chain (narrowed by `--profile`, `--region`, `--endpoint-url`),
//! checked before anything starts, and SDK errors turned into one line.

use aws_config::BehaviorVersion;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

use crate::cli::deploy::AwsArgs;

/// The clients of one command, with who and where they act.
pub struct Aws {
    pub cfn: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub region: String,
    pub account: String,
    /// For signing the Event Store requests after a deploy.
    pub credentials: aws_credential_types::Credentials,
}

/// Resolves region and credentials and asks STS who they belong to, so
/// that a missing region, missing or invalid credentials, and an
/// unreachable endpoint each fail here with one line.
pub async fn connect(args: &AwsArgs) -> Result<Aws, String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &args.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &args.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(url) = &args.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let profile = args
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty()));
    // `default` may name no file at all (credentials from the environment).
    if let Some(profile) = profile.as_deref().filter(|p| *p != "default") {
        check_profile_exists(profile)?;
    }
    let config = loader.load().await;
    let Some(region) = config.region().map(|r| r.to_string()) else {
        return Err(
            "no AWS region: pass --region, set AWS_REGION, or give the profile a region".into(),
        );
    };
    let Some(provider) = config.credentials_provider() else {
        return Err("no AWS credentials provider is configured".into());
    };
    let credentials = match provider.provide_credentials().await {
        Ok(credentials) => credentials,
        Err(CredentialsError::CredentialsNotLoaded(_)) => {
            return Err(
                "no AWS credentials: none in the environment, the profile, SSO, or a \
                 container or instance role (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or \
                 pass --profile)"
                    .into(),
            )
        }
        Err(e) => {
            let cause = std::error::Error::source(&e)
                .map(|c| first_line(&c.to_string()))
                .unwrap_or_default();
            return Err(format!(
                "cannot load the AWS credentials: {} {cause}",
                first_line(&e.to_string())
            )
            .trim_end()
            .to_string());
        }
    };
    let sts = aws_sdk_sts::Client::new(&config);
    let account = match sts.get_caller_identity().send().await {
        Ok(identity) => identity.account().unwrap_or_default().to_string(),
        Err(e) => {
            return Err(match service_code(&e).as_deref() {
                Some("InvalidClientTokenId" | "SignatureDoesNotMatch") => {
                    "the AWS credentials are not valid (check the access key and secret)".into()
                }
                Some("ExpiredToken") => {
                    "the AWS credentials have expired (refresh the session)".into()
                }
                _ => sdk_message("sts:GetCallerIdentity", &e),
            })
        }
    };
    let s3_config = aws_sdk_s3::config::Builder::from(&config)
        // Stand-ins on 127.0.0.1 cannot serve bucket subdomains.
        .force_path_style(args.endpoint_url.is_some())
        .build();
    Ok(Aws {
        cfn: aws_sdk_cloudformation::Client::new(&config),
        s3: aws_sdk_s3::Client::from_conf(s3_config),
        region,
        account,
        credentials,
    })
}

/// A named profile must be in the config or credentials file; otherwise
/// the SDK would quietly find no region or credentials in it.
fn check_profile_exists(profile: &str) -> Result<(), String> {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let file = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
    };
    let config = file("AWS_CONFIG_FILE", "config");
    let credentials = file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    let has_section = |path: &Option<std::path::PathBuf>, headers: &[String]| {
        path.as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .is_some_and(|text| {
                text.lines().any(|line| {
                    let line: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
                    headers.contains(&line)
                })
            })
    };
    let in_config = has_section(
        &config,
        &[format!("[profile {profile}]"), format!("[{profile}]")],
    );
    let in_credentials = has_section(&credentials, &[format!("[{profile}]")]);
    if in_config || in_credentials {
        return Ok(());
    }
    let shown = |p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "?".into())
    };
    Err(format!(
        "the AWS profile {profile} is in neither {} nor {}",
        shown(&config),
        shown(&credentials)
    ))
}

/// The code and message of an error answer: from the SDK's parse, or,
/// when it could not parse the answer (stand-ins wrap query-protocol
/// errors differently, or answer in JSON), from the raw body.
pub fn error_parts<E, R>(err: &SdkError<E, R>) -> (Option<String>, Option<String>)
where
    E: ProvideErrorMetadata,
    R: RawBody,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            match (e.code(), e.message()) {
                (None, None) => body_parts(service.raw()),
                (code, message) => (code.map(String::from), message.map(String::from)),
            }
        }
        SdkError::ResponseError(r) => body_parts(r.raw()),
        _ => (None, None),
    }
}

/// The error code of an error answer (`ValidationError`, `AccessDenied`).
pub fn service_code<E: ProvideErrorMetadata, R: RawBody>(err: &SdkError<E, R>) -> Option<String> {
    error_parts(err).0
}

/// The message of an error answer.
pub fn service_message<E: ProvideErrorMetadata, R: RawBody>(
    err: &SdkError<E, R>,
) -> Option<String> {
    error_parts(err).1
}

/// One line for an SDK error: what failed and why, with a hint for
/// permissions; never the SDK's debug dump.
pub fn sdk_message<E, R>(action: &str, err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + RawBody,
{
    match err {
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            let (code, message) = error_parts(err);
            let text = match (&code, message) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (None, Some(message)) => message,
                (Some(code), None) => code.clone(),
                (None, None) => "an answer that could not be read".to_string(),
            };
            if code.as_deref().is_some_and(is_permission_code) {
                format!(
                    "permission denied for {action}: {text} (docs/deploy.md lists the permissions a deployer needs)"
                )
            } else {
                format!("{action} failed: {text}")
            }
        }
        SdkError::DispatchFailure(d) => {
            let cause = std::error::Error::source(err)
                .map(|s| first_line(&s.to_string()))
                .unwrap_or_default();
            if d.is_timeout() {
                format!("{action}: the AWS endpoint timed out")
            } else {
                format!("{action}: cannot reach the AWS endpoint: {cause}")
            }
        }
        SdkError::TimeoutError(_) => format!("{action}: the AWS endpoint timed out"),
        _ => format!("{action} failed: {}", first_line(&err.to_string())),
    }
}

fn is_permission_code(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError"
    )
}

/// A raw HTTP answer whose body may explain an error the SDK could not
/// parse.
pub trait RawBody {
    fn body_bytes(&self) -> Option<&[u8]>;
}

impl RawBody for aws_sdk_cloudformation::config::http::HttpResponse {
    fn body_bytes(&self) -> Option<&[u8]> {
        self.body().bytes()
    }
}

fn body_parts(raw: &impl RawBody) -> (Option<String>, Option<String>) {
    let Some(bytes) = raw.body_bytes() else {
        return (None, None);
    };
    parse_error_body(&String::from_utf8_lossy(bytes))
}

/// Code and message of an error body: JSON (`__type`, `message`) or XML
/// (`<Code>`, `<Message>`, however deeply wrapped).
fn parse_error_body(text: &str) -> (Option<String>, Option<String>) {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        // `com.amazonaws.dynamodb.v20120810#ResourceInUseException` → the name.
        let code = value["__type"]
            .as_str()
            .map(|k| k.rsplit('#').next().unwrap_or(k).to_string());
        let message = value["message"]
            .as_str()
            .or_else(|| value["Message"].as_str())
            .map(String::from);
        return (code, message);
    }
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{name}>"))? + start;
        Some(text[start..end].trim().to_string())
    };
    match (tag("Code"), tag("Message")) {
        (None, None) => {
            let text = text.trim();
            let line = first_line(&text.chars().take(300).collect::<String>());
            (None, (!line.is_empty()).then_some(line))
        }
        parts => parts,
    }
}

pub fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::parse_error_body;

    #[test]
    fn error_bodies_the_sdk_cannot_parse_still_say_what_failed() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></Errors></ErrorResponse>"#;
        assert_eq!(
            parse_error_body(xml),
            (
                Some("InvalidClientTokenId".into()),
                Some("The security token included in the request is invalid.".into())
            )
        );
        let json = r#"{"__type": "com.amazonaws.dynamodb.v20120810#ResourceInUseException", "message": "Table already exists: t"}"#;
        assert_eq!(
            parse_error_body(json),
            (
                Some("ResourceInUseException".into()),
                Some("Table already exists: t".into())
            )
        );
        assert_eq!(parse_error_body("  \n"), (None, None));
    }
}
