//! The local default view engines on real media: speech synthesised by
//! espeak-ng from known sentences is transcribed by PocketSphinx, and
//! images rendered from known text by ImageMagick are summarised through
//! Tesseract OCR. The Debian tools come from scripts/setup-media (which
//! scripts/test runs first); without them these tests fail and say so.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use flow_runtime::engine::{ObjectRef, ViewRequest};
use flow_runtime::local::views::{OcrSummarizer, SphinxTranscriber, DEBIAN_MODEL_DIR};
use flow_runtime::ports::{Summarizer, Transcriber, ViewInput};
use serde_json::{json, Value};

/// Fails (never skips) when a tool is missing.
fn tool(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("`{program}` cannot run ({e}): run scripts/setup-media first"));
    assert!(
        status.success(),
        "`{program} {}` failed ({status}): run scripts/setup-media first",
        args.join(" ")
    );
}

/// A WAV of `sentence` spoken by espeak-ng (the Klatt voice, which
/// PocketSphinx's US English model recognises best of the voices tried).
fn speak(dir: &Path, name: &str, sentence: &str) -> Vec<u8> {
    let path = dir.join(name);
    let out = path.to_str().expect("utf-8 path");
    tool(
        "espeak-ng",
        &["-v", "en-us+klatt", "-s", "140", "-w", out, sentence],
    );
    std::fs::read(&path).expect("read wav")
}

/// A PNG of `text` (lines split by `\n`) in black on white.
fn render(dir: &Path, name: &str, text: &str) -> Vec<u8> {
    let path = dir.join(name);
    let out = path.to_str().expect("utf-8 path");
    let label = format!("label:{text}");
    tool(
        "convert",
        &[
            "-background",
            "white",
            "-fill",
            "black",
            "-font",
            "DejaVu-Sans",
            "-pointsize",
            "32",
            &label,
            out,
        ],
    );
    std::fs::read(&path).expect("read png")
}

/// The share of `reference`'s words found in `hypothesis` (each
/// hypothesis word counted once).
fn word_overlap(reference: &str, hypothesis: &str) -> (usize, usize) {
    let mut left: Vec<String> = hypothesis
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let words: Vec<String> = reference
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let mut found = 0;
    for w in &words {
        if let Some(i) = left.iter().position(|h| h == w) {
            left.swap_remove(i);
            found += 1;
        }
    }
    (found, words.len())
}

const SENTENCES: &[&str] = &[
    "we will meet at the office next week to talk about the new project",
    "the weather is nice today and the sun is shining",
    "please send me the report before the end of the day",
    "i would like to buy a new car for my family",
];

#[test]
fn pocketsphinx_transcribes_synthesised_speech() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine = SphinxTranscriber::open(Path::new(DEBIAN_MODEL_DIR))
        .unwrap_or_else(|e| panic!("{e} (run scripts/setup-media first)"));
    let (mut found, mut total) = (0, 0);
    let mut audio_ms = 0u64;
    let started = Instant::now();
    for (i, sentence) in SENTENCES.iter().enumerate() {
        let wav = speak(dir.path(), &format!("s{i}.wav"), sentence);
        // 22 050 Hz mono 16-bit from espeak-ng: bytes / 44.1 per ms.
        audio_ms += (wav.len() as f64 / 44.1) as u64;
        let request = ViewRequest::Transcript {
            media: ObjectRef {
                bucket: "media".into(),
                key: format!("speech/s{i}.wav"),
            },
            language: "en-US".into(),
        };
        let answer = engine
            .transcribe(ViewInput {
                request: &request,
                bytes: Some(&wav),
                detail: &json!({}),
            })
            .expect("transcribe");
        let (f, t) = word_overlap(sentence, &answer.text);
        println!("{sentence:?} -> {:?} ({f}/{t})", answer.text);
        found += f;
        total += t;
        assert_eq!(answer.metadata["engine"], "pocketsphinx");
        let words = answer.metadata["words"].as_array().expect("word timings");
        assert_eq!(
            words.len(),
            answer.text.split_whitespace().count(),
            "one timing per word"
        );
        let starts: Vec<u64> = words
            .iter()
            .map(|w| w["start_ms"].as_u64().expect("start"))
            .collect();
        assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
        assert!(words
            .iter()
            .all(|w| (0.0..=1.0).contains(&w["confidence"].as_f64().expect("confidence"))));
    }
    let ratio = found as f64 / total as f64;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "word overlap {found}/{total} = {ratio:.2}; {seconds:.2} s for {:.1} s of audio ({:.1} s per minute, synthesis included)",
        audio_ms as f64 / 1000.0,
        seconds / (audio_ms as f64 / 60_000.0)
    );
    assert!(ratio >= 0.75, "word overlap {ratio:.2} is below 0.75");
}

