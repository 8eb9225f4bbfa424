//! The language server, end to end: a small JSON-RPC client drives the real
//! `flowc lsp` binary over stdio (initialize → didOpen with an error →
//! publishDiagnostics → didChange fixed → empty diagnostics → hover,
//! definition, references, completion, document symbols, rename,
//! formatting → shutdown), with non-ASCII text before every position it
//! asks about. Then the pure analysis (`flowc::analysis`) on the examples.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

/// Generous: only keeps a broken server from hanging the test run.
const PATIENCE: Duration = Duration::from_secs(60);

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let value: Value = serde_json::from_slice(&body).unwrap();
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            messages,
            next_id: 0,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its result (notifications in between
    /// are dropped, except that diagnostics are not needed here).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.messages.recv_timeout(PATIENCE).expect("no response");
            if message["id"] == json!(id) && message.get("method").is_none() {
                assert!(message.get("error").is_none(), "{method}: {message}");
                return message["result"].clone();
            }
            self.answer_server_request(&message);
        }
    }

    /// Like `request`, but returns the error object.
    fn request_error(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.messages.recv_timeout(PATIENCE).expect("no response");
            if message["id"] == json!(id) && message.get("method").is_none() {
                return message["error"].clone();
            }
        }
    }

    fn answer_server_request(&mut self, message: &Value) {
        if message.get("method").is_some() && message.get("id").is_some() {
            let id = message["id"].clone();
            self.send(json!({ "jsonrpc": "2.0", "id": id, "result": null }));
        }
    }

    /// Waits for diagnostics of `uri` that satisfy `accept`.
    fn diagnostics(&mut self, uri: &str, accept: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        loop {
            let message = self
                .messages
                .recv_timeout(PATIENCE)
                .expect("no diagnostics");
            self.answer_server_request(&message);
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                let list = message["params"]["diagnostics"].as_array().unwrap().clone();
                if accept(&list) {
                    return list;
                }
            }
        }
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// LSP position (UTF-16) of the `nth` occurrence of `needle` in `text`,
/// plus `delta` characters.
fn pos(text: &str, needle: &str, nth: usize, delta: usize) -> Value {
    let (at, _) = text.match_indices(needle).nth(nth).unwrap();
    let at = at
        + text[at..]
            .chars()
            .take(delta)
            .map(char::len_utf8)
            .sum::<usize>();
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count();
    let character: usize = text[line_start..at].chars().map(char::len_utf16).sum();
    json!({ "line": line, "character": character })
}

fn at(uri: &str, position: Value) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": position })
}

const EVENTS: &str = r#"// Événements 🙂: the events of the demo.
event ScreenFrame {
  source "acme.agent"
  profile { /* é🙂 */ session_id: string, user_id: string }
  data { image: object, note: string? }
  application { name: string }
}

trigger Frames = sdk -> ScreenFrame
"#;

const NODES: &str = r#"filter Sampler = counter(ScreenFrame) {
  key /* é🙂 */ profile.session_id
  every 10 events or 60s
  emit Sampled
}

route Visible = ScreenFrame -> Sampler when application.name != "é🙂" and data.image.key ends_with ".png"

app Demo {
  nodes Sampler
  sink Out = dynamodb(Sampled) { key profile.user_id }
}
"#;

fn project() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let events = root.join("events.flow");
    let nodes = root.join("nodes.flow");
    std::fs::write(&events, EVENTS).unwrap();
    std::fs::write(&nodes, NODES).unwrap();
    (dir, events, nodes)
}

fn open(client: &mut Client, uri: &str, text: &str) {
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "flow", "version": 1, "text": text } }),
    );
}

fn change(client: &mut Client, uri: &str, version: i32, text: &str) {
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": version },
                "contentChanges": [ { "text": text } ] }),
    );
}

fn initialize(client: &mut Client, root: &Path) {
    let result = client.request(
        "initialize",
        json!({ "processId": null, "rootUri": uri(root), "capabilities": {
            "workspace": { "didChangeWatchedFiles": { "dynamicRegistration": true } } } }),
    );
    let caps = &result["capabilities"];
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(caps["definitionProvider"], true);
    assert!(caps["renameProvider"]["prepareProvider"] == true);
    client.notify("initialized", json!({}));
}

