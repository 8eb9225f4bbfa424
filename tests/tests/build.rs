//! `flowc build` over the examples: the compiled graph round-trips through
//! the runtime's types, every generated pattern is accepted (and means the
//! same) in the runtime's pattern engine, and output is deterministic.

use std::path::{Path, PathBuf};

use flow_runtime::graph::Graph;
use flow_runtime::pattern::Pattern;
use flowc::codegen::{Outputs, TemplateFormat};
use flowc::{CheckOptions, SourceFile, SourceSet};

fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("examples/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 3, "the three sample apps are present");
    dirs
}

fn load(dir: &Path) -> SourceSet {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable example")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .collect();
    files.sort();
    let mut set = SourceSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("utf-8 example");
        let name = f
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        set.add(SourceFile::new(name, text));
    }
    set
}

fn build(dir: &Path) -> Outputs {
    let sources = load(dir);
    let options = CheckOptions::for_path(dir);
    match flowc::build(&sources, &options, TemplateFormat::Json) {
        Ok((outputs, diagnostics)) => {
            assert!(diagnostics.is_empty(), "{}: {diagnostics:?}", dir.display());
            outputs
        }
        Err(d) => panic!("{} does not build: {d:?}", dir.display()),
    }
}

#[test]
fn graph_round_trips_through_runtime_types() {
    for dir in examples() {
        let outputs = build(&dir);
        let text = &outputs["graph.json"];
        let graph = Graph::from_json(text).expect("the runtime reads the compiler's graph");
        assert_eq!(&graph.to_json(), text, "{}", dir.display());
        assert!(!graph.nodes.is_empty() && !graph.routes.is_empty());
    }
}

#[test]
fn every_generated_pattern_is_valid_eventbridge() {
    for dir in examples() {
        let outputs = build(&dir);
        let graph = Graph::from_json(&outputs["graph.json"]).expect("graph");
        for route in &graph.routes {
            let pattern = Pattern::from_value(&route.pattern)
                .unwrap_or_else(|e| panic!("{}: rule {}: {e}", dir.display(), route.name));
            let file = &outputs[&format!("rules/{}.json", route.name)];
            let from_file: serde_json::Value =
                serde_json::from_str(file).expect("rule file is JSON");
            assert_eq!(from_file, route.pattern);
            // The pattern pins source and detail-type of its event.
            let event = &graph.events[&route.event];
            let other_source = serde_json::json!({
                "source": format!("not-{}", event.source),
                "detail-type": event.detail_type,
                "detail": {}
            });
            assert!(
                !pattern.matches(&other_source),
                "rule {} ignores its source",
                route.name
            );
        }
    }
}

#[test]
fn build_is_deterministic() {
    for dir in examples() {
        assert_eq!(build(&dir), build(&dir), "{}", dir.display());
    }
}

#[test]
fn a_newer_graph_format_is_refused_by_version() {
    let outputs = build(&examples()[0]);
    let bumped =
        outputs["graph.json"].replacen("\"format_version\": 1", "\"format_version\": 99", 1);
    let err = Graph::from_json(&bumped).expect_err("version 99 is not readable");
    assert!(err.to_string().contains("format version 99"), "{err}");
}
