//! The EventBridge live routes on the moto stand-in (feature `aws`, run
//! under `scripts/with-moto`; otherwise a notice and a pass): replacing an
//! event's routing puts the new rule and its targets, retargets a kept
//! rule, and deletes the rules that are gone; other events' rules stay.

#![cfg(all(feature = "store", feature = "aws"))]
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use flow_runtime::store::eventbridge::{EventBridgeRoutes, NodeTarget};
use flow_runtime::store::live::LiveRoutes;
use flow_runtime::store::model::RouteSpec;
use serde_json::json;

fn route(name: &str, targets: &[&str]) -> RouteSpec {
    RouteSpec {
        name: name.into(),
        targets: targets.iter().map(|t| t.to_string()).collect(),
        pattern: json!({"source": ["t.src"], "detail-type": ["ping"]}),
        max_hops: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_become_rules_and_targets() {
    let Some(endpoint) = std::env::var("FLOWC_AWS_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
    else {
        eprintln!("skipped: FLOWC_AWS_ENDPOINT is not set (run under scripts/with-moto to test the EventBridge routes)");
        return;
    };
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .load()
        .await;
    let client = aws_sdk_eventbridge::Client::new(&config);
    let bus = format!("store-bus-{}", std::process::id());
    client.create_event_bus().name(&bus).send().await.unwrap();
    let arn = |n: &str| format!("arn:aws:lambda:us-east-1:123456789012:function:t-dev-{n}");
    let targets: BTreeMap<String, NodeTarget> = ["A", "B"]
        .iter()
        .map(|n| {
            let t = NodeTarget {
                arn: arn(n),
                dead_letter_arn: Some(format!("arn:aws:sqs:us-east-1:123456789012:t-dev-{n}-dlq")),
            };
            (n.to_string(), t)
        })
        .collect();
    let live = EventBridgeRoutes::new(client.clone(), &bus, "t-dev-", targets);

    live.apply("Ping", &[route("ToA", &["A"]), route("Both", &["A", "B"])])
        .await
        .unwrap();
    live.apply("Pong", &[route("PongToB", &["B"])])
        .await
        .unwrap();
    live.apply("Ping", &[route("Both", &["B"])]).await.unwrap();

    let rules = client
        .list_rules()
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = rules.rules().iter().filter_map(|r| r.name()).collect();
    names.sort();
    assert_eq!(names, ["t-dev-Both", "t-dev-PongToB"]);
    let both = client
        .list_targets_by_rule()
        .rule("t-dev-Both")
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap();
    let arns: Vec<&str> = both.targets().iter().map(|t| t.arn()).collect();
    assert_eq!(arns, [arn("B")]);
    let t = &both.targets()[0];
    assert_eq!(
        t.retry_policy().and_then(|r| r.maximum_retry_attempts()),
        Some(10)
    );
    assert!(t.dead_letter_config().and_then(|d| d.arn()).is_some());
    let described = client
        .describe_rule()
        .name("t-dev-Both")
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap();
    assert_eq!(described.description(), Some("route Both: Ping -> B"));

    // An unknown node fails before anything changes.
    assert!(live.apply("Ping", &[route("Both", &["Z"])]).await.is_err());
    let both = client
        .list_targets_by_rule()
        .rule("t-dev-Both")
        .event_bus_name(&bus)
        .send()
        .await
        .unwrap();
    assert_eq!(both.targets().len(), 1);
}
