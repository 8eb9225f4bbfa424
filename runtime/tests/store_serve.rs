//! `flowc serve` end to end: a real server on a free loopback port. An
//! ingested event reaches node A; after `POST /route/Ping` it reaches B
//! instead, without a restart; with `--state`, the new routing survives a
//! restart. Then `flowc publish` against it is idempotent. Needs the
//! workspace's `flowc` binary (built by `cargo test --workspace`).

#![cfg(feature = "store")]
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

const PROJECT: &str = r#"
event Ping {
  source      "t.src"
  detail_type "ping"
  profile     { id: string }
  data        { n: int }
}

trigger PingSource = sdk -> Ping

filter A = dedupe(Ping) {
  key    data.n
  window 1m
  emit   PingA
}

filter B = dedupe(Ping) {
  key    data.n
  window 1m
  emit   PingB
}

route ToA = Ping -> A
route ToB = Ping -> B when data.n > 1000000

flow Main { Ping -> A -> PingA }
"#;

const TOKEN: &str = "serve-test-token";

fn flowc() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join(format!("flowc{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test --workspace`",
        bin.display()
    );
    bin
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(project: &Path, state: Option<&Path>) -> Server {
    let mut cmd = Command::new(flowc());
    cmd.arg("serve")
        .arg(project)
        .args(["--addr", "127.0.0.1:0"]);
    if let Some(s) = state {
        cmd.arg("--state").arg(s);
    }
    let mut child = cmd
        .env("FLOWC_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("flowc serve: listening on http://") {
                let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("flowc serve did not start");
    Server { child, addr }
}

fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let json = out
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

fn ping(id: &str, n: i64) -> Value {
    json!({"id": id, "source": "t.src", "detail-type": "ping", "detail": {"profile": {"id": "p"}, "data": {"n": n}}})
}

fn delivered(report: &Value) -> Vec<String> {
    report["delivered"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn post_route_changes_which_node_receives_ingested_events() {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("p.flow"), PROJECT).unwrap();
    let state = tempfile::tempdir().unwrap();
    let server = start(project.path(), Some(state.path()));
    let addr = server.addr;

    let (status, report) = http(addr, "POST", "/ingest", Some(&ping("e1", 1)));
    assert_eq!(status, 200, "{report}");
    assert_eq!(delivered(&report), ["A"]);
    assert_eq!(
        report["emitted"].as_array().map(Vec::len),
        Some(1),
        "A emits PingA"
    );

    let (_, event) = http(addr, "GET", "/event/Ping", None);
    let version = event["routes_version"].as_u64().unwrap();
    let body = json!({"routes": [{"name": "OnlyB", "targets": ["B"]}], "version": version});
    let (status, out) = http(addr, "POST", "/route/Ping", Some(&body));
    assert_eq!(status, 200, "{out}");

    let (status, report) = http(
        addr,
        "POST",
        "/ingest",
        Some(&json!([ping("e2", 2), ping("e3", 3)])),
    );
    assert_eq!(status, 200, "{report}");
    assert_eq!(delivered(&report), ["B"]);
    assert_eq!(report["delivered"]["B"], 2);

    let (status, out) = http(
        addr,
        "POST",
        "/ingest",
        Some(&json!([ping("e4", 4), {"detail": 5}])),
    );
    assert_eq!(
        (status, out["error"]["code"].as_str()),
        (400, Some("invalid_event")),
        "{out}"
    );

    // The routing is kept in --state: a restarted server routes to B.
    drop(server);
    let server = start(project.path(), Some(state.path()));
    let (status, report) = http(server.addr, "POST", "/ingest", Some(&ping("e5", 5)));
    assert_eq!(
        (status, delivered(&report)),
        (200, vec!["B".to_string()]),
        "{report}"
    );
    let (_, event) = http(server.addr, "GET", "/event/Ping", None);
    assert_eq!(event["consumers"], json!(["B"]));
}

#[test]
fn publish_is_idempotent() {
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("p.flow"), PROJECT).unwrap();
    let server = start(project.path(), None);
    let api = format!("http://{}", server.addr);
    // Change the store so that publishing has something to do.
    let (_, event) = http(server.addr, "GET", "/event/Ping", None);
    let body = json!({"routes": [{"name": "OnlyB", "targets": ["B"]}], "version": event["routes_version"]});
    assert_eq!(http(server.addr, "POST", "/route/Ping", Some(&body)).0, 200);
    assert_eq!(http(server.addr, "DELETE", "/flow/Main", None).0, 204);

    let run = |token: &str| {
        Command::new(flowc())
            .arg("publish")
            .arg(project.path())
            .args(["--api", &api, "--token", token])
            .output()
            .unwrap()
    };
    let first = run(TOKEN);
    let said = String::from_utf8_lossy(&first.stderr).to_string();
    assert!(first.status.success(), "{said}");
    assert!(
        said.contains("routes of Ping") && said.contains("flow Main: created"),
        "{said}"
    );
    let second = run(TOKEN);
    let said = String::from_utf8_lossy(&second.stderr).to_string();
    assert!(second.status.success(), "{said}");
    assert!(said.contains("no changes"), "{said}");
    let (_, event) = http(server.addr, "GET", "/event/Ping", None);
    assert_eq!(event["consumers"], json!(["A", "B"]));
    let wrong = run("wrong");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("unauthorized"));
}
