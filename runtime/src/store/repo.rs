//! The repository port: versioned JSON records by (kind, id).
//!
//! Input: records the API validated. Output: the records with their
//! versions. Invariants: every write is a compare-and-swap on the version
//! ([`Expect`]), so two racing writers never both succeed; versions start at
//! 1 and grow by one per write; lists come in id order and pages continue
//! strictly after the last id returned. SQLite ([`super::SqliteRepo`]) and
//! DynamoDB (`DynamoRepo`, feature `aws`) pass the same test suite
//! (runtime/tests/store_repo.rs).

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

/// A boxed future: the ports are used as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Event,
    Flow,
    /// The routing configuration of one event (id = the event's id).
    Route,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Event => "event",
            Kind::Flow => "flow",
            Kind::Route => "route",
        }
    }
}

/// A stored record.
#[derive(Clone, Debug, PartialEq)]
pub struct Versioned {
    pub id: String,
    pub version: u64,
    pub body: Value,
}

/// The precondition of a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The record must not exist.
    Absent,
    /// The record must exist at exactly this version.
    Version(u64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RepoError {
    /// The precondition failed; `current` is the version now stored (0:
    /// absent).
    Conflict { current: u64 },
    /// The backend failed.
    Backend(String),
}

impl std::fmt::Display for RepoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RepoError::Conflict { current } => {
                write!(f, "version conflict (current version {current})")
            }
            RepoError::Backend(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RepoError {}

/// One page of a list.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub items: Vec<Versioned>,
    /// The last id of this page when more may follow.
    pub last: Option<String>,
}

pub trait Repository: Send + Sync {
    fn get<'a>(
        &'a self,
        kind: Kind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Versioned>, RepoError>>;

    /// Records with ids strictly after `after`, in id order, at most `limit`.
    fn list<'a>(
        &'a self,
        kind: Kind,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, RepoError>>;

    /// Writes `body` if `expect` holds and returns the new version.
    fn put<'a>(
        &'a self,
        kind: Kind,
        id: &'a str,
        body: &'a Value,
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, RepoError>>;

    /// Deletes the record if it is at `version` (any version with `None`);
    /// `Ok(false)` if it did not exist.
    fn delete<'a>(
        &'a self,
        kind: Kind,
        id: &'a str,
        version: Option<u64>,
    ) -> BoxFuture<'a, Result<bool, RepoError>>;
}
