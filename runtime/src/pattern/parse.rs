//! Pattern validation and compilation.
//!
//! Input: a [`Json`] tree (number text and duplicate keys preserved).
//! Output: the pattern's [`Field`]s and its conjunctions (`$or` expanded),
//! or the first [`PatternError`] in document order. Rejects exactly what
//! EventBridge (event-ruler) rejects; see /work/shared/eventbridge-patterns.md.
//!
//! Duplicate keys: a repeated leaf key keeps the last definition; repeated
//! object keys are merged (recursively, with the same rules); a repeated
//! `$or` keeps the last one. Every definition is validated, kept or not.

use super::cidr::{parse_ip, Cidr};
use super::json::{render_str, Json};
use super::matcher::{Field, Matcher};
use super::number::{Num, Range};
use super::wildcard::{fold_str, Wildcard};
use super::{PatternError, PatternErrorKind as K};

/// Most `$or` combinations a pattern may have.
pub(crate) const MAX_COMBINATIONS: u64 = 1000;

/// Operator words, rejected as field names inside `$or` branches.
const KEYWORDS: &[&str] = &[
    "prefix",
    "suffix",
    "anything-but",
    "numeric",
    "exists",
    "cidr",
    "equals-ignore-case",
    "wildcard",
    "=",
    "<",
    "<=",
    ">",
    ">=",
];

/// A validated pattern: fields and the conjunctions that use them.
pub(crate) struct Compiled {
    pub(crate) fields: Vec<Field>,
    pub(crate) conjs: Vec<Vec<u32>>,
}

/// One object of the pattern after duplicate merging.
#[derive(Default)]
struct PObj {
    fields: Vec<u32>,
    children: Vec<PObj>,
    or: Option<Vec<PObj>>,
}

fn err(kind: K, reason: impl Into<String>, path: &str) -> PatternError {
    PatternError {
        kind,
        reason: reason.into(),
        path: (!path.is_empty()).then(|| path.to_string()),
    }
}

fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

/// Validates and compiles a whole pattern.
pub(crate) fn compile(root: &Json) -> Result<Compiled, PatternError> {
    let Json::Obj(entries) = root else {
        return Err(err(K::Structure, "Event pattern must be a JSON object", ""));
    };
    let mut fields = Vec::new();
    let obj = build_obj(&mut fields, entries, &[], "", false)?;
    let combos = count(&obj);
    if combos > MAX_COMBINATIONS {
        return Err(err(
            K::TooManyCombinations,
            format!("The event pattern has {combos} $or combinations; at most {MAX_COMBINATIONS} are allowed"),
            "",
        ));
    }
    let conjs = expand(&obj);
    Ok(Compiled { fields, conjs })
}

fn count(o: &PObj) -> u64 {
    let mut n: u64 = 1;
    for c in &o.children {
        n = n.saturating_mul(count(c));
    }
    if let Some(branches) = &o.or {
        n = n.saturating_mul(branches.len() as u64);
        for b in branches {
            n = n.saturating_mul(count(b));
        }
    }
    n.min(u64::MAX / 2)
}

fn cross(a: Vec<Vec<u32>>, b: &[Vec<u32>]) -> Vec<Vec<u32>> {
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in &a {
        for y in b {
            let mut v = x.clone();
            v.extend_from_slice(y);
            out.push(v);
        }
    }
    out
}

fn expand(o: &PObj) -> Vec<Vec<u32>> {
    let mut acc = vec![o.fields.clone()];
    for c in &o.children {
        acc = cross(acc, &expand(c));
    }
    if let Some(branches) = &o.or {
        let alts: Vec<Vec<u32>> = branches.iter().flat_map(expand).collect();
        acc = cross(acc, &alts);
    }
    acc
}

