//! flow-runtime: what executes a compiled flowc project.
//!
//! - [`graph`]: the compiled graph (`graph.json`), the contract with the compiler;
//! - [`pattern`]: the EventBridge event-pattern engine (validation as
//!   EventBridge, matching as aws/event-ruler, many rules at once);
//! - [`engine`]: the pure node executors (`step`), routing, mappings;
//! - [`ports`]: the traits the drivers use (state, objects, bus, clock, views);
//! - `aws` (feature `aws`): the AWS adapters and the Lambda handler of `bootstrap`;
//! - [`local`]: the in-process driver and local adapters (`flowc run`, `flowc test`);
//! - [`sink`]: what an app's sinks write for an event (pure; both drivers);
//! - [`store`]: the Event Store API (`flowc serve`, the API function).

#[cfg(feature = "aws")]
pub mod aws;
pub mod engine;
pub mod graph;
pub mod local;
pub mod names;
pub mod pattern;
pub mod ports;
pub mod sink;
#[cfg(feature = "store")]
pub mod store;
