//! The local engine behind the Event Store: `flowc serve` ingests into it
//! and changes its routes while it runs.
//!
//! [`LocalEngine`] owns a [`Runner`] on a thread of its own (the runner and
//! its ports are not `Send`-shared; SQLite wants one owner) and takes
//! commands over a channel: ingest a batch, replace an event's routes. It
//! implements [`LiveRoutes`] and [`Ingest`]. A routing change rebuilds the
//! runner around the same state store and ports with the new routes, so
//! the next event (and the next deadline's cascade) is routed by them.
//! Time is the wall clock; deadlines fire while the server idles.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::error::Problem;
use super::live::{Ingest, IngestError, LiveRoutes};
use super::model::{IngestReport, RouteSpec};
use super::repo::BoxFuture;
use crate::engine::route::Router;
use crate::engine::{Emitted, Event};
use crate::graph::{Graph, RouteDef, SourceRef};
use crate::local::{Runner, Store, WallClock};
use crate::ports::{Clock, EventBus};

type Reply<T> = tokio::sync::oneshot::Sender<T>;

enum Command {
    Ingest(Vec<Value>, Reply<Result<IngestReport, IngestError>>),
    Routes(String, Vec<RouteSpec>, Reply<Result<(), String>>),
}

/// Where emitted events go besides the ingest report (stdout in `flowc serve`).
pub type EmitSink = Box<dyn FnMut(&Value) + Send>;

/// A handle on the engine thread; cheap to share.
pub struct LocalEngine {
    tx: mpsc::Sender<Command>,
}

#[derive(Default)]
struct Collect {
    events: Vec<Value>,
}

impl EventBus for Collect {
    fn publish(&mut self, event: &Emitted) -> Result<(), String> {
        self.events.push(event.event.to_envelope());
        Ok(())
    }
}

impl LocalEngine {
    /// Starts the engine thread; `make` builds the runner there (with its
    /// state store and ports) from the graph.
    pub fn spawn<S, F>(graph: Graph, make: F, emit: EmitSink) -> Result<LocalEngine, String>
    where
        S: Store + 'static,
        F: FnOnce(Graph) -> Result<Runner<S>, String> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<Command>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        std::thread::Builder::new()
            .name("flow-engine".into())
            .spawn(move || match make(graph) {
                Ok(runner) => {
                    let _ = ready_tx.send(Ok(()));
                    engine_loop(runner, &rx, emit);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| format!("cannot start the engine thread: {e}"))?;
        ready_rx
            .recv()
            .map_err(|_| "the engine thread stopped".to_string())??;
        Ok(LocalEngine { tx })
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Option<T> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.tx.send(make(reply)).ok()?;
        rx.await.ok()
    }
}

impl LiveRoutes for LocalEngine {
    fn apply<'a>(
        &'a self,
        event: &'a str,
        routes: &'a [RouteSpec],
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.call(|r| Command::Routes(event.to_string(), routes.to_vec(), r))
                .await
                .unwrap_or_else(|| Err("the engine has stopped".into()))
        })
    }
}

impl Ingest for LocalEngine {
    fn ingest(&self, events: Vec<Value>) -> BoxFuture<'_, Result<IngestReport, IngestError>> {
        Box::pin(async move {
            self.call(|r| Command::Ingest(events, r))
                .await
                .unwrap_or_else(|| Err(IngestError::Engine("the engine has stopped".into())))
        })
    }
}

fn engine_loop<S: Store>(runner: Runner<S>, rx: &mpsc::Receiver<Command>, mut emit: EmitSink) {
    let clock = WallClock;
    let mut runner = Some(runner);
    loop {
        let wait = runner
            .as_ref()
            .and_then(Runner::next_deadline)
            .map(|d| Duration::from_millis((d - clock.now()).clamp(0, 60_000) as u64))
            .unwrap_or(Duration::from_secs(60));
        let command = match rx.recv_timeout(wait) {
            Ok(c) => Some(c),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        match command {
            None => {
                if let Some(r) = runner.as_mut() {
                    let mut bus = Collect::default();
                    let result = r.advance(clock.now(), &mut bus).and_then(|()| r.commit());
                    if let Err(e) = result {
                        tracing::error!(error = %e, "engine: firing deadlines failed");
                    }
                    for m in r.take_errors() {
                        tracing::warn!(message = %m, "engine");
                    }
                    bus.events.iter().for_each(&mut emit);
                }
            }
            Some(Command::Ingest(events, reply)) => {
                let result = match runner.as_mut() {
                    Some(r) => ingest(r, &events, clock.now()),
                    None => Err(IngestError::Engine("the engine has stopped".into())),
                };
                if let Ok(report) = &result {
                    report.emitted.iter().for_each(&mut emit);
                }
                let _ = reply.send(result);
            }
            Some(Command::Routes(event, routes, reply)) => {
                let result = match runner.take() {
                    Some(r) => {
                        let (next, result) = replace_routes(r, &event, &routes);
                        runner = next;
                        result
                    }
                    None => Err("the engine has stopped".into()),
                };
                let _ = reply.send(result);
            }
        }
    }
}

fn ingest<S: Store>(
    runner: &mut Runner<S>,
    values: &[Value],
    now: i64,
) -> Result<IngestReport, IngestError> {
    let mut events = Vec::with_capacity(values.len());
    let mut found = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match Event::from_envelope(v, now) {
            Ok(e) => events.push(e),
            Err(e) => found.push(Problem::new("invalid_event", format!("event {i}: {}", e.0))),
        }
    }
    if !found.is_empty() {
        return Err(IngestError::BadInput(found));
    }
    let before: BTreeMap<String, u64> = runner
        .stats()
        .iter()
        .map(|(n, s)| (n.clone(), s.input))
        .collect();
    let mut bus = Collect::default();
    let engine = |e: crate::local::RunError| IngestError::Engine(e.to_string());
    runner.advance(now, &mut bus).map_err(engine)?;
    let accepted = events.len();
    for event in events {
        runner.publish(event, &mut bus).map_err(engine)?;
    }
    runner.commit().map_err(engine)?;
    let delivered = runner
        .stats()
        .iter()
        .filter_map(|(n, s)| {
            let d = s.input - before.get(n).copied().unwrap_or(0);
            (d > 0).then(|| (n.clone(), d))
        })
        .collect();
    Ok(IngestReport {
        accepted,
        delivered,
        emitted: bus.events,
        errors: runner.take_errors(),
    })
}

/// The runner rebuilt with `event`'s routes replaced; the old runner back
/// when the new routes do not compile.
fn replace_routes<S: Store>(
    runner: Runner<S>,
    event: &str,
    routes: &[RouteSpec],
) -> (Option<Runner<S>>, Result<(), String>) {
    let mut graph = runner.graph().clone();
    graph.routes.retain(|r| r.event != event);
    graph.routes.extend(routes.iter().map(|r| RouteDef {
        name: r.name.clone(),
        event: event.to_string(),
        targets: r.targets.clone(),
        pattern: r.pattern.clone(),
        max_hops: r.max_hops,
        implicit: false,
        span: SourceRef {
            file: "api".into(),
            line: 0,
            column: 0,
            offset: 0,
            length: 0,
        },
    }));
    if let Err(e) = Router::new(&graph) {
        return (
            Some(runner),
            Err(format!("a route pattern is invalid: {e}")),
        );
    }
    let store = runner.store;
    let ports = runner.ports;
    match Runner::new(graph, store, ports) {
        Ok(r) => (Some(r), Ok(())),
        Err(e) => (None, Err(e.to_string())),
    }
}
