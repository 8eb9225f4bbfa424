//! `flowc run PATH --events EVENTS.jsonl`: the whole graph in-process.
//! Emitted events go to stdout as JSON lines, a summary per node to stderr.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use clap::ValueEnum;
use flow_runtime::engine::time::format_rfc3339;
use flow_runtime::engine::{Emitted, Event, Millis};
use flow_runtime::graph::Graph;
use flow_runtime::local::{
    CommandNodes, DirObjects, LocalSinks, MemoryObjects, MemoryStore, Ports, Runner, Sinks,
    SqliteStore, Store,
};
use flow_runtime::ports::{Clock, EventBus, ObjectStore};
use flowc::diagnostic::render::render_text;

use super::index::SearchIndex;
use super::project::load_project;
use super::views::ViewArgs;
use super::{text_style, Color};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClockArg {
    /// Time follows the events' `time`; pending windows flush at the end.
    Virtual,
    /// Time is the system clock; windows fire while the input is read.
    Wall,
}

/// `flowc run` arguments.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The project directory (or a single file).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// EventBridge events, one JSON object per line; `-` reads stdin.
    #[arg(long)]
    pub events: PathBuf,
    /// Virtual time (from the events) or the system clock.
    #[arg(long, value_enum, default_value_t = ClockArg::Virtual)]
    pub clock: ClockArg,
    /// Keep node state in SQLite (and objects) under this directory.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Post the webhook sink NAME (`App.Sink` or `Sink`) to URL instead of
    /// its declared URL, e.g. a receiver on this machine (repeatable).
    #[arg(long = "webhook", value_name = "NAME=URL", value_parser = parse_webhook)]
    pub webhooks: Vec<(String, String)>,
    /// Read (and write) objects under this directory, `DIR/BUCKET/KEY`
    /// (default: `STATE/objects` with --state, else in memory).
    #[arg(long, value_name = "DIR")]
    pub objects: Option<PathBuf>,
    #[command(flatten)]
    pub views: ViewArgs,
    /// Leave pending time windows open at the end of the input.
    #[arg(long)]
    pub no_flush: bool,
    /// Colour in human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// Checks a project and lowers it to its graph; diagnostics go to stderr.
pub fn compile_graph(path: &Path, color: Color) -> Result<Graph, ExitCode> {
    let sources = load_project(path).map_err(|message| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    })?;
    let checked = flowc::check(&sources, &flowc::CheckOptions::for_path(path));
    let style = text_style(color);
    for d in checked.diagnostics.iter() {
        eprint!("{}", render_text(d, &sources, style));
    }
    match checked.model {
        Some(model) => Ok(flowc::codegen::graph::emit_graph(&model, &sources)),
        None => {
            eprintln!(
                "error: {} has {} error(s)",
                path.display(),
                checked.diagnostics.error_count()
            );
            Err(ExitCode::from(1))
        }
    }
}