#[test]
fn pocketsphinx_refuses_what_sox_cannot_read() {
    let mut engine = SphinxTranscriber::open(Path::new(DEBIAN_MODEL_DIR))
        .unwrap_or_else(|e| panic!("{e} (run scripts/setup-media first)"));
    let request = ViewRequest::Transcript {
        media: ObjectRef {
            bucket: "media".into(),
            key: "speech/broken.wav".into(),
        },
        language: "en-US".into(),
    };
    let err = engine
        .transcribe(ViewInput {
            request: &request,
            bytes: Some(b"not audio at all"),
            detail: &json!({}),
        })
        .expect_err("not audio");
    assert!(
        err.contains("sox cannot convert s3://media/speech/broken.wav"),
        "{err}"
    );
    let err = engine
        .transcribe(ViewInput {
            request: &request,
            bytes: None,
            detail: &json!({}),
        })
        .expect_err("no object");
    assert_eq!(err, "object s3://media/speech/broken.wav not found");
}

#[test]
fn a_missing_model_is_an_error_at_open() {
    let err = SphinxTranscriber::open(Path::new("/nonexistent/pocketsphinx-model"))
        .expect_err("no model");
    assert!(err.contains("scripts/setup-media"), "{err}");
}

fn summary_request(key: &str, fields: Vec<(String, Value)>) -> ViewRequest {
    ViewRequest::Summary {
        image: ObjectRef {
            bucket: "media".into(),
            key: key.into(),
        },
        model: "anthropic.claude-3-5-haiku-20241022-v1:0".into(),
        prompt: "Describe the screen.".into(),
        max_tokens: Some(300),
        fields,
    }
}

#[test]
fn tesseract_summarises_rendered_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine =
        OcrSummarizer::open().unwrap_or_else(|e| panic!("{e} (run scripts/setup-media first)"));
    let cases = [
        (
            "Quarterly invoice report\nBilling module refactor\nDue Friday",
            &["quarterly", "invoice", "billing", "refactor", "friday"][..],
        ),
        (
            "Whiteboard: roadmap 2026\nSearch index migration\nOwner: Maria",
            &["roadmap", "search", "index", "migration", "maria"][..],
        ),
    ];
    let started = Instant::now();
    for (i, (text, key_words)) in cases.iter().enumerate() {
        let png = render(dir.path(), &format!("i{i}.png"), text);
        let request = summary_request(
            &format!("frames/i{i}.png"),
            vec![("application.name".into(), Value::from("Visual Studio Code"))],
        );
        let answer = engine
            .summarize(ViewInput {
                request: &request,
                bytes: Some(&png),
                detail: &json!({}),
            })
            .expect("summarize");
        println!("{text:?} -> {:?}", answer.text);
        let lower = answer.text.to_lowercase();
        for w in *key_words {
            assert!(lower.contains(w), "{w:?} missing from {:?}", answer.text);
        }
        assert!(
            answer
                .text
                .starts_with("[extractive summary: OCR text, no language model]"),
            "{}",
            answer.text
        );
        assert!(answer.text.contains("application.name: Visual Studio Code"));
        assert_eq!(answer.metadata["engine"], "tesseract");
        assert_eq!(answer.metadata["method"], "extractive");
    }
    println!(
        "{:.2} s per image (rendering included)",
        started.elapsed().as_secs_f64() / cases.len() as f64
    );
}

#[test]
fn tesseract_refuses_what_is_not_an_image() {
    let mut engine =
        OcrSummarizer::open().unwrap_or_else(|e| panic!("{e} (run scripts/setup-media first)"));
    let request = summary_request("frames/notes.txt", Vec::new());
    let err = engine
        .summarize(ViewInput {
            request: &request,
            bytes: Some(b"plain text"),
            detail: &json!({}),
        })
        .expect_err("not an image");
    assert_eq!(
        err,
        "s3://media/frames/notes.txt is not a PNG, JPEG, GIF or WebP image"
    );
}
