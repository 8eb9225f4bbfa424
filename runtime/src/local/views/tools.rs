//! The Debian tools behind the local default engines: finding them at
//! start-up and running them on a temporary file.

use std::path::Path;
use std::process::Command;

/// What to tell a user whose machine lacks a tool.
pub const SETUP_HINT: &str =
    "install the local view engines with scripts/setup-media (Debian: apt-get install tesseract-ocr tesseract-ocr-eng pocketsphinx pocketsphinx-en-us sox)";

/// Runs `program args…`; its stdout, or an error with the last line of
/// its stderr.
pub fn run(program: &str, args: &[&std::ffi::OsStr]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("`{program}` is not installed; {SETUP_HINT}"),
            _ => format!("cannot run `{program}`: {e}"),
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        return Err(format!("`{program}` failed ({}): {tail}", output.status));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Checks that `program` runs (`program flag`), for the start-up check.
pub fn require(program: &str, flag: &str) -> Result<String, String> {
    let out = Command::new(program)
        .arg(flag)
        .output()
        .map_err(|e| format!("`{program}` cannot be run ({e}); {SETUP_HINT}"))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    Ok(text)
}

/// Writes `bytes` to a new temporary file named `name` (its extension
/// tells sox the format) and returns the directory holding it.
pub fn temp_file(
    name: &str,
    bytes: &[u8],
) -> Result<(tempfile::TempDir, std::path::PathBuf), String> {
    let dir = tempfile::Builder::new()
        .prefix("flowc-view-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let file_name = Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty())
        .unwrap_or("object");
    let path = dir.path().join(file_name);
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok((dir, path))
}

/// The image format of `bytes` by its magic number, as a MIME type.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}
