//! The repository in SQLite: `DIR/store.sqlite` next to the engine's
//! `DIR/state.sqlite` (the `--state` directory of `flowc run`), or in
//! memory.
//!
//! Invariant: a write is one statement guarded by the expected version
//! (`INSERT … ON CONFLICT DO NOTHING` for [`Expect::Absent`], `UPDATE …
//! WHERE version = ?` otherwise), so the compare-and-swap is atomic even
//! with several processes on one file. Statements are short; they run on
//! the calling task under a mutex (WAL mode, no fsync per write).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::repo::{BoxFuture, Expect, Kind, Page, RepoError, Repository, Versioned};

pub struct SqliteRepo {
    conn: Mutex<Connection>,
}

fn backend(e: impl std::fmt::Display) -> RepoError {
    RepoError::Backend(format!("store database: {e}"))
}

impl SqliteRepo {
    /// Opens (creating if needed) `dir/store.sqlite`.
    pub fn open(dir: &Path) -> Result<SqliteRepo, RepoError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| RepoError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        let conn = Connection::open(dir.join("store.sqlite")).map_err(backend)?;
        SqliteRepo::with(conn)
    }

    /// A repository that lives as long as the process.
    pub fn in_memory() -> Result<SqliteRepo, RepoError> {
        SqliteRepo::with(Connection::open_in_memory().map_err(backend)?)
    }

    fn with(conn: Connection) -> Result<SqliteRepo, RepoError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS records (
               kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
               body TEXT NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID;",
        )
        .map_err(backend)?;
        Ok(SqliteRepo {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-written record
        // (each write is one statement), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get_now(&self, kind: Kind, id: &str) -> Result<Option<Versioned>, RepoError> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT version, body FROM records WHERE kind = ?1 AND id = ?2",
                params![kind.as_str(), id],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
            .map_err(backend)?;
        row.map(|(version, body)| record(id.to_string(), version, &body))
            .transpose()
    }

    fn version_now(conn: &Connection, kind: Kind, id: &str) -> Result<u64, RepoError> {
        let v: Option<i64> = conn
            .query_row(
                "SELECT version FROM records WHERE kind = ?1 AND id = ?2",
                params![kind.as_str(), id],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)?;
        Ok(v.map_or(0, |v| v.max(0) as u64))
    }

    fn list_now(&self, kind: Kind, after: Option<&str>, limit: usize) -> Result<Page, RepoError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, version, body FROM records WHERE kind = ?1 AND id > ?2
                 ORDER BY id LIMIT ?3",
            )
            .map_err(backend)?;
        let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(params![kind.as_str(), after.unwrap_or(""), fetch], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(backend)?;
        let mut items = Vec::new();
        for row in rows {
            let (id, version, body) = row.map_err(backend)?;
            items.push(record(id, version, &body)?);
        }
        let more = items.len() > limit;
        items.truncate(limit);
        let last = if more {
            items.last().map(|r| r.id.clone())
        } else {
            None
        };
        Ok(Page { items, last })
    }

    fn put_now(
        &self,
        kind: Kind,
        id: &str,
        body: &Value,
        expect: Expect,
    ) -> Result<u64, RepoError> {
        let text = body.to_string();
        let conn = self.lock();
        let (changed, version) = match expect {
            Expect::Absent => (
                conn.execute(
                    "INSERT INTO records (kind, id, version, body) VALUES (?1, ?2, 1, ?3)
                     ON CONFLICT (kind, id) DO NOTHING",
                    params![kind.as_str(), id, text],
                )
                .map_err(backend)?,
                1,
            ),
            Expect::Version(v) => {
                let next = v.checked_add(1).ok_or(RepoError::Conflict { current: 0 })?;
                let (Ok(v), Ok(next_i)) = (i64::try_from(v), i64::try_from(next)) else {
                    return Err(RepoError::Conflict {
                        current: SqliteRepo::version_now(&conn, kind, id)?,
                    });
                };
                (
                    conn.execute(
                        "UPDATE records SET version = ?4, body = ?3
                         WHERE kind = ?1 AND id = ?2 AND version = ?5",
                        params![kind.as_str(), id, text, next_i, v],
                    )
                    .map_err(backend)?,
                    next,
                )
            }
        };
        if changed == 1 {
            Ok(version)
        } else {
            Err(RepoError::Conflict {
                current: SqliteRepo::version_now(&conn, kind, id)?,
            })
        }
    }

    fn delete_now(&self, kind: Kind, id: &str, version: Option<u64>) -> Result<bool, RepoError> {
        let conn = self.lock();
        let current = SqliteRepo::version_now(&conn, kind, id)?;
        if current == 0 {
            return Ok(false);
        }
        let v = version.unwrap_or(current);
        let changed = conn
            .execute(
                "DELETE FROM records WHERE kind = ?1 AND id = ?2 AND version = ?3",
                params![kind.as_str(), id, i64::try_from(v).unwrap_or(-1)],
            )
            .map_err(backend)?;
        if changed == 1 {
            Ok(true)
        } else {
            Err(RepoError::Conflict {
                current: SqliteRepo::version_now(&conn, kind, id)?,
            })
        }
    }
}

fn record(id: String, version: i64, body: &str) -> Result<Versioned, RepoError> {
    Ok(Versioned {
        id,
        version: version.max(0) as u64,
        body: serde_json::from_str(body).map_err(backend)?,
    })
}

impl Repository for SqliteRepo {
    fn get<'a>(
        &'a self,
        kind: Kind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Versioned>, RepoError>> {
        Box::pin(async move { self.get_now(kind, id) })
    }

    fn list<'a>(
        &'a self,
        kind: Kind,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, RepoError>> {
        Box::pin(async move { self.list_now(kind, after, limit) })
    }

    fn put<'a>(
        &'a self,
        kind: Kind,
        id: &'a str,
        body: &'a Value,
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, RepoError>> {
        Box::pin(async move { self.put_now(kind, id, body, expect) })
    }

    fn delete<'a>(
        &'a self,
        kind: Kind,
        id: &'a str,
        version: Option<u64>,
    ) -> BoxFuture<'a, Result<bool, RepoError>> {
        Box::pin(async move { self.delete_now(kind, id, version) })
    }
}
