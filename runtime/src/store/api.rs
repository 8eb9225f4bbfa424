//! The handlers of the Event Store API and the router that binds them.
//!
//! Input: HTTP requests (already authorised). Output: JSON responses.
//! Invariants: a handler validates everything before it writes; every
//! write is a compare-and-swap in the repository; a routing change is
//! written, then applied to the live bus under the route lock, and undone
//! in the repository when the bus refuses it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::error::{ApiError, ErrorBody};
use super::extract::{encode_token, expected_version, page, path_id, JsonBody, PageQuery};
use super::live::IngestError;
use super::model::{
    EventInput, EventList, EventView, FlowInput, FlowList, FlowRecord, FlowView, IngestReport,
    RouteSpec, RoutesInput, RoutesRecord, RoutesView, Written,
};
use super::repo::{Expect, Kind, Versioned};
use super::validate::{check_flow, check_routes, RoutedEvent};
use super::StoreState;

type AppState = State<Arc<StoreState>>;

fn with_etag(mut response: Response, version: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

fn stored<T: serde::de::DeserializeOwned>(record: &Versioned) -> Result<T, ApiError> {
    T::deserialize(&record.body).map_err(|e| {
        ApiError::from(super::repo::RepoError::Backend(format!(
            "stored {} is unreadable: {e}",
            record.id
        )))
    })
}

async fn event_view(s: &StoreState, record: Versioned) -> Result<EventView, ApiError> {
    let routing = s.repo.get(Kind::Route, &record.id).await?;
    event_view_with(record, routing)
}

/// The view of an event record with its routing record.
fn event_view_with(record: Versioned, routing: Option<Versioned>) -> Result<EventView, ApiError> {
    let event: EventInput = stored(&record)?;
    let (routes, routes_version) = match routing {
        Some(r) => (stored::<RoutesRecord>(&r)?.routes, r.version),
        None => (Vec::new(), 0),
    };
    let consumers: BTreeSet<String> = routes
        .iter()
        .flat_map(|r| r.targets.iter().cloned())
        .collect();
    Ok(EventView {
        id: record.id,
        name: event.name,
        source: event.source,
        detail_type: event.detail_type,
        schema: event.schema,
        emitted_by: event.emitted_by,
        origin: event.origin,
        version: record.version,
        routes,
        routes_version,
        consumers: consumers.into_iter().collect(),
    })
}

/// Every registered event, with its routes and consumers.
#[utoipa::path(get, path = "/events", params(PageQuery), tag = "events",
    responses((status = 200, body = EventList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_events(
    State(s): AppState,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (after, limit) = page(q)?;
    let page = s.repo.list(Kind::Event, after.as_deref(), limit).await?;
    // Routing records have event ids, so the first `limit` of them after
    // `after` hold the routing of every event of this page: one query.
    let routings = s.repo.list(Kind::Route, after.as_deref(), limit).await?;
    let mut routings: BTreeMap<String, Versioned> = routings
        .items
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let next_token = page.last.as_deref().map(encode_token);
    let mut items = Vec::with_capacity(page.items.len());
    for record in page.items {
        let routing = routings.remove(&record.id);
        items.push(event_view_with(record, routing)?);
    }
    Ok(Json(EventList { items, next_token }).into_response())
}

/// One event.
#[utoipa::path(get, path = "/event/{id}", tag = "events", params(("id" = String, Path, description = "event name")),
    responses((status = 200, body = EventView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_event(
    State(s): AppState,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = path_id(id)?;
    let record = s
        .repo
        .get(Kind::Event, &id)
        .await?
        .ok_or_else(|| unknown_event(&id))?;
    let version = record.version;
    let view = event_view(&s, record).await?;
    Ok(with_etag(Json(view).into_response(), version))
}

fn unknown_event(id: &str) -> ApiError {
    ApiError::not_found("unknown_event", format!("no event `{id}` is registered"))
}

fn unknown_flow(id: &str) -> ApiError {
    ApiError::not_found("unknown_flow", format!("no flow `{id}`"))
}

/// Registers or updates an event type (what `flowc publish` uses).
#[utoipa::path(put, path = "/event/{id}", tag = "events", request_body = EventInput,
    params(("id" = String, Path, description = "event name"), ("If-Match" = Option<String>, Header, description = "expected version")),
    responses((status = 200, body = Written), (status = 201, body = Written), (status = 409, body = ErrorBody), (status = 428, body = ErrorBody)))]
pub async fn put_event(
    State(s): AppState,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    JsonBody(mut input): JsonBody<EventInput>,
) -> Result<Response, ApiError> {
    let id = path_id(id)?;
    let expected = expected_version(&headers, input.version.take())?;
    if input.name != id {
        return Err(ApiError::invalid(
            "id_mismatch",
            format!("the body names event `{}`, the path `{id}`", input.name),
            Vec::new(),
        ));
    }
    let body = serde_json::to_value(&input).unwrap_or(Value::Null);
    let current = s.repo.get(Kind::Event, &id).await?;
    write_record(&s, Kind::Event, &id, body, current, expected).await
}

/// Writes `body` over `current` with the client's precondition: without
/// one, only a new record or an unchanged one is accepted (428 otherwise).
async fn write_record(
    s: &StoreState,
    kind: Kind,
    id: &str,
    body: Value,
    current: Option<Versioned>,
    expected: Option<u64>,
) -> Result<Response, ApiError> {
    if let Some(c) = &current {
        if c.body == body && expected.is_none_or(|v| v == c.version) {
            let written = Written {
                id: id.to_string(),
                version: c.version,
                changed: false,
            };
            return Ok(with_etag(Json(written).into_response(), c.version));
        }
    }
    let expect = match (expected, &current) {
        (Some(0), _) | (None, None) => Expect::Absent,
        (Some(v), _) => Expect::Version(v),
        (None, Some(c)) => {
            let mut e = ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "version_required",
                format!(
                    "`{id}` exists (version {}): send If-Match or a version field to replace it",
                    c.version
                ),
            );
            e.detail.current_version = Some(c.version);
            return Err(e);
        }
    };
    let version = s.repo.put(kind, id, &body, expect).await?;
    let status = if version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let written = Written {
        id: id.to_string(),
        version,
        changed: true,
    };
    Ok(with_etag((status, Json(written)).into_response(), version))
}

fn flow_view(
    s: &StoreState,
    record: &Versioned,
    routes: &BTreeMap<String, Vec<RouteSpec>>,
) -> Result<FlowView, ApiError> {
    let flow: FlowRecord = stored(record)?;
    let graph = &s.graph;
    let nodes: Vec<String> = flow
        .steps
        .iter()
        .filter(|st| graph.nodes.contains_key(*st))
        .cloned()
        .collect();
    let mut via = BTreeSet::new();
    for pair in flow.steps.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        // The events carried from `a` to node `b`: `a` itself, or what `a` emits.
        let carried: Vec<&String> = match graph.nodes.get(a) {
            Some(node) => node.outputs.iter().collect(),
            None => vec![a],
        };
        for e in carried {
            for r in routes.get(e).into_iter().flatten() {
                if r.targets.iter().any(|t| t == b) {
                    via.insert(r.name.clone());
                }
            }
        }
    }
    Ok(FlowView {
        id: record.id.clone(),
        name: flow.name,
        steps: flow.steps,
        nodes,
        routes: via.into_iter().collect(),
        origin: flow.origin,
        version: record.version,
    })
}

/// Every route in force, per event.
async fn routes_in_force(s: &StoreState) -> Result<BTreeMap<String, Vec<RouteSpec>>, ApiError> {
    let mut out = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = s.repo.list(Kind::Route, after.as_deref(), 1000).await?;
        for r in &page.items {
            out.insert(r.id.clone(), stored::<RoutesRecord>(r)?.routes);
        }
        match page.last {
            Some(last) => after = Some(last),
            None => return Ok(out),
        }
    }
}

