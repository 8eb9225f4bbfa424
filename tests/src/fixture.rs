//! Fixtures: `.flow` inputs under `tests/fixtures/<kind>/` whose diagnostics
//! are snapshot-tested.
//!
//! A fixture is either one file `name.flow` or a directory `name/` holding a
//! multi-file project (every `.flow` file below it, sorted by path, named by
//! its path relative to the directory, as `flowc check dir/` names them).
//!
//! The first line of a file may be an expectation header:
//!
//! ```flow
//! // expect: E021, W001
//! ```
//!
//! In a directory fixture the headers of all its files are united. The
//! harness asserts that every listed code occurs and that no unlisted
//! error code occurs; in `valid/` every warning must be listed too. So an
//! accidentally wrong snapshot cannot be accepted by `INSTA_UPDATE=always`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use flowc::diagnostic::render::{render_text, TextStyle};
use flowc::{CheckOptions, Checked, Code, Diagnostics, SourceFile, SourceSet};

/// The marker of an expectation header.
pub const EXPECT_PREFIX: &str = "// expect:";

/// The rendering style of snapshots: plain unicode at a fixed width.
pub const SNAPSHOT_STYLE: TextStyle = TextStyle {
    color: false,
    unicode: true,
    width: 80,
};

/// What the folder of a fixture promises about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `syntax/`, `check/`: at least one error.
    Fails,
    /// `valid/`: no error, and only the warnings the header lists.
    Passes,
}

/// One fixture, loaded from disk.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// The file or directory name (`missing_brace.flow`, `multi_file`).
    pub name: String,
    pub path: PathBuf,
    /// The files as `(path shown in messages, bytes)`, sorted by path.
    pub files: Vec<(String, Vec<u8>)>,
    pub is_dir: bool,
}

impl Fixture {
    /// Loads a fixture file or directory. Returns `None` for anything that
    /// is not a fixture (hidden files, other extensions, empty directories).
    pub fn load(path: &Path) -> std::io::Result<Option<Fixture>> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            return Ok(None);
        }
        let is_dir = path.is_dir();
        let mut files = Vec::new();
        if is_dir {
            for file in flow_files_under(path)? {
                let shown = file
                    .strip_prefix(path)
                    .unwrap_or(&file)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                files.push((shown, std::fs::read(&file)?));
            }
        } else if name.ends_with(".flow") {
            files.push((name.clone(), std::fs::read(path)?));
        }
        if files.is_empty() {
            return Ok(None);
        }
        Ok(Some(Fixture {
            name,
            path: path.to_path_buf(),
            files,
            is_dir,
        }))
    }

    /// The fixture's files as the compiler sees them (bytes that are not
    /// UTF-8 go through [`SourceFile::from_bytes`]).
    pub fn sources(&self) -> SourceSet {
        let mut set = SourceSet::new();
        for (path, bytes) in &self.files {
            set.add(SourceFile::from_bytes(path.clone(), bytes.clone()));
        }
        set
    }

    /// The options of a check run: the project is named after the fixture.
    pub fn options(&self) -> CheckOptions {
        let stem = self.name.trim_end_matches(".flow");
        CheckOptions {
            project: flowc::check::sanitize_project(stem),
        }
    }

    /// Parses and checks the fixture.
    pub fn check(&self) -> (SourceSet, Checked) {
        let sources = self.sources();
        let checked = flowc::check(&sources, &self.options());
        (sources, checked)
    }

    /// The codes of the expectation headers (united over the files), or
    /// `None` when no file has a header.
    pub fn expected(&self) -> Result<Option<BTreeSet<Code>>, String> {
        let mut all: Option<BTreeSet<Code>> = None;
        for (path, bytes) in &self.files {
            let text = String::from_utf8_lossy(bytes);
            match parse_expect_header(&text) {
                Ok(Some(codes)) => all.get_or_insert_with(BTreeSet::new).extend(codes),
                Ok(None) => {}
                Err(e) => return Err(format!("{path}: {e}")),
            }
        }
        Ok(all)
    }
}

/// Reads `// expect: E021, W001` from the first line of a file. `Ok(None)`
/// when the first line is not a header; an error for an unknown code or an
/// empty list.
pub fn parse_expect_header(text: &str) -> Result<Option<Vec<Code>>, String> {
    let first = text.lines().next().unwrap_or("").trim();
    let Some(list) = first.strip_prefix(EXPECT_PREFIX) else {
        return Ok(None);
    };
    let mut codes = Vec::new();
    for word in list.split(',').map(str::trim) {
        let code = code_from_str(word)
            .ok_or_else(|| format!("`{word}` in the expect header is not a diagnostic code"))?;
        codes.push(code);
    }
    Ok(Some(codes))
}

/// The code printed as `text` (`E013`), if it exists.
pub fn code_from_str(text: &str) -> Option<Code> {
    Code::ALL
        .iter()
        .copied()
        .find(|c| c.as_str().eq_ignore_ascii_case(text))
}

