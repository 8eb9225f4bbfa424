//! `flowc serve PATH [--addr 127.0.0.1:PORT] [--state DIR]`: the Event
//! Store API and `POST /ingest` over the local engine.
//!
//! Compiles the project, registers its events, routes and flows in the
//! store (routes and flows changed through the API are kept), starts the
//! engine with the stored routes, and serves until killed. Requests are
//! logged as structured lines on stderr (`--log-format json` for JSON);
//! emitted events go to stdout as JSON lines, like `flowc run`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::ValueEnum;
use flow_runtime::graph::Graph;
use flow_runtime::local::{
    CommandNodes, DirObjects, MemoryObjects, MemoryStore, Ports, Runner, SqliteStore,
};
use flow_runtime::store::live::{Ingest, LiveRoutes};
use flow_runtime::store::local::{EmitSink, LocalEngine};
use flow_runtime::store::model::{graph_routes, RoutesRecord};
use flow_runtime::store::repo::{Kind, Repository};
use flow_runtime::store::{self, tokio, tracing, Auth, SqliteRepo, StoreState};

use super::run::{compile_graph, project_dir};
use super::views::ViewArgs;
use super::Color;

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `flowc serve` arguments.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// The project directory (or a single file).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: SocketAddr,
    /// Keep the store and the node state under this directory (as `flowc run --state`).
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Listen on a non-loopback address too.
    #[arg(long)]
    pub public: bool,
    /// Request log format (stderr); RUST_LOG filters (default `info`).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub views: ViewArgs,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

pub fn serve(args: &ServeArgs) -> ExitCode {
    if !args.addr.ip().is_loopback() && !args.public {
        eprintln!(
            "error: {} is not a loopback address; pass --public to listen there",
            args.addr
        );
        return ExitCode::from(2);
    }
    let graph = match compile_graph(&args.path, args.color) {
        Ok(g) => g,
        Err(code) => return code,
    };
    init_logs(args.log_format);
    let token = match std::env::var("FLOWC_TOKEN") {
        Ok(t) if !t.is_empty() => t,
        _ => {
            let t = store::generate_token();
            eprintln!("flowc serve: FLOWC_TOKEN is not set; this run's token: {t}");
            t
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(args, graph, token)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        // tantivy logs every index commit at `info`: too chatty for a
        // request log.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tantivy=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn run(args: &ServeArgs, graph: Graph, token: String) -> Result<(), String> {
    let repo: Arc<dyn Repository> = Arc::new(
        match &args.state {
            Some(dir) => SqliteRepo::open(dir),
            None => SqliteRepo::in_memory(),
        }
        .map_err(|e| e.to_string())?,
    );
    let seeded = store::seed(repo.as_ref(), &graph)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        events = seeded.events,
        routes = seeded.routes,
        flows = seeded.flows,
        "registered the project"
    );
    let engine = Arc::new(spawn_engine(args, graph.clone())?);
    apply_stored_routes(repo.as_ref(), &graph, engine.as_ref()).await?;
    let live: Arc<dyn LiveRoutes> = engine.clone();
    let ingest: Arc<dyn Ingest> = engine;
    let state = StoreState::new(
        repo,
        Arc::new(graph),
        live,
        Some(ingest),
        Auth::Token(token.into()),
    );
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    match &args.state {
        Some(dir) => eprintln!("flowc serve: state in {}", dir.display()),
        None => eprintln!("flowc serve: state in memory (--state DIR keeps it)"),
    }
    eprintln!("flowc serve: listening on http://{bound}");
    store::axum::serve(listener, store::router(Arc::new(state)))
        .await
        .map_err(|e| format!("server failed: {e}"))
}

fn stdout_sink() -> EmitSink {
    Box::new(|event| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{event}");
        let _ = out.flush();
    })
}

fn spawn_engine(args: &ServeArgs, graph: Graph) -> Result<LocalEngine, String> {
    let dir = project_dir(&args.path);
    // Opened on the engine's thread, before it serves: a missing tool
    // fails `flowc serve` at start-up.
    let views = args.views.config()?;
    match args.state.clone() {
        Some(state) => LocalEngine::spawn(
            graph,
            move |graph| {
                let engines = views.open(&graph)?;
                let store = SqliteStore::open(&state).map_err(|e| e.to_string())?;
                let ports = Ports {
                    objects: Box::new(DirObjects::new(state.join("objects"))),
                    summarizer: engines.summarizer,
                    transcriber: engines.transcriber,
                    custom: Box::new(CommandNodes { dir }),
                };
                // The apps' sinks write under the state directory, as in
                // `flowc run --state` (documents searchable with `flowc query`).
                let sinks = super::run::app_sinks(Some(&state), &[])?;
                Runner::new(graph, store, ports)
                    .map(|r| r.with_sinks(sinks))
                    .map_err(|e| e.to_string())
            },
            stdout_sink(),
        ),
        None => LocalEngine::spawn(
            graph,
            move |graph| {
                let engines = views.open(&graph)?;
                let ports = Ports {
                    objects: Box::new(MemoryObjects::default()),
                    summarizer: engines.summarizer,
                    transcriber: engines.transcriber,
                    custom: Box::new(CommandNodes { dir }),
                };
                let sinks = super::run::app_sinks(None, &[])?;
                Runner::new(graph, MemoryStore::new(), ports)
                    .map(|r| r.with_sinks(sinks))
                    .map_err(|e| e.to_string())
            },
            stdout_sink(),
        ),
    }
}

/// Routing changed through the API (kept in `--state`) replaces the project's.
async fn apply_stored_routes(
    repo: &dyn Repository,
    graph: &Graph,
    engine: &LocalEngine,
) -> Result<(), String> {
    let project = graph_routes(graph);
    let mut after: Option<String> = None;
    loop {
        let page = repo
            .list(Kind::Route, after.as_deref(), 1000)
            .await
            .map_err(|e| e.to_string())?;
        for record in &page.items {
            let stored: RoutesRecord =
                serde_json::from_value(record.body.clone()).map_err(|e| e.to_string())?;
            if project
                .get(&record.id)
                .map_or(!stored.routes.is_empty(), |p| *p != stored.routes)
            {
                engine.apply(&record.id, &stored.routes).await?;
                tracing::info!(event = %record.id, version = record.version, "using the stored routing");
            }
        }
        match page.last {
            Some(last) => after = Some(last),
            None => return Ok(()),
        }
    }
}
