//! The state port on DynamoDB: one table (`pk`/`sk` strings, TTL
//! attribute `expires_at`), shared with the Event Store.
//!
//! Items (docs/runtime-aws.md):
//! * state: `pk = state#<node>`, `sk = <key>`, `state` (JSON text),
//!   `version` (number), `deadline` (ms, when the key must be flushed),
//!   `expires_at` (seconds; dedupe and combiner windows only, which are
//!   never flushed);
//! * idempotency record: `pk = seen#<node>#<event id>`, `sk = seen`,
//!   `expires_at`;
//! * outbox: `pk = outbox#<node>`, `sk = <event id>`, `entries` (JSON).
//!
//! Writes are staged by `save`, `remember` and `stage_outbox` and made
//! durable by `commit`, all or nothing: one conditional write alone, a
//! `TransactWriteItems` for several. A failed condition is a
//! [`StoreError::Conflict`]. Reads are strongly consistent.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use serde_json::Value;

use super::bridge::Bridge;
use super::driver::{entry_from_value, entry_value, Outbox};
use super::wire::Entry;
use crate::engine::{Millis, NodeState};
use crate::ports::{Commit, Due, StateStore, StoreError, Stored, Timers};

type Item = HashMap<String, AttributeValue>;

/// How long after its deadline a dedupe or combiner window is removed by
/// TTL (DynamoDB deletes expired items within days, not at once).
const TTL_GRACE_MS: Millis = 3600 * 1000;
/// Outboxes that were never cleared disappear after two weeks.
const OUTBOX_TTL_MS: Millis = 14 * 24 * 3600 * 1000;

pub struct DynamoStore {
    client: Client,
    table: String,
    bridge: Bridge,
    /// Whether a key's state gets `expires_at` (nodes without a flush).
    ttl_state: bool,
    /// The node whose deadlines [`Timers::due`] reads.
    node: Option<String>,
    staged: Vec<TransactWriteItem>,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn state_pk(node: &str) -> String {
    format!("state#{node}")
}

fn seen_pk(node: &str, id: &str) -> String {
    format!("seen#{node}#{id}")
}

fn outbox_pk(node: &str) -> String {
    format!("outbox#{node}")
}

fn backend(what: &str, e: impl std::error::Error) -> StoreError {
    StoreError::Backend(format!("DynamoDB {what}: {}", DisplayErrorContext(e)))
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

impl DynamoStore {
    pub fn new(client: Client, table: &str, bridge: Bridge) -> DynamoStore {
        DynamoStore {
            client,
            table: table.to_string(),
            bridge,
            ttl_state: false,
            node: None,
            staged: Vec::new(),
        }
    }

    /// Gives saved states `expires_at` (their deadline plus a grace), for
    /// node kinds that forget instead of flushing (dedupe, combiner).
    pub fn with_state_ttl(mut self, on: bool) -> DynamoStore {
        self.ttl_state = on;
        self
    }

    /// Scopes [`Timers::due`] to `node`'s keys.
    pub fn for_node(mut self, node: &str) -> DynamoStore {
        self.node = Some(node.to_string());
        self
    }

    fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self.bridge.run(
            self.client
                .get_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(pk))
                .key("sk", s(sk))
                .consistent_read(true)
                .send(),
        );
        Ok(out.map_err(|e| backend("GetItem", e))?.item)
    }

