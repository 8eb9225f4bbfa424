//! App sinks in the local engine: what `crate::sink::plan` says, written
//! under the state directory or posted.
//!
//! Layout of a state directory (`flowc run --state DIR`):
//! * `documents/<key>`: the `s3` sinks' objects (the key as on AWS);
//! * `sinks.sqlite`: table `records` (the `dynamodb` sinks' items, by `pk`
//!   and `sk`) and table `webhooks` (event ids each webhook sink delivered);
//! * `index/`: the full-text index of the documents (`flowc query`), when
//!   an index is attached ([`LocalSinks::with_index`]);
//! * `secrets/<name>`: a webhook's signing secret, unless the environment
//!   variable `FLOWC_SECRET_<NAME>` holds it (see [`secret_env_var`]).
//!
//! Without a state directory, records and webhook ids live in memory and
//! documents are not written (the run says so once).
//!
//! Idempotency: an object or record is overwritten by the same content on
//! redelivery; a webhook whose event id is recorded as delivered is not
//! posted again.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use super::runner::Sinks;
use super::webhook::{RetryPolicy, WebhookClient, WebhookPost};
use crate::engine::{Event, Millis};
use crate::graph::Graph;
use crate::sink::{plan, Delivery};

/// Where documents go under a state directory.
pub const DOCUMENTS_DIR: &str = "documents";
/// Where the full-text index lives under a state directory.
pub const INDEX_DIR: &str = "index";
/// Where webhook secrets may be kept under a state directory.
pub const SECRETS_DIR: &str = "secrets";

/// A document a sink wrote, as the index receives it.
pub struct StoredDocument<'a> {
    pub key: &'a str,
    pub app: &'a str,
    pub sink: &'a str,
    pub event_id: &'a str,
    pub content_type: &'a str,
    pub body: &'a str,
}

