//! Ports of the Event Store towards the running system: the live routes
//! (the local engine's router, or EventBridge rules) and ingest.
//!
//! Invariant: [`LiveRoutes::apply`] is called only with routes that passed
//! validation, after the repository accepted them, with the store's route
//! lock held, so the live bus sees route changes in version order.

use std::sync::Mutex;

use serde_json::Value;

use super::error::Problem;
use super::model::{IngestReport, RouteSpec};
use super::repo::BoxFuture;

/// Where routing changes take effect.
pub trait LiveRoutes: Send + Sync {
    /// Replaces every route of `event` by `routes`.
    fn apply<'a>(
        &'a self,
        event: &'a str,
        routes: &'a [RouteSpec],
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// Why ingest refused or failed.
#[derive(Clone, Debug, PartialEq)]
pub enum IngestError {
    /// Some events are not EventBridge events (nothing was ingested).
    BadInput(Vec<Problem>),
    /// The engine failed.
    Engine(String),
}

/// Events put on the bus (`POST /ingest`).
pub trait Ingest: Send + Sync {
    fn ingest(&self, events: Vec<Value>) -> BoxFuture<'_, Result<IngestReport, IngestError>>;
}

/// Live routes for a store without a bus of its own: changes are only
/// recorded (tests, and a store that only documents a deployment).
#[derive(Default, Debug)]
pub struct RecordingRoutes {
    pub applied: Mutex<Vec<(String, Vec<RouteSpec>)>>,
    /// Fail every apply with this message (tests of the rollback).
    pub fail_with: Option<String>,
}

impl LiveRoutes for RecordingRoutes {
    fn apply<'a>(
        &'a self,
        event: &'a str,
        routes: &'a [RouteSpec],
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            if let Some(m) = &self.fail_with {
                return Err(m.clone());
            }
            self.applied
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((event.to_string(), routes.to_vec()));
            Ok(())
        })
    }
}
