//! Parse + check time of synthetic projects (`flowc_tests::synth`) of
//! 1k, 5k, 10k and 50k top-level declarations.
//!
//! Run with `cargo bench --workspace --bench check` or `scripts/bench`
//! (which also prints lines per second and the growth at 10× input).
//! Criterion reports throughput in lines (one element = one source line).
//!
//! Under `cargo test` (criterion's test mode, each benchmark runs once in a
//! debug build) only the 1k project is checked, so that the test suite
//! stays fast; `FLOWC_BENCH_SIZES=1000,50000` overrides the sizes in both
//! modes.

use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
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
        if n >= 10_000 {
            // Slow iterations: a few flat samples instead of a linear ramp.
            group.sampling_mode(SamplingMode::Flat);
            group.sample_size(10);
            group.measurement_time(Duration::from_secs(if n >= 50_000 { 30 } else { 10 }));
        } else {
            group.sampling_mode(SamplingMode::Auto);
            group.sample_size(20);
            group.measurement_time(Duration::from_secs(5));
        }
        group.bench_with_input(BenchmarkId::from_parameter(n), &sources, |b, sources| {
            b.iter(|| flowc::check(sources, &options))
        });
    }
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