fn build_obj(
    fields: &mut Vec<Field>,
    entries: &[(String, Json)],
    prefix: &[Box<str>],
    epath: &str,
    in_or: bool,
) -> Result<PObj, PatternError> {
    if entries.is_empty() {
        return Err(err(K::Structure, "Empty objects are not allowed", epath));
    }
    // Group values by key, first-seen order.
    let mut groups: Vec<(&str, Vec<&Json>)> = Vec::new();
    for (k, v) in entries {
        match groups.iter_mut().find(|(g, _)| g == k) {
            Some((_, vs)) => vs.push(v),
            None => groups.push((k, vec![v])),
        }
    }
    let mut obj = PObj::default();
    for (key, values) in groups {
        let here = join(epath, key);
        if values.len() > 1 {
            // Validate every definition on its own, then build the merge.
            let mut scratch = Vec::new();
            for v in &values {
                build_value(
                    &mut scratch,
                    &mut PObj::default(),
                    key,
                    v,
                    prefix,
                    &here,
                    in_or,
                )?;
            }
        }
        let merged;
        let value = match values.split_last() {
            Some((last, rest))
                if rest.is_empty() || key == "$or" || !matches!(last, Json::Obj(_)) =>
            {
                *last
            }
            _ => {
                // Merge the trailing run of object definitions.
                let mut all = Vec::new();
                for v in values.iter().rev() {
                    match v {
                        Json::Obj(e) => all.splice(0..0, e.iter().cloned()),
                        _ => break,
                    };
                }
                merged = Json::Obj(all);
                &merged
            }
        };
        build_value(fields, &mut obj, key, value, prefix, &here, in_or)?;
    }
    Ok(obj)
}

fn build_value(
    fields: &mut Vec<Field>,
    obj: &mut PObj,
    key: &str,
    value: &Json,
    prefix: &[Box<str>],
    here: &str,
    in_or: bool,
) -> Result<(), PatternError> {
    if key == "$or" {
        let Json::Arr(items) = value else {
            return Err(err(K::Or, "Value of $or must be an array", here));
        };
        if items.len() < 2 {
            return Err(err(K::Or, "$or must have at least two branches", here));
        }
        let mut branches = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = format!("{here}[{i}]");
            let Json::Obj(e) = item else {
                return Err(err(K::Or, "Each $or branch must be an object", &at));
            };
            branches.push(build_obj(fields, e, prefix, &at, true)?);
        }
        obj.or = Some(branches);
        return Ok(());
    }
    if in_or && KEYWORDS.contains(&key) {
        return Err(err(
            K::Or,
            format!("\"{key}\" is an operator and cannot be a field name inside $or"),
            here,
        ));
    }
    let mut path = prefix.to_vec();
    path.extend(key.split('.').map(Box::from));
    match value {
        Json::Arr(items) => obj.fields.push(build_leaf(fields, items, path, here)?),
        Json::Obj(e) => obj.children.push(build_obj(fields, e, &path, here, in_or)?),
        _ => {
            return Err(err(
                K::Structure,
                "Match value must be an array of matchers or an object",
                here,
            ))
        }
    }
    Ok(())
}

fn build_leaf(
    fields: &mut Vec<Field>,
    items: &[Json],
    path: Vec<Box<str>>,
    here: &str,
) -> Result<u32, PatternError> {
    if items.is_empty() {
        return Err(err(K::Structure, "Empty arrays are not allowed", here));
    }
    let mut matchers = Vec::with_capacity(items.len());
    let mut exists_false = false;
    for (i, item) in items.iter().enumerate() {
        let at = format!("{here}[{i}]");
        let m = match item {
            Json::Str(s) => Matcher::Str(s.as_str().into(), parse_ip(s)),
            Json::Num(t) => Matcher::Num(Num::from_text(t)),
            Json::Bool(b) => Matcher::Bool(*b),
            Json::Null => Matcher::Null,
            Json::Arr(_) => {
                return Err(err(
                    K::Structure,
                    "Arrays are not allowed inside a match array",
                    &at,
                ))
            }
            Json::Obj(e) => match match_object(e, &at)? {
                Some(m) => m,
                None => {
                    exists_false = true;
                    continue;
                }
            },
        };
        matchers.push(m);
    }
    let id = fields.len() as u32;
    fields.push(Field {
        path: path.into_boxed_slice(),
        path_id: 0,
        matchers,
        exists_false,
        display: Json::Arr(items.to_vec()).render(),
    });
    Ok(id)
}

