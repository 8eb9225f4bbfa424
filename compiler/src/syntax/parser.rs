//! The pest parser and the conversion of pest errors into diagnostics.
//! Input: one source file. Output: pest pairs for `lower`, or E001/E004/E005.
//! Invariant: pest types never leave `syntax/`.

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::Parser as _;

use crate::diagnostic::{Code, Diagnostic};
use crate::syntax::span::{FileId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/flow.pest"]
pub(crate) struct FlowParser;

/// Brackets nested deeper than this are refused before parsing, so that a
/// hostile file cannot exhaust the parser's stack.
pub const MAX_NESTING: usize = 64;

/// Parses a whole file into its `file` pair.
pub(crate) fn parse_pairs(file: FileId, text: &str) -> Result<Pair<'_, Rule>, Diagnostic> {
    if let Some(d) = check_binary(file, text) {
        return Err(d);
    }
    if let Some(d) = check_nesting(file, text) {
        return Err(d);
    }
    match FlowParser::parse(Rule::file, text) {
        Ok(mut pairs) => pairs.next().ok_or_else(|| {
            Diagnostic::new(Code::InternalError, "the parser returned no tree")
                .primary(Span::new(file, 0..0), "")
        }),
        Err(err) => {
            // Re-parse with attempt tracking, which finds the literal tokens
            // (`,`, `}`) pest leaves out of its rule list. Only failing files
            // pay for it.
            pest::set_error_detail(true);
            let detailed = FlowParser::parse(Rule::file, text).err();
            pest::set_error_detail(false);
            Err(syntax_error(file, text, detailed.unwrap_or(err)))
        }
    }
}

fn check_binary(file: FileId, text: &str) -> Option<Diagnostic> {
    let at = text.find(|c: char| c == '\0' || (c.is_control() && !c.is_whitespace()))?;
    let len = text[at..].chars().next().map_or(1, char::len_utf8);
    Some(
        Diagnostic::new(Code::InvalidEncoding, "file contains binary data")
            .primary(Span::new(file, at..at + len), "control character here")
            .help("`.flow` files are UTF-8 text; check that this is the file you meant"),
    )
}

/// Scans the text once before parsing and reports, at their exact place,
/// the mistakes pest would report somewhere confusing or not survive:
/// brackets (and `list<`) nested deeper than [`MAX_NESTING`], unterminated
/// strings and block comments, and non-ASCII characters outside strings and
/// comments.
fn check_nesting(file: FileId, text: &str) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    let (mut brackets, mut angles) = (0usize, 0usize);
    let mut comment_starts: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if !comment_starts.is_empty() {
            if rest.starts_with(b"/*") {
                comment_starts.push(i);
                if brackets + angles + comment_starts.len() > MAX_NESTING {
                    return Some(too_deep(file, i, brackets + angles + comment_starts.len()));
                }
                i += 2;
            } else if rest.starts_with(b"*/") {
                comment_starts.pop();
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        if rest.starts_with(b"\"\"\"") {
            let open = i;
            i += 3;
            while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            if i >= bytes.len() {
                return Some(unterminated(
                    file,
                    open,
                    3,
                    "multi-line string",
                    "close it with `\"\"\"`",
                ));
            }
            i += 3;
            continue;
        }
        match bytes[i] {
            b'"' => {
                let open = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i >= bytes.len() || bytes[i] != b'"' {
                    return Some(unterminated(
                        file,
                        open,
                        1,
                        "string",
                        "close it with `\"` on the same line, or use `\"\"\"` for text over several lines",
                    ));
                }
            }
            b'/' if rest.starts_with(b"//") => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if rest.starts_with(b"/*") => {
                // Block comments nest in the grammar, so they count too.
                comment_starts.push(i);
                i += 1;
            }
            b'{' | b'[' | b'(' => brackets += 1,
            b'<' if text[..i].trim_end().ends_with("list") => angles += 1,
            b'}' | b']' | b')' => brackets = brackets.saturating_sub(1),
            b'>' => angles = angles.saturating_sub(1),
            b if b >= 0x80 && text.is_char_boundary(i) => {
                let c = text[i..].chars().next().unwrap_or('?');
                if c != '\u{feff}' {
                    return Some(
                        Diagnostic::new(Code::Syntax, format!("unexpected character `{c}`"))
                            .primary(Span::new(file, i..i + c.len_utf8()), "not allowed here")
                            .help("names and keywords use ASCII letters, digits and `_`; other text belongs in a string"),
                    );
                }
            }
            _ => {}
        }
        let depth = brackets + angles + comment_starts.len();
        if depth > MAX_NESTING {
            return Some(too_deep(file, i, depth));
        }
        i += 1;
    }
    if let Some(open) = comment_starts.first() {
        return Some(unterminated(
            file,
            *open,
            2,
            "block comment",
            "close it with `*/` (block comments nest)",
        ));
    }
    None
}

