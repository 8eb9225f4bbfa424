//! The SDK clients, built once per cold start from one shared
//! configuration. `FLOWC_AWS_ENDPOINT` points every client at a stand-in
//! (S3 then uses path-style addressing, as moto needs).

use aws_config::BehaviorVersion;

#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub eventbridge: aws_sdk_eventbridge::Client,
    /// Summarizers (timeouts and retries of `bedrock::client_config`).
    pub bedrock: aws_sdk_bedrockruntime::Client,
    pub transcribe: aws_sdk_transcribe::Client,
}

impl Clients {
    /// Loads credentials and region the SDK's usual way (Lambda's
    /// environment), with an optional endpoint override.
    pub async fn load(endpoint: Option<&str>) -> Clients {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(url) = endpoint {
            loader = loader.endpoint_url(url);
        }
        let shared = loader.load().await;
        let s3_config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(endpoint.is_some())
            .build();
        Clients {
            dynamodb: aws_sdk_dynamodb::Client::new(&shared),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            eventbridge: aws_sdk_eventbridge::Client::new(&shared),
            bedrock: aws_sdk_bedrockruntime::Client::from_conf(super::bedrock::client_config(
                &shared,
                std::time::Duration::from_secs(1),
            )),
            transcribe: aws_sdk_transcribe::Client::new(&shared),
        }
    }
}
