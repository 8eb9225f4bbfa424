//! `bootstrap`: the one Lambda binary of a flowc project. Reads its
//! configuration and graph.json once, builds the SDK clients once, and
//! hands every invocation to [`App::handle`] — or, for the API function,
//! serves the Event Store router through `lambda_http` (docs/runtime-aws.md).

use std::io::Write;
use std::sync::Arc;

use flow_runtime::aws::{App, Config, FlowError};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let app = match init().await {
        Ok(app) => Arc::new(app),
        Err(e) => {
            report_init_error(&e);
            return Err(e.into());
        }
    };
    if let Some(router) = app.event_store() {
        return lambda_http::run(router).await;
    }
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = Arc::clone(&app);
        async move { app.handle(event.payload).await }
    }))
    .await
}

async fn init() -> Result<App, FlowError> {
    let config = Config::read(|name| std::env::var(name).ok())?;
    App::init(config).await
}

/// Tells the Runtime API why initialisation failed, so the error shows in
/// the invocation result with its type instead of a bare process exit.
fn report_init_error(e: &FlowError) {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let body = serde_json::json!({"errorType": e.kind.as_str(), "errorMessage": e.to_string()})
        .to_string();
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\n\
         Lambda-Runtime-Function-Error-Type: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        e.kind.as_str(),
        body.len()
    );
    if let Ok(mut stream) = std::net::TcpStream::connect(&api) {
        let _ = stream.write_all(request.as_bytes());
        let _ = std::io::Read::read(&mut stream, &mut [0u8; 512]);
    }
}
