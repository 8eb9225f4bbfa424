//! Event flattening: from a JSON event to the leaf values that patterns read.
//!
//! Input: an event (`serde_json::Value` or the text-preserving [`Json`]) and
//! a [`Trie`] of every field path some pattern names. Output: a [`Flat`]
//! list of scalar leaves, each tagged with its path id and its *array
//! chain* — the (array id, element index) pairs of the arrays of objects or
//! arrays it sits in, outermost first. Only subtrees on a trie path are
//! visited, so events are read once and unreferenced fields cost nothing.
//!
//! Paths are compared as dot-joined strings (as event-ruler does), so the
//! trie is keyed by key segments split on `.`: the event key `"a.b"` and the
//! nested keys `a` → `b` reach the same node.

use super::json::Json;
use super::number::Num;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Small fast hasher (FxHash) for string and number keys.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let mut w = [0u8; 8];
        let rest = chunks.remainder();
        w[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(w) ^ rest.len() as u64);
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl Fx {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// A scalar event value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'a> {
    Null,
    Bool(bool),
    Str(&'a str),
    Num(Num),
}

impl Scalar<'_> {
    pub(crate) fn render(&self) -> String {
        match self {
            Scalar::Null => "null".into(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Str(s) => {
                let mut out = String::new();
                super::json::render_str(s, &mut out);
                out
            }
            Scalar::Num(n) => match (n.f, &n.canon) {
                (Some(f), _) => {
                    let s = f.to_string();
                    if s.len() > 21 {
                        format!("{f:e}")
                    } else {
                        s
                    }
                }
                (None, Some(c)) => c.to_string(),
                (None, None) => "?".into(),
            },
        }
    }
}

/// Path trie shared by the patterns of one matcher. Node 0 is the root.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trie {
    nodes: Vec<TrieNode>,
}

#[derive(Debug, Clone, Default)]
struct TrieNode {
    /// Children while there are few: a length check and a compare beat
    /// hashing for the handful of keys most nodes have.
    small: Vec<(Box<str>, u32)>,
    /// Children once there are many.
    map: FxMap<Box<str>, u32>,
    /// Some pattern field ends here: scalar leaves are recorded.
    terminal: bool,
}

const SMALL_CHILDREN: usize = 8;

impl TrieNode {
    #[inline]
    fn child(&self, seg: &str) -> Option<u32> {
        if self.map.is_empty() {
            self.small
                .iter()
                .find(|(k, _)| k.len() == seg.len() && **k == *seg)
                .map(|&(_, n)| n)
        } else {
            self.map.get(seg).copied()
        }
    }

    fn add(&mut self, seg: Box<str>, id: u32) {
        if self.map.is_empty() && self.small.len() < SMALL_CHILDREN {
            self.small.push((seg, id));
        } else {
            self.map.extend(self.small.drain(..));
            self.map.insert(seg, id);
        }
    }
}

impl Trie {
    pub(crate) fn new() -> Trie {
        Trie {
            nodes: vec![TrieNode::default()],
        }
    }

    /// Adds a path (already split on `.`) and returns its node id.
    pub(crate) fn insert(&mut self, path: &[Box<str>]) -> u32 {
        let mut node = 0usize;
        for seg in path {
            node = match self.nodes[node].child(seg) {
                Some(n) => n as usize,
                None => {
                    let id = self.nodes.len();
                    self.nodes.push(TrieNode::default());
                    self.nodes[node].add(seg.clone(), id as u32);
                    id
                }
            };
        }
        self.nodes[node].terminal = true;
        node as u32
    }

    /// Follows an event key (possibly dotted) from `node`.
    #[inline]
    fn step(&self, node: u32, key: &str) -> Option<u32> {
        let mut n = node;
        for seg in key.split('.') {
            n = self.nodes[n as usize].child(seg)?;
        }
        Some(n)
    }

    fn terminal(&self, node: u32) -> bool {
        self.nodes[node as usize].terminal
    }
}

/// One scalar leaf of the event.
#[derive(Debug, Clone)]
pub(crate) struct Leaf<'a> {
    pub(crate) path: u32,
    pub(crate) val: Scalar<'a>,
    chain_start: u32,
    chain_len: u32,
}

/// The flattened event: leaves sorted by path id, plus their array chains.
#[derive(Debug, Default)]
pub(crate) struct Flat<'a> {
    pub(crate) leaves: Vec<Leaf<'a>>,
    chains: Vec<(u32, u32)>,
}

impl<'a> Flat<'a> {
    /// Leaves at `path` (as an index range into `leaves`).
    #[inline]
    pub(crate) fn range(&self, path: u32) -> std::ops::Range<usize> {
        let start = self.leaves.partition_point(|l| l.path < path);
        let end = start + self.leaves[start..].partition_point(|l| l.path == path);
        start..end
    }

