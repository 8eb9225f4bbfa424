//! The `wildcard` operator and simple case folding.
//!
//! Wildcards: only `*` is special (zero or more characters); `\*` is a
//! literal star and `\\` a literal backslash. `**`, a backslash before any
//! other character and a trailing backslash are rejected. `""` matches only
//! the empty string.
//!
//! Case folding (`equals-ignore-case` and friends) is per character, to the
//! single-character lowercase when there is one: `É`~`é`, `Σ`~`σ`, but not
//! `ß`~`SS`, `ς`~`σ` or `İ`~`i`.

/// A compiled wildcard: literal pieces separated by `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wildcard {
    /// Literal text between stars; `pieces.len() == stars + 1`.
    pieces: Vec<String>,
}

impl Wildcard {
    /// Validates and compiles a wildcard operand.
    pub(crate) fn parse(s: &str) -> Result<Wildcard, String> {
        let mut pieces = vec![String::new()];
        let mut chars = s.chars().enumerate().peekable();
        let mut prev_star = false;
        while let Some((pos, c)) = chars.next() {
            match c {
                '*' => {
                    if prev_star {
                        return Err(format!("Consecutive wildcard characters at pos {pos}"));
                    }
                    prev_star = true;
                    pieces.push(String::new());
                    continue;
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('*' | '\\'))) => push_last(&mut pieces, e),
                    _ => return Err(format!("Invalid escape character at pos {pos}")),
                },
                c => push_last(&mut pieces, c),
            }
            prev_star = false;
        }
        Ok(Wildcard { pieces })
    }

    /// True if the whole of `s` matches.
    pub(crate) fn matches(&self, s: &str) -> bool {
        let (first, rest) = match self.pieces.split_first() {
            Some(x) => x,
            None => return s.is_empty(),
        };
        let Some((last, middle)) = rest.split_last() else {
            return s == first;
        };
        // Anchored ends, then the middle pieces leftmost-first (greedy is
        // optimal for `*`-only globs).
        if s.len() < first.len() + last.len() || !s.starts_with(first.as_str()) {
            return false;
        }
        if !s.ends_with(last.as_str()) {
            return false;
        }
        let mut hay = &s[first.len()..s.len() - last.len()];
        for p in middle {
            match hay.find(p.as_str()) {
                Some(i) => hay = &hay[i + p.len()..],
                None => return false,
            }
        }
        true
    }
}

fn push_last(pieces: &mut [String], c: char) {
    if let Some(p) = pieces.last_mut() {
        p.push(c);
    }
}

/// Simple per-character case fold.
#[inline]
pub(crate) fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// Folds a whole string (pattern operands are stored folded).
pub(crate) fn fold_str(s: &str) -> String {
    s.chars().map(fold).collect()
}

/// `s` equals the already-folded `folded`, ignoring case.
pub(crate) fn eq_ic(s: &str, folded: &str) -> bool {
    if s.is_ascii() && folded.is_ascii() {
        return s.eq_ignore_ascii_case(folded);
    }
    let mut a = s.chars().map(fold);
    let mut b = folded.chars();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
    }
}

/// `s` starts with the already-folded `folded`, ignoring case.
pub(crate) fn prefix_ic(s: &str, folded: &str) -> bool {
    let mut a = s.chars().map(fold);
    folded.chars().all(|y| a.next() == Some(y))
}

/// `s` ends with the already-folded `folded`, ignoring case.
pub(crate) fn suffix_ic(s: &str, folded: &str) -> bool {
    let mut a = s.chars().rev().map(fold);
    folded.chars().rev().all(|y| a.next() == Some(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Wildcard {
        Wildcard::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn wildcard_matching() {
        assert!(w("dir/*.png").matches("dir/a.png"));
        assert!(w("dir/*.png").matches("dir/.png"));
        assert!(!w("dir/*.png").matches("dir/a.PNG"));
        assert!(!w("dir/*.png").matches("dir/a.png.1"));
        assert!(w("*").matches(""));
        assert!(w("").matches(""));
        assert!(!w("").matches("a"));
        assert!(w("a?.[x]").matches("a?.[x]"));
        assert!(!w("a?").matches("ab"));
        assert!(w("\\*lit").matches("*lit"));
        assert!(!w("\\*lit").matches("xlit"));
        assert!(w("a\\\\b").matches("a\\b"));
        assert!(w("*a*a*").matches("aa"));
        assert!(!w("*a*a*").matches("a"));
        assert!(!w("ab*ba").matches("aba"));
        assert!(w("ab*ba").matches("abba"));
        assert!(w("*/tmp/*").matches("/a/tmp/b"));
    }

    #[test]
    fn wildcard_rejections() {
        for bad in ["**", "a**b", "a\\b", "a\\", "\\", "\\?"] {
            assert!(Wildcard::parse(bad).is_err(), "{bad}");
        }
        assert!(Wildcard::parse("*\\**").is_ok());
    }

    #[test]
    fn folding() {
        assert!(eq_ic("ALICE", "alice"));
        assert!(eq_ic("É", &fold_str("é")));
        assert!(!eq_ic("SS", &fold_str("ß")));
        assert!(!eq_ic("ß", &fold_str("SS")));
        assert!(eq_ic("Σ", &fold_str("σ")));
        assert!(!eq_ic("Σ", &fold_str("ς")));
        assert!(!eq_ic("İ", &fold_str("i")));
        assert!(!eq_ic("ı", &fold_str("I")));
        assert!(prefix_ic("EVTBus", &fold_str("evtb")));
        assert!(!prefix_ic("evt", &fold_str("evtb")));
        assert!(suffix_ic("a.PnG", &fold_str(".png")));
        assert!(!suffix_ic("a.pngx", &fold_str(".png")));
    }
}
