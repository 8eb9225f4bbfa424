//! In-memory fakes of the driver's ports (tests, the overhead benchmark):
//! [`MemoryNodeStore`] adds outboxes to `local::MemoryStore`, and
//! [`RecordingOutlet`] keeps what would have been put.

use std::collections::BTreeMap;

use super::driver::{Outbox, Outlet};
use super::error::FlowError;
use super::wire::Entry;
use crate::engine::{Millis, NodeState};
use crate::local::MemoryStore;
use crate::ports::{Commit, Due, StateStore, StoreError, Stored, Timers};

#[derive(Default, Debug)]
pub struct MemoryNodeStore {
    pub inner: MemoryStore,
    pub outboxes: BTreeMap<(String, String), Vec<Entry>>,
}

impl StateStore for MemoryNodeStore {
    fn load(&mut self, node: &str, key: &str) -> Result<Option<Stored>, StoreError> {
        self.inner.load(node, key)
    }

    fn save(
        &mut self,
        node: &str,
        key: &str,
        expected: u64,
        value: Option<(NodeState, Option<Millis>)>,
    ) -> Result<(), StoreError> {
        self.inner.save(node, key, expected, value)
    }

    fn remember(&mut self, node: &str, id: &str, expires_at: Millis) -> Result<bool, StoreError> {
        self.inner.remember(node, id, expires_at)
    }
}

impl Timers for MemoryNodeStore {
    fn due(&mut self, until: Millis) -> Result<Vec<Due>, StoreError> {
        self.inner.due(until)
    }

    fn next_deadline(&self) -> Option<Millis> {
        self.inner.next_deadline()
    }
}

impl Commit for MemoryNodeStore {
    fn commit(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl Outbox for MemoryNodeStore {
    fn stage_outbox(&mut self, node: &str, id: &str, entries: &[Entry]) -> Result<(), StoreError> {
        self.outboxes
            .insert((node.to_string(), id.to_string()), entries.to_vec());
        Ok(())
    }

    fn pending(
        &mut self,
        node: &str,
        id: Option<&str>,
    ) -> Result<Vec<(String, Vec<Entry>)>, StoreError> {
        Ok(self
            .outboxes
            .iter()
            .filter(|((n, i), _)| n == node && id.is_none_or(|id| id == i))
            .map(|((_, i), e)| (i.clone(), e.clone()))
            .collect())
    }

    fn clear_outbox(&mut self, node: &str, id: &str) -> Result<(), StoreError> {
        self.outboxes.remove(&(node.to_string(), id.to_string()));
        Ok(())
    }
}

/// Keeps what is put; fails the next `fail` puts.
#[derive(Default, Debug)]
pub struct RecordingOutlet {
    pub entries: Vec<Entry>,
    pub fail: usize,
}

impl Outlet for RecordingOutlet {
    fn put(&mut self, entries: &[Entry]) -> Result<(), FlowError> {
        if self.fail > 0 {
            self.fail -= 1;
            return Err(FlowError::retryable("PutEvents failed (fake)"));
        }
        self.entries.extend_from_slice(entries);
        Ok(())
    }
}
