//! flow-runtime: what executes a compiled flowc project.
//!
//! - [`graph`]: the compiled graph (`graph.json`), the contract with the compiler;
//! - [`pattern`]: the EventBridge event-pattern engine (validation as
//!   EventBridge, matching as aws/event-ruler, many rules at once).

pub mod graph;
pub mod pattern;
