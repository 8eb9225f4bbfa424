//! The local default transcriber: sox converts the recording to 16 kHz
//! mono 16-bit WAV with its peak at −15 dBFS, and PocketSphinx with its US
//! English model recognises it, with word timings and confidences:
//! `pocketsphinx_continuous -time yes` of the 0.8 "5prealpha" package
//! (Debian 12), or, where only PocketSphinx 5 is installed, `pocketsphinx
//! single`, whose line-delimited JSON carries the same.
//!
//! The level matters: on the test sentences PocketSphinx found 44 of 46
//! words at −15 dBFS and about half of them at full scale.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::tools::{require, run, temp_file, SETUP_HINT};
use crate::engine::ViewRequest;
use crate::ports::{Transcriber, ViewAnswer, ViewInput};

/// Where Debian's `pocketsphinx-en-us` puts the US English model.
pub const DEBIAN_MODEL_DIR: &str = "/usr/share/pocketsphinx/model/en-us";

#[derive(Debug)]
pub struct SphinxTranscriber {
    model: PathBuf,
    program: Program,
}

/// Which PocketSphinx command-line program is installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Program {
    /// `pocketsphinx_continuous` (0.8 / 5prealpha).
    Continuous,
    /// `pocketsphinx` (5.x).
    Five,
}

impl SphinxTranscriber {
    /// Checks that sox, PocketSphinx and the model in `model_dir` are there.
    pub fn open(model_dir: &Path) -> Result<SphinxTranscriber, String> {
        require("sox", "--version")?;
        let program = match require("pocketsphinx_continuous", "-help") {
            Ok(_) => Program::Continuous,
            Err(e) => match require("pocketsphinx", "help") {
                Ok(_) => Program::Five,
                Err(_) => return Err(e),
            },
        };
        for part in ["en-us", "en-us.lm.bin", "cmudict-en-us.dict"] {
            if !model_dir.join(part).exists() {
                return Err(format!(
                    "the PocketSphinx US English model is missing ({} has no {part}); {SETUP_HINT}",
                    model_dir.display()
                ));
            }
        }
        Ok(SphinxTranscriber {
            model: model_dir.to_path_buf(),
            program,
        })
    }
}

/// Whether the US English model can transcribe `language` (a BCP 47 tag).
pub fn speaks(language: &str) -> bool {
    language == "en" || language.starts_with("en-")
}