fn too_deep(file: FileId, at: usize, depth: usize) -> Diagnostic {
    Diagnostic::new(Code::NestingTooDeep, "nesting too deep")
        .primary(
            Span::new(file, at..at + 1),
            format!("this opens level {depth}"),
        )
        .help(format!(
            "flowc accepts at most {MAX_NESTING} nested brackets; flatten the structure"
        ))
}

fn unterminated(file: FileId, at: usize, len: usize, what: &str, help: &str) -> Diagnostic {
    Diagnostic::new(Code::Syntax, format!("unterminated {what}"))
        .primary(
            Span::new(file, at..at + len),
            format!("this {what} is never closed"),
        )
        .help(help.to_string())
}

fn syntax_error(file: FileId, text: &str, err: pest::error::Error<Rule>) -> Diagnostic {
    let pest_at = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let (at, mut names) = match (&err.variant, err.parse_attempts()) {
        // pest's own position only moves on failed *rules*; a missing `=` or
        // `->` (a literal) is found further on by the attempt tracker.
        (_, Some(attempts))
            if attempts.max_position > pest_at
                && !text[attempts.max_position.min(text.len())..]
                    .starts_with(char::is_whitespace) =>
        {
            let mut names: Vec<String> = attempts
                .expected_tokens()
                .iter()
                .filter_map(|t| token_name(t, true))
                .collect();
            names.extend(attempts.call_stacks.iter().filter_map(|stack| {
                let deepest = format!("{:?}", stack.deepest);
                let inner = deepest.strip_prefix("Rule(")?.strip_suffix(')')?;
                let rule = Rule::all_rules()
                    .iter()
                    .find(|r| format!("{r:?}") == inner)?;
                Some(rule_name(*rule).to_string())
            }));
            (attempts.max_position, names)
        }
        (ErrorVariant::ParsingError { positives, .. }, attempts) => {
            let mut names: Vec<String> = positives
                .iter()
                .map(|r| rule_name(*r).to_string())
                .collect();
            if let Some(attempts) = attempts {
                names.extend(
                    attempts
                        .expected_tokens()
                        .iter()
                        .filter_map(|t| token_name(t, false)),
                );
            }
            (pest_at, names)
        }
        (ErrorVariant::CustomError { message }, _) => (pest_at, vec![message.clone()]),
    };
    let at = at.min(text.len());
    let found = found_token(text, at);
    names.retain(|n| n != "something else");
    if names.iter().any(|n| n.contains("comparison operator")) {
        // The operator tokens are summarised by the rule name.
        names.retain(|n| {
            !matches!(
                n.as_str(),
                "`<`" | "`<=`" | "`>`" | "`>=`" | "`==`" | "`!=`"
            )
        });
    }
    names.sort_unstable();
    names.dedup();
    let expected = join_alternatives(&names);
    let message = format!("expected {expected}, found {}", found.describe());
    let span = Span::new(file, at..at + found.len);
    let mut d = Diagnostic::new(Code::Syntax, message).primary(span, "unexpected here");
    if let Some(help) = syntax_help(text, at, &expected) {
        d = d.help(help);
    }
    d
}

struct Found {
    text: Option<String>,
    len: usize,
}

impl Found {
    fn describe(&self) -> String {
        match &self.text {
            None => "end of file".to_string(),
            Some(t) => format!("`{t}`"),
        }
    }
}

/// The word or character at `at`, for "found …".
fn found_token(text: &str, at: usize) -> Found {
    let rest = text.get(at..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return Found { text: None, len: 0 };
    };
    let word_len = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len())
    } else if first == '"' {
        rest[1..]
            .find(['"', '\n'])
            .map_or(rest.len(), |i| i + 2)
            .min(rest.len())
    } else {
        first.len_utf8()
    };
    let word_len = word_len.min(40);
    let word_len = (0..=word_len)
        .rev()
        .find(|l| rest.is_char_boundary(*l))
        .unwrap_or(0);
    let shown = rest[..word_len].replace('\n', "\\n");
    Found {
        text: Some(shown),
        len: word_len,
    }
}

/// Punctuation tokens pest tried; words are covered by the rule names.
/// (pest does not export its token type, so this reads its display form.)
fn token_name(token: &impl std::fmt::Display, words: bool) -> Option<String> {
    let text = token.to_string();
    // Comments, the byte-order mark and the tokens of named rules (strings,
    // numbers, operators) are already covered by the rule names.
    const COVERED: &[&str] = &["/*", "//", "\u{feff}", "\"", "\"\"\"", "-", "_", ".", "\\"];
    let punctuation = !text.is_empty()
        && !COVERED.contains(&text.as_str())
        && !text.contains("..")
        && (words || !text.chars().any(char::is_alphanumeric))
        && !text.chars().any(char::is_whitespace)
        && !(text.len() == 1 && text.chars().all(|c| c.is_ascii_alphanumeric()));
    punctuation.then(|| format!("`{text}`"))
}

