//! Node state in SQLite under `--state DIR` (`DIR/state.sqlite`).
//!
//! Saves go to a write-back cache and reach the database in one
//! transaction at [`Commit::commit`]: state, deadlines and idempotency
//! records together, so a killed run either kept all of a batch or none of
//! it. The driver prints a batch's events only after it is committed;
//! replaying the input after a restart skips what was committed (by event
//! id) and redoes the rest. Deadlines of all open windows are also kept in
//! memory (memory grows with open windows, not with events).
//!
//! Compare-and-swap is checked against the cached version: one process
//! owns a state directory at a time (the local engine is single-threaded).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

use crate::engine::{Millis, NodeState};
use crate::ports::{Commit, Due, StateStore, StoreError, Stored, Timers};

type Key = (String, String);

pub struct SqliteStore {
    conn: Connection,
    /// Loaded or saved entries; `None` = known absent.
    cache: HashMap<Key, Option<Stored>>,
    dirty: BTreeSet<Key>,
    seen_new: HashMap<Key, Millis>,
    timers: BTreeSet<Due>,
    purge_before: Millis,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("state database: {e}"))
}

impl SqliteStore {
    /// Opens (creating if needed) `dir/state.sqlite`.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        let conn = Connection::open(dir.join("state.sqlite")).map_err(backend)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS state (
               node TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL,
               deadline INTEGER, body TEXT NOT NULL, PRIMARY KEY (node, key));
             CREATE TABLE IF NOT EXISTS delivered (
               node TEXT NOT NULL, id TEXT NOT NULL, expires INTEGER NOT NULL,
               PRIMARY KEY (node, id));
             CREATE INDEX IF NOT EXISTS delivered_expires ON delivered (expires);",
        )
        .map_err(backend)?;
        let mut timers = BTreeSet::new();
        {
            let mut stmt = conn
                .prepare("SELECT node, key, deadline FROM state WHERE deadline IS NOT NULL")
                .map_err(backend)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(Due {
                        node: r.get(0)?,
                        key: r.get(1)?,
                        deadline: r.get(2)?,
                    })
                })
                .map_err(backend)?;
            for row in rows {
                timers.insert(row.map_err(backend)?);
            }
        }
        Ok(SqliteStore {
            conn,
            cache: HashMap::new(),
            dirty: BTreeSet::new(),
            seen_new: HashMap::new(),
            timers,
            purge_before: Millis::MIN,
        })
    }

    fn fetch(&mut self, node: &str, key: &str) -> Result<&Option<Stored>, StoreError> {
        let k = (node.to_string(), key.to_string());
        if !self.cache.contains_key(&k) {
            let row: Option<(i64, Option<i64>, String)> = self
                .conn
                .prepare_cached(
                    "SELECT version, deadline, body FROM state WHERE node = ?1 AND key = ?2",
                )
                .map_err(backend)?
                .query_row(params![node, key], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()
                .map_err(backend)?;
            let stored = match row {
                Some((version, deadline, body)) => Some(Stored {
                    state: serde_json::from_str::<NodeState>(&body).map_err(backend)?,
                    deadline,
                    version: version as u64,
                }),
                None => None,
            };
            self.cache.insert(k.clone(), stored);
        }
        self.cache
            .get(&k)
            .ok_or_else(|| backend("cache lost an entry"))
    }
}

impl StateStore for SqliteStore {
    fn load(&mut self, node: &str, key: &str) -> Result<Option<Stored>, StoreError> {
        self.fetch(node, key).cloned()
    }

    fn save(
        &mut self,
        node: &str,
        key: &str,
        expected: u64,
        value: Option<(NodeState, Option<Millis>)>,
    ) -> Result<(), StoreError> {
        let old = self.fetch(node, key)?;
        let (version, old_deadline) = old.as_ref().map_or((0, None), |s| (s.version, s.deadline));
        if version != expected {
            return Err(StoreError::Conflict {
                node: node.into(),
                key: key.into(),
            });
        }
        let same = old_deadline == value.as_ref().and_then(|(_, d)| *d);
        if let Some(d) = old_deadline.filter(|_| !same) {
            self.timers.remove(&Due {
                deadline: d,
                node: node.into(),
                key: key.into(),
            });
        }
        let new = value.map(|(state, deadline)| {
            if let Some(d) = deadline.filter(|_| !same) {
                self.timers.insert(Due {
                    deadline: d,
                    node: node.into(),
                    key: key.into(),
                });
            }
            Stored {
                state,
                deadline,
                version: expected + 1,
            }
        });
        let k = (node.to_string(), key.to_string());
        self.cache.insert(k.clone(), new);
        self.dirty.insert(k);
        Ok(())
    }

    fn remember(
        &mut self,
        node: &str,
        event_id: &str,
        expires_at: Millis,
    ) -> Result<bool, StoreError> {
        let k = (node.to_string(), event_id.to_string());
        if self.seen_new.contains_key(&k) {
            return Ok(false);
        }
        let known: Option<i64> = self
            .conn
            .prepare_cached("SELECT 1 FROM delivered WHERE node = ?1 AND id = ?2")
            .map_err(backend)?
            .query_row(params![node, event_id], |r| r.get(0))
            .optional()
            .map_err(backend)?;
        if known.is_some() {
            return Ok(false);
        }
        self.seen_new.insert(k, expires_at);
        Ok(true)
    }
}

impl Timers for SqliteStore {
    /// Also marks idempotency records expired before `until` for deletion
    /// at the next commit.
    fn due(&mut self, until: Millis) -> Result<Vec<Due>, StoreError> {
        self.purge_before = self.purge_before.max(until);
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

impl Commit for SqliteStore {
    fn commit(&mut self) -> Result<(), StoreError> {
        if self.dirty.is_empty() && self.seen_new.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction().map_err(backend)?;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO state (node, key, version, deadline, body) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (node, key) DO UPDATE SET version = ?3, deadline = ?4, body = ?5",
                )
                .map_err(backend)?;
            let mut delete = tx
                .prepare_cached("DELETE FROM state WHERE node = ?1 AND key = ?2")
                .map_err(backend)?;
            for k in &self.dirty {
                match self.cache.get(k).and_then(Option::as_ref) {
                    Some(s) => {
                        let body = serde_json::to_string(&s.state).map_err(backend)?;
                        upsert
                            .execute(params![k.0, k.1, s.version as i64, s.deadline, body])
                            .map_err(backend)?;
                    }
                    None => {
                        delete.execute(params![k.0, k.1]).map_err(backend)?;
                    }
                }
            }
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO delivered (node, id, expires) VALUES (?1, ?2, ?3)",
                )
                .map_err(backend)?;
            let mut seen: Vec<_> = self.seen_new.iter().collect();
            seen.sort();
            for ((node, id), expires) in seen {
                insert
                    .execute(params![node, id, expires])
                    .map_err(backend)?;
            }
            tx.prepare_cached("DELETE FROM delivered WHERE expires < ?1")
                .map_err(backend)?
                .execute(params![self.purge_before])
                .map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        self.dirty.clear();
        self.seen_new.clear();
        if self.cache.len() > 100_000 {
            self.cache.clear();
        }
        Ok(())
    }
}