#[test]
fn language_server_session() {
    let (_dir, events_path, nodes_path) = project();
    let (events, nodes) = (uri(&events_path), uri(&nodes_path));
    let mut client = Client::start();
    initialize(&mut client, events_path.parent().unwrap());

    // An unknown field, after non-ASCII text on the same line.
    let broken = NODES.replace("profile.session_id", "profile.sesion_id");
    open(&mut client, &nodes, &broken);
    let diagnostics = client.diagnostics(&nodes, |d| !d.is_empty());
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    assert_eq!(d["code"], "E013");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "flowc");
    assert!(d["codeDescription"]["href"]
        .as_str()
        .unwrap()
        .ends_with("diagnostics.md#e013"));
    assert!(d["message"]
        .as_str()
        .unwrap()
        .contains("help: did you mean `session_id`?"));
    // `sesion_id` is after `  key /* é🙂 */ profile.`: 24 UTF-16 units,
    // not 23 characters or 27 bytes.
    assert_eq!(d["range"]["start"], pos(&broken, "sesion_id", 0, 0));
    assert_eq!(d["range"]["start"], json!({ "line": 1, "character": 24 }));
    assert_eq!(d["range"]["end"], json!({ "line": 1, "character": 33 }));

    // Fixed: the file's diagnostics are cleared.
    change(&mut client, &nodes, 2, NODES);
    client.diagnostics(&nodes, <[Value]>::is_empty);

    // Hover: a derived event's schema (from the checked model).
    let hover = client.request(
        "textDocument/hover",
        at(&nodes, pos(NODES, "Sampled", 1, 2)),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("event Sampled"), "{text}");
    assert!(text.contains("count: int"), "{text}");
    assert!(text.contains("session_id: string"), "{text}");
    assert!(text.contains("emitted by `Sampler`"), "{text}");
    assert_eq!(hover["range"]["start"], pos(NODES, "Sampled", 1, 0));

    // Hover: a node's kind, inputs, outputs and threshold.
    let hover = client.request(
        "textDocument/hover",
        at(&nodes, pos(NODES, "Sampler", 2, 1)),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("filter Sampler = counter(ScreenFrame) -> Sampled"),
        "{text}"
    );
    assert!(text.contains("every 10 events or 60s"), "{text}");

    // Hover: a field path's type, in a condition after non-ASCII text.
    let hover = client.request(
        "textDocument/hover",
        at(&nodes, pos(NODES, "key ends_with", 0, 1)),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("data.image.key: string"), "{text}");

    // Definition: an event in another file, a field at its declaration.
    let def = client.request(
        "textDocument/definition",
        at(&nodes, pos(NODES, "ScreenFrame", 0, 3)),
    );
    assert_eq!(def["uri"], events);
    assert_eq!(def["range"]["start"], pos(EVENTS, "ScreenFrame", 0, 0));
    let def = client.request(
        "textDocument/definition",
        at(&nodes, pos(NODES, "session_id", 0, 2)),
    );
    assert_eq!(def["uri"], events);
    assert_eq!(def["range"]["start"], pos(EVENTS, "session_id", 0, 0));
    assert_eq!(def["range"]["start"], json!({ "line": 3, "character": 22 }));

    // References: declaration, trigger, node input, route.
    let refs = client.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": nodes }, "position": pos(NODES, "ScreenFrame", 1, 0),
                "context": { "includeDeclaration": true } }),
    );
    let refs = refs.as_array().unwrap();
    assert_eq!(refs.len(), 4, "{refs:?}");
    assert_eq!(refs.iter().filter(|r| r["uri"] == events).count(), 2);

    // Field references: the declaration, the key and the condition path.
    let refs = client.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": events }, "position": pos(EVENTS, "name", 0, 0),
                "context": { "includeDeclaration": false } }),
    );
    assert_eq!(refs.as_array().unwrap().len(), 1, "{refs}");

    // Completion: fields after `profile.`, node kinds after `= `.
    let typing = NODES.replace(
        "  every 10",
        "  every 10 events\n  key2 profile.\n  every 10",
    );
    change(&mut client, &nodes, 3, &typing);
    let items = client.request(
        "textDocument/completion",
        at(&nodes, pos(&typing, "key2 profile.", 0, 13)),
    );
    assert_eq!(labels(&items), ["session_id", "user_id"]);
    let typing = format!("{NODES}\nfilter Next = ");
    change(&mut client, &nodes, 4, &typing);
    let end = pos(&typing, "Next = ", 0, 7);
    let kinds = labels(&client.request("textDocument/completion", at(&nodes, end)));
    assert!(kinds.contains(&"counter".to_string()), "{kinds:?}");
    assert!(!kinds.contains(&"splitter".to_string()), "{kinds:?}");
    change(&mut client, &nodes, 5, NODES);

    // Document symbols, with fields and parameters as children.
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": events } }),
    );
    let symbols = symbols.as_array().unwrap();
    assert_eq!(symbols[0]["name"], "ScreenFrame");
    let profile = &symbols[0]["children"][0];
    assert_eq!(profile["name"], "profile");
    assert_eq!(profile["children"][0]["name"], "session_id");
    assert_eq!(
        profile["children"][0]["selectionRange"]["start"],
        json!({ "line": 3, "character": 22 })
    );
    assert_eq!(symbols[1]["name"], "Frames");

    // Rename an event across both files.
    let prepared = client.request(
        "textDocument/prepareRename",
        at(&events, pos(EVENTS, "ScreenFrame", 0, 1)),
    );
    assert_eq!(prepared["placeholder"], "ScreenFrame");
    let edit = client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": events }, "position": pos(EVENTS, "ScreenFrame", 0, 1),
                "newName": "Frame" }),
    );
    assert_eq!(edit["changes"][&events].as_array().unwrap().len(), 2);
    assert_eq!(edit["changes"][&nodes].as_array().unwrap().len(), 2);
    let error = client.request_error(
        "textDocument/rename",
        json!({ "textDocument": { "uri": events }, "position": pos(EVENTS, "ScreenFrame", 0, 1),
                "newName": "Sampler" }),
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("already declared"),
        "{error}"
    );

    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let status = client.child.wait().unwrap();
    assert!(status.success());
}