fn join_alternatives(names: &[String]) -> String {
    match names {
        [] => "something else".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Hints for the syntax mistakes people actually make.
fn syntax_help(text: &str, at: usize, expected: &str) -> Option<String> {
    let rest = text.get(at..).unwrap_or("");
    if rest.starts_with('\'') {
        return Some("strings use double quotes: \"…\"".to_string());
    }
    if rest.starts_with("&&") || rest.starts_with("||") {
        return Some("write `and` / `or` instead of `&&` / `||`".to_string());
    }
    if rest.starts_with('=') && !rest.starts_with("==") && expected.contains("comparison") {
        return Some("comparison is written `==`".to_string());
    }
    if rest.starts_with(';') {
        return Some("statements end at the line break; remove the `;`".to_string());
    }
    let after_digits = text[..at].ends_with(|c: char| c.is_ascii_digit())
        && rest.starts_with(|c: char| c.is_ascii_alphabetic());
    if after_digits
        || (expected.contains("a duration") && rest.starts_with(|c: char| c.is_ascii_digit()))
    {
        return Some(
            "durations are written with a unit: `500ms`, `30s`, `15m`, `2h`, `1d`".to_string(),
        );
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    const DECLARATIONS: [&str; 9] = [
        "event",
        "trigger",
        "filter",
        "transformer",
        "view",
        "route",
        "flow",
        "app",
        "test",
    ];
    if expected.contains("a declaration") && !word.is_empty() {
        if let Some(help) = crate::diagnostic::did_you_mean(&word, DECLARATIONS) {
            return Some(help);
        }
    }
    if expected.contains("a declaration") {
        return Some(
            "a file holds declarations: event, trigger, filter, transformer, view, route, flow, app, test"
                .to_string(),
        );
    }
    None
}

/// Readable names for the rules pest reports as expected.
fn rule_name(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::ident => "a name",
        Rule::field_name | Rule::path => "a field path",
        Rule::string | Rule::simple_string | Rule::triple_string => "a string",
        Rule::number => "a number",
        Rule::duration => "a duration like `30s`",
        Rule::boolean => "`true` or `false`",
        Rule::null => "`null`",
        Rule::file
        | Rule::kw_event
        | Rule::kw_trigger
        | Rule::node_class
        | Rule::kw_route
        | Rule::kw_flow
        | Rule::kw_app
        | Rule::kw_test => "a declaration",
        Rule::event_source => "`source`",
        Rule::event_detail_type => "`detail_type`",
        Rule::record_field_decl => "an envelope record (`profile`, `data`, `application`)",
        Rule::record_type | Rule::mapping | Rule::object_value => "`{`",
        Rule::field_decl => "a field",
        Rule::type_expr | Rule::named_type | Rule::list_type | Rule::union_type => "a type",
        Rule::optional_mark => "`?`",
        Rule::trigger_sdk | Rule::trigger_http | Rule::trigger_s3 => {
            "a trigger kind (`sdk`, `http`, `s3`)"
        }
        Rule::s3_filter | Rule::kw_prefix | Rule::kw_suffix => "`prefix` or `suffix`",
        Rule::node_outputs => "`->`",
        Rule::node_param
        | Rule::param_every
        | Rule::param_emit
        | Rule::param_mapping
        | Rule::param_generic
        | Rule::mapping_param_name => "a parameter",
        Rule::threshold | Rule::count_threshold => "a threshold like `10 events or 60s`",
        Rule::mapping_entry => "a mapping entry `name: value`",
        Rule::call_expr => "a function call",
        Rule::when_clause | Rule::kw_when => "`when`",
        Rule::max_hops_clause | Rule::kw_max_hops => "`max_hops`",
        Rule::condition
        | Rule::or_expr
        | Rule::and_expr
        | Rule::not_expr
        | Rule::paren_expr
        | Rule::comparison => "a condition",
        Rule::compare_op => "a comparison operator",
        Rule::string_op => "a string operator (`starts_with`, `ends_with`, `matches`, `cidr`)",
        Rule::exists_op => "`exists`",
        Rule::not_kw => "`not`",
        Rule::ignore_case => "`ignore_case`",
        Rule::literal_list => "a list of values",
        Rule::ident_list => "a name",
        Rule::app_nodes | Rule::kw_nodes => "`nodes`",
        Rule::app_flows | Rule::kw_flows => "`flows`",
        Rule::app_param => "an app setting",
        Rule::sink_decl | Rule::kw_sink => "`sink`",
        Rule::test_given | Rule::kw_given => "`given`",
        Rule::test_advance | Rule::kw_advance => "`advance`",
        Rule::test_expect | Rule::test_expect_none | Rule::test_expect_state | Rule::kw_expect => {
            "`expect`"
        }
        Rule::object_entry => "a field `name: value`",
        Rule::list_value => "`[`",
        Rule::kw_or => "`or`",
        Rule::kw_and => "`and`",
        Rule::kw_in => "`in`",
        Rule::kw_at => "`at`",
        Rule::kw_none => "`none`",
        Rule::kw_state => "`state`",
        Rule::kw_events => "`events`",
        Rule::kw_every => "`every`",
        Rule::kw_emit => "`emit`",
        Rule::kw_http => "`http`",
        Rule::kw_s3 => "`s3`",
        _ => "something else",
    }
}
