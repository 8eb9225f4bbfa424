//! The Event Store API (DESIGN.md §5): events, flows and routes over HTTP.
//!
//! One axum [`router`] serves `GET /events`, `GET /event/{id}`,
//! `PUT /event/{id}`, `GET /flows`, `GET /flow/{id}`, `POST /flow`,
//! `DELETE /flow/{id}`, `POST /route/{id}`, `POST /ingest` (when the store
//! has an engine), `GET /openapi.json` and `GET /healthz`; `flowc serve`
//! runs it locally, the API function behind API Gateway on AWS.
//!
//! - [`repo`]: the repository port (versioned records); [`SqliteRepo`]
//!   here, `DynamoRepo` with the `aws` feature;
//! - [`live`]: the ports towards the running system (live routes,
//!   ingest); [`local::LocalEngine`] implements both over the local
//!   engine, `eventbridge::EventBridgeRoutes` (feature `aws`) the
//!   rules on AWS;
//! - [`validate`]: flows and routes against the graph, with the
//!   compiler's diagnostic codes;
//! - [`extract`] and [`error`]: requests in, errors out.
//!
//! Invariants: a client mistake is a 4xx JSON error with a stable code,
//! never a 5xx and never a panic (a panic would still become a JSON 500
//! through `CatchPanicLayer`); writes are compare-and-swap on versions
//! (409 on a stale one, 428 when a replacing write names none); every
//! endpoint but `/healthz` needs the bearer token when one is configured.

pub mod api;
pub mod error;
pub mod extract;
pub mod live;
pub mod local;
pub mod model;
pub mod repo;
mod sqlite;
pub mod validate;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod eventbridge;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::Router;
use subtle::ConstantTimeEq;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::graph::Graph;
use error::ApiError;
use live::{Ingest, LiveRoutes};
use model::{EventInput, FlowRecord, RoutesRecord};
use repo::{Expect, Kind, RepoError, Repository};

pub use sqlite::SqliteRepo;
/// Re-exported so that `flowc serve` runs the server on the same versions.
pub use {axum, tokio, tracing};

/// The largest ingest batch.
pub const MAX_BATCH: usize = 1000;

/// Who may call.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Bearer <token>` (locally: `FLOWC_TOKEN`).
    Token(Arc<str>),
    /// The gateway in front authorised the request (IAM on AWS).
    Gateway,
}

/// Everything the handlers share.
pub struct StoreState {
    pub repo: Arc<dyn Repository>,
    /// The compiled graph: nodes (targets, flow steps) and the project.
    pub graph: Arc<Graph>,
    pub live: Arc<dyn LiveRoutes>,
    pub ingest: Option<Arc<dyn Ingest>>,
    pub auth: Auth,
    /// Serialises routing changes so the bus sees them in version order.
    pub route_lock: tokio::sync::Mutex<()>,
    /// The OpenAPI document, rendered once.
    pub openapi: String,
}

