//! Routing: which nodes an event on the bus reaches, with EventBridge
//! semantics (one [`RuleSet`] over every route's pattern) and the hop
//! bound of routes with `max_hops`.
//!
//! Invariant: deliveries come in route order (the graph's), then target
//! order, so a run is deterministic. A route with `max_hops N` delivers an
//! event chain at most N times: each delivery through it is counted in
//! `detail.flow.routes`, carried by everything the target emits.

use std::collections::HashMap;

use crate::graph::Graph;
use crate::pattern::{Pattern, PatternError, RuleSet};

use super::event::Event;

/// One delivery of an event to a node.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub route: String,
    pub node: String,
    /// The input type the node receives it as.
    pub event_name: String,
    pub event: Event,
}

/// The outcome of routing one event.
#[derive(Clone, Debug, PartialEq)]
pub enum Routed {
    Deliver(Delivery),
    /// The route's `max_hops` is reached for this chain.
    Refused {
        route: String,
        node: String,
        max_hops: u64,
    },
}

struct RouteInfo {
    event: String,
    targets: Vec<String>,
    max_hops: Option<u64>,
}

pub struct Router {
    rules: RuleSet,
    routes: HashMap<String, RouteInfo>,
}

impl Router {
    /// Compiles every route of the graph into one rule set.
    pub fn new(graph: &Graph) -> Result<Router, PatternError> {
        let mut rules = Vec::with_capacity(graph.routes.len());
        let mut routes = HashMap::new();
        for r in &graph.routes {
            rules.push((r.name.clone(), Pattern::from_value(&r.pattern)?));
            routes.insert(
                r.name.clone(),
                RouteInfo {
                    event: r.event.clone(),
                    targets: r.targets.clone(),
                    max_hops: r.max_hops,
                },
            );
        }
        Ok(Router {
            rules: RuleSet::new(rules),
            routes,
        })
    }

    /// Routes one event (matched in its standard envelope).
    pub fn route(&self, event: &Event) -> Vec<Routed> {
        let envelope = event.to_envelope();
        let mut out = Vec::new();
        for name in self.rules.matching(&envelope) {
            let Some(info) = self.routes.get(name) else {
                continue;
            };
            let meta = event.flow();
            let delivered = if let Some(max) = info.max_hops {
                if meta.route_hops(name) >= max {
                    for node in &info.targets {
                        out.push(Routed::Refused {
                            route: name.to_string(),
                            node: node.clone(),
                            max_hops: max,
                        });
                    }
                    continue;
                }
                let mut e = event.clone();
                meta.through(name)
                    .write(std::sync::Arc::make_mut(&mut e.detail));
                e
            } else {
                event.clone()
            };
            for node in &info.targets {
                out.push(Routed::Deliver(Delivery {
                    route: name.to_string(),
                    node: node.clone(),
                    event_name: info.event.clone(),
                    event: delivered.clone(),
                }));
            }
        }
        out
    }
}
