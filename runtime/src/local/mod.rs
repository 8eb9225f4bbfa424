//! The local engine: the compiled graph run in-process.
//!
//! [`Runner`] is the driver of the pure engine: it routes events with the
//! EventBridge matcher (breadth-first, in route and target order), checks
//! idempotency, loads and saves state through the state port, fires due
//! deadlines, and applies effects through the other ports. Adapters:
//! [`MemoryStore`] / [`SqliteStore`] (state), [`MemoryObjects`] /
//! [`DirObjects`] (objects), [`views`] (Tesseract, PocketSphinx,
//! OpenAI-compatible servers, placeholders), [`CommandNodes`]
//! (custom nodes), [`VirtualClock`] / [`WallClock`].

mod clock;
mod memory;
mod objects;
mod providers;
mod runner;
#[cfg(feature = "local")]
pub mod sinks;
#[cfg(feature = "local")]
mod sqlite;
pub mod testing;
pub mod views;
#[cfg(feature = "local")]
pub mod webhook;

pub use clock::{VirtualClock, WallClock};
pub use memory::{MemoryObjects, MemoryStore};
pub use objects::DirObjects;
pub use providers::CommandNodes;
pub use runner::{NodeStats, Ports, RunError, Runner, Sinks, Store};
#[cfg(feature = "local")]
pub use sinks::LocalSinks;
#[cfg(feature = "local")]
pub use sqlite::SqliteStore;
pub use views::PlaceholderViews;
#[cfg(feature = "local")]
pub use views::{ViewConfig, ViewEngines};
