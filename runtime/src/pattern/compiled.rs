//! Multi-rule matching: all rules of a bus compiled into one structure.
//!
//! Input: named [`Pattern`]s. Output of [`RuleSet::matching`]: the names of
//! the rules whose pattern matches the event, in the order the rules were
//! given — always exactly what calling [`Pattern::matches`] on each would
//! select.
//!
//! How: every `$or` combination ("conjunction") that has a field made only
//! of exact values (strings, numbers, booleans, null) is filed in an
//! inverted index under one such field — the one whose values are shared
//! by the fewest other conjunctions. An event is flattened once along the
//! union of all pattern paths; each of its leaves is looked up in the index
//! of its path, and only the conjunctions found there, plus the fallback
//! list of conjunctions without any exact-value field, are evaluated. A
//! conjunction can only match if its indexed field is satisfied, which
//! needs a leaf with one of its exact values, so nothing is missed.

use super::event::{Flat, FxMap, Scalar, Trie};
use super::json::Json;
use super::matcher::{eval_conj, Field, Matcher};
use super::number::NumKey;
use super::{cidr::parse_ip, parse_event, EventError, Pattern};
use std::net::IpAddr;

/// Index key of one exact value (IP-looking strings by address).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Str(Box<str>),
    Ip(IpAddr),
    Num(NumKey),
    Bool(bool),
    Null,
}

/// Conjunctions keyed by the exact values of one path.
#[derive(Debug, Default)]
struct PathIndex {
    strs: FxMap<Box<str>, Vec<u32>>,
    ips: FxMap<IpAddr, Vec<u32>>,
    other: FxMap<Key, Vec<u32>>,
}

#[derive(Debug)]
struct Conj {
    rule: u32,
    fields: Box<[u32]>,
}

/// Many named patterns matched together (see the module docs).
#[derive(Debug)]
pub struct RuleSet {
    names: Vec<String>,
    fields: Vec<Field>,
    conjs: Vec<Conj>,
    trie: Trie,
    /// By trie node id.
    index: Vec<Option<Box<PathIndex>>>,
    /// Conjunctions evaluated for every event.
    fallback: Vec<u32>,
}

/// The index keys of a field, if it consists of exact values only.
fn exact_keys(f: &Field) -> Option<Vec<Key>> {
    if f.exists_false || f.matchers.is_empty() {
        return None;
    }
    f.matchers
        .iter()
        .map(|m| match m {
            Matcher::Str(_, Some(ip)) => Some(Key::Ip(*ip)),
            Matcher::Str(s, None) => Some(Key::Str(s.clone())),
            Matcher::Num(n) => Some(Key::Num(n.key())),
            Matcher::Bool(b) => Some(Key::Bool(*b)),
            Matcher::Null => Some(Key::Null),
            _ => None,
        })
        .collect()
}

impl RuleSet {
    /// Compiles the rules. Names need not be unique; each rule is reported
    /// under its own name.
    pub fn new(rules: Vec<(String, Pattern)>) -> RuleSet {
        let mut trie = Trie::new();
        let mut names = Vec::with_capacity(rules.len());
        let mut fields = Vec::new();
        let mut conjs = Vec::new();
        for (rule, (name, p)) in rules.into_iter().enumerate() {
            names.push(name);
            let base = fields.len() as u32;
            for mut f in p.fields {
                f.path_id = trie.insert(&f.path);
                fields.push(f);
            }
            for c in p.conjs {
                conjs.push(Conj {
                    rule: rule as u32,
                    fields: c.into_iter().map(|i| i + base).collect(),
                });
            }
        }

        // Pick, per conjunction, the exact-value field whose keys are the
        // least shared, so events wake up as few candidates as possible.
        let keys: Vec<Option<Vec<Key>>> = fields.iter().map(exact_keys).collect();
        let mut freq: FxMap<(u32, &Key), u32> = FxMap::default();
        for c in &conjs {
            for &fi in c.fields.iter() {
                for k in keys[fi as usize].iter().flatten() {
                    *freq.entry((fields[fi as usize].path_id, k)).or_default() += 1;
                }
            }
        }
        let mut index: Vec<Option<Box<PathIndex>>> = Vec::new();
        let mut fallback = Vec::new();
        for (ci, c) in conjs.iter().enumerate() {
            let best = c
                .fields
                .iter()
                .filter_map(|&fi| {
                    let ks = keys[fi as usize].as_ref()?;
                    let path = fields[fi as usize].path_id;
                    let cost: u32 = ks.iter().map(|k| freq[&(path, k)]).sum();
                    Some((cost, fi))
                })
                .min();
            let Some((_, fi)) = best else {
                fallback.push(ci as u32);
                continue;
            };
            let path = fields[fi as usize].path_id as usize;
            if index.len() <= path {
                index.resize_with(path + 1, || None);
            }
            let pi = index[path].get_or_insert_with(Box::default);
            for k in keys[fi as usize].clone().unwrap_or_default() {
                let list = match k {
                    Key::Str(s) => pi.strs.entry(s).or_default(),
                    Key::Ip(ip) => pi.ips.entry(ip).or_default(),
                    k => pi.other.entry(k).or_default(),
                };
                // A field may repeat a value; list each conjunction once.
                if list.last() != Some(&(ci as u32)) {
                    list.push(ci as u32);
                }
            }
        }
        RuleSet {
            names,
            fields,
            conjs,
            trie,
            index,
            fallback,
        }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True if there are no rules.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Rule names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// Names of the rules matching the event, in rule order.
    pub fn matching(&self, event: &serde_json::Value) -> Vec<&str> {
        if !event.is_object() {
            return Vec::new();
        }
        self.matching_flat(&Flat::build(&self.trie, event))
    }

    /// [`RuleSet::matching`] for event text (exact event-number handling).
    pub fn matching_json(&self, event: &str) -> Result<Vec<&str>, EventError> {
        let ev = parse_event(event)?;
        if !matches!(ev, Json::Obj(_)) {
            return Ok(Vec::new());
        }
        Ok(self.matching_flat(&Flat::build(&self.trie, &ev)))
    }

    fn matching_flat(&self, flat: &Flat<'_>) -> Vec<&str> {
        let mut cands: Vec<u32> = self.fallback.clone();
        for leaf in &flat.leaves {
            let Some(Some(pi)) = self.index.get(leaf.path as usize) else {
                continue;
            };
            let hit = match &leaf.val {
                Scalar::Str(s) => {
                    if let Some(l) = pi.strs.get(*s) {
                        cands.extend_from_slice(l);
                    }
                    if pi.ips.is_empty() {
                        None
                    } else {
                        parse_ip(s).and_then(|ip| pi.ips.get(&ip))
                    }
                }
                Scalar::Num(n) => pi.other.get(&Key::Num(n.key())),
                Scalar::Bool(b) => pi.other.get(&Key::Bool(*b)),
                Scalar::Null => pi.other.get(&Key::Null),
            };
            if let Some(l) = hit {
                cands.extend_from_slice(l);
            }
        }
        cands.sort_unstable();
        cands.dedup();
        // Conjunction ids grow with rule order, so results come out sorted.
        let mut out: Vec<&str> = Vec::new();
        let mut last_rule = None;
        for ci in cands {
            let c = &self.conjs[ci as usize];
            if last_rule == Some(c.rule) {
                continue;
            }
            if eval_conj(&self.fields, &c.fields, flat) {
                last_rule = Some(c.rule);
                out.push(&self.names[c.rule as usize]);
            }
        }
        out
    }
}
