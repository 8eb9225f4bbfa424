//! What `bootstrap` reads from its environment, once per cold start.
//!
//! The template sets `FLOW_ROLE` and the variables of docs/aws-mapping.md;
//! `FLOWC_AWS_ENDPOINT` (tests: the moto stand-in) overrides every
//! service's endpoint; `FLOWC_CLOCK=events` replaces the wall clock with
//! the latest event time seen (replaying a recorded stream).

use std::collections::BTreeMap;

use super::error::FlowError;
use crate::store::eventbridge::NodeTarget;

/// The job a function does (`FLOW_ROLE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Runs one node (`FLOW_NODE`): EventBridge events and flush inputs.
    Node(String),
    /// Turns S3 notifications or HTTP requests into a trigger's event.
    Ingest(String),
    /// Serves the Event Store API.
    Api(ApiConfig),
    /// Delivers an app's sinks (`FLOW_APP`).
    Sink(String),
}

/// What the API function needs to change routes on the bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiConfig {
    /// `FLOW_RULE_PREFIX`: the project's rules are `<prefix><route>`
    /// (`<project>-<stage>-`); the role may change only those.
    pub rule_prefix: String,
    /// Where each node's deliveries go (`FLOW_TARGETS` with
    /// `FLOW_FUNCTION_ARN_PREFIX` and `FLOW_QUEUE_ARN_PREFIX`).
    pub targets: BTreeMap<String, NodeTarget>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockMode {
    Wall,
    /// The latest event time seen by this process (replays, tests).
    Events,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub role: Role,
    /// Path of graph.json (relative paths: next to the executable, where
    /// Lambda unpacks the zip, else the working directory).
    pub graph: String,
    pub bus: String,
    pub table: String,
    pub bucket: String,
    pub stage: String,
    pub secret_prefix: String,
    pub endpoint: Option<String>,
    pub clock: ClockMode,
}

impl Config {
    /// Reads the configuration through `var` (`std::env::var` in the
    /// binary, a map in tests).
    pub fn read(var: impl Fn(&str) -> Option<String>) -> Result<Config, FlowError> {
        let need = |name: &str| {
            var(name).filter(|v| !v.is_empty()).ok_or_else(|| {
                FlowError::bad_input(format!("environment variable {name} is not set"))
            })
        };
        let role = match need("FLOW_ROLE")?.as_str() {
            "node" => Role::Node(need("FLOW_NODE")?),
            "ingest" => Role::Ingest(need("FLOW_TRIGGER")?),
            "api" => Role::Api(ApiConfig {
                rule_prefix: need("FLOW_RULE_PREFIX")?,
                targets: super::api::read_targets(
                    &need("FLOW_TARGETS")?,
                    &need("FLOW_FUNCTION_ARN_PREFIX")?,
                    &need("FLOW_QUEUE_ARN_PREFIX")?,
                )?,
            }),
            "sink" => Role::Sink(need("FLOW_APP")?),
            other => {
                return Err(FlowError::bad_input(format!(
                    "FLOW_ROLE is {other:?}; expected node, ingest, api or sink"
                )))
            }
        };
        let clock = match var("FLOWC_CLOCK").as_deref() {
            None | Some("" | "wall") => ClockMode::Wall,
            Some("events") => ClockMode::Events,
            Some(other) => {
                return Err(FlowError::bad_input(format!(
                    "FLOWC_CLOCK is {other:?}; expected wall or events"
                )))
            }
        };
        let opt = |name: &str| var(name).unwrap_or_default();
        Ok(Config {
            role,
            graph: var("FLOW_GRAPH")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "graph.json".into()),
            bus: need("FLOW_BUS")?,
            table: opt("FLOW_TABLE"),
            bucket: opt("FLOW_BUCKET"),
            stage: opt("FLOW_STAGE"),
            secret_prefix: opt("FLOW_SECRET_PREFIX"),
            endpoint: var("FLOWC_AWS_ENDPOINT").filter(|v| !v.is_empty()),
            clock,
        })
    }

    /// Where graph.json is: an absolute path as is; a relative one next to
    /// the executable if it exists there (Lambda: /var/task), else as given.
    pub fn graph_path(&self) -> std::path::PathBuf {
        let given = std::path::PathBuf::from(&self.graph);
        if given.is_absolute() {
            return given;
        }
        let beside = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join(&given)));
        match beside {
            Some(p) if p.exists() => p,
            _ => given,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> Result<Config, FlowError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::read(|k| map.get(k).cloned())
    }

    #[test]
    fn reads_a_node_function() {
        let c = read(&[
            ("FLOW_ROLE", "node"),
            ("FLOW_NODE", "FrameSampler"),
            ("FLOW_BUS", "timecard-dev"),
            ("FLOW_TABLE", "t"),
        ])
        .expect("config");
        assert_eq!(c.role, Role::Node("FrameSampler".into()));
        assert_eq!(c.graph, "graph.json");
        assert_eq!(c.clock, ClockMode::Wall);
        assert_eq!(c.endpoint, None);
    }

    #[test]
    fn names_what_is_missing() {
        let e = read(&[("FLOW_ROLE", "node"), ("FLOW_BUS", "b")]).expect_err("no node");
        assert!(e.message.contains("FLOW_NODE"), "{e}");
        let e = read(&[("FLOW_ROLE", "nod"), ("FLOW_BUS", "b")]).expect_err("bad role");
        assert!(e.message.contains("\"nod\""), "{e}");
        let e = read(&[("FLOW_ROLE", "api"), ("FLOW_BUS", "b")]).expect_err("no prefix");
        assert!(e.message.contains("FLOW_RULE_PREFIX"), "{e}");
    }

    #[test]
    fn reads_the_api_function() {
        let c = read(&[
            ("FLOW_ROLE", "api"),
            ("FLOW_BUS", "t-dev"),
            ("FLOW_RULE_PREFIX", "t-dev-"),
            ("FLOW_TARGETS", r#"{"A":["t-dev-A","q-A"]}"#),
            ("FLOW_FUNCTION_ARN_PREFIX", "arn:aws:lambda:r:1:function:"),
            ("FLOW_QUEUE_ARN_PREFIX", "arn:aws:sqs:r:1:"),
        ])
        .expect("config");
        let Role::Api(api) = c.role else {
            panic!("not the api role: {:?}", c.role);
        };
        assert_eq!(api.rule_prefix, "t-dev-");
        assert_eq!(api.targets["A"].arn, "arn:aws:lambda:r:1:function:t-dev-A");
    }
}
