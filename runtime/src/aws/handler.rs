//! The Lambda handler: the graph, the router and the SDK clients are built
//! once ([`App::init`]); each invocation picks the role's path.
//!
//! * `node`: an EventBridge event → [`NodeDriver::deliver`]; the flush
//!   input `{"flowc":"flush","node":…}` → [`NodeDriver::flush`]. The
//!   driver is synchronous and runs on a blocking thread, its adapters
//!   bridging to the SDK. Views go to [`views`] instead: a summarizer
//!   calls Bedrock, a transcriber starts a Transcribe job and finishes on
//!   the job's state-change event.
//! * `ingest`: an S3 `Object Created` event or an HTTP API request → the
//!   trigger's event, put on the bus.
//! * `api`: the Event Store router ([`App::event_store`]), which
//!   `bootstrap` serves through `lambda_http` instead of [`App::handle`].
//! * `sink`: the app's sinks write the event (S3, DynamoDB) or post it
//!   (webhooks, signed with the secret from Secrets Manager).

use std::sync::Arc;

use serde_json::{json, Value};

use super::bedrock::BedrockSummarizer;
use super::clients::Clients;
use super::clock::{EventClock, SystemClock};
use super::config::{ClockMode, Config, Role};
use super::driver::{NodeDriver, Outcome, Outlet};
use super::dynamodb::DynamoStore;
use super::error::FlowError;
use super::eventbridge::{put_events, EventBridgeBus};
use super::ingest;
use super::lambda_invoke::{self, LambdaNodes};
use super::s3::S3Objects;
use super::sinks::{self, Delivery, Webhooks};
use super::transcribe::{Jobs, TranscribeJobs};
use super::views;
use super::wire::{read_delivered, Entry};
use super::Bridge;
use crate::engine::route::Router;
use crate::engine::{is_stateful, Millis};
use crate::graph::{Graph, NodeKind};
use crate::ports::Clock;

pub struct App {
    pub config: Config,
    pub graph: Graph,
    router: Router,
    clients: Clients,
    events_clock: Option<EventClock>,
}

impl Outlet for EventBridgeBus {
    fn put(&mut self, entries: &[Entry]) -> Result<(), FlowError> {
        for e in entries {
            self.buffer(e.clone());
        }
        self.send().map_err(FlowError::from)
    }
}