fn labels(items: &Value) -> Vec<String> {
    let list = items
        .as_array()
        .or_else(|| items["items"].as_array())
        .unwrap();
    list.iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_file_that_does_not_parse_still_gets_diagnostics_and_symbols() {
    let (_dir, events_path, nodes_path) = project();
    let nodes = uri(&nodes_path);
    let mut client = Client::start();
    initialize(&mut client, events_path.parent().unwrap());
    let broken = NODES.replace(
        "route Visible = ScreenFrame -> Sampler",
        "route Visible = ScreenFrame -> -> Sampler",
    );
    open(&mut client, &nodes, &broken);
    let diagnostics = client.diagnostics(&nodes, |d| !d.is_empty());
    assert_eq!(diagnostics[0]["code"], "E001");
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 6);
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": nodes } }),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Sampler", "Demo"]);
    // Nothing to say inside the broken declaration, and no crash.
    let hover = client.request(
        "textDocument/hover",
        at(&nodes, pos(&broken, "-> ->", 0, 1)),
    );
    assert_eq!(hover, Value::Null);
    let hover = client.request(
        "textDocument/hover",
        at(&nodes, json!({ "line": 99, "character": 99 })),
    );
    assert_eq!(hover, Value::Null);
    // A file changed on disk (not open): its diagnostics come with the
    // next check of the project.
    let changed = EVENTS.replace("user_id: string", "user_id: strin");
    std::fs::write(&events_path, &changed).unwrap();
    let events = uri(&events_path);
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [ { "uri": events, "type": 2 } ] }),
    );
    let diagnostics = client.diagnostics(&events, |d| d.iter().any(|d| d["code"] == "E018"));
    let e018 = diagnostics.iter().find(|d| d["code"] == "E018").unwrap();
    assert_eq!(e018["range"]["start"], pos(&changed, "strin }", 0, 0));
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    assert!(client.child.wait().unwrap().success());
}

