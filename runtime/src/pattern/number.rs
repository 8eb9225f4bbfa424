//! JSON numbers as event-ruler compares them.
//!
//! A number is *representable* when its decimal value survives binary64:
//! parsing gives a finite double, a non-zero literal does not underflow to
//! zero, and either the literal is the shortest round-trip form of that
//! double (`0.1`) or it is that double's exact value (`1152921504606846976`).
//! `9007199254740993`, `1E309`, `1E-400` and `0.30000000000000001` are not.
//!
//! Equality (exact numeric matchers, numeric anything-but): two numbers are
//! equal when both are representable and their doubles are equal (so
//! `300 == 300.0 == 3.0e2`), or when neither is and their decimal values are
//! equal ("matches by text"). Numeric ranges only accept representable
//! event numbers.

/// A number from a pattern or an event.
///
/// Invariant: `canon` is `Some` whenever `f` is `None`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Num {
    /// The double, when the number is representable.
    pub(crate) f: Option<f64>,
    /// Canonical decimal form (`-123e-5`, `0`); always set for pattern literals.
    pub(crate) canon: Option<Box<str>>,
}

/// Hash key that is equal exactly when two [`Num`]s are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum NumKey {
    Bits(u64),
    Dec(Box<str>),
}

impl Num {
    /// Parses validated JSON number text.
    pub(crate) fn from_text(text: &str) -> Num {
        let canon = canonical(text);
        let f = representable(text, &canon);
        Num {
            f,
            canon: Some(canon.into_boxed_str()),
        }
    }

    /// Converts a `serde_json` number. Integers are exact; a `serde_json`
    /// double has already lost its source text, so it is taken as written.
    pub(crate) fn from_serde(n: &serde_json::Number) -> Num {
        let exact = |mag: u64| mag == 0 || 64 - mag.leading_zeros() - mag.trailing_zeros() <= 53;
        if let Some(u) = n.as_u64() {
            if exact(u) {
                return Num {
                    f: Some(u as f64),
                    canon: None,
                };
            }
        } else if let Some(i) = n.as_i64() {
            if exact(i.unsigned_abs()) {
                return Num {
                    f: Some(i as f64),
                    canon: None,
                };
            }
        } else if let Some(f) = n.as_f64() {
            return Num {
                f: Some(f),
                canon: None,
            };
        }
        Num {
            f: None,
            canon: Some(canonical(&n.to_string()).into_boxed_str()),
        }
    }

    /// Numeric equality as described in the module docs.
    pub(crate) fn equals(&self, other: &Num) -> bool {
        match (self.f, other.f) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.canon == other.canon,
            _ => false,
        }
    }

    pub(crate) fn key(&self) -> NumKey {
        match (self.f, &self.canon) {
            // +0.0 and -0.0 are equal, so they must share a key.
            (Some(f), _) => NumKey::Bits(if f == 0.0 { 0 } else { f.to_bits() }),
            (None, Some(c)) => NumKey::Dec(c.clone()),
            (None, None) => NumKey::Dec("".into()),
        }
    }
}

/// Splits number text into (negative, significant digits, exponent) with
/// value = ±digits × 10^exponent; digits has no leading or trailing zeros
/// and is empty for zero.
fn decompose(text: &str) -> (bool, String, i64) {
    let (neg, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mant, exp) = match rest.find(['e', 'E']) {
        Some(p) => (&rest[..p], &rest[p + 1..]),
        None => (rest, "0"),
    };
    let (exp_neg, exp_digits) = match exp.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, exp.strip_prefix('+').unwrap_or(exp)),
    };
    // Saturate: exponents this large are all equally out of range.
    let mut e: i64 = 0;
    for b in exp_digits.bytes() {
        e = (e * 10 + i64::from(b - b'0')).min(1_000_000_000_000);
    }
    if exp_neg {
        e = -e;
    }
    let (int, frac) = match mant.find('.') {
        Some(p) => (&mant[..p], &mant[p + 1..]),
        None => (mant, ""),
    };
    let mut digits: String = int.chars().chain(frac.chars()).collect();
    e -= frac.len() as i64;
    let trimmed = digits.trim_start_matches('0').len();
    digits.drain(..digits.len() - trimmed);
    while digits.ends_with('0') {
        digits.pop();
        e += 1;
    }
    if digits.is_empty() {
        return (false, digits, 0);
    }
    (neg, digits, e)
}

/// Canonical decimal text: equal for numerically equal decimals.
pub(crate) fn canonical(text: &str) -> String {
    let (neg, digits, e) = decompose(text);
    if digits.is_empty() {
        return "0".to_string();
    }
    format!("{}{}e{}", if neg { "-" } else { "" }, digits, e)
}

/// The double for `text` when its decimal value survives binary64.
fn representable(text: &str, canon: &str) -> Option<f64> {
    let f: f64 = text.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    let simple_int = text.trim_start_matches('-').len() <= 15 && !text.contains(['.', 'e', 'E']);
    if canon == "0" || simple_int {
        // Zero, or an integer below 2^53 in magnitude.
        return Some(f);
    }
    if f == 0.0 {
        return None; // non-zero literal underflowed
    }
    if canonical(&format!("{f:e}")) == canon {
        return Some(f);
    }
    // 767 significant digits hold any double exactly.
    if canonical(&format!("{f:.800e}")) == canon {
        return Some(f);
    }
    None
}

/// A numeric-range matcher: `lo`/`hi` are (bound, inclusive).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Range {
    pub(crate) lo: Option<(f64, bool)>,
    pub(crate) hi: Option<(f64, bool)>,
}

impl Range {
    pub(crate) fn contains(&self, v: f64) -> bool {
        let lo_ok = match self.lo {
            None => true,
            Some((b, true)) => v >= b,
            Some((b, false)) => v > b,
        };
        let hi_ok = match self.hi {
            None => true,
            Some((b, true)) => v <= b,
            Some((b, false)) => v < b,
        };
        lo_ok && hi_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("300"), "3e2");
        assert_eq!(canonical("300.0"), "3e2");
        assert_eq!(canonical("3.0e2"), "3e2");
        assert_eq!(canonical("-0.0"), "0");
        assert_eq!(canonical("0.00120"), "12e-4");
        assert_eq!(canonical("-1E+3"), "-1e3");
    }

    #[test]
    fn representability() {
        for ok in [
            "0",
            "-0",
            "0.1",
            "1e308",
            "9007199254740992",
            "1152921504606846976",
            "5e-324",
            "1.7976931348623157e308",
        ] {
            assert!(Num::from_text(ok).f.is_some(), "{ok}");
        }
        for bad in [
            "9007199254740993",
            "1E309",
            "1E-400",
            "0.30000000000000001",
            "123456789012345678901234567890",
            "1e400",
        ] {
            assert!(Num::from_text(bad).f.is_none(), "{bad}");
        }
    }

    #[test]
    fn serde_numbers() {
        let v: serde_json::Value = serde_json::from_str(
            "[9007199254740993, 9007199254740992, -5, 0.5, 18446744073709551615]",
        )
        .unwrap_or_default();
        let nums: Vec<Num> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_number().map(Num::from_serde))
            .collect();
        assert!(nums[0].f.is_none());
        assert!(nums[0].equals(&Num::from_text("9007199254740993")));
        assert_eq!(nums[1].f, Some(9007199254740992.0));
        assert_eq!(nums[2].f, Some(-5.0));
        assert!(nums[3].equals(&Num::from_text("5e-1")));
        assert!(nums[4].f.is_none());
    }
}