impl App {
    /// Reads graph.json and builds the clients; an error here is an init
    /// error (Lambda reports it and does not invoke).
    pub async fn init(config: Config) -> Result<App, FlowError> {
        let path = config.graph_path();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            FlowError::bad_input(format!("cannot read {} (FLOW_GRAPH): {e}", path.display()))
        })?;
        let graph = Graph::from_json(&text).map_err(|e| FlowError::bad_input(e.to_string()))?;
        let clients = Clients::load(config.endpoint.as_deref()).await;
        App::new(config, graph, clients)
    }

    /// An app from parts (tests build the graph themselves).
    pub fn new(config: Config, graph: Graph, clients: Clients) -> Result<App, FlowError> {
        let router = Router::new(&graph)
            .map_err(|e| FlowError::bad_input(format!("a route pattern is invalid: {e}")))?;
        // Fail at init, not at the first event, if the graph lacks the job.
        match &config.role {
            Role::Node(n) => {
                NodeDriver::new(&graph, &router, n)?;
            }
            Role::Ingest(t) => {
                ingest::trigger(&graph, t)?;
            }
            Role::Sink(a) => {
                sinks::app(&graph, a)?;
            }
            Role::Api(api) => super::api::check_targets(&graph, api)?,
        }
        let events_clock = (config.clock == ClockMode::Events).then(EventClock::new);
        Ok(App {
            config,
            graph,
            router,
            clients,
            events_clock,
        })
    }

    /// The Event Store router of the `api` role (`None` for other roles).
    pub fn event_store(&self) -> Option<crate::store::axum::Router> {
        let Role::Api(api) = &self.config.role else {
            return None;
        };
        Some(super::api::event_store(
            &self.graph,
            &self.config.table,
            &self.config.bus,
            api,
            &self.clients,
        ))
    }

    fn now(&self) -> Millis {
        match &self.events_clock {
            Some(c) => c.now(),
            None => SystemClock.now(),
        }
    }

    /// Handles one invocation.
    pub async fn handle(self: &Arc<Self>, payload: Value) -> Result<Value, FlowError> {
        match &self.config.role {
            Role::Node(_) => {
                let app = Arc::clone(self);
                let bridge = Bridge::current();
                tokio::task::spawn_blocking(move || app.handle_node(&bridge, &payload))
                    .await
                    .map_err(|e| FlowError::retryable(format!("the node task failed: {e}")))?
            }
            Role::Ingest(trigger) => self.handle_ingest(trigger, payload).await,
            Role::Api(_) => Err(FlowError::bad_input(
                "the API function takes HTTP API requests through the Event Store router, not App::handle",
            )),
            Role::Sink(app) => self.handle_sink(app, payload).await,
        }
    }

    /// The node role, on a blocking thread.
    fn handle_node(&self, bridge: &Bridge, payload: &Value) -> Result<Value, FlowError> {
        let Role::Node(name) = &self.config.role else {
            return Err(FlowError::bad_input("not a node function"));
        };
        let driver = NodeDriver::new(&self.graph, &self.router, name)?;
        let ttl = matches!(
            driver.node.kind,
            NodeKind::Dedupe { .. } | NodeKind::Combiner { .. }
        );
        let mut store = DynamoStore::new(
            self.clients.dynamodb.clone(),
            &self.config.table,
            bridge.clone(),
        )
        .with_state_ttl(ttl)
        .for_node(name);
        let mut objects = S3Objects::new(self.clients.s3.clone(), bridge.clone());
        let mut bus = EventBridgeBus::new(
            self.clients.eventbridge.clone(),
            &self.config.bus,
            bridge.clone(),
        );
        if payload.get("flowc").and_then(Value::as_str) == Some("flush") {
            let target = payload
                .get("node")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if target != name {
                return Err(FlowError::bad_input(format!(
                    "a flush for node {target:?} reached the function of {name}"
                ))
                .at(name, &driver.node.span));
            }
            if let (Some(clock), Some(at)) = (
                &self.events_clock,
                payload.get("at").and_then(Value::as_str),
            ) {
                if let Some(t) = crate::engine::time::parse_rfc3339(at) {
                    clock.advance_to(t);
                }
            }
            if !is_stateful(&driver.node.kind) {
                return Ok(json!({"flushed": 0}));
            }
            let emitted = driver.flush(&mut store, &mut objects, &mut bus, self.now())?;
            return Ok(json!({"flushed": emitted.len()}));
        }
        let event = read_delivered(payload, self.now()).map_err(|e| {
            FlowError::bad_input(format!("not an EventBridge event: {e}"))
                .at(name, &driver.node.span)
        })?;
        if let Some(clock) = &self.events_clock {
            clock.advance_to(event.time);
        }
        let outcome = match &driver.node.kind {
            NodeKind::Summarizer { .. } => {
                let bedrock = BedrockSummarizer::new(self.clients.bedrock.clone(), bridge.clone());
                views::summarize(&driver, &bedrock, &mut objects, &mut bus, &event)?
            }
            NodeKind::Transcriber { .. } => {
                let jobs = TranscribeJobs::new(self.clients.transcribe.clone(), bridge.clone());
                let names = Jobs {
                    // The template sets it (the job rule matches it).
                    prefix: std::env::var("FLOW_JOB_PREFIX").unwrap_or_else(|_| name.clone()),
                    node: name.clone(),
                    bucket: self.config.bucket.clone(),
                };
                views::transcribe(&driver, &jobs, &names, &mut objects, &mut bus, &event)?
            }
            NodeKind::Custom { .. } => {
                let functions = LambdaNodes::new(self.clients.lambda.clone(), bridge.clone());
                lambda_invoke::deliver(&driver, &functions, &mut bus, &event)?
            }
            _ => driver.deliver(&mut store, &mut objects, &mut bus, &event, self.now())?,
        };
        Ok(match outcome {
            Outcome::Done(emitted) => json!({"emitted": emitted.len()}),
            Outcome::Duplicate(n) => json!({"duplicate": true, "republished": n}),
            Outcome::Refused => json!({"refused": "max_hops"}),
        })
    }

    async fn handle_ingest(&self, trigger: &str, payload: Value) -> Result<Value, FlowError> {
        let (t, event) = ingest::trigger(&self.graph, trigger)?;
        let at = |e: FlowError| e.at(&t.name, &t.span);
        if payload.get("source").and_then(Value::as_str) == Some("aws.s3") {
            let detail = payload.get("detail").cloned().unwrap_or(Value::Null);
            let object = ingest::read_s3_notification(&detail).map_err(at)?;
            let head = self
                .clients
                .s3
                .head_object()
                .bucket(&object.bucket)
                .key(&object.key)
                .send()
                .await
                .map_err(|e| {
                    at(FlowError::retryable(format!(
                        "S3 HeadObject s3://{}/{}: {}",
                        object.bucket,
                        object.key,
                        aws_sdk_s3::error::DisplayErrorContext(e)
                    )))
                })?;
            let flow_detail = head
                .metadata()
                .and_then(|m| m.get("flow-detail"))
                .map(String::as_str);
            let detail =
                ingest::s3_detail(event, &object, head.content_type(), flow_detail).map_err(at)?;
            let time = payload
                .get("time")
                .and_then(Value::as_str)
                .and_then(crate::engine::time::parse_rfc3339)
                .unwrap_or_else(|| self.now());
            let entry = Entry::raw(&event.source, &event.detail_type, &detail, time);
            let ids = put_events(&self.clients.eventbridge, &self.config.bus, &[entry])
                .await
                .map_err(|e| at(e.into()))?;
            return Ok(json!({"ids": ids}));
        }
        let request: aws_lambda_events::apigw::ApiGatewayV2httpRequest =
            serde_json::from_value(payload).map_err(|e| {
                at(FlowError::bad_input(format!(
                    "neither an S3 notification nor an HTTP API request: {e}"
                )))
            })?;
        let body = request.body.unwrap_or_default();
        let bytes = if request.is_base64_encoded {
            match ingest::base64_decode(&body) {
                Ok(b) => b,
                Err(e) => return Ok(http_response(400, &json!({"error": e.message}))),
            }
        } else {
            body.into_bytes()
        };
        let detail = match ingest::http_detail(&bytes) {
            Ok(d) => d,
            Err(e) => return Ok(http_response(400, &json!({"error": e.message}))),
        };
        let time = if request.request_context.time_epoch > 0 {
            request.request_context.time_epoch
        } else {
            self.now()
        };
        let entry = Entry::raw(&event.source, &event.detail_type, &detail, time);
        match put_events(&self.clients.eventbridge, &self.config.bus, &[entry]).await {
            Ok(ids) => Ok(http_response(202, &json!({"id": ids.first()}))),
            Err(e) => Ok(http_response(503, &json!({"error": e.to_string()}))),
        }
    }
}

