//! EventBridge event-pattern engine: validation, matching, explanation and
//! multi-rule matching, following aws/event-ruler semantics as written down
//! in `/work/shared/eventbridge-patterns.md`.
//!
//! * [`Pattern::parse`] takes pattern text and rejects exactly what
//!   EventBridge rejects ([`PatternError`] carries an EventBridge-style
//!   message and the JSON path of the offending element). The pattern text
//!   is read by an internal JSON reader that keeps number text (for the
//!   binary64-exactness rule on numeric bounds) and duplicate keys (a
//!   repeated leaf keeps the last definition, repeated objects are merged).
//! * [`Pattern::matches`] takes an event as a `serde_json::Value`;
//!   [`Pattern::matches_json`] takes event text. The difference: a
//!   `serde_json` double has lost its source text, so an event number such
//!   as `123456789012345678901234567890` (which `serde_json` rounds) is
//!   treated as the double it became, and `1e400` cannot be represented at
//!   all. Integers up to 64 bits are exact either way. Use the text API when
//!   the exactness rule for event numbers matters.
//! * [`Pattern::explain`] says which field and matcher failed.
//! * [`RuleSet`] matches one event against many patterns at once and returns
//!   exactly the names [`Pattern::matches`] would select, in rule order.
//!
//! Invariants: a `Pattern` is always valid (constructed only by parsing);
//! matching never panics and does not allocate per rule; an event that is
//! not a JSON object matches nothing; paths compare as dot-joined strings,
//! so the key `"a.b"` and the nested path `a` → `b` are the same field
//! (event-ruler behaviour), and a pattern naming one path both ways must
//! satisfy both. Numbers: see `number.rs` for the exact definition of
//! "representable as binary64" (finite, no underflow, and either the
//! shortest round-trip form of its double or that double's exact value).
//! Pattern length is counted in Unicode scalar values.

mod cidr;
mod compiled;
mod event;
mod json;
mod matcher;
mod number;
mod parse;
mod wildcard;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_match;
#[cfg(test)]
mod tests_prop;

pub use compiled::RuleSet;
pub use matcher::{Mismatch, MismatchReason};

use event::{Flat, Trie};
use json::Json;
use matcher::Field;
use std::fmt;

/// Validation limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationOptions {
    /// Longest accepted pattern, in characters (EventBridge quota, default
    /// 2048; adjustable by AWS up to 4096).
    pub max_length: usize,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        ValidationOptions { max_length: 2048 }
    }
}

/// Broad category of a [`PatternError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternErrorKind {
    /// Malformed JSON.
    Json,
    /// Longer than [`ValidationOptions::max_length`].
    TooLong,
    /// Not an object, `{}`, `[]` leaf, scalar leaf, nested array.
    Structure,
    /// Unknown operator, empty or multi-key match object.
    Operator,
    /// Wrong operand type for `prefix`/`suffix`/`equals-ignore-case`/...
    Operand,
    /// Invalid `anything-but`.
    AnythingBut,
    /// Invalid `numeric`.
    Numeric,
    /// Invalid `exists`.
    Exists,
    /// Invalid `cidr`.
    Cidr,
    /// Invalid `wildcard`.
    Wildcard,
    /// Invalid `$or`.
    Or,
    /// More than 1000 `$or` combinations.
    TooManyCombinations,
}

/// Why a pattern is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// Category, for callers that map errors to their own diagnostics.
    pub kind: PatternErrorKind,
    /// Human-readable reason (EventBridge wording where known).
    pub reason: String,
    /// JSON path of the offending element (`detail.status[0].prefix`), when
    /// the error is tied to one.
    pub path: Option<String>,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Event pattern is not valid. Reason: {}", self.reason)?;
        if let Some(p) = &self.path {
            write!(f, " (at {p})")?;
        }
        Ok(())
    }
}

impl std::error::Error for PatternError {}

/// An event given as text was not valid JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    /// What was wrong and where (byte offset).
    pub message: String,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid event: {}", self.message)
    }
}

impl std::error::Error for EventError {}

