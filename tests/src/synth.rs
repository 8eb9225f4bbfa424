//! Synthetic projects for benchmarks and stress tests.
//!
//! [`project`] builds a multi-file project of about `n` top-level
//! declarations from repeated *units*. A unit is a small, realistic and
//! valid application (per the language spec): two events with all three
//! envelope records, an `http` and an `s3` trigger, a counter, an
//! aggregator and a summarizer that emit derived events (one with a
//! mapping), three routes with conditions, a flow, and an app whose three
//! sinks (dynamodb, s3, webhook) consume every derived event. Units share
//! nothing, so a project holds no warning, and the checker does all of its
//! work (names, types, conditions, graph) on every unit.
//!
//! One limit cannot be kept at scale: a unit needs [`RULES_PER_UNIT`]
//! EventBridge rules and a project's bus allows [`MAX_RULES_PER_BUS`], so a
//! project of more than [`MAX_VALID_UNITS`] units (about 600
//! declarations) also gets the single whole-project error E042 (too many
//! rules). Everything else stays valid; [`Project::expected_codes`] says
//! what to expect.
//!
//! The output is deterministic: the same `n` gives the same text.
//!
//! ```
//! let p = flowc_tests::synth::project(1_000);
//! assert!(p.declarations >= 1_000);
//! let checked = flowc::check(&p.sources(), &p.options());
//! let codes: Vec<_> = checked.diagnostics.iter().map(|d| d.code).collect();
//! assert_eq!(codes, p.expected_codes());
//! ```

use std::fmt::Write as _;

use flowc::{CheckOptions, Code, SourceFile, SourceSet};

/// Top-level declarations in one unit.
pub const DECLARATIONS_PER_UNIT: usize = 12;

/// Routes of one unit.
pub const ROUTES_PER_UNIT: usize = 3;

/// EventBridge rules of one unit: its three routes and the rules that
/// deliver its three sinks (one per distinct sink event).
pub const RULES_PER_UNIT: usize = 6;

/// Rules EventBridge allows on one bus (the checker's E042 limit).
pub const MAX_RULES_PER_BUS: usize = 300;

/// The most units a project can hold without E042.
pub const MAX_VALID_UNITS: usize = MAX_RULES_PER_BUS / RULES_PER_UNIT;

/// Units written to one file (so a project has `units / 10` files).
pub const UNITS_PER_FILE: usize = 10;

/// A generated project.
#[derive(Clone, Debug)]
pub struct Project {
    /// `(path, text)` of every file, sorted by path.
    pub files: Vec<(String, String)>,
    /// Top-level declarations in all files (a multiple of
    /// [`DECLARATIONS_PER_UNIT`], at least the number asked for).
    pub declarations: usize,
    /// Lines in all files.
    pub lines: usize,
    /// Bytes in all files.
    pub bytes: usize,
    /// Units in the project.
    pub units: usize,
}

impl Project {
    /// The files as a [`SourceSet`] for [`flowc::check`].
    pub fn sources(&self) -> SourceSet {
        let mut set = SourceSet::new();
        for (path, text) in &self.files {
            set.add(SourceFile::new(path.clone(), text.clone()));
        }
        set
    }

    /// Check options naming the project `synth`.
    pub fn options(&self) -> CheckOptions {
        CheckOptions {
            project: "synth".to_string(),
        }
    }

    /// The diagnostics `flowc::check` should report: none, or only E042
    /// when the project has more than [`MAX_VALID_UNITS`] units.
    pub fn expected_codes(&self) -> Vec<Code> {
        if self.units > MAX_VALID_UNITS {
            vec![Code::TooManyRules]
        } else {
            Vec::new()
        }
    }

    /// All files concatenated into one text (a valid single-file project).
    pub fn concatenated(&self) -> String {
        let mut out = String::with_capacity(self.bytes);
        for (_, text) in &self.files {
            out.push_str(text);
        }
        out
    }
}

/// A project of at least `declarations` declarations (rounded up to whole
/// units), split into files of [`UNITS_PER_FILE`] units.
pub fn project(declarations: usize) -> Project {
    let units = declarations.div_ceil(DECLARATIONS_PER_UNIT).max(1);
    let mut files = Vec::new();
    let mut first = 0;
    while first < units {
        let last = (first + UNITS_PER_FILE).min(units);
        let mut text = String::new();
        for i in first..last {
            unit(i, &mut text);
        }
        files.push((format!("units/u{:05}.flow", first / UNITS_PER_FILE), text));
        first = last;
    }
    let lines = files.iter().map(|(_, t)| t.lines().count()).sum();
    let bytes = files.iter().map(|(_, t)| t.len()).sum();
    Project {
        files,
        declarations: units * DECLARATIONS_PER_UNIT,
        lines,
        bytes,
        units,
    }
}

