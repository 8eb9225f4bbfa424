//! Validation tests: every rejection rule of the spec, and the valid forms
//! next to them.
#![allow(clippy::unwrap_used)]

use super::{Pattern, PatternError, PatternErrorKind as K, ValidationOptions};

fn ok(text: &str) -> Pattern {
    Pattern::parse(text).unwrap_or_else(|e| panic!("{text} should be valid: {e}"))
}

fn bad(text: &str, kind: K) -> PatternError {
    match Pattern::parse(text) {
        Ok(_) => panic!("{text} should be rejected"),
        Err(e) => {
            assert_eq!(e.kind, kind, "{text}: {e}");
            e
        }
    }
}

/// A leaf `{"a": [<m>]}` with match object `m`.
fn leaf(m: &str) -> String {
    format!(r#"{{"a":[{m}]}}"#)
}

#[test]
fn structure_rejections() {
    for t in ["[]", r#""x""#, "5", "null", "true", r#"[{"a":["x"]}]"#] {
        bad(t, K::Structure);
    }
    for t in [
        "{",
        r#"{"a":["x"],}"#,
        r#"{"a":[01]}"#,
        "",
        r#"{"a":["x"]} x"#,
    ] {
        bad(t, K::Json);
    }
    bad("{}", K::Structure);
    bad(" { } ", K::Structure);
    bad(r#"{"a":{}}"#, K::Structure);
    bad(r#"{"a":{"b":{}}}"#, K::Structure);
    bad(r#"{"a":[]}"#, K::Structure);
    bad(r#"{"a":"x"}"#, K::Structure);
    bad(r#"{"a":5}"#, K::Structure);
    bad(r#"{"a":null}"#, K::Structure);
    bad(r#"{"a":true}"#, K::Structure);
    bad(r#"{"a":[["x"]]}"#, K::Structure);
    bad(r#"{"a":["x",[]]}"#, K::Structure);
}

#[test]
fn valid_basics() {
    ok(r#"{"source":["aws.ec2"]}"#);
    ok(r#"{"a":["x",5,true,null,""]}"#);
    ok(r#"{"detail":{"state":["running"],"nested":{"deep":[1]}}}"#);
    // Operator words are plain field names outside $or (trap 10).
    ok(r#"{"prefix":["a"],"numeric":{"exists":[1]}}"#);
    ok(r#"{"a":[{"exists":false}, "x"]}"#);
    ok(&leaf(r#"{"prefix":""}"#));
    ok(&leaf(r#"{"suffix":""}"#));
    ok(&leaf(r#"{"prefix":{"equals-ignore-case":"evtb"}}"#));
    ok(&leaf(r#"{"suffix":{"equals-ignore-case":".png"}}"#));
    ok(&leaf(r#"{"equals-ignore-case":""}"#));
    ok(&leaf(r#"{"wildcard":""}"#));
    ok(&leaf(r#"{"wildcard":"*"}"#));
    ok(&leaf(r#"{"wildcard":"a\\*b\\\\c*"}"#));
    ok(&leaf(r#"{"cidr":"10.0.0.77/24"}"#));
    ok(&leaf(r#"{"cidr":"2001:db8::/32"}"#));
    ok(&leaf(r#"{"exists":true}"#));
}

#[test]
fn match_object_rejections() {
    for op in [
        "contains",
        "regex",
        "Prefix",
        "EXISTS",
        "$or",
        "anything_but",
    ] {
        let e = bad(&leaf(&format!(r#"{{"{op}":"x"}}"#)), K::Operator);
        assert!(e.reason.contains(op), "{e}");
    }
    bad(&leaf("{}"), K::Operator);
    bad(&leaf(r#"{"prefix":"a","suffix":"b"}"#), K::Operator);
    bad(&leaf(r#"{"exists":true,"x":1}"#), K::Operator);
}

#[test]
fn operand_rejections() {
    for op in ["prefix", "suffix", "equals-ignore-case", "wildcard", "cidr"] {
        for v in [r#"["a"]"#, "5", "null", "true", "[]"] {
            bad(&leaf(&format!(r#"{{"{op}":{v}}}"#)), K::Operand);
        }
    }
    for op in ["equals-ignore-case", "wildcard", "cidr"] {
        bad(&leaf(&format!(r#"{{"{op}":{{"x":"y"}}}}"#)), K::Operand);
    }
    for inner in [
        r#"{"equals-ignore-case":5}"#,
        r#"{"equals-ignore-case":["a"]}"#,
        r#"{"foo":"x"}"#,
        r#"{"prefix":"x"}"#,
        r#"{"equals-ignore-case":"x","y":"z"}"#,
        "{}",
    ] {
        bad(&leaf(&format!(r#"{{"prefix":{inner}}}"#)), K::Operand);
        bad(&leaf(&format!(r#"{{"suffix":{inner}}}"#)), K::Operand);
    }
}

#[test]
fn wildcard_rejections() {
    bad(&leaf(r#"{"wildcard":"a**b"}"#), K::Wildcard);
    bad(&leaf(r#"{"wildcard":"**"}"#), K::Wildcard);
    bad(&leaf(r#"{"wildcard":"a\\b"}"#), K::Wildcard);
    bad(&leaf(r#"{"wildcard":"a\\"}"#), K::Wildcard);
    bad(&leaf(r#"{"wildcard":"\\?"}"#), K::Wildcard);
    bad(&leaf(r#"{"anything-but":{"wildcard":"a**"}}"#), K::Wildcard);
}

#[test]
fn anything_but_forms() {
    for v in [
        r#""stopped""#,
        "5",
        r#"["a","b"]"#,
        "[100, 200.5]",
        r#"{"prefix":"us-"}"#,
        r#"{"prefix":["us-","eu-"]}"#,
        r#"{"suffix":".tmp"}"#,
        r#"{"suffix":[".tmp",".bak"]}"#,
        r#"{"equals-ignore-case":"x"}"#,
        r#"{"equals-ignore-case":["Stopped","Failed"]}"#,
        r#"{"wildcard":"*/tmp/*"}"#,
        r#"{"wildcard":["*/tmp/*","x"]}"#,
    ] {
        ok(&leaf(&format!(r#"{{"anything-but":{v}}}"#)));
    }
    for v in [
        "null",
        "true",
        "false",
        "[]",
        r#"["a",1]"#,
        "[null]",
        "[true]",
        r#"[{"prefix":"a"}]"#,
        r#"[["a"]]"#,
        r#"["a",null]"#,
        "{}",
        r#"{"contains":"x"}"#,
        r#"{"numeric":[">",1]}"#,
        r#"{"exists":true}"#,
        r#"{"cidr":"10.0.0.0/8"}"#,
        r#"{"anything-but":"x"}"#,
        r#"{"prefix":""}"#,
        r#"{"suffix":""}"#,
        r#"{"prefix":["a",""]}"#,
        r#"{"prefix":[]}"#,
        r#"{"prefix":5}"#,
        r#"{"prefix":{"equals-ignore-case":"x"}}"#,
        r#"{"suffix":{"equals-ignore-case":"x"}}"#,
        r#"{"equals-ignore-case":[1]}"#,
        r#"{"equals-ignore-case":["a",1]}"#,
        r#"{"equals-ignore-case":5}"#,
        r#"{"equals-ignore-case":null}"#,
        r#"{"wildcard":[5]}"#,
        r#"{"prefix":"a","suffix":"b"}"#,
    ] {
        bad(&leaf(&format!(r#"{{"anything-but":{v}}}"#)), K::AnythingBut);
    }
}

#[test]
fn numeric_forms() {
    for v in [
        r#"["=",5]"#,
        r#"["<",5]"#,
        r#"["<=",-5.5]"#,
        r#"[">",0]"#,
        r#"[">=",1e308]"#,
        r#"[">",0,"<=",5]"#,
        r#"[">=",0,"<",5]"#,
        r#"[">",-1,"<",-0.5]"#,
        r#"[">",0.1,"<",0.2]"#,
        r#"["<",9007199254740992]"#,
        r#"["<",1152921504606846976]"#,
        r#"[">",-1.7976931348623157e308]"#,
    ] {
        ok(&leaf(&format!(r#"{{"numeric":{v}}}"#)));
    }
    for v in [
        r#""5""#,
        "5",
        "{}",
        "[]",
        r#"["!=",5]"#,
        r#"["==",5]"#,
        r#"["=>",5]"#,
        r#"[">","5"]"#,
        r#"[">",null]"#,
        r#"[">"]"#,
        r#"[">",1,"<"]"#,
        r#"[5,">"]"#,
        r#"["<",5,">",1]"#,
        r#"[">",1,">",0]"#,
        r#"["=",1,"<",5]"#,
        r#"[">",1,"=",5]"#,
        r#"[">",1,"<",5,"<",6]"#,
        r#"[">",5,"<",5]"#,
        r#"[">=",5,"<=",5]"#,
        r#"[">",6,"<",5]"#,
        r#"[">",9007199254740993]"#,
        r#"["<",1E309]"#,
        r#"["<",1E-400]"#,
        r#"["=",0.30000000000000001]"#,
        r#"["<",123456789012345678901234567890]"#,
    ] {
        bad(&leaf(&format!(r#"{{"numeric":{v}}}"#)), K::Numeric);
    }
}

#[test]
fn exists_and_cidr_rejections() {
    for v in [r#""true""#, "1", "0", "null", "[true]", "{}"] {
        bad(&leaf(&format!(r#"{{"exists":{v}}}"#)), K::Exists);
    }
    for v in [
        "10.0.0.0",
        "10.0.0.0/32",
        "10.0.0.0/33",
        "2001:db8::/128",
        "2001:db8::1",
        "10.0/16",
        "10/8",
        "256.0.0.0/8",
        "10.0.0.0.0/8",
        " 10.0.0.0/8",
        "10.0.0.0/ 8",
        "",
        "/8",
        "10.0.0.0/",
        "2001:db8:::/32",
        "gggg::/16",
    ] {
        bad(&leaf(&format!(r#"{{"cidr":"{v}"}}"#)), K::Cidr);
    }
}

#[test]
fn or_rules() {
    ok(r#"{"$or":[{"a":["x"]},{"b":["y"]}]}"#);
    ok(r#"{"c":["z"],"$or":[{"a":["x"]},{"b":{"$or":[{"d":[1]},{"e":[2]}]}}]}"#);
    ok(r#"{"detail":{"$or":[{"a":["x"]},{"b":[{"prefix":"y"}]}]}}"#);
    for t in [
        r#"{"$or":{"a":["x"]}}"#,
        r#"{"$or":"x"}"#,
        r#"{"$or":[]}"#,
        r#"{"$or":[{"a":["x"]}]}"#,
        r#"{"$or":[{"a":["x"]},5]}"#,
        r#"{"$or":[{"a":["x"]},["b"]]}"#,
        r#"{"$or":[{"a":["x"]},{"prefix":["y"]}]}"#,
        r#"{"$or":[{"a":["x"]},{"b":{"numeric":["y"]}}]}"#,
        r#"{"$or":[{"a":["x"]},{">":["y"]}]}"#,
        r#"{"$or":[{"a":["x"]},{"b":{"c":{"exists":[true]}}}]}"#,
        r#"{"$or":[{"a":["x"]},{"b":{"$or":[{"c":[1]},{"cidr":[2]}]}}]}"#,
    ] {
        bad(t, K::Or);
    }
    bad(r#"{"$or":[{"a":["x"]},{}]}"#, K::Structure);
}

/// `n` branches `{"fI":[I]}` for an `$or` array.
fn branches(field: &str, n: usize) -> String {
    let items: Vec<String> = (0..n).map(|i| format!(r#"{{"{field}":[{i}]}}"#)).collect();
    format!("[{}]", items.join(","))
}

#[test]
fn or_combination_quota() {
    let p = ok(&format!(
        r#"{{"a":{{"$or":{}}},"b":{{"$or":{}}},"c":{{"$or":{}}}}}"#,
        branches("x", 10),
        branches("y", 10),
        branches("z", 10)
    ));
    assert_eq!(p.combinations(), 1000);
    bad(
        &format!(
            r#"{{"a":{{"$or":{}}},"b":{{"$or":{}}},"c":{{"$or":{}}},"$or":{}}}"#,
            branches("x", 10),
            branches("y", 10),
            branches("z", 10),
            branches("w", 2)
        ),
        K::TooManyCombinations,
    );
    // The count is the product of all $or lengths, nested ones included.
    let nested = format!(
        r#"{{"$or":[{{"a":["x"],"$or":{}}},{{"b":["y"],"$or":{}}}]}}"#,
        branches("p", 25),
        branches("q", 25)
    );
    bad(&nested, K::TooManyCombinations);
}

#[test]
fn length_quota() {
    let pad = |n: usize| format!(r#"{{"a":["{}"]}}"#, "x".repeat(n - 10));
    assert_eq!(pad(2048).chars().count(), 2048);
    ok(&pad(2048));
    bad(&pad(2049), K::TooLong);
    let big = ValidationOptions { max_length: 4096 };
    assert!(Pattern::parse_with(&pad(4000), &big).is_ok());
    // Characters, not bytes.
    let wide = format!(r#"{{"a":["{}"]}}"#, "é".repeat(2038));
    ok(&wide);
}

#[test]
fn error_messages_and_paths() {
    let e = bad(r#"{"detail":{"status":["x",{"prefix":5}]}}"#, K::Operand);
    assert_eq!(e.path.as_deref(), Some("detail.status[1].prefix"));
    let s = e.to_string();
    assert!(s.starts_with("Event pattern is not valid. Reason: "), "{s}");
    assert!(s.contains("detail.status[1].prefix"), "{s}");
    let e = bad(r#"{"$or":[{"a":["x"]},{"b":[]}]}"#, K::Structure);
    assert_eq!(e.path.as_deref(), Some("$or[1].b"));
    let e = bad(r#"{"a":{}}"#, K::Structure);
    assert_eq!(e.path.as_deref(), Some("a"));
}

#[test]
fn duplicate_keys_are_validated_and_merged() {
    // Every definition is validated, even one that is overridden.
    bad(r#"{"a":[],"a":["x"]}"#, K::Structure);
    bad(r#"{"a":{},"a":{"b":["x"]}}"#, K::Structure);
    let p = ok(r#"{"a":["x"],"a":["y"]}"#);
    assert_eq!(p.fields.len(), 1);
    let p = ok(r#"{"d":{"x":["1"]},"d":{"y":["2"]}}"#);
    assert_eq!(p.fields.len(), 2);
}

#[test]
fn from_value_and_from_str() {
    let v = serde_json::json!({"source": ["a"], "detail": {"n": [{"numeric": [">", 1]}]}});
    let p = Pattern::from_value(&v).unwrap();
    assert!(p.matches(&serde_json::json!({"source": "a", "detail": {"n": 2}})));
    assert!(Pattern::from_value(&serde_json::json!({})).is_err());
    let p: Pattern = r#"{"a":["b"]}"#.parse().unwrap();
    assert_eq!(p.to_string(), r#"{"a":["b"]}"#);
    assert_eq!(p.source(), r#"{"a":["b"]}"#);
    assert_eq!(p.combinations(), 1);
}
