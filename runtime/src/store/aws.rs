//! AWS adapters of the Event Store (feature `aws`): the repository on the
//! project's DynamoDB table.
//!
//! Items: `pk = store#<kind>` (`store#event`, `store#flow`,
//! `store#route`), `sk = <id>`, `v` (the version, a number), `body` (JSON
//! text). The state adapter's `state#…`, `seen#…` and `outbox#…` keys
//! never collide with them. Invariant: every write carries a condition
//! (`attribute_not_exists(pk)` or `v = :v`), so the compare-and-swap is
//! DynamoDB's, not ours; a failed condition is re-read to report the
//! current version.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use serde_json::Value;

use super::repo::{BoxFuture, Expect, Kind, Page, RepoError, Repository, Versioned};

type Item = HashMap<String, AttributeValue>;

pub struct DynamoRepo {
    client: Client,
    table: String,
}

fn backend(e: impl std::fmt::Display) -> RepoError {
    RepoError::Backend(format!("DynamoDB: {e}"))
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn pk(kind: Kind) -> String {
    format!("store#{}", kind.as_str())
}

fn record(item: &Item) -> Result<Versioned, RepoError> {
    let id = match item.get("sk") {
        Some(AttributeValue::S(id)) => id.clone(),
        _ => return Err(backend("item without sk")),
    };
    let version = match item.get("v") {
        Some(AttributeValue::N(n)) => n.parse::<u64>().map_err(backend)?,
        _ => return Err(backend("item without v")),
    };
    let body = match item.get("body") {
        Some(AttributeValue::S(b)) => serde_json::from_str(b).map_err(backend)?,
        _ => return Err(backend("item without body")),
    };
    Ok(Versioned { id, version, body })
}

impl DynamoRepo {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoRepo {
        DynamoRepo {
            client,
            table: table.into(),
        }
    }

    async fn get_now(&self, kind: Kind, id: &str) -> Result<Option<Versioned>, RepoError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(&pk(kind)))
            .key("sk", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
        out.item().map(record).transpose()
    }

    async fn current(&self, kind: Kind, id: &str) -> Result<u64, RepoError> {
        Ok(self.get_now(kind, id).await?.map_or(0, |r| r.version))
    }

    async fn list_now(
        &self,
        kind: Kind,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page, RepoError> {
        let want = limit.saturating_add(1);
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .expression_attribute_values(":pk", s(&pk(kind)))
                .limit(i32::try_from(want - items.len()).unwrap_or(i32::MAX));
            q = match after {
                Some(a) => q
                    .key_condition_expression("pk = :pk AND sk > :after")
                    .expression_attribute_values(":after", s(a)),
                None => q.key_condition_expression("pk = :pk"),
            };
            if let Some(k) = start.take() {
                q = q.set_exclusive_start_key(Some(k));
            }
            let out = q
                .send()
                .await
                .map_err(|e| backend(aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
            for item in out.items() {
                items.push(record(item)?);
            }
            match out.last_evaluated_key() {
                Some(k) if items.len() < want => start = Some(k.clone()),
                _ => break,
            }
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

    async fn put_now(
        &self,
        kind: Kind,
        id: &str,
        body: &Value,
        expect: Expect,
    ) -> Result<u64, RepoError> {
        let (version, condition, values) = match expect {
            Expect::Absent => (1, "attribute_not_exists(pk)", None),
            Expect::Version(v) => (
                v.checked_add(1).ok_or(RepoError::Conflict { current: 0 })?,
                "v = :v",
                Some(AttributeValue::N(v.to_string())),
            ),
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&pk(kind)))
            .item("sk", s(id))
            .item("v", AttributeValue::N(version.to_string()))
            .item("body", s(&body.to_string()))
            .condition_expression(condition)
            .set_expression_attribute_values(values.map(|v| HashMap::from([(":v".to_string(), v)])))
            .send()
            .await;
        match result {
            Ok(_) => Ok(version),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(RepoError::Conflict {
                    current: self.current(kind, id).await?,
                })
            }
            Err(e) => Err(backend(aws_sdk_dynamodb::error::DisplayErrorContext(e))),
        }
    }

    async fn delete_now(
        &self,
        kind: Kind,
        id: &str,
        version: Option<u64>,
    ) -> Result<bool, RepoError> {
        let mut request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(&pk(kind)))
            .key("sk", s(id));
        request = match version {
            Some(v) => request
                .condition_expression("attribute_exists(pk) AND v = :v")
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
            None => request.condition_expression("attribute_exists(pk)"),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                match self.current(kind, id).await? {
                    0 => Ok(false),
                    current => Err(RepoError::Conflict { current }),
                }
            }
            Err(e) => Err(backend(aws_sdk_dynamodb::error::DisplayErrorContext(e))),
        }
    }
}

impl Repository for DynamoRepo {
    fn get<'a>(
        &'a self,
        kind: Kind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Versioned>, RepoError>> {
        Box::pin(self.get_now(kind, id))
    }

    fn list<'a>(
        &'a self,
        kind: Kind,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Page, RepoError>> {
        Box::pin(self.list_now(kind, after, limit))
    }

    fn put<'a>(
        &'a self,
        kind: Kind,
        id: &'a str,
        body: &'a Value,
        expect: Expect,
    ) -> BoxFuture<'a, Result<u64, RepoError>> {
        Box::pin(self.put_now(kind, id, body, expect))
    }

    fn delete<'a>(
        &'a self,
        kind: Kind,
        id: &'a str,
        version: Option<u64>,
    ) -> BoxFuture<'a, Result<bool, RepoError>> {
        Box::pin(self.delete_now(kind, id, version))
    }
}