/// Appends unit number `i` ([`DECLARATIONS_PER_UNIT`] declarations) to
/// `out`. Every name carries the suffix `i`, so units never collide.
pub fn unit(i: usize, out: &mut String) {
    // Vary the constants a little so that no two units are identical.
    let threshold = 5 + i % 20;
    let window = 30 + i % 90;
    let slow = 250 + (i % 8) * 50;
    let _ = write!(
        out,
        r#"// Unit {i}: clicks are counted and batched, screenshots summarized.
event Click{i} {{
  source      "app.client"
  detail_type "click.{i}"
  profile     {{ session_id: string, user_id: string, plan: "free" | "pro"? }}
  data        {{
    page: string,
    kind: "tap" | "press" | "swipe",
    duration_ms: int,
    score: float,
    at: timestamp,
    tags: list<string>?,
    screen: {{ w: int, h: int }},
  }}
  application {{ name: string, version: string? }}
}}

event Shot{i} {{
  source  "app.capture"
  profile {{ session_id: string, user_id: string }}
  data    {{ image: object, captured_at: timestamp, format: "png" | "jpg" }}
  application {{ name: string, window_title: string? }}
}}

trigger ClickIn{i} = http "/ingest/clicks/{i}" -> Click{i}
trigger ShotIn{i} = s3 "media-{bucket}" prefix "shots/{i}/" suffix ".png" -> Shot{i}

filter ClickCounter{i} = counter(Click{i}) {{
  key   profile.session_id
  every {threshold} events or {window}s
  emit  ClickCount{i}
}}

filter ClickBatcher{i} = aggregator(Click{i}) {{
  key       profile.user_id
  every     100 events or 5m
  collect   {{ page: data.page, ms: data.duration_ms }}
  aggregate {{ total: sum(data.duration_ms), slowest: max(data.duration_ms), n: count() }}
  emit      ClickBatch{i}
}}

view ShotSummary{i} = summarizer(Shot{i}) {{
  image      data.image
  model      "anthropic.claude-3-haiku-20240307-v1:0"
  prompt     "Describe what {{{{profile.user_id}}}} works on in {{{{application.name}}}}"
  max_tokens 300
  emit       ShotSummarized{i} {{ summary: output, app: application.name, user: profile.user_id }}
}}

route SlowClicks{i} = Click{i} -> ClickBatcher{i}
  when data.duration_ms >= {slow} and application.name != "simulator"
route RealClicks{i} = Click{i} -> ClickCounter{i}
  when (data.kind == "tap" or data.page starts_with "/checkout") and application.version exists
route Shot{i} -> ShotSummary{i}
  when application.name in ["Code", "Terminal", "Browser"] and data.image.key ends_with ".png"

flow ClickFlow{i} {{ Click{i} -> ClickCounter{i} -> ClickCount{i} }}

app Unit{i} {{
  description "synthetic unit {i}"
  nodes ClickCounter{i}, ClickBatcher{i}, ShotSummary{i}
  flows ClickFlow{i}
  sink Counts{i}    = dynamodb(ClickCount{i}) {{ key profile.session_id  sort data.last_at  ttl 30d }}
  sink Batches{i}   = s3(ClickBatch{i}) {{ key "batches/{{{{profile.user_id}}}}/{i}.json" }}
  sink Summaries{i} = webhook(ShotSummarized{i}) {{ url "https://example.com/hooks/{i}"  secret "hook-{i}" }}
}}

"#,
        bucket = i % 10,
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sizes_round_up_to_units() {
        let p = project(100);
        assert_eq!(p.declarations, 108);
        assert_eq!(p.files.len(), 1);
        assert_eq!(project(1).declarations, DECLARATIONS_PER_UNIT);
        let p = project(1_000);
        assert_eq!(p.files.len(), 84_usize.div_ceil(UNITS_PER_FILE));
    }

    fn codes(p: &Project) -> Vec<Code> {
        let checked = flowc::check(&p.sources(), &p.options());
        checked.diagnostics.iter().map(|d| d.code).collect()
    }

    #[test]
    fn generated_projects_are_valid() {
        let p = project(MAX_VALID_UNITS * DECLARATIONS_PER_UNIT);
        assert_eq!(p.units, MAX_VALID_UNITS);
        assert_eq!(codes(&p), Vec::<Code>::new());
    }

    #[test]
    fn only_the_rule_limit_breaks_at_scale() {
        let p = project((MAX_VALID_UNITS + 1) * DECLARATIONS_PER_UNIT);
        assert_eq!(codes(&p), vec![Code::TooManyRules]);
        assert_eq!(codes(&p), p.expected_codes());
    }
}
