//! Route conditions → EventBridge event patterns.
//!
//! A condition is type-checked against the route's event (E020–E023),
//! brought into disjunctive normal form with `not` pushed down to the
//! comparisons, and each conjunction is merged field by field into one
//! EventBridge matcher per field. What EventBridge cannot say is E035 (with
//! a rewrite hint); what can never be true is E034 (whole condition) or
//! W003 (one branch). Branches that differ in one field become one leaf
//! array; the rest becomes `$or`.
//! Invariant: the pattern matches exactly the events the condition
//! describes, under EventBridge's semantics (docs/language.md).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::{json, Map, Value};

use super::model::{Schema, Type};
use super::types::resolve_path;
use super::Ctx;
use crate::diagnostic::{Code, Diagnostic};
use crate::syntax::ast::{self, CompareOp, Span};

/// EventBridge's limit on `$or` combinations in one pattern.
pub const MAX_COMBINATIONS: usize = 1000;

#[derive(Clone, Debug, PartialEq)]
enum Lit {
    Str(String),
    Num { text: String, value: f64 },
    Bool(bool),
    Null,
}

impl Lit {
    fn same(&self, other: &Lit) -> bool {
        match (self, other) {
            (Lit::Num { value: a, .. }, Lit::Num { value: b, .. }) => a == b,
            _ => self == other,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Lit::Str(s) => Value::String(s.clone()),
            Lit::Num { text, value } => serde_json::from_str(text).unwrap_or_else(|_| json!(value)),
            Lit::Bool(b) => Value::Bool(*b),
            Lit::Null => Value::Null,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Bound {
    value: f64,
    text: String,
    inclusive: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Atom {
    Values(Vec<Lit>),
    IgnoreCase(Vec<String>),
    Prefix {
        text: String,
        ignore_case: bool,
    },
    Suffix {
        text: String,
        ignore_case: bool,
    },
    Wildcard(String),
    Cidr(String),
    Numeric {
        lo: Option<Bound>,
        hi: Option<Bound>,
    },
    Exists(bool),
    NotValues(Vec<Lit>),
    NotIgnoreCase(Vec<String>),
    NotPrefix(String),
    NotSuffix(String),
    NotWildcard(String),
}

/// One comparison after typing: field path, matcher, and where it was written.
#[derive(Clone, Debug)]
struct Term {
    path: String,
    atom: Atom,
    span: Span,
}

type Conj = Vec<Term>;

/// Why a condition cannot become a pattern.
struct Inexpressible {
    message: String,
    hint: String,
    span: Span,
}

/// A compiled condition.
pub(crate) struct Compiled {
    pub detail: Option<Value>,
    pub combinations: usize,
}

impl Ctx<'_> {
    /// Compiles `condition` against `schema`; `None` after an error.
    pub(super) fn compile_condition(
        &mut self,
        condition: &ast::Condition,
        event: &str,
        schema: &Schema,
    ) -> Option<Compiled> {
        let dnf = self.dnf(condition, false, event, schema)?;
        let mut alive: Vec<BTreeMap<String, Vec<Atom>>> = Vec::new();
        let mut dead: Vec<Conj> = Vec::new();
        for conj in &dnf {
            match merge_conj(conj) {
                Ok(Some(fields)) => {
                    alive.push(fields.into_iter().map(|(k, v)| (k, vec![v])).collect())
                }
                Ok(None) => dead.push(conj.clone()),
                Err(e) => {
                    self.push(
                        Diagnostic::new(Code::NotExpressible, e.message)
                            .primary(e.span, "EventBridge has no pattern for this")
                            .help(e.hint),
                    );
                    return None;
                }
            }
        }
        if alive.is_empty() {
            let mut d = Diagnostic::new(Code::NeverMatches, "route condition can never be true")
                .primary(condition.span(), "no event satisfies this")
                .help("the comparisons contradict each other; fix or remove the route");
            if let Some(conj) = dead.first() {
                for term in conj.iter().take(3) {
                    d = d.secondary(term.span, "");
                }
            }
            self.push(d);
            return None;
        }
        for conj in &dead {
            let span = conj
                .iter()
                .map(|t| t.span)
                .reduce(|a, b| a.to(b))
                .unwrap_or(condition.span());
            self.push(
                Diagnostic::new(
                    Code::DeadBranch,
                    "this part of the condition can never be true",
                )
                .primary(span, "contradictory comparisons")
                .help("remove this branch of the `or`; it never matches"),
            );
        }
        let branches = combine_branches(alive);
        let combinations = branches.len();
        Some(Compiled {
            detail: to_detail_pattern(branches),
            combinations,
        })
    }

    fn dnf(
        &mut self,
        c: &ast::Condition,
        negate: bool,
        event: &str,
        schema: &Schema,
    ) -> Option<Vec<Conj>> {
        match c {
            ast::Condition::Not(inner, _) => self.dnf(inner, !negate, event, schema),
            ast::Condition::And(parts, span) | ast::Condition::Or(parts, span) => {
                let is_and = matches!(c, ast::Condition::And(..)) != negate;
                let mut lists = Vec::new();
                let mut failed = false;
                for p in parts {
                    match self.dnf(p, negate, event, schema) {
                        Some(l) => lists.push(l),
                        None => failed = true,
                    }
                }
                if failed {
                    return None;
                }
                if !is_and {
                    return Some(lists.into_iter().flatten().collect());
                }
                let mut acc: Vec<Conj> = vec![Vec::new()];
                for list in lists {
                    if acc.len().saturating_mul(list.len()) > MAX_COMBINATIONS * 4 {
                        self.push(
                            Diagnostic::new(Code::TooManyCombinations, format!("the event pattern would have more than {} `$or` combinations", MAX_COMBINATIONS),)
                                .primary(*span, format!("more than {MAX_COMBINATIONS} `$or` branches"))
                                .help("EventBridge allows at most 1000 combinations; split the route or use `in [...]`"),
                        );
                        return None;
                    }
                    let mut next = Vec::with_capacity(acc.len() * list.len());
                    for a in &acc {
                        for b in &list {
                            let mut merged = a.clone();
                            merged.extend(b.iter().cloned());
                            next.push(merged);
                        }
                    }
                    acc = next;
                }
                Some(acc)
            }
            ast::Condition::Compare(cmp) => {
                let atom = self.typed_atom(cmp, event, schema)?;
                let path = cmp.path.dotted();
                if !negate {
                    return Some(vec![vec![Term {
                        path,
                        atom,
                        span: cmp.span,
                    }]]);
                }
                match negate_atom(&atom) {
                    Ok(atoms) => Some(
                        atoms
                            .into_iter()
                            .map(|atom| {
                                vec![Term {
                                    path: path.clone(),
                                    atom,
                                    span: cmp.span,
                                }]
                            })
                            .collect(),
                    ),
                    Err(hint) => {
                        self.push(
                            Diagnostic::new(
                                Code::NotExpressible,
                                format!("EventBridge cannot negate `{}`", cmp.op.node.as_str()),
                            )
                            .primary(cmp.span, "negated here")
                            .help(hint),
                        );
                        None
                    }
                }
            }
        }
    }

    /// Type-checks one comparison and turns it into a matcher.
    fn typed_atom(&mut self, cmp: &ast::Comparison, event: &str, schema: &Schema) -> Option<Atom> {
        let resolved = match resolve_path(schema, event, &cmp.path.segments) {
            Ok(r) => r,
            Err(d) => {
                self.push(d);
                return None;
            }
        };
        let field = cmp.path.dotted();
        let ty = resolved.ty.element().clone();
        let op = cmp.op.node;
        if !ty.is_scalar() {
            let hint = match &ty {
                Type::Object => format!("compare one of its fields, e.g. `{field}.key`"),
                Type::Record(r) => match r.fields.first() {
                    Some(f) => format!("compare one of its fields, e.g. `{field}.{}`", f.name),
                    None => "compare one of its fields".to_string(),
                },
                _ => "compare a scalar field".to_string(),
            };
            self.push(
                Diagnostic::new(
                    Code::OperatorType,
                    format!("`{field}` is a {ty}, not a single value"),
                )
                .primary(cmp.path.span, "EventBridge matches only scalar values")
                .help(hint),
            );
            return None;
        }
        if let Some(ic) = cmp.ignore_case {
            let fits = matches!(
                op,
                CompareOp::Eq | CompareOp::Ne | CompareOp::StartsWith | CompareOp::EndsWith
            );
            if !fits || !ty.is_stringy() {
                self.push(
                    Diagnostic::new(Code::OperatorType, format!("`ignore_case` does not apply to `{}` here", op.as_str()))
                        .primary(ic, "not supported")
                        .help("`ignore_case` follows `==`, `!=`, `starts_with` or `ends_with` on a string field"),
                );
                return None;
            }
        }
        let ignore_case = cmp.ignore_case.is_some();
        match op {
            CompareOp::Exists => {
                if !resolved.optional {
                    self.push(
                        Diagnostic::new(
                            Code::ExistsOnRequired,
                            format!("`{field}` is always present"),
                        )
                        .primary(cmp.span, "so `exists` is always true")
                        .help(format!(
                            "remove the comparison, or declare the field optional: `{}: {}?`",
                            cmp.path.segments.last().map_or("", |s| s.node.as_str()),
                            resolved.ty
                        )),
                    );
                    return None;
                }
                Some(Atom::Exists(true))
            }
            CompareOp::Lt | CompareOp::Le | CompareOp::Gt | CompareOp::Ge => {
                if !ty.is_numeric() {
                    let hint = if ty == Type::Timestamp {
                        "EventBridge compares numbers only; add an int field with epoch milliseconds and compare that"
                    } else {
                        "numeric comparisons need an int, float or duration field; use `==`, `in` or `starts_with` on strings"
                    };
                    self.push(
                        Diagnostic::new(
                            Code::OperatorType,
                            format!("`{}` needs a number, but `{field}` is a {ty}", op.as_str()),
                        )
                        .primary(cmp.op.span, "numeric comparison")
                        .secondary(cmp.path.span, format!("this is a {ty}"))
                        .help(hint),
                    );
                    return None;
                }
                let lit = self.literal(cmp, 0, &ty, resolved.optional)?;
                let Lit::Num { text, value } = lit else {
                    return None;
                };
                let bound = |inclusive| {
                    Some(Bound {
                        value,
                        text: text.clone(),
                        inclusive,
                    })
                };
                Some(match op {
                    CompareOp::Lt => Atom::Numeric {
                        lo: None,
                        hi: bound(false),
                    },
                    CompareOp::Le => Atom::Numeric {
                        lo: None,
                        hi: bound(true),
                    },
                    CompareOp::Gt => Atom::Numeric {
                        lo: bound(false),
                        hi: None,
                    },
                    _ => Atom::Numeric {
                        lo: bound(true),
                        hi: None,
                    },
                })
            }
            CompareOp::StartsWith | CompareOp::EndsWith | CompareOp::Matches | CompareOp::Cidr => {
                let ok = if op == CompareOp::Cidr {
                    ty == Type::String
                } else {
                    ty.is_stringy()
                };
                if !ok {
                    self.push(
                        Diagnostic::new(
                            Code::OperatorType,
                            format!("`{}` needs a string, but `{field}` is a {ty}", op.as_str()),
                        )
                        .primary(cmp.op.span, "string operator")
                        .secondary(cmp.path.span, format!("this is a {ty}"))
                        .help("use `==`, `in` or a numeric comparison on non-string fields"),
                    );
                    return None;
                }
                let text = cmp.values.first().and_then(|v| match &v.node {
                    ast::Literal::String(s) => Some(s.clone()),
                    _ => None,
                })?;
                let operand_span = cmp.values.first().map_or(cmp.span, |v| v.span);
                match op {
                    CompareOp::StartsWith => Some(Atom::Prefix { text, ignore_case }),
                    CompareOp::EndsWith => Some(Atom::Suffix { text, ignore_case }),
                    CompareOp::Matches => {
                        if let Err(why) = validate_wildcard(&text) {
                            self.push(
                                Diagnostic::new(Code::InvalidOperand, format!("invalid wildcard pattern: {why}"))
                                    .primary(operand_span, "EventBridge rejects this wildcard")
                                    .help("only `*` is special; write `\\\\*` for a literal star and never `**`"),
                            );
                            return None;
                        }
                        Some(Atom::Wildcard(text))
                    }
                    _ => {
                        if let Err(why) = validate_cidr(&text) {
                            self.push(
                                Diagnostic::new(Code::InvalidOperand, format!("invalid CIDR block `{text}`: {why}"))
                                    .primary(operand_span, "EventBridge rejects this CIDR")
                                    .help("write an IPv4 or IPv6 block with a mask below 32 / 128, e.g. `10.0.0.0/24`; compare a single address with `==`"),
                            );
                            return None;
                        }
                        Some(Atom::Cidr(text))
                    }
                }
            }
            CompareOp::Eq | CompareOp::Ne | CompareOp::In | CompareOp::NotIn => {
                let mut lits = Vec::new();
                for i in 0..cmp.values.len() {
                    lits.push(self.literal(cmp, i, &ty, resolved.optional)?);
                }
                if lits.is_empty() {
                    self.push(
                        Diagnostic::new(Code::InvalidOperand, "`in` needs at least one value")
                            .primary(cmp.span, "empty list")
                            .help("list the values: `in [\"a\", \"b\"]`"),
                    );
                    return None;
                }
                let positive = matches!(op, CompareOp::Eq | CompareOp::In);
                if ignore_case {
                    let strings = lits
                        .iter()
                        .filter_map(|l| match l {
                            Lit::Str(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect();
                    return Some(if positive {
                        Atom::IgnoreCase(strings)
                    } else {
                        Atom::NotIgnoreCase(strings)
                    });
                }
                if positive {
                    return Some(Atom::Values(lits));
                }
                match negate_atom(&Atom::Values(lits)) {
                    Ok(mut atoms) if atoms.len() == 1 => atoms.pop(),
                    _ => {
                        self.push(
                            Diagnostic::new(Code::NotExpressible, format!("EventBridge cannot express `{}` with null or booleans", op.as_str()))
                                .primary(cmp.span, "`anything-but` takes only strings or numbers")
                                .help("for booleans compare with the other value (`== false`); for null use `exists` on an optional field"),
                        );
                        None
                    }
                }
            }
        }
    }

    /// The `i`-th literal of a comparison, checked against the field type.
    fn literal(
        &mut self,
        cmp: &ast::Comparison,
        i: usize,
        ty: &Type,
        optional: bool,
    ) -> Option<Lit> {
        let value = cmp.values.get(i)?;
        let field = cmp.path.dotted();
        let mismatch = |this: &mut Self, what: String, help: String| {
            this.push(
                Diagnostic::new(Code::ValueType, what)
                    .primary(value.span, format!("{} here", value.node.describe()))
                    .secondary(cmp.path.span, format!("this is a {ty}"))
                    .help(help),
            );
            None
        };
        match (&value.node, ty) {
            (ast::Literal::Null, _) if optional => Some(Lit::Null),
            (ast::Literal::Null, _) => mismatch(
                self,
                format!("`{field}` is never null"),
                "only optional fields (`T?`) can be null; compare with a value of its type"
                    .to_string(),
            ),
            (ast::Literal::String(s), Type::Union(members)) => {
                if members.contains(s) {
                    Some(Lit::Str(s.clone()))
                } else {
                    let listed: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
                    mismatch(
                        self,
                        format!("\"{s}\" is not one of the values of `{field}`"),
                        crate::diagnostic::did_you_mean(s, members.iter().map(String::as_str))
                            .unwrap_or_else(|| {
                                format!("`{field}` is one of {}", listed.join(", "))
                            }),
                    )
                }
            }
            (ast::Literal::String(s), t) if t.is_stringy() => Some(Lit::Str(s.clone())),
            (ast::Literal::Number(n), t) if t.is_numeric() => {
                if *t == Type::Int && n.value.fract() != 0.0 {
                    return mismatch(
                        self,
                        format!("`{field}` is an int, but {} is not a whole number", n.text),
                        "compare with a whole number, or declare the field as float".to_string(),
                    );
                }
                Some(Lit::Num {
                    text: n.text.clone(),
                    value: n.value,
                })
            }
            (ast::Literal::Bool(b), Type::Bool) => Some(Lit::Bool(*b)),
            (lit, t) => {
                let help = match (lit, t) {
                    (ast::Literal::Number(n), t) if t.is_stringy() => format!(
                        "quote it: `\"{}\"`; EventBridge never matches a number against a string",
                        n.text
                    ),
                    (ast::Literal::String(s), t) if t.is_numeric() => {
                        format!("write the number without quotes: `{s}`")
                    }
                    _ => format!("compare `{field}` with a {t} value"),
                };
                mismatch(
                    self,
                    format!(
                        "`{field}` is a {t}, but is compared with {}",
                        lit.describe()
                    ),
                    help,
                )
            }
        }
    }
}

/// `not atom` as a disjunction of atoms (empty: never true).
fn negate_atom(atom: &Atom) -> Result<Vec<Atom>, String> {
    let single = |a| Ok(vec![a]);
    match atom {
        Atom::Values(vs) => {
            let all_str = vs.iter().all(|v| matches!(v, Lit::Str(_)));
            let all_num = vs.iter().all(|v| matches!(v, Lit::Num { .. }));
            if all_str || all_num {
                single(Atom::NotValues(vs.clone()))
            } else {
                Err("EventBridge's `anything-but` takes only strings or numbers; for booleans compare with the other value".to_string())
            }
        }
        Atom::NotValues(vs) => single(Atom::Values(vs.clone())),
        Atom::IgnoreCase(vs) => single(Atom::NotIgnoreCase(vs.clone())),
        Atom::NotIgnoreCase(vs) => single(Atom::IgnoreCase(vs.clone())),
        Atom::Prefix { ignore_case: true, .. } | Atom::Suffix { ignore_case: true, .. } => {
            Err("EventBridge's `anything-but` cannot combine `prefix`/`suffix` with `equals-ignore-case`; negate a case-sensitive `starts_with`/`ends_with`, or list the values".to_string())
        }
        Atom::Prefix { text, .. } if text.is_empty() => Ok(Vec::new()),
        Atom::Suffix { text, .. } if text.is_empty() => Ok(Vec::new()),
        Atom::Prefix { text, .. } => single(Atom::NotPrefix(text.clone())),
        Atom::Suffix { text, .. } => single(Atom::NotSuffix(text.clone())),
        Atom::NotPrefix(t) => single(Atom::Prefix { text: t.clone(), ignore_case: false }),
        Atom::NotSuffix(t) => single(Atom::Suffix { text: t.clone(), ignore_case: false }),
        Atom::Wildcard(w) => single(Atom::NotWildcard(w.clone())),
        Atom::NotWildcard(w) => single(Atom::Wildcard(w.clone())),
        Atom::Cidr(_) => Err("EventBridge has no `anything-but` for CIDR blocks; list the allowed blocks with `cidr` and `or` instead".to_string()),
        Atom::Exists(b) => single(Atom::Exists(!b)),
        Atom::Numeric { lo, hi } => {
            let flip = |b: &Bound| Bound { value: b.value, text: b.text.clone(), inclusive: !b.inclusive };
            let mut out = Vec::new();
            if let Some(lo) = lo {
                out.push(Atom::Numeric { lo: None, hi: Some(flip(lo)) });
            }
            if let Some(hi) = hi {
                out.push(Atom::Numeric { lo: Some(flip(hi)), hi: None });
            }
            Ok(out)
        }
    }
}

/// Merges the comparisons of one conjunction field by field.
/// `Ok(None)`: they contradict each other.
fn merge_conj(conj: &Conj) -> Result<Option<BTreeMap<String, Atom>>, Inexpressible> {
    let mut fields: BTreeMap<String, (Atom, Span)> = BTreeMap::new();
    for term in conj {
        let merged = match fields.get(&term.path) {
            None => Some(term.atom.clone()),
            Some((existing, span)) => match merge(existing, &term.atom) {
                Ok(m) => m,
                Err(hint) => {
                    return Err(Inexpressible {
                        message: format!(
                            "EventBridge cannot require two different kinds of match on `{}`",
                            term.path
                        ),
                        hint,
                        span: span.to(term.span),
                    })
                }
            },
        };
        match merged {
            Some(atom) => {
                let span = fields
                    .get(&term.path)
                    .map_or(term.span, |(_, s)| s.to(term.span));
                fields.insert(term.path.clone(), (atom, span));
            }
            None => return Ok(None),
        }
    }
    Ok(Some(fields.into_iter().map(|(k, (a, _))| (k, a)).collect()))
}

/// `a and b` on one field. `Ok(None)`: never true. `Err`: a rewrite hint.
fn merge(a: &Atom, b: &Atom) -> Result<Option<Atom>, String> {
    use Atom::*;
    if a == b {
        return Ok(Some(a.clone()));
    }
    Ok(match (a, b) {
        (Exists(false), _) | (_, Exists(false)) => None,
        (Exists(true), x) | (x, Exists(true)) => Some(x.clone()),
        (Values(x), Values(y)) => {
            let both: Vec<Lit> = x.iter().filter(|v| y.iter().any(|w| v.same(w))).cloned().collect();
            (!both.is_empty()).then_some(Values(both))
        }
        (Values(vs), other) | (other, Values(vs)) => {
            let kept: Vec<Lit> = vs.iter().filter(|v| accepts(other, v)).cloned().collect();
            (!kept.is_empty()).then_some(Values(kept))
        }
        (Numeric { lo: l1, hi: h1 }, Numeric { lo: l2, hi: h2 }) => {
            let lo = tighter(l1, l2, true);
            let hi = tighter(h1, h2, false);
            numeric_range(lo, hi)
        }
        (NotValues(x), NotValues(y)) => {
            let same_kind = matches!((x.first(), y.first()), (Some(Lit::Str(_)), Some(Lit::Str(_))) | (Some(Lit::Num { .. }), Some(Lit::Num { .. })));
            if !same_kind {
                return Err("exclude values of one type only".to_string());
            }
            let mut all = x.clone();
            all.extend(y.iter().filter(|v| !x.iter().any(|w| w.same(v))).cloned());
            Some(NotValues(all))
        }
        (NotIgnoreCase(x), NotIgnoreCase(y)) => {
            let mut all = x.clone();
            all.extend(y.iter().cloned());
            Some(NotIgnoreCase(all))
        }
        (Prefix { text: p, ignore_case: i1 }, Prefix { text: q, ignore_case: i2 }) if i1 == i2 => {
            let (p2, q2) = if *i1 { (p.to_lowercase(), q.to_lowercase()) } else { (p.clone(), q.clone()) };
            if p2.starts_with(&q2) {
                Some(a.clone())
            } else if q2.starts_with(&p2) {
                Some(b.clone())
            } else {
                None
            }
        }
        (Suffix { text: p, ignore_case: i1 }, Suffix { text: q, ignore_case: i2 }) if i1 == i2 => {
            let (p2, q2) = if *i1 { (p.to_lowercase(), q.to_lowercase()) } else { (p.clone(), q.clone()) };
            if p2.ends_with(&q2) {
                Some(a.clone())
            } else if q2.ends_with(&p2) {
                Some(b.clone())
            } else {
                None
            }
        }
        (Prefix { text: p, ignore_case: false }, Suffix { text: s, ignore_case: false })
        | (Suffix { text: s, ignore_case: false }, Prefix { text: p, ignore_case: false }) => {
            return Err(format!(
                "use one wildcard instead: `matches \"{}*{}\"`",
                escape_wildcard(p),
                escape_wildcard(s)
            ))
        }
        (Numeric { .. }, NotValues(_)) | (NotValues(_), Numeric { .. }) => {
            return Err("split the range around the excluded values, e.g. `x > 0 and x < 5 or x > 5`".to_string())
        }
        _ => {
            return Err("EventBridge applies one matcher per field in each branch; combine them into one comparison, or split the route".to_string())
        }
    })
}

fn tighter(a: &Option<Bound>, b: &Option<Bound>, lower: bool) -> Option<Bound> {
    match (a, b) {
        (None, x) | (x, None) => x.clone(),
        (Some(x), Some(y)) => {
            let pick_x = if x.value == y.value {
                !x.inclusive
            } else if lower {
                x.value > y.value
            } else {
                x.value < y.value
            };
            Some(if pick_x { x.clone() } else { y.clone() })
        }
    }
}

/// A range as an atom: empty → `None`; a single point → an exact number
/// (EventBridge rejects `>= 5, <= 5`).
fn numeric_range(lo: Option<Bound>, hi: Option<Bound>) -> Option<Atom> {
    if let (Some(l), Some(h)) = (&lo, &hi) {
        if l.value > h.value {
            return None;
        }
        if l.value == h.value {
            return (l.inclusive && h.inclusive).then(|| {
                Atom::Values(vec![Lit::Num {
                    text: l.text.clone(),
                    value: l.value,
                }])
            });
        }
    }
    Some(Atom::Numeric { lo, hi })
}

/// Whether `atom` holds for the scalar `lit` (EventBridge semantics).
fn accepts(atom: &Atom, lit: &Lit) -> bool {
    let text = match lit {
        Lit::Str(s) => Some(s.as_str()),
        _ => None,
    };
    match atom {
        Atom::Values(vs) => vs.iter().any(|v| v.same(lit)),
        Atom::IgnoreCase(vs) => text.is_some_and(|t| vs.iter().any(|v| fold(v) == fold(t))),
        Atom::Prefix {
            text: p,
            ignore_case,
        } => text.is_some_and(|t| {
            if *ignore_case {
                fold(t).starts_with(&fold(p))
            } else {
                t.starts_with(p.as_str())
            }
        }),
        Atom::Suffix {
            text: s,
            ignore_case,
        } => text.is_some_and(|t| {
            if *ignore_case {
                fold(t).ends_with(&fold(s))
            } else {
                t.ends_with(s.as_str())
            }
        }),
        Atom::Wildcard(w) => text.is_some_and(|t| wildcard_match(w, t)),
        Atom::Cidr(c) => text.is_some_and(|t| cidr_contains(c, t)),
        Atom::Numeric { lo, hi } => match lit {
            Lit::Num { value, .. } => {
                lo.as_ref().is_none_or(|b| {
                    if b.inclusive {
                        *value >= b.value
                    } else {
                        *value > b.value
                    }
                }) && hi.as_ref().is_none_or(|b| {
                    if b.inclusive {
                        *value <= b.value
                    } else {
                        *value < b.value
                    }
                })
            }
            _ => false,
        },
        Atom::Exists(b) => *b,
        Atom::NotValues(vs) => !vs.iter().any(|v| v.same(lit)),
        Atom::NotIgnoreCase(vs) => !text.is_some_and(|t| vs.iter().any(|v| fold(v) == fold(t))),
        Atom::NotPrefix(p) => !text.is_some_and(|t| t.starts_with(p.as_str())),
        Atom::NotSuffix(s) => !text.is_some_and(|t| t.ends_with(s.as_str())),
        Atom::NotWildcard(w) => !text.is_some_and(|t| wildcard_match(w, t)),
    }
}

/// Simple per-character case folding, as EventBridge does.
fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// Joins branches that differ in one field into one leaf array, then hoists
/// fields every branch shares.
fn combine_branches(
    mut branches: Vec<BTreeMap<String, Vec<Atom>>>,
) -> Vec<BTreeMap<String, Vec<Atom>>> {
    branches.dedup();
    let mut changed = true;
    while changed {
        changed = false;
        'outer: for i in 0..branches.len() {
            for j in (i + 1)..branches.len() {
                if let Some(merged) = join_one_field(&branches[i], &branches[j]) {
                    branches[i] = merged;
                    branches.remove(j);
                    changed = true;
                    break 'outer;
                }
            }
        }
    }
    branches
}

fn join_one_field(
    a: &BTreeMap<String, Vec<Atom>>,
    b: &BTreeMap<String, Vec<Atom>>,
) -> Option<BTreeMap<String, Vec<Atom>>> {
    if a == b {
        return Some(a.clone());
    }
    if a.len() != b.len() || a.keys().ne(b.keys()) {
        return None;
    }
    let differing: Vec<&String> = a.keys().filter(|k| a.get(*k) != b.get(*k)).collect();
    let [field] = differing.as_slice() else {
        return None;
    };
    let mut merged = a.clone();
    if let (Some(leaf), Some(extra)) = (merged.get_mut(*field), b.get(*field)) {
        for atom in extra {
            if !leaf.contains(atom) {
                leaf.push(atom.clone());
            }
        }
    }
    Some(merged)
}

/// The `detail` part of the pattern; `None` when nothing is constrained.
fn to_detail_pattern(branches: Vec<BTreeMap<String, Vec<Atom>>>) -> Option<Value> {
    let mut common: BTreeMap<String, Vec<Atom>> = BTreeMap::new();
    if let Some(first) = branches.first() {
        for (k, v) in first {
            if branches.iter().all(|b| b.get(k) == Some(v)) {
                common.insert(k.clone(), v.clone());
            }
        }
    }
    let rest: Vec<BTreeMap<String, Vec<Atom>>> = branches
        .into_iter()
        .map(|b| {
            b.into_iter()
                .filter(|(k, _)| !common.contains_key(k))
                .collect()
        })
        .collect();
    let mut root = Map::new();
    for (path, leaf) in &common {
        insert_leaf(&mut root, path, leaf);
    }
    // A branch with nothing left makes the disjunction always true.
    if rest.len() > 1 && rest.iter().all(|b| !b.is_empty()) {
        let alternatives: Vec<Value> = rest
            .iter()
            .map(|b| {
                let mut obj = Map::new();
                for (path, leaf) in b {
                    insert_leaf(&mut obj, path, leaf);
                }
                Value::Object(obj)
            })
            .collect();
        root.insert("$or".to_string(), Value::Array(alternatives));
    }
    (!root.is_empty()).then_some(Value::Object(root))
}

fn insert_leaf(root: &mut Map<String, Value>, path: &str, leaf: &[Atom]) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else {
        return;
    };
    let mut node = root;
    for part in parts {
        let entry = node
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else {
            return;
        };
        node = next;
    }
    node.insert(
        last.to_string(),
        Value::Array(leaf.iter().flat_map(matchers).collect()),
    );
}

/// The EventBridge matchers of one atom (values expand to one each).
fn matchers(atom: &Atom) -> Vec<Value> {
    let strings = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
    match atom {
        Atom::Values(vs) => vs.iter().map(Lit::to_json).collect(),
        Atom::IgnoreCase(vs) => vs
            .iter()
            .map(|v| json!({ "equals-ignore-case": v }))
            .collect(),
        Atom::Prefix {
            text,
            ignore_case: false,
        } => vec![json!({ "prefix": text })],
        Atom::Prefix {
            text,
            ignore_case: true,
        } => vec![json!({ "prefix": { "equals-ignore-case": text } })],
        Atom::Suffix {
            text,
            ignore_case: false,
        } => vec![json!({ "suffix": text })],
        Atom::Suffix {
            text,
            ignore_case: true,
        } => vec![json!({ "suffix": { "equals-ignore-case": text } })],
        Atom::Wildcard(w) => vec![json!({ "wildcard": w })],
        Atom::Cidr(c) => vec![json!({ "cidr": c })],
        Atom::Numeric { lo, hi } => {
            let mut ops = Vec::new();
            if let Some(l) = lo {
                ops.push(json!(if l.inclusive { ">=" } else { ">" }));
                ops.push(
                    Lit::Num {
                        text: l.text.clone(),
                        value: l.value,
                    }
                    .to_json(),
                );
            }
            if let Some(h) = hi {
                ops.push(json!(if h.inclusive { "<=" } else { "<" }));
                ops.push(
                    Lit::Num {
                        text: h.text.clone(),
                        value: h.value,
                    }
                    .to_json(),
                );
            }
            vec![json!({ "numeric": ops })]
        }
        Atom::Exists(b) => vec![json!({ "exists": b })],
        Atom::NotValues(vs) => {
            vec![json!({ "anything-but": vs.iter().map(Lit::to_json).collect::<Vec<_>>() })]
        }
        Atom::NotIgnoreCase(vs) => {
            vec![json!({ "anything-but": { "equals-ignore-case": strings(vs) } })]
        }
        Atom::NotPrefix(p) => vec![json!({ "anything-but": { "prefix": p } })],
        Atom::NotSuffix(s) => vec![json!({ "anything-but": { "suffix": s } })],
        Atom::NotWildcard(w) => vec![json!({ "anything-but": { "wildcard": w } })],
    }
}

fn escape_wildcard(s: &str) -> String {
    s.replace('\\', "\\\\").replace('*', "\\*")
}

/// EventBridge's wildcard rules: no `**`; `\` only before `*` or `\`.
pub(crate) fn validate_wildcard(w: &str) -> Result<(), &'static str> {
    let mut chars = w.chars().peekable();
    let mut prev_star = false;
    while let Some(c) = chars.next() {
        match c {
            '*' if prev_star => return Err("`**` is not allowed"),
            '*' => prev_star = true,
            '\\' => {
                match chars.next() {
                    Some('*') | Some('\\') => {}
                    Some(_) => return Err("`\\` may only escape `*` or `\\`"),
                    None => return Err("the pattern ends with `\\`"),
                }
                prev_star = false;
            }
            _ => prev_star = false,
        }
    }
    Ok(())
}

/// Matches `text` against a validated wildcard (`*` = any run of characters).
fn wildcard_match(pattern: &str, text: &str) -> bool {
    // Tokens: literal characters or a star.
    let mut tokens: Vec<Option<char>> = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => tokens.push(None),
            '\\' => tokens.extend(chars.next().map(Some)),
            c => tokens.push(Some(c)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Some(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(None) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p.min(tokens.len())..].iter().all(Option::is_none)
}

/// EventBridge's CIDR rules: a mask is required and must be below 32 / 128.
pub(crate) fn validate_cidr(c: &str) -> Result<(), &'static str> {
    parse_cidr(c).map(|_| ())
}

enum Block {
    V4(u32, u32),
    V6(u128, u32),
}

fn parse_cidr(c: &str) -> Result<Block, &'static str> {
    let (addr, mask) = c.split_once('/').ok_or("a `/mask` is required")?;
    let mask: u32 = mask.parse().map_err(|_| "the mask is not a number")?;
    if let Ok(v4) = addr.parse::<Ipv4Addr>() {
        if mask >= 32 {
            return Err("the IPv4 mask must be below 32");
        }
        return Ok(Block::V4(u32::from(v4), mask));
    }
    if let Ok(v6) = addr.parse::<Ipv6Addr>() {
        if mask >= 128 {
            return Err("the IPv6 mask must be below 128");
        }
        return Ok(Block::V6(u128::from(v6), mask));
    }
    Err("not an IPv4 or IPv6 address")
}

fn cidr_contains(block: &str, addr: &str) -> bool {
    match parse_cidr(block) {
        Ok(Block::V4(net, mask)) => addr.parse::<Ipv4Addr>().is_ok_and(|a| {
            let m = if mask == 0 {
                0
            } else {
                u32::MAX << (32 - mask)
            };
            (u32::from(a) & m) == (net & m)
        }),
        Ok(Block::V6(net, mask)) => addr.parse::<Ipv6Addr>().is_ok_and(|a| {
            let m = if mask == 0 {
                0
            } else {
                u128::MAX << (128 - mask)
            };
            (u128::from(a) & m) == (net & m)
        }),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matching_follows_eventbridge() {
        assert!(wildcard_match("dir/*.png", "dir/a.png"));
        assert!(wildcard_match("dir/*.png", "dir/.png"));
        assert!(!wildcard_match("dir/*.png", "dir/a.png.1"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "a"));
        assert!(wildcard_match("a\\*b", "a*b"));
        assert!(!wildcard_match("a\\*b", "axb"));
        assert!(validate_wildcard("a**").is_err());
        assert!(validate_wildcard("a\\b").is_err());
        assert!(validate_wildcard("a\\").is_err());
    }

    #[test]
    fn cidr_rules() {
        assert!(validate_cidr("10.0.0.0/24").is_ok());
        assert!(validate_cidr("10.0.0.77/24").is_ok());
        assert!(validate_cidr("10.0.0.0/32").is_err());
        assert!(validate_cidr("2001:db8::/32").is_ok());
        assert!(validate_cidr("2001:db8::/128").is_err());
        assert!(validate_cidr("10.0.0.0").is_err());
        assert!(cidr_contains("10.0.0.0/24", "10.0.0.255"));
        assert!(!cidr_contains("10.0.0.0/24", "10.0.1.0"));
    }

    #[test]
    fn ranges_intersect_and_collapse_to_points() {
        let b = |v: f64, inclusive| {
            Some(Bound {
                value: v,
                text: v.to_string(),
                inclusive,
            })
        };
        assert_eq!(numeric_range(b(5.0, false), b(2.0, false)), None);
        assert_eq!(numeric_range(b(5.0, true), b(5.0, false)), None);
        assert!(matches!(
            numeric_range(b(5.0, true), b(5.0, true)),
            Some(Atom::Values(_))
        ));
    }
}

#[cfg(test)]
mod pattern_tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use crate::diagnostic::Code;
    use crate::{check, CheckOptions, SourceSet};

    const EVENT: &str = r#"
event Order {
  source "shop"
  detail_type "order.placed"
  profile { user: string, ip: string }
  data { status: string, total: float, qty: int, note: string?, kind: "a" | "b" | "c",
         tags: list<string>, paid: bool, items: list<{ sku: string, n: int }> }
}
trigger In = sdk -> Order
filter Count = counter(Order) { key profile.user every 10 events emit Counted }
app Shop { nodes Count sink S = s3(Counted) { key "x/{{profile.user}}.json" } }
"#;

    /// The `detail` pattern of the route `route Order -> Count when <cond>`,
    /// or the error codes.
    fn detail(cond: &str) -> Result<serde_json::Value, Vec<Code>> {
        let text = format!("{EVENT}\nroute Order -> Count when {cond}\n");
        let checked = check(
            &SourceSet::single("t.flow", text),
            &CheckOptions {
                project: "t".into(),
            },
        );
        let errors: Vec<Code> = checked.diagnostics.iter().map(|d| d.code).collect();
        let Some(model) = checked.model else {
            return Err(errors);
        };
        let route = model.routes.iter().find(|r| !r.implicit).unwrap();
        assert_eq!(route.pattern["source"], json!(["shop"]));
        assert_eq!(route.pattern["detail-type"], json!(["order.placed"]));
        Ok(route.pattern.get("detail").cloned().unwrap_or(json!(null)))
    }

    #[test]
    fn comparisons_map_to_eventbridge_operators() {
        assert_eq!(
            detail(r#"data.status == "PAID""#).unwrap(),
            json!({"data": {"status": ["PAID"]}})
        );
        assert_eq!(
            detail(r#"data.status != "PAID""#).unwrap(),
            json!({"data": {"status": [{"anything-but": ["PAID"]}]}})
        );
        assert_eq!(
            detail(r#"data.status == "paid" ignore_case"#).unwrap(),
            json!({"data": {"status": [{"equals-ignore-case": "paid"}]}})
        );
        assert_eq!(
            detail(r#"data.status starts_with "p" ignore_case"#).unwrap(),
            json!({"data": {"status": [{"prefix": {"equals-ignore-case": "p"}}]}})
        );
        assert_eq!(
            detail(r#"data.status ends_with ".png""#).unwrap(),
            json!({"data": {"status": [{"suffix": ".png"}]}})
        );
        assert_eq!(
            detail(r#"data.status matches "a*b""#).unwrap(),
            json!({"data": {"status": [{"wildcard": "a*b"}]}})
        );
        assert_eq!(
            detail(r#"profile.ip cidr "10.0.0.0/24""#).unwrap(),
            json!({"profile": {"ip": [{"cidr": "10.0.0.0/24"}]}})
        );
        assert_eq!(
            detail("data.note exists").unwrap(),
            json!({"data": {"note": [{"exists": true}]}})
        );
        assert_eq!(
            detail("not data.note exists").unwrap(),
            json!({"data": {"note": [{"exists": false}]}})
        );
        assert_eq!(
            detail("data.total > 1 and data.total <= 5").unwrap(),
            json!({"data": {"total": [{"numeric": [">", 1, "<=", 5]}]}})
        );
        assert_eq!(
            detail("data.qty in [1, 2]").unwrap(),
            json!({"data": {"qty": [1, 2]}})
        );
        assert_eq!(
            detail(r#"data.kind not in ["a", "b"]"#).unwrap(),
            json!({"data": {"kind": [{"anything-but": ["a", "b"]}]}})
        );
        assert_eq!(
            detail("data.paid == true").unwrap(),
            json!({"data": {"paid": [true]}})
        );
        assert_eq!(
            detail("data.note == null").unwrap(),
            json!({"data": {"note": [null]}})
        );
        assert_eq!(
            detail(r#"data.tags == "x""#).unwrap(),
            json!({"data": {"tags": ["x"]}})
        );
        assert_eq!(
            detail(r#"data.items.sku == "A" and data.items.n > 2"#).unwrap(),
            json!({"data": {"items": {"sku": ["A"], "n": [{"numeric": [">", 2]}]}}})
        );
    }

    #[test]
    fn not_is_pushed_down() {
        assert_eq!(
            detail("not (data.total > 5)").unwrap(),
            json!({"data": {"total": [{"numeric": ["<=", 5]}]}})
        );
        assert_eq!(
            detail(r#"not (data.status starts_with "x")"#).unwrap(),
            json!({"data": {"status": [{"anything-but": {"prefix": "x"}}]}})
        );
        assert_eq!(
            detail(r#"not (data.status == "a" or data.status == "b")"#).unwrap(),
            json!({"data": {"status": [{"anything-but": ["a", "b"]}]}})
        );
        assert_eq!(
            detail("not (data.total > 1 and data.total < 5)").unwrap(),
            json!({"data": {"total": [{"numeric": ["<=", 1]}, {"numeric": [">=", 5]}]}})
        );
    }

    #[test]
    fn or_on_one_field_is_one_leaf_and_across_fields_is_dollar_or() {
        assert_eq!(
            detail(r#"data.status == "a" or data.status starts_with "b""#).unwrap(),
            json!({"data": {"status": ["a", {"prefix": "b"}]}})
        );
        assert_eq!(
            detail(r#"data.qty == 1 and (data.status == "a" or data.total > 3)"#).unwrap(),
            json!({"data": {"qty": [1]}, "$or": [{"data": {"status": ["a"]}}, {"data": {"total": [{"numeric": [">", 3]}]}}]})
        );
        // Absorption: `a or (a and b)` is `a`.
        assert_eq!(
            detail(r#"data.qty == 1 or (data.qty == 1 and data.status == "x")"#).unwrap(),
            json!({"data": {"qty": [1]}})
        );
    }

    #[test]
    fn equal_bounds_become_an_exact_number() {
        assert_eq!(
            detail("data.total >= 5 and data.total <= 5").unwrap(),
            json!({"data": {"total": [5]}})
        );
        assert_eq!(
            detail("data.qty == 3 and data.qty > 1").unwrap(),
            json!({"data": {"qty": [3]}})
        );
    }

    #[test]
    fn contradictions_and_inexpressible_conditions() {
        assert_eq!(
            detail(r#"data.status == "a" and data.status == "b""#),
            Err(vec![Code::NeverMatches])
        );
        assert_eq!(
            detail("data.total > 5 and data.total < 2"),
            Err(vec![Code::NeverMatches])
        );
        assert_eq!(
            detail(r#"data.status starts_with "a" and data.status starts_with "b""#),
            Err(vec![Code::NeverMatches])
        );
        assert_eq!(
            detail(r#"data.status starts_with "a" and data.status ends_with "b""#),
            Err(vec![Code::NotExpressible])
        );
        assert_eq!(
            detail(r#"not (profile.ip cidr "10.0.0.0/8")"#),
            Err(vec![Code::NotExpressible])
        );
        assert_eq!(
            detail("data.total > 1 and data.total != 5"),
            Err(vec![Code::NotExpressible])
        );
        assert_eq!(detail("data.paid != true"), Err(vec![Code::NotExpressible]));
        let warned =
            detail(r#"data.qty == 1 or (data.status == "a" and data.status == "b")"#).unwrap();
        assert_eq!(warned, json!({"data": {"qty": [1]}}));
    }

    #[test]
    fn operators_must_fit_types() {
        assert_eq!(detail("data.status > 5"), Err(vec![Code::OperatorType]));
        assert_eq!(detail(r#"data.total == "5""#), Err(vec![Code::ValueType]));
        assert_eq!(detail("data.qty == 1.5"), Err(vec![Code::ValueType]));
        assert_eq!(detail(r#"data.kind == "d""#), Err(vec![Code::ValueType]));
        assert_eq!(
            detail("data.status exists"),
            Err(vec![Code::ExistsOnRequired])
        );
        assert_eq!(
            detail(r#"data.qty starts_with "1""#),
            Err(vec![Code::OperatorType])
        );
        assert_eq!(
            detail(r#"profile.ip cidr "10.0.0.0/32""#),
            Err(vec![Code::InvalidOperand])
        );
        assert_eq!(
            detail(r#"data.status matches "a**""#),
            Err(vec![Code::InvalidOperand])
        );
        assert_eq!(detail("data.status == null"), Err(vec![Code::ValueType]));
        assert_eq!(
            detail(r#"data.items == "x""#),
            Err(vec![Code::OperatorType])
        );
        assert_eq!(
            detail(r#"data.stauts == "x""#),
            Err(vec![Code::UnknownField])
        );
    }
}
