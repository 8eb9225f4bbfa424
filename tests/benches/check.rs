//! Parse + check time (group `check`) and build time (group `build`:
//! check + every artifact of `flowc build`) of synthetic projects
//! (`flowc_tests::synth`) of 1k, 5k, 10k and 50k top-level declarations.
//!
//! Run with `cargo bench --workspace --bench check` or `scripts/bench`
//! (which also prints lines per second and the growth at 10× input).
//! Criterion reports throughput in lines (one element = one source line).
//!
//! **What `build` measures.** One bus holds at most 300 rules (E042), so
//! no synthetic project beyond `synth::MAX_VALID_UNITS` units (about 600
//! declarations) checks without errors, and `flowc::build` would stop
//! after `check`. Nor can any generator keep a project that large valid:
//! every node input needs a rule and a rule has at most 5 targets, so a
//! valid project has at most 1,500 node inputs. The group therefore times
//! what `flowc::build` does, `flowc::check` on the whole project followed
//! by `codegen::emit_all` (graph, rules, schemas, JSON template), with
//! the model of the whole project: for a valid project (1k) the model of
//! that check, i.e. exactly `flowc::build`; beyond the limit the union of
//! the models of the project's valid slices of `MAX_VALID_UNITS` units
//! (see [`sliced_model`]), which is the model the check would return
//! without the rule quota. So the timed work is the same at every size:
//! a full check, then codegen over every declaration.
//!
//! Under `cargo test` (criterion's test mode, each benchmark runs once in a
//! debug build) only the 1k project is checked, so that the test suite
//! stays fast; `FLOWC_BENCH_SIZES=1000,50000` overrides the sizes in both
//! modes.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use flowc::check::model::Model;
use flowc::codegen::{emit_all, TemplateFormat};
use flowc::{SourceFile, SourceSet};
use flowc_tests::synth;

const SIZES: &[usize] = &[1_000, 5_000, 10_000, 50_000];

/// Whether criterion measures (`cargo bench`) rather than smoke-tests.
fn measuring() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test")
}

fn sizes() -> Vec<usize> {
    if let Ok(list) = std::env::var("FLOWC_BENCH_SIZES") {
        return list
            .split(',')
            .map(|s| s.trim().parse().expect("FLOWC_BENCH_SIZES: numbers"))
            .collect();
    }
    if measuring() {
        SIZES.to_vec()
    } else {
        SIZES[..1].to_vec()
    }
}

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    for n in sizes() {
        let project = synth::project(n);
        let sources = project.sources();
        let options = project.options();
        // The checker must do the work the benchmark claims: the project is
        // valid except for the whole-project rule limit.
        let checked = flowc::check(&sources, &options);
        let codes: Vec<_> = checked.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, project.expected_codes(), "synthetic project of {n}");
        eprintln!(
            "synth {n}: {} declarations, {} files, {} lines, {} bytes",
            project.declarations,
            project.files.len(),
            project.lines,
            project.bytes
        );
        group.throughput(Throughput::Elements(project.lines as u64));
        // Slow iterations (10k, 50k): a few flat samples instead of a
        // linear ramp.
        configure(&mut group, n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &sources, |b, sources| {
            b.iter(|| flowc::check(sources, &options))
        });
    }
    group.finish();
}

/// Criterion settings per size, shared by both groups.
fn configure(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    n: usize,
) {
    if n >= 10_000 {
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(if n >= 50_000 { 30 } else { 10 }));
    } else {
        group.sampling_mode(SamplingMode::Auto);
        group.sample_size(20);
        group.measurement_time(Duration::from_secs(5));
    }
}

/// The model of the whole synthetic project, although beyond
/// `synth::MAX_VALID_UNITS` units it breaks the bus rule quota: the
/// project's files are checked in slices of `MAX_VALID_UNITS` units (every
/// slice is a valid project, and sees the other files as empty, so file ids
/// and spans are those of the whole project), and the slices' models are
/// joined. Units share no names, so the union is what one check would
/// produce without E042 (up to the order of routes).
fn sliced_model(project: &synth::Project) -> Model {
    let files_per_slice = synth::MAX_VALID_UNITS / synth::UNITS_PER_FILE;
    let mut model = Model {
        project: project.options().project,
        ..Model::default()
    };
    for first in (0..project.files.len()).step_by(files_per_slice) {
        let mut slice = SourceSet::new();
        for (i, (path, text)) in project.files.iter().enumerate() {
            let inside = (first..first + files_per_slice).contains(&i);
            slice.add(SourceFile::new(
                path.clone(),
                if inside { text.clone() } else { String::new() },
            ));
        }
        let checked = flowc::check(&slice, &project.options());
        let codes: Vec<_> = checked.diagnostics.iter().map(|d| d.code).collect();
        assert!(codes.is_empty(), "slice at file {first}: {codes:?}");
        let part = checked.model.expect("a valid slice has a model");
        model.events.extend(part.events);
        model.nodes.extend(part.nodes);
        model.triggers.extend(part.triggers);
        model.routes.extend(part.routes);
        model.flows.extend(part.flows);
        model.apps.extend(part.apps);
        model.tests.extend(part.tests);
    }
    model
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    for n in sizes() {
        let project = synth::project(n);
        let sources = project.sources();
        let options = project.options();
        let model = sliced_model(&project);
        assert_eq!(model.routes.len(), project.units * synth::ROUTES_PER_UNIT);
        let outputs = emit_all(&model, &sources, TemplateFormat::Json);
        if project.expected_codes().is_empty() {
            // Within the quota the sliced model is the checked one: what is
            // timed is exactly `flowc::build`.
            let (built, _) = flowc::build(&sources, &options, TemplateFormat::Json)
                .expect("a valid synthetic project builds");
            assert!(
                built == outputs,
                "sliced model of {n} differs from the checked one"
            );
        }
        let bytes: usize = outputs.values().map(String::len).sum();
        eprintln!(
            "build {n}: {} rules, {} output files, {bytes} bytes of output",
            model.routes.len(),
            outputs.len()
        );
        group.throughput(Throughput::Elements(project.lines as u64));
        configure(&mut group, n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &sources, |b, sources| {
            b.iter(|| {
                let checked = flowc::check(sources, &options);
                // The whole model when the check has one (1k); otherwise
                // the sliced model, as documented above.
                let model = checked.model.as_ref().unwrap_or(&model);
                black_box(emit_all(model, sources, TemplateFormat::Json))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, check, build);
criterion_main!(benches);