/// Parses a match object; `None` stands for `{"exists": false}`.
fn match_object(e: &[(String, Json)], at: &str) -> Result<Option<Matcher>, PatternError> {
    let (op, v) = match e {
        [] => return Err(err(K::Operator, "Empty objects are not allowed", at)),
        [one] => (one.0.as_str(), &one.1),
        _ => {
            return Err(err(
                K::Operator,
                "Only one key allowed in match expression",
                at,
            ))
        }
    };
    let at = join(at, op);
    let at = at.as_str();
    let m = match (op, v) {
        ("prefix" | "suffix", Json::Str(s)) => {
            let s: Box<str> = s.as_str().into();
            if op == "prefix" {
                Matcher::Prefix(s)
            } else {
                Matcher::Suffix(s)
            }
        }
        ("prefix" | "suffix", Json::Obj(inner)) => match inner.as_slice() {
            [(k, Json::Str(s))] if k == "equals-ignore-case" => {
                let f = fold_str(s).into_boxed_str();
                if op == "prefix" {
                    Matcher::PrefixIc(f)
                } else {
                    Matcher::SuffixIc(f)
                }
            }
            _ => {
                return Err(err(
                    K::Operand,
                    format!("Value of {op} must be a string or {{\"equals-ignore-case\": string}}"),
                    at,
                ))
            }
        },
        ("equals-ignore-case", Json::Str(s)) => Matcher::EqIc(fold_str(s).into_boxed_str()),
        ("wildcard", Json::Str(s)) => {
            Matcher::Wildcard(Wildcard::parse(s).map_err(|r| err(K::Wildcard, r, at))?)
        }
        ("cidr", Json::Str(s)) => Matcher::Cidr(Cidr::parse(s).map_err(|r| err(K::Cidr, r, at))?),
        ("prefix" | "suffix" | "equals-ignore-case" | "wildcard" | "cidr", _) => {
            return Err(err(
                K::Operand,
                format!("Value of {op} must be a string"),
                at,
            ))
        }
        ("exists", Json::Bool(true)) => Matcher::Exists,
        ("exists", Json::Bool(false)) => return Ok(None),
        ("exists", _) => {
            return Err(err(
                K::Exists,
                "exists match pattern must be either true or false",
                at,
            ))
        }
        ("numeric", _) => Matcher::Numeric(numeric(v, at)?),
        ("anything-but", _) => anything_but(v, at)?,
        _ => {
            let mut name = String::new();
            render_str(op, &mut name);
            return Err(err(
                K::Operator,
                format!("Unrecognized match type {name}"),
                at,
            ));
        }
    };
    Ok(Some(m))
}

fn numeric(v: &Json, at: &str) -> Result<Range, PatternError> {
    let e = |r: &str| err(K::Numeric, r, at);
    let Json::Arr(items) = v else {
        return Err(e("Value of numeric must be an array"));
    };
    if items.is_empty() {
        return Err(e("Empty numeric range"));
    }
    let mut terms: Vec<(&str, f64)> = Vec::new();
    let mut it = items.iter();
    while let Some(op) = it.next() {
        let op = match op {
            Json::Str(s) if matches!(s.as_str(), "=" | "<" | "<=" | ">" | ">=") => s.as_str(),
            _ => {
                return Err(e(
                    "Unrecognized numeric range operator (use =, <, <=, >, >=)",
                ))
            }
        };
        let bound = match it.next() {
            None => return Err(e("Missing value after numeric range operator")),
            Some(Json::Num(t)) => Num::from_text(t).f.ok_or_else(|| {
                e("Value of numeric comparison is not exactly representable as a binary64 number")
            })?,
            Some(_) => return Err(e("Value of numeric comparison must be a number")),
        };
        terms.push((op, bound));
        if terms.len() > 2 {
            return Err(e("Too many terms in numeric range"));
        }
    }
    let bound = |op: &str, b: f64| (b, op.len() == 2);
    match terms.as_slice() {
        [("=", b)] => Ok(Range {
            lo: Some((*b, true)),
            hi: Some((*b, true)),
        }),
        [(op @ (">" | ">="), b)] => Ok(Range {
            lo: Some(bound(op, *b)),
            hi: None,
        }),
        [(op, b)] => Ok(Range {
            lo: None,
            hi: Some(bound(op, *b)),
        }),
        [(lo @ (">" | ">="), l), (hi @ ("<" | "<="), h)] => {
            if l >= h {
                return Err(e("Bottom must be less than top in numeric range"));
            }
            Ok(Range {
                lo: Some(bound(lo, *l)),
                hi: Some(bound(hi, *h)),
            })
        }
        _ => Err(e(
            "Bad numeric range: give the lower bound (> or >=) first, then the upper bound (< or <=)",
        )),
    }
}