    pub(crate) fn chain(&self, leaf: usize) -> &[(u32, u32)] {
        let l = &self.leaves[leaf];
        &self.chains[l.chain_start as usize..(l.chain_start + l.chain_len) as usize]
    }

    pub(crate) fn has_chain(&self, leaf: usize) -> bool {
        self.leaves[leaf].chain_len > 0
    }

    /// Flattens `event` along the paths of `trie`.
    pub(crate) fn build<N: EventNode>(trie: &Trie, event: &'a N) -> Flat<'a> {
        let mut w = Walker {
            trie,
            flat: Flat {
                leaves: Vec::with_capacity(16),
                chains: Vec::new(),
            },
            stack: Vec::new(),
            next_array: 0,
        };
        // Only an object event has fields; anything else yields no leaves.
        if event.is_object() {
            w.walk(0, event);
        }
        let mut flat = w.flat;
        flat.leaves.sort_by_key(|l| l.path);
        flat
    }
}

/// Two leaves can be picked together unless they sit in different elements
/// of the same array.
pub(crate) fn consistent(a: &[(u32, u32)], b: &[(u32, u32)]) -> bool {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            // Array ids are unique per event, so diverging inside the same
            // array means different elements; different arrays are fine.
            return x.0 != y.0;
        }
    }
    true
}

struct Walker<'t, 'a> {
    trie: &'t Trie,
    flat: Flat<'a>,
    stack: Vec<(u32, u32)>,
    next_array: u32,
}

impl<'a> Walker<'_, 'a> {
    fn walk<N: EventNode>(&mut self, node: u32, v: &'a N) {
        if let Some(items) = v.array() {
            let id = self.next_array;
            self.next_array += 1;
            for (i, item) in items.iter().enumerate() {
                // Scalars in an array are alternatives of one field; only
                // containers split the array into elements that must agree.
                if item.array().is_none() && !item.is_object() {
                    self.walk(node, item);
                } else {
                    self.stack.push((id, i as u32));
                    self.walk(node, item);
                    self.stack.pop();
                }
            }
        } else if v.is_object() {
            v.for_each_field(|k, child| {
                if let Some(n) = self.trie.step(node, k) {
                    self.walk(n, child);
                }
            });
        } else if self.trie.terminal(node) {
            if let Some(s) = v.scalar() {
                let chain_start = self.flat.chains.len() as u32;
                self.flat.chains.extend_from_slice(&self.stack);
                self.flat.leaves.push(Leaf {
                    path: node,
                    val: s,
                    chain_start,
                    chain_len: self.stack.len() as u32,
                });
            }
        }
    }
}

/// Read access to a JSON event tree.
pub(crate) trait EventNode: Sized {
    fn scalar(&self) -> Option<Scalar<'_>>;
    fn array(&self) -> Option<&[Self]>;
    fn is_object(&self) -> bool;
    fn for_each_field<'a>(&'a self, f: impl FnMut(&'a str, &'a Self));
}

impl EventNode for serde_json::Value {
    #[inline]
    fn scalar(&self) -> Option<Scalar<'_>> {
        use serde_json::Value as V;
        match self {
            V::Null => Some(Scalar::Null),
            V::Bool(b) => Some(Scalar::Bool(*b)),
            V::String(s) => Some(Scalar::Str(s)),
            V::Number(n) => Some(Scalar::Num(Num::from_serde(n))),
            _ => None,
        }
    }
    fn array(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }
    fn is_object(&self) -> bool {
        self.is_object()
    }
    fn for_each_field<'a>(&'a self, mut f: impl FnMut(&'a str, &'a Self)) {
        if let Some(o) = self.as_object() {
            for (k, v) in o {
                f(k, v);
            }
        }
    }
}

impl EventNode for Json {
    #[inline]
    fn scalar(&self) -> Option<Scalar<'_>> {
        match self {
            Json::Null => Some(Scalar::Null),
            Json::Bool(b) => Some(Scalar::Bool(*b)),
            Json::Str(s) => Some(Scalar::Str(s)),
            Json::Num(n) => Some(Scalar::Num(Num::from_text(n))),
            _ => None,
        }
    }
    fn array(&self) -> Option<&[Self]> {
        match self {
            Json::Arr(a) => Some(a),
            _ => None,
        }
    }
    fn is_object(&self) -> bool {
        matches!(self, Json::Obj(_))
    }
    fn for_each_field<'a>(&'a self, mut f: impl FnMut(&'a str, &'a Self)) {
        if let Json::Obj(o) = self {
            for (k, v) in o {
                f(k, v);
            }
        }
    }
}