    /// Runs the staged writes; conditions failing means a conflict.
    fn write(&self, mut items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        let conflict = || StoreError::Conflict {
            node: String::new(),
            key: String::new(),
        };
        if items.len() == 1 {
            let item = items.pop().unwrap_or_else(|| unreachable!("one item"));
            let result = match (item.put, item.delete) {
                (Some(p), _) => self
                    .bridge
                    .run(
                        self.client
                            .put_item()
                            .table_name(p.table_name)
                            .set_item(Some(p.item))
                            .set_condition_expression(p.condition_expression)
                            .set_expression_attribute_values(p.expression_attribute_values)
                            .send(),
                    )
                    .map(drop)
                    .map_err(|e| {
                        (
                            e.code() == Some("ConditionalCheckFailedException"),
                            backend("PutItem", e),
                        )
                    }),
                (None, Some(d)) => self
                    .bridge
                    .run(
                        self.client
                            .delete_item()
                            .table_name(d.table_name)
                            .set_key(Some(d.key))
                            .set_condition_expression(d.condition_expression)
                            .set_expression_attribute_values(d.expression_attribute_values)
                            .send(),
                    )
                    .map(drop)
                    .map_err(|e| {
                        (
                            e.code() == Some("ConditionalCheckFailedException"),
                            backend("DeleteItem", e),
                        )
                    }),
                _ => Ok(()),
            };
            return match result {
                Ok(()) => Ok(()),
                Err((true, _)) => Err(conflict()),
                Err((false, e)) => Err(e),
            };
        }
        let result = self.bridge.run(
            self.client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send(),
        );
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let cancelled = e.as_service_error().is_some_and(|se| {
                    se.is_transaction_canceled_exception()
                        || se.code() == Some("TransactionConflictException")
                });
                if cancelled {
                    Err(conflict())
                } else {
                    Err(backend("TransactWriteItems", e))
                }
            }
        }
    }

    fn put(
        &self,
        item: Item,
        condition: Option<(&str, Vec<(&str, AttributeValue)>)>,
    ) -> TransactWriteItem {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if let Some((expr, values)) = condition {
            put = put.condition_expression(expr);
            for (k, v) in values {
                put = put.expression_attribute_values(k, v);
            }
        }
        TransactWriteItem::builder()
            .put(
                put.build()
                    .unwrap_or_else(|_| unreachable!("table and item are set")),
            )
            .build()
    }
}

impl StateStore for DynamoStore {
    fn load(&mut self, node: &str, key: &str) -> Result<Option<Stored>, StoreError> {
        let Some(item) = self.get(state_pk(node), key)? else {
            return Ok(None);
        };
        let text = item
            .get("state")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| {
                StoreError::Backend(format!("state of {node}[{key:?}] has no `state`"))
            })?;
        let state: NodeState = serde_json::from_str(text).map_err(|e| {
            StoreError::Backend(format!("state of {node}[{key:?}] is not readable: {e}"))
        })?;
        Ok(Some(Stored {
            state,
            deadline: number(&item, "deadline"),
            version: number(&item, "version")
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(0),
        }))
    }

    fn save(
        &mut self,
        node: &str,
        key: &str,
        expected: u64,
        value: Option<(NodeState, Option<Millis>)>,
    ) -> Result<(), StoreError> {
        let condition: (&str, Vec<(&str, AttributeValue)>) = if expected == 0 {
            ("attribute_not_exists(pk)", Vec::new())
        } else {
            ("version = :v", vec![(":v", n(expected))])
        };
        let item = match value {
            None => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .key("pk", s(&state_pk(node)))
                    .key("sk", s(key))
                    .condition_expression(condition.0)
                    .set_expression_attribute_values((!condition.1.is_empty()).then(|| {
                        condition
                            .1
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect()
                    }))
                    .build()
                    .unwrap_or_else(|_| unreachable!("table and key are set"));
                if expected == 0 {
                    return Ok(()); // Nothing saved, nothing to delete.
                }
                TransactWriteItem::builder().delete(delete).build()
            }
            Some((state, deadline)) => {
                let text = serde_json::to_string(&state)
                    .map_err(|e| StoreError::Backend(format!("state of {node}: {e}")))?;
                let mut item = Item::new();
                item.insert("pk".into(), s(&state_pk(node)));
                item.insert("sk".into(), s(key));
                item.insert("state".into(), AttributeValue::S(text));
                item.insert("version".into(), n(expected + 1));
                if let Some(d) = deadline {
                    item.insert("deadline".into(), n(d));
                    if self.ttl_state {
                        item.insert("expires_at".into(), n((d + TTL_GRACE_MS) / 1000));
                    }
                }
                self.put(item, Some(condition))
            }
        };
        self.staged.push(item);
        Ok(())
    }

    fn remember(
        &mut self,
        node: &str,
        event_id: &str,
        expires_at: Millis,
    ) -> Result<bool, StoreError> {
        if self.get(seen_pk(node, event_id), "seen")?.is_some() {
            return Ok(false);
        }
        let mut item = Item::new();
        item.insert("pk".into(), s(&seen_pk(node, event_id)));
        item.insert("sk".into(), s("seen"));
        item.insert("expires_at".into(), n(expires_at / 1000));
        let put = self.put(item, Some(("attribute_not_exists(pk)", Vec::new())));
        self.staged.push(put);
        Ok(true)
    }
}