impl Transcriber for SphinxTranscriber {
    fn transcribe(&mut self, input: ViewInput<'_>) -> Result<ViewAnswer, String> {
        let ViewRequest::Transcript { media, language } = input.request else {
            return Err("not a transcription request".into());
        };
        if !speaks(language) {
            return Err(format!(
                "PocketSphinx has only a US English model, not {language}; configure --transcribe-url"
            ));
        }
        let bytes = input.require_bytes()?;
        let (dir, path) = temp_file(&media.key, bytes)?;
        let wav = dir.path().join("flowc-16k.wav");
        let os = OsStr::new;
        run(
            "sox",
            &[
                // Repeatable: a fixed seed for the dither, so the same audio
                // gives the same transcript on every run.
                os("-R"),
                path.as_os_str(),
                os("-r"),
                os("16000"),
                os("-c"),
                os("1"),
                os("-b"),
                os("16"),
                os("-e"),
                os("signed-integer"),
                wav.as_os_str(),
                os("gain"),
                os("-n"),
                os("-15"),
            ],
        )
        .map_err(|e| {
            format!("sox cannot convert {media} (WAV, FLAC, Ogg Vorbis and other sox formats are read; configure --transcribe-url for others): {e}")
        })?;
        let hmm = self.model.join("en-us");
        let lm = self.model.join("en-us.lm.bin");
        let dict = self.model.join("cmudict-en-us.dict");
        let model = [
            os("-hmm"),
            hmm.as_os_str(),
            os("-lm"),
            lm.as_os_str(),
            os("-dict"),
            dict.as_os_str(),
        ];
        let words = match self.program {
            Program::Continuous => {
                let mut args = vec![os("-infile"), wav.as_os_str()];
                args.extend(model);
                args.extend([
                    os("-time"),
                    os("yes"),
                    os("-remove_noise"),
                    os("no"),
                    os("-logfn"),
                    os("/dev/null"),
                ]);
                parse_words(
                    &run("pocketsphinx_continuous", &args)
                        .map_err(|e| format!("PocketSphinx on {media}: {e}"))?,
                )
            }
            Program::Five => {
                let mut args = model.to_vec();
                args.extend([os("-loglevel"), os("FATAL"), os("single"), wav.as_os_str()]);
                parse_json_words(
                    &run("pocketsphinx", &args)
                        .map_err(|e| format!("PocketSphinx on {media}: {e}"))?,
                )?
            }
        };
        let text = words
            .iter()
            .map(|w| w.word.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let mut metadata = Map::new();
        metadata.insert("engine".into(), Value::from("pocketsphinx"));
        metadata.insert("model".into(), Value::from("en-us"));
        metadata.insert(
            "words".into(),
            Value::Array(
                words
                    .iter()
                    .map(|w| {
                        json!({
                            "word": w.word,
                            "start_ms": w.start_ms,
                            "end_ms": w.end_ms,
                            "confidence": w.confidence,
                        })
                    })
                    .collect(),
            ),
        );
        Ok(ViewAnswer { text, metadata })
    }
}

#[derive(Debug, PartialEq)]
pub struct Word {
    pub word: String,
    pub start_ms: u64,
    pub end_ms: u64,
    /// The word's posterior probability (0–1).
    pub confidence: f64,
}

/// The words of `pocketsphinx_continuous -time yes` output: lines `word
/// start end probability` (seconds), without silences, noises and
/// sentence marks, alternate pronunciations (`to(2)`) named by their word.
pub fn parse_words(out: &str) -> Vec<Word> {
    out.lines()
        .filter_map(|line| {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [word, start, end, p] = parts.as_slice() else {
                return None;
            };
            let (start, end, p) = (
                start.parse::<f64>().ok()?,
                end.parse::<f64>().ok()?,
                p.parse::<f64>().ok()?,
            );
            let filler = word.starts_with('<') || word.starts_with('[') || word.starts_with("++");
            if filler {
                return None;
            }
            let word = word.split_once('(').map_or(*word, |(w, _)| w);
            Some(Word {
                word: word.to_string(),
                start_ms: (start * 1000.0).round() as u64,
                end_ms: (end * 1000.0).round() as u64,
                confidence: posterior(p),
            })
        })
        .collect()
}

/// A word's posterior probability as a confidence in `[0, 1]`: PocketSphinx
/// computes it in the log domain and prints values a hair outside (seen:
/// `1.000100`), which would break the `[0, 1]` the output promises.
fn posterior(p: f64) -> f64 {
    if p.is_nan() {
        0.0
    } else {
        p.clamp(0.0, 1.0)
    }
}

/// The words of `pocketsphinx single` (PocketSphinx 5): one JSON object
/// per utterance, `w` its words with start `b` and duration `d` in
/// seconds and probability `p`, fillers and marks dropped as above.
pub fn parse_json_words(out: &str) -> Result<Vec<Word>, String> {
    let mut words = Vec::new();
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let utterance: Value = serde_json::from_str(line)
            .map_err(|e| format!("PocketSphinx printed a line that is not JSON ({e}): {line}"))?;
        for w in utterance["w"].as_array().into_iter().flatten() {
            let (Some(word), Some(start), Some(length)) =
                (w["t"].as_str(), w["b"].as_f64(), w["d"].as_f64())
            else {
                continue;
            };
            if word.starts_with('<') || word.starts_with('[') || word.starts_with("++") {
                continue;
            }
            words.push(Word {
                word: word.split_once('(').map_or(word, |(w, _)| w).to_string(),
                start_ms: (start * 1000.0).round() as u64,
                end_ms: ((start + length) * 1000.0).round() as u64,
                confidence: posterior(w["p"].as_f64().unwrap_or(0.0)),
            });
        }
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posteriors_printed_above_one_are_confidences_of_one() {
        let words =
            parse_words("<s> 0.000 0.020 1.000100\nis 2.370 2.530 1.000100\nsun 2.540 2.900 0.5\n");
        let confidences: Vec<f64> = words.iter().map(|w| w.confidence).collect();
        assert_eq!(confidences, [1.0, 0.5]);
        let json =
            parse_json_words(r#"{"w":[{"t":"is","b":0.1,"d":0.2,"p":1.0001}]}"#).expect("json");
        assert_eq!(json[0].confidence, 1.0);
    }

    #[test]
    fn reads_the_json_lines_of_pocketsphinx_5() {
        let out = r#"{"b":0.240,"d":1.010,"p":0.000,"t":"mr john","w":[{"b":0.240,"d":0.070,"p":1.000,"t":"<s>"},{"b":0.310,"d":0.320,"p":0.997,"t":"mr"},{"b":0.630,"d":0.400,"p":0.897,"t":"john(2)"},{"b":1.030,"d":0.220,"p":1.000,"t":"</s>"}]}
{"b":2.0,"d":0.5,"p":1.0,"t":"","w":[]}
"#;
        assert_eq!(
            parse_json_words(out).expect("words"),
            vec![
                Word {
                    word: "mr".into(),
                    start_ms: 310,
                    end_ms: 630,
                    confidence: 0.997
                },
                Word {
                    word: "john".into(),
                    start_ms: 630,
                    end_ms: 1030,
                    confidence: 0.897
                },
            ]
        );
        assert!(parse_json_words("INFO: not json").is_err());
    }

    #[test]
    fn reads_word_lines_and_skips_fillers_and_hypotheses() {
        let out = "please send me the reports\n<s> 3.550 3.650 0.999700\nplease 3.660 4.040 0.931175\nto(2) 4.050 4.410 0.704589\n<sil> 4.42 4.5 0.5\n[NOISE] 4.5 4.6 0.5\n</s> 5.350 5.740 1.000000\n";
        assert_eq!(
            parse_words(out),
            vec![
                Word {
                    word: "please".into(),
                    start_ms: 3660,
                    end_ms: 4040,
                    confidence: 0.931175
                },
                Word {
                    word: "to".into(),
                    start_ms: 4050,
                    end_ms: 4410,
                    confidence: 0.704589
                },
            ]
        );
    }
}