/// The project directory: custom commands run there.
pub fn project_dir(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

pub fn run(args: &RunArgs) -> ExitCode {
    let graph = match compile_graph(&args.path, args.color) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let dir = project_dir(&args.path);
    // Engines are checked now: a missing tool fails the run before any event.
    let engines = match args.views.open(&graph) {
        Ok(e) => e,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let objects: Box<dyn ObjectStore> = match (&args.objects, &args.state) {
        (Some(objects), _) => Box::new(DirObjects::new(objects)),
        (None, Some(state)) => Box::new(DirObjects::new(state.join("objects"))),
        (None, None) => Box::new(MemoryObjects::default()),
    };
    let ports = Ports {
        objects,
        summarizer: engines.summarizer,
        transcriber: engines.transcriber,
        custom: Box::new(CommandNodes { dir }),
    };
    let result = match &args.state {
        Some(state) => SqliteStore::open(state)
            .map_err(|e| e.to_string())
            .and_then(|store| {
                let sinks = app_sinks(Some(state), &args.webhooks)?;
                drive(
                    Runner::new(graph, store, ports)
                        .map_err(|e| e.to_string())?
                        .with_sinks(sinks),
                    args,
                )
            }),
        None => app_sinks(None, &args.webhooks).and_then(|sinks| {
            Runner::new(graph, MemoryStore::new(), ports)
                .map_err(|e| e.to_string())
                .and_then(|runner| drive(runner.with_sinks(sinks), args))
        }),
    };
    match result {
        Ok(0) => ExitCode::SUCCESS,
        // The run went to the end, but events failed: on AWS they would be
        // in a dead-letter queue, so a script must not read this as clean.
        Ok(failed) => {
            eprintln!("error: {failed} event(s) failed in a node or sink (reported above)");
            ExitCode::from(1)
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The apps' sinks: under `state` (documents indexed for `flowc query`),
/// or in memory.
pub(crate) fn app_sinks(
    state: Option<&Path>,
    webhooks: &[(String, String)],
) -> Result<Box<dyn Sinks + Send>, String> {
    let mut sinks = LocalSinks::open(state)?;
    if let Some(state) = state {
        let index = SearchIndex::open(&state.join(flow_runtime::local::sinks::INDEX_DIR))?;
        sinks = sinks.with_index(Box::new(index));
    }
    for (name, url) in webhooks {
        sinks.override_url(name, url);
    }
    Ok(Box::new(sinks))
}

fn parse_webhook(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, url))
            if !name.is_empty() && (url.starts_with("http://") || url.starts_with("https://")) =>
        {
            Ok((name.to_string(), url.to_string()))
        }
        _ => Err(format!(
            "expected NAME=URL with an http:// or https:// URL, got {text:?}"
        )),
    }
}

/// Emitted events wait here until their batch is committed.
#[derive(Default)]
struct Pending {
    lines: Vec<String>,
}

impl EventBus for Pending {
    fn publish(&mut self, event: &Emitted) -> Result<(), String> {
        self.lines.push(event.event.to_envelope().to_string());
        Ok(())
    }
}

/// Counters of the input.
#[derive(Default)]
struct Input {
    lines: u64,
    events: u64,
    malformed: u64,
}

/// Commits every this many input events (virtual clock).
const BATCH: u64 = 512;

/// Runs the stream; the result is how many events failed in a node or a
/// sink (each reported as it happens; notes and warnings do not count).
fn drive<S: Store>(mut runner: Runner<S>, args: &RunArgs) -> Result<usize, String> {
    let mut failed = 0;
    let (reader, size): (Box<dyn Read + Send>, Option<u64>) = if args.events == Path::new("-") {
        (Box::new(std::io::stdin()), None)
    } else {
        let file = std::fs::File::open(&args.events)
            .map_err(|e| format!("cannot read {}: {e}", args.events.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let shown = args.events.display().to_string();
    let progress = progress_bar(size);
    let lines = spawn_reader(reader);
    let mut out = Pending::default();
    let mut input = Input::default();
    let mut read_bytes = 0u64;
    let mut next_commit = BATCH;
    let wall = flow_runtime::local::WallClock;
    loop {
        let line = match args.clock {
            ClockArg::Virtual => lines.recv().ok(),
            ClockArg::Wall => {
                let wait = runner
                    .next_deadline()
                    .map(|d| (d - wall.now()).max(0) as u64);
                match wait {
                    Some(ms) => match lines.recv_timeout(Duration::from_millis(ms)) {
                        Ok(line) => Some(line),
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            runner
                                .advance(wall.now(), &mut out)
                                .map_err(|e| e.to_string())?;
                            finish_batch(&mut runner, &mut out)?;
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => None,
                    },
                    None => lines.recv().ok(),
                }
            }
        };
        let Some(line) = line else { break };
        let text = match line {
            Ok(text) => text,
            Err(e) => return Err(format!("cannot read {shown}: {e}")),
        };
        input.lines += 1;
        read_bytes += text.len() as u64 + 1;
        if let Some(bar) = &progress {
            if input.lines % 1024 == 0 {
                bar.set_position(read_bytes);
            }
        }
        if text.trim().is_empty() {
            continue;
        }
        let default_time = match args.clock {
            ClockArg::Virtual => runner.now().max(0),
            ClockArg::Wall => wall.now(),
        };
        let event = serde_json::from_str(&text)
            .map_err(|e| format!("invalid JSON: {e}"))
            .and_then(|v| Event::from_envelope(&v, default_time).map_err(|e| e.to_string()));
        let event = match event {
            Ok(event) => event,
            Err(message) => {
                input.malformed += 1;
                report(
                    &progress,
                    &format!("{shown}:{}: skipped: {message}", input.lines),
                );
                continue;
            }
        };
        input.events += 1;
        let now = match args.clock {
            ClockArg::Virtual => event.time,
            ClockArg::Wall => wall.now(),
        };
        runner.advance(now, &mut out).map_err(|e| e.to_string())?;
        runner.publish(event, &mut out).map_err(|e| e.to_string())?;
        for message in runner.take_errors() {
            failed += usize::from(message.starts_with("error"));
            report(&progress, &message);
        }
        if args.clock == ClockArg::Wall || input.events >= next_commit {
            finish_batch(&mut runner, &mut out)?;
            next_commit = input.events + BATCH;
        }
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let tail = finish_input(&mut runner, &mut out, args)?;
    for message in runner.take_errors() {
        failed += usize::from(message.starts_with("error"));
        eprintln!("{message}");
    }
    finish_batch(&mut runner, &mut out)?;
    print_summary(&runner, &input, &tail);
    Ok(failed)
}

/// At the end of the input: with the virtual clock, fire every pending
/// window (unless `--no-flush`); say what happened.
fn finish_input<S: Store>(
    runner: &mut Runner<S>,
    out: &mut Pending,
    args: &RunArgs,
) -> Result<String, String> {
    if args.clock == ClockArg::Wall || args.no_flush {
        return Ok(match runner.next_deadline() {
            Some(d) => format!(
                "pending windows left open (next deadline {}){}",
                format_rfc3339(d),
                if args.state.is_some() {
                    "; they continue in the next run with this --state"
                } else {
                    "; without --state they are lost"
                }
            ),
            None => "no pending windows".into(),
        });
    }
    let mut fired = 0usize;
    let mut last: Option<Millis> = None;
    while let Some(d) = runner.next_deadline() {
        fired += runner.store.due(d).map_err(|e| e.to_string())?.len();
        runner.advance(d, out).map_err(|e| e.to_string())?;
        last = Some(d);
    }
    Ok(match last {
        Some(t) => format!(
            "end of input: advanced the virtual clock to {} and flushed {fired} pending window(s)",
            format_rfc3339(t)
        ),
        None => "end of input: no pending windows".into(),
    })
}

/// Commits the state, then prints the batch's events.
fn finish_batch<S: Store>(runner: &mut Runner<S>, out: &mut Pending) -> Result<(), String> {
    runner.commit().map_err(|e| e.to_string())?;
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    for line in out.lines.drain(..) {
        if writeln!(lock, "{line}").is_err() {
            // A closed pipe (`| head`) is not an error of the run.
            return Ok(());
        }
    }
    let _ = lock.flush();
    Ok(())
}

fn spawn_reader(reader: Box<dyn Read + Send>) -> mpsc::Receiver<std::io::Result<String>> {
    let (tx, rx) = mpsc::sync_channel(4096);
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn progress_bar(size: Option<u64>) -> Option<indicatif::ProgressBar> {
    let size = size.filter(|s| *s > 256 * 1024)?;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(size);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

fn report(progress: &Option<indicatif::ProgressBar>, message: &str) {
    match progress {
        Some(bar) => bar.suspend(|| eprintln!("{message}")),
        None => eprintln!("{message}"),
    }
}

fn print_summary<S: Store>(runner: &Runner<S>, input: &Input, tail: &str) {
    let mut rows: VecDeque<[String; 6]> = runner
        .stats()
        .iter()
        .map(|(name, s)| {
            let kind = runner
                .graph()
                .nodes
                .get(name)
                .map_or("?", |n| n.kind.name());
            [
                name.clone(),
                kind.to_string(),
                s.input.to_string(),
                s.output.to_string(),
                s.dropped.to_string(),
                s.errors.to_string(),
            ]
        })
        .collect();
    rows.push_front(["node", "kind", "in", "out", "dropped", "errors"].map(String::from));
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "read {} line(s): {} event(s), {} malformed (skipped)",
        input.lines, input.events, input.malformed
    );
    for r in rows {
        let _ = writeln!(
            err,
            "  {:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {:>w4$}  {:>w5$}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
            w5 = widths[5]
        );
    }
    let _ = writeln!(err, "{tail}");
}
