//! The AWS adapters against the moto stand-in (`scripts/with-moto`):
//! DynamoDB state (compare-and-swap under concurrency, idempotency
//! records, deadlines), S3 objects, EventBridge PutEvents batching read
//! back through an SQS rule target. Without `FLOWC_AWS_ENDPOINT` every
//! test prints a skip notice and passes.
#![cfg(feature = "aws")]

mod aws_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_support::{endpoint, Env};
use flow_runtime::aws::dynamodb::DynamoStore;
use flow_runtime::aws::eventbridge::{put_events, EventBridgeBus};
use flow_runtime::aws::s3::S3Objects;
use flow_runtime::aws::wire::{read_delivered, shared, Entry};
use flow_runtime::engine::state::{CounterState, Last, NodeState};
use flow_runtime::engine::{Emitted, Event, ObjectRef};
use flow_runtime::ports::{Commit, EventBus, ObjectStore, StateStore, StoreError, Timers};
use serde_json::json;

fn counter(count: u64) -> NodeState {
    NodeState::Counter(CounterState {
        opened_at: 0,
        count,
        first_at: 0,
        last_at: 0,
        last: Last {
            id: "e".into(),
            time: 0,
            detail: shared(json!({})),
        },
    })
}

fn count_of(state: &NodeState) -> u64 {
    match state {
        NodeState::Counter(c) => c.count,
        _ => panic!("not a counter"),
    }
}

#[test]
fn dynamodb_compare_and_swap_and_records() {
    let Some(ep) = endpoint("dynamodb_compare_and_swap_and_records") else {
        return;
    };
    let env = Env::new(ep);
    let table = env.table("state");
    let store = || DynamoStore::new(env.clients.dynamodb.clone(), &table, env.bridge());
    let (mut a, mut b) = (store(), store());

    assert_eq!(a.load("N", "k").expect("load"), None);
    a.save("N", "k", 0, Some((counter(1), Some(5_000))))
        .expect("stage");
    a.commit().expect("first save");
    let loaded = b.load("N", "k").expect("load").expect("saved");
    assert_eq!((loaded.version, loaded.deadline), (1, Some(5_000)));

    // Both load version 1; the second to commit loses.
    a.save("N", "k", 1, Some((counter(2), None)))
        .expect("stage");
    b.save("N", "k", 1, Some((counter(7), None)))
        .expect("stage");
    a.commit().expect("a wins");
    assert!(matches!(b.commit(), Err(StoreError::Conflict { .. })));
    // Creating what exists is a conflict too.
    b.save("N", "k", 0, Some((counter(1), None)))
        .expect("stage");
    assert!(matches!(b.commit(), Err(StoreError::Conflict { .. })));
    let now = b.load("N", "k").expect("load").expect("saved");
    assert_eq!((now.version, count_of(&now.state)), (2, 2));

    // Idempotency records commit with the state, or not at all.
    assert!(a.remember("N", "ev-1", 1_000_000).expect("first"));
    a.save("N", "k", 1, Some((counter(3), None)))
        .expect("stage stale");
    assert!(matches!(a.commit(), Err(StoreError::Conflict { .. })));
    assert!(a
        .remember("N", "ev-1", 1_000_000)
        .expect("not recorded by the failed commit"));
    a.save("N", "k", 2, Some((counter(3), None)))
        .expect("stage");
    a.commit().expect("commit");
    assert!(!b.remember("N", "ev-1", 1_000_000).expect("redelivery"));

    // Deadlines: only the node's due keys, in order; delete clears.
    let mut t = store().for_node("T");
    for (key, deadline) in [("x", 300), ("y", 100), ("z", 900)] {
        t.save("T", key, 0, Some((counter(1), Some(deadline))))
            .expect("stage");
        t.commit().expect("commit");
    }
    let due: Vec<String> = t
        .due(500)
        .expect("due")
        .into_iter()
        .map(|d| d.key)
        .collect();
    assert_eq!(due, ["y", "x"]);
    t.save("T", "y", 1, None).expect("stage delete");
    t.commit().expect("delete");
    assert_eq!(t.load("T", "y").expect("load"), None);
}

