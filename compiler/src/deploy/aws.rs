//! The AWS connection of the deploy commands: the standard credential and
//! region chain (narrowed by `--profile`, `--region`, `--endpoint-url`),
//! checked before anything starts, and SDK errors turned into one line.

use aws_config::BehaviorVersion;
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
        Err(e) => {
            return Err(format!(
                "no AWS credentials: {} (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --profile)",
                first_line(&e.to_string())
            ))
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

/// The error code of a service error (`ValidationError`, `AccessDenied`).
pub fn service_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<String> {
    match err {
        SdkError::ServiceError(e) => e.err().code().map(String::from),
        _ => None,
    }
}

/// The message of a service error.
pub fn service_message<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<String> {
    match err {
        SdkError::ServiceError(e) => e.err().message().map(String::from),
        _ => None,
    }
}

/// One line for an SDK error: what failed and why, with a hint for
/// permissions; never the SDK's debug dump.
pub fn sdk_message<E, R>(action: &str, err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + RawBody,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("");
            let message = match (e.code(), e.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (None, Some(message)) => message.to_string(),
                // An answer the SDK could not parse: its body explains it.
                _ => body_message(service.raw()).unwrap_or_else(|| code.to_string()),
            };
            if is_permission_code(code) {
                format!(
                    "permission denied for {action}: {message} (docs/deploy.md lists the permissions a deployer needs)"
                )
            } else {
                format!("{action} failed: {message}")
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
        SdkError::ResponseError(r) => {
            let body = body_message(r.raw()).unwrap_or_else(|| "an unreadable answer".into());
            format!("{action} failed: {body}")
        }
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
/// parse (stand-ins answer some query-protocol calls with JSON).
pub trait RawBody {
    fn body_bytes(&self) -> Option<&[u8]>;
}

impl RawBody for aws_sdk_cloudformation::config::http::HttpResponse {
    fn body_bytes(&self) -> Option<&[u8]> {
        self.body().bytes()
    }
}

fn body_message(raw: &impl RawBody) -> Option<String> {
    let bytes = raw.body_bytes()?;
    let text = String::from_utf8_lossy(bytes);
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) {
        let message = value["message"]
            .as_str()
            .or_else(|| value["Message"].as_str())?;
        // `com.amazonaws.dynamodb.v20120810#ResourceInUseException` → the name.
        return Some(match value["__type"].as_str() {
            Some(kind) => format!("{}: {message}", kind.rsplit('#').next().unwrap_or(kind)),
            None => message.to_string(),
        });
    }
    let text = text.trim();
    (!text.is_empty()).then(|| first_line(&text.chars().take(300).collect::<String>()))
}

pub fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}
