//! Evaluation of compiled patterns against a flattened event.
//!
//! A compiled pattern is a list of [`Field`]s (one per leaf array of the
//! pattern) and a list of conjunctions (one per `$or` combination), each a
//! list of field indices. An event matches when some conjunction has every
//! field satisfied by leaves that are pairwise array-consistent (see
//! [`super::event::consistent`]).

use super::cidr::{parse_ip, Cidr};
use super::event::{consistent, Flat, Scalar};
use super::number::{Num, Range};
use super::wildcard::{eq_ic, prefix_ic, suffix_ic, Wildcard};
use std::fmt;
use std::net::IpAddr;

/// One element of a leaf array.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Matcher {
    /// Exact string; `Some(ip)` when it looks like an IP address, in which
    /// case any spelling of the same address matches.
    Str(Box<str>, Option<IpAddr>),
    Num(Num),
    Bool(bool),
    Null,
    Prefix(Box<str>),
    /// Operand stored case-folded.
    PrefixIc(Box<str>),
    Suffix(Box<str>),
    SuffixIc(Box<str>),
    EqIc(Box<str>),
    Wildcard(Wildcard),
    Numeric(Range),
    Cidr(Cidr),
    /// `{"exists": true}`; `exists: false` is [`Field::exists_false`].
    Exists,
    ButStr(Vec<(Box<str>, Option<IpAddr>)>),
    ButNum(Vec<Num>),
    ButPrefix(Vec<Box<str>>),
    ButSuffix(Vec<Box<str>>),
    ButIc(Vec<Box<str>>),
    ButWildcard(Vec<Wildcard>),
}

#[inline]
fn str_eq(s: &str, lit: &str, ip: Option<IpAddr>) -> bool {
    s == lit || (ip.is_some() && parse_ip(s) == ip)
}

impl Matcher {
    /// Whether one scalar leaf satisfies this matcher.
    pub(crate) fn matches(&self, v: &Scalar<'_>) -> bool {
        use Matcher as M;
        match (self, v) {
            (M::Str(lit, ip), Scalar::Str(s)) => str_eq(s, lit, *ip),
            (M::Num(n), Scalar::Num(m)) => n.equals(m),
            (M::Bool(b), Scalar::Bool(c)) => b == c,
            (M::Null, Scalar::Null) => true,
            (M::Prefix(p), Scalar::Str(s)) => s.starts_with(&**p),
            (M::PrefixIc(p), Scalar::Str(s)) => prefix_ic(s, p),
            (M::Suffix(p), Scalar::Str(s)) => s.ends_with(&**p),
            (M::SuffixIc(p), Scalar::Str(s)) => suffix_ic(s, p),
            (M::EqIc(p), Scalar::Str(s)) => eq_ic(s, p),
            (M::Wildcard(w), Scalar::Str(s)) => w.matches(s),
            (M::Numeric(r), Scalar::Num(n)) => n.f.is_some_and(|f| r.contains(f)),
            (M::Cidr(c), Scalar::Str(s)) => c.contains(s),
            (M::Exists, _) => true,
            // anything-but: any present scalar that is not excluded.
            (M::ButStr(l), Scalar::Str(s)) => !l.iter().any(|(lit, ip)| str_eq(s, lit, *ip)),
            (M::ButNum(l), Scalar::Num(n)) => !l.iter().any(|x| x.equals(n)),
            (M::ButPrefix(l), Scalar::Str(s)) => !l.iter().any(|p| s.starts_with(&**p)),
            (M::ButSuffix(l), Scalar::Str(s)) => !l.iter().any(|p| s.ends_with(&**p)),
            (M::ButIc(l), Scalar::Str(s)) => !l.iter().any(|p| eq_ic(s, p)),
            (M::ButWildcard(l), Scalar::Str(s)) => !l.iter().any(|w| w.matches(s)),
            (
                M::ButStr(_)
                | M::ButNum(_)
                | M::ButPrefix(_)
                | M::ButSuffix(_)
                | M::ButIc(_)
                | M::ButWildcard(_),
                _,
            ) => true,
            _ => false,
        }
    }
}

/// One leaf array of a pattern: the matchers ORed at one field path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    /// Path segments (keys split on `.`).
    pub(crate) path: Box<[Box<str>]>,
    /// Node id of `path` in the owning matcher's trie.
    pub(crate) path_id: u32,
    pub(crate) matchers: Vec<Matcher>,
    /// The leaf array contains `{"exists": false}`: an absent field passes.
    pub(crate) exists_false: bool,
    /// The leaf array as compact JSON, for explanations.
    pub(crate) display: String,
}

impl Field {
    pub(crate) fn path_text(&self) -> String {
        self.path.join(".")
    }
}

enum State {
    /// Absent and `exists: false` allows it: no leaf needed.
    Free,
    Fail,
    /// Satisfiable; `chained` when every matching leaf sits in an array.
    Ok {
        chained: bool,
    },
}

fn state(f: &Field, flat: &Flat<'_>) -> State {
    let r = flat.range(f.path_id);
    if r.is_empty() {
        return if f.exists_false {
            State::Free
        } else {
            State::Fail
        };
    }
    let mut found = false;
    for i in r {
        if f.matchers.iter().any(|m| m.matches(&flat.leaves[i].val)) {
            if !flat.has_chain(i) {
                return State::Ok { chained: false };
            }
            found = true;
        }
    }
    if found {
        State::Ok { chained: true }
    } else {
        State::Fail
    }
}

