//! [`CommandNodes`] runs a custom node's `command` with `sh -c` in the
//! project directory: one JSON event on stdin, events out as JSON lines on
//! stdout, killed after the node's `timeout` (30 s default). The view
//! engines are in `local::views`.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::graph::{NodeDef, NodeKind};
use crate::ports::CustomNode;

/// Runs custom nodes' commands in `dir`.
pub struct CommandNodes {
    pub dir: PathBuf,
}

impl CustomNode for CommandNodes {
    fn invoke(&mut self, node: &NodeDef, event: &Value) -> Result<Vec<Value>, String> {
        let NodeKind::Custom {
            command,
            timeout_ms,
            ..
        } = &node.kind
        else {
            return Err(format!("{} is not a custom node", node.name));
        };
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run `{command}`: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A command that exits without reading its input is not an error here.
            let _ = writeln!(stdin, "{event}");
        }
        let mut stdout = child.stdout.take();
        let mut stderr = child.stderr.take();
        let out = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(o) = stdout.as_mut() {
                let _ = o.read_to_string(&mut s);
            }
            s
        });
        let err = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(e) = stderr.as_mut() {
                let _ = e.read_to_string(&mut s);
            }
            s
        });
        let limit = Duration::from_millis(timeout_ms.unwrap_or(30_000));
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() > limit => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!(
                        "`{command}` timed out after {} ms",
                        limit.as_millis()
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                Err(e) => return Err(e.to_string()),
            }
        };
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        if !status.success() {
            let tail: String = stderr
                .lines()
                .last()
                .unwrap_or("")
                .chars()
                .take(300)
                .collect();
            return Err(format!(
                "`{command}` failed ({status}){}",
                if tail.is_empty() {
                    String::new()
                } else {
                    format!(": {tail}")
                }
            ));
        }
        stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .map_err(|e| format!("output line {} is not JSON: {e}", i + 1))
            })
            .collect()
    }
}
