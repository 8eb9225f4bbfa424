//! The AWS adapters of the runtime's ports and the Lambda handler
//! (feature `aws`; docs/runtime-aws.md).
//!
//! Each adapter is small and in its own module: [`dynamodb`] (state,
//! idempotency records, outboxes), [`s3`] (objects), [`eventbridge`] (the
//! bus: batched PutEvents), [`clock`]. [`driver`] runs one node's delivery
//! or flush against the ports, with no SDK type in sight; [`handler`] is
//! the shell `bootstrap` runs; [`api`] serves the Event Store router.
//! No SDK type appears in a port's signature.

pub mod api;
pub mod bedrock;
pub mod bridge;
pub mod clients;
pub mod clock;
pub mod config;
pub mod driver;
pub mod dynamodb;
pub mod error;
pub mod eventbridge;
pub mod fakes;
pub mod handler;
pub mod ingest;
pub mod lambda_invoke;
pub mod s3;
pub mod secrets;
pub mod sinks;
pub mod transcribe;
pub mod views;
pub mod wire;

pub use bridge::Bridge;
pub use clients::Clients;
pub use config::{Config, Role};
pub use error::{ErrorType, FlowError};
pub use handler::App;