fn anything_but(v: &Json, at: &str) -> Result<Matcher, PatternError> {
    let e = |r: String| err(K::AnythingBut, r, at);
    match v {
        Json::Str(s) => Ok(Matcher::ButStr(vec![(s.as_str().into(), parse_ip(s))])),
        Json::Num(t) => Ok(Matcher::ButNum(vec![Num::from_text(t)])),
        Json::Null | Json::Bool(_) => Err(e(
            "Value of anything-but must be a string, number, list or object".into(),
        )),
        Json::Arr(items) => {
            if items.iter().all(|i| matches!(i, Json::Str(_))) && !items.is_empty() {
                Ok(Matcher::ButStr(
                    strings(items).map(|s| (s.into(), parse_ip(s))).collect(),
                ))
            } else if items.iter().all(|i| matches!(i, Json::Num(_))) && !items.is_empty() {
                Ok(Matcher::ButNum(
                    items
                        .iter()
                        .filter_map(|i| match i {
                            Json::Num(t) => Some(Num::from_text(t)),
                            _ => None,
                        })
                        .collect(),
                ))
            } else if items.is_empty() {
                Err(e("Empty anything-but list".into()))
            } else {
                Err(e(
                    "Inside anything-but list, all values must be strings or all numbers".into(),
                ))
            }
        }
        Json::Obj(inner) => {
            let (op, iv) = match inner.as_slice() {
                [one] => (one.0.as_str(), &one.1),
                [] => return Err(e("Empty objects are not allowed".into())),
                _ => return Err(e("Only one key allowed in anything-but".into())),
            };
            let list: Vec<&str> = match iv {
                Json::Str(s) => vec![s.as_str()],
                Json::Arr(items)
                    if !items.is_empty() && items.iter().all(|i| matches!(i, Json::Str(_))) =>
                {
                    strings(items).collect()
                }
                _ => {
                    return Err(e(format!(
                        "Value of {op} inside anything-but must be a string or a non-empty list of strings"
                    )))
                }
            };
            let boxed = || list.iter().map(|s| Box::<str>::from(*s)).collect();
            match op {
                "prefix" | "suffix" => {
                    if list.iter().any(|s| s.is_empty()) {
                        return Err(e(format!("Empty {op} inside anything-but is not allowed")));
                    }
                    Ok(if op == "prefix" {
                        Matcher::ButPrefix(boxed())
                    } else {
                        Matcher::ButSuffix(boxed())
                    })
                }
                "equals-ignore-case" => Ok(Matcher::ButIc(
                    list.iter().map(|s| fold_str(s).into_boxed_str()).collect(),
                )),
                "wildcard" => Ok(Matcher::ButWildcard(
                    list.iter()
                        .map(|s| Wildcard::parse(s).map_err(|r| err(K::Wildcard, r, at)))
                        .collect::<Result<_, _>>()?,
                )),
                _ => {
                    let mut name = String::new();
                    render_str(op, &mut name);
                    Err(e(format!("Unsupported anything-but pattern {name}")))
                }
            }
        }
    }
}

fn strings(items: &[Json]) -> impl Iterator<Item = &str> {
    items.iter().filter_map(|i| match i {
        Json::Str(s) => Some(s.as_str()),
        _ => None,
    })
}