impl Commit for DynamoStore {
    fn commit(&mut self) -> Result<(), StoreError> {
        let items = std::mem::take(&mut self.staged);
        if items.is_empty() {
            return Ok(());
        }
        self.write(items)
    }
}

impl Timers for DynamoStore {
    /// Due keys of the node the store serves ([`DynamoStore::for_node`]);
    /// finding every node's keys would need a scan, so without a node
    /// this is empty.
    fn due(&mut self, until: Millis) -> Result<Vec<Due>, StoreError> {
        match self.node.clone() {
            Some(node) => self.due_of(&node, until),
            None => Ok(Vec::new()),
        }
    }

    /// Unknown here: the scheduled flush rule drives deadlines.
    fn next_deadline(&self) -> Option<Millis> {
        None
    }
}

impl DynamoStore {
    /// Keys of `node` whose deadline is at or before `until`, in deadline
    /// order.
    pub fn due_of(&mut self, node: &str, until: Millis) -> Result<Vec<Due>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .bridge
                .run(
                    self.client
                        .query()
                        .table_name(&self.table)
                        .key_condition_expression("pk = :pk")
                        .filter_expression("deadline <= :until")
                        .expression_attribute_values(":pk", s(&state_pk(node)))
                        .expression_attribute_values(":until", n(until))
                        .projection_expression("sk, deadline")
                        .consistent_read(true)
                        .set_exclusive_start_key(start.take())
                        .send(),
                )
                .map_err(|e| backend("Query", e))?;
            for item in page.items() {
                let (Some(key), Some(deadline)) = (
                    item.get("sk").and_then(|v| v.as_s().ok()),
                    number(item, "deadline"),
                ) else {
                    continue;
                };
                out.push(Due {
                    deadline,
                    node: node.to_string(),
                    key: key.clone(),
                });
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        out.sort();
        Ok(out)
    }
}

impl Outbox for DynamoStore {
    fn stage_outbox(&mut self, node: &str, id: &str, entries: &[Entry]) -> Result<(), StoreError> {
        let list = Value::Array(entries.iter().map(entry_value).collect());
        let now = super::clock::wall_millis();
        let mut item = Item::new();
        item.insert("pk".into(), s(&outbox_pk(node)));
        item.insert("sk".into(), s(id));
        item.insert("entries".into(), AttributeValue::S(list.to_string()));
        item.insert("expires_at".into(), n((now + OUTBOX_TTL_MS) / 1000));
        let put = self.put(item, None);
        self.staged.push(put);
        Ok(())
    }

    fn pending(
        &mut self,
        node: &str,
        id: Option<&str>,
    ) -> Result<Vec<(String, Vec<Entry>)>, StoreError> {
        let items: Vec<Item> = match id {
            Some(id) => self.get(outbox_pk(node), id)?.into_iter().collect(),
            None => {
                let page = self
                    .bridge
                    .run(
                        self.client
                            .query()
                            .table_name(&self.table)
                            .key_condition_expression("pk = :pk")
                            .expression_attribute_values(":pk", s(&outbox_pk(node)))
                            .consistent_read(true)
                            .send(),
                    )
                    .map_err(|e| backend("Query", e))?;
                page.items.unwrap_or_default()
            }
        };
        let mut out = Vec::new();
        for item in items {
            let (Some(id), Some(text)) = (
                item.get("sk").and_then(|v| v.as_s().ok()),
                item.get("entries").and_then(|v| v.as_s().ok()),
            ) else {
                continue;
            };
            let list: Vec<Value> = serde_json::from_str(text).unwrap_or_default();
            out.push((
                id.clone(),
                list.iter().filter_map(entry_from_value).collect(),
            ));
        }
        Ok(out)
    }

    fn clear_outbox(&mut self, node: &str, id: &str) -> Result<(), StoreError> {
        self.bridge
            .run(
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .key("pk", s(&outbox_pk(node)))
                    .key("sk", s(id))
                    .send(),
            )
            .map(drop)
            .map_err(|e| backend("DeleteItem", e))
    }
}
