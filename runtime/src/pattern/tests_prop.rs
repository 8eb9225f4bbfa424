//! Property test: the multi-rule matcher selects exactly the rules that
//! match one by one, on generated patterns and events.
#![allow(clippy::unwrap_used)]

use super::{Pattern, RuleSet};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const PATHS: &[&str] = &[
    "source",
    "detail-type",
    "detail.a",
    "detail.b",
    "detail.items.x",
    "detail.items.y",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!("a"),
        json!("b"),
        json!("A"),
        json!(""),
        json!("10.0.0.1"),
        json!(0),
        json!(1),
        json!(2.0),
        json!(5),
        json!(true),
        json!(false),
        Value::Null,
    ])
}

fn word() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["a", "b", "A", "", "1"])
}

fn matcher() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => scalar(),
        1 => word().prop_map(|s| json!({ "prefix": s })),
        1 => word().prop_map(|s| json!({ "suffix": s })),
        1 => word().prop_map(|s| json!({ "equals-ignore-case": s })),
        1 => word().prop_map(|s| json!({ "prefix": { "equals-ignore-case": s } })),
        1 => prop::collection::vec(word(), 1..3).prop_map(|l| json!({ "anything-but": l })),
        1 => prop::collection::vec(0i32..6, 1..3).prop_map(|l| json!({ "anything-but": l })),
        1 => Just(json!({ "anything-but": { "prefix": "a" } })),
        1 => (0i32..4, 1i32..4).prop_map(|(lo, w)| json!({ "numeric": [">=", lo, "<", lo + w] })),
        1 => (0i32..6).prop_map(|x| json!({ "numeric": ["=", x] })),
        1 => any::<bool>().prop_map(|b| json!({ "exists": b })),
        1 => prop::sample::select(vec!["*", "a*", "*b", ""]).prop_map(|w| json!({ "wildcard": w })),
        1 => Just(json!({ "cidr": "10.0.0.0/24" })),
    ]
}

type Fields = Vec<(usize, Vec<Value>)>;

fn fields() -> impl Strategy<Value = Fields> {
    prop::collection::vec(
        (0..PATHS.len(), prop::collection::vec(matcher(), 1..3)),
        1..4,
    )
}

fn insert(map: &mut Map<String, Value>, path: &str, leaf: Value) {
    match path.split_once('.') {
        None => {
            map.insert(path.to_string(), leaf);
        }
        Some((head, rest)) => {
            let sub = map
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = sub {
                insert(m, rest, leaf);
            }
        }
    }
}

fn object(fs: &Fields) -> Map<String, Value> {
    let mut m = Map::new();
    for (p, leaf) in fs {
        insert(&mut m, PATHS[*p], Value::Array(leaf.clone()));
    }
    m
}

fn pattern() -> impl Strategy<Value = Pattern> {
    (
        fields(),
        prop::option::of(prop::collection::vec(fields(), 2..4)),
    )
        .prop_map(|(fs, or)| {
            let mut m = object(&fs);
            if let Some(branches) = or {
                let bs: Vec<Value> = branches.iter().map(|b| Value::Object(object(b))).collect();
                m.insert("$or".into(), Value::Array(bs));
            }
            Pattern::from_value(&Value::Object(m)).unwrap()
        })
}

fn value() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => scalar().prop_map(Some),
        1 => Just(None),
        1 => prop::collection::vec(scalar(), 0..3).prop_map(|v| Some(Value::Array(v))),
    ]
}

fn event() -> impl Strategy<Value = Value> {
    (
        value(),
        value(),
        value(),
        value(),
        prop::collection::vec((value(), value()), 0..4),
    )
        .prop_map(|(s, dt, a, b, items)| {
            let mut m = Map::new();
            let mut d = Map::new();
            let put = |m: &mut Map<String, Value>, k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    m.insert(k.to_string(), v);
                }
            };
            put(&mut m, "source", s);
            put(&mut m, "detail-type", dt);
            put(&mut d, "a", a);
            put(&mut d, "b", b);
            let items: Vec<Value> = items
                .into_iter()
                .map(|(x, y)| {
                    let mut o = Map::new();
                    put(&mut o, "x", x);
                    put(&mut o, "y", y);
                    Value::Object(o)
                })
                .collect();
            d.insert("items".into(), Value::Array(items));
            m.insert("detail".into(), Value::Object(d));
            Value::Object(m)
        })
}

/// Checks the RuleSet against one-by-one matching on every event.
fn compare(patterns: &[Pattern], events: &[Value]) -> Result<(), TestCaseError> {
    let rules: Vec<(String, Pattern)> = patterns
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("r{i}"), p.clone()))
        .collect();
    let rs = RuleSet::new(rules.clone());
    for ev in events {
        let expected: Vec<&str> = rules
            .iter()
            .filter(|(_, p)| p.matches(ev))
            .map(|(n, _)| n.as_str())
            .collect();
        prop_assert_eq!(&rs.matching(ev), &expected, "event {}", ev);
        let text = ev.to_string();
        prop_assert_eq!(&rs.matching_json(&text).unwrap(), &expected);
        for (_, p) in &rules {
            prop_assert_eq!(p.explain(ev).is_none(), p.matches(ev));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn rule_set_equals_one_by_one(
        patterns in prop::collection::vec(pattern(), 1..30),
        events in prop::collection::vec(event(), 1..8),
    ) {
        compare(&patterns, &events)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(30))]

    /// Enough rules for a deep decision tree.
    #[test]
    fn rule_set_equals_one_by_one_many_rules(
        patterns in prop::collection::vec(pattern(), 60..150),
        events in prop::collection::vec(event(), 1..12),
    ) {
        compare(&patterns, &events)?;
    }
}
