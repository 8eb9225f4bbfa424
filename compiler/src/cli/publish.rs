//! `flowc publish PATH --api URL [--token T]`: registers a project's
//! events, routes and flows in a running Event Store (`flowc serve`, or
//! the deployed API), what the seed's `create_event_store_mappings.py` did
//! by hand.
//!
//! Idempotent: it reads each record first and writes only what differs
//! (with the version it read, so a concurrent change is a conflict, not an
//! overwrite); a second run changes nothing and says so.
//!
//! Locally it sends the bearer token; with `--sigv4` it signs every request
//! for an IAM-authorised API Gateway (service `execute-api`) with the
//! credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
//! AWS_SESSION_TOKEN and the region of `--region` or AWS_REGION.

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
    #[arg(long, conflicts_with = "sigv4")]
    pub token: Option<String>,
    /// Sign requests with SigV4 for a deployed, IAM-authorised Event Store.
    #[arg(long)]
    pub sigv4: bool,
    /// The region to sign for (default: AWS_REGION, AWS_DEFAULT_REGION).
    #[arg(long, requires = "sigv4")]
    pub region: Option<String>,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// SigV4 credentials and region.
pub struct Signer {
    credentials: aws_credential_types::Credentials,
    region: String,
}

impl Signer {
    /// From credentials resolved elsewhere (`flowc deploy`'s credential chain).
    #[cfg_attr(not(feature = "deploy"), allow(dead_code))]
    pub fn new(credentials: aws_credential_types::Credentials, region: String) -> Signer {
        Signer {
            credentials,
            region,
        }
    }

    /// From the standard environment variables.
    pub fn from_env(region: Option<&str>) -> Result<Signer, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err("--sigv4 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (e.g. from `aws configure export-credentials --format env`)".into());
        };
        let region = region
            .map(String::from)
            .or_else(|| var("AWS_REGION"))
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .ok_or("--sigv4 needs --region or AWS_REGION")?;
        let credentials = aws_credential_types::Credentials::new(
            key,
            secret,
            var("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        Ok(Signer {
            credentials,
            region,
        })
    }

    /// Adds the SigV4 headers (`authorization`, `x-amz-date`, …) to `request`.
    pub fn sign(&self, request: &mut reqwest::blocking::Request) -> Result<(), String> {
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        let identity = self.credentials.clone().into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("execute-api")
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| format!("cannot sign: {e}"))?
            .into();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = request.body().and_then(|b| b.as_bytes()).unwrap_or(&[]);
        let signable = SignableRequest::new(
            request.method().as_str(),
            request.url().as_str(),
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(body),
        )
        .map_err(|e| format!("cannot sign: {e}"))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| format!("cannot sign: {e}"))?
            .into_parts();
        let signed: Vec<(String, String)> = instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (name, value) in signed {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| e.to_string())?;
            let value =
                reqwest::header::HeaderValue::from_str(&value).map_err(|e| e.to_string())?;
            request.headers_mut().insert(name, value);
        }
        Ok(())
    }
}

enum Auth {
    Token(String),
    SigV4(Signer),
    None,
}

struct Api {
    client: Client,
    base: String,
    auth: Auth,
}

impl Api {
    fn send(&self, request: RequestBuilder) -> Result<Response, String> {
        let request = match &self.auth {
            Auth::Token(t) => request.bearer_auth(t),
            _ => request,
        };
        let mut request = request.build().map_err(|e| e.to_string())?;
        if let Auth::SigV4(signer) = &self.auth {
            signer.sign(&mut request)?;
        }
        self.client
            .execute(request)
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
    let auth = if args.sigv4 {
        match Signer::from_env(args.region.as_deref()) {
            Ok(s) => Auth::SigV4(s),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        match args
            .token
            .clone()
            .or_else(|| std::env::var("FLOWC_TOKEN").ok())
        {
            Some(t) if !t.is_empty() => Auth::Token(t),
            _ => Auth::None,
        }
    };
    let api = Api {
        client,
        base: args.api.trim_end_matches('/').to_string(),
        auth,
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

/// Registers a graph in the Event Store at `base`, signing with `signer`;
/// the changes made (empty when it was up to date). `flowc deploy` calls
/// this after a successful deploy.
#[cfg_attr(not(feature = "deploy"), allow(dead_code))]
pub fn publish_signed(base: &str, graph: &Graph, signer: Signer) -> Result<Vec<String>, String> {
    let client = Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let api = Api {
        client,
        base: base.trim_end_matches('/').to_string(),
        auth: Auth::SigV4(signer),
    };
    publish_graph(&api, graph)
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

#[cfg(test)]
mod tests {
    use super::Signer;

    #[test]
    fn sigv4_signs_for_execute_api() {
        let signer = Signer {
            credentials: aws_credential_types::Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                Some("session".into()),
                None,
                "test",
            ),
            region: "eu-west-1".into(),
        };
        let client = reqwest::blocking::Client::new();
        let mut request = client
            .post("https://abc.execute-api.eu-west-1.amazonaws.com/flow")
            .header("content-type", "application/json")
            .body("{}")
            .build()
            .expect("request");
        signer.sign(&mut request).expect("signed");
        let auth = request.headers()["authorization"].to_str().expect("ascii");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{auth}"
        );
        assert!(
            auth.contains("/eu-west-1/execute-api/aws4_request"),
            "{auth}"
        );
        assert!(request.headers().contains_key("x-amz-date"));
        assert_eq!(request.headers()["x-amz-security-token"], "session");
    }
}
