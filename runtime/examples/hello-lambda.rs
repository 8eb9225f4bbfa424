//! The smallest `lambda_runtime` function (echoes its input): the
//! start-up baseline `bootstrap` is compared with (runtime/tests/aws_bootstrap.rs,
//! docs/runtime-aws.md). Built with the same profile as `bootstrap`.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
