//! Multi-rule matching: all rules of a bus compiled into one structure.
//!
//! Input: named [`Pattern`]s. Output of [`RuleSet::matching`]: the names of
//! the rules whose pattern matches the event, in the order the rules were
//! given — always exactly what calling [`Pattern::matches`] on each would
//! select.
//!
//! How: the conjunctions (`$or` combinations) of all rules are arranged in
//! a decision tree over *exact-value fields* (fields whose matchers are all
//! strings, numbers, booleans or null). A split node names a path; each
//! conjunction that pins that path is filed under each of its values, the
//! others go to the node's `rest` branch. The event is flattened once along
//! the union of all pattern paths; at a split, each event value at the path
//! selects one child by hash lookup, and `rest` is always followed. The
//! conjunctions collected at the reached leaves (at most a handful each)
//! are then evaluated in full, so a conjunction is only skipped when one of
//! its exact-value fields has no matching value, in which case it could not
//! match anyway. Cost per event grows with the depth of the tree and the
//! number of real candidates, not with the number of rules.

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

/// A decision-tree node (see the module docs).
#[derive(Debug)]
enum Node {
    /// Candidate conjunctions, evaluated in full.
    Leaf(Box<[u32]>),
    Split {
        path: u32,
        children: Box<Children>,
        rest: Box<Node>,
    },
}

/// Children of a split, by the exact value at the split's path.
#[derive(Debug, Default)]
struct Children {
    strs: FxMap<Box<str>, Node>,
    ips: FxMap<IpAddr, Node>,
    other: FxMap<Key, Node>,
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
    root: Node,
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

/// Staged conjunction during tree building: id and replication so far.
type Staged = (u32, u32);

/// Conjunctions at most this many are evaluated directly.
const LEAF_MAX: usize = 6;
/// A conjunction is copied into at most this many branches in total.
const MAX_COPIES: u32 = 16;

/// Exact-value fields of one conjunction: (path id, keys).
type ExactFields = Vec<(u32, Vec<Key>)>;

fn build_node(staged: Vec<Staged>, exact: &[ExactFields], used: &mut Vec<u32>) -> Node {
    if staged.len() <= LEAF_MAX {
        return leaf(staged);
    }
    // Split on the path pinned by the most conjunctions here.
    let mut counts: FxMap<u32, usize> = FxMap::default();
    for &(c, _) in &staged {
        for (path, _) in &exact[c as usize] {
            if !used.contains(path) {
                *counts.entry(*path).or_default() += 1;
            }
        }
    }
    let Some((path, _)) = counts
        .into_iter()
        .max_by_key(|&(p, n)| (n, std::cmp::Reverse(p)))
    else {
        return leaf(staged);
    };
    let mut groups: Vec<(Key, Vec<Staged>)> = Vec::new();
    let mut slot: FxMap<Key, usize> = FxMap::default();
    let mut rest = Vec::new();
    for (c, copies) in staged {
        let keys = exact[c as usize]
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, k)| k);
        match keys {
            Some(keys) if copies.saturating_mul(keys.len() as u32) <= MAX_COPIES => {
                let copies = copies * keys.len() as u32;
                for k in keys {
                    let i = *slot.entry(k.clone()).or_insert_with(|| {
                        groups.push((k.clone(), Vec::new()));
                        groups.len() - 1
                    });
                    groups[i].1.push((c, copies));
                }
            }
            _ => rest.push((c, copies)),
        }
    }
    used.push(path);
    let mut children = Children::default();
    for (k, g) in groups {
        let child = build_node(g, exact, used);
        match k {
            Key::Str(s) => children.strs.insert(s, child),
            Key::Ip(ip) => children.ips.insert(ip, child),
            k => children.other.insert(k, child),
        };
    }
    let rest = build_node(rest, exact, used);
    used.pop();
    Node::Split {
        path,
        children: Box::new(children),
        rest: Box::new(rest),
    }
}

fn leaf(staged: Vec<Staged>) -> Node {
    Node::Leaf(staged.into_iter().map(|(c, _)| c).collect())
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
        let keys: Vec<Option<Vec<Key>>> = fields.iter().map(exact_keys).collect();
        let exact: Vec<ExactFields> = conjs
            .iter()
            .map(|c| {
                let mut ef: ExactFields = Vec::new();
                for &fi in c.fields.iter() {
                    let path = fields[fi as usize].path_id;
                    // One field per path is enough to prune on.
                    if let Some(k) = &keys[fi as usize] {
                        if !ef.iter().any(|(p, _)| *p == path) {
                            ef.push((path, k.clone()));
                        }
                    }
                }
                ef
            })
            .collect();
        let staged = (0..conjs.len() as u32).map(|c| (c, 1)).collect();
        let root = build_node(staged, &exact, &mut Vec::new());
        RuleSet {
            names,
            fields,
            conjs,
            trie,
            root,
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
        let mut cands: Vec<u32> = Vec::new();
        collect(&self.root, flat, &mut cands);
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

/// Gathers the candidate conjunctions reachable for this event.
fn collect(node: &Node, flat: &Flat<'_>, out: &mut Vec<u32>) {
    match node {
        Node::Leaf(c) => out.extend_from_slice(c),
        Node::Split {
            path,
            children,
            rest,
        } => {
            for i in flat.range(*path) {
                let child = match &flat.leaves[i].val {
                    Scalar::Str(s) => {
                        if let Some(n) = children.strs.get(*s) {
                            collect(n, flat, out);
                        }
                        if children.ips.is_empty() {
                            None
                        } else {
                            parse_ip(s).and_then(|ip| children.ips.get(&ip))
                        }
                    }
                    Scalar::Num(n) => children.other.get(&Key::Num(n.key())),
                    Scalar::Bool(b) => children.other.get(&Key::Bool(*b)),
                    Scalar::Null => children.other.get(&Key::Null),
                };
                if let Some(n) = child {
                    collect(n, flat, out);
                }
            }
            collect(rest, flat, out);
        }
    }
}
