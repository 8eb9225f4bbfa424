//! The extractive summary of the local summarizer: no language model, only
//! lines of the image's OCR text, chosen by how often their words occur in
//! the text and whether the event's own fields (the prompt's variables)
//! mention them, kept in reading order within a word budget.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

/// The label every extractive summary starts with, so no reader takes it
/// for a model's description.
pub const LABEL: &str = "[extractive summary: OCR text, no language model]";

/// Words of a summary when the view sets no `max_tokens`.
const DEFAULT_WORDS: usize = 60;

const STOPWORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was",
    "one", "our", "out", "has", "him", "his", "how", "its", "may", "new", "now", "see", "two",
    "who", "did", "get", "let", "say", "she", "too", "use", "with", "this", "that", "from", "they",
    "will", "what", "when", "your", "have", "been", "were", "into", "than", "then", "them",
    "there", "their", "which", "about", "would", "these", "other",
];

/// The summary of `ocr` for an event whose prompt variables are `fields`.
/// `max_tokens` bounds the length (about ¾ of a word per token).
pub fn summarize(ocr: &str, fields: &[(String, Value)], max_tokens: Option<u64>) -> Summary {
    let lines: Vec<String> = ocr
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| l.chars().filter(|c| c.is_alphanumeric()).count() >= 2)
        .collect();
    let budget = max_tokens.map_or(DEFAULT_WORDS, |t| ((t as usize) * 3 / 4).max(10));
    let context: HashSet<String> = fields
        .iter()
        .filter_map(|(_, v)| v.as_str())
        .flat_map(content_words)
        .collect();
    let mut frequency: HashMap<String, usize> = HashMap::new();
    for w in lines.iter().flat_map(|l| content_words(l)) {
        *frequency.entry(w).or_default() += 1;
    }
    let mut ranked: Vec<(usize, f64)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let words = content_words(l);
            let score: f64 = words
                .iter()
                .map(|w| frequency[w] as f64 + if context.contains(w) { 2.0 } else { 0.0 })
                .sum();
            (i, score / (words.len().max(1) as f64).sqrt())
        })
        .collect();
    // Higher score first; earlier line first among equals (stable order).
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut kept = Vec::new();
    let mut words = 0;
    for (i, _) in ranked {
        let n = lines[i].split_whitespace().count();
        if words + n > budget && !kept.is_empty() {
            continue;
        }
        words += n;
        kept.push(i);
    }
    kept.sort_unstable();
    let context_text: Vec<String> = fields
        .iter()
        .filter_map(|(path, v)| scalar_text(v).map(|t| format!("{path}: {t}")))
        .collect();
    let body = if kept.is_empty() {
        "no legible text in the image".to_string()
    } else {
        kept.iter()
            .map(|&i| lines[i].as_str())
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let text = if context_text.is_empty() {
        format!("{LABEL} {body}")
    } else {
        format!("{LABEL} {}. Text: {body}", context_text.join("; "))
    };
    Summary {
        text,
        lines: lines.len(),
        lines_kept: kept.len(),
    }
}

#[derive(Debug, PartialEq)]
pub struct Summary {
    pub text: String,
    /// Lines of legible OCR text.
    pub lines: usize,
    /// Lines in the summary.
    pub lines_kept: usize,
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Lower-case words of three letters or more that are not stopwords.
fn content_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_lines_in_reading_order_with_the_label_and_the_fields() {
        let ocr = "Invoices\n\nBilling module refactor\n  x \nInvoice totals per customer\n";
        let fields = vec![("application.name".to_string(), json!("Billing"))];
        let s = summarize(ocr, &fields, None);
        assert_eq!(
            s.text,
            format!(
                "{LABEL} application.name: Billing. Text: Invoices / Billing module refactor / Invoice totals per customer"
            )
        );
        assert_eq!((s.lines, s.lines_kept), (3, 3));
    }

    #[test]
    fn the_budget_keeps_the_lines_that_share_words_with_the_event() {
        let ocr = "weather forecast sunny skies tomorrow afternoon mild winds\nquarterly invoice report\nlunch menu pasta salad soup bread cheese olives\n";
        let fields = vec![("title".to_string(), json!("invoice review"))];
        let s = summarize(ocr, &fields, Some(4));
        assert_eq!(
            s.text,
            format!("{LABEL} title: invoice review. Text: quarterly invoice report")
        );
        assert_eq!(s.lines_kept, 1);
    }

    #[test]
    fn an_image_without_text_says_so() {
        let s = summarize("  \n|\n", &[], None);
        assert_eq!(s.text, format!("{LABEL} no legible text in the image"));
    }
}