// ------------------------------------------------------------ analysis

mod analysis {
    use flowc::analysis::{Analysis, CompletionKind, LineIndex, Position};
    use flowc::{CheckOptions, SourceFile, SourceSet};

    fn example(name: &str) -> Analysis {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(name);
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "flow"))
            .collect();
        paths.sort();
        let mut sources = SourceSet::new();
        for p in paths {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            sources.add(SourceFile::new(name, std::fs::read_to_string(&p).unwrap()));
        }
        Analysis::new(
            sources,
            &CheckOptions {
                project: name.to_string(),
            },
        )
    }

    /// File and byte offset of the `nth` occurrence of `needle` in `file`.
    fn find(
        a: &Analysis,
        file: &str,
        needle: &str,
        nth: usize,
    ) -> (flowc::syntax::span::FileId, usize) {
        let id = a.file_id(file).unwrap();
        let (at, _) = a.text(id).match_indices(needle).nth(nth).unwrap();
        (id, at)
    }

    #[test]
    fn examples_are_clean() {
        for name in ["timecard", "productivity-coach", "knowledge-base"] {
            let a = example(name);
            assert!(!a.diagnostics.has_errors(), "{name}: {:?}", a.diagnostics);
        }
    }

    #[test]
    fn hover_shows_derived_schemas_and_paths_in_templates() {
        let a = example("timecard");
        let (file, at) = find(&a, "nodes.flow", "emit ScreenDescribed", 0);
        let hover = a.hover(file, at + 6).unwrap();
        assert!(
            hover.markdown.contains("summary: string"),
            "{}",
            hover.markdown
        );
        assert!(hover.markdown.contains("emitted by `ScreenSummary`"));
        // A template variable in a triple-quoted prompt.
        let (file, at) = find(&a, "nodes.flow", "{{application.window_title}}", 0);
        let hover = a.hover(file, at + 15).unwrap();
        assert!(
            hover.markdown.contains("application.window_title: string?"),
            "{}",
            hover.markdown
        );
    }

    #[test]
    fn completion_in_a_file_that_does_not_parse_knows_its_derived_events() {
        let a = example("timecard");
        let mut sources = SourceSet::new();
        for (_, file) in a.sources.iter() {
            let text = if file.path == "nodes.flow" {
                file.text
                    .replace("  image      data.image\n", "  image      data.\n")
            } else {
                file.text.clone()
            };
            sources.add(SourceFile::new(file.path.clone(), text));
        }
        let b = Analysis::new(
            sources,
            &CheckOptions {
                project: "timecard".into(),
            },
        );
        assert!(b.diagnostics.has_errors());
        // ScreenSummary reads FrameSampled, derived in the broken file.
        let (file, at) = find(&b, "nodes.flow", "image      data.\n", 0);
        let got: Vec<String> = b
            .completions(file, at + 16)
            .into_iter()
            .map(|c| c.label)
            .collect();
        assert!(
            got.contains(&"image".to_string()) && got.contains(&"count".to_string()),
            "{got:?}"
        );
    }

    #[test]
    fn hover_on_a_route_shows_its_pattern() {
        let a = example("timecard");
        let (file, at) = find(&a, "routes.flow", "SpeechChunks", 0);
        let hover = a.hover(file, at + 1).unwrap();
        assert!(hover
            .markdown
            .contains("route SpeechChunks = AudioChunk -> AudioStitcher"));
        assert!(hover.markdown.contains("\"$or\""), "{}", hover.markdown);
    }

    #[test]
    fn fields_copied_into_derived_events_share_their_declaration() {
        let a = example("timecard");
        // `data.image` of FrameSampled (a counter's default shape) is the
        // `image` field declared in ScreenFrame.
        let (file, at) = find(&a, "nodes.flow", "image      data.image", 0);
        let def = a.definition(file, at + 17).unwrap();
        let events = a.file_id("events.flow").unwrap();
        assert_eq!(def.file, events);
        assert_eq!(&a.text(events)[def.range()], "image");
        // A mapped field: `ScreenDescribed.data.summary` goes to the entry
        // `summary: output` that made it.
        let (file, at) = find(&a, "nodes.flow", "ScreenDescribed.data.summary", 0);
        let def = a.definition(file, at + 22).unwrap();
        let text = &a.text(def.file)[def.start as usize..def.start as usize + 16];
        assert_eq!(text, "summary: output,");
        // The input name in a combiner mapping is a reference to the event.
        let refs = a.references(file, at + 2, true);
        assert!(refs.len() >= 4, "{refs:?}");
    }

    #[test]
    fn rename_covers_flows_routes_sinks_and_tests() {
        let a = example("timecard");
        let (file, at) = find(&a, "events.flow", "event TimecardEntry", 0);
        let edits = a.rename(file, at + 8, "Entry").unwrap();
        let files: std::collections::BTreeSet<String> = edits
            .iter()
            .map(|(span, _)| a.sources.get(span.file).unwrap().path.clone())
            .collect();
        assert!(
            files.contains("app.flow")
                && files.contains("nodes.flow")
                && files.contains("tests.flow"),
            "{files:?}"
        );
        for (span, text) in &edits {
            assert_eq!(&a.text(span.file)[span.range()], "TimecardEntry");
            assert_eq!(text, "Entry");
        }
        assert!(a.rename(file, at + 8, "route").is_err());
        assert!(a.rename(file, at + 8, "9lives").is_err());
    }

    #[test]
    fn completion_contexts() {
        let a = example("timecard");
        let labels = |file, at| -> Vec<String> {
            a.completions(file, at)
                .into_iter()
                .map(|c| c.label)
                .collect()
        };
        // Parameter names at the start of a line of a node body.
        let (file, at) = find(&a, "nodes.flow", "  window 5m", 0);
        let got = labels(file, at + 2);
        assert_eq!(got, ["key", "window", "emit"]);
        // Fields of a combiner input named in a path.
        let (file, at) = find(&a, "nodes.flow", "ScreenDescribed.data.summary", 0);
        let got = labels(file, at + 21);
        assert!(
            got.contains(&"summary".to_string()) && got.contains(&"frames".to_string()),
            "{got:?}"
        );
        // Fields of a sink's event inside its key template.
        let (file, at) = find(&a, "app.flow", "{{profile.user_id}}", 0);
        let got = labels(file, at + 10);
        assert!(got.contains(&"session_id".to_string()), "{got:?}");
        // Events after `emit`.
        let (file, at) = find(&a, "nodes.flow", "emit   UniqueFrame", 0);
        let items = a.completions(file, at + 7);
        assert!(items
            .iter()
            .any(|c| c.label == "ScreenFrame" && c.kind == CompletionKind::Event));
    }

    #[test]
    fn document_symbols_of_an_event() {
        let a = example("timecard");
        let file = a.file_id("events.flow").unwrap();
        let symbols = a.document_symbols(file);
        let names: Vec<&str> = symbols.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["ScreenFrame", "AudioChunk", "AppUsage", "TimecardEntry"]
        );
        let data = &symbols[0].children[1];
        assert_eq!(data.name, "data");
        let resolution = data
            .children
            .iter()
            .find(|c| c.name == "resolution")
            .unwrap();
        assert_eq!(resolution.children.len(), 2);
    }

    #[test]
    fn utf16_positions_round_trip() {
        let text = "/* é🙂 */ event A {}\n// 🙂🙂\nevent B {}";
        let index = LineIndex::new(text);
        for (offset, _) in text.char_indices() {
            let p = index.position(text, offset);
            assert_eq!(index.offset(text, p), offset, "at {offset}");
        }
        assert_eq!(
            index.position(text, text.find("event A").unwrap()),
            Position::new(0, 10)
        );
    }

    #[test]
    fn nothing_panics_at_any_offset() {
        let a = example("productivity-coach");
        for (file, source) in a.sources.iter() {
            for offset in (0..=source.text.len() + 2).step_by(7) {
                let _ = a.hover(file, offset);
                let _ = a.definition(file, offset);
                let _ = a.references(file, offset, true);
                let _ = a.completions(file, offset);
                let _ = a.prepare_rename(file, offset);
            }
        }
    }
}