/// Every flow.
#[utoipa::path(get, path = "/flows", params(PageQuery), tag = "flows",
    responses((status = 200, body = FlowList), (status = 400, body = ErrorBody)))]
pub async fn list_flows(
    State(s): AppState,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (after, limit) = page(q)?;
    let page = s.repo.list(Kind::Flow, after.as_deref(), limit).await?;
    let routes = routes_in_force(&s).await?;
    let items = page
        .items
        .iter()
        .map(|r| flow_view(&s, r, &routes))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(FlowList {
        items,
        next_token: page.last.as_deref().map(encode_token),
    })
    .into_response())
}

/// One flow: its steps, nodes, routes and origin.
#[utoipa::path(get, path = "/flow/{id}", tag = "flows", params(("id" = String, Path, description = "flow name")),
    responses((status = 200, body = FlowView), (status = 404, body = ErrorBody)))]
pub async fn get_flow(
    State(s): AppState,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = path_id(id)?;
    let record = s
        .repo
        .get(Kind::Flow, &id)
        .await?
        .ok_or_else(|| unknown_flow(&id))?;
    let routes = routes_in_force(&s).await?;
    let view = flow_view(&s, &record, &routes)?;
    Ok(with_etag(Json(view).into_response(), record.version))
}

/// Creates a flow from a flow object; its name is its id.
#[utoipa::path(post, path = "/flow", tag = "flows", request_body = FlowInput,
    responses((status = 201, body = Written), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post_flow(
    State(s): AppState,
    JsonBody(input): JsonBody<FlowInput>,
) -> Result<Response, ApiError> {
    let registered = registered_events(&s, &input.steps).await?;
    let found = check_flow(&s.graph, &registered, &input);
    if !found.is_empty() {
        return Err(ApiError::invalid(
            "invalid_flow",
            format!("flow `{}` is not valid", input.name),
            found,
        ));
    }
    let origin = input.origin.unwrap_or_else(|| "api".into());
    let record = FlowRecord {
        name: input.name.clone(),
        steps: input.steps,
        origin,
    };
    let body = serde_json::to_value(&record).unwrap_or(Value::Null);
    match s
        .repo
        .put(Kind::Flow, &input.name, &body, Expect::Absent)
        .await
    {
        Ok(version) => {
            let mut response = (
                StatusCode::CREATED,
                Json(Written {
                    id: input.name.clone(),
                    version,
                    changed: true,
                }),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/flow/{}", input.name)) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            Ok(with_etag(response, version))
        }
        Err(super::repo::RepoError::Conflict { current }) => {
            let mut e = ApiError::new(
                StatusCode::CONFLICT,
                "flow_exists",
                format!(
                    "flow `{}` exists; delete it first or pick another name",
                    input.name
                ),
            );
            e.detail.current_version = Some(current);
            Err(e)
        }
        Err(e) => Err(e.into()),
    }
}

/// The steps that are registered events.
async fn registered_events(s: &StoreState, steps: &[String]) -> Result<BTreeSet<String>, ApiError> {
    let mut out = BTreeSet::new();
    for step in steps.iter().take(256) {
        if !s.graph.nodes.contains_key(step)
            && super::validate::valid_id(step)
            && s.repo.get(Kind::Event, step).await?.is_some()
        {
            out.insert(step.clone());
        }
    }
    Ok(out)
}

/// Deletes a flow (204); a second delete is 404.
#[utoipa::path(delete, path = "/flow/{id}", tag = "flows",
    params(("id" = String, Path, description = "flow name"), ("If-Match" = Option<String>, Header, description = "expected version")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_flow(
    State(s): AppState,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = path_id(id)?;
    let expected = expected_version(&headers, None)?;
    if s.repo.delete(Kind::Flow, &id, expected).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(unknown_flow(&id))
    }
}

/// Replaces an event's routing; takes effect on the live bus.
#[utoipa::path(post, path = "/route/{id}", tag = "routes", request_body = RoutesInput,
    params(("id" = String, Path, description = "event name"), ("If-Match" = Option<String>, Header, description = "expected routes_version")),
    responses((status = 200, body = RoutesView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 428, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn post_route(
    State(s): AppState,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<RoutesInput>,
) -> Result<Response, ApiError> {
    let id = path_id(id)?;
    let expected = expected_version(&headers, input.version)?;
    let event_record = s
        .repo
        .get(Kind::Event, &id)
        .await?
        .ok_or_else(|| unknown_event(&id))?;
    let event: EventInput = stored(&event_record)?;
    let others = routes_in_force(&s).await?;
    let routed = RoutedEvent {
        name: &id,
        source: &event.source,
        detail_type: &event.detail_type,
    };
    let specs = check_routes(&s.graph, &routed, &input.routes, &others).map_err(|found| {
        ApiError::invalid(
            "invalid_route",
            format!("the routing of `{id}` is not valid"),
            found,
        )
    })?;
    let body = serde_json::to_value(RoutesRecord {
        routes: specs.clone(),
    })
    .unwrap_or(Value::Null);

    let _serial = s.route_lock.lock().await;
    let current = s.repo.get(Kind::Route, &id).await?;
    let expect = match (expected, &current) {
        (Some(0), _) | (None, None) => Expect::Absent,
        (Some(v), _) => Expect::Version(v),
        (None, Some(c)) => {
            let mut e = ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "version_required",
                format!(
                    "`{id}` is routed (routes_version {}): send If-Match or a version field",
                    c.version
                ),
            );
            e.detail.current_version = Some(c.version);
            return Err(e);
        }
    };
    let version = s.repo.put(Kind::Route, &id, &body, expect).await?;
    if let Err(message) = s.live.apply(&id, &specs).await {
        tracing::error!(event = %id, error = %message, "live route update failed; restoring the previous routing");
        let undo = match &current {
            Some(c) => s
                .repo
                .put(Kind::Route, &id, &c.body, Expect::Version(version))
                .await
                .map(|_| ()),
            None => s
                .repo
                .delete(Kind::Route, &id, Some(version))
                .await
                .map(|_| ()),
        };
        if let Err(e) = undo {
            tracing::error!(event = %id, error = %e, "could not restore the previous routing");
        }
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "live_update_failed",
            format!("the bus refused the new routing, nothing changed: {message}"),
        ));
    }
    tracing::info!(event = %id, version, routes = specs.len(), "routing replaced");
    let view = RoutesView {
        event: id,
        routes: specs,
        version,
    };
    Ok(with_etag(Json(view).into_response(), version))
}

/// Puts one event (an object) or a batch (an array) on the local bus.
#[utoipa::path(post, path = "/ingest", tag = "ingest", request_body(content = Object, description = "an EventBridge event or an array of them"),
    responses((status = 200, body = IngestReport), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn ingest(
    State(s): AppState,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let Some(port) = &s.ingest else {
        return Err(ApiError::not_found(
            "ingest_unavailable",
            "this store has no ingest (use the project's ingest API)",
        ));
    };
    let events = match body {
        Value::Array(items) => items,
        other => vec![other],
    };
    if events.is_empty() || events.len() > super::MAX_BATCH {
        return Err(ApiError::bad_request(
            "invalid_batch",
            format!(
                "send one event or a batch of 1 to {} events",
                super::MAX_BATCH
            ),
        ));
    }
    match port.ingest(events).await {
        Ok(report) => Ok(Json(report).into_response()),
        Err(IngestError::BadInput(found)) => Err({
            let mut e = ApiError::bad_request(
                "invalid_event",
                "some events are not EventBridge events; nothing was ingested",
            );
            e.detail.diagnostics = found;
            e
        }),
        Err(IngestError::Engine(m)) => {
            tracing::error!(error = %m, "engine failure");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "engine_unavailable",
                m,
            ))
        }
    }
}

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "ok")))]
pub async fn healthz() -> Response {
    Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// This API as OpenAPI 3.1.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "the OpenAPI document")))]
pub async fn openapi(State(s): AppState) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.openapi.clone(),
    )
        .into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::not_found(
        "no_such_endpoint",
        "no such endpoint; see GET /openapi.json",
    )
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take this method; see GET /openapi.json",
    )
}
