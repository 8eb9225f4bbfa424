//! Engine throughput: events/s through a counter and an aggregator, with
//! in-memory state and with SQLite state (committed every 512 events, as
//! `flowc run` does). `deliver` is the node path (idempotency check, state
//! load, step, save); `publish` adds routing with the EventBridge matcher.
//!
//! Run: `cargo bench --bench engine` (criterion prints time per batch of
//! 10,000 events and the throughput in elements/s).

use std::collections::VecDeque;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use flow_runtime::engine::route::Delivery;
use flow_runtime::engine::{Emitted, Event};
use flow_runtime::graph::Graph;
use flow_runtime::local::{MemoryStore, Ports, Runner, SqliteStore, Store};
use flow_runtime::ports::EventBus;
use serde_json::{json, Value};

const BATCH: u64 = 10_000;

struct Null;

impl EventBus for Null {
    fn publish(&mut self, _: &Emitted) -> Result<(), String> {
        Ok(())
    }
}

fn span() -> Value {
    json!({"file": "b.flow", "line": 1, "column": 1, "offset": 0, "length": 1})
}

fn graph() -> Graph {
    let ev = |name: &str, source: &str, dt: &str| json!({"name": name, "source": source, "detail_type": dt, "schema": {}, "span": span()});
    let route = |name: &str, target: &str| {
        json!({"name": name, "event": "Usage", "targets": [target], "implicit": true, "span": span(),
               "pattern": {"source": ["acme"], "detail-type": ["usage"]}})
    };
    serde_json::from_value(json!({
        "format_version": 1, "project": "b", "triggers": [], "flows": [], "apps": [], "tests": [],
        "events": {"Usage": ev("Usage", "acme", "usage"), "Sampled": ev("Sampled", "flow.b", "Sampled"),
                   "Rolled": ev("Rolled", "flow.b", "Rolled")},
        "nodes": {
            "Sampler": {"name": "Sampler", "class": "filter", "kind": "counter",
                "key": ["profile", "user"], "every": {"count": 100, "window_ms": 60000},
                "inputs": ["Usage"], "outputs": ["Sampled"], "emit": {"event": "Sampled"}, "span": span()},
            "Rollup": {"name": "Rollup", "class": "filter", "kind": "aggregator",
                "key": ["profile", "user"], "every": {"count": 100, "window_ms": 60000},
                "collect": [{"name": "app", "path": ["application", "name"]},
                            {"name": "ms", "path": ["data", "active_ms"]}],
                "aggregates": [{"name": "total", "function": "sum", "path": ["data", "active_ms"]},
                               {"name": "longest", "function": "max", "path": ["data", "active_ms"]}],
                "inputs": ["Usage"], "outputs": ["Rolled"], "emit": {"event": "Rolled"}, "span": span()}
        },
        "routes": [route("UsageToSampler", "Sampler"), route("UsageToRollup", "Rollup")]
    }))
    .expect("graph")
}

/// A batch of events of 1,000 users, 1 ms apart, with ids unique across
/// batches.
fn events(batch: u64) -> Vec<Event> {
    (0..BATCH)
        .map(|i| {
            let n = batch * BATCH + i;
            Event {
                id: format!("evt-{n}"),
                source: "acme".into(),
                detail_type: "usage".into(),
                time: 1_767_225_600_000 + n as i64,
                detail: std::sync::Arc::new(
                    json!({"profile": {"user": format!("user-{}", n % 1000)},
                               "data": {"active_ms": n % 5000},
                               "application": {"name": "Visual Studio Code"}}),
                ),
            }
        })
        .collect()
}

fn deliveries(batch: u64, node: &str) -> Vec<Delivery> {
    events(batch)
        .into_iter()
        .map(|event| Delivery {
            route: format!("UsageTo{node}"),
            node: node.to_string(),
            event_name: "Usage".into(),
            event,
        })
        .collect()
}

