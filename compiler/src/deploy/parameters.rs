//! The template's parameters: flowc's own (`ArtifactBucket`,
//! `ArtifactKey`, `Stage`), `--parameter KEY=VALUE` for the others, the
//! stack's current value on an update, the template's default; and a clear
//! error, before anything is uploaded, for one with none of these.

use std::collections::BTreeMap;

use serde_json::Value;

/// The parameters flowc sets itself.
pub const OWN_PARAMETERS: [&str; 3] = ["ArtifactBucket", "ArtifactKey", "Stage"];

/// `--parameter KEY=VALUE`, checked against the template's parameters.
pub fn parse_parameters(
    given: &[String],
    template: &Value,
) -> Result<BTreeMap<String, String>, String> {
    let declared = template["Parameters"].as_object();
    let mut out = BTreeMap::new();
    for item in given {
        let Some((key, value)) = item.split_once('=') else {
            return Err(format!("--parameter {item:?}: write KEY=VALUE"));
        };
        if key == "Stage" {
            return Err("set the stage with --stage, not --parameter".into());
        }
        if OWN_PARAMETERS.contains(&key) {
            return Err(format!("{key} is set by flowc deploy itself"));
        }
        if !declared.is_some_and(|d| d.contains_key(key)) {
            let known: Vec<&str> = declared
                .into_iter()
                .flat_map(|d| d.keys())
                .map(String::as_str)
                .filter(|k| !OWN_PARAMETERS.contains(k))
                .collect();
            return Err(format!(
                "--parameter {key}: the template has no such parameter{}",
                if known.is_empty() {
                    String::new()
                } else {
                    format!(" (it has {})", known.join(", "))
                }
            ));
        }
        out.insert(key.to_string(), value.to_string());
    }
    Ok(out)
}

/// Every parameter of the change set: flowc's own, the given ones, the
/// stack's current value for the others (`None`); a parameter with neither
/// a value nor a default is an error that names it.
pub fn template_parameters(
    template: &Value,
    own: [(&str, Option<String>); 3],
    given: &BTreeMap<String, String>,
    current: Option<&BTreeMap<String, String>>,
) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out: Vec<(String, Option<String>)> =
        own.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let mut missing = Vec::new();
    for (key, declared) in template["Parameters"].as_object().into_iter().flatten() {
        if OWN_PARAMETERS.contains(&key.as_str()) {
            continue;
        }
        if let Some(value) = given.get(key) {
            out.push((key.clone(), Some(value.clone())));
        } else if current.is_some_and(|c| c.contains_key(key)) {
            out.push((key.clone(), None));
        } else if declared.get("Default").is_none() {
            let about = declared["Description"].as_str().unwrap_or("");
            missing.push(format!("{key} ({about})"));
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(format!(
            "the template needs a value for {}: pass --parameter NAME=VALUE",
            missing.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_parameters, template_parameters};
    use serde_json::json;
    use std::collections::BTreeMap;

    fn template() -> serde_json::Value {
        json!({ "Parameters": {
            "ArtifactBucket": { "Type": "String" },
            "ArtifactKey": { "Type": "String" },
            "Stage": { "Type": "String", "Default": "dev" },
            "InstanceArn": { "Type": "String", "Description": "the instance" },
            "Size": { "Type": "String", "Default": "1" }
        }})
    }

    fn own() -> [(&'static str, Option<String>); 3] {
        [
            ("ArtifactBucket", Some("b".into())),
            ("ArtifactKey", Some("k".into())),
            ("Stage", Some("dev".into())),
        ]
    }

    #[test]
    fn a_parameter_without_default_needs_a_value_or_the_stacks() {
        let err =
            template_parameters(&template(), own(), &BTreeMap::new(), None).expect_err("missing");
        assert_eq!(
            err,
            "the template needs a value for InstanceArn (the instance): pass --parameter NAME=VALUE"
        );
        let given = parse_parameters(&["InstanceArn=arn:x".into()], &template()).expect("ok");
        let all = template_parameters(&template(), own(), &given, None).expect("complete");
        assert!(all.contains(&("InstanceArn".into(), Some("arn:x".into()))));
        assert!(!all.iter().any(|(k, _)| k == "Size"), "the default applies");
        let current = BTreeMap::from([("InstanceArn".to_string(), "arn:y".to_string())]);
        let kept = template_parameters(&template(), own(), &BTreeMap::new(), Some(&current))
            .expect("kept");
        assert!(kept.contains(&("InstanceArn".into(), None)));
    }

    #[test]
    fn given_parameters_are_checked_against_the_template() {
        let err = parse_parameters(&["Nope=1".into()], &template()).expect_err("unknown");
        assert_eq!(
            err,
            "--parameter Nope: the template has no such parameter (it has InstanceArn, Size)"
        );
        assert!(parse_parameters(&["Stage=prod".into()], &template()).is_err());
        assert!(parse_parameters(&["ArtifactKey=x".into()], &template()).is_err());
        assert!(parse_parameters(&["InstanceArn".into()], &template()).is_err());
    }
}