/// A full-text index of the documents (implemented with tantivy in
/// the `flowc` CLI, `cli/index.rs`).
pub trait DocumentIndex {
    /// Adds the document, replacing an earlier one with the same key.
    fn put(&mut self, doc: &StoredDocument<'_>) -> Result<(), String>;
    /// Makes what was put visible to readers.
    fn commit(&mut self) -> Result<(), String>;
}

pub struct LocalSinks {
    documents: Option<PathBuf>,
    secrets_dir: Option<PathBuf>,
    db: Connection,
    webhooks: WebhookClient,
    urls: BTreeMap<String, String>,
    index: Option<Box<dyn DocumentIndex + Send>>,
    warned_no_documents: bool,
}

impl LocalSinks {
    /// Sinks writing under `state` (or in memory without one).
    pub fn open(state: Option<&Path>) -> Result<LocalSinks, String> {
        let db = match state {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                Connection::open(dir.join("sinks.sqlite"))
            }
            None => Connection::open_in_memory(),
        }
        .map_err(|e| format!("sinks database: {e}"))?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS records (
               pk TEXT NOT NULL, sk TEXT NOT NULL, id TEXT NOT NULL, time TEXT NOT NULL,
               detail TEXT NOT NULL, expires_at INTEGER, PRIMARY KEY (pk, sk));
             CREATE TABLE IF NOT EXISTS webhooks (
               sink TEXT NOT NULL, event_id TEXT NOT NULL, status INTEGER NOT NULL,
               attempts INTEGER NOT NULL, PRIMARY KEY (sink, event_id));",
        )
        .map_err(|e| format!("sinks database: {e}"))?;
        Ok(LocalSinks {
            documents: state.map(|d| d.join(DOCUMENTS_DIR)),
            secrets_dir: state.map(|d| d.join(SECRETS_DIR)),
            db,
            webhooks: WebhookClient::new(RetryPolicy::default())?,
            urls: BTreeMap::new(),
            index: None,
            warned_no_documents: false,
        })
    }

    /// Indexes every document written from now on.
    pub fn with_index(mut self, index: Box<dyn DocumentIndex + Send>) -> LocalSinks {
        self.index = Some(index);
        self
    }

    /// Posts the webhook sink `sink` (`App.Sink` or `Sink`) to `url`
    /// instead of its declared URL, e.g. a receiver on this machine.
    pub fn override_url(&mut self, sink: &str, url: &str) {
        self.urls.insert(sink.to_string(), url.to_string());
    }

    pub fn set_retry_policy(&mut self, policy: RetryPolicy) {
        self.webhooks.policy = policy;
    }

    /// The record a `dynamodb` sink wrote: `(event id, detail JSON)`.
    pub fn record(&self, pk: &str, sk: &str) -> Result<Option<(String, String)>, String> {
        self.db
            .query_row(
                "SELECT id, detail FROM records WHERE pk = ?1 AND sk = ?2",
                params![pk, sk],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|e| format!("sinks database: {e}"))
    }

    fn write(
        &mut self,
        app: &str,
        sink: &str,
        delivery: &Delivery,
        event: &Event,
    ) -> Result<Option<String>, String> {
        match delivery {
            Delivery::Object {
                key,
                body,
                content_type,
            } => {
                let Some(root) = &self.documents else {
                    if self.warned_no_documents {
                        return Ok(None);
                    }
                    self.warned_no_documents = true;
                    return Ok(Some(format!(
                        "note: {app}.{sink}: documents are written only with --state DIR"
                    )));
                };
                let path = document_path(root, key)?;
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
                }
                std::fs::write(&path, body).map_err(|e| format!("{key}: {e}"))?;
                if let Some(index) = &mut self.index {
                    index.put(&StoredDocument {
                        key,
                        app,
                        sink,
                        event_id: &event.id,
                        content_type,
                        body,
                    })?;
                }
                Ok(None)
            }
            Delivery::Record {
                pk,
                sk,
                id,
                time,
                detail,
                expires_at,
            } => {
                self.db
                    .execute(
                        "INSERT OR REPLACE INTO records (pk, sk, id, time, detail, expires_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![pk, sk, id, time, detail, expires_at],
                    )
                    .map_err(|e| format!("sinks database: {e}"))?;
                Ok(None)
            }
            Delivery::Webhook {
                url,
                secret,
                body,
                event_id,
                timeout_ms,
            } => self.post(app, sink, url, secret, body, event_id, *timeout_ms),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn post(
        &mut self,
        app: &str,
        sink: &str,
        url: &str,
        secret: &str,
        body: &str,
        event_id: &str,
        timeout_ms: u64,
    ) -> Result<Option<String>, String> {
        let name = format!("{app}.{sink}");
        let done: Option<i64> = self
            .db
            .query_row(
                "SELECT status FROM webhooks WHERE sink = ?1 AND event_id = ?2",
                params![name, event_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| format!("sinks database: {e}"))?;
        if done.is_some() {
            return Ok(None);
        }
        let url = self
            .urls
            .get(&name)
            .or_else(|| self.urls.get(sink))
            .map_or(url, String::as_str);
        let key = self.secret(secret)?;
        let posted = self.webhooks.post(&WebhookPost {
            url,
            secret: &key,
            body,
            event_id,
            timeout: Duration::from_millis(timeout_ms),
        })?;
        self.db
            .execute(
                "INSERT OR REPLACE INTO webhooks (sink, event_id, status, attempts)
                 VALUES (?1, ?2, ?3, ?4)",
                params![name, event_id, posted.status, posted.attempts],
            )
            .map_err(|e| format!("sinks database: {e}"))?;
        Ok(None)
    }

    /// The signing secret `name`: `FLOWC_SECRET_<NAME>` or
    /// `STATE/secrets/<name>` (one trailing newline ignored).
    fn secret(&self, name: &str) -> Result<Vec<u8>, String> {
        let var = secret_env_var(name);
        if let Some(value) = std::env::var_os(&var) {
            return Ok(value.to_string_lossy().into_owned().into_bytes());
        }
        if let Some(dir) = &self.secrets_dir {
            let path = dir.join(name);
            match std::fs::read(&path) {
                Ok(mut bytes) => {
                    if bytes.last() == Some(&b'\n') {
                        bytes.pop();
                    }
                    return Ok(bytes);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
        Err(format!(
            "the signing secret {name:?} is not set: set the environment variable {var} \
             or write it to STATE/{SECRETS_DIR}/{name} (nothing was posted)"
        ))
    }
}

impl Sinks for LocalSinks {
    fn deliver(&mut self, graph: &Graph, event: &Event, now: Millis) -> Vec<String> {
        let mut messages = Vec::new();
        for app in &graph.apps {
            let planned = match plan(graph, app, event, now) {
                Ok(p) => p,
                Err(e) => {
                    messages.push(format!("error: {e} (event {})", event.id));
                    continue;
                }
            };
            for p in planned {
                match self.write(&app.name, &p.sink.name, &p.delivery, event) {
                    Ok(Some(note)) => messages.push(note),
                    Ok(None) => {}
                    Err(e) => messages.push(format!(
                        "error: sink {}.{} ({}:{}): {e} (event {})",
                        app.name, p.sink.name, p.sink.span.file, p.sink.span.line, event.id
                    )),
                }
            }
        }
        messages
    }

    fn commit(&mut self) -> Result<(), String> {
        match &mut self.index {
            Some(index) => index.commit(),
            None => Ok(()),
        }
    }
}

/// `FLOWC_SECRET_` and the secret's name in upper case, every character
/// other than a letter or digit as `_`: `coach-webhook-signing-key` →
/// `FLOWC_SECRET_COACH_WEBHOOK_SIGNING_KEY`.
pub fn secret_env_var(name: &str) -> String {
    let mut var = String::from("FLOWC_SECRET_");
    var.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    var
}

/// The file of a document; keys that would leave the directory are refused.
fn document_path(root: &Path, key: &str) -> Result<PathBuf, String> {
    let rel = Path::new(key);
    if key.is_empty() || rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(format!("{key:?} is not a safe local document key"));
    }
    Ok(root.join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_variable_names() {
        assert_eq!(
            secret_env_var("coach-webhook-signing-key"),
            "FLOWC_SECRET_COACH_WEBHOOK_SIGNING_KEY"
        );
        assert_eq!(secret_env_var("a.b/c"), "FLOWC_SECRET_A_B_C");
    }

    #[test]
    fn document_keys_stay_inside() {
        let root = Path::new("/s/documents");
        assert!(document_path(root, "kb/w1/a.md").is_ok());
        assert!(document_path(root, "../x").is_err());
        assert!(document_path(root, "/etc/passwd").is_err());
        assert!(document_path(root, "a/../../x").is_err());
        assert!(document_path(root, "").is_err());
    }
}
