//! Physical names of generated resources. Names that CloudFormation does
//! not generate (functions, rules, the bus, media buckets) are built from
//! the project, the `Stage` parameter and a declaration name, and fit the
//! AWS length limits for any `Stage` the parameter accepts.

use super::template::Expr;
use flow_runtime::names::{rule_project, rule_route, NAME_MAX};
pub use flow_runtime::names::{shorten, target_id, STAGE_MAX};
/// S3 bucket names are at most 63 characters.
const BUCKET_MAX: usize = 63;
/// `-<12-digit account>-<stage>` appended to media bucket names.
const BUCKET_SUFFIX: usize = 1 + 12 + 1 + STAGE_MAX;

/// `<project>-${Stage}-<suffix>`, shortened with a hash to at most 64
/// characters once `${Stage}` is substituted.
pub fn physical(project: &str, suffix: &str) -> Expr {
    let budget = NAME_MAX - 2 - STAGE_MAX;
    let (project, suffix) = fit_pair(project, suffix, budget);
    Expr::sub(format!(
        "{}-${{Stage}}-{}",
        escape_sub(&project),
        escape_sub(&suffix)
    ))
}

/// The rule of a route: `<project part>-${Stage}-<route part>`, spelled
/// by `flow_runtime::names` so that the Event Store API, changing the
/// route at run time, names the same rule.
pub fn route_rule(project: &str, route: &str) -> Expr {
    Expr::sub(format!(
        "{}-${{Stage}}-{}",
        escape_sub(&rule_project(project)),
        escape_sub(&rule_route(route))
    ))
}

/// `<project part>-${Stage}-`: what every route rule's name starts with.
pub fn route_rule_prefix(project: &str) -> Expr {
    Expr::sub(format!(
        "{}-${{Stage}}-",
        escape_sub(&rule_project(project))
    ))
}

/// `<project>-${Stage}`: the bus, the schema registry.
pub fn project_stage(project: &str) -> Expr {
    let project = shorten(project, NAME_MAX - 1 - STAGE_MAX);
    Expr::sub(format!("{}-${{Stage}}", escape_sub(&project)))
}

/// The name of the media bucket of an S3 trigger: bucket names are global,
/// so the declared name gets the account id and stage appended:
/// `<bucket>-<account>-<stage>`, dots turned into dashes and the declared
/// part shortened with a hash to keep 63 characters.
pub fn media_bucket(bucket: &str) -> Expr {
    let base = bucket.replace('.', "-");
    let base = shorten(base.trim_matches('-'), BUCKET_MAX - BUCKET_SUFFIX);
    Expr::sub(format!(
        "{}-${{AWS::AccountId}}-${{Stage}}",
        base.trim_end_matches('-')
    ))
}

/// The same name as written for humans (docs, descriptions).
pub fn media_bucket_shown(bucket: &str) -> String {
    match media_bucket(bucket) {
        Expr::Sub(s) | Expr::Str(s) => s,
        _ => bucket.to_string(),
    }
}

/// `Fn::Sub` treats `${` as a variable; `${!` writes it literally.
pub fn escape_sub(text: &str) -> String {
    text.replace("${", "${!")
}

/// PascalCase of a name with separators (`acme-timecard-media` →
/// `AcmeTimecardMedia`), for logical ids of things named by strings.
pub fn pascal(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// Keeps both parts whole when they fit, else shortens the project to at
/// most 20 characters and the suffix with a hash.
fn fit_pair(project: &str, suffix: &str, budget: usize) -> (String, String) {
    if project.len() + suffix.len() <= budget {
        return (project.to_string(), suffix.to_string());
    }
    let project = shorten(project, 20);
    let suffix = shorten(suffix, budget - project.len());
    (project, suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expanded(expr: &Expr) -> String {
        match expr {
            Expr::Sub(s) | Expr::Str(s) => s
                .replace("${Stage}", &"s".repeat(STAGE_MAX))
                .replace("${AWS::AccountId}", "123456789012"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn short_names_are_kept() {
        assert_eq!(
            physical("timecard", "FrameSampler"),
            Expr::Sub("timecard-${Stage}-FrameSampler".to_string())
        );
    }

    #[test]
    fn long_names_fit_64_characters() {
        let name = physical(&"p".repeat(40), &"N".repeat(60));
        let text = expanded(&name);
        assert!(text.len() <= 64, "{text} is {} long", text.len());
        assert_eq!(name, physical(&"p".repeat(40), &"N".repeat(60)));
    }

    /// The Event Store API names a replaced route's rule as
    /// `FLOW_RULE_PREFIX` + `rule_route(route)`: that must be the rule the
    /// template made, or a route change would add a second rule.
    #[test]
    fn route_rules_are_the_prefix_the_api_gets_plus_the_route_part() {
        for (project, route) in [
            ("timecard", "LongClicks"),
            (
                "acme-corporate-timecard-and-billing",
                "SessionsThatNeedAReviewByAManager",
            ),
            (&*"p".repeat(64), &*"R".repeat(90)),
        ] {
            let rule = expanded(&route_rule(project, route));
            let prefix = expanded(&route_rule_prefix(project));
            assert_eq!(rule, format!("{prefix}{}", rule_route(route)));
            assert!(rule.len() <= 64, "{rule} is {} long", rule.len());
        }
    }

    #[test]
    fn media_buckets_fit_63_characters() {
        let text = expanded(&media_bucket(&format!("{}.media", "b".repeat(57))));
        assert!(text.len() <= 63, "{text}");
        assert!(!text.contains('.'));
        assert_eq!(
            media_bucket("acme-timecard-media"),
            Expr::Sub("acme-timecard-media-${AWS::AccountId}-${Stage}".to_string())
        );
    }

    #[test]
    fn pascal_case() {
        assert_eq!(pascal("acme-timecard-media"), "AcmeTimecardMedia");
        assert_eq!(
            pascal("coach-webhook-signing-key"),
            "CoachWebhookSigningKey"
        );
    }
}
