//! Durability of the SQLite state: a run stopped half-way (cleanly, or
//! killed between commits) and restarted produces exactly the output of one
//! uninterrupted run: no window state lost, no trigger emitted twice.

use flow_runtime::engine::{Emitted, Event};
use flow_runtime::graph::Graph;
use flow_runtime::local::{MemoryStore, Ports, Runner, SqliteStore, Store};
use flow_runtime::ports::EventBus;
use serde_json::{json, Value};

fn span() -> Value {
    json!({"file": "t.flow", "line": 1, "column": 1, "offset": 0, "length": 1})
}

/// Usage samples → a counter (every 5 or 60 s) and an aggregator (every
/// 30 s) per user; the counter's output feeds a dedupe.
fn graph() -> Graph {
    let ev = |name: &str, source: &str, dt: &str| json!({"name": name, "source": source, "detail_type": dt, "schema": {}, "span": span()});
    let route = |name: &str, event: &str, target: &str, source: &str, dt: &str| {
        json!({"name": name, "event": event, "targets": [target], "implicit": true, "span": span(),
               "pattern": {"source": [source], "detail-type": [dt]}})
    };
    serde_json::from_value(json!({
        "format_version": 1, "project": "t", "triggers": [], "flows": [], "apps": [], "tests": [],
        "events": {
            "Usage": ev("Usage", "acme", "usage"),
            "Sampled": ev("Sampled", "flow.t", "Sampled"),
            "Rolled": ev("Rolled", "flow.t", "Rolled"),
            "Fresh": ev("Fresh", "flow.t", "Fresh")
        },
        "nodes": {
            "Sampler": {"name": "Sampler", "class": "filter", "kind": "counter",
                "key": ["profile", "user"], "every": {"count": 5, "window_ms": 60000},
                "inputs": ["Usage"], "outputs": ["Sampled"], "emit": {"event": "Sampled"}, "span": span()},
            "Rollup": {"name": "Rollup", "class": "filter", "kind": "aggregator",
                "key": ["profile", "user"], "every": {"window_ms": 30000},
                "collect": [{"name": "ms", "path": ["data", "ms"]}],
                "aggregates": [{"name": "total", "function": "sum", "path": ["data", "ms"]}],
                "inputs": ["Usage"], "outputs": ["Rolled"], "emit": {"event": "Rolled"}, "span": span()},
            "Fresh": {"name": "Fresh", "class": "filter", "kind": "dedupe",
                "key": ["data", "count"], "window_ms": 45000,
                "inputs": ["Sampled"], "outputs": ["Fresh"], "emit": {"event": "Fresh"}, "span": span()}
        },
        "routes": [
            route("UsageToSampler", "Usage", "Sampler", "acme", "usage"),
            route("UsageToRollup", "Usage", "Rollup", "acme", "usage"),
            route("SampledToFresh", "Sampled", "Fresh", "flow.t", "Sampled")
        ]
    }))
    .expect("graph")
}

/// 300 events of 7 users over ~10 minutes, some out of order in time.
fn stream() -> Vec<Event> {
    (0..300)
        .map(|i: i64| {
            let user = format!("u{}", (i * 7 + i / 3) % 7);
            let jitter = if i % 11 == 0 { -1500 } else { 0 };
            Event {
                id: format!("evt-{i:04}"),
                source: "acme".into(),
                detail_type: "usage".into(),
                time: 1_767_225_600_000 + i * 2000 + jitter,
                detail: std::sync::Arc::new(
                    json!({"profile": {"user": user}, "data": {"ms": i * 10}}),
                ),
            }
        })
        .collect()
}

/// Events become "printed" only when their batch is committed.
#[derive(Default)]
struct Out {
    pending: Vec<String>,
    printed: Vec<String>,
}

impl EventBus for Out {
    fn publish(&mut self, e: &Emitted) -> Result<(), String> {
        self.pending.push(e.event.to_envelope().to_string());
        Ok(())
    }
}

fn feed<S: Store>(runner: &mut Runner<S>, out: &mut Out, events: &[Event], commit_every: usize) {
    for (i, e) in events.iter().enumerate() {
        runner.advance(e.time, out).expect("advance");
        runner.publish(e.clone(), out).expect("publish");
        if (i + 1) % commit_every == 0 {
            runner.commit().expect("commit");
            out.printed.append(&mut out.pending);
        }
    }
}

fn finish<S: Store>(runner: &mut Runner<S>, out: &mut Out) {
    while let Some(d) = runner.next_deadline() {
        runner.advance(d, out).expect("advance");
    }
    runner.commit().expect("commit");
    out.printed.append(&mut out.pending);
}

fn sqlite(dir: &std::path::Path) -> Runner<SqliteStore> {
    let store = SqliteStore::open(dir).expect("open");
    Runner::new(graph(), store, Ports::offline(".")).expect("runner")
}

fn one_run() -> Vec<String> {
    let mut runner = Runner::new(graph(), MemoryStore::new(), Ports::offline(".")).expect("runner");
    let mut out = Out::default();
    feed(&mut runner, &mut out, &stream(), 1);
    finish(&mut runner, &mut out);
    assert!(
        out.printed.len() > 60,
        "the stream fires often: {}",
        out.printed.len()
    );
    out.printed
}

#[test]
fn stop_and_restart_gives_the_output_of_one_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = stream();
    let mut out = Out::default();
    {
        let mut first = sqlite(dir.path());
        feed(&mut first, &mut out, &events[..150], 10);
    }
    let mut second = sqlite(dir.path());
    feed(&mut second, &mut out, &events[150..], 10);
    finish(&mut second, &mut out);
    assert_eq!(out.printed, one_run());
}

#[test]
fn a_kill_between_commits_is_redone_by_replaying_the_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = stream();
    let mut out = Out::default();
    {
        let mut first = sqlite(dir.path());
        // Commits after 64 and 128 events; 129..170 are processed, then "killed":
        // neither their state nor their output survives.
        feed(&mut first, &mut out, &events[..170], 64);
        out.pending.clear();
    }
    // The user runs the whole input again with the same --state.
    let mut second = sqlite(dir.path());
    feed(&mut second, &mut out, &events, 64);
    finish(&mut second, &mut out);
    assert_eq!(out.printed, one_run());
    let dropped: u64 = second.stats().values().map(|s| s.dropped).sum();
    assert!(
        dropped >= 2 * 128,
        "committed events are recognised by id: {dropped}"
    );
}
