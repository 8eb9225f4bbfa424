//! One suite for every repository: SQLite (in memory and on disk) always,
//! DynamoDB on the moto stand-in when built with `--features aws` and run
//! under `scripts/with-moto` (FLOWC_AWS_ENDPOINT set); otherwise the
//! DynamoDB case prints a notice and passes.

#![cfg(feature = "store")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use flow_runtime::store::repo::{Expect, Kind, RepoError, Repository};
use flow_runtime::store::SqliteRepo;
use serde_json::json;

async fn suite(repo: Arc<dyn Repository>) {
    let r = repo.as_ref();
    // Absent records, first writes, duplicate creation.
    assert_eq!(r.get(Kind::Flow, "f").await.unwrap(), None);
    assert_eq!(
        r.put(Kind::Flow, "f", &json!({"n": 1}), Expect::Absent)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        r.put(Kind::Flow, "f", &json!({"n": 9}), Expect::Absent)
            .await,
        Err(RepoError::Conflict { current: 1 })
    );
    // Compare-and-swap.
    assert_eq!(
        r.put(Kind::Flow, "f", &json!({"n": 2}), Expect::Version(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        r.put(Kind::Flow, "f", &json!({"n": 3}), Expect::Version(1))
            .await,
        Err(RepoError::Conflict { current: 2 })
    );
    assert_eq!(
        r.put(Kind::Flow, "nope", &json!({}), Expect::Version(1))
            .await,
        Err(RepoError::Conflict { current: 0 })
    );
    let got = r.get(Kind::Flow, "f").await.unwrap().unwrap();
    assert_eq!(
        (got.id.as_str(), got.version, got.body),
        ("f", 2, json!({"n": 2}))
    );
    // Kinds are separate namespaces.
    assert_eq!(r.get(Kind::Event, "f").await.unwrap(), None);
    assert_eq!(
        r.put(Kind::Event, "f", &json!("e"), Expect::Absent)
            .await
            .unwrap(),
        1
    );

    // Lists: id order, pages continue strictly after the last id.
    for id in ["e5", "e1", "e3", "e2", "e4"] {
        r.put(Kind::Route, id, &json!({ "id": id }), Expect::Absent)
            .await
            .unwrap();
    }
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = r.list(Kind::Route, after.as_deref(), 2).await.unwrap();
        pages.push(page.items.iter().map(|v| v.id.clone()).collect::<Vec<_>>());
        match page.last {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    assert_eq!(pages, [vec!["e1", "e2"], vec!["e3", "e4"], vec!["e5"]]);
    let all = r.list(Kind::Route, None, 5).await.unwrap();
    assert_eq!((all.items.len(), all.last), (5, None));
    let tail = r.list(Kind::Route, Some("e4"), 100).await.unwrap();
    assert_eq!(
        tail.items.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(),
        ["e5"]
    );
    assert_eq!(tail.items[0].body, json!({"id": "e5"}));
    assert!(r
        .list(Kind::Route, Some("e5"), 10)
        .await
        .unwrap()
        .items
        .is_empty());

    // Deletes: stale version, any version, twice.
    assert_eq!(
        r.delete(Kind::Flow, "f", Some(1)).await,
        Err(RepoError::Conflict { current: 2 })
    );
    assert!(r.delete(Kind::Flow, "f", Some(2)).await.unwrap());
    assert!(!r.delete(Kind::Flow, "f", None).await.unwrap());
    assert!(r.delete(Kind::Event, "f", None).await.unwrap());
    assert!(!r.delete(Kind::Event, "f", Some(1)).await.unwrap());

    // Racing writers from one version: exactly one wins.
    r.put(Kind::Route, "race", &json!(0), Expect::Absent)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let repo = repo.clone();
        tasks.push(tokio::spawn(async move {
            repo.put(Kind::Route, "race", &json!(i), Expect::Version(1))
                .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(2) => won += 1,
            Err(RepoError::Conflict { current: 2 }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(
        r.get(Kind::Route, "race").await.unwrap().unwrap().version,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_memory() {
    suite(Arc::new(SqliteRepo::in_memory().unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_disk_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    suite(Arc::new(SqliteRepo::open(dir.path()).unwrap())).await;
    let again = SqliteRepo::open(dir.path()).unwrap();
    assert_eq!(
        again
            .get(Kind::Route, "race")
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    assert!(dir.path().join("store.sqlite").exists());
}

#[cfg(feature = "aws")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_on_moto() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    use flow_runtime::store::aws::DynamoRepo;

    let Some(endpoint) = std::env::var("FLOWC_AWS_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
    else {
        eprintln!("skipped: FLOWC_AWS_ENDPOINT is not set (run under scripts/with-moto to test the DynamoDB repository)");
        return;
    };
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&endpoint)
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = format!("store-suite-{}", std::process::id());
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(&table)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    suite(Arc::new(DynamoRepo::new(client.clone(), table.clone()))).await;
    let _ = client.delete_table().table_name(&table).send().await;
}
