//! The API's JSON shapes: stored records, request bodies and views.
//!
//! Request bodies reject unknown fields; a `version` field in a body is
//! the same precondition as an `If-Match` header. Stored records are the
//! bodies of [`super::repo::Versioned`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::graph::{EventDef, FlowDef, Graph, RouteDef};

/// An event type as registered (`PUT /event/{id}` body; stored).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    pub name: String,
    pub source: String,
    pub detail_type: String,
    /// JSON Schema (draft 2020-12) of the whole event.
    #[schema(value_type = Object)]
    pub schema: Value,
    /// The node that emits it, for derived events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emitted_by: Option<String>,
    /// Where it is declared (`events.flow:3:1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The expected current version (as `If-Match`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

impl EventInput {
    pub fn from_def(def: &EventDef) -> EventInput {
        EventInput {
            name: def.name.clone(),
            source: def.source.clone(),
            detail_type: def.detail_type.clone(),
            schema: def.schema.clone(),
            emitted_by: def.emitted_by.clone(),
            origin: Some(def.span.to_string()),
            version: None,
        }
    }
}

/// One route of an event, as stored and shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// The rule name (unique in the project).
    pub name: String,
    /// Nodes that receive the event.
    pub targets: Vec<String>,
    /// The EventBridge event pattern, source and detail-type pinned.
    #[schema(value_type = Object)]
    pub pattern: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_hops: Option<u64>,
}

impl RouteSpec {
    pub fn from_def(def: &RouteDef) -> RouteSpec {
        RouteSpec {
            name: def.name.clone(),
            targets: def.targets.clone(),
            pattern: def.pattern.clone(),
            max_hops: def.max_hops,
        }
    }
}

/// One route in a `POST /route/{event-id}` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteInput {
    /// The rule name; `<event>-<n>` when left out.
    #[serde(default)]
    pub name: Option<String>,
    pub targets: Vec<String>,
    /// An EventBridge pattern; `source` and `detail-type` are pinned to the
    /// event's (added when absent, rejected when different). Left out:
    /// every event of the type.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub pattern: Option<Value>,
    #[serde(default)]
    pub max_hops: Option<u64>,
}

/// The body of `POST /route/{event-id}`: the event's whole routing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutesInput {
    pub routes: Vec<RouteInput>,
    /// The expected current version of the routing (0: none yet).
    #[serde(default)]
    pub version: Option<u64>,
}

/// The stored routing of one event.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutesRecord {
    pub routes: Vec<RouteSpec>,
}

/// The body of `POST /flow`: the JSON form of a `flow` declaration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowInput {
    /// The flow's name, also its id.
    pub name: String,
    /// Events and nodes in the order events travel.
    pub steps: Vec<String>,
    /// Where it is declared (`app.flow:3:1`; `flowc publish` sets it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// A stored flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowRecord {
    pub name: String,
    pub steps: Vec<String>,
    /// `app.flow:3:1`, or `api` for flows created through the API.
    pub origin: String,
}

impl FlowRecord {
    pub fn from_def(def: &FlowDef) -> FlowRecord {
        FlowRecord {
            name: def.name.clone(),
            steps: def.steps.clone(),
            origin: def.span.to_string(),
        }
    }
}

/// An event as `GET /event/{id}` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    pub id: String,
    pub name: String,
    pub source: String,
    pub detail_type: String,
    #[schema(value_type = Object)]
    pub schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emitted_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    pub version: u64,
    /// The routes that deliver it.
    pub routes: Vec<RouteSpec>,
    /// The version of its routing (0: never routed); `If-Match` of
    /// `POST /route/{id}`.
    pub routes_version: u64,
    /// The nodes its routes deliver it to.
    pub consumers: Vec<String>,
}

/// A flow as `GET /flow/{id}` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FlowView {
    pub id: String,
    pub name: String,
    pub steps: Vec<String>,
    /// The steps that are nodes.
    pub nodes: Vec<String>,
    /// The routes that carry events from one step to the next.
    pub routes: Vec<String>,
    pub origin: String,
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventList {
    pub items: Vec<EventView>,
    /// Pass as `next_token` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FlowList {
    pub items: Vec<FlowView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// A write's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Written {
    pub id: String,
    pub version: u64,
    /// False when the record already had this content (nothing written).
    pub changed: bool,
}

/// The routing of an event after `POST /route/{event-id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RoutesView {
    pub event: String,
    pub routes: Vec<RouteSpec>,
    pub version: u64,
}

/// What `POST /ingest` did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IngestReport {
    pub accepted: usize,
    /// Deliveries per node caused by these events (cascades included).
    pub delivered: BTreeMap<String, u64>,
    /// Events the nodes emitted, as EventBridge envelopes.
    #[schema(value_type = Vec<Object>)]
    pub emitted: Vec<Value>,
    /// Node errors and notes.
    pub errors: Vec<String>,
}

/// The routes of the graph, per event.
pub fn graph_routes(graph: &Graph) -> BTreeMap<String, Vec<RouteSpec>> {
    let mut out: BTreeMap<String, Vec<RouteSpec>> = BTreeMap::new();
    for r in &graph.routes {
        out.entry(r.event.clone())
            .or_default()
            .push(RouteSpec::from_def(r));
    }
    out
}