pub(crate) fn parse_event(text: &str) -> Result<Json, EventError> {
    json::parse(text).map_err(|message| EventError { message })
}

/// A validated, compiled event pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    pub(crate) fields: Vec<Field>,
    /// One entry per `$or` combination: indices into `fields`.
    pub(crate) conjs: Vec<Vec<u32>>,
    trie: Trie,
}

impl Pattern {
    /// Parses and validates pattern text with the default limits.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        Pattern::parse_with(text, &ValidationOptions::default())
    }

    /// Parses and validates pattern text.
    pub fn parse_with(text: &str, opts: &ValidationOptions) -> Result<Pattern, PatternError> {
        let len = text.chars().count();
        if len > opts.max_length {
            return Err(PatternError {
                kind: PatternErrorKind::TooLong,
                reason: format!(
                    "Event pattern is {len} characters long; the limit is {}",
                    opts.max_length
                ),
                path: None,
            });
        }
        let json = json::parse(text).map_err(|reason| PatternError {
            kind: PatternErrorKind::Json,
            reason,
            path: None,
        })?;
        Pattern::build(&json, text.to_string())
    }

    /// Validates a pattern given as a `serde_json::Value`, with the default
    /// limits. Its length is that of the compact serialization; duplicate
    /// keys and number text are whatever `serde_json` kept.
    pub fn from_value(value: &serde_json::Value) -> Result<Pattern, PatternError> {
        Pattern::from_value_with(value, &ValidationOptions::default())
    }

    /// [`Pattern::from_value`] with explicit limits.
    pub fn from_value_with(
        value: &serde_json::Value,
        opts: &ValidationOptions,
    ) -> Result<Pattern, PatternError> {
        Pattern::parse_with(&value.to_string(), opts)
    }

    fn build(json: &Json, source: String) -> Result<Pattern, PatternError> {
        let compiled = parse::compile(json)?;
        let mut trie = Trie::new();
        let mut fields = compiled.fields;
        for f in &mut fields {
            f.path_id = trie.insert(&f.path);
        }
        Ok(Pattern {
            source,
            fields,
            conjs: compiled.conjs,
            trie,
        })
    }

    /// The pattern text this was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Number of `$or` combinations (1 without `$or`).
    pub fn combinations(&self) -> usize {
        self.conjs.len()
    }

    /// Whether the event matches. A non-object event never matches.
    pub fn matches(&self, event: &serde_json::Value) -> bool {
        event.is_object() && self.matches_flat(&Flat::build(&self.trie, event))
    }

    /// Whether the event, given as JSON text, matches (exact handling of
    /// event number text; see the module docs).
    pub fn matches_json(&self, event: &str) -> Result<bool, EventError> {
        let ev = parse_event(event)?;
        Ok(matches!(ev, Json::Obj(_)) && self.matches_flat(&Flat::build(&self.trie, &ev)))
    }

    fn matches_flat(&self, flat: &Flat<'_>) -> bool {
        self.conjs
            .iter()
            .any(|c| matcher::eval_conj(&self.fields, c, flat))
    }

    /// `None` if the event matches; otherwise the first failing field (in
    /// pattern order) of the `$or` combination that got furthest.
    pub fn explain(&self, event: &serde_json::Value) -> Option<Mismatch> {
        if !event.is_object() {
            return Some(not_object());
        }
        matcher::explain(&self.fields, &self.conjs, &Flat::build(&self.trie, event))
    }

    /// [`Pattern::explain`] for event text.
    pub fn explain_json(&self, event: &str) -> Result<Option<Mismatch>, EventError> {
        let ev = parse_event(event)?;
        if !matches!(ev, Json::Obj(_)) {
            return Ok(Some(not_object()));
        }
        Ok(matcher::explain(
            &self.fields,
            &self.conjs,
            &Flat::build(&self.trie, &ev),
        ))
    }
}

fn not_object() -> Mismatch {
    Mismatch {
        path: String::new(),
        expected: String::new(),
        found: Vec::new(),
        reason: MismatchReason::NotAnObject,
    }
}

impl std::str::FromStr for Pattern {
    type Err = PatternError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pattern::parse(s)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}