#[test]
fn dynamodb_concurrent_writers_lose_nothing() {
    let Some(ep) = endpoint("dynamodb_concurrent_writers_lose_nothing") else {
        return;
    };
    let env = Arc::new(Env::new(ep));
    let table = env.table("race");
    let conflicts = Arc::new(AtomicU64::new(0));
    let (writers, each) = (4, 15);
    let threads: Vec<_> = (0..writers)
        .map(|_| {
            let (env, table, conflicts) = (env.clone(), table.clone(), conflicts.clone());
            std::thread::spawn(move || {
                let mut store =
                    DynamoStore::new(env.clients.dynamodb.clone(), &table, env.bridge());
                for _ in 0..each {
                    loop {
                        let old = store.load("N", "hot").expect("load");
                        let (version, n) = old.map_or((0, 0), |s| (s.version, count_of(&s.state)));
                        store
                            .save("N", "hot", version, Some((counter(n + 1), None)))
                            .expect("stage");
                        match store.commit() {
                            Ok(()) => break,
                            Err(StoreError::Conflict { .. }) => {
                                conflicts.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer");
    }
    let mut store = DynamoStore::new(env.clients.dynamodb.clone(), &table, env.bridge());
    let last = store.load("N", "hot").expect("load").expect("saved");
    assert_eq!(count_of(&last.state), writers * each, "an update was lost");
    assert_eq!(last.version, writers * each);
    eprintln!(
        "{} conflicts retried for {} updates",
        conflicts.load(Ordering::Relaxed),
        writers * each
    );
}

#[test]
fn s3_objects() {
    let Some(ep) = endpoint("s3_objects") else {
        return;
    };
    let env = Env::new(ep);
    let bucket = env.bucket("objects");
    let mut objects = S3Objects::new(env.clients.s3.clone(), env.bridge());
    let object = ObjectRef {
        bucket: bucket.clone(),
        key: "stitched/a b/é.bin".into(),
    };
    assert_eq!(objects.get(&object).expect("get"), None);
    objects.put(&object, b"\x00bytes\xff").expect("put");
    assert_eq!(
        objects.get(&object).expect("get"),
        Some(b"\x00bytes\xff".to_vec())
    );
    let missing_bucket = ObjectRef {
        bucket: "no-such-bucket-flowc".into(),
        key: "k".into(),
    };
    assert!(objects.get(&missing_bucket).is_err() || objects.get(&missing_bucket) == Ok(None));
}

#[test]
fn put_events_batches_reach_a_rule_target() {
    let Some(ep) = endpoint("put_events_batches_reach_a_rule_target") else {
        return;
    };
    let env = Env::new(ep);
    let (bus, queue) = env.bus_with_queue("bus");
    let mut port = EventBridgeBus::new(env.clients.eventbridge.clone(), &bus, env.bridge());
    // 23 events: three PutEvents requests (10, 10, 3).
    for i in 0..23u32 {
        let event = Event {
            id: format!("derived-{i}"),
            source: "flow.t".into(),
            detail_type: "Counted".into(),
            time: 1_767_225_600_000 + i64::from(i) * 250,
            detail: shared(
                json!({"data": {"i": i}, "flow": {"correlation_id": "c", "hops": 1, "node": "N"}}),
            ),
        };
        port.publish(&Emitted {
            name: "Counted".into(),
            event,
        })
        .expect("buffer");
    }
    port.send().expect("send");
    let mut got: Vec<Event> = env
        .drain(&queue)
        .iter()
        .map(|m| read_delivered(m, 0).expect("envelope"))
        .collect();
    got.sort_by_key(|e| e.time);
    assert_eq!(got.len(), 23);
    assert_eq!(
        got[0].id, "derived-0",
        "the engine's id travels in detail.flow"
    );
    assert_eq!(got[22].time, 1_767_225_600_000 + 22 * 250);
    assert_eq!(got[5].detail["data"]["i"], 5);

    // An oversized entry is refused before anything is sent.
    let big = Entry::raw("acme", "big", &json!({"x": "y".repeat(300 * 1024)}), 0);
    let small = Entry::raw("acme", "small", &json!({}), 0);
    let err = env
        .rt
        .block_on(put_events(&env.clients.eventbridge, &bus, &[small, big]))
        .expect_err("too large");
    assert!(
        err.to_string().contains("over EventBridge's limit"),
        "{err}"
    );
    assert!(env.drain(&queue).is_empty());

    // Entries for a bus that does not exist fail after the retries.
    let entry = Entry::raw("acme", "x", &json!({}), 0);
    let err = env
        .rt
        .block_on(put_events(
            &env.clients.eventbridge,
            "no-such-bus",
            &[entry],
        ))
        .expect_err("no bus");
    eprintln!("PutEvents to a missing bus: {err}");
}
