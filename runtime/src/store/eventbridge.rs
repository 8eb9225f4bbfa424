//! The live routes on AWS (feature `aws`): one EventBridge rule per route,
//! updated with PutRule / PutTargets / RemoveTargets (and DeleteRule for a
//! route that is gone).
//!
//! Rules are named `<rule_prefix><route part>` (`crate::names`, which
//! the compiler uses for the template's rules too) and described as the compiler does
//! (`route <name>: <event> -> <targets>`), which is how the rules of an
//! event are found again. Targets are the nodes' functions with the same
//! retry policy (10 attempts, an hour) and dead-letter queues as the
//! template. Invariant: the new rules and targets are in place before the
//! old ones are removed, so an event is never routed by nothing.

use std::collections::BTreeMap;

use aws_sdk_eventbridge::types::{DeadLetterConfig, RetryPolicy, RuleState, Target};
use aws_sdk_eventbridge::Client;

use super::live::LiveRoutes;
use super::model::RouteSpec;
use super::repo::BoxFuture;

/// Where a node's deliveries go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeTarget {
    /// The node's Lambda function ARN.
    pub arn: String,
    /// Its dead-letter queue ARN.
    pub dead_letter_arn: Option<String>,
}

pub struct EventBridgeRoutes {
    client: Client,
    bus: String,
    rule_prefix: String,
    targets: BTreeMap<String, NodeTarget>,
}

fn failed(e: impl std::fmt::Display) -> String {
    format!("EventBridge: {e}")
}

fn description(event: &str, route: &RouteSpec) -> String {
    let hops = route
        .max_hops
        .map_or(String::new(), |n| format!(" (max_hops {n})"));
    format!(
        "route {}: {event} -> {}{hops}",
        route.name,
        route.targets.join(", ")
    )
}

impl EventBridgeRoutes {
    pub fn new(
        client: Client,
        bus: impl Into<String>,
        rule_prefix: impl Into<String>,
        targets: BTreeMap<String, NodeTarget>,
    ) -> EventBridgeRoutes {
        EventBridgeRoutes {
            client,
            bus: bus.into(),
            rule_prefix: rule_prefix.into(),
            targets,
        }
    }

    /// The names of the rules that route `event` now.
    async fn rules_of(&self, event: &str) -> Result<Vec<String>, String> {
        let marker = format!(": {event} -> ");
        let mut names = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let out = self
                .client
                .list_rules()
                .event_bus_name(&self.bus)
                .name_prefix(&self.rule_prefix)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| failed(aws_sdk_eventbridge::error::DisplayErrorContext(e)))?;
            for rule in out.rules() {
                let ours = rule
                    .description()
                    .is_some_and(|d| d.starts_with("route ") && d.contains(&marker));
                if let (true, Some(name)) = (ours, rule.name()) {
                    names.push(name.to_string());
                }
            }
            match out.next_token() {
                Some(t) => next = Some(t.to_string()),
                None => return Ok(names),
            }
        }
    }

    async fn target_ids(&self, rule: &str) -> Result<Vec<String>, String> {
        let mut ids = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let out = self
                .client
                .list_targets_by_rule()
                .rule(rule)
                .event_bus_name(&self.bus)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| failed(aws_sdk_eventbridge::error::DisplayErrorContext(e)))?;
            ids.extend(out.targets().iter().map(|t| t.id().to_string()));
            match out.next_token() {
                Some(t) => next = Some(t.to_string()),
                None => return Ok(ids),
            }
        }
    }

    async fn remove_targets(&self, rule: &str, ids: Vec<String>) -> Result<(), String> {
        if ids.is_empty() {
            return Ok(());
        }
        let out = self
            .client
            .remove_targets()
            .rule(rule)
            .event_bus_name(&self.bus)
            .set_ids(Some(ids))
            .send()
            .await
            .map_err(|e| failed(aws_sdk_eventbridge::error::DisplayErrorContext(e)))?;
        if out.failed_entry_count() > 0 {
            return Err(failed(format!(
                "RemoveTargets failed for {rule}: {:?}",
                out.failed_entries()
            )));
        }
        Ok(())
    }

    fn target(&self, node: &str) -> Result<Target, String> {
        let t = self
            .targets
            .get(node)
            .ok_or_else(|| format!("no function is configured for node {node}"))?;
        Target::builder()
            .id(crate::names::target_id(node))
            .arn(&t.arn)
            .retry_policy(
                RetryPolicy::builder()
                    .maximum_retry_attempts(10)
                    .maximum_event_age_in_seconds(3600)
                    .build(),
            )
            .set_dead_letter_config(
                t.dead_letter_arn
                    .as_ref()
                    .map(|arn| DeadLetterConfig::builder().arn(arn).build()),
            )
            .build()
            .map_err(failed)
    }

    async fn put_route(&self, event: &str, route: &RouteSpec) -> Result<String, String> {
        // The compiler names the template's rules the same way, so a
        // route the template made is replaced, not doubled.
        let name = format!(
            "{}{}",
            self.rule_prefix,
            crate::names::rule_route(&route.name)
        );
        if name.len() > 64 {
            return Err(format!("rule name {name} is longer than 64 characters"));
        }
        let targets = route
            .targets
            .iter()
            .map(|n| self.target(n))
            .collect::<Result<Vec<_>, _>>()?;
        self.client
            .put_rule()
            .name(&name)
            .event_bus_name(&self.bus)
            .event_pattern(route.pattern.to_string())
            .description(description(event, route))
            .state(RuleState::Enabled)
            .send()
            .await
            .map_err(|e| failed(aws_sdk_eventbridge::error::DisplayErrorContext(e)))?;
        let wanted: Vec<String> = targets.iter().map(|t| t.id().to_string()).collect();
        let out = self
            .client
            .put_targets()
            .rule(&name)
            .event_bus_name(&self.bus)
            .set_targets(Some(targets))
            .send()
            .await
            .map_err(|e| failed(aws_sdk_eventbridge::error::DisplayErrorContext(e)))?;
        if out.failed_entry_count() > 0 {
            return Err(failed(format!(
                "PutTargets failed for {name}: {:?}",
                out.failed_entries()
            )));
        }
        let stale: Vec<String> = self
            .target_ids(&name)
            .await?
            .into_iter()
            .filter(|id| !wanted.contains(id))
            .collect();
        self.remove_targets(&name, stale).await?;
        Ok(name)
    }

    async fn apply_now(&self, event: &str, routes: &[RouteSpec]) -> Result<(), String> {
        for r in routes {
            for node in &r.targets {
                self.target(node)?;
            }
        }
        let before = self.rules_of(event).await?;
        let mut kept = Vec::with_capacity(routes.len());
        for route in routes {
            kept.push(self.put_route(event, route).await?);
        }
        for old in before.into_iter().filter(|r| !kept.contains(r)) {
            let ids = self.target_ids(&old).await?;
            self.remove_targets(&old, ids).await?;
            self.client
                .delete_rule()
                .name(&old)
                .event_bus_name(&self.bus)
                .send()
                .await
                .map_err(|e| failed(aws_sdk_eventbridge::error::DisplayErrorContext(e)))?;
        }
        Ok(())
    }
}

impl LiveRoutes for EventBridgeRoutes {
    fn apply<'a>(
        &'a self,
        event: &'a str,
        routes: &'a [RouteSpec],
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(self.apply_now(event, routes))
    }
}
