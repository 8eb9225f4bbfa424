//! `flowc graph`: snapshots of the Mermaid and dot pictures of one example
//! (with its bounded cycle highlighted), `--flow`, and the error paths.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(name)
}

fn flowc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run flowc")
}

fn graph(args: &[&str]) -> String {
    let out = flowc(args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn mermaid_of_the_knowledge_base() {
    let kb = example("knowledge-base");
    let text = graph(&["graph", kb.to_str().expect("path"), "--format", "mermaid"]);
    assert!(
        text.contains("==>"),
        "the LinkResolver cycle is highlighted"
    );
    insta::assert_snapshot!("graph_knowledge_base_mermaid", text);
}

#[test]
fn dot_of_the_knowledge_base() {
    let kb = example("knowledge-base");
    let text = graph(&["graph", kb.to_str().expect("path"), "--format", "dot"]);
    assert!(text.contains("subgraph \"cluster_KnowledgeBase\""));
    assert!(text.contains("color=\"#dd3333\""));
    insta::assert_snapshot!("graph_knowledge_base_dot", text);
}

#[test]
fn a_flow_restricts_the_picture_to_its_path() {
    let kb = example("knowledge-base");
    let path = kb.to_str().expect("path");
    let text = graph(&["graph", path, "--flow", "MeetingToKnowledge"]);
    assert!(text.contains("n_MeetingTranscriber"));
    assert!(text.contains("e_MeetingTranscript"));
    assert!(!text.contains("n_BoardReader"), "{text}");
    let out = flowc(&["graph", path, "--flow", "Nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no flow named `Nope`"));
}

#[test]
fn a_project_with_errors_draws_nothing() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_graph_errors");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("bad.flow"), "route A -> B\n").expect("write");
    let out = flowc(&["graph", dir.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn svg_runs_graphviz_or_says_it_is_missing() {
    let kb = example("timecard");
    let out = flowc(&["graph", kb.to_str().expect("path"), "--format", "svg"]);
    if Command::new("dot").arg("-V").output().is_ok() {
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
    } else {
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("Graphviz"));
    }
}
