//! The local default transcriber: sox converts the recording to 16 kHz
//! mono 16-bit WAV with its peak at −15 dBFS, and PocketSphinx
//! (`pocketsphinx_continuous`, Debian's 0.8 "5prealpha" package) with its
//! US English model recognises it, with word timings and confidences.
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
}

impl SphinxTranscriber {
    /// Checks that sox, PocketSphinx and the model in `model_dir` are there.
    pub fn open(model_dir: &Path) -> Result<SphinxTranscriber, String> {
        require("sox", "--version")?;
        require("pocketsphinx_continuous", "-help")?;
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
        let out = run(
            "pocketsphinx_continuous",
            &[
                os("-infile"),
                wav.as_os_str(),
                os("-hmm"),
                hmm.as_os_str(),
                os("-lm"),
                lm.as_os_str(),
                os("-dict"),
                dict.as_os_str(),
                os("-time"),
                os("yes"),
                os("-remove_noise"),
                os("no"),
                os("-logfn"),
                os("/dev/null"),
            ],
        )
        .map_err(|e| format!("PocketSphinx on {media}: {e}"))?;
        let words = parse_words(&out);
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
                confidence: p,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