/// Checks the diagnostics of a fixture against its folder's promise and
/// its header. Returns every violated expectation.
pub fn verify(
    outcome: Outcome,
    expected: Option<&BTreeSet<Code>>,
    diagnostics: &Diagnostics,
) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let found: BTreeSet<Code> = diagnostics.iter().map(|d| d.code).collect();
    match outcome {
        Outcome::Fails if !diagnostics.has_errors() => {
            problems.push("expected at least one error, found none".to_string());
        }
        Outcome::Passes if diagnostics.has_errors() => {
            problems.push(format!(
                "expected no error, found {}",
                list(diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code))
            ));
        }
        _ => {}
    }
    let listed = expected.cloned().unwrap_or_default();
    let missing: Vec<Code> = listed.difference(&found).copied().collect();
    if !missing.is_empty() {
        problems.push(format!(
            "the header lists {} but the compiler did not report it",
            list(missing)
        ));
    }
    // Unlisted errors are wrong whenever there is a header; unlisted
    // warnings only in `valid/`, where a clean file must stay clean.
    let unlisted: Vec<Code> = found
        .iter()
        .copied()
        .filter(|c| !listed.contains(c))
        .filter(|c| {
            let is_warning = c.is_warning();
            (!is_warning && expected.is_some()) || (is_warning && outcome == Outcome::Passes)
        })
        .collect();
    if !unlisted.is_empty() {
        problems.push(format!(
            "the compiler reported {} which the header does not list",
            list(unlisted)
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn list(codes: impl IntoIterator<Item = Code>) -> String {
    let set: BTreeSet<Code> = codes.into_iter().collect();
    set.iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The snapshot of a fixture: `--- source` and the text (one section per
/// file in a directory fixture), then `--- diagnostics` and every diagnostic
/// rendered as text. Control characters are shown as their Unicode control
/// pictures so that snapshots stay text.
pub fn snapshot(fixture: &Fixture, sources: &SourceSet, checked: &Checked) -> String {
    let mut out = String::new();
    for (_, file) in sources.iter() {
        if fixture.is_dir {
            let _ = writeln!(out, "--- source {}", file.path);
        } else {
            out.push_str("--- source\n");
        }
        out.push_str(&file.text);
        if !file.text.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push_str("--- diagnostics\n");
    for d in checked.diagnostics.iter() {
        out.push_str(&render_text(d, sources, SNAPSHOT_STYLE));
        out.push('\n');
    }
    show_controls(&out)
}

/// Replaces control characters other than newline and tab by visible ones.
pub fn show_controls(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\t' => c,
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('?'),
            '\u{7f}' => '\u{2421}',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// Every `.flow` file below `dir`, recursively, sorted; hidden entries and
/// `target/` are skipped. A missing directory yields no files.
pub fn flow_files_under(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if dir.is_dir() {
        collect(dir, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let skip = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.') || n == "target");
        if skip {
            continue;
        }
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "flow") {
            out.push(path);
        }
    }
    Ok(())
}

/// Every fixture (file or directory) directly inside `tests/fixtures/<kind>`.
pub fn fixtures_of(kind_dir: &Path) -> std::io::Result<Vec<Fixture>> {
    let mut out = Vec::new();
    if !kind_dir.is_dir() {
        return Ok(out);
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(kind_dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        out.extend(Fixture::load(&path)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn header_lists_codes() {
        let codes = parse_expect_header("// expect: E021, W001\nevent E {}").unwrap();
        assert_eq!(codes, Some(vec![Code::ValueType, Code::UnconsumedEvent]));
        assert_eq!(parse_expect_header("event E {}").unwrap(), None);
        assert!(parse_expect_header("// expect: E999").is_err());
        assert!(parse_expect_header("// expect:").is_err());
    }

    fn diagnostics_of(codes: &[Code]) -> Diagnostics {
        Diagnostics(
            codes
                .iter()
                .map(|c| flowc::Diagnostic::new(*c, "test"))
                .collect(),
        )
    }

    #[test]
    fn verify_holds_fixtures_to_their_promise() {
        let broken = diagnostics_of(&[Code::Syntax, Code::UnconsumedEvent]);
        let e001: BTreeSet<Code> = [Code::Syntax].into();
        let e002: BTreeSet<Code> = [Code::InvalidEscape].into();
        assert!(verify(Outcome::Fails, Some(&e001), &broken).is_ok());
        assert!(verify(Outcome::Fails, None, &broken).is_ok());
        // A wrong header, or a failing file in `valid/`, is reported.
        assert!(verify(Outcome::Fails, Some(&e002), &broken).is_err());
        assert!(verify(Outcome::Passes, Some(&e001), &broken).is_err());
        let clean = diagnostics_of(&[]);
        assert!(verify(Outcome::Passes, None, &clean).is_ok());
        assert!(verify(Outcome::Fails, None, &clean).is_err());
        assert!(verify(Outcome::Passes, Some(&e001), &clean).is_err());
        // In `valid/`, warnings must be listed.
        let warned = diagnostics_of(&[Code::UnconsumedEvent]);
        let w001: BTreeSet<Code> = [Code::UnconsumedEvent].into();
        assert!(verify(Outcome::Passes, None, &warned).is_err());
        assert!(verify(Outcome::Passes, Some(&w001), &warned).is_ok());
    }

    #[test]
    fn controls_become_visible() {
        assert_eq!(show_controls("a\0b\n\tc\u{7f}"), "a\u{2400}b\n\tc\u{2421}");
    }
}