fn bench_deliver<S: Store>(c: &mut Criterion, name: &str, node: &str, mut runner: Runner<S>) {
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(20);
    let mut batch = 0;
    group.bench_function(name, |b| {
        b.iter_batched(
            || {
                batch += 1;
                deliveries(batch, node)
            },
            |ds| {
                let mut queue = VecDeque::new();
                for (i, d) in ds.into_iter().enumerate() {
                    runner.advance(d.event.time, &mut Null).expect("advance");
                    runner.deliver(d, &mut Null, &mut queue).expect("deliver");
                    queue.clear();
                    if i % 512 == 511 {
                        runner.commit().expect("commit");
                    }
                }
                runner.commit().expect("commit");
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn memory() -> Runner<MemoryStore> {
    Runner::new(graph(), MemoryStore::new(), Ports::offline(".")).expect("runner")
}

fn engine(c: &mut Criterion) {
    if std::env::var_os("FLOW_BENCH_CPU").is_some() {
        cpu_figures();
        std::process::exit(0);
    }
    bench_deliver(c, "counter/memory", "Sampler", memory());
    bench_deliver(c, "aggregator/memory", "Rollup", memory());
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = |sub: &str| {
        let store = SqliteStore::open(&dir.path().join(sub)).expect("sqlite");
        Runner::new(graph(), store, Ports::offline(".")).expect("runner")
    };
    bench_deliver(c, "counter/sqlite", "Sampler", sqlite("c"));
    bench_deliver(c, "aggregator/sqlite", "Rollup", sqlite("a"));

    // Routing included: every event reaches both nodes.
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(10);
    let mut runner = memory();
    let mut batch = 1_000;
    group.bench_function("publish/counter+aggregator/memory", |b| {
        b.iter_batched(
            || {
                batch += 1;
                events(batch)
            },
            |evs| {
                for e in evs {
                    runner.advance(e.time, &mut Null).expect("advance");
                    runner.publish(e, &mut Null).expect("publish");
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// CPU time of this thread in ns (`/proc/thread-self/schedstat`): on a
/// shared, loaded machine wall time measures the neighbours too.
fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Median events per CPU-second over 10 batches of 10,000 events, after 3
/// batches of warm-up: `FLOW_BENCH_CPU=1 cargo bench --bench engine`.
fn cpu_run<S: Store>(name: &str, node: &str, mut runner: Runner<S>) {
    let mut rates = Vec::new();
    for batch in 0..13 {
        let ds = deliveries(batch, node);
        let (t0, w0) = (cpu_ns(), std::time::Instant::now());
        let mut queue = VecDeque::new();
        for (i, d) in ds.into_iter().enumerate() {
            runner.advance(d.event.time, &mut Null).expect("advance");
            runner.deliver(d, &mut Null, &mut queue).expect("deliver");
            queue.clear();
            if i % 512 == 511 {
                runner.commit().expect("commit");
            }
        }
        runner.commit().expect("commit");
        let ns = match (t0, cpu_ns()) {
            (Some(a), Some(b)) => b - a,
            _ => w0.elapsed().as_nanos() as u64,
        };
        if batch >= 3 {
            rates.push(BATCH as f64 * 1e9 / ns.max(1) as f64);
        }
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "{name:<22} {:>10.0} events/s (median of {}, CPU time)",
        rates[rates.len() / 2],
        rates.len()
    );
}

fn cpu_figures() {
    cpu_run("counter/memory", "Sampler", memory());
    cpu_run("aggregator/memory", "Rollup", memory());
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = |sub: &str| {
        let store = SqliteStore::open(&dir.path().join(sub)).expect("sqlite");
        Runner::new(graph(), store, Ports::offline(".")).expect("runner")
    };
    cpu_run("counter/sqlite", "Sampler", sqlite("c"));
    cpu_run("aggregator/sqlite", "Rollup", sqlite("a"));
    let mut runner = memory();
    let mut rates = Vec::new();
    for batch in 100..113 {
        let evs = events(batch);
        let t0 = cpu_ns().unwrap_or(0);
        for e in evs {
            runner.advance(e.time, &mut Null).expect("advance");
            runner.publish(e, &mut Null).expect("publish");
        }
        let ns = cpu_ns().unwrap_or(0).saturating_sub(t0);
        if batch >= 103 {
            rates.push(BATCH as f64 * 1e9 / ns.max(1) as f64);
        }
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "{:<22} {:>10.0} events/s (median, CPU time; routing + both nodes)",
        "publish/both/memory",
        rates[rates.len() / 2]
    );
}

criterion_group!(benches, engine);
criterion_main!(benches);
