//! The SDK clients, built once per cold start from one shared
//! configuration. `FLOWC_AWS_ENDPOINT` points every client at a stand-in
//! (S3 then uses path-style addressing, as moto needs).

use aws_config::BehaviorVersion;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{proxy::ProxyConfig, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub eventbridge: aws_sdk_eventbridge::Client,
    /// Custom nodes invoke their user's function.
    pub lambda: aws_sdk_lambda::Client,
    /// Webhook sinks read their signing secret.
    pub secrets: aws_sdk_secretsmanager::Client,
    /// Summarizers (timeouts and retries of `bedrock::client_config`).
    pub bedrock: aws_sdk_bedrockruntime::Client,
    pub transcribe: aws_sdk_transcribe::Client,
}

impl Clients {
    /// Loads credentials and region the SDK's usual way (Lambda's
    /// environment), with an optional endpoint override.
    pub async fn load(endpoint: Option<&str>) -> Clients {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).http_client(shared_https_client());
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
            lambda: aws_sdk_lambda::Client::new(&shared),
            secrets: aws_sdk_secretsmanager::Client::new(&shared),
            bedrock: aws_sdk_bedrockruntime::Client::from_conf(super::bedrock::client_config(
                &shared,
                std::time::Duration::from_secs(1),
            )),
            transcribe: aws_sdk_transcribe::Client::new(&shared),
        }
    }
}

/// One HTTPS client for every service client (the SDK's default: hyper,
/// rustls with aws-lc, proxy from the environment). Each service client
/// would otherwise build its own, and each of them builds a TLS
/// configuration (the root certificates parsed into a store) when it is
/// constructed: that was most of `bootstrap`'s start-up. Here the
/// configuration is built once per connector settings, on the first
/// request that needs it.
fn shared_https_client() -> SharedHttpClient {
    let client =
        aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
            let mut builder =
                ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
            builder.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                builder.set_sleep_impl(components.sleep_impl());
            }
            builder.set_proxy_config(Some(ProxyConfig::from_env()));
            builder.build()
        });
    SharedHttpClient::new(OnFirstRequest(client))
}

/// Defers the TLS set-up of the wrapped client to its first connector:
/// the wrapped client's `validate_base_client_config` builds one at every
/// service client's construction, which is skipped here.
#[derive(Debug)]
struct OnFirstRequest(SharedHttpClient);

impl HttpClient for OnFirstRequest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.0.connector_metadata()
    }
}
