//! The `api` role: the Event Store router ([`crate::store`]) behind API
//! Gateway (HTTP API, payload 2.0), served through `lambda_http`.
//!
//! Input: the configuration (table, bus, the rule prefix and the node
//! targets the template writes) and the graph. Output: the router with the
//! DynamoDB repository and the EventBridge live routes. The gateway
//! authorises callers with IAM, so the router trusts it ([`Auth::Gateway`]).
//! Invariant: every node of the graph has a target, checked at init, so a
//! route change never fails half-way for want of a function ARN.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::clients::Clients;
use super::config::ApiConfig;
use super::error::FlowError;
use crate::graph::Graph;
use crate::store::aws::DynamoRepo;
use crate::store::eventbridge::{EventBridgeRoutes, NodeTarget};
use crate::store::{self, Auth, StoreState};

/// Reads `FLOW_TARGETS`: a JSON object from node name to `[function name,
/// dead-letter queue name]`; the ARNs are the prefixes plus the names
/// (names keep the variable short: Lambda allows 4 KB of environment).
pub fn read_targets(
    text: &str,
    function_arn_prefix: &str,
    queue_arn_prefix: &str,
) -> Result<BTreeMap<String, NodeTarget>, FlowError> {
    let names: BTreeMap<String, (String, String)> = serde_json::from_str(text).map_err(|e| {
        FlowError::bad_input(format!(
            "FLOW_TARGETS is not a JSON object of node -> [function, queue]: {e}"
        ))
    })?;
    Ok(names
        .into_iter()
        .map(|(node, (function, queue))| {
            let target = NodeTarget {
                arn: format!("{function_arn_prefix}{function}"),
                dead_letter_arn: Some(format!("{queue_arn_prefix}{queue}")),
            };
            (node, target)
        })
        .collect())
}

/// Fails when a node of the graph has no target.
pub fn check_targets(graph: &Graph, api: &ApiConfig) -> Result<(), FlowError> {
    let missing: Vec<&str> = graph
        .nodes
        .keys()
        .filter(|n| !api.targets.contains_key(*n))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(FlowError::bad_input(format!(
        "FLOW_TARGETS names no function for node(s) {}; rebuild and redeploy the template",
        missing.join(", ")
    )))
}

/// The Event Store router on the project's table and bus.
pub fn event_store(
    graph: &Graph,
    table: &str,
    bus: &str,
    api: &ApiConfig,
    clients: &Clients,
) -> store::axum::Router {
    let repo = Arc::new(DynamoRepo::new(clients.dynamodb.clone(), table));
    let live = Arc::new(EventBridgeRoutes::new(
        clients.eventbridge.clone(),
        bus,
        api.rule_prefix.clone(),
        api.targets.clone(),
    ));
    let state = StoreState::new(repo, Arc::new(graph.clone()), live, None, Auth::Gateway);
    store::router(Arc::new(state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_prefix_plus_name() {
        let t = read_targets(
            r#"{"Counter":["t-dev-Counter","t-dev-CounterDLQ-1X"]}"#,
            "arn:aws:lambda:eu-west-1:1:function:",
            "arn:aws:sqs:eu-west-1:1:",
        )
        .expect("targets");
        assert_eq!(
            t["Counter"],
            NodeTarget {
                arn: "arn:aws:lambda:eu-west-1:1:function:t-dev-Counter".into(),
                dead_letter_arn: Some("arn:aws:sqs:eu-west-1:1:t-dev-CounterDLQ-1X".into()),
            }
        );
        let e = read_targets(r#"{"Counter":"x"}"#, "", "").expect_err("not a pair");
        assert!(e.message.contains("FLOW_TARGETS"), "{e}");
    }
}