impl StoreState {
    pub fn new(
        repo: Arc<dyn Repository>,
        graph: Arc<Graph>,
        live: Arc<dyn LiveRoutes>,
        ingest: Option<Arc<dyn Ingest>>,
        auth: Auth,
    ) -> StoreState {
        StoreState {
            repo,
            graph,
            live,
            ingest,
            auth,
            route_lock: tokio::sync::Mutex::new(()),
            openapi: openapi_json(),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "flowc Event Store API", description = "Events, flows and routes of a flowc project (docs/event-store.md)."),
    paths(
        api::list_events, api::get_event, api::put_event, api::list_flows, api::get_flow,
        api::post_flow, api::delete_flow, api::post_route, api::ingest, api::healthz, api::openapi
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail, error::Problem, model::RouteSpec)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI 3.1 document of the API, from the handlers' annotations.
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

/// One endpoint of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    /// The path as axum and API Gateway both write it (`{id}` parameters).
    pub path: &'static str,
    /// Served on AWS, so the template gives it an API Gateway route.
    /// `/ingest` is not: the API function has no engine, raw events go
    /// to the project's ingest API.
    pub on_aws: bool,
    /// Needs authorisation (everything but `/healthz`).
    pub authorised: bool,
}

const fn endpoint(method: &'static str, path: &'static str, on_aws: bool) -> Endpoint {
    Endpoint {
        method,
        path,
        on_aws,
        authorised: true,
    }
}

/// Every endpoint [`router`] serves, and nothing else: the router is built
/// from this list, and the compiler's template routes the `on_aws` ones
/// (`compiler/src/codegen/cfn/api.rs`), so the two cannot drift apart.
pub const ENDPOINTS: [Endpoint; 11] = [
    endpoint("GET", "/events", true),
    endpoint("GET", "/event/{id}", true),
    endpoint("PUT", "/event/{id}", true),
    endpoint("GET", "/flows", true),
    endpoint("GET", "/flow/{id}", true),
    endpoint("POST", "/flow", true),
    endpoint("DELETE", "/flow/{id}", true),
    endpoint("POST", "/route/{id}", true),
    endpoint("POST", "/ingest", false),
    endpoint("GET", "/openapi.json", true),
    Endpoint {
        method: "GET",
        path: "/healthz",
        on_aws: true,
        authorised: false,
    },
];

/// The handler of an endpoint of [`ENDPOINTS`] (a test checks that every
/// one has a handler).
fn handler_of(e: &Endpoint) -> Option<MethodRouter<Arc<StoreState>>> {
    Some(match (e.method, e.path) {
        ("GET", "/events") => get(api::list_events),
        ("GET", "/event/{id}") => get(api::get_event),
        ("PUT", "/event/{id}") => put(api::put_event),
        ("GET", "/flows") => get(api::list_flows),
        ("GET", "/flow/{id}") => get(api::get_flow),
        ("POST", "/flow") => post(api::post_flow),
        ("DELETE", "/flow/{id}") => delete(api::delete_flow),
        ("POST", "/route/{id}") => post(api::post_route),
        ("POST", "/ingest") => post(api::ingest),
        ("GET", "/openapi.json") => get(api::openapi),
        ("GET", "/healthz") => get(api::healthz),
        _ => return None,
    })
}

/// The router with every endpoint, auth, request logs and panic safety.
pub fn router(state: Arc<StoreState>) -> Router {
    let mut authed = Router::new();
    let mut open = Router::new();
    for e in &ENDPOINTS {
        let Some(handler) = handler_of(e) else {
            continue;
        };
        // Routes on one path with different methods merge.
        if e.authorised {
            authed = authed.route(e.path, handler);
        } else {
            open = open.route(e.path, handler);
        }
    }
    let authed = authed.route_layer(middleware::from_fn_with_state(state.clone(), authorise));
    Router::new()
        .merge(authed)
        .merge(open)
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .with_state(state)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(on_panic))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
}

fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error",
    )
    .into_response()
}

async fn authorise(State(s): State<Arc<StoreState>>, req: Request, next: Next) -> Response {
    if let Auth::Token(token) = &s.auth {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let ok: bool = given.as_bytes().ct_eq(token.as_bytes()).into();
        if !ok {
            return ApiError::unauthorized().into_response();
        }
    }
    next.run(req).await
}

/// A fresh random token (128 bits from the OS, hex).
pub fn generate_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS; two of them give 128 bits.
    let mut out = String::new();
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// What [`seed`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Seeded {
    pub events: usize,
    pub routes: usize,
    pub flows: usize,
}

/// Registers the graph's events (updating changed ones), and its routes and
/// flows where the store has none yet (changes made through the API win
/// over the project's). Returns what was written.
pub async fn seed(repo: &dyn Repository, graph: &Graph) -> Result<Seeded, RepoError> {
    let mut seeded = Seeded::default();
    for def in graph.events.values() {
        let body = serde_json::to_value(EventInput::from_def(def)).unwrap_or_default();
        let expect = match repo.get(Kind::Event, &def.name).await? {
            Some(c) if c.body == body => continue,
            Some(c) => Expect::Version(c.version),
            None => Expect::Absent,
        };
        repo.put(Kind::Event, &def.name, &body, expect).await?;
        seeded.events += 1;
    }
    for (event, routes) in model::graph_routes(graph) {
        if repo.get(Kind::Route, &event).await?.is_none() {
            let body = serde_json::to_value(RoutesRecord { routes }).unwrap_or_default();
            repo.put(Kind::Route, &event, &body, Expect::Absent).await?;
            seeded.routes += 1;
        }
    }
    for flow in &graph.flows {
        if repo.get(Kind::Flow, &flow.name).await?.is_none() {
            let body = serde_json::to_value(FlowRecord::from_def(flow)).unwrap_or_default();
            repo.put(Kind::Flow, &flow.name, &body, Expect::Absent)
                .await?;
            seeded.flows += 1;
        }
    }
    Ok(seeded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_a_handler() {
        for e in &ENDPOINTS {
            assert!(
                handler_of(e).is_some(),
                "{} {} has no handler",
                e.method,
                e.path
            );
        }
    }
}
