//! Matching tests: every operator row and every trap of the spec, plus
//! explanations and the multi-rule matcher.
#![allow(clippy::unwrap_used)]

use super::{MismatchReason, Pattern, RuleSet};
use serde_json::Value;

fn pat(text: &str) -> Pattern {
    Pattern::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Matches through every API (Value, text, one-rule RuleSet) and checks
/// they agree.
fn m(pattern: &str, event: &str) -> bool {
    let p = pat(pattern);
    let by_text = p.matches_json(event).unwrap();
    let v: Value = serde_json::from_str(event).unwrap();
    assert_eq!(p.matches(&v), by_text, "Value vs text: {pattern} / {event}");
    let rs = RuleSet::new(vec![("r".into(), p.clone())]);
    assert_eq!(
        rs.matching(&v) == ["r"],
        by_text,
        "RuleSet: {pattern} / {event}"
    );
    assert_eq!(
        p.explain(&v).is_none(),
        by_text,
        "explain: {pattern} / {event}"
    );
    by_text
}

/// Text-only matching (event numbers serde_json cannot keep exactly).
fn mt(pattern: &str, event: &str) -> bool {
    let p = pat(pattern);
    let r = p.matches_json(event).unwrap();
    let rs = RuleSet::new(vec![("r".into(), p)]);
    assert_eq!(rs.matching_json(event).unwrap() == ["r"], r);
    r
}

/// Pattern `{"f": [<leaf>]}` against each `{"f": <value>}`.
fn check(leaf: &str, yes: &[&str], no: &[&str]) {
    let p = format!(r#"{{"f":[{leaf}]}}"#);
    for v in yes {
        assert!(m(&p, &format!(r#"{{"f":{v}}}"#)), "{leaf} should match {v}");
    }
    for v in no {
        assert!(
            !m(&p, &format!(r#"{{"f":{v}}}"#)),
            "{leaf} should not match {v}"
        );
    }
}

#[test]
fn exact_values() {
    check(
        r#""PAID""#,
        &[r#""PAID""#],
        &[r#""paid""#, r#""PAID ""#, "5"],
    );
    check(
        "12",
        &["12", "12.0", "1.2e1", "120e-1"],
        &[r#""12""#, "13", "true"],
    );
    check("300", &["300.0", "3.0e2", "300"], &["301"]);
    check("true", &["true"], &[r#""true""#, "1", "false"]);
    check("false", &["false"], &["0", r#""false""#]);
    check("null", &["null"], &[r#""""#, "0", "false"]);
    check(r#""""#, &[r#""""#], &["null", r#"" ""#]);
    check("0", &["0", "-0", "0.0"], &["false", "null"]);
    assert!(!m(r#"{"f":[null]}"#, r#"{"g":1}"#));
    assert!(!m(r#"{"f":[""]}"#, r#"{"g":1}"#));
    // Field names are case-sensitive; strings are not normalised.
    assert!(!m(r#"{"f":["x"]}"#, r#"{"F":"x"}"#));
    check(r#""é""#, &[r#""é""#], &[r#""e\u0301""#, r#""É""#]);
}

#[test]
fn prefix_suffix_ignore_case() {
    check(
        r#"{"prefix":"us-"}"#,
        &[r#""us-east-1""#, r#""us-""#],
        &[r#""US-east""#, "5", "null"],
    );
    check(
        r#"{"prefix":""}"#,
        &[r#""""#, r#""x""#],
        &["5", "null", "true"],
    );
    check(
        r#"{"prefix":{"equals-ignore-case":"evtb"}}"#,
        &[r#""EVTBus""#, r#""evtb""#],
        &[r#""evt""#, "5"],
    );
    check(
        r#"{"suffix":".png"}"#,
        &[r#""a.png""#, r#"".png""#],
        &[r#""a.PNG""#, r#""a.png.gz""#, "5"],
    );
    check(r#"{"suffix":""}"#, &[r#""""#], &["1"]);
    check(
        r#"{"suffix":{"equals-ignore-case":".png"}}"#,
        &[r#""a.PnG""#],
        &[r#""a.pngx""#],
    );
    check(
        r#"{"equals-ignore-case":"alice"}"#,
        &[r#""ALICE""#, r#""Alice""#],
        &[r#""alicia""#, "5"],
    );
    // Trap 13: simple per-character folding.
    check(r#"{"equals-ignore-case":"é"}"#, &[r#""É""#], &[r#""E""#]);
    check(
        r#"{"equals-ignore-case":"ß"}"#,
        &[r#""ß""#],
        &[r#""SS""#, r#""ss""#],
    );
    check(
        r#"{"equals-ignore-case":"Σ"}"#,
        &[r#""σ""#, r#""Σ""#],
        &[r#""ς""#],
    );
    check(
        r#"{"equals-ignore-case":"i"}"#,
        &[r#""I""#],
        &[r#""İ""#, r#""ı""#],
    );
}

#[test]
fn wildcard() {
    check(
        r#"{"wildcard":"dir/*.png"}"#,
        &[r#""dir/a.png""#, r#""dir/.png""#],
        &[r#""dir/a.PNG""#, r#""dir/a.png.1""#, "5"],
    );
    // Trap 8: only * is special; "" matches only ""; * matches "".
    check(
        r#"{"wildcard":"a?.[b]"}"#,
        &[r#""a?.[b]""#],
        &[r#""ax.[b]""#, r#""a?x[b]""#],
    );
    check(r#"{"wildcard":""}"#, &[r#""""#], &[r#""a""#]);
    check(
        r#"{"wildcard":"*"}"#,
        &[r#""""#, r#""anything""#],
        &["5", "null"],
    );
    check(r#"{"wildcard":"a\\*"}"#, &[r#""a*""#], &[r#""ab""#]);
    check(
        r#"{"wildcard":"a\\\\*"}"#,
        &[r#""a\\""#, r#""a\\x""#],
        &[r#""ax""#],
    );
}

#[test]
fn anything_but() {
    // Trap 4: present scalars of any other type, arrays with a survivor.
    check(
        r#"{"anything-but":"stopped"}"#,
        &[r#""running""#, "null", "5", "true", r#"["stopped","x"]"#],
        &[r#""stopped""#, r#"["stopped"]"#, "[]", "{}", r#"{"a":"x"}"#],
    );
    assert!(!m(r#"{"f":[{"anything-but":"stopped"}]}"#, r#"{"g":"x"}"#));
    check(
        r#"{"anything-but":["a","b"]}"#,
        &[r#""c""#, "1"],
        &[r#""a""#, r#""b""#],
    );
    check(
        r#"{"anything-but":[100,200]}"#,
        &["150", r#""100""#, "null"],
        &["100", "100.0", "1e2", "200"],
    );
    check(r#"{"anything-but":100}"#, &["101"], &["100", "1E2"]);
    check(
        r#"{"anything-but":{"prefix":"us-"}}"#,
        &[r#""eu-west-1""#, "5", "null"],
        &[r#""us-east-1""#, r#""us-""#],
    );
    check(
        r#"{"anything-but":{"prefix":["us-","eu-"]}}"#,
        &[r#""ap-1""#],
        &[r#""eu-1""#, r#""us-1""#],
    );
    check(
        r#"{"anything-but":{"suffix":".tmp"}}"#,
        &[r#""a.txt""#, "1"],
        &[r#""a.tmp""#],
    );
    check(
        r#"{"anything-but":{"equals-ignore-case":["Stopped","Failed"]}}"#,
        &[r#""running""#, "5"],
        &[r#""STOPPED""#, r#""failed""#],
    );
    check(
        r#"{"anything-but":{"equals-ignore-case":"x"}}"#,
        &[r#""y""#],
        &[r#""X""#],
    );
    check(
        r#"{"anything-but":{"wildcard":"*/tmp/*"}}"#,
        &[r#""/var/log/x""#, "true"],
        &[r#""/a/tmp/b""#],
    );
    check(
        r#"{"anything-but":{"wildcard":["*/tmp/*","*.log"]}}"#,
        &[r#""/x""#],
        &[r#""a.log""#],
    );
}

#[test]
fn numeric() {
    check(
        r#"{"numeric":[">",0,"<=",5]}"#,
        &["0.5", "5", "[9,3]", "5.0", "1e-300"],
        &["0", r#""3""#, "true", "5.000001", "-1", "[9,6]"],
    );
    check(
        r#"{"numeric":["=",5]}"#,
        &["5", "5.0", "0.5e1"],
        &["5.1", r#""5""#],
    );
    check(r#"{"numeric":["<",0]}"#, &["-1e308", "-0.1"], &["0", "-0"]);
    check(r#"{"numeric":[">=",0,"<",1]}"#, &["0", "0.999"], &["1"]);
    check(
        r#"{"numeric":[">",9007199254740991]}"#,
        &["9007199254740992"],
        &["9007199254740991"],
    );
    // Trap 6: event numbers not exactly representable never satisfy numeric.
    let p = r#"{"f":[{"numeric":[">",0]}]}"#;
    assert!(!mt(p, r#"{"f":123456789012345678901234567890}"#));
    assert!(!mt(p, r#"{"f":1e400}"#));
    assert!(!mt(p, r#"{"f":9007199254740993}"#));
    assert!(mt(p, r#"{"f":9007199254740992}"#));
    // ... although an identical literal still matches exactly, by text.
    let big = "123456789012345678901234567890";
    assert!(mt(
        &format!(r#"{{"f":[{big}]}}"#),
        &format!(r#"{{"f":{big}}}"#)
    ));
    assert!(mt(
        &format!(r#"{{"f":[{big}]}}"#),
        &format!(r#"{{"f":{big}.0}}"#)
    ));
    assert!(!mt(
        &format!(r#"{{"f":[{big}]}}"#),
        r#"{"f":123456789012345678901234567891}"#
    ));
    assert!(mt(r#"{"f":[1e400]}"#, r#"{"f":10e399}"#));
    // A 64-bit integer from serde_json is still exact.
    assert!(!m(p, r#"{"f":9007199254740993}"#));
    assert!(m(
        r#"{"f":[9007199254740993]}"#,
        r#"{"f":9007199254740993}"#
    ));
    assert!(!m(
        r#"{"f":[9007199254740993]}"#,
        r#"{"f":9007199254740992}"#
    ));
}

#[test]
fn exists() {
    // Trap 2: leaves only; [], {}, objects and arrays of objects are absent.
    check(
        r#"{"exists":true}"#,
        &["null", r#""""#, "0", "false", "[1]", "[[1]]"],
        &["[]", "{}", r#"{"a":1}"#, r#"[{"a":1}]"#],
    );
    check(
        r#"{"exists":false}"#,
        &["[]", "{}", r#"{"a":1}"#, r#"[{"a":1}]"#],
        &["null", r#""""#, "0", "[1,2]"],
    );
    assert!(m(r#"{"f":[{"exists":false}]}"#, r#"{"g":1}"#));
    assert!(!m(r#"{"f":[{"exists":true}]}"#, r#"{"g":1}"#));
    // exists: false inside an array of objects fails if any element has it.
    let p = r#"{"items":{"qty":[{"exists":false}]}}"#;
    assert!(!m(p, r#"{"items":[{"sku":"A"},{"sku":"B","qty":1}]}"#));
    assert!(m(p, r#"{"items":[{"sku":"A"},{"sku":"B"}]}"#));
    // ORed with a value.
    let p = r#"{"f":[{"exists":false},"x"]}"#;
    assert!(m(p, r#"{"g":1}"#));
    assert!(m(p, r#"{"f":"x"}"#));
    assert!(!m(p, r#"{"f":"y"}"#));
    // A nested object pattern needs the nested leaf.
    assert!(!m(r#"{"f":{"g":[{"exists":true}]}}"#, r#"{"f":"x"}"#));
}

#[test]
fn cidr_and_ip_canonicalisation() {
    check(
        r#"{"cidr":"10.0.0.0/24"}"#,
        &[r#""10.0.0.255""#, r#""10.0.0.0""#],
        &[
            r#""10.0.1.0""#,
            r#""10.0.0.1:80""#,
            r#""::ffff:10.0.0.1""#,
            "5",
            r#"" 10.0.0.1""#,
        ],
    );
    check(
        r#"{"cidr":"10.0.0.77/24"}"#,
        &[r#""10.0.0.1""#],
        &[r#""10.0.1.1""#],
    );
    check(
        r#"{"cidr":"2001:db8::/32"}"#,
        &[r#""2001:DB8:ffff::1""#, r#""2001:0db8::""#],
        &[r#""2001:db9::1""#, r#""10.0.0.1""#],
    );
    // Trap 7: IP-looking exact values compare as addresses.
    check(
        r#""2001:db8::1""#,
        &[r#""2001:0DB8::1""#, r#""2001:db8:0:0:0:0:0:1""#],
        &[r#""2001:db8::2""#],
    );
    check(
        r#"{"anything-but":"2001:db8::1"}"#,
        &[r#""2001:db8::2""#],
        &[r#""2001:0DB8::1""#],
    );
    check(
        r#""10.0.0.1""#,
        &[r#""10.0.0.1""#],
        &[r#""010.0.0.1""#, r#""::ffff:10.0.0.1""#],
    );
}

#[test]
fn arrays_are_transparent() {
    check(
        r#""a""#,
        &[r#"["x","a"]"#, r#"[["a"]]"#, r#"[[],["b",["a"]]]"#],
        &["[]", r#"["b"]"#],
    );
    // Objects inside arrays contribute their fields to the same path.
    let p = r#"{"items":{"sku":["A"]}}"#;
    assert!(m(p, r#"{"items":[{"sku":"B"},{"sku":"A"}]}"#));
    assert!(m(p, r#"{"items":[[{"sku":"A"}]]}"#));
    assert!(!m(p, r#"{"items":[{"sku":"B"}]}"#));
}

#[test]
fn array_consistency() {
    // Trap 3.
    let p = r#"{"items":{"sku":["A"],"qty":[2]}}"#;
    assert!(!m(
        p,
        r#"{"items":[{"sku":"A","qty":1},{"sku":"B","qty":2}]}"#
    ));
    assert!(m(
        p,
        r#"{"items":[{"sku":"A","qty":1},{"sku":"A","qty":2}]}"#
    ));
    assert!(m(
        p,
        r#"{"items":[{"sku":"B","qty":2},{"sku":["A","C"],"qty":[2,3]}]}"#
    ));
    // Different arrays are independent.
    assert!(m(
        r#"{"a":{"x":[1]},"b":{"y":[2]}}"#,
        r#"{"a":[{"x":1},{"x":2}],"b":[{"y":1},{"y":2}]}"#
    ));
    // Nested arrays: same outer element, any inner elements.
    let p = r#"{"o":{"id":["1"],"tags":{"k":["t"]}}}"#;
    assert!(m(
        p,
        r#"{"o":[{"id":"1","tags":[{"k":"u"},{"k":"t"}]},{"id":"2"}]}"#
    ));
    assert!(!m(
        p,
        r#"{"o":[{"id":"1","tags":[{"k":"u"}]},{"id":"2","tags":[{"k":"t"}]}]}"#
    ));
    // Arrays of arrays of objects.
    let p = r#"{"a":{"b":[1],"c":[4]}}"#;
    assert!(!m(p, r#"{"a":[[{"b":1,"c":2}],[{"b":3,"c":4}]]}"#));
    assert!(m(p, r#"{"a":[[{"b":1,"c":4}],[{"b":3,"c":2}]]}"#));
    // Inside $or branches too.
    let p = r#"{"items":{"$or":[{"sku":["A"],"qty":[2]},{"sku":["Z"]}]}}"#;
    assert!(!m(
        p,
        r#"{"items":[{"sku":"A","qty":1},{"sku":"B","qty":2}]}"#
    ));
    assert!(m(
        p,
        r#"{"items":[{"sku":"A","qty":1},{"sku":"Z","qty":2}]}"#
    ));
    // A field outside the array is consistent with any element.
    assert!(m(
        r#"{"s":["x"],"items":{"sku":["A"]}}"#,
        r#"{"s":"x","items":[{"sku":"B"},{"sku":"A"}]}"#
    ));
}

#[test]
fn or_semantics() {
    let p = r#"{"source":["s"],"$or":[{"a":["x"]},{"b":[{"numeric":[">",1]}]}]}"#;
    assert!(m(p, r#"{"source":"s","a":"x"}"#));
    assert!(m(p, r#"{"source":"s","b":2}"#));
    assert!(!m(p, r#"{"source":"s","b":1}"#));
    assert!(!m(p, r#"{"source":"t","a":"x"}"#));
    // Nested at several levels; the groups multiply.
    let p = r#"{"d":{"$or":[{"a":[1]},{"b":[2]}]},"$or":[{"e":[3]},{"d":{"$or":[{"f":[4]},{"g":[5]}]}}]}"#;
    assert_eq!(pat(p).combinations(), 6);
    assert!(m(p, r#"{"d":{"a":1},"e":3}"#));
    assert!(m(p, r#"{"d":{"b":2,"g":5}}"#));
    assert!(!m(p, r#"{"d":{"g":5}}"#));
    assert!(!m(p, r#"{"d":{"a":1}}"#));
}

#[test]
fn structure_and_types() {
    // Trap 5.
    assert!(!m(r#"{"f":[true]}"#, r#"{"f":1}"#));
    assert!(!m(r#"{"f":[false]}"#, r#"{"f":0}"#));
    assert!(!m(r#"{"f":[1]}"#, r#"{"f":true}"#));
    assert!(!m(r#"{"f":["5"]}"#, r#"{"f":5}"#));
    assert!(!m(r#"{"f":[5]}"#, r#"{"f":"5"}"#));
    // Nested pattern against a scalar, and vice versa.
    assert!(!m(r#"{"f":{"g":["x"]}}"#, r#"{"f":"x"}"#));
    assert!(!m(r#"{"f":["x"]}"#, r#"{"f":{"g":"x"}}"#));
    // Unnamed event fields are ignored.
    assert!(m(r#"{"f":["x"]}"#, r#"{"f":"x","g":{"h":[1,2]}}"#));
    // A non-object event never matches, even exists:false.
    let p = pat(r#"{"f":[{"exists":false}]}"#);
    assert!(!p.matches(&serde_json::json!([1])));
    assert!(!p.matches_json("5").unwrap());
    assert!(p.matches_json("{").is_err());
}

#[test]
fn duplicate_and_dotted_keys() {
    // Trap 11: leaf duplicates keep the last, object duplicates merge.
    assert!(m(r#"{"f":["x"],"f":["y"]}"#, r#"{"f":"y"}"#));
    assert!(!m(r#"{"f":["x"],"f":["y"]}"#, r#"{"f":"x"}"#));
    let p = r#"{"d":{"x":["1"]},"d":{"y":["2"]}}"#;
    assert!(m(p, r#"{"d":{"x":"1","y":"2"}}"#));
    assert!(!m(p, r#"{"d":{"y":"2"}}"#));
    assert!(!m(p, r#"{"d":{"x":"1"}}"#));
    // Trap 12: "a.b" is the path a -> b, in patterns and in events.
    assert!(m(r#"{"a.b":["x"]}"#, r#"{"a":{"b":"x"}}"#));
    assert!(m(r#"{"a":{"b":["x"]}}"#, r#"{"a.b":"x"}"#));
    assert!(!m(r#"{"a.b":["x"]}"#, r#"{"a":{"c":"x"}}"#));
}

#[test]
fn explain_reports_first_failure() {
    let p = pat(r#"{"source":["shop"],"detail":{"status":["PAID"],"n":[{"numeric":[">",1]}]}}"#);
    let ev = serde_json::json!({"source": "shop", "detail": {"status": "paid", "n": 0}});
    let e = p.explain(&ev).unwrap();
    assert_eq!(e.path, "detail.status");
    assert_eq!(e.reason, MismatchReason::NoMatchingValue);
    assert_eq!(
        e.to_string(),
        r#"detail.status: expected one of ["PAID"], found "paid""#
    );
    let e = p.explain(&serde_json::json!({"source": "shop"})).unwrap();
    assert_eq!(e.reason, MismatchReason::Absent);
    assert_eq!(
        e.to_string(),
        r#"detail.status: expected one of ["PAID"], found nothing (field absent)"#
    );
    let ok = serde_json::json!({"source": "shop", "detail": {"status": "PAID", "n": 2}});
    assert!(p.explain(&ok).is_none());
    let e = p.explain(&serde_json::json!([1])).unwrap();
    assert_eq!(e.reason, MismatchReason::NotAnObject);
    // Several values are listed.
    let e = pat(r#"{"f":["a"]}"#)
        .explain_json(r#"{"f":["b",1]}"#)
        .unwrap()
        .unwrap();
    assert_eq!(e.to_string(), r#"f: expected one of ["a"], found ["b",1]"#);
    // Array consistency is named as such.
    let p = pat(r#"{"items":{"sku":["A"],"qty":[2]}}"#);
    let e = p
        .explain_json(r#"{"items":[{"sku":"A","qty":1},{"sku":"B","qty":2}]}"#)
        .unwrap()
        .unwrap();
    assert_eq!(e.reason, MismatchReason::ArrayConsistency);
    assert_eq!(e.path, "items.sku, items.qty");
    // With $or, the combination that got furthest is explained.
    let p = pat(r#"{"$or":[{"a":["x"]},{"b":["y"],"c":["z"]}]}"#);
    let e = p.explain(&serde_json::json!({"b": "y", "c": "w"})).unwrap();
    assert_eq!(e.path, "c");
}

#[test]
fn rule_set_selects_in_rule_order() {
    let rules = vec![
        (
            "paid".to_string(),
            pat(r#"{"source":["shop"],"detail":{"status":["PAID"]}}"#),
        ),
        (
            "any-shop".to_string(),
            pat(r#"{"source":[{"prefix":"sho"}]}"#),
        ),
        (
            "big".to_string(),
            pat(r#"{"detail":{"total":[{"numeric":[">",100]}]}}"#),
        ),
        (
            "or".to_string(),
            pat(r#"{"$or":[{"source":["shop"]},{"detail":{"status":["PAID"]}}]}"#),
        ),
        (
            "ip".to_string(),
            pat(r#"{"detail":{"ip":["2001:db8::1"]}}"#),
        ),
        ("num".to_string(), pat(r#"{"detail":{"total":[300]}}"#)),
        ("other".to_string(), pat(r#"{"source":["other"]}"#)),
    ];
    let rs = RuleSet::new(rules);
    assert_eq!(rs.len(), 7);
    assert!(!rs.is_empty());
    assert_eq!(rs.names().count(), 7);
    let ev = serde_json::json!({"source": "shop", "detail": {"status": "PAID", "total": 3e2, "ip": "2001:0db8::1"}});
    assert_eq!(
        rs.matching(&ev),
        ["paid", "any-shop", "big", "or", "ip", "num"]
    );
    let ev = serde_json::json!({"source": "other", "detail": {"status": "PAID"}});
    assert_eq!(rs.matching(&ev), ["or", "other"]);
    assert!(rs.matching(&serde_json::json!("x")).is_empty());
    assert_eq!(
        rs.matching_json(r#"{"source":"shop"}"#).unwrap(),
        ["any-shop", "or"]
    );
}

#[test]
fn rule_set_with_many_rules_agrees_with_single_patterns() {
    // Shared and distinct keys, multi-valued fields, IP and numeric keys,
    // fields with many values (replication cap) and rules without exact
    // fields, enough of them for several split levels.
    let mut rules = Vec::new();
    for i in 0..300 {
        let text = match i % 6 {
            0 => format!(
                r#"{{"source":["app{}"],"detail-type":["T{}"],"detail":{{"s":["A","B"]}}}}"#,
                i % 7,
                i % 11
            ),
            1 => format!(
                r#"{{"source":["app{}"],"detail":{{"n":[{}, 3e2],"ip":["10.0.0.{}"]}}}}"#,
                i % 7,
                i % 5,
                i % 3
            ),
            2 => format!(
                r#"{{"detail-type":["T{}"],"detail":{{"s":[{{"prefix":"A"}}]}}}}"#,
                i % 11
            ),
            3 => {
                let many: Vec<String> = (0..20).map(|k| format!(r#""v{k}""#)).collect();
                format!(
                    r#"{{"source":[{m}],"detail-type":[{m}],"detail":{{"s":[{m}]}}}}"#,
                    m = many.join(",")
                )
            }
            4 => format!(
                r#"{{"$or":[{{"source":["app{}"]}},{{"detail":{{"n":[{{"numeric":[">",{}]}}]}}}}]}}"#,
                i % 7,
                i % 50
            ),
            _ => format!(r#"{{"detail":{{"s":[{{"anything-but":"A{}"}}]}}}}"#, i % 4),
        };
        rules.push((format!("r{i}"), pat(&text)));
    }
    let rs = RuleSet::new(rules.clone());
    let mut total = 0;
    for i in 0..200 {
        let ev = serde_json::json!({
            "source": if i % 9 == 0 { format!("v{}", i % 20) } else { format!("app{}", i % 7) },
            "detail-type": if i % 9 == 0 { format!("v{}", i % 13) } else { format!("T{}", i % 11) },
            "detail": {
                "s": if i % 4 == 0 { serde_json::json!(["A", format!("v{}", i % 20)]) } else { serde_json::json!(format!("A{}", i % 5)) },
                "n": if i % 3 == 0 { serde_json::json!(300.0) } else { serde_json::json!(i % 60) },
                "ip": format!("10.0.0.{}", i % 4),
            }
        });
        let expected: Vec<&str> = rules
            .iter()
            .filter(|(_, p)| p.matches(&ev))
            .map(|(n, _)| n.as_str())
            .collect();
        total += expected.len();
        assert_eq!(rs.matching(&ev), expected, "{ev}");
    }
    assert!(total > 1000, "too few matches to be meaningful: {total}");
}

#[test]
fn deep_nesting_and_escapes() {
    // An event nested 1000 levels deep, matched by a dotted 1000-segment path.
    let depth = 1000;
    let ev = format!(r#"{}"x"{}"#, r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let path = vec!["a"; depth].join(".");
    assert!(pat(&format!(r#"{{"{path}":["x"]}}"#))
        .matches_json(&ev)
        .unwrap());
    // A pattern nested 300 levels deep.
    let text = format!(r#"{}["x"]{}"#, r#"{"a":"#.repeat(300), "}".repeat(300));
    let p = pat(&text);
    let ev300 = format!(r#"{}"x"{}"#, r#"{"a":"#.repeat(300), "}".repeat(300));
    assert!(p.matches_json(&ev300).unwrap());
    assert!(Pattern::parse(&format!("{}1{}", "[".repeat(1200), "]".repeat(1200))).is_err());
    // Escapes, including surrogate pairs, in patterns and events.
    let p = pat(r#"{"k\u00e9y":["\ud83d\ude00\n\"\\\/"]}"#);
    assert!(m(&p.to_string(), r#"{"kéy":"😀\n\"\\/"}"#));
    assert!(Pattern::parse(r#"{"a":["\ud83d"]}"#).is_err());
    assert!(Pattern::parse(r#"{"a":["\x"]}"#).is_err());
    assert!(Pattern::parse("{\"a\":[\"\u{1}\"]}").is_err());
}

#[test]
fn types_are_thread_safe() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Pattern>();
    assert_send_sync::<RuleSet>();
}
