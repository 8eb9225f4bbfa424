//! `flowc test`: runs the `test` blocks of a graph on the local engine with
//! a virtual clock, in-memory state and objects, placeholder views and custom
//! commands run in the project directory.
//!
//! Test time starts at [`TEST_EPOCH`] (2026-01-01T00:00:00Z): `given … at
//! 5s` publishes an event whose `time` is 2026-01-01T00:00:05Z. Given
//! events get deterministic ids (`test-<n>-<digest>`), so a test may give
//! the same event twice only by giving it twice (two ids); duplicate
//! delivery is tested with [`TestStep`]s repeating one `given` value *and*
//! `at`, which yields the same id.

use std::path::Path;

use serde_json::Value;

use crate::engine::{derive_id, time::parse_rfc3339, Emitted, Event, Millis};
use crate::graph::{Graph, SourceRef, TestDef, TestStep};
use crate::ports::fakes::RecordingBus;

use super::{MemoryStore, Ports, Runner};

/// 2026-01-01T00:00:00Z.
pub const TEST_EPOCH: Millis = 1_767_225_600_000;

/// One failed expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub span: SourceRef,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub failures: Vec<Failure>,
    /// Node errors and warnings during the test.
    pub notes: Vec<String>,
    /// Every event emitted, in order, as `(name, envelope)`.
    pub emitted: Vec<(String, Value)>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs one test of `graph`; custom commands run in `project_dir`.
pub fn run_test(graph: &Graph, test: &TestDef, project_dir: &Path) -> Outcome {
    let mut outcome = Outcome {
        name: test.name.clone(),
        failures: Vec::new(),
        notes: Vec::new(),
        emitted: Vec::new(),
    };
    let mut runner = match Runner::new(
        graph.clone(),
        MemoryStore::new(),
        Ports::offline(project_dir),
    ) {
        Ok(r) => r,
        Err(e) => {
            outcome.failures.push(Failure {
                span: test.span.clone(),
                message: e.to_string(),
            });
            return outcome;
        }
    };
    let mut bus = RecordingBus::default();
    let mut clock = TEST_EPOCH;
    for (index, step) in test.steps.iter().enumerate() {
        let failure = run_step(
            &mut runner,
            &mut bus,
            &mut clock,
            graph,
            test,
            index,
            &step.step,
        );
        outcome.notes.extend(runner.take_errors());
        if let Err(message) = failure {
            outcome.failures.push(Failure {
                span: step.span.clone(),
                message,
            });
        }
    }
    outcome.emitted = bus
        .events
        .iter()
        .map(|e| (e.name.clone(), e.event.to_envelope()))
        .collect();
    outcome
}

fn run_step(
    runner: &mut Runner<MemoryStore>,
    bus: &mut RecordingBus,
    clock: &mut Millis,
    graph: &Graph,
    test: &TestDef,
    index: usize,
    step: &TestStep,
) -> Result<(), String> {
    match step {
        TestStep::Given {
            event,
            detail,
            at_ms,
        } => {
            if let Some(at) = at_ms {
                *clock = (*clock).max(TEST_EPOCH + *at as i64);
            }
            runner.advance(*clock, bus).map_err(|e| e.to_string())?;
            let def = graph
                .events
                .get(event)
                .ok_or_else(|| format!("no event {event} in the graph"))?;
            let id = format!(
                "test-{}",
                derive_id(&[
                    &test.name,
                    &def.name,
                    &detail.to_string(),
                    &clock.to_string()
                ])
            );
            let _ = index;
            let ev = Event {
                id,
                source: def.source.clone(),
                detail_type: def.detail_type.clone(),
                time: *clock,
                detail: std::sync::Arc::new(detail.clone()),
            };
            runner.publish(ev, bus).map_err(|e| e.to_string())
        }
        TestStep::Advance { by_ms } => {
            *clock += *by_ms as i64;
            runner.advance(*clock, bus).map_err(|e| e.to_string())
        }
        TestStep::Expect { event, detail } => {
            let candidates: Vec<&Emitted> =
                bus.events.iter().filter(|e| &e.name == event).collect();
            let want = detail.clone().unwrap_or(Value::Object(Default::default()));
            if candidates
                .iter()
                .any(|e| mismatches(&want, &e.event.detail).is_empty())
            {
                return Ok(());
            }
            if candidates.is_empty() {
                return Err(format!(
                    "expected an event {event}, but none was emitted{}",
                    emitted_list(&bus.events)
                ));
            }
            let best = candidates
                .iter()
                .min_by_key(|e| mismatches(&want, &e.event.detail).len())
                .map(|e| &e.event.detail);
            let diff = best.map(|b| mismatches(&want, b)).unwrap_or_default();
            Err(format!(
                "no {event} matches (closest of {} emitted):\n{}",
                candidates.len(),
                diff.join("\n")
            ))
        }
        TestStep::ExpectNone { event } => {
            let found: Vec<&Emitted> = bus.events.iter().filter(|e| &e.name == event).collect();
            match found.first() {
                None => Ok(()),
                Some(first) => Err(format!(
                    "expected no {event}, but {} were emitted; the first:\n  {}",
                    found.len(),
                    first.event.detail
                )),
            }
        }
        TestStep::ExpectState { node, key, state } => {
            let actual = runner.state(node, key).map_err(|e| e.to_string())?;
            let diff = mismatches(state, &actual);
            if diff.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "state of {node}[{key:?}] does not match:\n{}\n  (state: {actual})",
                    diff.join("\n")
                ))
            }
        }
    }
}

fn emitted_list(events: &[Emitted]) -> String {
    if events.is_empty() {
        return " (nothing was emitted)".into();
    }
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    format!(" (emitted: {})", names.join(", "))
}

/// Where `actual` differs from the partial `expected`, one line each:
/// `  data.count: expected 2, found 1`. Objects match partially, lists
/// element by element, numbers by value (`1` matches `1.0`), timestamps
/// as instants.
pub fn mismatches(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff(expected, actual, "", &mut out);
    out
}

fn diff(expected: &Value, actual: &Value, at: &str, out: &mut Vec<String>) {
    let here = |k: &str| {
        if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        }
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => diff(ev, av, &here(k), out),
                    None => out.push(format!("  {}: expected {ev}, found nothing", here(k))),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                diff(ev, av, &format!("{at}[{i}]"), out);
            }
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => {}
        (Value::String(e), Value::String(a))
            if e == a || (parse_rfc3339(e).is_some() && parse_rfc3339(e) == parse_rfc3339(a)) => {}
        (e, a) if e == a => {}
        (e, a) => out.push(format!(
            "  {}: expected {e}, found {a}",
            if at.is_empty() { "value" } else { at }
        )),
    }
}
