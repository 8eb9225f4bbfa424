//! `flowc publish PATH --api URL [--token T]`: registers a project's
//! events, routes and flows in a running Event Store (`flowc serve`, or
//! the deployed API), what the seed's `create_event_store_mappings.py` did
//! by hand.
//!
//! Idempotent: it reads each record first and writes only what differs
//! (with the version it read, so a concurrent change is a conflict, not an
//! overwrite); a second run changes nothing and says so.

use std::path::PathBuf;
use std::process::ExitCode;

use flow_runtime::graph::Graph;
use flow_runtime::store::model::{
    graph_routes, EventInput, EventView, FlowInput, FlowRecord, FlowView, RouteInput, RoutesInput,
};
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::StatusCode;
use serde_json::Value;

use super::run::compile_graph;
use super::Color;

/// `flowc publish` arguments.
#[derive(clap::Args)]
pub struct PublishArgs {
    /// The project directory (or a single file).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The Event Store's base URL (`http://127.0.0.1:8787`).
    #[arg(long)]
    pub api: String,
    /// Bearer token (default: the FLOWC_TOKEN environment variable).
    #[arg(long)]
    pub token: Option<String>,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

struct Api {
    client: Client,
    base: String,
    token: Option<String>,
}

impl Api {
    fn send(&self, request: RequestBuilder) -> Result<Response, String> {
        let request = match &self.token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        request
            .send()
            .map_err(|e| format!("cannot reach {}: {e}", self.base))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET a record: `None` on 404.
    fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Option<T>, String> {
        let response = self.send(self.client.get(self.url(path)))?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => response
                .json()
                .map(Some)
                .map_err(|e| format!("GET {path}: {e}")),
            _ => Err(failure("GET", path, response)),
        }
    }

    fn write(
        &self,
        method: reqwest::Method,
        path: &str,
        version: Option<u64>,
        body: Option<&Value>,
    ) -> Result<(), String> {
        let mut request = self.client.request(method.clone(), self.url(path));
        if let Some(v) = version {
            request = request.header("If-Match", format!("\"{v}\""));
        }
        if let Some(b) = body {
            request = request.json(b);
        }
        let response = self.send(request)?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(failure(method.as_str(), path, response))
        }
    }
}

fn failure(method: &str, path: &str, response: Response) -> String {
    let status = response.status();
    let body: Value = response.json().unwrap_or(Value::Null);
    let error = &body["error"];
    let mut message = format!(
        "{method} {path}: {status}: {} {}",
        error["code"].as_str().unwrap_or("?"),
        error["message"].as_str().unwrap_or("")
    );
    for d in error["diagnostics"].as_array().into_iter().flatten() {
        message.push_str(&format!(
            "\n  {}: {}",
            d["code"].as_str().unwrap_or(""),
            d["message"].as_str().unwrap_or("")
        ));
    }
    message
}

pub fn publish(args: &PublishArgs) -> ExitCode {
    let graph = match compile_graph(&args.path, args.color) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let client = match Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let api = Api {
        client,
        base: args.api.trim_end_matches('/').to_string(),
        token: args
            .token
            .clone()
            .or_else(|| std::env::var("FLOWC_TOKEN").ok())
            .filter(|t| !t.is_empty()),
    };
    match publish_graph(&api, &graph) {
        Ok(changes) if changes.is_empty() => {
            eprintln!(
                "no changes: {} is up to date ({} events, {} routes, {} flows)",
                api.base,
                graph.events.len(),
                graph.routes.len(),
                graph.flows.len()
            );
            ExitCode::SUCCESS
        }
        Ok(changes) => {
            for c in &changes {
                eprintln!("  {c}");
            }
            eprintln!("published {} change(s) to {}", changes.len(), api.base);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

fn publish_graph(api: &Api, graph: &Graph) -> Result<Vec<String>, String> {
    let mut changes = Vec::new();
    let routes = graph_routes(graph);
    for def in graph.events.values() {
        let path = format!("/event/{}", def.name);
        let want = EventInput::from_def(def);
        let current: Option<EventView> = api.get(&path)?;
        let same = current.as_ref().is_some_and(|c| {
            c.source == want.source
                && c.detail_type == want.detail_type
                && c.schema == want.schema
                && c.emitted_by == want.emitted_by
                && c.origin == want.origin
        });
        if !same {
            let body = serde_json::to_value(&want).map_err(|e| e.to_string())?;
            api.write(
                reqwest::Method::PUT,
                &path,
                current.as_ref().map(|c| c.version),
                Some(&body),
            )?;
            changes.push(format!(
                "event {}: {}",
                def.name,
                if current.is_some() {
                    "updated"
                } else {
                    "registered"
                }
            ));
        }
        let want_routes = routes.get(&def.name).cloned().unwrap_or_default();
        let (have_routes, routes_version) =
            current.map_or((Vec::new(), 0), |c| (c.routes, c.routes_version));
        if have_routes != want_routes {
            let body = RoutesInput {
                routes: want_routes
                    .iter()
                    .map(|r| RouteInput {
                        name: Some(r.name.clone()),
                        targets: r.targets.clone(),
                        pattern: Some(r.pattern.clone()),
                        max_hops: r.max_hops,
                    })
                    .collect(),
                version: Some(routes_version),
            };
            let body = serde_json::to_value(&body).map_err(|e| e.to_string())?;
            api.write(
                reqwest::Method::POST,
                &format!("/route/{}", def.name),
                None,
                Some(&body),
            )?;
            changes.push(format!(
                "routes of {}: {} route(s)",
                def.name,
                want_routes.len()
            ));
        }
    }
    for flow in &graph.flows {
        let path = format!("/flow/{}", flow.name);
        let want = FlowRecord::from_def(flow);
        let current: Option<FlowView> = api.get(&path)?;
        if let Some(c) = &current {
            if c.steps == want.steps && c.origin == want.origin {
                continue;
            }
            api.write(reqwest::Method::DELETE, &path, Some(c.version), None)?;
        }
        let body = FlowInput {
            name: want.name.clone(),
            steps: want.steps,
            origin: Some(want.origin),
        };
        let body = serde_json::to_value(&body).map_err(|e| e.to_string())?;
        api.write(reqwest::Method::POST, "/flow", None, Some(&body))?;
        changes.push(format!(
            "flow {}: {}",
            flow.name,
            if current.is_some() {
                "replaced"
            } else {
                "created"
            }
        ));
    }
    Ok(changes)
}