/// Whether the conjunction `conj` (indices into `fields`) matches.
pub(crate) fn eval_conj(fields: &[Field], conj: &[u32], flat: &Flat<'_>) -> bool {
    let mut chained = 0;
    for &fi in conj {
        match state(&fields[fi as usize], flat) {
            State::Fail => return false,
            State::Free | State::Ok { chained: false } => {}
            State::Ok { chained: true } => chained += 1,
        }
    }
    // Consistency only constrains two or more fields inside arrays.
    chained <= 1 || solve(fields, conj, flat)
}

/// Backtracking search for array-consistent leaves, one per chained field.
fn solve(fields: &[Field], conj: &[u32], flat: &Flat<'_>) -> bool {
    let mut cands: Vec<Vec<usize>> = Vec::new();
    for &fi in conj {
        let f = &fields[fi as usize];
        let c: Vec<usize> = flat
            .range(f.path_id)
            .filter(|&i| f.matchers.iter().any(|m| m.matches(&flat.leaves[i].val)))
            .collect();
        // A leaf outside arrays is consistent with anything: field is free.
        if !c.is_empty() && c.iter().all(|&i| flat.has_chain(i)) {
            cands.push(c);
        }
    }
    cands.sort_by_key(Vec::len);
    let mut chosen = Vec::with_capacity(cands.len());
    dfs(&cands, flat, &mut chosen)
}

fn dfs(cands: &[Vec<usize>], flat: &Flat<'_>, chosen: &mut Vec<usize>) -> bool {
    let Some(options) = cands.get(chosen.len()) else {
        return true;
    };
    for &leaf in options {
        let ch = flat.chain(leaf);
        if chosen.iter().all(|&c| consistent(flat.chain(c), ch)) {
            chosen.push(leaf);
            if dfs(cands, flat, chosen) {
                return true;
            }
            chosen.pop();
        }
    }
    false
}

/// Why an event does not match a pattern (see [`super::Pattern::explain`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Dotted path of the failing field (several, comma-separated, for an
    /// array-consistency failure; empty when the event is not an object).
    pub path: String,
    /// The pattern's leaf array for that field as compact JSON (`["PAID"]`).
    pub expected: String,
    /// Event values found at the path, as JSON; empty when absent.
    pub found: Vec<String>,
    /// What went wrong.
    pub reason: MismatchReason,
}

/// Category of a [`Mismatch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MismatchReason {
    /// The field is present but no value satisfies any matcher.
    NoMatchingValue,
    /// The field is absent (or not a scalar) and the pattern needs a value.
    Absent,
    /// Each field is satisfiable, but not within one element of an array.
    ArrayConsistency,
    /// The event is not a JSON object.
    NotAnObject,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            MismatchReason::NotAnObject => write!(f, "event is not a JSON object"),
            MismatchReason::ArrayConsistency => write!(
                f,
                "{}: no single array element satisfies all of these fields",
                self.path
            ),
            MismatchReason::Absent => write!(
                f,
                "{}: expected one of {}, found nothing (field absent)",
                self.path, self.expected
            ),
            MismatchReason::NoMatchingValue => {
                write!(
                    f,
                    "{}: expected one of {}, found ",
                    self.path, self.expected
                )?;
                if self.found.len() == 1 {
                    write!(f, "{}", self.found[0])
                } else {
                    write!(f, "[{}]", self.found.join(","))
                }
            }
        }
    }
}

impl std::error::Error for Mismatch {}

/// Explains the conjunction that got furthest (most fields satisfied, in
/// pattern order). Returns `None` if some conjunction matches.
pub(crate) fn explain(fields: &[Field], conjs: &[Vec<u32>], flat: &Flat<'_>) -> Option<Mismatch> {
    let mut best: Option<(usize, Mismatch)> = None;
    for conj in conjs {
        let mut passed = 0;
        let mut failure = None;
        for &fi in conj {
            let f = &fields[fi as usize];
            match state(f, flat) {
                State::Fail => {
                    let found: Vec<String> = flat
                        .range(f.path_id)
                        .map(|i| flat.leaves[i].val.render())
                        .collect();
                    let reason = if found.is_empty() {
                        MismatchReason::Absent
                    } else {
                        MismatchReason::NoMatchingValue
                    };
                    failure = Some(Mismatch {
                        path: f.path_text(),
                        expected: f.display.clone(),
                        found,
                        reason,
                    });
                    break;
                }
                _ => passed += 1,
            }
        }
        let failure = match failure {
            Some(m) => m,
            None if eval_conj(fields, conj, flat) => return None,
            None => {
                passed += 1; // every field passed on its own
                let paths: Vec<String> = conj
                    .iter()
                    .map(|&fi| fields[fi as usize].path_text())
                    .collect();
                Mismatch {
                    path: paths.join(", "),
                    expected: String::new(),
                    found: Vec::new(),
                    reason: MismatchReason::ArrayConsistency,
                }
            }
        };
        if best.as_ref().is_none_or(|(p, _)| passed > *p) {
            best = Some((passed, failure));
        }
    }
    best.map(|(_, m)| m)
}
