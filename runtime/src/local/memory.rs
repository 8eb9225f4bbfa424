//! In-memory adapters: state, idempotency records and timers
//! ([`MemoryStore`]) and objects ([`MemoryObjects`]). Used by `flowc test`,
//! `flowc run` without `--state`, and tests (the fakes of STYLE.md).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::engine::{Millis, NodeState, ObjectRef};
use crate::ports::{Commit, Due, ObjectStore, StateStore, StoreError, Stored, Timers};

#[derive(Default, Debug)]
pub struct MemoryStore {
    states: HashMap<String, HashMap<String, Stored>>,
    timers: BTreeSet<Due>,
    seen: HashMap<String, HashMap<String, Millis>>,
    seen_len: usize,
    purge_above: usize,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Open keys (windows, dedupe entries, combiner parts) of all nodes.
    pub fn open_keys(&self) -> usize {
        self.states.values().map(HashMap::len).sum()
    }

    /// Idempotency records held.
    pub fn records(&self) -> usize {
        self.seen_len
    }
}

impl StateStore for MemoryStore {
    fn load(&mut self, node: &str, key: &str) -> Result<Option<Stored>, StoreError> {
        Ok(self.states.get(node).and_then(|m| m.get(key)).cloned())
    }

    fn save(
        &mut self,
        node: &str,
        key: &str,
        expected: u64,
        value: Option<(NodeState, Option<Millis>)>,
    ) -> Result<(), StoreError> {
        let map = match self.states.get_mut(node) {
            Some(m) => m,
            None => self.states.entry(node.to_string()).or_default(),
        };
        let old = map.get(key);
        if old.map_or(0, |s| s.version) != expected {
            return Err(StoreError::Conflict {
                node: node.into(),
                key: key.into(),
            });
        }
        let old_deadline = old.and_then(|s| s.deadline);
        let same = old_deadline == value.as_ref().and_then(|(_, d)| *d);
        if let Some(d) = old_deadline.filter(|_| !same) {
            self.timers.remove(&Due {
                deadline: d,
                node: node.into(),
                key: key.into(),
            });
        }
        match value {
            Some((state, deadline)) => {
                if let Some(d) = deadline.filter(|_| !same) {
                    self.timers.insert(Due {
                        deadline: d,
                        node: node.into(),
                        key: key.into(),
                    });
                }
                let stored = Stored {
                    state,
                    deadline,
                    version: expected + 1,
                };
                match map.get_mut(key) {
                    Some(slot) => *slot = stored,
                    None => {
                        map.insert(key.to_string(), stored);
                    }
                }
            }
            None => {
                map.remove(key);
            }
        }
        Ok(())
    }

    fn remember(
        &mut self,
        node: &str,
        event_id: &str,
        expires_at: Millis,
    ) -> Result<bool, StoreError> {
        let map = match self.seen.get_mut(node) {
            Some(m) => m,
            None => self.seen.entry(node.to_string()).or_default(),
        };
        if map.contains_key(event_id) {
            return Ok(false);
        }
        map.insert(event_id.to_string(), expires_at);
        self.seen_len += 1;
        Ok(true)
    }
}

impl Timers for MemoryStore {
    /// Also forgets idempotency records that expired before `until`
    /// (amortised: when their number has doubled since the last purge).
    fn due(&mut self, until: Millis) -> Result<Vec<Due>, StoreError> {
        if self.seen_len > self.purge_above.max(1024) {
            for m in self.seen.values_mut() {
                m.retain(|_, e| *e >= until);
            }
            self.seen_len = self.seen.values().map(HashMap::len).sum();
            self.purge_above = self.seen_len * 2;
        }
        Ok(self
            .timers
            .iter()
            .take_while(|d| d.deadline <= until)
            .cloned()
            .collect())
    }

    fn next_deadline(&self) -> Option<Millis> {
        self.timers.first().map(|d| d.deadline)
    }
}

impl Commit for MemoryStore {
    fn commit(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Objects in memory.
#[derive(Default, Debug)]
pub struct MemoryObjects {
    pub objects: BTreeMap<ObjectRef, Vec<u8>>,
}

impl ObjectStore for MemoryObjects {
    fn get(&mut self, object: &ObjectRef) -> Result<Option<Vec<u8>>, String> {
        Ok(self.objects.get(object).cloned())
    }

    fn put(&mut self, object: &ObjectRef, bytes: &[u8]) -> Result<(), String> {
        self.objects.insert(object.clone(), bytes.to_vec());
        Ok(())
    }
}