impl App {
    /// The sink role: every sink of the app that takes the event writes it.
    async fn handle_sink(&self, app: &str, payload: Value) -> Result<Value, FlowError> {
        let def = sinks::app(&self.graph, app)?;
        let event = read_delivered(&payload, self.now()).map_err(|e| {
            FlowError::bad_input(format!("not an EventBridge event: {e}")).at(app, &def.span)
        })?;
        let plan = sinks::plan(&self.graph, def, &event, SystemClock.now())?;
        let mut done = Vec::new();
        for (kind, delivery, sink) in plan {
            let at = |e: FlowError| e.at(&format!("{app}.{sink}"), &def.span);
            match delivery {
                Delivery::Object {
                    key,
                    body,
                    content_type,
                } => {
                    self.clients
                        .s3
                        .put_object()
                        .bucket(&self.config.bucket)
                        .key(&key)
                        .content_type(content_type)
                        .body(aws_sdk_s3::primitives::ByteStream::from(body.into_bytes()))
                        .send()
                        .await
                        .map_err(|e| {
                            at(FlowError::retryable(format!(
                                "S3 PutObject s3://{}/{key}: {}",
                                self.config.bucket,
                                aws_sdk_s3::error::DisplayErrorContext(e)
                            )))
                        })?;
                }
                Delivery::Record {
                    pk,
                    sk,
                    id,
                    time,
                    detail,
                    expires_at,
                } => {
                    use aws_sdk_dynamodb::types::AttributeValue as A;
                    let mut put = self
                        .clients
                        .dynamodb
                        .put_item()
                        .table_name(&self.config.table)
                        .item("pk", A::S(pk))
                        .item("sk", A::S(sk))
                        .item("id", A::S(id))
                        .item("time", A::S(time))
                        .item("detail", A::S(detail));
                    if let Some(t) = expires_at {
                        put = put.item("expires_at", A::N(t.to_string()));
                    }
                    put.send().await.map_err(|e| {
                        at(FlowError::retryable(format!(
                            "DynamoDB PutItem: {}",
                            aws_sdk_dynamodb::error::DisplayErrorContext(e)
                        )))
                    })?;
                }
                Delivery::Webhook {
                    url,
                    secret,
                    body,
                    event_id,
                    timeout_ms,
                } => {
                    let webhooks = Webhooks::get(&self.clients.secrets, &self.config.secret_prefix)
                        .map_err(at)?;
                    let timeout = std::time::Duration::from_millis(timeout_ms);
                    webhooks
                        .post(&url, &secret, &body, &event_id, timeout)
                        .await
                        .map_err(at)?;
                }
            }
            done.push(json!({"sink": sink, "kind": kind}));
        }
        Ok(json!({"delivered": done}))
    }
}

/// An HTTP API (payload 2.0) response with a JSON body.
fn http_response(status: u16, body: &Value) -> Value {
    json!({
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": body.to_string(),
        "isBase64Encoded": false,
    })
}
