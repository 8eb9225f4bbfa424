//! Physical names that the compiler (the template's rules) and the runtime
//! (rules the Event Store API creates on AWS) must spell identically: if
//! they differed, `POST /route` would add a second rule beside the
//! template's and an event would be delivered twice.
//!
//! A route's rule is `<project part>-<stage>-<route part>`: the project
//! part is the same for every rule of a project (so IAM can grant
//! `<project part>-<stage>-*` and the API can list by that prefix), and
//! both parts are shortened with a hash so that any `Stage` the template
//! accepts keeps the name within EventBridge's 64 characters.

/// Function and rule names are at most 64 characters.
pub const NAME_MAX: usize = 64;
/// The longest `Stage` value the template accepts (parameter `MaxLength`).
pub const STAGE_MAX: usize = 10;
/// The project's part of a rule name.
pub const RULE_PROJECT_MAX: usize = 20;
/// The route's part of a rule name: what is left of 64 characters.
pub const RULE_ROUTE_MAX: usize = NAME_MAX - RULE_PROJECT_MAX - 1 - STAGE_MAX - 1;

/// The project's part of every route rule name.
pub fn rule_project(project: &str) -> String {
    shorten(project, RULE_PROJECT_MAX)
}

/// The route's part of its rule name.
pub fn rule_route(route: &str) -> String {
    shorten(route, RULE_ROUTE_MAX)
}

/// A rule target id: `[.\-_A-Za-z0-9]+`, at most 64 characters.
pub fn target_id(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    shorten(&cleaned, NAME_MAX)
}

/// `text` if it has at most `max` bytes, else a prefix, `-` and an
/// 8-digit hash of the whole text (stable across runs and platforms).
pub fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let hash = format!("{:08x}", fnv1a(text.as_bytes()));
    let keep = max.saturating_sub(hash.len() + 1);
    let mut prefix = String::new();
    for c in text.chars() {
        if prefix.len() + c.len_utf8() > keep {
            break;
        }
        prefix.push(c);
    }
    format!("{}-{hash}", prefix.trim_end_matches(['-', '.']))
}

/// 32-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, b| {
        (hash ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kept() {
        assert_eq!(rule_project("timecard"), "timecard");
        assert_eq!(rule_route("LongClicks"), "LongClicks");
        assert_eq!(target_id("Frame Sampler"), "Frame-Sampler");
    }

    #[test]
    fn any_rule_name_fits_64_characters() {
        let name = format!(
            "{}-{}-{}",
            rule_project(&"p".repeat(40)),
            "s".repeat(STAGE_MAX),
            rule_route(&"R".repeat(80))
        );
        assert!(name.len() <= NAME_MAX, "{name} is {} long", name.len());
    }

    #[test]
    fn shortening_is_stable_and_keeps_names_apart() {
        let a = rule_route(&format!("{}A", "x".repeat(40)));
        let b = rule_route(&format!("{}B", "x".repeat(40)));
        assert_ne!(a, b);
        assert_eq!(a, rule_route(&format!("{}A", "x".repeat(40))));
        assert!(a.len() <= RULE_ROUTE_MAX);
    }

    #[test]
    fn multibyte_text_is_cut_at_a_character() {
        let s = shorten(&"é".repeat(30), 20);
        assert!(s.len() <= 20, "{s}");
    }
}
